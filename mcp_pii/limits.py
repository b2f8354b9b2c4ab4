"""What a server lets its clients hold at once, and the one place that counts it.

Every resource a client can make the server hold has a cap here: request bytes and calls in
flight (a call past either cap is refused at once, never queued), engine work running at the
same time, open sessions and open connections. ``Gate`` is the live state: it admits or refuses
calls and keeps the counters (in flight, refused by reason, sessions, connections) that the
health check shows and that metrics can read from this one object.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

MIB = 1024 * 1024


def _cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Limits:
    """The caps, with defaults sized for a 2-core host with a few GiB of memory.

    A call's memory is a multiple of its request size (the text, the masked copy, the
    detections, the answer), measured at about 9x for a 9 MB ``mask_pii`` of dense PII; so 48 MiB
    of requests in flight keeps the peak near 100 MiB + 9 x 48 MiB, about 550 MiB (481 MiB
    measured for 16 concurrent 9 MB calls, 5 admitted; see the README's "Serving under load").
    """

    max_inflight_bytes: int = 48 * MIB
    max_inflight_calls: int = 32
    engine_threads: int = field(default_factory=_cpus)
    max_sessions: int = 1000
    session_idle_minutes: float = 5.0
    max_connections: int = 512
    header_timeout: float = 10.0
    keep_alive_timeout: float = 5.0
    retry_after_seconds: int = 2

    def __post_init__(self) -> None:
        for name in ("max_inflight_bytes", "max_inflight_calls", "engine_threads", "max_sessions", "max_connections"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("session_idle_minutes", "header_timeout", "keep_alive_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")


class Cancellable(Protocol):
    """A call in flight that the gate can cancel."""

    def cancel(self, reason: str) -> None: ...


class Busy(Exception):
    """A call was refused: ``reason`` is ``calls``, ``bytes``, ``sessions`` at their cap, or ``shutdown``."""

    def __init__(self, reason: str, retry_after: int) -> None:
        what = "the server is shutting down" if reason == "shutdown" else f"{reason} in flight at the limit"
        super().__init__(f"Server busy: {what}; retry in {retry_after} s")
        self.reason = reason
        self.retry_after = retry_after


class Ticket:
    """Bytes and a call slot held in the gate until every holder has let go.

    The HTTP front takes a ticket for a request before reading its body; the tool call that the
    request carries holds it too, so a call whose client went away keeps its bytes counted until
    the engine has really finished with them.
    """

    __slots__ = ("_gate", "_holders", "nbytes")

    def __init__(self, gate: Gate, nbytes: int) -> None:
        self._gate = gate
        self.nbytes = nbytes
        self._holders = 1

    def hold(self) -> None:
        """Add a holder (the ticket is released when the last one lets go)."""
        with self._gate._lock:
            if self._holders > 0:
                self._holders += 1

    def grow(self, nbytes: int) -> bool:
        """Count ``nbytes`` more (a body of unknown length, read chunk by chunk); False past the cap."""
        return self._gate._grow(self, nbytes)

    def release(self) -> None:
        """Let go; the last holder returns the bytes and the call slot. Safe to call from any thread."""
        with self._gate._lock:
            if self._holders <= 0:
                return
            self._holders -= 1
            if self._holders == 0:
                self._gate.inflight_bytes -= self.nbytes
                self._gate.inflight_calls -= 1


class Gate:
    """Admission and counters for one server process (thread-safe: engine threads release tickets)."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._lock = threading.Lock()
        self.inflight_bytes = 0
        self.inflight_calls = 0
        self.refused: Counter[str] = Counter()
        self.sessions_evicted = 0
        self.connections_refused = 0
        self.connections_evicted = 0
        self.open_connections: Callable[[], int] = lambda: 0
        self.open_sessions: Callable[[], int] = lambda: 0
        self.calls: set[Cancellable] = set()  # running tool calls (event loop only)
        self.closing = False

    def close(self, reason: str) -> None:
        """Refuse new calls and cancel every call in flight (call on the event loop: shutdown)."""
        self.closing = True
        for call in list(self.calls):
            call.cancel(reason)

    def admit(self, nbytes: int) -> Ticket:
        """Take a call slot and ``nbytes``; raise ``Busy`` at once when either cap would be passed.

        A single call larger than the byte cap is still admitted when nothing else is in flight,
        so the byte cap never refuses a call that the body and text limits allow.
        """
        with self._lock:
            if self.closing:
                reason = "shutdown"
            elif self.inflight_calls >= self.limits.max_inflight_calls:
                reason = "calls"
            elif self.inflight_bytes and self.inflight_bytes + nbytes > self.limits.max_inflight_bytes:
                reason = "bytes"
            else:
                self.inflight_calls += 1
                self.inflight_bytes += nbytes
                return Ticket(self, nbytes)
            self.refused[reason] += 1
        raise Busy(reason, self.limits.retry_after_seconds)

    def _grow(self, ticket: Ticket, nbytes: int) -> bool:
        with self._lock:
            if ticket._holders <= 0:
                return False
            others = self.inflight_bytes - ticket.nbytes
            if others and others + ticket.nbytes + nbytes > self.limits.max_inflight_bytes:
                self.refused["bytes"] += 1
                return False
            ticket.nbytes += nbytes
            self.inflight_bytes += nbytes
            return True

    def snapshot(self) -> dict[str, object]:
        """The caps and counters, for the health check (authorised) and metrics."""
        lim = self.limits
        return {
            "calls_in_flight": self.inflight_calls,
            "bytes_in_flight": self.inflight_bytes,
            "calls_refused": dict(self.refused),
            "sessions_open": self.open_sessions(),
            "sessions_evicted": self.sessions_evicted,
            "connections_open": self.open_connections(),
            "connections_refused": self.connections_refused,
            "connections_evicted": self.connections_evicted,
            "limits": {
                "max_inflight_bytes": lim.max_inflight_bytes,
                "max_inflight_calls": lim.max_inflight_calls,
                "engine_threads": lim.engine_threads,
                "max_sessions": lim.max_sessions,
                "session_idle_minutes": lim.session_idle_minutes,
                "max_connections": lim.max_connections,
                "header_timeout": lim.header_timeout,
                "keep_alive_timeout": lim.keep_alive_timeout,
            },
        }
