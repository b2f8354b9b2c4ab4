"""Detection: candidates, validation, overlap resolution, allow list. Mirrors ``native/detect.rs``.

The five rules of DESIGN.md, in order:
1. every enabled pattern contributes all its non-overlapping leftmost-first matches, as
   ``re.finditer`` gives, except that when a validator keeps only a prefix of a value (an IBAN
   followed by more text), the search resumes right after that prefix, so the rest is scanned too;
2. candidates failing their checks (validator, digits, suffixes) are dropped; a candidate whose
   neighbouring character is in its type's reject class waits (step 3b);
3. overlaps are resolved across types: by start, then longer first, then catalog order, keeping
   greedily what does not overlap a kept span; (3b) a waiting candidate is kept after all when each
   neighbour that held it back lies inside a kept detection (and it overlaps none) — that
   neighbour will be masked, so masking the result again finds nothing new;
4. allow-listed values are removed after that, so they still keep weaker candidates out;
5. offsets are string indices (code points).
"""

from __future__ import annotations

from bisect import bisect_left

from mcp_pii import validate
from mcp_pii.catalog import Compiled, PiiType

Span = tuple[int, int, int]  # (start, end, type index)
Waiting = tuple[int, int, int, int, int]  # (start, end, type index, blocking prev index or -1, next or -1)


def _accept(t: PiiType, c: Compiled, text: str, start: int, end: int) -> tuple[int, int, int] | None:
    """Return (end, blocking previous index, blocking next index), -1 where not blocked; None to drop."""
    value = text[start:end]
    if t.validator is not None:
        keep = validate.run(t.validator, value, c.tables)
        if keep is None:
            return None
        end = start + keep
        value = value[:keep]
    if t.min_digits and sum(1 for ch in value if "0" <= ch <= "9") < t.min_digits:
        return None
    if t.deny_suffixes and value.lower().endswith(t.deny_suffixes):
        return None
    prev = start - 1 if t.reject_prev is not None and start > 0 and t.reject_prev.fullmatch(text[start - 1]) else -1
    nxt = end if t.reject_next is not None and end < len(text) and t.reject_next.fullmatch(text[end]) else -1
    return end, prev, nxt


def candidates(c: Compiled, text: str, selected: list[int]) -> tuple[list[Span], list[Waiting]]:
    """Return the validated candidates of the selected types, and those waiting on a neighbour (rules 1, 2)."""
    out: list[Span] = []
    waiting: list[Waiting] = []
    for ti in selected:
        t = c.types[ti]
        for rx in t.patterns:
            has_value = "value" in rx.groupindex
            pos = 0
            while pos <= len(text):
                m = rx.search(text, pos)
                if m is None:
                    break
                # Patterns cannot match the empty string (checked when built), so this advances.
                pos = max(m.end(), pos + 1)
                start, end = m.span("value") if has_value else m.span()
                if start < 0 or start == end:
                    continue
                got = _accept(t, c, text, start, end)
                if got is None:
                    continue
                if got[0] < end:
                    # The validator kept a prefix: what the match ran over is searched again.
                    pos = got[0]
                if got[1] < 0 and got[2] < 0:
                    out.append((start, got[0], ti))
                else:
                    waiting.append((start, got[0], ti, got[1], got[2]))
    return out, waiting


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


def _covering(kept: list[Span], start: int, end: int) -> bool:
    """Return True if a kept span (sorted, disjoint, so ends ascend too) overlaps [start, end)."""
    i = bisect_left(kept, start + 1, key=lambda k: k[1])  # first span ending after start
    return i < len(kept) and kept[i][0] < end


def rescue(kept: list[Span], waiting: list[Waiting]) -> list[Span]:
    """Keep waiting candidates whose blocking neighbours lie inside kept spans (rule 3b), to a fixpoint."""
    while waiting:
        ok = [
            w
            for w in waiting
            if (w[3] < 0 or _covering(kept, w[3], w[3] + 1))
            and (w[4] < 0 or _covering(kept, w[4], w[4] + 1))
            and not _covering(kept, w[0], w[1])
        ]
        if not ok:
            break
        kept = resolve(kept + [w[:3] for w in ok])
        waiting = [w for w in waiting if w not in ok]
    return kept


def detect(c: Compiled, text: str, selected: list[int]) -> list[Span]:
    """Return the detections in ``text`` for the selected type indices, sorted by start."""
    spans, waiting = candidates(c, text, selected)
    kept = resolve(spans)
    if waiting:
        kept = rescue(kept, waiting)
    if c.allow_values or c.allow_patterns:
        kept = [s for s in kept if not allowed(c, text[s[0] : s[1]])]
    return kept
