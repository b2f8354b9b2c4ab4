"""Memory: RSS over many mixed calls in one process, to show that it stops growing after warm-up.

``python bench/memory.py --engine rust|python [--calls 12000] [--warmup 3000]`` builds one
engine, makes a deterministic plan of mixed calls (detect, mask with every strategy, scan with and
without masking; texts from 200 B to 100 KB, PII-dense and clean, ASCII and not; small nested
payloads; sometimes a ``types`` filter), runs it, and prints JSON: the RSS (``VmRSS`` from
``/proc/self/status``) after the warm-up calls and every 1,000 calls after, and the peak
(``ru_maxrss``). Each engine runs in a process of its own, so neither sees the other's memory.
``bench/run.py`` runs it for both engines and judges the growth.

The Rust engine's one-pass DFA builds its states lazily, as inputs show them, in a table that
grows by doubling (bounded: 8 MiB per cache, see the README). Each doubling once left the old
table resident (glibc's heap), a 1 MiB step at call 4,745 of this plan; each cache is now given
2 MiB of tables when it is made, so RSS grows only by the states learnt after warm-up.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

# Growth between the end of warm-up and the end that still counts as flat: allocator noise
# (arenas, fragmentation) moves RSS by a few hundred KiB without any leak.
GROWTH_TOLERANCE_KIB = 1024

STRATEGIES = ["redact", "label", "partial", "hash", "tokenize", "remove"]
TEXT_SIZES = [(200, 0.25), (1_000, 0.3), (5_000, 0.25), (20_000, 0.18), (100_000, 0.02)]


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def rss_kib() -> int:
    """Resident set size now (``VmRSS``), in KiB."""
    return _status_kib("VmRSS")


def peak_rss_kib() -> int:
    """Peak resident set size of this program (``VmHWM``), in KiB.

    ``getrusage().ru_maxrss`` is reported too, but Linux carries it over ``fork`` and ``exec``, so in
    a child process it can show the parent's peak; ``VmHWM`` starts afresh with the program.
    """
    return _status_kib("VmHWM")


Call = tuple[str, Any, str | None, list[str] | None]


def make_plan(calls: int, seed: int = 20240501) -> Iterator[Call]:
    """(op, argument, strategy, types) for every call; op is detect, mask, scan or scan-detect.

    Text arguments are sliced when their call comes, so that each dies after its call: a process
    that serves requests holds no old request strings, and holding them would show memory that a
    string keeps for itself (the UTF-8 copy CPython caches in a non-ASCII ``str`` once an extension
    asks for it) as if the engine had kept it.
    """
    import inputs

    r = random.Random(seed)
    texts = [inputs.pii_prose("100KB").text, inputs.clean_prose("100KB").text]
    texts += [inputs.pii_prose("100KB", ascii_only=True).text]
    records = inputs.nested_payload("10KB").data["records"]
    sizes, weights = zip(*TEXT_SIZES, strict=True)
    for _ in range(calls):
        op = r.choices(["detect", "mask", "scan", "scan-detect"], weights=[3, 4, 2, 1])[0]
        types = (
            r.sample(["email", "phone", "ssn", "credit_card", "ip_address", "iban"], k=3) if r.random() < 0.2 else None
        )
        strategy = r.choice(STRATEGIES) if op in ("mask", "scan") else None
        if op.startswith("scan"):
            k = r.randint(1, min(8, len(records)))
            start = r.randint(0, len(records) - k)
            arg: Any = {"batch": {"n": k}, "records": records[start : start + k]}
        else:
            size = r.choices(sizes, weights=weights)[0]
            text = r.choice(texts)
            start = r.randint(0, max(0, len(text) - size))
            arg = text[start : start + size]
        yield op, arg, strategy, types


def run(engine_name: str, calls: int, warmup: int, every: int = 1_000) -> dict[str, Any]:
    """Run the plan on one engine; RSS samples in KiB."""
    from mcp_pii import Config, Engine

    engine = Engine(Config(hash_key="bench-key"), implementation=engine_name)  # type: ignore[arg-type]
    plan = make_plan(calls)
    gc.collect()
    before = rss_kib()
    samples: list[tuple[int, int]] = []
    t0 = time.perf_counter()
    for i, (op, arg, strategy, types) in enumerate(plan, 1):
        if op == "detect":
            engine.detect(arg, types)
        elif op == "mask":
            engine.mask(arg, strategy, types)
        else:
            engine.scan(arg, strategy, types, mask=op == "scan")
        del arg
        if i in (warmup, calls) or (i > warmup and (i - warmup) % every == 0):
            gc.collect()
            if not samples or samples[-1][0] != i:
                samples.append((i, rss_kib()))
    elapsed = time.perf_counter() - t0
    warm = samples[0][1]
    end = samples[-1][1]
    return {
        "engine": engine_name,
        "calls": calls,
        "warmup_calls": warmup,
        "seconds": round(elapsed, 2),
        "rss_before_kib": before,
        "rss_after_warmup_kib": warm,
        "rss_end_kib": end,
        "growth_kib": end - warm,
        "max_sample_kib": max(kib for _, kib in samples),
        "peak_rss_kib": max(peak_rss_kib(), *(kib for _, kib in samples)),
        "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "samples": samples,
        "tolerance_kib": GROWTH_TOLERANCE_KIB,
        "flat": end - warm <= GROWTH_TOLERANCE_KIB,
    }


def run_in_subprocess(engine_name: str, calls: int, warmup: int, timeout: float = 600) -> dict[str, Any]:
    """Run :func:`run` in a fresh interpreter and return its result (or an error entry)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--engine", engine_name]
    cmd += ["--calls", str(calls), "--warmup", str(warmup)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"engine": engine_name, "error": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"engine": engine_name, "error": last[:300]}
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["rust", "python"], required=True)
    parser.add_argument("--calls", type=int, default=12_000)
    parser.add_argument("--warmup", type=int, default=3_000)
    args = parser.parse_args()
    sys.path.insert(0, str(BENCH))
    try:
        result = run(args.engine, args.calls, args.warmup)
    except ImportError as exc:
        print(f"unavailable: {exc}", file=sys.stderr)
        return 3
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
