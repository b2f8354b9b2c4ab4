"""The server as users run it: ``python -m mcp_pii serve`` in a subprocess, reached by the SDK's ``Client``.

Transports: stdio, Streamable HTTP (stateful, and stateless with JSON responses) and SSE, each
against the Rust engine and (stdio, stateless HTTP) the forced Python twin. HTTP servers listen on
127.0.0.1 with port 0 and live for the whole module; see ``servers.py``.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from servers import INITIALIZE, PII, PII_PAYLOAD, PII_TEXT, PYTHON, RunningServer, running_servers

from mcp_pii import Engine, __version__
from mcp_pii.server import SPLICE_MIN

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
TOKEN = "s3cret"
UNICODE_TEXT = "😀 naïve café — 日本語 " + PII["email"] + " 🇫🇷 " + PII["ssn"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- servers, one per configuration, started together for the module -----------------------------

FLEET: dict[str, tuple[list[str], dict[str, str] | None]] = {
    "http": (["--transport", "http"], None),
    "stateless": (["--transport", "http", "--stateless", "--json-response"], None),
    "python": (["--transport", "http", "--stateless", "--json-response"], {"MCP_PII_FORCE_PYTHON": "1"}),
    "sse": (["--transport", "sse"], None),
    "gateway": (
        [
            *("--transport", "http", "--allowed-host", "gateway.internal", "--allowed-host", "gateway.internal:8443"),
            *("--max-body-bytes", "10000"),
        ],
        None,
    ),
    "auth": (["--transport", "http", "--auth-token", TOKEN], None),
}


@pytest.fixture(scope="module")
def fleet() -> Iterator[dict[str, RunningServer]]:
    with running_servers(*FLEET.values()) as servers:
        yield dict(zip(FLEET, servers, strict=True))


@pytest.fixture(scope="module")
def http_server(fleet: dict[str, RunningServer]) -> RunningServer:
    """Streamable HTTP, stateful, SSE-mode responses."""
    return fleet["http"]


@pytest.fixture(scope="module")
def stateless_server(fleet: dict[str, RunningServer]) -> RunningServer:
    """Streamable HTTP, ``--stateless --json-response``."""
    return fleet["stateless"]


@pytest.fixture(scope="module")
def python_server(fleet: dict[str, RunningServer]) -> RunningServer:
    """As ``stateless_server``, with ``MCP_PII_FORCE_PYTHON=1``."""
    return fleet["python"]


@pytest.fixture(scope="module")
def sse_server(fleet: dict[str, RunningServer]) -> RunningServer:
    return fleet["sse"]


@pytest.fixture(scope="module")
def gateway_server(fleet: dict[str, RunningServer]) -> RunningServer:
    """``--allowed-host gateway.internal --max-body-bytes 10000``."""
    return fleet["gateway"]


@pytest.fixture(scope="module")
def auth_server(fleet: dict[str, RunningServer]) -> RunningServer:
    """``--auth-token s3cret``."""
    return fleet["auth"]


def stdio_params(force_python: bool = False) -> StdioServerParameters:
    env = {"MCP_PII_FORCE_PYTHON": "1"} if force_python else None
    return StdioServerParameters(command=PYTHON, args=["-m", "mcp_pii", "serve"], env=env)


def contains(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``exc`` is, or an exception group holds (at any depth), a ``kind``."""
    if isinstance(exc, BaseExceptionGroup):
        return any(contains(e, kind) for e in exc.exceptions)
    return isinstance(exc, kind)


def client_for(transport: str, request: pytest.FixtureRequest) -> Client:
    """A Client (not yet connected) for one of the transports."""
    if transport == "stdio":
        return Client(stdio_params())
    if transport == "sse":
        server: RunningServer = request.getfixturevalue("sse_server")
        return Client(sse_client(server.url))
    fixture = {"http": "http_server", "http-stateless-json": "stateless_server", "http-python": "python_server"}
    return Client(request.getfixturevalue(fixture[transport]).url)


# --- what every transport must do ------------------------------------------------------------------


async def exercise(client: Client) -> dict[str, Any]:
    """List the tools and call each one (plus an error); check the results; return them for comparison."""
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == {"detect_pii", "mask_pii", "scan_nested", "ping"}
    assert all(t.annotations and t.annotations.read_only_hint for t in tools.values())
    assert client.server_info.version == __version__

    reference = Engine(implementation="python")
    out: dict[str, Any] = {}
    for strategy in ("label", "partial", "tokenize"):
        result = await client.call_tool("mask_pii", {"text": PII_TEXT, "strategy": strategy, "detections": "spans"})
        assert not result.is_error, result.content
        masked = result.structured_content
        assert masked is not None
        assert masked["text"] == reference.mask(PII_TEXT, strategy).text
        assert [PII_TEXT[d["start"] : d["end"]] for d in masked["detections"]] == list(PII.values())
        out[f"mask_pii/{strategy}"] = masked

    # Over HTTP an answer this large is spliced in as JSON text (mcp_pii.exchange): both text contents.
    big = PII_TEXT * (SPLICE_MIN // len(PII_TEXT) + 1)
    for shown in ("masked", "counts"):
        result = await client.call_tool("mask_pii", {"text": big, "text_content": shown})
        masked = result.structured_content
        assert masked is not None
        assert masked["text"] == reference.mask(big).text
        summary = json.dumps({"counts": masked["counts"]}, separators=(",", ":"))
        assert result.content[0].text == (masked["text"] if shown == "masked" else summary)  # type: ignore[union-attr]
    out["mask_pii/big"] = masked["counts"]

    result = await client.call_tool("scan_nested", {"data": PII_PAYLOAD})
    assert not result.is_error, result.content
    scanned = result.structured_content
    assert scanned is not None
    assert scanned["data"] == reference.scan(PII_PAYLOAD).data
    assert scanned["data"]["body"] == '{"ssn":"[SSN]","card":"[CREDIT_CARD]"}'
    assert scanned["counts"] == {"email": 1, "phone": 1, "ssn": 1, "credit_card": 1, "aws_access_key": 1}
    out["scan_nested"] = scanned

    args = {"data": PII_PAYLOAD, "mask": False, "types": ["email"], "detections": "spans"}
    result = await client.call_tool("scan_nested", args)
    assert result.structured_content == {
        "data": PII_PAYLOAD,
        "detections": [{"type": "email", "start": 0, "end": 20, "rule": "email", "path": "/user/contact/0"}],
        "counts": {"email": 1},
    }

    # Offsets are code points on the wire too (the emoji are surrogate pairs in JSON escapes).
    result = await client.call_tool("detect_pii", {"text": UNICODE_TEXT, "include_values": True})
    found = result.structured_content
    assert found is not None
    assert [(d["value"], UNICODE_TEXT[d["start"] : d["end"]]) for d in found["detections"]] == [
        (PII["email"], PII["email"]),
        (PII["ssn"], PII["ssn"]),
    ]
    out["detect_pii"] = found

    result = await client.call_tool("mask_pii", {"text": PII_TEXT, "types": ["not_a_type"]})
    assert result.is_error
    error_text = result.content[0].text  # type: ignore[union-attr]
    assert "types.0: Input should be 'email'" in error_text
    assert PII["email"] not in error_text
    out["error"] = error_text

    assert (await client.call_tool("ping", {})).structured_content == {"ok": True}
    return out


@pytest.mark.parametrize("transport", ["stdio", "http", "http-stateless-json", "sse"])
async def test_transport(transport: str, request: pytest.FixtureRequest) -> None:
    async with client_for(transport, request) as client:
        await exercise(client)


async def test_two_clients_at_once(http_server: RunningServer, sse_server: RunningServer) -> None:
    async def run(client: Client) -> None:
        async with client:
            await exercise(client)

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(run, Client(http_server.url))
            tg.start_soon(run, Client(sse_client(sse_server.url)))


# --- Rust and the forced Python twin agree over the wire -------------------------------------------


async def test_stdio_python_twin_agrees() -> None:
    results: dict[bool, dict[str, Any]] = {}

    async def run(force_python: bool) -> None:
        with tempfile.TemporaryFile("w+", encoding="utf-8") as errlog:
            async with Client(stdio_client(stdio_params(force_python), errlog=errlog)) as client:
                results[force_python] = await exercise(client)
            errlog.seek(0)
            log = errlog.read()
        assert ("python engine" if force_python else "rust engine") in log, log

    async with anyio.create_task_group() as tg:  # both servers start at once
        tg.start_soon(run, False)
        tg.start_soon(run, True)
    assert results[False] == results[True]


async def test_http_python_twin_agrees(stateless_server: RunningServer, python_server: RunningServer) -> None:
    results = []
    for server in (stateless_server, python_server):
        async with Client(server.url) as client:
            results.append(await exercise(client))
    assert results[0] == results[1]


def test_healthz(http_server: RunningServer, sse_server: RunningServer, python_server: RunningServer) -> None:
    for server, implementation in ((http_server, "rust"), (sse_server, "rust"), (python_server, "python")):
        response = httpx2.get(server.base + "/healthz", timeout=5)
        assert response.status_code == 200
        body = response.json()
        # Without a token every caller is authorised, and sees the version, engine and load.
        assert {k: body[k] for k in ("status", "version", "implementation")} == {
            "status": "ok",
            "version": __version__,
            "implementation": implementation,
        }
        assert body["load"]["calls_in_flight"] == 0
        assert body["load"]["limits"]["max_inflight_calls"] >= 1


def test_url_line(http_server: RunningServer, stateless_server: RunningServer, sse_server: RunningServer) -> None:
    assert http_server.kind == "Streamable HTTP"
    assert http_server.url.startswith("http://127.0.0.1:")
    assert http_server.url.endswith("/mcp")
    assert stateless_server.kind == "Streamable HTTP (stateless)"
    assert sse_server.kind == "SSE"
    assert sse_server.url.endswith("/sse")
    assert "rust engine" in http_server.stderr


# --- DNS-rebinding protection ----------------------------------------------------------------------


def test_foreign_host_is_refused(http_server: RunningServer, gateway_server: RunningServer) -> None:
    for server in (http_server, gateway_server):
        response = httpx2.post(server.url, json=INITIALIZE, headers=MCP_HEADERS | {"Host": "evil.example"}, timeout=5)
        assert response.status_code == 421, response.text
    # A loopback name is always accepted, with the server's port...
    port = http_server.base.rsplit(":", 1)[1]
    for host in (f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}"):
        response = httpx2.post(http_server.url, json=INITIALIZE, headers=MCP_HEADERS | {"Host": host}, timeout=5)
        assert response.status_code == 200, host
    # ...and only with it: issue 12 found the SDK matching "name:*" by prefix, so that these passed.
    for host in ("localhost", "localhost:1", f"127.0.0.1:{port}@evil.example", f"localhost:{port}.evil.example"):
        response = httpx2.post(http_server.url, json=INITIALIZE, headers=MCP_HEADERS | {"Host": host}, timeout=5)
        assert response.status_code == 421, host
        assert host not in http_server.stderr


def test_foreign_host_is_refused_over_sse(sse_server: RunningServer) -> None:
    response = httpx2.get(sse_server.url, headers={"Host": "evil.example"}, timeout=5)
    assert response.status_code == 421


def test_foreign_origin_is_refused(http_server: RunningServer) -> None:
    headers = MCP_HEADERS | {"Origin": "http://evil.example"}
    assert httpx2.post(http_server.url, json=INITIALIZE, headers=headers, timeout=5).status_code == 403


@pytest.mark.parametrize("host", ["gateway.internal", "gateway.internal:8443"])
def test_allowed_host(gateway_server: RunningServer, host: str) -> None:
    response = httpx2.post(gateway_server.url, json=INITIALIZE, headers=MCP_HEADERS | {"Host": host}, timeout=5)
    assert response.status_code == 200, response.text
    assert '"serverInfo"' in response.text


async def test_allowed_host_with_a_client(gateway_server: RunningServer, http_server: RunningServer) -> None:
    http = httpx2.AsyncClient(headers={"Host": "gateway.internal"})
    async with Client(streamable_http_client(gateway_server.url, http_client=http)) as client:
        assert (await client.call_tool("ping", {})).structured_content == {"ok": True}
    # The server without --allowed-host refuses the same client.
    http = httpx2.AsyncClient(headers={"Host": "gateway.internal"})
    with anyio.fail_after(15), pytest.raises(BaseException) as caught:  # noqa: PT011 - wrapped in ExceptionGroups
        async with Client(streamable_http_client(http_server.url, http_client=http)) as client:
            await client.call_tool("ping", {})
    assert contains(caught.value, MCPError), caught.value


# --- request body limit ----------------------------------------------------------------------------


async def test_body_limit(gateway_server: RunningServer) -> None:
    call = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "mask_pii", "arguments": {"text": PII_TEXT + " x" * 10_000}},
    }
    body = json.dumps(call).encode()
    assert len(body) > 10_000
    headers = MCP_HEADERS | {"Host": "gateway.internal"}
    response = httpx2.post(gateway_server.url, content=body, headers=headers, timeout=5)
    assert response.status_code == 413
    assert PII["email"] not in response.text
    # Small requests still pass, and the server is still up.
    http = httpx2.AsyncClient(headers={"Host": "gateway.internal"})
    async with Client(streamable_http_client(gateway_server.url, http_client=http)) as client:
        result = await client.call_tool("mask_pii", {"text": PII_TEXT})
        assert not result.is_error
        assert PII["ssn"] not in result.structured_content["text"]  # type: ignore[index]


# --- bearer token ----------------------------------------------------------------------------------


@pytest.mark.parametrize("authorization", [None, "", "Bearer wrong", f"Bearer {TOKEN}x", TOKEN, f"Basic {TOKEN}"])
def test_auth_required(auth_server: RunningServer, authorization: str | None) -> None:
    headers = dict(MCP_HEADERS)
    if authorization is not None:
        headers["Authorization"] = authorization
    response = httpx2.post(auth_server.url, json=INITIALIZE, headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"] == "unauthorized"


def test_auth_healthz_is_open(auth_server: RunningServer) -> None:
    response = httpx2.get(auth_server.base + "/healthz", timeout=5)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_auth_with_token(auth_server: RunningServer) -> None:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"})
    async with Client(streamable_http_client(auth_server.url, http_client=http)) as client:
        await exercise(client)


async def test_auth_client_without_token_fails(auth_server: RunningServer) -> None:
    with anyio.fail_after(15), pytest.raises(BaseException) as caught:  # noqa: PT011 - wrapped in ExceptionGroups
        async with Client(auth_server.url) as client:
            await client.call_tool("ping", {})
    assert contains(caught.value, MCPError), caught.value


# --- malformed input over the wire -----------------------------------------------------------------


def test_lone_surrogate_over_http(stateless_server: RunningServer) -> None:
    # A client that sends a lone surrogate escape gets a JSON-RPC error; the server keeps serving.
    raw = (
        '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"mask_pii",'
        '"arguments":{"text":"a\\ud800b ' + PII["email"] + '"}}}'
    )
    headers = MCP_HEADERS | {"MCP-Protocol-Version": "2025-11-25"}
    response = httpx2.post(stateless_server.url, content=raw.encode(), headers=headers, timeout=5)
    assert response.status_code in (200, 400), response.text
    assert response.json()["error"]["code"] == -32700
    assert PII["email"] not in response.text
    good = raw.replace("a\\ud800b", "ab")
    response = httpx2.post(stateless_server.url, content=good.encode(), headers=headers, timeout=5)
    assert response.status_code == 200
    assert response.json()["result"]["structuredContent"]["text"] == "ab [EMAIL]"


@pytest.mark.parametrize(
    "body",
    [b"not json " + PII["ssn"].encode(), b"{", b"[]", b'{"jsonrpc":"2.0","id":1,"method":"tools/call"}', b"\xff\xfe"],
)
def test_malformed_requests_over_http(stateless_server: RunningServer, body: bytes) -> None:
    headers = MCP_HEADERS | {"MCP-Protocol-Version": "2025-11-25"}
    response = httpx2.post(stateless_server.url, content=body, headers=headers, timeout=5)
    assert 200 <= response.status_code < 500, response.text
    assert PII["ssn"] not in response.text
    assert httpx2.get(stateless_server.base + "/healthz", timeout=5).status_code == 200
