"""JSON text of large results in pieces, so that a worker thread building it lets the event loop run.

``json.dumps`` holds the GIL for the whole value: on a result with a million nodes that is
hundreds of milliseconds in which no other client is served, even from a worker thread. Here a
value is encoded one light piece at a time (a few thousand nodes each), and the GIL is free to
change hands between pieces. The text is compact JSON with non-ASCII characters as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pydantic_core

from mcp_pii.accel import native_or

# Nodes in one piece encoded by one json.dumps call (about a millisecond of work); a string
# counts one node per 4 KiB.
PIECE = 2048


def _dumps(value: Any) -> str:
    # pydantic-core writes integers of any size (json.dumps stops at 4,300 digits).
    return pydantic_core.to_json(value).decode()


def plain_weight(value: Any, budget: int) -> int:
    """Nodes in ``value``, counted only up to ``budget``.

    ``_weight`` is this, from the Rust extension when it is built.
    """
    stack = [value]
    n = 0
    while stack and n < budget:
        x = stack.pop()
        n += 1
        if isinstance(x, dict | list):
            if len(x) >= budget:
                return budget
            stack.extend(x.values() if isinstance(x, dict) else x)
        elif isinstance(x, str):
            n += len(x) >> 12
    return n


_weight: Callable[[Any, int], int] = native_or(plain_weight, "weight")


def _encode(value: Any, out: list[str]) -> None:
    if not isinstance(value, dict | list) or _weight(value, PIECE) < PIECE:
        out.append(_dumps(value))
        return
    is_dict = isinstance(value, dict)
    out.append("{" if is_dict else "[")
    batch: list[Any] = []
    weight = 0
    first = True

    def flush() -> None:
        nonlocal first, weight
        if batch:
            text = _dumps(dict(batch) if is_dict else batch)[1:-1]
            out.append(text if first else "," + text)
            first = False
            batch.clear()
            weight = 0

    for item in value.items() if isinstance(value, dict) else value:
        child = item[1] if is_dict else item
        w = _weight(child, PIECE)
        if w >= PIECE:
            flush()
            if not first:
                out.append(",")
            if is_dict:
                out.append(_dumps(item[0]) + ":")
            _encode(child, out)
            first = False
            continue
        batch.append(item)
        weight += w
        if weight >= PIECE:
            flush()
    flush()
    out.append("}" if is_dict else "]")


def dumps(value: Any) -> str:
    """Compact JSON text of ``value`` (``ensure_ascii=False``), built in GIL-friendly pieces."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out)
