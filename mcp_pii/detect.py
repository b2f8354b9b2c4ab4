"""Detection: candidates, validation, overlap resolution, allow list. Mirrors ``native/detect.rs``.

The five rules of DESIGN.md, in order:
1. every enabled pattern contributes all its non-overlapping leftmost-first matches;
2. candidates failing their checks (context, digits, suffixes, validator) are dropped;
3. overlaps are resolved across types: by start, then longer first, then catalog order, keeping
   greedily what does not overlap a kept span;
4. allow-listed values are removed after that, so they still keep weaker candidates out;
5. offsets are string indices (code points).
"""

from __future__ import annotations

from mcp_pii import validate
from mcp_pii.catalog import Compiled, PiiType

Span = tuple[int, int, int]  # (start, end, type index)


def _accept(t: PiiType, c: Compiled, text: str, start: int, end: int) -> int | None:
    value = text[start:end]
    if t.validator is not None:
        keep = validate.run(t.validator, value, c.tables)
        if keep is None:
            return None
        end = start + keep
        value = value[:keep]
    if t.reject_prev is not None and start > 0 and t.reject_prev.fullmatch(text[start - 1]):
        return None
    if t.reject_next is not None and end < len(text) and t.reject_next.fullmatch(text[end]):
        return None
    if t.min_digits and sum(1 for ch in value if "0" <= ch <= "9") < t.min_digits:
        return None
    if t.deny_suffixes and value.lower().endswith(t.deny_suffixes):
        return None
    return end


def candidates(c: Compiled, text: str, selected: list[int]) -> list[Span]:
    """Return every validated candidate of the selected types (rules 1 and 2)."""
    out: list[Span] = []
    for ti in selected:
        t = c.types[ti]
        for rx in t.patterns:
            has_value = "value" in rx.groupindex
            for m in rx.finditer(text):
                start, end = m.span("value") if has_value else m.span()
                if start < 0 or start == end:
                    continue
                kept = _accept(t, c, text, start, end)
                if kept is not None:
                    out.append((start, kept, ti))
    return out


def resolve(spans: list[Span]) -> list[Span]:
    """Keep the non-overlapping spans, by start, then longer first, then catalog order (rule 3)."""
    spans.sort(key=lambda s: (s[0], s[0] - s[1], s[2]))
    kept: list[Span] = []
    last_end = 0
    for s in spans:
        if s[0] >= last_end:
            kept.append(s)
            last_end = s[1]
    return kept


def allowed(c: Compiled, value: str) -> bool:
    """Return True if ``value`` is on the allow list (exact, or a pattern matching all of it)."""
    return value in c.allow_values or any(p.fullmatch(value) for p in c.allow_patterns)


def detect(c: Compiled, text: str, selected: list[int]) -> list[Span]:
    """Return the detections in ``text`` for the selected type indices, sorted by start."""
    kept = resolve(candidates(c, text, selected))
    if c.allow_values or c.allow_patterns:
        kept = [s for s in kept if not allowed(c, text[s[0] : s[1]])]
    return kept
