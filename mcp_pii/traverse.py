"""Scanning nested JSON values. Mirrors ``native/traverse.rs``.

Two passes, in the same order in both engines so that the same limit trips first:
1. :func:`check` walks the value as given (pre-order, object keys in order): every node counts
   towards ``max_nodes``, every string's UTF-8 length towards ``max_text_bytes``, and no node may
   sit deeper than ``max_depth`` (the root is at depth 0). Wrong types and lone surrogates are
   input errors that name the JSON Pointer of the node.
2. :class:`Walker` scans every string. A string whose first non-blank character is ``{`` or ``[``
   and that parses as strict JSON is walked as nested data (its nodes count too, its root takes
   the string's depth) and, if anything was masked inside it, written back compactly.
   An object member's key is the label of its value (the key grammar of ``catalog.Labels``): the
   nearest key above a value, or that key joined to the key above it (``{"passport": {"number":
   ...}}``), names the types whose value shapes the whole string (without surrounding blanks) is
   tried against; an integer under such a key is tried as its decimal text and, when masked,
   replaced by the masked string (``scan_numbers``).
Detections carry the RFC 6901 pointer of the string (or number) they were found in; inside JSON
held in a string, that is the pointer of the holding string, and ``embedded`` lists the pointers
within the embedded documents (outermost first), so that each one resolves where it is read.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Iterable
from typing import Any

from mcp_pii import detect
from mcp_pii.catalog import Compiled
from mcp_pii.errors import InputError, LimitError
from mcp_pii.mask import Masker

Path = tuple[str | int, ...]
# The detections of a scan as columns, one item per detection in each: pointer, type id, start,
# end, value, rule, pointers inside embedded JSON. Columns, not a tuple per detection: a large
# payload has thousands, and each tuple is an object for the garbage collector to visit.
Found = tuple[list[str], list[str], list[int], list[int], list[str], list[str], list[tuple[str, ...]]]
Keys = tuple[str | None, str | None]  # (the key above the nearest, the nearest key) of a value
_BLANK = " \t\n\r"


def pointer(path: Path) -> str:
    """Return the RFC 6901 JSON Pointer of ``path``."""
    return "".join("/" + (str(p) if isinstance(p, int) else p.replace("~", "~0").replace("/", "~1")) for p in path)


def depth_error(c: Compiled) -> LimitError:
    """The error for a payload nested deeper than ``max_depth``."""
    return LimitError(f"payload is nested deeper than {c.max_depth} levels (max_depth); flatten it or raise the limit")


def nodes_error(c: Compiled) -> LimitError:
    """The error for a payload with more than ``max_nodes`` values."""
    return LimitError(f"payload has more than {c.max_nodes} values (max_nodes); split it or raise the limit")


def text_total_error(c: Compiled) -> LimitError:
    """The error for a payload whose strings add up to more than ``max_text_bytes``."""
    return LimitError(
        f"strings in the payload add up to more than {c.max_text_bytes} bytes (max_text_bytes); "
        "split it or raise the limit"
    )


def surrogate_index(s: str) -> int | None:
    """Return the index of the first lone surrogate in ``s``, or None."""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def utf8_len(s: str) -> int:
    """Return the UTF-8 length of a string without lone surrogates."""
    return len(s) if s.isascii() else len(s.encode("utf-8"))


class _Counter:
    __slots__ = ("bytes", "nodes")

    def __init__(self) -> None:
        self.nodes = 0
        self.bytes = 0


def check(c: Compiled, data: Any) -> tuple[int, int]:
    """Pass 1: validate types and limits of ``data``; return its number of nodes and the UTF-8
    bytes of its strings (not of its keys)."""
    n = _Counter()
    _check(c, data, 0, (), n)
    return n.nodes, n.bytes


def _check(c: Compiled, v: Any, depth: int, path: Path, n: _Counter) -> None:
    if depth > c.max_depth:
        raise depth_error(c)
    n.nodes += 1
    if n.nodes > c.max_nodes:
        raise nodes_error(c)
    if isinstance(v, str):
        bad = surrogate_index(v)
        if bad is not None:
            raise InputError(f"string at '{pointer(path)}' has a lone surrogate at index {bad}; send valid Unicode")
        n.bytes += utf8_len(v)
        if n.bytes > c.max_text_bytes:
            raise text_total_error(c)
    elif isinstance(v, dict):
        for k, item in v.items():
            if not isinstance(k, str):
                raise InputError(
                    f"object at '{pointer(path)}' has a key of type '{type(k).__name__}'; keys must be strings"
                )
            if surrogate_index(k) is not None:
                raise InputError(f"object at '{pointer(path)}' has a key with a lone surrogate; send valid Unicode")
            _check(c, item, depth + 1, (*path, k), n)
    elif isinstance(v, (list, tuple)):
        for i, item in enumerate(v):
            _check(c, item, depth + 1, (*path, i), n)
    elif isinstance(v, float):
        if not math.isfinite(v):
            raise InputError(f"number at '{pointer(path)}' is not finite; JSON has no NaN or Infinity")
    elif v is not None and not isinstance(v, (bool, int)):
        raise InputError(
            f"value at '{pointer(path)}' has type '{type(v).__name__}'; send JSON values only "
            "(objects, arrays, strings, numbers, booleans, null)"
        )


class RawNumber(str):
    """A number parsed from embedded JSON, kept as its source text so its digits are written back unchanged."""

    __slots__ = ()

    def canonical(self) -> str:
        """The text written back: the exponent marker as ``e`` and its sign always explicit (``1E5`` -> ``1e+5``)."""
        mantissa, marker, exponent = self.replace("E", "e").partition("e")
        if marker and exponent[:1] not in ("+", "-"):
            exponent = "+" + exponent
        return mantissa + marker + exponent


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def bracket_depth(s: str) -> int:
    """Return the deepest nesting of brackets outside strings in JSON text ``s``."""
    depth = deepest = 0
    in_str = escaped = False
    for ch in s:
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


# One JSON token after optional blanks: a run of opening brackets (one token, so that a text of
# millions of them costs one match), a closing bracket, ',', ':', a string, or a number or literal.
_TOKEN = re.compile(
    r"[ \t\n\r]*(?:(?P<open>[\[{](?:[ \t\n\r]*\[)*)|(?P<close>[\]}])|(?P<comma>,)|(?P<colon>:)"
    r'|(?P<string>"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*")'
    r"|(?P<scalar>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null))"
)
_END = re.compile(r"[ \t\n\r]*\Z")


def is_json(s: str) -> bool:
    """Whether ``s`` is one JSON object or array (RFC 8259 syntax, at any depth), checked without recursion.

    Decides whether a string nested deeper than ``max_depth`` is JSON (the depth error) or text.
    """
    stack: list[list[Any]] = []  # runs of open containers: [bracket, count]
    want = "value"  # value, value_or_close, key, key_or_close, colon, comma_or_close
    at = 0
    while not (want == "comma_or_close" and not stack):
        m = _TOKEN.match(s, at)
        if m is None:
            return False
        at, kind, text = m.end(), m.lastgroup, m.group(m.lastgroup or 0)
        if kind == "open" and want in ("value", "value_or_close"):
            arrays = text.count("[") - (text[0] == "[")
            stack.append([text[0], 1])
            if arrays:
                stack.append(["[", arrays])
            want = "value_or_close" if stack[-1][0] == "[" else "key_or_close"
        elif kind == "close" and want in ("value_or_close", "key_or_close", "comma_or_close"):
            opener = "[" if text == "]" else "{"
            if not stack or stack[-1][0] != opener or want == {"[": "key_or_close", "{": "value_or_close"}[opener]:
                return False
            stack[-1][1] -= 1
            if not stack[-1][1]:
                stack.pop()
            want = "comma_or_close"
        elif kind == "comma" and want == "comma_or_close":
            want = "key" if stack[-1][0] == "{" else "value"
        elif kind == "colon" and want == "colon":
            want = "value"
        elif kind == "string" and want in ("key", "key_or_close"):
            want = "colon"
        elif kind in ("string", "scalar") and want in ("value", "value_or_close") and stack:
            want = "comma_or_close"
        else:
            return False
    return _END.match(s, at) is not None


def _clean(v: Any) -> bool:
    """Return True if no string or key in parsed JSON holds a lone surrogate."""
    if isinstance(v, RawNumber):
        return True
    if isinstance(v, str):
        return surrogate_index(v) is None
    if isinstance(v, list):
        return all(_clean(x) for x in v)
    if isinstance(v, dict):
        return all(surrogate_index(k) is None and _clean(x) for k, x in v.items())
    return True


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate key")
    return out


def parse_embedded(s: str) -> Any:
    """Return the object or array that ``s`` holds as strict JSON, or None if it holds none.

    An object with a repeated key is not taken as JSON (parsing would keep only one of the
    values, and the others would go unscanned): such a string is scanned as plain text.
    """
    try:
        v = json.loads(
            s,
            parse_float=RawNumber,
            parse_int=RawNumber,
            parse_constant=_no_constant,
            object_pairs_hook=_no_duplicates,
        )
    except (ValueError, RecursionError):
        return None
    if not isinstance(v, (dict, list)) or not _clean(v):
        return None
    return v


def dump(v: Any) -> str:
    """Write parsed embedded JSON back compactly (numbers as :meth:`RawNumber.canonical` writes them)."""
    if isinstance(v, RawNumber):
        return v.canonical()
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, list):
        return "[" + ",".join(dump(x) for x in v) + "]"
    return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + dump(x) for k, x in v.items()) + "}"


class Walker:
    """Pass 2: scan (and optionally mask) every string of a checked value."""

    def __init__(self, c: Compiled, selected: list[int], masker: Masker | None, nodes: int) -> None:
        self.c = c
        self.selected = selected
        self.labelled = [ti for ti in selected if c.types[ti].labels is not None] if c.key_labels else []
        self.masker = masker
        self.nodes = nodes
        self.found: Found = ([], [], [], [], [], [], [])
        self._outer: list[str] = []  # pointers of the strings holding JSON that the walk is inside
        self._key_types: dict[Keys, list[int]] = {}

    def walk(self, v: Any, depth: int, path: Path, keys: Keys = (None, None)) -> Any:
        """Return ``v`` with its strings masked (``v`` itself where nothing changed).

        A dict or list comes back as the same object when nothing in it changed; a tuple, or a
        subclass of dict or list, always as a new list or dict (what JSON has).
        """
        if isinstance(v, str) and not isinstance(v, RawNumber):
            return self._string(v, depth, path, keys)
        if isinstance(v, dict):
            out = {k: self.walk(x, depth + 1, (*path, k), (keys[1], k)) for k, x in v.items()}
            return v if type(v) is dict and len(out) == len(v) and _same(out.values(), v.values()) else out
        if isinstance(v, (list, tuple)):
            items = [self.walk(x, depth + 1, (*path, i), keys) for i, x in enumerate(v)]
            return v if type(v) is list and _same(items, v) else items
        if keys[1] is not None and self.c.scan_numbers and _is_int(v):
            return self._number(v, path, keys)
        return v

    def _count(self, v: Any, depth: int) -> None:
        if depth > self.c.max_depth:
            raise depth_error(self.c)
        self.nodes += 1
        if self.nodes > self.c.max_nodes:
            raise nodes_error(self.c)
        if isinstance(v, dict):
            for x in v.values():
                self._count(x, depth + 1)
        elif isinstance(v, list):
            for x in v:
                self._count(x, depth + 1)

    def key_types(self, keys: Keys) -> list[int]:
        """The labelled types a value under ``keys`` is tried as (the nearest key, else both joined)."""
        if keys[1] is None or not self.labelled:
            return []
        got = self._key_types.get(keys)
        if got is None:
            types = self.c.types
            got = [ti for ti in self.labelled if types[ti].labels.matches(keys[1], True)]  # type: ignore[union-attr]
            if not got and keys[0] is not None:
                joined = keys[0] + " " + keys[1]
                got = [ti for ti in self.labelled if types[ti].labels.matches(joined, True)]  # type: ignore[union-attr]
            self._key_types[keys] = got
        return got

    def _keyed(self, s: str, keys: Keys) -> list[detect.Span]:
        """Candidates for a whole value under a labelled key: its text without surrounding blanks."""
        out: list[detect.Span] = []
        for ti in self.key_types(keys):
            start = len(s) - len(s.lstrip(_BLANK))
            end = len(s.rstrip(_BLANK))
            t = self.c.types[ti]
            if start >= end or t.labels is None or not t.labels.key_values.fullmatch(s, start, end):
                continue
            got = detect.accept(t.checks, self.c, s, start, end)
            if got is not None and got[0] == end and got[1] < 0 and got[2] < 0:
                out.append((start, end, ti, t.key_rule))
        return out

    def _record(self, s: str, spans: list[detect.Span], path: Path) -> str:
        ptr = pointer(path)
        if self._outer:
            ptr, embedded = self._outer[0], (*self._outer[1:], ptr)
        else:
            embedded = ()
        types = self.c.types
        paths, ids, starts, ends, values, rules, inside = self.found
        for a, b, ti, ri in spans:
            paths.append(ptr)
            ids.append(types[ti].id)
            starts.append(a)
            ends.append(b)
            values.append(s[a:b])
            rules.append(types[ti].rule_name(ri))
            inside.append(embedded)
        return self.masker.apply(s, spans) if self.masker is not None else s

    def _number(self, v: int, path: Path, keys: Keys) -> Any:
        text = str(int(v))
        keyed = self._keyed(text, keys)
        spans = detect.detect(self.c, text, [], keyed) if keyed else keyed
        if not spans:
            return v
        masked = self._record(text, spans, path)
        return masked if self.masker is not None else v

    def _string(self, s: str, depth: int, path: Path, keys: Keys) -> Any:
        if s.lstrip(_BLANK)[:1] in ("{", "["):
            too_deep = depth + bracket_depth(s) - 1 > self.c.max_depth
            if too_deep and is_json(s):
                raise depth_error(self.c)
            # Text that only starts like JSON (any number of brackets) is scanned as text.
            inner = None if too_deep else parse_embedded(s)
            if inner is not None:
                self._count(inner, depth)
                before = len(self.found[0])
                self._outer.append(pointer(path))
                out = self.walk(inner, depth, (), keys)
                self._outer.pop()
                return dump(out) if self.masker is not None and len(self.found[0]) > before else s
        spans = detect.detect(self.c, s, self.selected, self._keyed(s, keys))
        if not spans:
            return s
        return self._record(s, spans, path)


def _same(a: Iterable[Any], b: Iterable[Any]) -> bool:
    """Return True if ``a`` and ``b`` hold the same objects, in order (``a`` no longer than ``b``)."""
    return all(map(operator.is_, a, b))


def _is_int(v: Any) -> bool:
    """Return True for an integer that fits in 64 bits (signed or unsigned), as JSON numbers go."""
    if isinstance(v, RawNumber):
        if not v or any(ch in v for ch in ".eE"):
            return False
        v = int(v)
    return isinstance(v, int) and not isinstance(v, bool) and -(2**63) <= v < 2**64
