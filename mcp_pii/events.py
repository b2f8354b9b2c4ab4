"""SSE resumability on Streamable HTTP: a bounded in-memory event store, scoped to sessions.

With an event store, the SDK starts every SSE stream of a POST with a priming event (an id and
``retry``) and gives each message an event id; a client whose stream broke mid-answer reconnects
with ``GET`` and ``Last-Event-ID`` and is sent what it missed.

The SDK hands one store to every session, and names streams by JSON-RPC request id (so two
sessions both have a stream ``"1"``). The HTTP front therefore sets :data:`SESSION` to a key of
the session a request belongs to, and a replay only ever sends events stored under the key of
the session asking. Event ids are random, so one cannot be guessed either.

Bounds: at most ``max_events`` events and ``max_bytes`` of message JSON; the oldest go first. A
large answer that the front wrote in place of a marker (``mcp_pii.exchange``) is not kept: the
store holds an error for its request instead, which asks the client to call again.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass

from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp_types import JSONRPCError, JSONRPCMessage, JSONRPCResponse, jsonrpc_message_adapter

from mcp_pii.exchange import SPLICE_PREFIX


class SessionKey:
    """Identifies one session to the event store (an object, compared by identity)."""

    __slots__ = ("__weakref__",)


# The session of the request being handled (set by the HTTP front for every MCP request).
SESSION: ContextVar[SessionKey | None] = ContextVar("mcp_pii_session", default=None)

# The first protocol version whose clients parse priming events (SEP-1699).
PRIMING_VERSION = "2025-11-25"


def primes(version: str) -> bool:
    """Whether a client of protocol ``version`` gets priming events (dated versions compare as text)."""
    return bool(version) and version >= PRIMING_VERSION


# Milliseconds a client is asked to wait before it reconnects (the `retry` of priming events).
RETRY_MS = 1000
_OVERHEAD = 200  # bytes counted per event besides its message


@dataclass(slots=True)
class _Event:
    session: SessionKey | None
    stream: StreamId
    payload: bytes | None  # message JSON; None for a priming event


def _too_large(message: JSONRPCMessage) -> bytes:
    """The error kept in place of an answer too large to keep."""
    rid = message.id if isinstance(message, (JSONRPCResponse, JSONRPCError)) else None
    error = JSONRPCError(
        jsonrpc="2.0",
        id=rid,
        error={"code": -32603, "message": "The answer was too large to keep for a resumed stream; call again."},
    )
    return error.model_dump_json(by_alias=True, exclude_unset=True).encode()


class BoundedEventStore(EventStore):
    """Events of all sessions in one ordered table, bounded by count and bytes."""

    def __init__(self, max_events: int = 10_000, max_bytes: int = 16 * 1024 * 1024) -> None:
        self.max_events = max_events
        self.max_bytes = max_bytes
        self._events: OrderedDict[EventId, _Event] = OrderedDict()
        self._bytes = 0

    @property
    def count(self) -> int:
        """Events held (no ``__len__``: the SDK tests the store for truth, and an empty one must count)."""
        return len(self._events)

    @property
    def nbytes(self) -> int:
        """Bytes held, as counted against ``max_bytes``."""
        return self._bytes

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        payload = None
        if message is not None:
            payload = message.model_dump_json(by_alias=True, exclude_unset=True).encode()
            if SPLICE_PREFIX.encode() in payload:
                payload = _too_large(message)
        event_id = secrets.token_urlsafe(12)
        self._events[event_id] = _Event(SESSION.get(), stream_id, payload)
        self._bytes += _OVERHEAD + len(payload or b"")
        while self._events and (len(self._events) > self.max_events or self._bytes > self.max_bytes):
            _, old = self._events.popitem(last=False)
            self._bytes -= _OVERHEAD + len(old.payload or b"")
        return event_id

    async def replay_events_after(self, last_event_id: EventId, send_callback: EventCallback) -> StreamId | None:
        last = self._events.get(last_event_id)
        if last is None or last.session is not SESSION.get():
            return None
        after = False
        todo: list[tuple[EventId, bytes]] = []
        for event_id, event in self._events.items():
            if after and event.session is last.session and event.stream == last.stream and event.payload:
                todo.append((event_id, event.payload))
            after = after or event_id == last_event_id
        for event_id, payload in todo:
            await send_callback(EventMessage(jsonrpc_message_adapter.validate_json(payload), event_id))
        return last.stream
