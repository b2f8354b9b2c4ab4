"""Where engine work runs from async code: small payloads on the event loop, large ones in a thread.

Measured side by side (``bench/inline_vs_thread.py``; Rust engine, PII-dense text, loaded 2-core
machine): the hop to a worker thread costs 110-180 us; masking 1 KB takes ~50 us, 10 KB ~340 us,
100 KB ~3.5 ms. Up to ~16 KB the hop would cost a third or more of the work and the loop stalls
well under a millisecond; above it the stall grows past the hop, and the Rust engine releases
the GIL, so other clients keep being served meanwhile.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import anyio

from mcp_pii.accel import native_or

T = TypeVar("T")

# Payloads up to this many characters are worked on the event loop; larger ones in a worker thread.
INLINE_LIMIT = 16 * 1024

__all__ = ["INLINE_LIMIT", "EngineRunner", "payload_size", "run_engine"]


class EngineRunner(Protocol):
    """How async code runs a piece of engine work on a payload of ``size`` characters."""

    def __call__(self, size: int, work: Callable[[], T], /) -> Awaitable[T]: ...


def plain_payload_size(data: Any, budget: int = INLINE_LIMIT + 1) -> int:
    """Characters in the strings of a payload, counted only up to ``budget`` (to choose inline or threaded).

    Every other value counts 8. :func:`payload_size` is this, from the Rust extension when it is built.
    """
    if isinstance(data, str):
        return len(data)
    items = data.values() if isinstance(data, dict) else data if isinstance(data, list) else ()
    total = 8
    for item in items:
        total += plain_payload_size(item, budget - total)
        if total >= budget:
            break
    return total


def payload_size(data: Any, budget: int = INLINE_LIMIT + 1) -> int:
    """:func:`plain_payload_size`, read in one walk in the Rust extension when it is built."""
    return _payload_size(data, budget)


_payload_size = native_or(plain_payload_size, "payload_size")


async def run_engine(size: int, work: Callable[[], T]) -> T:
    """Run ``work()`` inline when ``size`` is at most INLINE_LIMIT, else in a worker thread (an EngineRunner)."""
    if size > INLINE_LIMIT:
        return await anyio.to_thread.run_sync(work)
    return work()
