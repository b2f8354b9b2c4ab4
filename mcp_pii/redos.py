"""Pattern shapes that make a backtracking engine (Python's ``re``, so the Python twin) take exponential time.

The Rust engine runs every pattern in linear time; the Python twin must give the same results,
so a custom pattern that would make it backtrack catastrophically is refused when the
configuration loads (``catalog.check_custom``). ``catalog.has_nested_repeat`` refuses a
repetition nested in an unbounded one (``(a+)+``); this module finds the two shapes that check
lets through, both of which give a string more than one way to be split between iterations:

- a repeated group whose alternatives can start with the same character: ``(a|aa)+c``;
- a repeated group that ends in a variable-length repetition of characters that can also start
  the next iteration: ``(?:[a-z]{1,20}){1,5}x``.

Both checks look at first characters only, so they also refuse some patterns that would run
fine (``(?:ab|ac)+``); such a pattern can nearly always be written without the overlap
(``(?:a[bc])+``). A group whose iterations start with a character its tail cannot match, as in
``(?:\\.[a-z]{1,63}){1,8}``, is accepted.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

_ALL = frozenset(range(256))


def _sre() -> tuple[Any, Any]:
    return importlib.import_module("re._parser"), importlib.import_module("re._constants")


def _class_chars(items: Any, c: Any) -> frozenset[int]:
    chars: set[int] = set()
    negate = False
    for op, av in items:
        if op is c.NEGATE:
            negate = True
        elif op is c.LITERAL:
            chars.add(av)
        elif op is c.RANGE:
            chars.update(range(av[0], min(av[1], 255) + 1))
        else:  # a category (\d, \w: not in the dialect) or anything unknown: assume everything
            return _ALL
    return _ALL - chars if negate else frozenset(chars)


def _first(items: Any, c: Any) -> tuple[frozenset[int], bool]:
    """Characters a sequence can start with, and whether it can match the empty string."""
    out: set[int] = set()
    for op, av in items:
        if op is c.AT:
            continue
        if op is c.LITERAL:
            return frozenset(out | {av}), False
        if op is c.NOT_LITERAL or op is c.ANY:
            return _ALL, False
        if op is c.IN:
            return frozenset(out | _class_chars(av, c)), False
        if op is c.SUBPATTERN:
            chars, empty = _first(av[-1], c)
        elif op is c.BRANCH:
            parts = [_first(b, c) for b in av[1]]
            chars, empty = frozenset().union(*(p[0] for p in parts)), any(p[1] for p in parts)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            chars, empty = _first(av[2], c)
            empty = empty or av[0] == 0
        else:
            return _ALL, False
        out |= chars
        if not empty:
            return frozenset(out), False
    return frozenset(out), True


def _chars(items: Any, c: Any) -> frozenset[int]:
    """Every character a sequence can consume."""
    out: set[int] = set()
    for op, av in items:
        if op is c.LITERAL:
            out.add(av)
        elif op is c.IN:
            out |= _class_chars(av, c)
        elif op is c.SUBPATTERN:
            out |= _chars(av[-1], c)
        elif op is c.BRANCH:
            for b in av[1]:
                out |= _chars(b, c)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            out |= _chars(av[2], c)
        elif op is not c.AT:
            return _ALL
    return frozenset(out)


def _width(items: Any, c: Any) -> tuple[int, float]:
    """Shortest and longest match of a sequence (``inf`` when unbounded)."""
    lo, hi = 0, 0.0
    for op, av in items:
        if op in (c.LITERAL, c.NOT_LITERAL, c.ANY, c.IN):
            lo, hi = lo + 1, hi + 1
        elif op is c.SUBPATTERN:
            w = _width(av[-1], c)
            lo, hi = lo + w[0], hi + w[1]
        elif op is c.BRANCH:
            ws = [_width(b, c) for b in av[1]]
            lo, hi = lo + min(w[0] for w in ws), hi + max(w[1] for w in ws)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            w = _width(av[2], c)
            top = float("inf") if av[1] is c.MAXREPEAT else av[1] * w[1]
            lo, hi = lo + av[0] * w[0], hi + top
        elif op is not c.AT:
            return lo, float("inf")
    return lo, hi


def _variable_tail(items: Any, c: Any) -> frozenset[int]:
    """Characters of a variable-length part at the end of a sequence (empty if it ends in a fixed one)."""
    if not items:
        return frozenset()
    last = items[-1]
    lo, hi = _width([last], c)
    if lo != hi:
        return _chars([last], c)
    if last[0] is c.SUBPATTERN:
        return _variable_tail(last[1][-1], c)
    return frozenset()


def _ambiguous_branch(items: Any, c: Any) -> bool:
    """Whether an alternation in ``items`` has two alternatives that can start alike (or both be empty)."""
    for op, av in items:
        if op is c.BRANCH:
            firsts = [_first(b, c) for b in av[1]]
            for i in range(len(firsts)):
                for j in range(i):
                    if firsts[i][0] & firsts[j][0] or (firsts[i][1] and firsts[j][1]):
                        return True
            if any(_ambiguous_branch(b, c) for b in av[1]):
                return True
        elif (op is c.SUBPATTERN and _ambiguous_branch(av[-1], c)) or (
            op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and _ambiguous_branch(av[2], c)
        ):
            return True
    return False


def backtracking_risk(pattern: str) -> str | None:
    """Why ``pattern`` can make a backtracking engine take exponential time, or None."""
    parser, c = _sre()

    def walk(items: Any) -> str | None:
        for op, av in items:
            if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
                body = av[2]
                if av[1] is c.MAXREPEAT or av[1] > 1:
                    if _ambiguous_branch(body, c):
                        return "puts alternatives that can start alike under a repetition, as in (a|aa)+"
                    if _variable_tail(body, c) & _first(body, c)[0]:
                        return (
                            "ends a repeated group in a variable-length repetition of characters that can "
                            "also start the group, as in (?:[a-z]{1,20}){1,5}"
                        )
                found = walk(body)
            elif op is c.SUBPATTERN:
                found = walk(av[-1])
            elif op is c.BRANCH:
                found = next((r for b in av[1] if (r := walk(b))), None)
            else:
                found = None
            if found:
                return found
        return None

    return walk(parser.parse(pattern, re.ASCII))
