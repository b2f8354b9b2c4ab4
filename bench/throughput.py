"""In-process engine throughput: every contender on every input, median MB/s after warm-up.

A row is one (input, operation); a cell is one contender in it. Each contender is warmed up, then
the row is timed in rounds: every round takes one sample of every contender still running, back to
back, so that a burst of load from a neighbour on a shared machine slows all of them alike and the
ratios hold: a cell's ratio to another (``Cell.paired``) is the median over the rounds both ran of
their two samples' quotient, not the quotient of their medians, which a slow stretch of the host
during one contender's samples and not the other's moves. Pairing also compares samples taken
after the same calls: in a round each sample follows the other contenders' calls, while a fast
contender's samples after a slow one stopped follow its own, with warm caches (the non-ASCII PII
prose 1 MB `detect` row of a partial run: Rust over cpex 117.8x from the medians, 67.6x paired
over the three rounds cpex ran). A contender runs until it has ``min_runs`` samples and has spent
its own time budget, at most ``max_runs`` rounds: on a 1 MB input the Python twins (a second a
call) stop after ``min_runs`` while the Rust engine and cpex, tens of milliseconds a call, go on
to dozens of samples each (with one budget for the whole row, the twins spent it and every
contender had three samples: a run on a busy machine read the nested 1 MB ratio as 2.53x where
``bench/scan_against.py`` measured 3.18x on the same machine quiet). Calls faster than ~2 ms are
timed in batches, so the timer's resolution does not matter. MB is 10^6 bytes of the input's UTF-8
text (for ``scan``, of the payload serialised as compact JSON).

A sample is the CPU time the process spent on its batch, not the time on the clock: every
contender computes in the calling thread and waits for nothing, so the two differ only by the time
the machine gave to something else, which on a shared host comes in stretches that slow some
samples and not others (see ``bench/scan_against.py``, which times the same way with
``--clock cpu``). The batch size and each contender's time budget are on the clock.
"""

from __future__ import annotations

import gc
import itertools
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from engines import Contender, Unavailable
from inputs import BenchInput

OPS_TEXT = ("detect", "mask")
OPS_NESTED = ("detect", "mask", "scan")
BATCH_SECONDS = 0.002


@dataclass(frozen=True)
class Budget:
    """How long each contender is timed in a row (``seconds`` of its own samples, at least ``min_runs``)."""

    seconds: float = 0.6
    min_runs: int = 3
    max_runs: int = 100
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
    median_s: float | None = None  # CPU time per call, as min_s and max_s
    min_s: float | None = None
    max_s: float | None = None
    runs: int = 0
    batch: int = 0
    mbps: float | None = None
    # Per other contender of the row: this one's speed over the other's (`paired_ratio`).
    paired: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def warm_up(fn: Callable[[Any], Any], arg: Any, budget: Budget) -> int:
    """Run ``fn(arg)`` for a while; return the batch size for a ~2 ms sample.

    Calls go on for ``warmup_seconds`` after the first one (at least one more), and the batch
    is sized from the fastest: the first call of a lazy engine on new text builds its automaton's
    states (measured: 33 ms for the Rust engine's first 10 KB of new prose against 77 us after,
    2.3 ms against 0.2 ms for cpex), and a batch sized from it was one call, timed cold after the
    other contenders' calls had taken the CPU caches.
    """
    best = sample(fn, arg, 1).wall
    deadline = time.perf_counter() + budget.warmup_seconds
    best = min(best, sample(fn, arg, 1).wall)
    while time.perf_counter() < deadline:
        best = min(best, sample(fn, arg, 1).wall)
    return max(1, int(BATCH_SECONDS / max(best, 1e-9)))


@dataclass(frozen=True)
class Sample:
    """Seconds per call over a batch: on the clock, and of the process's CPU time."""

    wall: float
    cpu: float


def sample(fn: Callable[[Any], Any], arg: Any, batch: int) -> Sample:
    """Seconds per call of ``fn(arg)``, over ``batch`` calls."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(batch):
        fn(arg)
    return Sample((time.perf_counter() - wall) / batch, (time.process_time() - cpu) / batch)


def paired_ratio(mine: list[float], theirs: list[float]) -> float | None:
    """My speed over theirs from per-call times taken round by round (round ``i`` is
    ``mine[i]`` and ``theirs[i]``): the median of each round's ``theirs[i] / mine[i]`` over the
    rounds both ran (the first ones: a contender that stops never runs again), or None when none did.
    """
    quotients = [t / m for m, t in zip(mine, theirs, strict=False) if m > 0]
    return statistics.median(quotients) if quotients else None


def _fail(cell: Cell, exc: Exception) -> None:
    cell.status, cell.detail = "error", f"{type(exc).__name__}: {exc}"[:200]


def measure_row(inp: BenchInput, op: str, contenders: list[Contender | Unavailable], budget: Budget) -> list[Cell]:
    """Time one (input, op) for every contender, interleaved round by round."""
    arg = inp.data if op == "scan" else inp.text
    cells = [Cell(inp.name, inp.kind, inp.size_label, inp.nbytes, op, c.name) for c in contenders]
    live: list[tuple[Cell, Callable[[Any], Any], int]] = []
    gc.collect()
    for cell, c in zip(cells, contenders, strict=True):
        if isinstance(c, Unavailable):
            cell.status, cell.detail = "unavailable", c.reason
            continue
        fn = getattr(c, op)
        try:
            live.append((cell, fn, warm_up(fn, arg, budget)))
        except Exception as exc:  # a contender's limit or bug must not stop the run
            _fail(cell, exc)
    samples: dict[str, list[float]] = {cell.contender: [] for cell, _, _ in live}
    spent: dict[str, float] = dict.fromkeys(samples, 0.0)

    def running(contender: str) -> bool:
        return len(samples[contender]) < budget.min_runs or spent[contender] < budget.seconds

    for _ in range(budget.max_runs):
        now = [entry for entry in live if running(entry[0].contender)]
        if not now:
            break
        for entry in now:
            cell, fn, batch = entry
            start = time.perf_counter()
            try:
                samples[cell.contender].append(sample(fn, arg, batch).cpu)
            except Exception as exc:
                _fail(cell, exc)
                live.remove(entry)
            spent[cell.contender] += time.perf_counter() - start
    for (cell, _, _), (other, _, _) in itertools.permutations(live, 2):
        r = paired_ratio(samples[cell.contender], samples[other.contender])
        if r is not None:
            cell.paired[other.contender] = r
    for cell, _, batch in live:
        xs = samples[cell.contender]
        cell.runs, cell.batch = len(xs), batch
        cell.median_s = statistics.median(xs)
        cell.min_s, cell.max_s = min(xs), max(xs)
        cell.mbps = inp.nbytes / cell.median_s / 1e6
    return cells


def measure(
    inputs: list[BenchInput],
    contenders: list[Contender | Unavailable],
    budget: Budget,
    progress: Callable[[Cell], None] | None = None,
) -> list[Cell]:
    """Time every operation of every contender on every input."""
    cells: list[Cell] = []
    for inp in inputs:
        for op in OPS_NESTED if inp.data is not None else OPS_TEXT:
            row = measure_row(inp, op, contenders, budget)
            cells += row
            for cell in row:
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
