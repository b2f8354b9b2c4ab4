"""The benchmark: engine throughput against cpex-pii-filter, MCP latency, memory. ``make bench`` runs it.

    python bench/run.py                 # everything (about 5 minutes on 2 cores)
    python bench/run.py --quick         # a smoke run: small inputs, few runs (under a minute)
    python bench/run.py --only engines  # one section: engines, cold, mcp, path or memory (comma-separated)

It prints each measurement as it goes, then the report, and writes it to ``<out>/latest.md`` and
``<out>/latest.json`` (``quick.md``/``quick.json`` for ``--quick``, so a smoke run never replaces
the numbers the README shows). A full run of every section also refreshes the README's
performance section, between the ``<!-- bench:start -->`` and ``<!-- bench:end -->`` markers.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(BENCH), str(REPO)]

import cold  # noqa: E402
import engines  # noqa: E402
import inputs  # noqa: E402
import mcp_latency  # noqa: E402
import memory  # noqa: E402
import path_latency  # noqa: E402
import report  # noqa: E402
import throughput  # noqa: E402

SECTIONS = ("engines", "cold", "mcp", "path", "memory")
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    mem_kib = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        ),
        0,
    )
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "memory_gib": round(mem_kib / 1024**2, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


# What the benchmark itself adds to the 1-minute load by its end: its own process, or an MCP
# client and server taking turns, keep about one CPU busy (a run alone on 2 CPUs ended at 1.02).
OWN_LOAD = 1.0


def busy(start: str, end: str, cpus: int | None = None) -> bool:
    """True if the machine was busy: a 1-minute load above half its usable CPUs at the start, or
    above that plus the benchmark's own load (``OWN_LOAD``) at the end."""
    cpus = cpus or len(os.sched_getaffinity(0))

    def one_minute(load: str) -> float:
        return float(load.split(maxsplit=1)[0])

    return one_minute(start) > cpus / 2 or one_minute(end) > cpus / 2 + OWN_LOAD


def versions() -> dict[str, str]:
    from mcp_pii import __version__, native_available

    native = "not built"
    if native_available():
        from mcp_pii import _native  # type: ignore[attr-defined]

        native = str(getattr(_native, "__version__", "?"))
    return {
        "mcp-pii": __version__,
        "rust-extension": native,
        "cpex-pii-filter": engines.package_version("cpex-pii-filter"),
        "mcp": engines.package_version("mcp"),
    }


def command() -> str:
    """How this run was started, as a reader would type it."""
    args = shlex.join(sys.argv[1:])
    if os.environ.get("MAKELEVEL"):
        return "make bench" + (f" BENCH_ARGS={shlex.quote(args)}" if args else "")
    python = os.path.relpath(sys.executable, REPO) if sys.executable.startswith(str(REPO)) else "python"
    return f"{python} {os.path.relpath(Path(sys.argv[0]).resolve(), REPO)} {args}".strip()


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_engines(args: argparse.Namespace) -> dict[str, Any]:
    sizes = args.sizes or (["1KB", "10KB", "100KB"] if args.quick else list(inputs.SIZES))
    nested = [s for s in inputs.NESTED_SIZES if s in sizes] or ["10KB"]
    budget = throughput.Budget(0.1, 1, 20, 0.02) if args.quick else throughput.Budget()
    log(f"engines: building inputs {', '.join(sizes)} (nested {', '.join(nested)}) ...")
    ins = inputs.build_inputs(sizes, nested)
    contenders = engines.load_all(args.contenders)
    for c in contenders:
        if isinstance(c, engines.Unavailable):
            log(f"engines: {c.name} unavailable: {c.reason}")

    def progress(cell: throughput.Cell) -> None:
        shown = f"{cell.mbps:9.2f} MB/s ({cell.runs} runs x {cell.batch})" if cell.mbps else cell.status
        log(f"  {cell.input:<18} {cell.op:<6} {cell.contender:<12} {shown}")

    t0 = time.perf_counter()
    cells = throughput.measure(ins, contenders, budget, progress)
    log("engines: counting detections ...")
    detections = throughput.count_detections(ins, contenders)
    return {
        "strategy": engines.STRATEGY,
        "peer_types": engines.PEER_TYPES,
        "budget": dataclasses.asdict(budget),
        "inputs": {
            i.name: {"kind": i.kind, "size": i.size_label, "bytes": i.nbytes, "planted": len(i.planted)} for i in ins
        },
        "contenders": {
            c.name: (
                {"unavailable": c.reason}
                if isinstance(c, engines.Unavailable)
                else {"description": c.description, "version": c.version, "types": c.types}
            )
            for c in contenders
        },
        "cells": [c.to_json() for c in cells],
        "detections": detections,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def run_section(name: str, what: str, measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a section that reports its own status: say what it measures, and why not if it could not."""
    log(f"{name}: {what} ...")
    t0 = time.perf_counter()
    section = measure()
    if section["status"] != "ok":
        log(f"{name}: {section['detail']}")
    section["seconds"] = round(time.perf_counter() - t0, 1)
    return section


def run_memory(args: argparse.Namespace) -> dict[str, Any]:
    from mcp_pii import native_available

    calls, warmup = (2_000, 500) if args.quick else (12_000, 3_000)
    rows = []
    t0 = time.perf_counter()
    for engine in ("rust", "python"):
        if engine == "rust" and not native_available():
            rows.append({"engine": engine, "error": "unavailable: the Rust extension is not built"})
            continue
        log(f"memory: {engine} engine, {calls:,} calls ...")
        row = memory.run_in_subprocess(engine, calls, warmup)
        growth = row.get("error") or f"{row['growth_kib']:+d} KiB after warm-up, {row['seconds']} s"
        log(f"memory: {engine}: {growth}")
        rows.append(row)
    return {"calls": calls, "warmup": warmup, "rows": rows, "seconds": round(time.perf_counter() - t0, 1)}


def update_readme(result: dict[str, Any]) -> str:
    """Replace the README's block between the markers with the latest tables; say what happened."""
    path = REPO / "README.md"
    try:
        text = path.read_text()
    except OSError:
        return "README.md not found; not updated"
    if README_START not in text or README_END not in text:
        return f"README.md has no {README_START} ... {README_END} block; not updated"
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    body = report.to_markdown(result, level=2, detections=False)
    intro = "The latest `make bench` (full report, with detections per input: `bench/results/latest.md`)."
    block = f"{README_START}\n{intro}\n\n{body.strip()}\n{README_END}"
    path.write_text(head + block + tail)
    return "README.md performance section updated"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: inputs up to 100 KB, few runs, few calls")
    parser.add_argument("--only", help=f"comma-separated sections to run: {', '.join(SECTIONS)}")
    parser.add_argument("--out", type=Path, default=BENCH / "results", help="where to write the report")
    parser.add_argument("--sizes", type=lambda s: s.split(","), help=f"text sizes, from {', '.join(inputs.SIZES)}")
    parser.add_argument("--contenders", type=lambda s: s.split(","), help=f"from {', '.join(engines.CONTENDERS)}")
    parser.add_argument("--standin", action="store_true", help="MCP section against bench/_noop_server.py (dev only)")
    parser.add_argument("--no-readme", action="store_true", help="do not touch README.md")
    args = parser.parse_args()
    sections = args.only.split(",") if args.only else list(SECTIONS)
    bad = [s for s in sections if s not in SECTIONS]
    if bad:
        parser.error(f"unknown section {bad[0]!r}; choose from {', '.join(SECTIONS)}")
    if args.sizes and any(s not in inputs.SIZES for s in args.sizes):
        parser.error(f"sizes are {', '.join(inputs.SIZES)}")
    if args.contenders and any(c not in engines.CONTENDERS for c in args.contenders):
        parser.error(f"contenders are {', '.join(engines.CONTENDERS)}")

    t0 = time.perf_counter()
    cmd = command()
    result: dict[str, Any] = {
        "meta": {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "command": cmd,
            "commit": (_git("rev-parse", "--short", "HEAD") or "unknown")
            + (" (dirty)" if _git("status", "--porcelain") else ""),
            "quick": args.quick,
            "sections": sections,
            "machine": machine(),
            "versions": versions(),
        }
    }
    if "engines" in sections:
        result["engines"] = run_engines(args)
    if "cold" in sections:
        evicted = f"each call after {cold.EVICT_BYTES >> 20} MiB read, beside the same calls back to back"
        result["cold"] = run_section("cold", evicted, partial(cold.run, quick=args.quick))
    if "mcp" in sections:
        latency = partial(mcp_latency.run, quick=args.quick, standin=args.standin)
        result["mcp"] = run_section("mcp", "measuring tool-call latency", latency)
    if "path" in sections:
        path = "in-process hook, external plugin and proxy latency, beside cpex-pii-filter"
        result["path"] = run_section("path", path, partial(path_latency.run, quick=args.quick))
    if "memory" in sections:
        result["memory"] = run_memory(args)
    result["targets"] = report.targets(result)
    result["meta"]["seconds"] = round(time.perf_counter() - t0, 1)
    result["meta"]["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    result["meta"]["busy"] = busy(result["meta"]["machine"]["loadavg"], result["meta"]["loadavg_end"])

    markdown = report.to_markdown(result)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "quick" if args.quick else "latest"
    (args.out / f"{stem}.md").write_text(markdown)
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print(markdown)
    log(f"wrote {args.out / stem}.md and .json in {result['meta']['seconds']:.0f} s")
    if not args.quick and sections == list(SECTIONS) and not args.no_readme and not args.contenders and not args.sizes:
        log(update_readme(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
