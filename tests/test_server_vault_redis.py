"""Reversible masking on live servers (``python -m mcp_pii serve``): stdio, and HTTP servers that
share one real redis-server: mask on one and unmask on another, restarts, expiry, what Redis
holds, an unreachable Redis at start-up, and Redis going away and coming back mid-run.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from redis_server import RedisServer, free_port, redis_server, vault_data
from servers import PII, PII_TEXT, PYTHON, RunningServer, running_server, running_servers, server_env
from test_server_vault import EVERY_TYPE, EVERY_TYPE_PAYLOAD, EVERY_TYPE_TEXT

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

KEY = "shared-vault-key-for-the-tests-0123456789"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def vault_env(url: str, **extra: str) -> dict[str, str]:
    return {"MCP_PII_ALLOW_UNMASK": "1", "MCP_PII_VAULT_URL": url, "MCP_PII_VAULT_KEY": KEY, **extra}


async def call(url: str, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    """Call one tool on a Streamable HTTP server with a fresh client; return the structured result."""
    async with Client(url) as client:
        result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def call_error(url: str, tool: str, args: dict[str, Any]) -> str:
    async with Client(url) as client:
        result = await client.call_tool(tool, args)
    assert result.is_error, result.structured_content
    text: str = result.content[0].text  # type: ignore[union-attr]
    return text


@pytest.fixture(scope="module")
def shared_redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


async def test_two_servers_share_one_redis(shared_redis: RedisServer) -> None:
    env = vault_env(shared_redis.url)
    specs = [(["--transport", "http"], env), (["--transport", "http", "--stateless", "--json-response"], env)]
    with running_servers(*specs) as (first, second):
        masked = await call(first.url, "mask_pii", {"text": EVERY_TYPE_TEXT, "reversible": True})
        scope = masked["scope"]
        assert set(masked["counts"]) == set(EVERY_TYPE)
        tokens = sum(masked["counts"].values())
        nested = await call(first.url, "scan_nested", {"data": EVERY_TYPE_PAYLOAD, "reversible": True, "scope": scope})
        back = await call(second.url, "unmask_pii", {"text": masked["text"], "scope": scope})
        assert back == {"text": EVERY_TYPE_TEXT, "restored": tokens, "unknown": 0, "foreign": 0}
        restored = await call(second.url, "unmask_nested", {"data": nested["data"], "scope": scope})
        assert restored["data"]["records"] == EVERY_TYPE_PAYLOAD["records"]
        assert json.loads(restored["data"]["raw"]) == json.loads(EVERY_TYPE_PAYLOAD["raw"])
        # The second server numbers on from the same scope: the same value, the same token.
        email = EVERY_TYPE["email"]["value"]
        again = await call(second.url, "mask_pii", {"text": email, "reversible": True, "scope": scope})
        assert again["text"] in masked["text"]
        first_again = await call(first.url, "mask_pii", {"text": email, "reversible": True, "scope": scope})
        assert first_again["text"] == again["text"]
        held = vault_data(shared_redis.url)
        assert held
        for secret in (*(case["value"] for case in EVERY_TYPE.values()), scope):
            assert secret.encode() not in held
    # Both servers are gone; a new one (a restart) still unmasks.
    with running_server("--transport", "http", env=env) as restarted:
        back = await call(restarted.url, "unmask_pii", {"text": masked["text"], "scope": scope})
        assert back["text"] == EVERY_TYPE_TEXT
        assert (await call(restarted.url, "forget_scope", {"scope": scope})) == {"forgotten": True}
        gone = await call(restarted.url, "unmask_pii", {"text": masked["text"], "scope": scope})
        assert gone == {"text": masked["text"], "restored": 0, "unknown": tokens, "foreign": 0}


async def test_scopes_expire_in_redis(shared_redis: RedisServer) -> None:
    with running_server("--transport", "http", env=vault_env(shared_redis.url, MCP_PII_VAULT_TTL_SECONDS="1")) as s:
        masked = await call(s.url, "mask_pii", {"text": PII_TEXT, "reversible": True})
        assert (await call(s.url, "unmask_pii", {"text": masked["text"], "scope": masked["scope"]}))["restored"]
        await anyio.sleep(1.5)
        expired = await call(s.url, "unmask_pii", {"text": masked["text"], "scope": masked["scope"]})
        assert expired == {"text": masked["text"], "restored": 0, "unknown": len(PII), "foreign": 0}
        message = await call_error(s.url, "mask_pii", {"text": "x", "reversible": True, "scope": masked["scope"]})
        assert "unknown or expired scope" in message


async def test_stdio_round_trip() -> None:
    params = StdioServerParameters(
        command=PYTHON, args=["-m", "mcp_pii", "serve"], env=server_env({"MCP_PII_ALLOW_UNMASK": "1"})
    )
    with tempfile.TemporaryFile("w+") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert {"unmask_pii", "unmask_nested", "forget_scope"} <= names
            result = await client.call_tool("mask_pii", {"text": EVERY_TYPE_TEXT, "reversible": True})
            masked = result.structured_content
            assert masked is not None
            assert set(masked["counts"]) == set(EVERY_TYPE)
            result = await client.call_tool("unmask_pii", {"text": masked["text"], "scope": masked["scope"]})
            assert result.structured_content is not None
            assert result.structured_content["text"] == EVERY_TYPE_TEXT
            result = await client.call_tool("scan_nested", {"data": EVERY_TYPE_PAYLOAD, "reversible": True})
            nested = result.structured_content
            assert nested is not None
            back = await client.call_tool("unmask_nested", {"data": nested["data"], "scope": nested["scope"]})
            assert back.structured_content is not None
            assert back.structured_content["data"]["records"] == EVERY_TYPE_PAYLOAD["records"]
            assert json.loads(back.structured_content["data"]["raw"]) == json.loads(EVERY_TYPE_PAYLOAD["raw"])
        errlog.seek(0)
        logged = errlog.read()
    assert "reversible masking: memory vault" in logged
    for secret in (*(case["value"] for case in EVERY_TYPE.values()), masked["scope"], nested["scope"]):
        assert secret not in logged


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_unreachable_redis_at_start_up_is_a_clear_error(transport: str) -> None:
    url = f"redis://user:pw@127.0.0.1:{free_port()}/0"
    done = subprocess.run(
        [PYTHON, "-m", "mcp_pii", "serve", "--transport", transport, "--port", "0"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=server_env(vault_env(url)),
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert f"mcp-pii: error: cannot reach the vault at redis://127.0.0.1:{url.rsplit(':', 1)[1]}" in done.stderr
    assert "Traceback" not in done.stderr
    assert "pw" not in done.stderr
    assert KEY not in done.stderr


async def test_redis_going_away_is_a_tool_error_and_the_server_recovers() -> None:
    with redis_server() as own:
        env = vault_env(own.url, MCP_PII_VAULT_TIMEOUT_SECONDS="1")
        with running_server("--transport", "http", env=env) as server:
            await check_outage(own, server)
            assert "Traceback" not in server.stderr
            assert "is unreachable" in server.stderr
            assert "reachable again" in server.stderr


async def check_outage(own: RedisServer, server: RunningServer) -> None:
    masked = await call(server.url, "mask_pii", {"text": PII_TEXT, "reversible": True})
    own.stop()
    with anyio.fail_after(30):  # a tool error, not a hang
        message = await call_error(server.url, "mask_pii", {"text": PII_TEXT, "reversible": True})
        assert "the vault (Redis at redis://127.0.0.1:" in message
        assert "is unreachable; try again shortly" in message
        message = await call_error(server.url, "unmask_pii", {"text": masked["text"], "scope": masked["scope"]})
        assert masked["scope"] not in message
    # Masking that needs no vault goes on.
    assert (await call(server.url, "mask_pii", {"text": PII_TEXT}))["counts"] == dict.fromkeys(PII, 1)
    own.start()  # back, empty (it kept nothing on disk)
    again = await call(server.url, "mask_pii", {"text": PII_TEXT, "reversible": True})
    back = await call(server.url, "unmask_pii", {"text": again["text"], "scope": again["scope"]})
    assert back["text"] == PII_TEXT
