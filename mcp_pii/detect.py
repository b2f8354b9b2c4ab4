"""Detection: candidates, validation, overlap resolution, allow list. Mirrors ``native/detect.rs``.

The five rules of DESIGN.md, in order:
1. every enabled rule contributes all its non-overlapping leftmost-first matches, as
   ``re.finditer`` gives, except that when a validator keeps only a prefix of a value (an IBAN
   followed by more text), the search resumes right after that prefix, so the rest is scanned too.
   A rule with keywords is only tried where it can match: a built-in rule at the positions where
   one of its keywords starts (each of its matches starts with one), a custom rule anywhere once
   one of its keywords occurs; that skips text, never a match. A labelled rule's match is kept
   only when its label passes the label grammar (``Labels.matches``); when it is refused, the
   search resumes just after the label's start (a label may stand inside what a refused one ran
   over);
2. candidates failing their checks (validator, digits, suffixes) are dropped; a candidate whose
   neighbouring character is in its type's reject class waits (step 3b);
3. overlaps are resolved across types: by start, then by evidence (a rule with keywords, such as
   a vendor's token format, before a label or key, before a shape alone), then longer first, then
   catalog order, keeping greedily what does not overlap a kept span; (3b) a waiting candidate is
   kept after all when each neighbour that held it back lies inside a kept detection (and it
   overlaps none) — that neighbour will be masked, so masking the result again finds nothing new;
4. allow-listed values are removed after that, so they still keep weaker candidates out;
5. offsets are string indices (code points).
"""

from __future__ import annotations

import re
from bisect import bisect_left

from mcp_pii import validate
from mcp_pii.catalog import Checks, Compiled, PiiType, Rule, grammar, label_identifier

Span = tuple[int, int, int, int]  # (start, end, type index, rule index)
Waiting = tuple[int, int, int, int, int, int]  # span, then blocking prev index or -1, next or -1


def accept(ck: Checks, c: Compiled, text: str, start: int, end: int) -> tuple[int, int, int] | None:
    """Return (end, blocking previous index, blocking next index), -1 where not blocked; None to drop."""
    value = text[start:end]
    if ck.validator is not None:
        keep = validate.run(ck.validator, value, c.tables)
        if keep is None:
            return None
        end = start + keep
        value = value[:keep]
    if ck.min_digits and sum(1 for ch in value if "0" <= ch <= "9") < ck.min_digits:
        return None
    if ck.deny_suffixes and validate.ascii_lower(value).endswith(ck.deny_suffixes):
        return None
    prev = start - 1 if ck.reject_prev is not None and start > 0 and ck.reject_prev.fullmatch(text[start - 1]) else -1
    nxt = end if ck.reject_next is not None and end < len(text) and ck.reject_next.fullmatch(text[end]) else -1
    return end, prev, nxt


def _label_ok(t: PiiType, text: str, m: re.Match[str]) -> bool:
    """Return True if the label of a labelled rule's match passes the label grammar."""
    assert t.labels is not None
    start, tail_end, value_start = m.start("label"), m.end("tail"), m.start("value")
    at = label_identifier(text, start)
    ident = text[at:tail_end]
    if tail_end == value_start or _mask_token(text, at, tail_end) or not t.labels.matches(ident):
        return False
    return not t.labels.operator or grammar().has_operator(text[tail_end:value_start])


def _mask_token(text: str, start: int, end: int) -> bool:
    """Return True if ``text[start:end]`` is a token masking wrote (``[PHONE]``, ``[PHONE_1#k3x9qz]``), not a label."""
    return (
        start > 0
        and text[start - 1] == "["
        and text[end : end + 1] in ("]", "#")
        and not any("a" <= ch <= "z" for ch in text[start:end])
    )


def keyword_starts(c: Compiled, text: str) -> dict[tuple[int, int], list[int]]:
    """Return, per anchored rule, the ascending positions where one of its keywords starts."""
    out: dict[tuple[int, int], list[int]] = {}
    if c.keyword_finder is None:
        return out
    for m in c.keyword_finder.finditer(text):
        for key in c.keyword_rules[m.group(1).lower()]:
            out.setdefault(key, []).append(m.start())
    return out


def _next_match(rule: Rule, text: str, pos: int, at: list[int] | None, i: int) -> tuple[re.Match[str] | None, int, int]:
    """The rule's next leftmost-first match from ``pos`` (only at the positions ``at``, from index ``i``).

    Returns the match (None when there is none), where to search next, and the next index in ``at``.
    """
    if at is None:
        if pos > len(text):
            return None, pos, i
        m = rule.regex.search(text, pos)
        # Patterns cannot match the empty string (checked when built), so this advances.
        return m, (max(m.end(), pos + 1) if m else pos), i
    i = bisect_left(at, pos, i)
    while i < len(at):
        m = rule.regex.match(text, at[i])
        i += 1
        if m is not None:
            return m, max(m.end(), at[i - 1] + 1), i
    return None, pos, i


def candidates(
    c: Compiled, text: str, selected: list[int], out: list[Span] | None = None
) -> tuple[list[Span], list[Waiting]]:
    """Return the validated candidates of the selected types, and those waiting on a neighbour (rules 1, 2).

    Candidates already in ``out`` (a labelled key's) come first.
    """
    out = [] if out is None else out
    waiting: list[Waiting] = []
    starts = keyword_starts(c, text) if c.keyword_finder is not None else {}
    lowered: str | None = None
    for ti in selected:
        t = c.types[ti]
        for ri, rule in enumerate(t.rules):
            at = None
            if rule.anchored:
                at = starts.get((ti, ri))
                if not at:
                    continue
            elif rule.keywords:
                lowered = validate.ascii_lower(text) if lowered is None else lowered
                if not any(kw in lowered for kw in rule.keywords):
                    continue
            pos, i = 0, 0
            while True:
                m, pos, i = _next_match(rule, text, pos, at, i)
                if m is None:
                    break
                start, end = m.span("value") if "value" in rule.regex.groupindex else m.span()
                if start < 0 or start == end:
                    continue
                got = None if rule.labelled and not _label_ok(t, text, m) else accept(rule.checks, c, text, start, end)
                if got is None:
                    if rule.labelled:
                        # A refused label gives way: the next label may stand inside what it ran over.
                        pos = m.start() + 1
                    continue
                if got[0] < end:
                    # The validator kept a prefix: what the match ran over is searched again.
                    pos = got[0]
                if got[1] < 0 and got[2] < 0:
                    out.append((start, got[0], ti, ri))
                else:
                    waiting.append((start, got[0], ti, ri, got[1], got[2]))
    return out, waiting


def evidence(c: Compiled, ti: int, ri: int) -> int:
    """How strong the evidence of rule ``ri`` of type ``ti`` is: 0 keywords, 1 a label or key, 2 a shape."""
    rules = c.types[ti].rules
    return 1 if ri >= len(rules) else rules[ri].evidence


def resolve(c: Compiled, spans: list[Span]) -> list[Span]:
    """Keep the non-overlapping spans, by start, evidence, length, then catalog order (rule 3)."""
    spans.sort(key=lambda s: (s[0], evidence(c, s[2], s[3]), s[0] - s[1], s[2]))
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


def rescue(c: Compiled, kept: list[Span], waiting: list[Waiting]) -> list[Span]:
    """Keep waiting candidates whose blocking neighbours lie inside kept spans (rule 3b), to a fixpoint."""
    while waiting:
        ok = [
            w
            for w in waiting
            if (w[4] < 0 or _covering(kept, w[4], w[4] + 1))
            and (w[5] < 0 or _covering(kept, w[5], w[5] + 1))
            and not _covering(kept, w[0], w[1])
        ]
        if not ok:
            break
        kept = resolve(c, kept + [w[:4] for w in ok])
        waiting = [w for w in waiting if w not in ok]
    return kept


def detect(c: Compiled, text: str, selected: list[int], keyed: list[Span] | None = None) -> list[Span]:
    """Return the detections in ``text`` for the selected type indices, sorted by start.

    ``keyed`` holds candidates found through a labelled key (``traverse``); they compete with the
    text's own candidates like any other.
    """
    spans, waiting = candidates(c, text, selected, keyed)
    kept = resolve(c, spans)
    if waiting:
        kept = rescue(c, kept, waiting)
    if c.allow_values or c.allow_patterns:
        kept = [s for s in kept if not allowed(c, text[s[0] : s[1]])]
    return kept
