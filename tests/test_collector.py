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
from mcp_pii import engine as engine_module

# More detections than the facade builds with the collector running.
COUNT = 3 * engine_module.PAUSE_AT
TEXT = " ".join(f"mail user{i}@example.com now" for i in range(COUNT))
PAYLOAD = {"rows": [{"id": i, "mail": f"user{i}@example.com", "tags": [f"t{i}"]} for i in range(COUNT)]}


@contextmanager
def collections(threshold: int = 10) -> Iterator[list[set[str]]]:
    """For each collection that started, the names of the functions on the Python stack, with a low threshold.

    A low threshold makes a collection start every few container allocations, so that building a
    result with the collector running shows up as many. Up to Python 3.11 a collection runs in
    the frame that allocated; from 3.12 at the next bytecode boundary (here, in a detection's
    ``__init__`` called by ``_built``): the whole stack is what tells.
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
def test_no_collection_while_detections_are_built(engine: Engine, call: str) -> None:
    with collections() as started:
        found = CALLS[call](engine)
    assert len(found) == COUNT
    # Building COUNT objects would start a collection every 10 of them.
    assert not [names for names in started if "_built" in names]
    # The pause starts at PAUSE_AT: a smaller result is built with the collector running.
    with collections() as started:
        assert len(engine.detect(TEXT[: len(TEXT) // COUNT * 20])) == 20
    assert [names for names in started if "_built" in names]


@pytest.mark.parametrize(("rows", "calls"), [(COUNT, ["isenabled", "disable", "enable"]), (10, [])])
def test_the_rust_binding_writes_a_large_payload_with_the_collector_paused(
    monkeypatch: pytest.MonkeyPatch, rows: int, calls: list[str]
) -> None:
    require_impl("rust")
    backend = Engine(implementation="rust")._backend
    made: list[str] = []
    for name in ("isenabled", "disable", "enable"):
        real = getattr(gc, name)
        monkeypatch.setattr(gc, name, lambda real=real, name=name: made.append(name) or real())
    payload = {"rows": PAYLOAD["rows"][:rows]}
    out, found = backend.scan(payload, None, None, True)
    monkeypatch.undo()
    assert len(found[0]) == rows
    assert out["rows"][-1]["mail"] == "[EMAIL]"
    # Paused while the masked copy was written (a payload under PAUSE_NODES values is not).
    assert made == calls
    assert gc.isenabled()


def test_a_collector_that_cannot_be_paused_costs_no_result(monkeypatch: pytest.MonkeyPatch) -> None:
    require_impl("rust")
    backend = Engine(implementation="rust")._backend

    def broken() -> bool:
        raise RuntimeError("no collector here")

    monkeypatch.setattr(gc, "isenabled", broken)
    out, found = backend.scan(PAYLOAD, None, None, True)
    assert len(found[0]) == COUNT
    assert out["rows"][-1]["mail"] == "[EMAIL]"
