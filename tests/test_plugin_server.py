"""``mcp-pii plugin``: the external plugin contract, spoken to by cpex's own client (the gateway's) and the SDK's."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from cpex.framework import (
    GlobalContext,
    PluginConfig,
    PluginContext,
    PluginError,
    PromptPosthookPayload,
    ResourcePostFetchPayload,
    ToolPostInvokePayload,
    ToolPostInvokeResult,
    ToolPreInvokePayload,
)
from cpex.framework.external.mcp.client import ExternalPlugin
from cpex.framework.settings import get_ssrf_settings
from mcp import Client
from servers import running_server

from mcp_pii.plugin import build_filter, load_settings
from mcp_pii.plugin_server import PLUGIN_KIND, build_plugin_server

EMAIL = "bob@example.com"
HOOKS = ["tool_pre_invoke", "tool_post_invoke", "prompt_pre_fetch", "prompt_post_fetch", "resource_post_fetch"]


def server(**keys: Any) -> Any:
    settings = load_settings(keys)
    return build_plugin_server(build_filter(settings), settings)


async def text_of(client: Client, tool: str, arguments: dict[str, Any]) -> Any:
    result = await client.call_tool(tool, arguments)
    assert len(result.content) == 1
    return json.loads(result.content[0].text)  # type: ignore[union-attr]


def test_get_plugin_config_is_a_plugin_config_the_framework_accepts() -> None:
    async def run() -> tuple[Any, Any]:
        async with Client(server(detect_email=False, default_mask_strategy="label")) as client:
            return await text_of(client, "get_plugin_config", {"name": "MyPII"}), await text_of(
                client, "get_plugin_configs", {}
            )

    config, configs = anyio.run(run)
    parsed = PluginConfig.model_validate(config)
    assert parsed.name == "MyPII"
    assert parsed.kind == PLUGIN_KIND != "external"
    assert parsed.hooks == HOOKS
    assert parsed.config == {"detect_email": False, "default_mask_strategy": "label"}
    assert [PluginConfig.model_validate(c).kind for c in configs] == [PLUGIN_KIND]


def test_invoke_hook_answers_are_plugin_results() -> None:
    payload = {"name": "gw-echo", "result": {"content": [{"type": "text", "text": EMAIL}], "isError": False}}

    async def run() -> Any:
        async with Client(server()) as client:
            arguments = {"hook_type": "tool_post_invoke", "plugin_name": "P", "payload": payload, "context": {}}
            return await text_of(client, "invoke_hook", arguments)

    answer = anyio.run(run)
    assert answer["plugin_name"] == "P"
    result = ToolPostInvokeResult.model_validate(answer["result"])
    assert result.modified_payload.result["content"][0]["text"] == "[REDACTED]"


@pytest.mark.parametrize(
    ("arguments", "key", "expected"),
    [
        ({"hook_type": "tool_pre", "payload": {}}, "error", "unknown hook type 'tool_pre'"),
        ({"hook_type": "tool_pre_invoke", "payload": [1, 2]}, "result", "the payload is not an object"),
        ({"hook_type": "tool_pre_invoke", "payload": "text"}, "result", "the payload is not an object"),
    ],
)
def test_every_answer_is_json_even_a_refusal(arguments: dict[str, Any], key: str, expected: str) -> None:
    async def run() -> Any:
        async with Client(server()) as client:
            return await text_of(client, "invoke_hook", {"plugin_name": "P", "context": {}, **arguments})

    answer = anyio.run(run)
    assert key in answer
    assert expected in json.dumps(answer)
    if key == "result":
        assert answer["result"]["continue_processing"] is False
        assert answer["result"]["violation"]["code"] == "PII_SCAN_FAILED"


@asynccontextmanager
async def external(mcp: dict[str, Any]) -> AsyncIterator[Any]:
    """cpex's external plugin client, connected as the gateway connects it."""
    plugin = ExternalPlugin(PluginConfig(name="PIIFilterPlugin", kind="external", hooks=HOOKS, mcp=mcp))
    await plugin.initialize()
    try:
        yield plugin
    finally:
        await plugin.shutdown()


async def exercise(plugin: Any) -> dict[str, Any]:
    """Run the hooks through the framework's client; return what came back."""
    ctx = PluginContext(global_context=GlobalContext(request_id="1", metadata={"tool": {"original_name": "echo"}}))
    pre = await plugin.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="gw-echo", args={"t": EMAIL}), ctx)
    result = {"content": [{"type": "text", "text": EMAIL}], "structuredContent": {"e": EMAIL}, "isError": False}
    post = await plugin.invoke_hook("tool_post_invoke", ToolPostInvokePayload(name="gw-echo", result=result), ctx)
    messages = {"messages": [{"role": "user", "content": {"type": "text", "text": EMAIL}}], "description": None}
    prompt = await plugin.invoke_hook("prompt_post_fetch", PromptPosthookPayload(prompt_id="p", result=messages), ctx)
    content = {"type": "resource", "id": "1", "uri": "n://c", "mimeType": "text/plain", "text": EMAIL}
    resource = await plugin.invoke_hook(
        "resource_post_fetch", ResourcePostFetchPayload(uri="n://c", content=content), ctx
    )
    return {"config": plugin.config, "pre": pre, "post": post, "prompt": prompt, "resource": resource}


def check(seen: dict[str, Any], label: str = "[REDACTED]") -> None:
    assert seen["config"].kind == "external"  # the gateway's own YAML entry wins where it speaks
    assert seen["config"].config["default_mask_strategy"] == "label"
    assert seen["pre"].modified_payload.args == {"t": label}
    assert seen["post"].modified_payload.result["structuredContent"] == {"e": label}
    assert seen["post"].modified_payload.result["content"][0]["text"] == label
    assert seen["prompt"].modified_payload.result.messages[0].content.text == label
    assert seen["resource"].modified_payload.content["text"] == label


def settings_file(tmp_path: Path, **keys: Any) -> str:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(keys))
    return str(path)


def test_the_gateways_client_over_stdio(tmp_path: Path) -> None:
    settings = settings_file(tmp_path, default_mask_strategy="label")
    cmd = [sys.executable, "-m", "mcp_pii", "plugin", "--log-level", "WARNING", "--settings", settings]

    async def run() -> dict[str, Any]:
        async with external({"proto": "STDIO", "cmd": cmd}) as plugin:
            return await exercise(plugin)

    check(anyio.run(run), "[EMAIL]")


@pytest.fixture
def loopback_plugins(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Let cpex's client reach a plugin on 127.0.0.1, as the gateway's PLUGINS_SSRF_PROTECTION_ENABLED=false does."""
    monkeypatch.setenv("PLUGINS_SSRF_PROTECTION_ENABLED", "false")
    get_ssrf_settings.cache_clear()
    yield
    get_ssrf_settings.cache_clear()


@pytest.mark.usefixtures("loopback_plugins")
def test_the_gateways_client_over_streamable_http(tmp_path: Path) -> None:
    settings = settings_file(tmp_path, default_mask_strategy="label", block_on_detection=True)
    with running_server("--transport", "http", "--settings", settings, command="plugin") as srv:

        async def run() -> Any:
            async with external({"proto": "STREAMABLEHTTP", "url": srv.url}) as plugin:
                ctx = PluginContext(global_context=GlobalContext(request_id="1"))
                payload = ToolPreInvokePayload(name="gw-echo", args={"t": f"{EMAIL} 078-05-1120"})
                return await plugin.invoke_hook("tool_pre_invoke", payload, ctx)

        result = anyio.run(run)
    assert result.continue_processing is False
    assert result.violation.code == "PII_DETECTED"
    assert result.violation.details["counts"] == {"email": 1, "ssn": 1}
    assert EMAIL not in srv.stderr


def test_a_bad_settings_file_stops_the_plugin_with_one_line(tmp_path: Path) -> None:
    settings = settings_file(tmp_path, detect_emial=True)
    cmd = [sys.executable, "-m", "mcp_pii", "plugin", "--settings", settings]

    async def run() -> None:
        async with external({"proto": "STDIO", "cmd": cmd}):
            pass

    with pytest.raises(PluginError):
        anyio.run(run)
