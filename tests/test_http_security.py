"""HTTP hardening beyond tests/test_server_transports.py: --allowed-origin, the bearer token from
MCP_PII_AUTH_TOKEN, a 401 for every path and method without it (GET /healthz excepted), and the
request body limit at its boundary, streamed, and over SSE.

The servers (``mcp-pii serve`` subprocesses on 127.0.0.1, port 0) start together for the module.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from servers import INITIALIZE, PII, RunningServer, running_servers

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
ENV_TOKEN = "env-t0ken-Zq7"
FLAG_TOKEN = "flag-t0ken-Zq7"
BODY_LIMIT = 4096

FLEET: dict[str, tuple[list[str], dict[str, str] | None]] = {
    "origins": (
        [
            "--transport",
            "http",
            "--allowed-origin",
            "https://gateway.example",
            "--allowed-origin",
            "http://app.internal:*",
        ],
        None,
    ),
    "env-token": (["--transport", "http"], {"MCP_PII_AUTH_TOKEN": ENV_TOKEN}),
    "flag-token": (["--transport", "http", "--auth-token", FLAG_TOKEN], {"MCP_PII_AUTH_TOKEN": ENV_TOKEN}),
    "sse-token": (["--transport", "sse"], {"MCP_PII_AUTH_TOKEN": ENV_TOKEN}),
    "small-body": (
        ["--transport", "http", "--stateless", "--json-response", "--max-body-bytes", str(BODY_LIMIT)],
        None,
    ),
    "sse-small-body": (["--transport", "sse", "--max-body-bytes", str(BODY_LIMIT)], None),
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def fleet() -> Iterator[dict[str, RunningServer]]:
    with running_servers(*FLEET.values()) as servers:
        yield dict(zip(FLEET, servers, strict=True))


# --- allowed origins ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "status"),
    [
        (None, 200),  # no Origin: not a browser, or same-origin
        ("https://gateway.example", 200),  # --allowed-origin, exactly
        ("http://app.internal:3000", 200),  # --allowed-origin with a port wildcard
        ("http://app.internal:8443", 200),
        ("http://localhost:5173", 403),  # a loopback origin on another port is another origin (issue 12)
        ("http://127.0.0.1:8080", 403),
        ("http://app.internal:3000.evil.example", 403),  # the SDK matched wildcard ports by prefix
        ("http://app.internal:3000@evil.example", 403),
        ("https://gateway.example:8443", 403),  # an exact entry does not allow other ports
        ("http://gateway.example", 403),  # ...nor the other scheme
        ("https://gateway.example.evil.test", 403),  # ...nor a longer name
        ("https://evil.gateway.example", 403),
        ("http://app.internal", 403),  # the wildcard entry wants a port
        ("https://app.internal:3000", 403),
        ("null", 403),  # sandboxed frames and file:// pages
        ("http://evil.example", 403),
    ],
)
def test_allowed_origins(fleet: dict[str, RunningServer], origin: str | None, status: int) -> None:
    headers = dict(MCP_HEADERS)
    if origin is not None:
        headers["Origin"] = origin
    response = httpx2.post(fleet["origins"].url, json=INITIALIZE, headers=headers, timeout=5)
    assert response.status_code == status, response.text
    if status == 200:
        assert '"serverInfo"' in response.text


def test_origin_is_checked_without_allowed_origins(fleet: dict[str, RunningServer]) -> None:
    # A server started without --allowed-origin refuses the origin the other one allows.
    headers = MCP_HEADERS | {"Origin": "https://gateway.example"}
    response = httpx2.post(fleet["small-body"].url, json=INITIALIZE, headers=headers, timeout=5)
    assert response.status_code == 403


async def test_allowed_origin_with_a_client(fleet: dict[str, RunningServer]) -> None:
    http = httpx2.AsyncClient(headers={"Origin": "https://gateway.example"})
    async with Client(streamable_http_client(fleet["origins"].url, http_client=http)) as client:
        result = await client.call_tool("mask_pii", {"text": f"x {PII['email']}"})
        assert result.structured_content["text"] == "x [EMAIL]"  # type: ignore[index]


# --- bearer token from the environment ----------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("server", "good", "bad"),
    [("env-token", ENV_TOKEN, FLAG_TOKEN), ("flag-token", FLAG_TOKEN, ENV_TOKEN)],
    ids=["from-env", "flag-over-env"],
)
def test_token_source(fleet: dict[str, RunningServer], server: str, good: str, bad: str) -> None:
    # MCP_PII_AUTH_TOKEN alone turns the check on; --auth-token, when given, wins over it.
    url = fleet[server].url
    assert httpx2.post(url, json=INITIALIZE, headers=MCP_HEADERS, timeout=5).status_code == 401
    assert httpx2.post(url, json=INITIALIZE, headers=MCP_HEADERS | bearer(bad), timeout=5).status_code == 401
    response = httpx2.post(url, json=INITIALIZE, headers=MCP_HEADERS | bearer(good), timeout=5)
    assert response.status_code == 200, response.text
    assert '"serverInfo"' in response.text


async def test_env_token_with_a_client(fleet: dict[str, RunningServer]) -> None:
    http = httpx2.AsyncClient(headers=bearer(ENV_TOKEN))
    async with Client(streamable_http_client(fleet["env-token"].url, http_client=http)) as client:
        result = await client.call_tool("mask_pii", {"text": f"x {PII['ssn']}"})
        assert result.structured_content["text"] == "x [SSN]"  # type: ignore[index]


def test_token_is_not_printed(fleet: dict[str, RunningServer]) -> None:
    for name in ("env-token", "flag-token", "sse-token"):
        assert ENV_TOKEN not in fleet[name].stderr
        assert FLAG_TOKEN not in fleet[name].stderr


# --- 401 everywhere but GET /healthz ------------------------------------------------------------------

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
PATHS = ["/mcp", "/mcp/", "/", "/healthz/", "/HEALTHZ", "/healthz/x", "/nope", "/sse", "/messages/", "/.well-known/x"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("server", ["env-token", "sse-token"])
def test_401_for_every_path_and_method(fleet: dict[str, RunningServer], server: str, path: str) -> None:
    base = fleet[server].base
    with httpx2.Client(timeout=5) as http:
        for method in METHODS:
            response = http.request(method, base + path, headers=MCP_HEADERS)
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.headers["www-authenticate"] == "Bearer"
            if method != "HEAD":
                assert response.json()["error"] == "unauthorized"


@pytest.mark.parametrize("server", ["env-token", "sse-token"])
def test_only_get_healthz_is_open(fleet: dict[str, RunningServer], server: str) -> None:
    base = fleet[server].base
    with httpx2.Client(timeout=5) as http:
        assert http.get(base + "/healthz").json()["status"] == "ok"
        assert http.get(base + "/healthz?verbose=1").status_code == 200
        assert http.head(base + "/healthz").status_code == 200
        # Regression: any method on /healthz used to pass the token check (the path alone was
        # exempt), reaching the app without a token.
        for method in ("POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
            assert http.request(method, base + "/healthz").status_code == 401, method
        # With the token, the same requests reach the app (which only has GET there).
        assert http.post(base + "/healthz", headers=bearer(ENV_TOKEN)).status_code == 405


def test_sse_with_the_token(fleet: dict[str, RunningServer]) -> None:
    # The event stream opens with the token (and without it is 401, above).
    with httpx2.stream("GET", fleet["sse-token"].url, headers=bearer(ENV_TOKEN), timeout=5) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: "):
                assert line.startswith("data: /messages/?session_id=")
                break


# --- request body limit ---------------------------------------------------------------------------


def call_of_size(size: int) -> bytes:
    """A mask_pii call whose JSON body is exactly ``size`` bytes."""

    def body(pad: int) -> bytes:
        call = {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "tools/call",
            "params": {"name": "mask_pii", "arguments": {"text": f"{PII['email']} " + "x" * pad}},
        }
        return json.dumps(call).encode()

    out = body(size - len(body(0)))
    assert len(out) == size
    return out


PROTOCOL = MCP_HEADERS | {"MCP-Protocol-Version": "2025-11-25"}


def test_body_at_the_limit_passes(fleet: dict[str, RunningServer]) -> None:
    response = httpx2.post(fleet["small-body"].url, content=call_of_size(BODY_LIMIT), headers=PROTOCOL, timeout=5)
    assert response.status_code == 200, response.text
    assert response.json()["result"]["structuredContent"]["text"].startswith("[EMAIL] xxx")


def test_body_one_byte_over_is_413(fleet: dict[str, RunningServer]) -> None:
    response = httpx2.post(fleet["small-body"].url, content=call_of_size(BODY_LIMIT + 1), headers=PROTOCOL, timeout=5)
    assert response.status_code == 413
    assert PII["email"] not in response.text


def test_streamed_body_over_the_limit_is_413(fleet: dict[str, RunningServer]) -> None:
    # Without a Content-Length (chunked), the limit is counted as the body arrives.
    body = call_of_size(BODY_LIMIT * 4)

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(body), 1000):
            yield body[i : i + 1000]

    response = httpx2.post(fleet["small-body"].url, content=chunks(), headers=PROTOCOL, timeout=5)
    assert response.status_code == 413
    assert PII["email"] not in response.text
    # ...and a streamed body under the limit passes.
    small = call_of_size(BODY_LIMIT - 100)
    response = httpx2.post(fleet["small-body"].url, content=iter([small[:50], small[50:]]), headers=PROTOCOL, timeout=5)
    assert response.status_code == 200, response.text


def test_body_limit_over_sse(fleet: dict[str, RunningServer]) -> None:
    # The limit applies to the SSE transport's message endpoint too.
    server = fleet["sse-small-body"]
    with httpx2.Client(timeout=5) as http, http.stream("GET", server.url) as stream:
        events = stream.iter_lines()  # kept: dropping the iterator would close the stream (and session)
        endpoint = next(line for line in events if line.startswith("data: "))[len("data: ") :]
        url = server.base + endpoint
        headers = {"Content-Type": "application/json"}
        assert http.post(url, content=call_of_size(BODY_LIMIT + 1), headers=headers).status_code == 413
        # ...and the session is still there for a message within the limit.
        assert http.post(url, content=json.dumps(INITIALIZE).encode(), headers=headers).status_code == 202
