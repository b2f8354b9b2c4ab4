"""What reversible masking costs over plain masking, with each vault backend.

    python bench/reversible.py [--runs N]

For PII-dense texts of 1 KB, 10 KB and 100 KB and each engine: the median time of ``mask`` with
the ``tokenize`` strategy (no vault), of ``mask`` with a vault in a new scope (every value new),
again in that scope (every value known), and of ``unmask``; the vault in memory and in a real
redis-server on a loopback port (started here, as the tests do). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import inputs
from redis_server import redis_server

from mcp_pii import Engine
from mcp_pii.vault import Vault

SIZES = ["1KB", "10KB", "100KB"]
KEY = "bench-vault-key-0123456789abcdefghijklmnop"


async def median_us(runs: int, work: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await work()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


async def measure(engine: Engine, vault: Vault, text: str, runs: int) -> tuple[float, float, float, float, int]:
    async def plain() -> object:
        return engine.mask(text, "tokenize")

    async def fresh() -> object:
        return await engine.mask(text, vault=vault)

    masked = await engine.mask(text, vault=vault)
    scope = masked.scope
    assert scope is not None

    async def known() -> object:
        return await engine.mask(text, vault=vault, scope=scope)

    async def unmask() -> object:
        return await engine.unmask(masked.text, vault, scope)

    return (
        await median_us(runs, plain),
        await median_us(runs, fresh),
        await median_us(runs, known),
        await median_us(runs, unmask),
        len(masked.detections),
    )


async def main(runs: int) -> None:
    texts = {i.name: i.text for i in inputs.build_inputs(SIZES) if i.name in {f"pii-{s}" for s in SIZES}}
    print("| engine | vault | input | detections | mask (tokenize) µs | reversible, new scope µs |"
          " reversible, known values µs | unmask µs |")  # fmt: skip
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    with redis_server() as redis:
        vaults = {
            "memory": Vault.memory(KEY, max_scopes=1_000_000, max_entries=1_000_000),
            "redis": Vault.redis(redis.url, KEY, max_entries=1_000_000),
        }
        for impl in ("rust", "python"):
            engine = Engine(implementation=impl)  # type: ignore[arg-type]
            for kind, vault in vaults.items():
                for name, text in texts.items():
                    n = runs if impl == "rust" else max(3, runs // 20)
                    n = n if "100KB" not in name else max(3, n // 10)
                    *times, found = await measure(engine, vault, text, n)
                    print(f"| {impl} | {kind} | {name} | {found} | " + " | ".join(f"{t:.0f}" for t in times) + " |")
        await vaults["redis"].aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200, help="runs per cell for the Rust engine (default 200)")
    asyncio.run(main(parser.parse_args().runs))
