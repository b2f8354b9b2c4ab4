"""``mcp-pii`` whose engine holds a large mask until a client has gone away (for the load suite).

The load suite checks that a call whose client goes away mid-call is cancelled as soon as the
engine returns. With the real engine, masking 3 MB takes about 0.2 s, often less than a client
needs to leave, so whether the call was still in the engine when its client left was a matter
of timing. Here a plain mask of a text too large to run on the event loop (more than
``INLINE_LIMIT`` characters, so it runs in an engine thread) is computed as usual, then writes
``held-engine: holding`` to stderr and returns only once the HTTP front has seen a client go
away (``Exchange.client_gone`` has run), or after ``HOLD_AT_MOST`` seconds, so that a broken
cancel path fails its test rather than hanging it. Everything else is the real server.

Run as ``python tests/held_engine.py serve ...`` with the arguments of ``mcp-pii``.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from mcp_pii.cli import main
from mcp_pii.engine import Engine
from mcp_pii.exchange import Exchange
from mcp_pii.offload import INLINE_LIMIT

HOLDING = "held-engine: holding"
HOLD_AT_MOST = 60.0

client_left = threading.Event()
real_mask = Engine.mask
real_mask_counts = Engine.mask_counts
real_client_gone = Exchange.client_gone


def hold(text: str) -> None:
    """Return only once a client has gone away, for a text too large for the event loop."""
    if len(text) > INLINE_LIMIT:
        print(HOLDING, file=sys.stderr, flush=True)
        client_left.wait(HOLD_AT_MOST)


def held_mask(self: Engine, text: str, *args: Any, **kwargs: Any) -> Any:
    """The engine's mask; a plain one of a large text returns only once a client has gone away."""
    result = real_mask(self, text, *args, **kwargs)
    if kwargs.get("vault") is None:
        hold(text)
    return result


def held_mask_counts(self: Engine, text: str, *args: Any, **kwargs: Any) -> Any:
    """The engine's mask_counts (mask_pii's default), held as ``held_mask``."""
    result = real_mask_counts(self, text, *args, **kwargs)
    hold(text)
    return result


def client_gone(self: Exchange) -> None:
    """The front's own handling (the calls are cancelled first), then the engine is let go."""
    real_client_gone(self)
    client_left.set()


if __name__ == "__main__":
    Engine.mask = held_mask  # type: ignore[method-assign]
    Engine.mask_counts = held_mask_counts  # type: ignore[method-assign]
    Exchange.client_gone = client_gone  # type: ignore[method-assign]
    raise SystemExit(main())
