"""Offsets in the unit a client slices strings by.

The engines report Unicode code points (Python string indices). JavaScript and Java slice by
UTF-16 code units, and byte-oriented clients (Go, Rust, C) by UTF-8 bytes; the tools convert on
request (``offsets``). Both differ from code points only past a non-ASCII character (UTF-16 only
past one outside the Basic Multilingual Plane, such as an emoji), so ASCII text is returned as it is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

from mcp_pii.pointer import resolve

Unit = Literal["codepoint", "utf16", "utf8"]
UNITS: tuple[Unit, ...] = ("codepoint", "utf16", "utf8")
DOC = (
    "Unit of start and end: 'codepoint' (default; Python string indices), 'utf16' (JavaScript, Java "
    "and C# string indices) or 'utf8' (byte offsets into the UTF-8 text)."
)

D = TypeVar("D")


def _length(unit: Unit) -> Callable[[str], int]:
    if unit == "utf16":
        return lambda s: len(s) + sum(1 for ch in s if ord(ch) > 0xFFFF) if not s.isascii() else len(s)
    return lambda s: len(s) if s.isascii() else len(s.encode("utf-8"))


def convert(text: str, detections: Sequence[D], unit: Unit) -> list[D]:
    """``detections`` (in order, not overlapping, code-point spans of ``text``) with offsets in ``unit``."""
    if unit == "codepoint" or text.isascii() or not detections:
        return list(detections)
    length = _length(unit)
    out: list[D] = []
    at = done = 0  # a code-point offset, and its value in the unit
    for d in detections:
        start, end = d.start, d.end  # type: ignore[attr-defined]
        if start < at:  # not in order: count from the beginning
            at = done = 0
        new_start = done + length(text[at:start])
        new_end = new_start + length(text[start:end])
        at, done = end, new_end
        out.append(dataclasses.replace(d, start=new_start, end=new_end))  # type: ignore[type-var]
    return out


def convert_nested(data: Any, detections: Sequence[D], unit: Unit) -> list[D]:
    """Detections of a scan of ``data`` with offsets in ``unit``: each into the string its pointers name."""
    if unit == "codepoint" or not detections:
        return list(detections)
    out: list[D] = []
    i = 0
    while i < len(detections):
        where = _where(detections[i])
        j = i + 1
        while j < len(detections) and _where(detections[j]) == where:
            j += 1
        value = resolve(data, where[0], where[1])
        out += convert(value if isinstance(value, str) else str(value), detections[i:j], unit)
        i = j
    return out


def _where(d: Any) -> tuple[str, tuple[str, ...]]:
    return d.path, tuple(d.embedded)
