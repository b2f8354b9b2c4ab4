"""A tool call in flight, and the HTTP request that carries it, as both the front and the tool see them.

The HTTP front (``mcp_pii.http``) puts an ``Exchange`` in the ASGI scope of every MCP request.
A tool call finds it through the SDK's request context and

- holds the request's ``Ticket`` (bytes and call slot) until the engine has finished;
- registers itself, so that the front can cancel it when the client goes away;
- hands large answers over as JSON text built in a worker thread (``splice``): the SDK then
  carries only a short marker through its session (which keeps the last message it routed
  alive, see the note on issue 12) and serialises nothing large on the event loop; the front
  puts the text in place of the marker as the answer is written.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

import anyio
from mcp.types import CallToolResult, TextContent

from mcp_pii.limits import Ticket

SCOPE_KEY = "mcp_pii.exchange"
SPLICE_PREFIX = "mcp-pii-splice-"


class Call:
    """One running tool call: its cancel scope, and a flag an engine thread can read."""

    def __init__(self) -> None:
        self.scope = anyio.CancelScope()
        self.reason: str | None = None

    @property
    def cancelled(self) -> bool:
        """Whether the call was cancelled (read from the worker thread between steps)."""
        return self.reason is not None

    def cancel(self, reason: str) -> None:
        """Cancel the call; the first reason given is the one the caller hears."""
        if self.reason is None:
            self.reason = reason
            self.scope.cancel()


class Exchange:
    """The state one HTTP request shares with the tool calls it carries."""

    def __init__(self, ticket: Ticket | None, can_splice: bool = True) -> None:
        self.ticket = ticket
        self.can_splice = can_splice
        self.gone = False
        self.calls: set[Call] = set()
        self.pieces: dict[bytes, bytes] = {}
        self.on_answered: Callable[[], None] | None = None

    def answered(self) -> None:
        """The answer has been written (or the request ended): run ``on_answered`` once."""
        hook, self.on_answered = self.on_answered, None
        if hook is not None:
            hook()

    def client_gone(self) -> None:
        """The client closed the request: cancel what it was waiting for, drop prepared answers."""
        self.gone = True
        self.pieces.clear()
        for call in list(self.calls):
            call.cancel("the client went away")

    def splice(self, text_json: str, structured_json: str) -> CallToolResult:
        """A placeholder result whose markers the front replaces with the text and the structured JSON.

        Called from the worker thread that built the answer; the encoded text is kept here until
        the front writes it (or the request ends).
        """
        token = SPLICE_PREFIX + secrets.token_hex(12)
        text_marker, structured_marker = token + "-t", token + "-s"
        self.pieces[json.dumps(text_marker).encode()] = text_json.encode()
        self.pieces[('{"mcp-pii-splice":' + json.dumps(structured_marker) + "}").encode()] = structured_json.encode()
        return CallToolResult(
            content=[TextContent(type="text", text=text_marker)],
            structured_content={"mcp-pii-splice": structured_marker},
        )

    def fill(self, body: bytes) -> list[bytes]:
        """An outgoing body chunk as parts, each prepared answer in place of its marker (no copy of the answers)."""
        if not self.pieces or SPLICE_PREFIX.encode() not in body:
            return [body]
        parts = [body]
        for marker in [m for m in self.pieces if m in body]:
            piece = self.pieces.pop(marker)
            for i, part in enumerate(parts):
                at = part.find(marker)
                if at >= 0 and part is not piece:
                    parts[i : i + 1] = [part[:at], piece, part[at + len(marker) :]]
                    break
        return [p for p in parts if p]


def exchange_of(request: Any) -> Exchange | None:
    """The ``Exchange`` of the HTTP request behind a tool call (None over stdio and in memory)."""
    scope = getattr(request, "scope", None)
    found = scope.get(SCOPE_KEY) if isinstance(scope, dict) else None
    return found if isinstance(found, Exchange) else None
