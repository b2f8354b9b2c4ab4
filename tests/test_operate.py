"""Operating and connecting: start-up, logs, capabilities, offsets, resumable streams, client configs, examples."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from mcp import Client, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from pydantic import BaseModel
from servers import INITIALIZE, MCP_PII, PII, PII_TEXT, PYTHON, URL_LINE, running_server, server_env

from mcp_pii import Engine, offsets
from mcp_pii.events import BoundedEventStore
from mcp_pii.schema import output_schema
from mcp_pii.server import build_server

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- start-up: the URL line means the socket accepts connections -------------------------------------


def start_and_connect_at_once(*args: str) -> tuple[float, str]:
    """Start a server; on its URL line, at once call ping over raw HTTP; return the delay and stderr."""
    cmd = [PYTHON, *MCP_PII, "serve", "--port", "0", *args]
    process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=server_env())
    try:
        assert process.stderr is not None
        for line in process.stderr:
            match = URL_LINE.match(line.strip())
            if match:
                seen = time.monotonic()
                headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
                if match["url"].endswith("/sse"):
                    answer = httpx2.get(match["url"].replace("/sse", "/healthz"), timeout=10)
                else:
                    answer = httpx2.post(match["url"], json=INITIALIZE, headers=headers, timeout=10)
                assert answer.status_code == 200, answer.text
                return time.monotonic() - seen, line
        raise AssertionError("no URL line")
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.parametrize("transport", ["http", "sse"])
def test_a_client_started_on_the_url_line_connects(transport: str) -> None:
    # Regression: the URL was printed when the socket was bound, before uvicorn listened, and
    # clients started on the line were refused (12 of 13 starts). No sleep, no retry here.
    for _ in range(3):
        start_and_connect_at_once("--transport", transport)


async def test_one_ready_line_per_process_however_many_sse_clients() -> None:
    with running_server("--transport", "sse") as server:
        for _ in range(3):
            async with Client(sse_client(server.url)) as client:
                assert not (await client.call_tool("ping", {})).is_error
    assert server.stderr.count(" ready: ") == 1, server.stderr


def test_per_request_sdk_lines_are_debug_only() -> None:
    headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}
    ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
    with (
        running_server("--transport", "http", "--stateless") as quiet,
        running_server("--transport", "http", "--stateless", "--log-level", "DEBUG") as chatty,
    ):
        for server in (quiet, chatty):
            for _ in range(3):
                assert httpx2.post(server.url, json=ping, headers=headers).status_code == 200
    assert "Terminating session" not in quiet.stderr  # was one INFO line per stateless request
    assert chatty.stderr.count("DEBUG mcp.server.streamable_http: Terminating session") == 3


async def test_json_logs_carry_the_call_and_never_a_value() -> None:
    with running_server("--transport", "http", "--log-format", "json") as server:
        async with Client(server.url) as client:
            assert not (await client.call_tool("mask_pii", {"text": PII_TEXT})).is_error
            assert (await client.call_tool("mask_pii", {"text": PII_TEXT, "strategy": "blur"})).is_error
    lines = [line for line in server.stderr.splitlines() if line and not URL_LINE.match(line)]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    calls = [r for r in records if r["logger"] == "mcp_pii.calls"]
    assert [(c["tool"], c["outcome"], c["level"]) for c in calls] == [
        ("mask_pii", "ok", "INFO"),
        ("mask_pii", "error", "INFO"),
    ]
    first = calls[0]
    assert first["counts"] == {t: 1 for t in PII}
    assert first["bytes"] == len(PII_TEXT.encode())
    assert first["duration_ms"] > 0
    assert len({c["request_id"] for c in calls}) == 2
    for value in PII.values():
        assert value not in server.stderr


# --- honest capabilities -------------------------------------------------------------------------------


async def test_only_tools_are_advertised() -> None:
    async with Client(build_server()) as client:
        caps = client.server_capabilities
        assert caps is not None
        assert caps.tools is not None
        assert caps.prompts is None
        assert caps.resources is None
    with running_server("--transport", "http", "--stateless", "--json-response") as server:
        headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}
        for method in ("prompts/list", "prompts/get", "resources/list", "resources/templates/list"):
            body = {"jsonrpc": "2.0", "id": 7, "method": method, "params": {"name": "x"}}
            answer = httpx2.post(server.url, json=body, headers=headers).json()
            assert answer["error"]["code"] == -32601, (method, answer)  # Method not found, not code 0
    assert " ERROR " not in server.stderr


def portable(schema: Any, where: str = "") -> list[str]:
    """Sub-schemas with no validation keyword at all (what the Inspector's portability check flags)."""
    keywords = {"type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "not"}
    found = []
    if isinstance(schema, dict):
        if "properties" in schema:
            for name, sub in schema["properties"].items():
                if not keywords & sub.keys():
                    found.append(f"{where}/{name}")
                found += portable(sub, f"{where}/{name}")
        for key in ("items", "additionalProperties", "$defs"):
            if isinstance(schema.get(key), dict):
                subs = schema[key].values() if key == "$defs" else [schema[key]]
                for sub in subs:
                    found += portable(sub, f"{where}/{key}")
    return found


async def test_schemas_are_typed_and_lint_clean() -> None:
    async with Client(build_server(Engine().config.model_copy(update={"allow_unmask": True}))) as client:
        tools = (await client.list_tools()).tools
    assert {t.name for t in tools} >= {"scan_nested", "unmask_nested"}
    for tool in tools:
        for schema in (tool.input_schema, tool.output_schema or {}):
            Draft202012Validator.check_schema(schema)
            assert portable(schema) == [], tool.name
    scan = next(t for t in tools if t.name == "scan_nested")
    data = scan.input_schema["properties"]["data"]
    assert [branch["type"] for branch in data["anyOf"]] == ["object", "array", "string", "number", "boolean", "null"]
    validator = Draft202012Validator(data)
    for value in ({"a": [1, None]}, [], "x", 1.5, True, None):
        assert validator.is_valid(value)


class _Leaf(BaseModel):
    name: str
    note: str | None = None


class _Tree(BaseModel):
    leaves: list[_Leaf]
    top: _Leaf | None = None


class _Loop(BaseModel):
    next: _Loop | None = None


def test_output_schema_inlines_references_and_drops_null_branches() -> None:
    schema = output_schema(_Tree.model_json_schema())
    assert "$ref" not in json.dumps(schema)
    assert "$defs" not in schema
    leaf = schema["properties"]["leaves"]["items"]
    assert leaf["properties"]["note"] == {"type": "string", "title": "Note"}  # absent or a string, never null
    assert schema["properties"]["top"]["properties"] == leaf["properties"]
    assert schema["required"] == ["leaves"]
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    assert validator.is_valid({"leaves": [{"name": "a"}, {"name": "b", "note": "x"}]})
    assert not validator.is_valid({"leaves": [{"name": "a", "note": None}]})
    assert not validator.is_valid({"leaves": [{"note": "x"}]})
    with pytest.raises(ValueError, match="refers to _Loop within itself"):
        output_schema(_Loop.model_json_schema())


async def test_descriptions_say_what_needs_a_label_and_what_strategies_give() -> None:
    async with Client(build_server()) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    for name in ("detect_pii", "mask_pii", "scan_nested"):
        assert "passport" in (tools[name].description or "")
        assert "only next to a label" in (tools[name].description or "")
    strategy = tools["mask_pii"].input_schema["properties"]["strategy"]
    text = json.dumps(strategy)
    for produces in ("[EMAIL]", "[REDACTED]", "***-**-6789", "[HASH:", "[EMAIL_1]", "remove"):
        assert produces in text


# --- offsets -------------------------------------------------------------------------------------------

TEXT_PARTS = st.lists(
    st.sampled_from(
        ["😀", "é", "ß", "中文", " ", "a", "\U0001f469\u200d\U0001f467", "mail jane@example.com ", "SSN 123-45-6789 "]
    ),
    max_size=12,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(text=TEXT_PARTS)
def test_offsets_slice_the_encoded_text(text: str) -> None:
    found = Engine().detect(text)
    utf16 = text.encode("utf-16-le")
    for d in offsets.convert(text, found, "utf16"):
        assert utf16[2 * d.start : 2 * d.end].decode("utf-16-le") == d.value
    for d in offsets.convert(text, found, "utf8"):
        assert text.encode()[d.start : d.end].decode() == d.value
    assert offsets.convert(text, found, "codepoint") == found


async def test_offsets_option_over_mcp() -> None:
    text = "😀😀 mail jane@example.com"  # the example: code points 8-24, UTF-16 10-26
    async with Client(build_server()) as client:
        spans = {}
        for unit in ("codepoint", "utf16", "utf8"):
            result = await client.call_tool("detect_pii", {"text": text, "offsets": unit})
            d = result.structured_content["detections"][0]  # type: ignore[index]
            spans[unit] = (d["start"], d["end"])
        payload = {"m": [json.dumps({"t": text})]}
        nested = await client.call_tool("scan_nested", {"data": payload, "offsets": "utf16", "detections": "spans"})
    assert spans == {"codepoint": (8, 24), "utf16": (10, 26), "utf8": (14, 30)}
    assert [(d["start"], d["end"]) for d in nested.structured_content["detections"]] == [(10, 26)]  # type: ignore[index]


# --- resumable SSE streams -------------------------------------------------------------------------------


def sse_events(text: str) -> list[dict[str, str]]:
    events, event = [], {}
    for line in text.splitlines():
        if not line:
            if event:
                events.append(event)
            event = {}
            continue
        key, _, value = line.partition(":")
        event[key] = value.lstrip(" ")
    if event:
        events.append(event)
    return events


def session(url: str, version: str = "2025-11-25") -> dict[str, str]:
    headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": version}
    init = dict(INITIALIZE, params={**INITIALIZE["params"], "protocolVersion": version})  # type: ignore[dict-item]
    answer = httpx2.post(url, json=init, headers=headers)
    headers["Mcp-Session-Id"] = answer.headers["mcp-session-id"]
    httpx2.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
    return headers


def test_a_lost_stream_resumes_with_its_answer() -> None:
    call = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "mask_pii", "arguments": {"text": PII_TEXT}},
    }
    with running_server("--transport", "http") as server:
        headers = session(server.url)
        events = sse_events(httpx2.post(server.url, json=call, headers=headers).text)
        priming, answer = events[0], events[-1]
        assert priming["data"] == ""
        assert priming["id"]
        assert priming["retry"] == "1000"
        # The client lost the stream after the priming event: it resumes from there.
        resume = {**headers, "Last-Event-ID": priming["id"], "Accept": "text/event-stream"}
        with httpx2.stream("GET", server.url, headers=resume, timeout=10) as stream:
            lines = []
            for line in stream.iter_lines():
                lines.append(line)
                if line.startswith("data: {"):
                    break
        replayed = sse_events("\n".join(lines))[-1]
        assert replayed["id"] == answer["id"]
        assert json.loads(replayed["data"]) == json.loads(answer["data"])
        # Another session cannot replay it (stream ids are JSON-RPC ids, the same in every session).
        other = {**session(server.url), "Last-Event-ID": priming["id"], "Accept": "text/event-stream"}
        got: list[str] = []
        with (
            httpx2.stream("GET", server.url, headers=other, timeout=3) as stream,
            contextlib.suppress(httpx2.ReadTimeout),
        ):
            got.extend(stream.iter_lines())
        assert not [line for line in got if line.startswith("data: {")], got
        # A client of a protocol before priming events gets none.
        old = session(server.url, "2025-06-18")
        assert sse_events(httpx2.post(server.url, json=call, headers=old).text)[0]["data"].startswith("{")


async def test_event_store_bounds_and_large_answers() -> None:
    from mcp_types import JSONRPCResponse

    store = BoundedEventStore(max_events=3, max_bytes=10_000)
    ids = [await store.store_event("1", JSONRPCResponse(jsonrpc="2.0", id=i, result={"n": i})) for i in range(5)]
    assert store.count == 3
    sent: list[Any] = []

    async def send(event: Any) -> None:
        sent.append(event)

    assert await store.replay_events_after(ids[0], send) is None  # evicted
    assert await store.replay_events_after(ids[2], send) == "1"
    assert [e.message.id for e in sent] == [3, 4]
    store = BoundedEventStore(max_events=100, max_bytes=2_000)
    for i in range(20):
        await store.store_event("s", JSONRPCResponse(jsonrpc="2.0", id=i, result={"t": "x" * 200}))
    assert store.nbytes <= 2_000
    # An answer the front writes in place of a marker is not kept: an error asks to call again.
    spliced = JSONRPCResponse(
        jsonrpc="2.0", id=9, result={"content": [{"type": "text", "text": "mcp-pii-splice-ab-t"}]}
    )
    first = await store.store_event("9", None)
    await store.store_event("9", spliced)
    sent.clear()
    await store.replay_events_after(first, send)
    assert sent[0].message.error.message.startswith("The answer was too large to keep")


# --- client configurations and the examples, as a newcomer runs them -----------------------------------------


def mcp_pii_config(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [PYTHON, *MCP_PII, "config", *args], capture_output=True, text=True, check=True, env=server_env()
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize("client", ["claude", "cursor", "vscode", "inspector"])
async def test_generated_config_is_spawned_as_written(client: str) -> None:
    config = mcp_pii_config(client, "--", "--log-level", "WARNING")
    servers = config["servers" if client == "vscode" else "mcpServers"]
    entry = servers["pii"]
    assert Path(entry["command"]).is_absolute()
    assert entry["args"][-3:] == ["serve", "--log-level", "WARNING"]
    # Spawned with a bare environment, as a desktop app does (no PATH, no virtualenv).
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env={}, cwd=tempfile.gettempdir())
    with tempfile.TemporaryFile("w+") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as session:
            result = await session.call_tool("mask_pii", {"text": PII_TEXT})
            assert not result.is_error


def test_uvx_config() -> None:
    entry = mcp_pii_config("claude", "--uvx", "--name", "privacy")["mcpServers"]["privacy"]
    assert Path(entry["command"]).name == "uvx"
    assert entry["args"] == ["mcp-pii", "serve"]


@pytest.mark.parametrize("mode", [(), ("--stateless",), ("--stateless", "--json-response")])
def test_curl_example_against_the_server_it_documents(mode: tuple[str, ...]) -> None:
    script = ROOT / "examples" / "curl_http.sh"
    with running_server("--transport", "http", *mode, env={"MCP_PII_AUTH_TOKEN": "s3cret"}) as server:
        run = [str(script), "--url", server.url]
        ok = subprocess.run([*run, "--token", "s3cret"], capture_output=True, text=True, timeout=60, check=False)
        assert ok.returncode == 0, ok.stderr
        assert "j***@example.com" in ok.stdout
        assert "[IP_ADDRESS]" in ok.stdout
        bad = subprocess.run([*run, "--token", "wrong"], capture_output=True, text=True, timeout=60, check=False)
        assert bad.returncode == 1
        assert "initialize: HTTP 401" in bad.stderr
    assert server.process.poll() is not None
    gone = subprocess.run([*run, "--token", "s3cret"], capture_output=True, text=True, timeout=60, check=False)
    assert gone.returncode == 1  # the server has stopped: the first call fails, and so does the script


def test_curl_example_fails_on_a_tool_error() -> None:
    with running_server("--transport", "http", env={"MCP_PII_MAX_TEXT_BYTES": "20"}) as server:
        done = subprocess.run(
            [str(ROOT / "examples" / "curl_http.sh"), "--url", server.url],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1
    assert "tools/call mask_pii: failed" in done.stderr


def test_stdio_example_runs_with_the_system_python() -> None:
    python3 = shutil.which("python3") or sys.executable
    done = subprocess.run(
        [python3, str(ROOT / "examples" / "client_stdio.py")], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "tools: detect_pii, mask_pii, scan_nested" in done.stdout
    assert "***-**-6789" in done.stdout
