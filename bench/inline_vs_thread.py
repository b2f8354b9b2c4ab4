"""Inline versus worker thread: what the server's INLINE_LIMIT is chosen from.

    python bench/inline_vs_thread.py

For PII-dense texts of 1 KB, 10 KB and 100 KB and each engine, the median time of ``mask`` run
directly on the event loop and through ``anyio.to_thread.run_sync``, measured alternately in one
run; the difference is the cost of the hop to a thread.
"""

from __future__ import annotations

import statistics
import sys
import time
from functools import partial
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent))

import inputs

from mcp_pii import Engine

SIZES = ["1KB", "10KB", "100KB"]


async def main() -> None:
    texts = {i.name: i.text for i in inputs.build_inputs(SIZES) if i.name in {f"pii-{s}" for s in SIZES}}
    print("| engine | input | inline µs | thread µs | hop µs |")
    print("| --- | --- | ---: | ---: | ---: |")
    for impl in ("rust", "python"):
        engine = Engine(implementation=impl)
        for name, text in texts.items():
            runs = 200 if impl == "rust" else (3 if "100KB" in name else 10)
            inline, threaded = [], []
            for _ in range(runs):
                t0 = time.perf_counter()
                engine.mask(text)
                inline.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                await anyio.to_thread.run_sync(partial(engine.mask, text))
                threaded.append(time.perf_counter() - t0)
            a, b = statistics.median(inline) * 1e6, statistics.median(threaded) * 1e6
            print(f"| {impl} | {name} | {a:.0f} | {b:.0f} | {b - a:.0f} |")


if __name__ == "__main__":
    anyio.run(main)
