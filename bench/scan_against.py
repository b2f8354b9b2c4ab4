"""Nested scans or texts side by side: this checkout's Rust engine, another build of it, and cpex-pii-filter.

``python bench/scan_against.py --against PATH [--sizes 10KB,1MB] [--rounds 15]`` loads the Rust
extension at ``PATH`` (another checkout's ``mcp_pii/_native.abi3.so``, or any build of the
crate with the ``python`` feature) beside this checkout's, checks that both give the same data
and detections on the benchmark's nested payloads (``bench/inputs.py``, with and without
non-ASCII text), then times ``Engine.scan`` with each and cpex's ``process_nested`` in one
process: rounds of one batch of each, in rotating order, medians. Ratios within a line compare
like with like on a shared machine; absolute times do not travel. ``--clock cpu`` times with the
process's CPU time instead of wall time: it leaves out the time the process waits for a CPU,
which on a loaded machine is most of the noise (at a load of 3 on 2 cores, wall-time medians of
the same build differed by up to 2x between rounds; CPU-time ratios stayed within a few %).
``--texts`` times ``Engine.detect`` on the benchmark's PII and clean prose instead (ASCII-only and
not; sizes ``1KB,10KB,100KB,1MB`` unless given), after checking that both builds find the same.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import engines
import inputs

from mcp_pii import Config, Engine, NestedDetection, ScanResult


class OtherBuild:
    """``Engine.scan`` (without a vault) over another build of the extension.

    Older builds return a tuple per detection, later ones seven columns, newer ones the
    detection objects; the first two are turned into :class:`NestedDetection` the way the facade
    of their time did.
    """

    def __init__(self, path: Path, config: Config) -> None:
        spec = importlib.util.spec_from_file_location("against._native", path)
        if spec is None or spec.loader is None:
            raise SystemExit(f"cannot load a Python extension from {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        self.backend = module.Engine(config.to_engine_json())

    def detect(self, text: str) -> list[Any]:
        return list(self.backend.detect(text, None))

    def scan(self, data: Any) -> ScanResult:
        out, found, _ = self.backend.scan(data, None, None, True)
        if isinstance(found, tuple):
            return ScanResult(out, list(map(NestedDetection, *found)))
        if found and isinstance(found[0], tuple):
            return ScanResult(out, [NestedDetection(*row) for row in found])
        return ScanResult(out, found)


def same(a: Any, b: Any) -> bool:
    """Whether two scan results hold the same data and detections (pointers, spans, values, rules)."""

    def key(r: Any) -> list[tuple[Any, ...]]:
        return [(d.path, d.type, d.start, d.end, d.value, d.rule, tuple(d.embedded)) for d in r.detections]

    return bool(a.data == b.data and key(a) == key(b))


def same_found(a: list[Any], b: list[Any]) -> bool:
    """Whether two lists of text detections (objects, or rows of an older build) are the same."""

    def key(d: Any) -> tuple[Any, ...]:
        return tuple(d) if isinstance(d, tuple) else (d.type, d.start, d.end, d.value, d.rule)

    return [key(d) for d in a] == [key(d) for d in b]


def medians(
    fns: dict[str, Callable[[], Any]], rounds: int, clock: Callable[[], float] = time.perf_counter
) -> dict[str, float]:
    """Seconds per call of each function: rounds of one ~20 ms batch of each, in rotating order."""
    first = next(iter(fns.values()))
    t = clock()
    first()
    batch = max(1, int(0.02 / max(clock() - t, 1e-9)))
    times: dict[str, list[float]] = {name: [] for name in fns}
    items = list(fns.items())
    for r in range(rounds):
        for name, fn in items[r % len(items) :] + items[: r % len(items)]:
            t = clock()
            for _ in range(batch):
                fn()
            times[name].append((clock() - t) / batch)
    return {name: statistics.median(v) for name, v in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", type=Path, required=True, help="another build of the Rust extension (.so)")
    parser.add_argument("--sizes", type=lambda s: s.split(","), help="sizes (default: 10KB,1MB nested, 1KB-1MB texts)")
    parser.add_argument("--texts", action="store_true", help="time detect on prose instead of nested scans")
    parser.add_argument("--rounds", type=int, default=15, help="rounds per payload")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall", help="wall time, or the process's CPU time")
    args = parser.parse_args()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    config = Config(default_strategy=engines.STRATEGY)
    ours, theirs = Engine(config, implementation="rust"), OtherBuild(args.against, config)
    cpex = engines.load("cpex")
    print(
        f"this checkout vs {args.against}; cpex: {'yes' if isinstance(cpex, engines.Contender) else 'unavailable'};"
        f" {args.clock} time"
    )

    def compare(
        name: str,
        this: Callable[[Any], Any],
        other: Callable[[Any], Any],
        cpex_fn: Any,
        arg: Any,
        *,
        agree: Callable[[Any, Any], bool],
    ) -> None:
        """Time one input with both builds (and cpex) if both find the same in it."""
        if not agree(this(arg), other(arg)):
            print(f"{name}: the two builds disagree; not timed")
            return
        fns = {"this": bound(this, arg), "other": bound(other, arg)}
        if cpex_fn is not None:
            fns["cpex"] = bound(cpex_fn, arg)
        print(_line(name, medians(fns, args.rounds, clock)), flush=True)

    peer = cpex if isinstance(cpex, engines.Contender) else None
    if args.texts:
        for size in args.sizes or ["1KB", "10KB", "100KB", "1MB"]:
            for make in (inputs.pii_prose, inputs.clean_prose):
                for ascii_only in (True, False):
                    inp = make(size, ascii_only=ascii_only)
                    compare(inp.name, ours.detect, theirs.detect, peer and peer.detect, inp.text, agree=same_found)
        return 0
    for size in args.sizes or ["10KB", "1MB"]:
        for ascii_only in (False, True):
            data = inputs.nested_payload(size, ascii_only)
            compare(data.name, ours.scan, theirs.scan, peer and peer.scan, data.data, agree=same)
    return 0


def bound(fn: Callable[[Any], Any], arg: Any) -> Callable[[], Any]:
    """``fn`` called on ``arg``, as a function of nothing."""
    return lambda: fn(arg)


def _line(name: str, m: dict[str, float]) -> str:
    line = f"{name:18s} this {m['this'] * 1e6:9.1f} us  other {m['other'] * 1e6:9.1f} us"
    line += f"  other/this {m['other'] / m['this']:5.2f}x"
    if "cpex" in m:
        line += f"  cpex {m['cpex'] * 1e6:9.1f} us  cpex/this {m['cpex'] / m['this']:5.2f}x"
        line += f"  cpex/other {m['cpex'] / m['other']:5.2f}x"
    return line


if __name__ == "__main__":
    sys.exit(main())
