"""mcp-pii as the real ContextForge gateway's PII plugin: in process, and external over HTTP and stdio.

Each gateway runs on loopback with SQLite, has the test upstream (``upstream.py``) registered as
``up``, and is called through ``/rpc`` and through ``/mcp`` with the SDK client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
import upstream
from gateway import MCP_PII, UPSTREAM, Gateway, GatewayExited, plugin_yaml, running_gateway
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from servers import free_port, running

pytestmark = pytest.mark.e2e

HOOKS = ["tool_pre_invoke", "tool_post_invoke", "prompt_pre_fetch", "prompt_post_fetch", "resource_post_fetch"]
# The built-in filter's configuration block (its plugin-manifest defaults), as an operator has it.
BUILTIN_CONFIG: dict[str, Any] = {
    "detect_ssn": True,
    "detect_bsn": True,
    "detect_credit_card": True,
    "detect_email": True,
    "detect_phone": True,
    "detect_ip_address": True,
    "detect_date_of_birth": True,
    "detect_passport": True,
    "detect_driver_license": True,
    "detect_bank_account": True,
    "detect_medical_record": True,
    "default_mask_strategy": "redact",
    "redaction_text": "[REDACTED]",
    "block_on_detection": False,
    "log_detections": False,
    "include_detection_details": False,
    "max_text_bytes": 10485760,
    "max_nested_depth": 32,
    "max_collection_items": 4096,
    "custom_patterns": [],
    "whitelist_patterns": [],
}
RAW = [value for _, value in upstream.VALUES.values()]


def assert_masked(text: str) -> None:
    """No raw value of the upstream's fixtures is left, and no '+' is left outside a phone's mask."""
    leaked = [value for value in RAW if value in text]
    assert not leaked, f"raw values in the output: {leaked}"
    assert "+[" not in text


@pytest.fixture(scope="module")
def upstream_url() -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    with running([*UPSTREAM, "--port", str(port)], url, stderr=None):
        yield url


def _settings(tmp: Path, **keys: Any) -> Path:
    path = tmp / "settings.json"
    path.write_text(json.dumps(keys))
    return path


@pytest.fixture(scope="module", params=["in-process", "external-http", "external-stdio"])
def gateway(
    request: pytest.FixtureRequest, upstream_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    """A gateway whose PII plugin is mcp-pii, loaded each of the three ways; the upstream registered."""
    tmp = tmp_path_factory.mktemp(request.param)
    common = {"hooks": HOOKS, "mode": "sequential", "priority": 50}
    with ExitStack() as stack:
        if request.param == "in-process":
            plugins = plugin_yaml(
                name="PIIFilterPlugin", kind="mcp_pii.contextforge.PIIFilterPlugin", config=BUILTIN_CONFIG, **common
            )
        else:
            settings = str(_settings(tmp, **BUILTIN_CONFIG))
            if request.param == "external-http":
                port = free_port()
                cmd = [*MCP_PII, "plugin", "--transport", "http", "--port", str(port), "--settings", settings]
                stack.enter_context(running(cmd, f"http://127.0.0.1:{port}/healthz"))
                mcp = {"proto": "STREAMABLEHTTP", "url": f"http://127.0.0.1:{port}/mcp"}
            else:
                mcp = {"proto": "STDIO", "cmd": [*MCP_PII, "plugin", "--log-level", "WARNING", "--settings", settings]}
            plugins = plugin_yaml(name="PIIFilterPlugin", kind="external", mcp=mcp, **common)
        gw = stack.enter_context(running_gateway(tmp, plugins))
        gw.register("up", upstream_url)
        yield gw


def result_of(status: int, body: dict[str, Any]) -> dict[str, Any]:
    assert status == 200, body
    assert "result" in body, body
    result: dict[str, Any] = body["result"]
    return result


def test_plugin_is_loaded(gateway: Gateway) -> None:
    plugins = gateway.get("/v1/plugins")["plugins"]
    assert [(p["name"], p["status"]) for p in plugins] == [("PIIFilterPlugin", "enabled")]


def test_tool_arguments_are_masked_before_the_call(gateway: Gateway) -> None:
    result = result_of(*gateway.call("up-inspect-args", {"text": "mail bob@example.com, SSN 078-05-1120"}))
    # The upstream saw neither the '@' nor a digit: the arguments reached it masked.
    assert result["structuredContent"] == {
        "length": len("mail [REDACTED], SSN [REDACTED]"),
        "has_at": False,
        "has_digits": False,
    }


def test_every_type_is_masked_in_a_text_result(gateway: Gateway) -> None:
    result = result_of(*gateway.call("up-every-type"))
    text = result["content"][0]["text"]
    assert_masked(text)
    assert text.count("[REDACTED]") == len(upstream.VALUES)
    assert text.startswith("mail [REDACTED], SSN [REDACTED]")


def test_json_result_stays_json(gateway: Gateway) -> None:
    result = result_of(*gateway.call("up-export-json"))
    text = result["content"][0]["text"]
    assert_masked(text)
    assert json.loads(text)["customer"]["id"] == 1042


def test_structured_content_is_masked(gateway: Gateway) -> None:
    result = result_of(*gateway.call("up-lookup-person", {"name": "Ana"}))
    assert result["structuredContent"] == {
        "name": "Ana",
        "email": "[REDACTED]",
        "phone": "[REDACTED]",
        "note": "SSN [REDACTED] of Ana",
    }
    assert json.loads(result["content"][0]["text"]) == result["structuredContent"]


def test_prompt_arguments_and_messages_are_masked(gateway: Gateway) -> None:
    result = result_of(
        *gateway.rpc("prompts/get", {"name": "up-contact-prompt", "arguments": {"person": "alice@example.org"}})
    )
    assert result["messages"][0]["content"]["text"] == "Write to [REDACTED] at [REDACTED], SSN [REDACTED]."


def test_resource_contents_are_masked(gateway: Gateway) -> None:
    result = result_of(*gateway.rpc("resources/read", {"uri": "note://contact"}))
    assert result["contents"][0]["text"] == "Call Ana at [REDACTED] or [REDACTED]."
    assert result["contents"][0]["uri"] == "note://contact"


def test_sdk_client_on_mcp_endpoint_gets_masked_structured_content(gateway: Gateway) -> None:
    async def call() -> Any:
        http = httpx2.AsyncClient(headers=gateway.headers, timeout=60)
        async with Client(streamable_http_client(gateway.base + "/mcp", http_client=http)) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert {"up-echo", "up-lookup-person", "up-every-type"} <= names
            return await client.call_tool("up-lookup-person", {"name": "Zoe"})

    result = anyio.run(call)
    assert not result.is_error
    assert result.structured_content == {
        "name": "Zoe",
        "email": "[REDACTED]",
        "phone": "[REDACTED]",
        "note": "SSN [REDACTED] of Zoe",
    }


def test_mcp_pii_as_a_plain_server_behind_the_plugin(gateway: Gateway, tmp_path: Path) -> None:
    port = free_port()
    cmd = [*MCP_PII, "serve", "--transport", "http", "--port", str(port), "--log-level", "WARNING"]
    with running(cmd, f"http://127.0.0.1:{port}/healthz"):
        gateway.register(f"pii{port}", f"http://127.0.0.1:{port}/mcp")
        result = result_of(*gateway.call(f"pii{port}-scan-nested", {"data": {"note": "no PII here", "n": 3}}))
        assert result["structuredContent"]["data"] == {"note": "no PII here", "n": 3}
        result = result_of(*gateway.call(f"pii{port}-mask-pii", {"text": "mail bob@example.com", "strategy": "label"}))
        # The plugin masked the argument before mcp-pii saw it, so mcp-pii found nothing left.
        assert result["structuredContent"] == {"text": "mail [REDACTED]", "counts": {}}


@pytest.fixture(scope="module")
def blocking_gateway(upstream_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway with the external plugin over stdio, set to block on detection."""
    tmp = tmp_path_factory.mktemp("blocking")
    settings = str(_settings(tmp, **{**BUILTIN_CONFIG, "block_on_detection": True}))
    mcp = {"proto": "STDIO", "cmd": [*MCP_PII, "plugin", "--log-level", "WARNING", "--settings", settings]}
    plugins = plugin_yaml(name="MCPPII", kind="external", hooks=HOOKS, mode="sequential", priority=10, mcp=mcp)
    with running_gateway(tmp, plugins) as gw:
        gw.register("up", upstream_url)
        yield gw


def test_block_on_detection_answers_with_the_violation(blocking_gateway: Gateway) -> None:
    status, body = blocking_gateway.call("up-echo", {"text": "mail bob@example.com, SSN 078-05-1120"})
    assert status == 422, body
    error = body["error"]
    assert error["data"]["plugin_error_code"] == "PII_DETECTED"
    assert error["data"]["details"]["counts"] == {"email": 1, "ssn": 1}
    assert "bob@example.com" not in json.dumps(body)
    assert "078-05-1120" not in json.dumps(body)


def test_block_on_detection_blocks_results_too(blocking_gateway: Gateway) -> None:
    status, body = blocking_gateway.call("up-lookup-person", {"name": "Ana"})
    assert status == 422, body
    # Each value is there twice: in the text item (JSON) and in structuredContent.
    assert body["error"]["data"]["details"]["counts"] == {"email": 2, "phone": 2, "ssn": 2}
    assert "ana.silva" not in json.dumps(body)


def test_clean_calls_pass_a_blocking_plugin(blocking_gateway: Gateway) -> None:
    result = result_of(*blocking_gateway.call("up-echo", {"text": "nothing to see"}))
    assert result["content"][0]["text"] == "nothing to see"


def test_a_broken_configuration_stops_the_gateway(tmp_path: Path) -> None:
    """A typo must not leave the gateway running unfiltered (the other refusals: tests/test_hooks_contextforge.py)."""
    config = {**BUILTIN_CONFIG, "detct_email": False}
    plugins = plugin_yaml(
        name="PIIFilterPlugin", kind="mcp_pii.contextforge.PIIFilterPlugin", hooks=HOOKS, config=config
    )
    with pytest.raises(GatewayExited) as exc_info, running_gateway(tmp_path, plugins):
        pass
    assert (
        "Error during startup: Plugin initialization failed: PIIFilterPlugin - invalid PII filter settings: "
        "detct_email: Extra inputs are not permitted" in exc_info.value.log
    )
