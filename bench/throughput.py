"""In-process engine throughput: every contender on every input, median MB/s after warm-up.

A cell is one (input, operation, contender). It is warmed up, then timed in samples until it
has ``min_runs`` samples and its time budget is spent (or it has ``max_runs``). Calls faster
than ~2 ms are timed in batches, so the timer's resolution does not matter. MB is 10^6 bytes of
the input's UTF-8 text (for ``scan``, of the payload serialised as compact JSON).
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from engines import Contender, Unavailable
from inputs import BenchInput

OPS_TEXT = ("detect", "mask")
OPS_NESTED = ("detect", "mask", "scan")
BATCH_SECONDS = 0.002


@dataclass(frozen=True)
class Budget:
    """How long to spend per cell."""

    seconds: float = 0.6
    min_runs: int = 3
    max_runs: int = 60
    warmup_seconds: float = 0.05


@dataclass
class Cell:
    """The result of one (input, op, contender)."""

    input: str
    kind: str
    size: str
    nbytes: int
    op: str
    contender: str
    status: str = "ok"  # ok | unavailable | error
    detail: str = ""
    median_s: float | None = None
    min_s: float | None = None
    max_s: float | None = None
    runs: int = 0
    batch: int = 0
    mbps: float | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def time_call(fn: Callable[[Any], Any], arg: Any, budget: Budget) -> tuple[list[float], int]:
    """Per-call times (seconds) of ``fn(arg)``: warm-up, then samples until the budget is spent."""
    t0 = time.perf_counter()
    fn(arg)
    first = time.perf_counter() - t0
    # Warm-up: one call for slow cells, ~warmup_seconds of calls for fast ones.
    deadline = time.perf_counter() + budget.warmup_seconds
    while first < budget.warmup_seconds and time.perf_counter() < deadline:
        fn(arg)
    batch = max(1, int(BATCH_SECONDS / max(first, 1e-9)))
    samples: list[float] = []
    deadline = time.perf_counter() + budget.seconds
    while len(samples) < budget.max_runs and (len(samples) < budget.min_runs or time.perf_counter() < deadline):
        t = time.perf_counter()
        for _ in range(batch):
            fn(arg)
        samples.append((time.perf_counter() - t) / batch)
    return samples, batch


def measure(
    inputs: list[BenchInput],
    contenders: list[Contender | Unavailable],
    budget: Budget,
    progress: Callable[[Cell], None] | None = None,
) -> list[Cell]:
    """Time every operation of every contender on every input, in that order."""
    cells: list[Cell] = []
    for inp in inputs:
        ops = OPS_NESTED if inp.data is not None else OPS_TEXT
        for op in ops:
            for c in contenders:
                cell = Cell(inp.name, inp.kind, inp.size_label, inp.nbytes, op, c.name)
                if isinstance(c, Unavailable):
                    cell.status, cell.detail = "unavailable", c.reason
                else:
                    arg = inp.data if op == "scan" else inp.text
                    gc.collect()
                    try:
                        samples, cell.batch = time_call(getattr(c, op), arg, budget)
                    except Exception as exc:  # a contender's limit or bug must not stop the run
                        cell.status, cell.detail = "error", f"{type(exc).__name__}: {exc}"[:200]
                    else:
                        cell.runs = len(samples)
                        cell.median_s = statistics.median(samples)
                        cell.min_s, cell.max_s = min(samples), max(samples)
                        cell.mbps = inp.nbytes / cell.median_s / 1e6
                cells.append(cell)
                if progress is not None:
                    progress(cell)
    return cells


def count_detections(inputs: list[BenchInput], contenders: list[Contender | Unavailable]) -> dict[str, dict[str, Any]]:
    """Detections per input and contender (plus what was planted), to show each side's coverage."""
    out: dict[str, dict[str, Any]] = {}
    for inp in inputs:
        row: dict[str, Any] = {"planted": len(inp.planted)}
        for c in contenders:
            if isinstance(c, Unavailable):
                row[c.name] = None
                continue
            try:
                row[c.name] = c.count_nested(inp.data) if inp.data is not None else c.count_text(inp.text)
            except Exception as exc:
                row[c.name] = f"error: {type(exc).__name__}"
                print(f"  {c.name} failed on {inp.name}: {exc}", file=sys.stderr)
        out[inp.name] = row
    return out
