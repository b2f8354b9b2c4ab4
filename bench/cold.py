"""Cold calls: ours and cpex-pii-filter on a text whose tables are no longer in the CPU caches.

The throughput rows time calls back to back, so each engine's tables (for ours, the states of the
union's lazy DFA; for cpex, its regexes) stay in the caches between calls. A server that gets a
call now and then runs it from memory instead. Here each call comes after ``EVICT_BYTES`` were
read (more than this machine's 32 MiB last-level cache), for ``rust-full``'s ``mask`` and cpex's
``mask(text, detect(text))`` in turn, best of N; the warm columns are the same calls back to
back, in the same process.

The eviction reads a buffer made once (a search for a byte it does not hold), so it allocates
nothing. Writing it would not do: ``memset`` of that size uses stores that bypass the caches, and
after it a 1 KB call took 13 us against 98 us after the same buffer was read.

Run on its own: ``python bench/cold.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

import engines
import inputs
import throughput

EVICT_BYTES = 64 << 20
# (kind, size, ASCII only)
CASES = (
    ("pii", "1KB", True),
    ("pii", "10KB", True),
    ("pii", "100KB", True),
    ("clean", "1KB", True),
    ("pii", "1KB", False),
)
CONTENDERS = ("rust-full", "cpex")


class Evictor:
    """Reads ``nbytes`` through the caches (normal loads, no allocation after the first)."""

    def __init__(self, nbytes: int = EVICT_BYTES) -> None:
        self._buf = bytearray(b"\x01") * nbytes

    def __call__(self) -> None:
        self._buf.find(b"\x02")


def best_us(fn: Callable[[str], Any], text: str, runs: int, before: Callable[[], None] | None = None) -> float:
    """The fastest of ``runs`` calls of ``fn(text)`` in microseconds, each after ``before`` (untimed)."""
    best = float("inf")
    for _ in range(runs):
        if before is not None:
            before()
        best = min(best, throughput.sample(fn, text, 1).wall)
    return best * 1e6


def run(quick: bool = False) -> dict[str, Any]:
    """Warm and cold times of each case for each contender, and cpex over ours in each."""
    loaded = engines.load_all(list(CONTENDERS))
    missing = [c for c in loaded if isinstance(c, engines.Unavailable)]
    if missing:
        return {"status": "unavailable", "detail": "; ".join(f"{c.name}: {c.reason}" for c in missing)}
    contenders = [c for c in loaded if not isinstance(c, engines.Unavailable)]
    evict = Evictor()
    cold_runs, warm_runs = (5, 50) if quick else (30, 300)
    rows = []
    for kind, size, ascii_only in CASES:
        inp = (inputs.pii_prose if kind == "pii" else inputs.clean_prose)(size, ascii_only)
        row: dict[str, Any] = {"input": inp.name, "bytes": inp.nbytes}
        for c in contenders:
            c.mask(inp.text)  # the first call builds what is built lazily
            row[c.name] = {
                "warm_us": best_us(c.mask, inp.text, warm_runs),
                "cold_us": best_us(c.mask, inp.text, cold_runs, evict),
            }
        ours, theirs = row["rust-full"], row["cpex"]
        row["warm_ratio"] = theirs["warm_us"] / ours["warm_us"]
        row["cold_ratio"] = theirs["cold_us"] / ours["cold_us"]
        rows.append(row)
    return {"status": "ok", "evict_bytes": EVICT_BYTES, "runs": {"warm": warm_runs, "cold": cold_runs}, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few runs")
    print(json.dumps(run(parser.parse_args().quick), indent=2))


if __name__ == "__main__":
    main()
