"""The payload sizes the server and the hooks take around a scan: the Rust extension's walks give
what their pure-Python twins give (``native/measure.rs``), and they are the ones in use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_pii import _native, jsonout, offload


class Text(str):
    """A str subclass: sized as a string."""


class Mapping(dict[str, Any]):
    """A dict subclass: read as a dict."""


class Items(list[Any]):
    """A list subclass: read as a list."""


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.text(alphabet="aé東😀", min_size=1, max_size=6000),  # past 4 KiB: a string weighs more
    st.builds(Text, st.text(max_size=8)),
    st.builds(Text, st.text(alphabet="a\ud800é", max_size=8)),  # a lone surrogate is one character
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6),
        st.dictionaries(st.text(max_size=4), inner, max_size=6),
        st.lists(inner, max_size=4).map(tuple),
        st.lists(inner, max_size=4).map(Items),
        st.dictionaries(st.text(max_size=4), inner, max_size=4).map(Mapping),
    ),
    max_leaves=60,
)
BUDGETS = st.integers(min_value=0, max_value=400)
PAIRS: list[tuple[str, Callable[..., int], Callable[..., int]]] = [
    ("payload_size", offload.plain_payload_size, _native.payload_size),
    ("weight", jsonout.plain_weight, _native.weight),
]


@settings(max_examples=400, deadline=None)
@given(value=VALUES, budget=BUDGETS)
@pytest.mark.parametrize(("name", "plain", "native"), PAIRS, ids=[p[0] for p in PAIRS])
def test_budgeted_sizes_are_the_python_twins(
    name: str, plain: Callable[..., int], native: Callable[..., int], value: Any, budget: int
) -> None:
    assert native(value, budget) == plain(value, budget)


def test_the_extension_walks_are_in_use() -> None:
    """The server and the hooks call these names: each is the extension's function."""
    assert offload._payload_size is _native.payload_size
    assert jsonout._weight is _native.weight


def test_examples() -> None:
    record = {"name": "Zoë", "tags": ["a", 7, None], "n": (1, "xy")}
    # 8 for the dict, 3 characters, 8 for the list, 1 + 8 + 8 in it, 8 for the tuple (not read in).
    assert offload.payload_size(record, 10**9) == 8 + 3 + 8 + 1 + 8 + 8 + 8
    # Every value once: the dict, its three values (the tuple not read in) and the list's three.
    assert jsonout._weight(record, 10**9) == 7


def test_a_budget_stops_the_count_after_the_value_that_reached_it() -> None:
    data = [["x" * 50, "y" * 50], "z" * 50]
    # The inner list's first string reaches 16 + 50 >= 20: the walk stops there, at every level.
    assert offload.payload_size(data, 20) == offload.plain_payload_size(data, 20) == 66
    assert jsonout._weight(["a"] * 10, 5) == jsonout.plain_weight(["a"] * 10, 5) == 5


def test_no_depth_overflows_the_stack() -> None:
    deep: Any = "abc"
    for _ in range(200_000):
        deep = [deep]
    assert offload.payload_size(deep, 10**12) == 8 * 200_000 + 3
    assert jsonout._weight(deep, 10**12) == 200_001


def test_a_lone_surrogate_counts_one_character() -> None:
    data = {"k": ["ok", "\ud800"]}
    # Sizes in characters need no encoding, in a str subclass either.
    assert offload.payload_size(data, 10**9) == offload.plain_payload_size(data, 10**9) == 8 + 8 + 2 + 1
    sub = [Text("a\ud800")]
    assert offload.payload_size(sub, 10**9) == offload.plain_payload_size(sub, 10**9) == 8 + 2


def test_a_walk_runs_no_code_of_the_payload() -> None:
    """A str subclass's __len__ is not called (it could change the dict being read): its characters count."""
    data: dict[str, Any] = {}

    class Meddler(str):
        def __len__(self) -> int:
            data.clear()
            return 0

    data.update(a=Meddler("xyz"), b="ok")
    assert offload.payload_size(data, 10**9) == 8 + 3 + 2
    assert jsonout._weight(data, 10**9) == 3
    assert data == {"a": "xyz", "b": "ok"}
