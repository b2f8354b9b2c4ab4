"""Large results are built with Python's cyclic garbage collector paused, and left as found."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from conftest import require_impl

from mcp_pii import Engine
from mcp_pii.detection import PAUSE_AT

# More detections than either engine builds with the collector running.
COUNT = 3 * PAUSE_AT
TEXT = " ".join(f"mail user{i}@example.com now" for i in range(COUNT))
PAYLOAD = {"rows": [{"id": i, "mail": f"user{i}@example.com", "tags": [f"t{i}"]} for i in range(COUNT)]}


@contextmanager
def collections(threshold: int = 10) -> Iterator[list[set[str]]]:
    """For each collection that started, the names of the functions on the Python stack, with a low threshold.

    A low threshold makes a collection start every few container allocations, so that building a
    result with the collector running shows up as many. Up to Python 3.11 a collection runs in
    the frame that allocated; from 3.12 at the next bytecode boundary (here, in a detection's
    ``__init__`` called by ``built``): the whole stack is what tells.
    """
    started: list[set[str]] = []

    def note(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            names, frame = set(), sys._getframe(1)
            while frame is not None:
                names.add(frame.f_code.co_name)
                frame = frame.f_back
            started.append(names)

    before = gc.get_threshold()
    gc.set_threshold(threshold, *before[1:])
    gc.callbacks.append(note)
    try:
        yield started
    finally:
        gc.callbacks.remove(note)
        gc.set_threshold(*before)


# Each call's detections.
CALLS: dict[str, Callable[[Engine], list[Any]]] = {
    "detect": lambda e: e.detect(TEXT),
    "mask": lambda e: e.mask(TEXT).detections,
    "scan": lambda e: e.scan(PAYLOAD).detections,
}


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_left_as_found(engine: Engine, call: str, enabled: bool) -> None:
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        found = CALLS[call](engine)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
    assert len(found) == COUNT


@pytest.mark.parametrize("call", sorted(CALLS))
def test_the_python_engine_builds_its_detections_with_no_collection(call: str) -> None:
    engine = Engine(implementation="python")
    with collections() as started:
        found = CALLS[call](engine)
    assert len(found) == COUNT
    # Building COUNT objects would start a collection every 10 of them.
    assert not [names for names in started if "built" in names]
    # The pause starts at PAUSE_AT: a smaller result is built with the collector running.
    with collections() as started:
        assert len(engine.detect(TEXT[: len(TEXT) // COUNT * 20])) == 20
    assert [names for names in started if "built" in names]


# The Rust binding's calls on a result of `rows` detections: (text or payload, the call).
BINDING_CALLS: dict[str, Callable[[Any, int], Any]] = {
    "detect": lambda b, rows: b.detect(" ".join(TEXT.split(" now ")[:rows])),
    "mask": lambda b, rows: b.mask(" ".join(TEXT.split(" now ")[:rows]))[1],
    "scan": lambda b, rows: b.scan({"rows": PAYLOAD["rows"][:rows]}, None, None, True)[1],
}


@pytest.mark.parametrize("call", sorted(BINDING_CALLS))
@pytest.mark.parametrize(("rows", "calls"), [(COUNT, ["isenabled", "disable", "enable"]), (10, [])])
def test_the_rust_binding_makes_a_large_result_with_the_collector_paused(
    monkeypatch: pytest.MonkeyPatch, call: str, rows: int, calls: list[str]
) -> None:
    require_impl("rust")
    backend = Engine(implementation="rust")._backend
    made: list[str] = []
    for name in ("isenabled", "disable", "enable"):
        real = getattr(gc, name)
        monkeypatch.setattr(gc, name, lambda real=real, name=name: made.append(name) or real())
    found = BINDING_CALLS[call](backend, rows)
    monkeypatch.undo()
    assert len(found) == rows
    # Paused while the detections (and a scan's masked copy) were made; not for a small result.
    assert made == calls
    assert gc.isenabled()


def test_a_collector_that_cannot_be_paused_costs_no_result(monkeypatch: pytest.MonkeyPatch) -> None:
    require_impl("rust")
    backend = Engine(implementation="rust")._backend

    def broken() -> bool:
        raise RuntimeError("no collector here")

    monkeypatch.setattr(gc, "isenabled", broken)
    out, found, _ = backend.scan(PAYLOAD, None, None, True)
    assert len(found) == COUNT
    assert out["rows"][-1]["mail"] == "[EMAIL]"
