"""Serving over HTTP: the front every request passes, the connection policy, and a prompt shutdown.

The SDK's Streamable HTTP and SSE apps do the MCP part. In front of them, ``Front`` does what a
server facing a gateway or a shared host needs and the SDK leaves open (issue 12):

- exact Host and Origin matching (host and port), a one-line refusal, no traceback;
- the bearer token (any case of ``Bearer``), and ``/healthz`` that says ``ok`` only unless
  authorised; ``/metrics`` (Prometheus text) behind the token;
- admission: a POST takes its bytes and a call slot from the ``Gate`` before its body is read,
  or gets 503 with ``Retry-After`` at once; bodies are counted as they arrive;
- sessions: an idle timeout, and a cap that ends the longest-idle session to make room;
- answers: large ones are put in place of the marker the tool left (``Exchange``), JSON-RPC
  errors lose any quoted input, and a request whose ``id`` is not a string or integer gets
  -32600 instead of the SDK's silent 202;
- a client that goes away cancels the calls it was waiting for.

``serve_http`` runs it on uvicorn with a connection policy of our own (``guarded_protocol``): a
cap on open connections that closes the longest-idle one to make room (and refuses with a 503
line when all are busy), a deadline for a complete request head, the keep-alive timeout, and
``accept()`` failures logged once per interval.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import math
import re
import resource
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from types import FrameType
from typing import Any, Literal

import anyio
import h11
import uvicorn
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from uvicorn.protocols.http.h11_impl import H11Protocol

from mcp_pii import __version__
from mcp_pii.auth import BearerToken
from mcp_pii.events import PRIMING_VERSION, RETRY_MS, SESSION, BoundedEventStore, SessionKey, primes
from mcp_pii.exchange import SCOPE_KEY, Exchange
from mcp_pii.limits import MIB, Busy, Gate
from mcp_pii.logs import Throttled
from mcp_pii.metrics import CONTENT_TYPE, Metrics
from mcp_pii.server import PiiServer

logger = logging.getLogger("mcp_pii.http")

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
WILDCARD_BINDS = ("0.0.0.0", "::", "")
SESSION_HEADER = b"mcp-session-id"
PROTOCOL_HEADER = b"mcp-protocol-version"
# A JSON-RPC error of the SDK whose text quotes the rejected input gets a fixed text instead.
QUOTING_ERRORS = {
    -32700: "Parse error: the body is not valid JSON",
    -32602: "Invalid params: not a valid JSON-RPC message",
}
BAD_ID = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32600, "message": "Invalid Request: bad id"},
    }
).encode()


@dataclass(frozen=True)
class HttpOptions:
    """How to serve over HTTP."""

    transport: Literal["http", "sse"] = "http"
    host: str = "127.0.0.1"
    port: int = 8765
    stateless: bool = False
    json_response: bool = False
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    auth_token: str | None = None
    max_body_bytes: int = 16 * 1024 * 1024


_HOST = re.compile(r"(?P<name>\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(?P<port>[0-9]{1,5}|\*))?")
_ORIGIN = re.compile(r"(?P<scheme>https?)://(?P<host>.+)")


def _split_host(text: str, wildcard: bool = False) -> tuple[str, str | None] | None:
    """``name[:port]`` as (name, port or None), or None if it is not exactly that (lower case)."""
    match = _HOST.fullmatch(text.strip().lower())
    if match is None or (match["port"] == "*" and not wildcard):
        return None
    return match["name"], match["port"]


class AllowedPeers:
    """Host and Origin header values to accept: parsed and compared exactly, name and port.

    Accepted hosts: the loopback names and the bind address with this server's port (bare too
    when the port is 80), and each ``--allowed-host``: ``name:port`` exactly, ``name`` with this
    server's port or none, ``name:*`` with any explicit port. Accepted origins: ``http(s)://`` each
    accepted host, and each ``--allowed-origin`` (``scheme://name[:port]``, or ``:*`` for any
    port). A value that does not parse as a plain name and number (``127.0.0.1:8080@evil``,
    ``localhost:8080.evil``) is refused; the SDK matched such values by prefix.
    """

    def __init__(self, bind: str, port: int, hosts: Iterable[str] = (), origins: Iterable[str] = ()) -> None:
        bind_name = f"[{bind}]" if ":" in bind and not bind.startswith("[") else bind
        names = [*LOOPBACK_NAMES, *([] if bind in WILDCARD_BINDS or bind_name in LOOPBACK_NAMES else [bind_name])]
        self.hosts: set[tuple[str, str | None]] = {(n.lower(), str(port)) for n in names}
        if port == 80:
            self.hosts.update((n.lower(), None) for n in names)
        self.any_port: set[str] = set()
        for given in hosts:
            parsed = _split_host(given, wildcard=True)
            if parsed is None:
                raise ValueError("--allowed-host takes a host name or address, with an optional :port or :*")
            name, given_port = parsed
            if given_port == "*":
                self.any_port.add(name)
            elif given_port is None:
                self.hosts.update({(name, None), (name, str(port))})
            else:
                self.hosts.add((name, given_port))
        self.origins: set[tuple[str, str, str | None]] = {
            (scheme, name, p) for name, p in self.hosts for scheme in ("http", "https")
        }
        self.origin_any_port = {(scheme, name) for name in self.any_port for scheme in ("http", "https")}
        for given in origins:
            match = _ORIGIN.fullmatch(given.strip().lower().rstrip("/"))
            parsed = _split_host(match["host"], wildcard=True) if match else None
            if match is None or parsed is None:
                raise ValueError("--allowed-origin takes scheme://host[:port] (or :* for any port)")
            if parsed[1] == "*":
                self.origin_any_port.add((match["scheme"], parsed[0]))
            else:
                self.origins.add((match["scheme"], *parsed))

    def host(self, value: str) -> bool:
        """Whether a Host header value is accepted."""
        parsed = _split_host(value)
        return parsed is not None and (parsed in self.hosts or (parsed[1] is not None and parsed[0] in self.any_port))

    def origin(self, value: str) -> bool:
        """Whether an Origin header value is accepted."""
        match = _ORIGIN.fullmatch(value.strip().lower())
        parsed = _split_host(match["host"]) if match else None
        if match is None or parsed is None:
            return False
        exact = (match["scheme"], *parsed) in self.origins
        return exact or (parsed[1] is not None and (match["scheme"], parsed[0]) in self.origin_any_port)


def _valid_id(value: object) -> bool:
    """A JSON-RPC id as MCP allows it: a string, or an integer (not a bool, not null, not a float)."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


async def _plain(
    send: Send,
    status: int,
    body: bytes,
    headers: Iterable[tuple[bytes, bytes]] = (),
    content_type: bytes = b"application/json",
) -> None:
    """A complete answer, JSON unless said otherwise (the body is a text of ours, never a client's)."""
    start_headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": start_headers})
    await send({"type": "http.response.body", "body": body})


METRICS_TYPE = CONTENT_TYPE.encode()

# Largest piece of an answer handed to uvicorn at once: a 20 MB answer written in one piece is
# copied twice on the event loop (h11's framing, the transport's buffer) and stalls it for
# 100 ms and more; in pieces, the transport's flow control lets other clients in between.
SEND_PIECE = 256 * 1024


async def _send_parts(send: Send, parts: list[bytes], more: bool) -> None:
    """Send body parts in pieces of at most SEND_PIECE bytes; ``more`` as the last one's more_body."""
    pieces = [memoryview(p)[i : i + SEND_PIECE] for p in parts for i in range(0, len(p), SEND_PIECE)]
    if not pieces:
        pieces = [memoryview(b"")]
    for n, piece in enumerate(pieces):
        await send({"type": "http.response.body", "body": bytes(piece), "more_body": more or n < len(pieces) - 1})


def _with_length(start: Message, length: int) -> Message:
    headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
    return {**start, "headers": [*headers, (b"content-length", str(length).encode())]}


def _asked_version(request: bytes) -> str:
    """The protocol version an initialize request asks for ("" when there is none)."""
    try:
        version = json.loads(request).get("params", {}).get("protocolVersion", "")
    except (ValueError, AttributeError):
        return ""
    return version if isinstance(version, str) else ""


def _primed(scope: Scope) -> Scope:
    """A request of a session that negotiated 2025-11-25 or later, with its protocol header saying so.

    The SDK starts a POST's SSE stream with a priming event (an id and ``retry``) only when the
    request's ``MCP-Protocol-Version`` header is 2025-11-25 or later, since older clients cannot
    parse its empty data. A client that negotiated a version with priming can parse it, whatever
    an individual request's header says (the conformance suite sends 2025-03-26 on such a
    session); the header of an older handshake version is raised to the first version that primes.
    """
    header = _header(scope, PROTOCOL_HEADER)
    value = header.decode("latin-1") if header is not None else ""
    if primes(value) or value not in HANDSHAKE_PROTOCOL_VERSIONS:
        return scope
    headers = [(k, v) for k, v in scope["headers"] if k.lower() != PROTOCOL_HEADER]
    return {**scope, "headers": [*headers, (PROTOCOL_HEADER, PRIMING_VERSION.encode())]}


def _error(message: str) -> bytes:
    return json.dumps({"error": message}).encode()


@dataclass
class _Session:
    last: float
    busy: int = 0


@dataclass
class Sessions:
    """Stateful sessions as the front sees them: when each was last used, how many requests it has open."""

    manager: Callable[[], Any]
    cap: int
    table: dict[str, _Session] = field(default_factory=dict)
    keys: dict[str, SessionKey] = field(default_factory=dict)  # for the event store (mcp_pii.events)
    resumable: set[str] = field(default_factory=set)  # sessions that negotiated priming events

    def _live(self) -> dict[str, Any]:
        manager = self.manager()
        return manager._server_instances if manager is not None else {}

    def count(self) -> int:
        return len(self._live())

    def touch(self, sid: str, delta: int) -> None:
        entry = self.table.get(sid)
        if entry is None and sid in self._live():
            entry = self.table[sid] = _Session(time.monotonic())
        if entry is not None:
            entry.busy += delta
            entry.last = time.monotonic()

    def opened(self, sid: str, request: bytes) -> None:
        self.table[sid] = _Session(time.monotonic())
        key = SESSION.get()
        if key is not None:
            self.keys[sid] = key
        if primes(_asked_version(request)):
            self.resumable.add(sid)

    def key(self, sid: str) -> SessionKey:
        """The event-store key of a session (a fresh one for a new or unknown session)."""
        return self.keys.get(sid) or SessionKey()

    async def make_room(self, gate: Gate) -> bool:
        """Before a new session: end the longest-idle one while at the cap; False if every one is busy."""
        live = self._live()
        for sid in [s for s in self.table if s not in live]:
            del self.table[sid]
        for sid in [s for s in self.keys if s not in live]:
            del self.keys[sid]
        self.resumable &= set(live)
        while len(live) >= self.cap:
            idle = [(e.last, sid) for sid, e in self.table.items() if e.busy == 0 and sid in live]
            if not idle:
                return False
            _, sid = min(idle)
            del self.table[sid]
            transport = live.get(sid)
            if transport is not None:
                await transport.terminate()
                live.pop(sid, None)
            gate.sessions_evicted += 1
        return True


class Front:
    """ASGI middleware in front of the SDK's app (see the module docstring)."""

    def __init__(
        self,
        app: Any,
        gate: Gate,
        opts: HttpOptions,
        *,
        port: int,
        implementation: str,
        manager: Callable[[], Any],
        metrics: Metrics | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.gate = gate
        self.opts = opts
        self.implementation = implementation
        self.peers = AllowedPeers(opts.host, port, opts.allowed_hosts, opts.allowed_origins)
        self.token = BearerToken(opts.auth_token) if opts.auth_token else None
        self.sessions = (
            Sessions(manager, gate.limits.max_sessions) if opts.transport == "http" and not opts.stateless else None
        )
        gate.open_sessions = self.sessions.count if self.sessions else (lambda: 0)
        self.mcp_paths = ("/mcp", "/mcp/") if opts.transport == "http" else ("/sse", "/messages", "/messages/")
        self._refusals = Throttled(logger)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self.peers.host((_header(scope, b"host") or b"").decode("latin-1")):
            self._refusals.warning("refused a request: Host header not allowed")
            await _plain(send, 421, _error("Host header not allowed"))
            return
        origin = _header(scope, b"origin")
        if origin is not None and not self.peers.origin(origin.decode("latin-1")):
            self._refusals.warning("refused a request: Origin header not allowed")
            await _plain(send, 403, _error("Origin not allowed"))
            return
        authorised = self.token is None or self.token.accepts(_header(scope, b"authorization"))
        path, method = scope.get("path", ""), scope.get("method", "")
        if path == "/healthz" and method in ("GET", "HEAD"):
            await self._healthz(send, authorised)
            return
        if not authorised:
            await _plain(
                send,
                401,
                json.dumps({"error": "unauthorized", "detail": "send Authorization: Bearer <token>"}).encode(),
                [(b"www-authenticate", b"Bearer")],
            )
            return
        if path == "/healthz":
            await _plain(send, 405, _error("method not allowed"), [(b"allow", b"GET, HEAD")])
            return
        if path == "/metrics" and self.metrics is not None:
            if method == "GET":
                await _plain(send, 200, self.metrics.exposition(), content_type=METRICS_TYPE)
            else:
                await _plain(send, 405, _error("method not allowed"), [(b"allow", b"GET")])
            return
        if path not in self.mcp_paths:
            await _plain(send, 404, _error("not found"))
            return
        sid = (_header(scope, SESSION_HEADER) or b"").decode("latin-1")
        if self.sessions is not None and sid:
            self.sessions.touch(sid, +1)
        session = SESSION.set(self.sessions.key(sid) if self.sessions is not None else None)
        if self.sessions is not None and sid in self.sessions.resumable:
            scope = _primed(scope)
        try:
            if method == "POST":
                await self._post(scope, receive, send, opening=not sid)
            else:
                await self.app(scope, receive, send)
        finally:
            SESSION.reset(session)
            if self.sessions is not None and sid:
                self.sessions.touch(sid, -1)

    async def _healthz(self, send: Send, authorised: bool) -> None:
        body: dict[str, Any] = {"status": "ok"}
        if authorised:
            body |= {"version": __version__, "implementation": self.implementation, "load": self.gate.snapshot()}
        await _plain(send, 200, json.dumps(body).encode())

    async def _busy(self, send: Send, exc: Busy) -> None:
        self._refusals.warning(f"refused a request: {exc.reason} in flight at the limit")
        headers = [(b"retry-after", str(exc.retry_after).encode())]
        await _plain(send, 503, _error(f"busy: {exc.reason} in flight at the limit; retry later"), headers)

    async def _post(self, scope: Scope, receive: Receive, send: Send, opening: bool) -> None:
        declared = _header(scope, b"content-length")
        length = int(declared) if declared is not None and declared.isdigit() else None
        if declared is not None and length is None:
            await _plain(send, 400, _error("invalid Content-Length"))
            return
        if length is not None and length > self.opts.max_body_bytes:
            await _plain(send, 413, _error("request body too large"))
            return
        try:
            ticket = self.gate.admit(length or 0)
        except Busy as exc:
            await self._busy(send, exc)
            return
        exchange = Exchange(ticket)
        exchange.on_answered = ticket.release  # the request's own hold ends with its answer
        try:
            body = await self._read_body(receive, send, length, exchange)
            if body is None:
                return
            if opening and self.sessions is not None and not await self.sessions.make_room(self.gate):
                await self._busy(send, Busy("sessions", self.gate.limits.retry_after_seconds))
                return
            await self._forward(scope, receive, send, body, exchange, opening)
        finally:
            exchange.pieces.clear()
            exchange.answered()

    async def _read_body(self, receive: Receive, send: Send, length: int | None, exchange: Exchange) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                exchange.client_gone()
                return None
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.opts.max_body_bytes:
                await _plain(send, 413, _error("request body too large"))
                return None
            if length is None and chunk and exchange.ticket is not None and not exchange.ticket.grow(len(chunk)):
                await self._busy(send, Busy("bytes", self.gate.limits.retry_after_seconds))
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _forward(  # noqa: PLR0917 (an ASGI call plus what _post has read)
        self, scope: Scope, receive: Receive, send: Send, body: bytes, exchange: Exchange, opening: bool
    ) -> None:
        """Hand the request to the SDK with the body read; watch for the client leaving; fix up the answer."""
        scope = dict(scope)
        # Over SSE the answer leaves on the GET stream, not this POST's: the call shares the
        # ticket but neither splicing nor the end of this (at once answered) request.
        scope[SCOPE_KEY] = exchange if self.opts.transport == "http" else Exchange(exchange.ticket, can_splice=False)
        gone = anyio.Event()
        done = False
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                await anyio.sleep(0)  # let other clients in between reading a large body and parsing it
                return {"type": "http.request", "body": body, "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def watch() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    if not done:
                        exchange.client_gone()
                    gone.set()
                    return

        held: Message | None = None
        held_body: list[bytes] = []

        async def out(message: Message) -> None:
            nonlocal held, done
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                if opening and self.sessions is not None:
                    for key, value in headers:
                        if key.lower() == SESSION_HEADER:
                            self.sessions.opened(value.decode("latin-1"), body)
                if status == 202 or status >= 400 or any(k.lower() == b"content-length" for k, _ in headers):
                    held = {**message, "headers": headers}
                    return
                await send(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            parts = exchange.fill(message.get("body", b""))
            more = message.get("more_body", False)
            if held is None:
                await _send_parts(send, parts, more)
                if not more:
                    done = True
                    exchange.answered()
                return
            held_body.extend(parts)
            if more:
                return
            done = True
            start, held = held, None
            if start["status"] == 202 or start["status"] >= 400:  # small answers of the SDK's own
                start, whole = self._fix(start, b"".join(held_body), body)
                held_body[:] = [whole]
            else:
                start = _with_length(start, sum(len(p) for p in held_body))
            await send(start)
            await _send_parts(send, held_body, False)
            exchange.answered()

        async with anyio.create_task_group() as tg:
            tg.start_soon(watch)
            try:
                await self.app(scope, replay, out)
            finally:
                done = True
                tg.cancel_scope.cancel()

    @staticmethod
    def _fix(start: Message, whole: bytes, request: bytes) -> tuple[Message, bytes]:
        """A complete answer, corrected: -32600 for a bad id, no quoted input in errors, the right length."""
        status = start["status"]
        if status == 202 and b'"id"' in request:
            try:
                message = json.loads(request)
            except ValueError:
                message = None
            if isinstance(message, dict) and "method" in message and "id" in message and not _valid_id(message["id"]):
                status, whole = 400, BAD_ID
        elif status >= 400 and whole.startswith(b"{"):
            try:
                answer = json.loads(whole)
            except ValueError:
                answer = None
            error = answer.get("error") if isinstance(answer, dict) else None
            if isinstance(error, dict) and error.get("code") in QUOTING_ERRORS:
                error["message"] = QUOTING_ERRORS[error["code"]]
                error.pop("data", None)
                whole = json.dumps(answer).encode()
        headers = [(k, v) for k, v in start["headers"] if k.lower() not in (b"content-length", b"content-type")]
        content_type = next((v for k, v in start["headers"] if k.lower() == b"content-type"), b"application/json")
        if status != start["status"]:
            content_type = b"application/json"
        headers += [(b"content-type", content_type), (b"content-length", str(len(whole)).encode())]
        return {**start, "status": status, "headers": headers}, whole


def guarded_protocol(gate: Gate) -> type[H11Protocol]:
    """uvicorn's h11 protocol with our connection policy (see the module docstring)."""
    limits = gate.limits
    refusals = Throttled(logger)
    refusal = (
        b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\n"
        b"retry-after: %d\r\ncontent-length: %d\r\n\r\n"
    )
    refusal_body = _error("too many connections; retry later")
    refusal = refusal % (limits.retry_after_seconds, len(refusal_body)) + refusal_body

    class Guarded(H11Protocol):
        _idle_since = 0.0
        _head_timer: asyncio.TimerHandle | None = None

        def _waiting(self) -> bool:
            """No request in progress: between requests, or a head not yet complete."""
            return (self.cycle is None or self.cycle.response_complete) and self.conn.their_state is h11.IDLE

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._idle_since = time.monotonic()
            if len(self.connections) > limits.max_connections:
                others = [c for c in self.connections if c is not self and isinstance(c, Guarded) and c._waiting()]
                if not others:
                    gate.connections_refused += 1
                    refusals.warning("refused a connection: all connections busy")
                    transport.write(refusal)
                    transport.close()
                    return
                oldest = min(others, key=lambda c: c._idle_since)
                oldest.transport.close()
                gate.connections_evicted += 1
            self._arm()

        def _arm(self) -> None:
            self._disarm()
            self._head_timer = self.loop.call_later(limits.header_timeout, self._head_timeout)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timeout(self) -> None:
            self._head_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

        def handle_events(self) -> None:
            super().handle_events()
            if self.conn.their_state is not h11.IDLE:
                self._disarm()

        def on_response_complete(self) -> None:
            self._idle_since = time.monotonic()
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return Guarded


def accept_errors(throttled: Throttled) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
    """An asyncio exception handler: accept() failures once per interval, others one line, no values."""

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        kind = type(exc).__name__ if exc is not None else "no exception"
        message = str(context.get("message", "event loop error")).split("\n", 1)[0][:120]
        if "accept" in message:
            throttled.warning(f"accept() failed: {kind} (errno {getattr(exc, 'errno', '?')})")
        else:
            logger.error("event loop: %s [%s]", message, kind)

    return handle


def _raise_fd_limit(gate: Gate) -> int:
    """Raise the soft file-descriptor limit to the hard one; the connection cap must stay below it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    room = soft - 64
    if gate.limits.max_connections > room:
        logger.warning("max connections lowered to %d: the file-descriptor limit is %d", max(room, 1), soft)
    return soft


def build_app(mcp: PiiServer, opts: HttpOptions, gate: Gate, port: int) -> Front:
    """The ASGI app for an HTTP transport: the SDK's app behind the front."""
    # The front checks Host and Origin exactly; the SDK's check (prefix matching of wildcard ports,
    # values in its log lines) is off.
    sdk_security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    app: Any
    manager: Callable[[], Any] = lambda: None  # noqa: E731
    if opts.transport == "sse":
        app = mcp.sse_app(transport_security=sdk_security, max_request_body_size=opts.max_body_bytes, host=opts.host)
    else:
        # Resumable SSE streams need a session to resume in, and SSE answers.
        resumable = not opts.stateless and not opts.json_response
        app = mcp.streamable_http_app(
            stateless_http=opts.stateless,
            json_response=opts.json_response,
            event_store=BoundedEventStore() if resumable else None,
            retry_interval=RETRY_MS if resumable else None,
            transport_security=sdk_security,
            max_request_body_size=opts.max_body_bytes,
            host=opts.host,
            session_idle_timeout=gate.limits.session_idle_minutes * 60,
            max_sessions=None,
        )
        manager = lambda: mcp._lowlevel_server._session_manager  # noqa: E731
        # The front reads and limits every body already; the SDK's limit middleware would copy
        # each one twice more on the event loop (a bytearray, then bytes).
        sdk_manager = manager()
        if sdk_manager is not None:
            sdk_manager.asgi_app = sdk_manager._handle_request  # type: ignore[assignment]
    return Front(
        app, gate, opts, port=port, implementation=mcp.engine_implementation, manager=manager, metrics=mcp.metrics
    )


async def pace_collections(gate: Gate, every: float = 1.0, defer_at_most: float = 10.0) -> None:
    """Run the cyclic garbage collector from the event loop, between large calls rather than inside them.

    A large answer means hundreds of thousands of new objects; the automatic collector then
    runs in the middle of building it and, scanning them all, holds the GIL for 100-200 ms in
    which no other client is served. Here collections of the younger generations run every
    ``every`` seconds and a full one every minute, but not while more than 1 MiB of requests is
    in flight, unless they have been put off for ``defer_at_most`` seconds. (Reference counting
    frees everything else at once, as before; only cycles wait.)
    """
    gc.freeze()  # what start-up built lives for good: no collection needs to scan it again
    gc.disable()
    last = last_full = time.monotonic()
    try:
        while True:
            await asyncio.sleep(every)
            now = time.monotonic()
            if gate.inflight_bytes > MIB and now - last < defer_at_most:
                continue
            full = now - last_full > 60
            gc.collect(2 if full else 1)
            last = now
            last_full = now if full else last_full
    finally:
        gc.enable()


class _Uvicorn(uvicorn.Server):
    """uvicorn's server that, on SIGTERM or SIGINT, first cancels every call in flight and lets it answer.

    uvicorn's own shutdown (and sse_starlette's, which watches it) ends every open response
    stream at once, so a client waiting for a call would get its 200 and then nothing. Here the
    signal first closes the gate (new requests get 503, calls in flight are cancelled: queued
    ones at once, running ones when the engine returns) and waits up to ``grace`` seconds for
    their error answers to be written; then uvicorn stops as usual.
    """

    def __init__(
        self, config: uvicorn.Config, gate: Gate, grace: float = 3.0, on_listening: Callable[[], None] = lambda: None
    ) -> None:
        super().__init__(config)
        self.gate = gate
        self.grace = grace
        self.on_listening = on_listening
        self.loop: asyncio.AbstractEventLoop | None = None
        self._draining = False

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        self.loop.set_exception_handler(accept_errors(Throttled(logger)))
        pacer = self.loop.create_task(pace_collections(self.gate))
        try:
            await super().serve(sockets)
        finally:
            pacer.cancel()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:  # the application started and the sockets accept connections
            self.on_listening()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._draining or self.loop is None or self.loop.is_closed():
            super().handle_exit(sig, frame)
            return
        self._draining = True
        self.loop.call_soon_threadsafe(self._drain, sig, frame)

    def _drain(self, sig: int, frame: FrameType | None) -> None:
        self.gate.close("the server is shutting down")
        assert self.loop is not None
        self.loop.create_task(self._exit_when_answered(sig, frame))

    async def _exit_when_answered(self, sig: int, frame: FrameType | None) -> None:
        deadline = time.monotonic() + self.grace
        while self.gate.inflight_calls and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        super().handle_exit(sig, frame)


def serve_http(mcp: PiiServer, opts: HttpOptions, gate: Gate) -> None:
    """Serve over Streamable HTTP or SSE until SIGTERM or SIGINT; print the URL once listening."""
    soft = _raise_fd_limit(gate)
    family = socket.AF_INET6 if ":" in opts.host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio turns TCP_NODELAY on only for such sockets, and without it
    # small responses wait on Nagle's algorithm and delayed ACKs (~40 ms a call).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((opts.host, opts.port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"mcp-pii: error: cannot listen on {opts.host}:{opts.port}: {exc.strerror}") from None
    port = sock.getsockname()[1]
    if gate.limits.max_connections > soft - 64:
        from dataclasses import replace  # noqa: PLC0415

        gate.limits = replace(gate.limits, max_connections=max(soft - 64, 1))
    app = build_app(mcp, opts, gate, port)
    shown = f"[{opts.host}]" if ":" in opts.host else opts.host
    kind = "SSE" if opts.transport == "sse" else "Streamable HTTP" + (" (stateless)" if opts.stateless else "")
    path = "/sse" if opts.transport == "sse" else "/mcp"
    config = uvicorn.Config(
        app,
        http=guarded_protocol(gate),
        log_config=None,
        log_level="warning",
        access_log=False,
        server_header=False,
        lifespan="on",
        timeout_keep_alive=math.ceil(gate.limits.keep_alive_timeout),
        timeout_graceful_shutdown=3,
        backlog=min(2048, max(128, gate.limits.max_connections)),
    )
    url = f"http://{shown}:{port}{path}"
    # Printed only once the socket accepts connections: a client started on this line connects at once.
    announce = partial(print, f"mcp-pii {__version__}: {kind} at {url}", file=sys.stderr, flush=True)
    _Uvicorn(config, gate, on_listening=announce).run(sockets=[sock])
