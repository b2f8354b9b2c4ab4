"""No PII value ever reaches a log record: in process with every logger at DEBUG, and from the CLI's
server processes (stdio, Streamable HTTP, SSE) run with ``--log-level DEBUG``.

The SDK logs whole JSON-RPC messages at DEBUG (``mcp.server.sse``, ``sse_starlette``, the stdio
dispatcher) and exception text at INFO/ERROR; ``mcp_pii.logs`` clamps the first and strips the
second. The canary test shows that the capture used here does see a value when that is undone.
"""

from __future__ import annotations

import json
import logging
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from servers import INITIALIZE, PII, PII_PAYLOAD, PII_TEXT, PYTHON, Collect, running_server, server_env

from mcp_pii import Config, Engine, logs
from mcp_pii.server import build_server

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

# Values that must never be logged: the PII, and the number form of the card.
SECRETS = [*PII.values(), "4111111111111111"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def captured() -> Iterator[list[str]]:
    """Collect every log record at the root; restore the logging set-up afterwards."""
    root = logging.getLogger()
    names = ["mcp_pii", *logs.PAYLOAD_LOGGERS, "mcp.server.mcpserver.server"]
    levels = {name: logging.getLogger(name).level for name in names}
    sdk = logging.getLogger("mcp.server.mcpserver.server")
    filters = list(sdk.filters)
    saved_root = (root.level, list(root.handlers))
    handler = Collect()
    root.addHandler(handler)
    try:
        yield handler.lines
    finally:
        root.setLevel(saved_root[0])
        root.handlers[:] = saved_root[1]
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        sdk.filters[:] = filters


def assert_clean(text: str) -> None:
    for value in SECRETS:
        assert value not in text, f"{value!r} was logged:\n{text}"


async def pii_calls(client: Client, *, wire: bool) -> None:
    """Every tool on PII-laden input, with and without values, plus the error paths."""
    assert len((await client.list_tools()).tools) == 4
    calls: list[tuple[str, dict[str, Any], bool]] = [
        ("detect_pii", {"text": PII_TEXT}, False),
        ("detect_pii", {"text": PII_TEXT, "include_values": True}, False),
        *[("mask_pii", {"text": PII_TEXT, "strategy": s}, False) for s in ("label", "partial", "hash", "tokenize")],
        ("mask_pii", {"text": PII_TEXT, "types": ["ssn", "email"]}, False),
        ("scan_nested", {"data": PII_PAYLOAD}, False),
        ("scan_nested", {"data": PII_PAYLOAD, "mask": False}, False),
        ("scan_nested", {"data": json.dumps(PII_PAYLOAD)}, False),
        ("ping", {}, False),
        # errors
        ("mask_pii", {"text": PII_TEXT, "types": [PII["email"]]}, True),
        ("mask_pii", {"text": PII_TEXT, "strategy": PII["ssn"]}, True),
        ("detect_pii", {"text": 4111111111111111}, True),
        ("detect_pii", {"text": {"ssn": PII["ssn"]}}, True),
        ("scan_nested", {"data": PII_PAYLOAD, "types": {"k": PII["aws_access_key"]}}, True),
        ("scan_nested", {"data": PII_PAYLOAD, "mask": PII["github_token"]}, True),
        ("no_such_tool", {"text": PII_TEXT}, True),
    ]
    if not wire:  # a lone surrogate cannot be sent as JSON
        calls.append(("mask_pii", {"text": PII_TEXT + " \ud800"}, True))
    for tool, args, is_error in calls:
        result = await client.call_tool(tool, args)
        assert result.is_error == is_error, (tool, args, result.content)
        if is_error:
            assert_clean(result.content[0].text)  # type: ignore[union-attr]


async def test_no_pii_in_any_log_record(captured: list[str], engine_impl: str) -> None:
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    logging.getLogger("mcp").setLevel(logging.DEBUG)  # as if someone turned the SDK's payload dumps on
    # What `mcp-pii serve --log-level DEBUG` does:
    logs.configure("DEBUG")
    server = build_server(engine=Engine(implementation=engine_impl))  # type: ignore[arg-type]
    logs.clamp_payload_loggers()
    assert logging.getLogger("mcp_pii").isEnabledFor(logging.DEBUG)
    for name in ("mcp", "mcp.server.sse", "mcp.shared.jsonrpc_dispatcher", "sse_starlette.sse", "client"):
        assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name

    for mode in ("auto", "legacy"):  # direct dispatch, and JSON-RPC over in-memory streams
        async with Client(server, mode=mode) as client:
            await pii_calls(client, wire=mode == "legacy")

    small = build_server(engine=Engine(Config(max_text_bytes=64, max_depth=3, max_nodes=10)))
    async with Client(small) as client:
        for tool, args in [
            ("mask_pii", {"text": PII_TEXT}),
            ("scan_nested", {"data": PII_PAYLOAD}),
            ("scan_nested", {"data": [[[[[PII["ssn"]]]]]]}),
            ("scan_nested", {"data": [PII["email"]] * 20}),
        ]:
            result = await client.call_tool(tool, args)
            assert result.is_error

    # A crash whose exception message and traceback quote the input.
    class Broken(Engine):
        def scan(self, data: Any, strategy: str | None = None, types: Any = None, mask: bool = True) -> Any:
            raise RuntimeError(f"engine bug on {data!r}")

    async with Client(build_server(engine=Broken(implementation=engine_impl))) as client:  # type: ignore[arg-type]
        result = await client.call_tool("scan_nested", {"data": PII_PAYLOAD})
        assert result.content[0].text == "Error executing tool scan_nested"  # type: ignore[union-attr]

    text = "\n".join(captured)
    # The capture works: start-up, rejected arguments, tool errors and the crash were all logged...
    assert f"ready: {engine_impl} engine" in text
    assert "rejected arguments" in text
    assert "Tool <…> failed: <…>" in text  # the SDK's line, its values withheld
    assert "raised an unexpected exception [UnexpectedToolError]" in text
    # ...and not one value.
    assert_clean(text)
    assert "Traceback" not in text


async def test_canary_the_capture_sees_a_leak(captured: list[str]) -> None:
    # Without mcp_pii.logs (no clamp, no filter) the SDK logs the crash's traceback, value and all.
    logging.getLogger().setLevel(logging.DEBUG)
    sdk = logging.getLogger("mcp.server.mcpserver.server")
    sdk.filters[:] = [f for f in sdk.filters if not isinstance(f, logs.NoExceptionText)]
    for handler in logging.getLogger().handlers:
        handler.filters[:] = [f for f in handler.filters if not isinstance(f, logs.NoExceptionText)]
    sdk.setLevel(logging.DEBUG)

    class Broken(Engine):
        def mask(self, text: str, strategy: str | None = None, types: Any = None) -> Any:
            raise RuntimeError(f"engine bug on {text!r}")

        mask_counts = mask  # what mask_pii calls for its default answer

    async with Client(build_server(engine=Broken(implementation="python"))) as client:
        assert (await client.call_tool("mask_pii", {"text": PII_TEXT})).is_error
    text = "\n".join(captured)
    assert "Traceback" in text
    assert PII["email"] in text


# --- server processes --------------------------------------------------------------------------------


async def test_stdio_server_logs_no_pii_at_debug() -> None:
    params = StdioServerParameters(command=PYTHON, args=["-m", "mcp_pii", "serve", "--log-level", "DEBUG"])
    with tempfile.TemporaryFile("w+", encoding="utf-8") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            await pii_calls(client, wire=True)
        errlog.seek(0)
        log = errlog.read()
    assert " DEBUG " in log  # the level took effect
    assert "ready: rust engine" in log
    assert_clean(log)


@pytest.mark.parametrize("transport", ["http", "sse"])
async def test_http_server_logs_no_pii_at_debug(transport: str) -> None:
    # MCP_PII_LOG_LEVEL is the environment form of --log-level.
    with running_server("--transport", transport, env={"MCP_PII_LOG_LEVEL": "DEBUG"}) as server:
        target = sse_client(server.url) if transport == "sse" else server.url
        async with Client(target) as client:
            await pii_calls(client, wire=True)
    assert " DEBUG " in server.stderr
    assert "ready: rust engine" in server.stderr
    assert_clean(server.stderr)


def test_stdio_garbage_is_not_logged() -> None:
    # Lines a broken client might send, each holding PII; then a valid call, which must be answered.
    lines = [
        json.dumps(INITIALIZE),
        json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        "not json at all: " + PII_TEXT,
        '{"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "mask_pii", '
        '"arguments": {"text": "' + PII["email"] + ' \\ud800"}}}',
        json.dumps({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": PII_TEXT}),
        json.dumps({"jsonrpc": "2.0", "id": 4, "method": PII["ssn"], "params": {"text": PII_TEXT}}),
        json.dumps({"jsonrpc": "2.0", "id": 5, "result": {"text": PII_TEXT}}),
        json.dumps({"id": 6, "text": PII_TEXT}),
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 9,
                "method": "tools/call",
                "params": {"name": "mask_pii", "arguments": {"text": PII_TEXT}},
            }
        ),
    ]
    # stdin stays open until the last call is answered: at end of input the SDK ends the session
    # and drops calls still running (this test failed now and then on a loaded machine).
    with tempfile.TemporaryFile("w+", encoding="utf-8") as errlog:
        server = subprocess.Popen(
            [PYTHON, "-m", "mcp_pii", "serve", "--log-level", "DEBUG"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errlog,
            text=True,
            encoding="utf-8",
            env=server_env(),
        )
        assert server.stdin is not None
        assert server.stdout is not None
        server.stdin.write("\n".join(lines) + "\n")
        server.stdin.flush()
        responses: dict[Any, Any] = {}
        timer = threading.Timer(30, server.kill)
        timer.start()
        try:
            for line in server.stdout:
                msg = json.loads(line)
                responses[msg.get("id")] = msg
                if msg.get("id") == 9:
                    server.stdin.close()
            server.wait(30)
        finally:
            timer.cancel()
        errlog.seek(0)
        done = subprocess.CompletedProcess(server.args, server.returncode, "", errlog.read())
    assert done.returncode == 0, done.stderr
    assert responses[9]["result"]["structuredContent"]["counts"] == dict.fromkeys(PII, 1)
    assert " DEBUG " in done.stderr
    assert_clean(done.stderr)
    for msg in responses.values():  # error responses do not echo the input either...
        if "error" in msg and msg["error"]["code"] != -32601:  # ...but the SDK names an unknown method
            assert_clean(json.dumps(msg))
