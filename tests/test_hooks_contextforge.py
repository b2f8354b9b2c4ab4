"""The in-process ContextForge plugin, loaded by cpex's own loader as the gateway loads it (by ``kind:``)."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from conftest import IMPLEMENTATIONS, require_impl
from cpex.framework import (
    GlobalContext,
    PluginConfig,
    PluginContext,
    PluginError,
    PluginLoader,
    PromptPosthookPayload,
    PromptPrehookPayload,
    ResourcePostFetchPayload,
    ResourcePreFetchPayload,
    ToolPostInvokePayload,
    ToolPreInvokePayload,
)
from pydantic import BaseModel

KIND = "mcp_pii.contextforge.PIIFilterPlugin"
HOOKS = [
    "tool_pre_invoke",
    "tool_post_invoke",
    "prompt_pre_fetch",
    "prompt_post_fetch",
    "resource_pre_fetch",
    "resource_post_fetch",
]
EMAIL = "bob@example.com"


class ResourceContent(BaseModel):
    """Stands for the gateway's own resource content model (mcpgateway.common.models.ResourceContent)."""

    type: str
    id: str
    uri: str
    mimeType: str | None = None
    text: str | None = None


@pytest.fixture(params=IMPLEMENTATIONS)
def force_impl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    require_impl(request.param)
    if request.param == "python":
        monkeypatch.setenv("MCP_PII_FORCE_PYTHON", "1")
    return str(request.param)


def load(config: dict[str, Any] | None = None, **fields: Any) -> Any:
    """Load the plugin through cpex's loader, as the gateway does for its plugins/config.yaml."""
    plugin_config = PluginConfig(name="PIIFilterPlugin", kind=KIND, hooks=HOOKS, config=config or {}, **fields)
    return anyio.run(PluginLoader().load_and_instantiate_plugin, plugin_config)


def context(original_name: str | None = None) -> PluginContext:
    metadata = {"tool": {"original_name": original_name}} if original_name else {}
    return PluginContext(global_context=GlobalContext(request_id="1", metadata=metadata))


def call(plugin: Any, hook: str, payload: Any, ctx: PluginContext | None = None) -> Any:
    return anyio.run(getattr(plugin, hook), payload, ctx or context())


def test_engine_follows_the_force_python_switch(force_impl: str) -> None:
    assert load()._filter.engine.implementation == force_impl


def test_tool_pre_invoke(force_impl: str) -> None:
    plugin = load({"default_mask_strategy": "label"})
    payload = ToolPreInvokePayload(name="gw-echo", args={"text": f"mail {EMAIL}", "n": 1})
    result = call(plugin, "tool_pre_invoke", payload)
    assert result.continue_processing
    assert isinstance(result.modified_payload, ToolPreInvokePayload)
    assert result.modified_payload.args == {"text": "mail [EMAIL]", "n": 1}
    assert result.modified_payload.name == "gw-echo"
    assert payload.args == {"text": f"mail {EMAIL}", "n": 1}
    clean = call(plugin, "tool_pre_invoke", ToolPreInvokePayload(name="gw-echo", args={"text": "hello"}))
    assert clean.continue_processing
    assert clean.modified_payload is None


def test_tool_post_invoke_keeps_the_result_shape(force_impl: str) -> None:
    plugin = load()
    result = {"content": [{"type": "text", "text": EMAIL}], "isError": False, "structuredContent": {"e": EMAIL}}
    out = call(plugin, "tool_post_invoke", ToolPostInvokePayload(name="gw-x", result=result))
    assert out.modified_payload.result == {
        "content": [{"type": "text", "text": "[REDACTED]"}],
        "isError": False,
        "structuredContent": {"e": "[REDACTED]"},
    }


def test_per_tool_rules_match_the_tools_own_name(force_impl: str) -> None:
    plugin = load({"tools": [{"match": "echo", "skip": True}]})
    payload = ToolPreInvokePayload(name="gw-echo", args={"text": EMAIL})
    assert call(plugin, "tool_pre_invoke", payload, context("echo")).modified_payload is None
    assert call(plugin, "tool_pre_invoke", payload, context("other")).modified_payload is not None


def test_prompts(force_impl: str) -> None:
    plugin = load()
    pre = call(plugin, "prompt_pre_fetch", PromptPrehookPayload(prompt_id="p", args={"person": EMAIL}))
    assert pre.modified_payload.args == {"person": "[REDACTED]"}
    rendered = {"messages": [{"role": "user", "content": {"type": "text", "text": f"to {EMAIL}"}}], "description": "d"}
    post = call(plugin, "prompt_post_fetch", PromptPosthookPayload(prompt_id="p", result=rendered))
    # The framework turns the dict into objects with attribute access; what comes back reads the same way.
    assert post.modified_payload.result.messages[0].content.text == "to [REDACTED]"
    assert post.modified_payload.result.description == "d"


def test_resources_keep_the_gateways_class(force_impl: str) -> None:
    plugin = load()
    content = ResourceContent(type="resource", id="1", uri="note://c", mimeType="text/plain", text=f"at {EMAIL}")
    out = call(plugin, "resource_post_fetch", ResourcePostFetchPayload(uri="note://c", content=content))
    assert isinstance(out.modified_payload.content, ResourceContent)
    assert out.modified_payload.content == content.model_copy(update={"text": "at [REDACTED]"})
    pre = call(plugin, "resource_pre_fetch", ResourcePreFetchPayload(uri="note://c"))
    assert pre.continue_processing
    assert pre.modified_payload is None


def test_block_on_detection_is_a_violation_the_gateway_maps_to_422(force_impl: str) -> None:
    plugin = load({"block_on_detection": True})
    out = call(plugin, "tool_pre_invoke", ToolPreInvokePayload(name="x", args={"a": EMAIL, "b": "078-05-1120"}))
    assert not out.continue_processing
    assert out.modified_payload is None
    assert out.violation.code == "PII_DETECTED"
    assert out.violation.http_status_code == 422
    assert out.violation.details["counts"] == {"email": 1, "ssn": 1}
    assert EMAIL not in out.violation.model_dump_json()


def test_an_unscannable_payload_is_refused(force_impl: str) -> None:
    plugin = load({"max_text_bytes": 64})
    out = call(
        plugin,
        "tool_post_invoke",
        ToolPostInvokePayload(name="x", result={"content": [{"type": "text", "text": "y" * 100}]}),
    )
    assert not out.continue_processing
    assert out.violation.code == "PII_SCAN_FAILED"
    assert out.violation.http_status_code == 413


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"detct_email": True}, "detct_email: Extra inputs are not permitted"),
        ({"custom_patterns": [{"pattern": "(?<=x)y", "description": "d"}]}, "look-around"),
        ({"tools": [{"match": "x", "types": ["nope"]}]}, "tool rule 'x' names type 'nope'"),
    ],
)
def test_a_configuration_it_cannot_honour_fails_to_load(config: dict[str, Any], message: str) -> None:
    with pytest.raises((PluginError, ValueError)) as exc_info:
        load(config)
    assert message in str(exc_info.value)
