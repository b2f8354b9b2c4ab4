"""The result objects both engines return: :class:`Detection`, :class:`NestedDetection` and :class:`MaskResult`.

With the Rust extension, these names are its classes (``native/objects.rs``), which the binding
makes without running Python code: a Python ``__init__`` costs about 140 ns an object, more than a
short text's whole scan in Rust. Without it, they are the plain slots dataclasses below. The two
behave alike (same constructor, fields, equality, hash, repr, pickling; ``dataclasses.asdict``,
``replace`` and ``fields`` and pydantic take both), and ``tests/test_detection.py`` holds them to
it. Type checkers see the dataclasses. (``ScanResult``, one per scan of a whole payload, stays a
dataclass: its ``__init__`` is nothing next to the scan.)
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar


# The plain classes are slots classes, not frozen ones: a result may hold hundreds of thousands,
# and a frozen dataclass takes three times as long to build (311 against 101 us per 500). Treat
# them as read-only; they stay hashable.
@dataclass(slots=True, unsafe_hash=True)
class Detection:
    """One detected value: its type id, its span in the text (code-point offsets), the value and the rule.

    ``rule`` names what found it: the type id for the type's own patterns, ``<type>-label`` after a
    label, ``<type>-key`` under a labelled key, or a vendor rule such as ``gitlab-pat``. Two
    detections are equal when type, span and value are (``rule`` explains, it does not identify).
    """

    type: str
    start: int
    end: int
    value: str
    rule: str = field(default="", compare=False)


@dataclass(slots=True, unsafe_hash=True)
class NestedDetection:
    """A detection inside a nested payload; ``path`` is the RFC 6901 pointer of its string (or number).

    Inside JSON held in a string, ``path`` points to that string and ``embedded`` holds the pointer
    within the embedded document (then, for JSON held in a string of that document, within the
    next one): parse the string at ``path`` and resolve ``embedded[0]`` in it, and so on. Outside
    embedded JSON, ``embedded`` is empty.
    """

    path: str
    type: str
    start: int
    end: int
    value: str
    rule: str = field(default="", compare=False)
    embedded: tuple[str, ...] = ()


@dataclass(slots=True)
class MaskResult:
    """Masked text and the detections, whose spans refer to the input text.

    ``scope`` is the scope of reversible masking (with a vault), None otherwise.
    """

    text: str
    detections: list[Detection]
    scope: str | None = None


# The pure-Python classes, whichever the names above end up as (the tests compare the two).
PlainDetection = Detection
PlainNestedDetection = NestedDetection
PlainMaskResult = MaskResult

if not TYPE_CHECKING:
    try:
        from mcp_pii import _native
    except ImportError:
        pass
    else:
        for _plain, _made in (
            (Detection, _native.Detection),
            (NestedDetection, _native.NestedDetection),
            (MaskResult, _native.MaskResult),
        ):
            # What the dataclass functions and pydantic read (pydantic sets a slots class's fields
            # one by one on a blank object; see native/objects.rs).
            _made.__dataclass_fields__ = _plain.__dataclass_fields__
            _made.__slots__ = _plain.__slots__
            _made.__annotations__ = _plain.__annotations__
            _made.__doc__ = _plain.__doc__
        Detection = _native.Detection
        NestedDetection = _native.NestedDetection
        MaskResult = _native.MaskResult

# Results of at least this many detections are built with the cyclic garbage collector paused.
PAUSE_AT = 256

_Built = TypeVar("_Built", Detection, NestedDetection)


def built(kind: type[_Built], columns: Sequence[Sequence[Any]]) -> list[_Built]:
    """Detection columns (one sequence per field, in the constructor's order) as ``kind`` objects.

    The pure-Python engine collects its detections as columns and makes the objects here, once. A
    large result is built with Python's cyclic garbage collector paused (when it runs): each few
    hundred new objects would trigger a collection that traverses them, and now and then one of
    the whole heap, and none can free anything of the result, which nothing else refers to yet.
    The collector is process-wide: another thread that turns it off while this runs finds it on
    again after (as with any library that pauses it). The Rust binding pauses it the same way.
    """
    if not columns[0]:
        return []
    if len(columns[0]) < PAUSE_AT or not gc.isenabled():
        return list(map(kind, *columns))
    gc.disable()
    try:
        return list(map(kind, *columns))
    finally:
        gc.enable()
