"""The stdio transport (``mcp_pii.stdio``): pipes read and written by the event loop, the SDK's way otherwise.

Each test starts ``mcp-pii serve`` (or a server script) in a subprocess, as a client would.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.message import SessionMessage
from servers import INITIALIZE, MCP_PII, PII, PYTHON, server_env

from mcp_pii import Engine
from mcp_pii.stdio import _message

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

# A server with one more tool, which writes to fd 1 the ways stray code does.
NOISY_SERVER = """
import os, sys
from mcp_pii.limits import Gate
from mcp_pii.server import build_server, serve_stdio

gate = Gate()
mcp = build_server(gate=gate)

@mcp.tool(name="shout")
def shout() -> str:
    print("stray print", flush=True)
    os.write(1, b"stray write\\n")
    return "ok"

sys.exit(serve_stdio(mcp, gate))
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def params(*args: str) -> StdioServerParameters:
    return StdioServerParameters(command=PYTHON, args=list(args), env=server_env())


async def test_stray_output_goes_to_stderr_not_the_wire() -> None:
    with tempfile.TemporaryFile("w+", encoding="utf-8") as errlog:
        noisy = params("-c", "import logging; logging.basicConfig(level=logging.DEBUG)\n" + NOISY_SERVER)
        async with Client(stdio_client(noisy, errlog=errlog)) as client:
            shout = await client.call_tool("shout", {})
            masked = await client.call_tool("mask_pii", {"text": "mail " + PII["email"]})
        errlog.seek(0)
        stderr = errlog.read()
    assert not shout.is_error
    assert masked.structured_content == {"text": "mail [EMAIL]", "counts": {"email": 1}}
    assert "stray print" in stderr
    assert "stray write" in stderr
    assert "stdio: served on non-blocking pipes" in stderr


async def test_large_messages_cross_many_reads() -> None:
    # 3 MB each way: the request arrives in several reads, the answer goes out in several writes,
    # and the engine works in a thread (over the stdio inline limit).
    text = ("mail " + PII["email"] + " or call " + PII["phone"] + ". ") * 50_000
    async with Client(stdio_client(params(*MCP_PII, "serve"))) as client:
        result = await client.call_tool("mask_pii", {"text": text, "detections": "spans"})
        small = await client.call_tool("mask_pii", {"text": PII["ssn"]})
    assert not result.is_error
    assert result.structured_content is not None
    assert result.structured_content["text"] == "mail [EMAIL] or call [PHONE]. " * 50_000
    assert len(result.structured_content["detections"]) == 100_000
    assert small.structured_content == {"text": "[SSN]", "counts": {"ssn": 1}}


@pytest.mark.parametrize("force_python", [False, True], ids=["rust", "python"])
def test_a_long_masked_text_with_few_non_ascii_characters_goes_out_as_ascii(force_python: bool) -> None:
    # The SDK's client decodes each line into a str before parsing it; an emoji in the masked text made
    # every character of that str 4 bytes. The escaped line holds the same JSON value (mcp_pii.lines).
    sparse = (
        "Zoë wrote 😀 to " + PII["email"] + " about the café bill from last Tuesday, and asked whether the "
        "kitchen could call " + PII["phone"] + " before the delivery on Friday morning. "
    ) * 400
    dense = ("Зоя: " + PII["email"] + " 東京 ") * 1000
    calls = [{"name": "mask_pii", "arguments": {"text": text}} for text in (sparse, dense, "Zoë " + PII["ssn"])]
    messages = [
        INITIALIZE,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        *({"jsonrpc": "2.0", "id": 2 + i, "method": "tools/call", "params": call} for i, call in enumerate(calls)),
    ]
    env = server_env({"MCP_PII_FORCE_PYTHON": "1"} if force_python else None)
    server = subprocess.Popen([PYTHON, *MCP_PII, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    assert server.stdin is not None
    assert server.stdout is not None
    raw: dict[int, bytes] = {}
    try:
        server.stdin.write(b"".join(json.dumps(m).encode() + b"\n" for m in messages))
        server.stdin.flush()
        while len(raw) < 1 + len(calls) and (line := server.stdout.readline()):
            raw[json.loads(line)["id"]] = line.rstrip(b"\n")
        server.stdin.close()
        assert server.wait(30) == 0
    finally:
        if server.poll() is None:
            server.kill()
    answers = {i: json.loads(line) for i, line in raw.items()}
    reference = Engine(implementation="python" if force_python else "rust")
    for i, text in enumerate((sparse, dense, "Zoë " + PII["ssn"])):
        result = answers[2 + i]["result"]
        assert result["content"][0]["text"] == result["structuredContent"]["text"] == reference.mask(text).text
    assert raw[2].isascii()  # 2% non-ASCII characters: escaped
    assert "Зоя".encode() in raw[3]  # dense: UTF-8 as it was
    assert "Zoë".encode() in raw[4]  # short: UTF-8 as it was


def test_output_to_a_file_is_served_the_sdks_way(tmp_path: Path) -> None:
    # stdout is a regular file, which asyncio cannot watch: the SDK's transport serves it.
    out = tmp_path / "out.jsonl"
    call = {"name": "mask_pii", "arguments": {"text": "mail " + PII["email"]}}
    lines = [
        INITIALIZE,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call},
    ]
    with out.open("w") as sink:
        cmd = [PYTHON, *MCP_PII, "serve", "--log-level", "DEBUG"]
        server = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=sink, stderr=subprocess.PIPE, env=server_env())
        assert server.stdin is not None
        server.stdin.write(b"".join(json.dumps(m).encode() + b"\n" for m in lines))
        server.stdin.flush()
        answers: dict[Any, Any] = {}
        deadline = time.monotonic() + 30
        while 2 not in answers and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.05)
            answers = {m.get("id"): m for m in map(json.loads, out.read_text().splitlines())}
        server.stdin.close()
        assert server.wait(30) == 0
        assert server.stderr is not None
        assert "stdio: stdin or stdout is not a pipe" in server.stderr.read().decode()
    assert answers[2]["result"]["structuredContent"] == {"text": "mail [EMAIL]", "counts": {"email": 1}}


# Lines a client may send, valid or not; each must parse as the SDK's transport parses it.
LINES = [
    json.dumps(INITIALIZE),
    json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    json.dumps({"jsonrpc": "2.0", "id": "a", "method": "tools/call", "params": {"name": "x", "arguments": {}}}),
    json.dumps({"jsonrpc": "2.0", "id": 3, "result": {"ok": True}}),
    json.dumps({"jsonrpc": "2.0", "id": 4, "error": {"code": -32601, "message": "no"}}),
    '{"jsonrpc":"2.0","id":5,"method":"m","params":{"a":1,"a":2,"n":NaN,"e":1e999,"big":123456789012345678901}}',
    '{"jsonrpc":"2.0","id":6,"method":"m","params":{"s":"\\ud83d\\ude00 é \\u0000"}}',
    '{"jsonrpc":"2.0","id":7,"method":"m","params":{"s":"\\ud800"}}',  # a lone surrogate
    '{"jsonrpc":"2.0","id":8,"method":"m","params":{"d":' + "[" * 250 + "]" * 250 + "}}",  # past 200 levels
    '{"jsonrpc":"2.0","id":9,"method":"m","params":{"n":1' + "0" * 5000 + "}}",
    '{"jsonrpc":"2.0","id":10,"method":"m","params":[1,]}',
    "not json " + PII["email"],
    json.dumps({"id": 6, "text": PII["ssn"]}),
    json.dumps({"jsonrpc": "2.0", "id": {"x": 1}, "method": "m"}),
]


# Bytes that are not UTF-8: the SDK's transport reads them as U+FFFD.
RAW_LINES = [
    b'{"jsonrpc":"2.0","id":11,"method":"m","params":{"s":"bad \xff byte, cut \xc3"}}',
    b'{"jsonrpc":"2.0","id":12,"method":"m","params":{"k\xfe":1}}',
    b'{"jsonrpc":"2.0","id":13,\xff"method":"m"}',
]


@pytest.mark.parametrize("line", [*(line.encode() for line in LINES), *RAW_LINES, *LINES])
def test_lines_parse_as_the_sdk_parses_them(line: bytes | str) -> None:
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line  # what the SDK reads
    try:
        expected: Any = types.jsonrpc_message_adapter.validate_json(text, by_name=False)
    except ValueError:
        expected = None
    got = _message(bytearray(line) if isinstance(line, bytes) else line)
    if expected is None:
        assert isinstance(got, ValueError)
        assert str(got) == "stdin: a line that is not a JSON-RPC message"  # names nothing the client sent
    else:
        assert isinstance(got, SessionMessage)
        assert repr(got.message) == repr(expected)  # repr: NaN is not equal to itself
