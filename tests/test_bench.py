"""The benchmark's own logic (``bench/``): how rows are timed, and when a run is called busy.

A contender a call costs a second must not cut the samples of one that costs milliseconds: the
targets compare the fast ones (the Rust engine and cpex), and on a 1 MB input the Python twins
used to spend the whole row's budget in three rounds. A run is busy when something else loaded
the machine, not because the benchmark's own servers did by its end.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import inputs
import report
import run
import throughput
from engines import Contender
from inputs import BenchInput


def contender(name: str, call: Any) -> Contender:
    return Contender(name, name, "0", [], call, call, call, lambda _: 0, lambda _: 0)


def test_a_slow_contender_leaves_the_fast_ones_their_samples() -> None:
    slow = contender("slow", lambda _: time.sleep(0.05))
    fast = contender("fast", lambda _: None)
    inp = BenchInput("text-1KB", "pii", "1KB", "some text", ())
    budget = throughput.Budget(seconds=0.1, min_runs=3, max_runs=40, warmup_seconds=0.0)
    cells = {c.contender: c for c in throughput.measure_row(inp, "detect", [slow, fast], budget)}
    assert cells["slow"].runs == budget.min_runs
    assert cells["fast"].runs > cells["slow"].runs
    assert cells["fast"].runs <= budget.max_runs


def test_a_ratio_pairs_the_samples_of_each_round() -> None:
    # Ours takes 1 ms a call and theirs 2 ms, except in a slow stretch of the host (rounds 3 to 7)
    # where both take three times as long. Their medians fall in and out of the stretch unevenly
    # (5 of 11 samples slow for ours, 5 of 9 for theirs, which stopped earlier): the quotient of
    # the medians is 6.0 / 1.0 = 6x. Round by round it is 2x, the two engines' real ratio.
    slow = range(3, 8)
    ours = [(3e-3 if i in slow else 1e-3) for i in range(11)]
    theirs = [(6e-3 if i in slow else 2e-3) for i in range(9)]
    assert throughput.paired_ratio(ours, theirs) == pytest.approx(2.0)
    assert throughput.paired_ratio(theirs, ours) == pytest.approx(0.5)
    assert throughput.paired_ratio(ours, []) is None


def test_a_row_pairs_every_two_contenders() -> None:
    fast = contender("fast", lambda _: sum(range(2_000)))
    slower = contender("slower", lambda _: sum(range(20_000)))
    inp = BenchInput("text-1KB", "pii", "1KB", "some text", ())
    budget = throughput.Budget(seconds=0.05, min_runs=5, max_runs=20, warmup_seconds=0.0)
    cells = {c.contender: c for c in throughput.measure_row(inp, "detect", [fast, slower], budget)}
    ratio = cells["fast"].paired["slower"]
    assert ratio > 2
    assert cells["slower"].paired["fast"] == pytest.approx(1 / ratio, rel=0.5)
    row = {name: c.to_json() for name, c in cells.items()}
    assert report.ratio(row, "fast", "slower") == ratio


def test_a_sample_is_the_cpu_time_a_call_spends_not_what_it_waits() -> None:
    # A call that waits 20 ms and computes nothing: what a stretch of the machine given to another
    # tenant looks like to the clock. It is timed in batches sized on the clock (one call each).
    waits = contender("waits", lambda _: time.sleep(0.02))
    inp = BenchInput("text-1KB", "pii", "1KB", "some text", ())
    budget = throughput.Budget(seconds=0.05, min_runs=3, max_runs=5, warmup_seconds=0.0)
    (cell,) = throughput.measure_row(inp, "detect", [waits], budget)
    assert cell.batch == 1
    assert cell.median_s is not None
    assert cell.median_s < 0.005


def test_a_failing_contender_is_reported_and_the_others_timed() -> None:
    def broken(_: Any) -> None:
        raise ValueError("no")

    calls = iter(range(1000))
    flaky = contender("flaky", lambda _: next(calls) < 5 or broken(None))
    fast = contender("fast", lambda _: None)
    inp = BenchInput("text-1KB", "pii", "1KB", "some text", ())
    budget = throughput.Budget(seconds=0.05, min_runs=3, max_runs=20, warmup_seconds=0.0)
    cells = {c.contender: c for c in throughput.measure_row(inp, "detect", [flaky, fast], budget)}
    assert cells["flaky"].status == "error"
    assert cells["flaky"].detail.startswith("ValueError")
    assert cells["fast"].status == "ok"
    assert cells["fast"].runs >= budget.min_runs


def test_busy_means_someone_else_loaded_the_machine() -> None:
    # 2 CPUs: busy above 1.0 at the start, above 2.0 at the end (the benchmark's own load added).
    assert not run.busy("0.34 0.38 0.63", "1.02 0.80 0.75", cpus=2)
    assert run.busy("1.06 1.20 1.05", "1.00 1.06 1.02", cpus=2)
    assert run.busy("0.20 0.20 0.20", "2.40 1.50 1.00", cpus=2)
    assert not run.busy("3.9 0 0", "4.9 0 0", cpus=8)


def test_the_engine_time_beside_an_mcp_call_is_the_last_of_calls_in_a_row() -> None:
    # The first calls after an MCP call run cold; the time quoted is the engine's warm one.
    import mcp_latency

    seen: list[tuple[str, Any]] = []

    class Engine:
        def mask(self, text: str, types: Any = None) -> None:
            seen.append((text, types))
            time.sleep(0.02 if len(seen) == 1 else 0.0)

    case = mcp_latency.Case("mask_pii 1KB", "mask_pii", {"text": "x", "types": ["email"]}, 1)
    took = mcp_latency.engine_call(Engine(), case, warm=2)
    assert seen == [("x", ["email"])] * 3
    assert took < 0.02


@pytest.mark.parametrize("implementation", ["rust", "python"])
@pytest.mark.parametrize(
    ("make", "types"),
    [
        # Its common words must not look like PII or labels to either engine.
        (inputs.chat_prose, None),
        # Ids, dates, amounts and references of 10 and 12 digits are no PII.
        (inputs.table_text, {"phone", "ssn", "credit_card"}),
    ],
    ids=["everyday-prose", "table-of-numbers"],
)
def test_ascii_inputs_hold_exactly_what_was_planted(
    make: Callable[[str], BenchInput], types: set[str] | None, implementation: str
) -> None:
    # The row's speed is that of the text with its planted PII, not of false positives.
    from collections import Counter

    from mcp_pii import Engine

    inp = make("10KB")
    engine = Engine(implementation=implementation)  # type: ignore[arg-type]
    found = Counter((d.type, d.value) for d in engine.detect(inp.text))
    assert found == Counter((p.type, p.value) for p in inp.planted)
    assert inp.text.isascii()
    assert len(inp.planted) >= 15
    assert types is None or {p.type for p in inp.planted} == types
    assert abs(inp.nbytes - inputs.SIZES["10KB"]) < 100


@pytest.mark.parametrize("implementation", ["rust", "python"])
def test_a_file_in_base64_holds_nothing(implementation: str) -> None:
    # Random bytes in base64: its speed row is that of a text with nothing to find.
    from mcp_pii import Engine

    inp = inputs.blob_text("10KB")
    engine = Engine(implementation=implementation)  # type: ignore[arg-type]
    assert engine.detect(inp.text) == []
    assert inp.text.isascii()
    assert inp.planted == ()
    assert abs(inp.nbytes - inputs.SIZES["10KB"]) < 8
