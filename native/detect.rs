//! Detection: candidates, validation, overlap resolution, allow list. Mirrors `mcp_pii/detect.py`.
//!
//! Spans here are byte offsets into the text; the engine converts them to code-point offsets.

use std::ops::Range;

use regex_automata::util::captures::Captures;
use regex_automata::{Input, PatternID, PatternSet};

use crate::catalog::{Compiled, Pattern, PiiType};
use crate::prefilter::{markers, windows, Gate};
use crate::validate;

/// A detection: byte start, byte end, type index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset just past the last byte.
    pub end: usize,
    /// Index of the type in [`Compiled::types`].
    pub ty: usize,
}

fn one_char(s: &str) -> &str {
    s.chars().next().map_or("", |c| &s[..c.len_utf8()])
}

fn prev_char(text: &str, at: usize) -> &str {
    text[..at].char_indices().next_back().map_or("", |(i, _)| &text[i..at])
}

/// A candidate held back by a neighbouring character: the span and the blocking positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    /// The candidate.
    pub span: Span,
    /// Byte offset of the blocking previous character, if it blocks.
    pub prev: Option<usize>,
    /// Byte offset of the blocking next character, if it blocks.
    pub next: Option<usize>,
}

/// Check a candidate: `None` drops it; otherwise its end and any blocking neighbours.
fn accept(
    t: &PiiType,
    c: &Compiled,
    text: &str,
    start: usize,
    end: usize,
) -> Option<(usize, Option<usize>, Option<usize>)> {
    let mut end = end;
    if let Some(name) = &t.validator {
        end = start + validate::run(name, &text[start..end], &c.tables)?;
    }
    let value = &text[start..end];
    if t.min_digits > 0 && value.bytes().filter(u8::is_ascii_digit).count() < t.min_digits {
        return None;
    }
    if !t.deny_suffixes.is_empty() {
        let lower = value.to_ascii_lowercase();
        if t.deny_suffixes.iter().any(|s| lower.ends_with(s.as_str())) {
            return None;
        }
    }
    let prev = t
        .reject_prev
        .as_ref()
        .filter(|rx| start > 0 && rx.is_match(prev_char(text, start)))
        .map(|_| start - prev_char(text, start).len());
    let next = t
        .reject_next
        .as_ref()
        .filter(|rx| end < text.len() && rx.is_match(one_char(&text[end..])))
        .map(|_| end);
    Some((end, prev, next))
}

/// Search one pattern within `input`'s range; return the value span and the end of the whole match.
fn search(p: &Pattern, input: &mut Input<'_>, caps: &mut Captures) -> Option<(usize, usize, usize)> {
    match p.value_group {
        None => p.regex.search(input).map(|m| (m.start(), m.end(), m.end())),
        Some(g) => {
            p.regex.search_captures(input, caps);
            let whole = caps.get_match()?;
            let value = caps.get_group(g);
            Some(value.map_or((whole.end(), whole.end(), whole.end()), |v| (v.start, v.end, whole.end())))
        }
    }
}

/// Every leftmost-first match of `p` in `text[range]` (seen with its surroundings), as `re.finditer` gives.
fn each_match(
    p: &Pattern,
    text: &str,
    range: Range<usize>,
    caps: &mut Captures,
    mut f: impl FnMut(usize, usize) -> Option<usize>,
) {
    let mut input = Input::new(text).range(range.clone());
    let mut pos = range.start;
    while pos <= range.end {
        input.set_start(pos);
        let Some((start, end, whole_end)) = search(p, &mut input, caps) else {
            return;
        };
        // Patterns cannot match the empty string (checked when built), so this always advances.
        pos = whole_end.max(pos + 1);
        if let Some(resume) = f(start, end) {
            // The validator kept a prefix: what the match ran over is searched again.
            pos = resume;
        }
    }
}

/// The set of patterns (by id over all types) that match somewhere in `text`: one pass of the
/// union of all patterns, after which only those are searched one by one.
fn union_matches(c: &Compiled, text: &str) -> Option<PatternSet> {
    let union = c.union.as_ref()?;
    let mut set = PatternSet::new(union.pattern_len());
    union.which_overlapping_matches(&Input::new(text), &mut set);
    Some(set)
}

/// Clusters up to this long are searched whole: splitting them into runs costs more than it saves.
const SHORT_CLUSTER: usize = 48;

/// Collect the validated candidates of the selected types, and those waiting on a neighbour (rules 1, 2).
pub fn candidates(
    c: &Compiled,
    text: &str,
    selected: &[usize],
    out: &mut Vec<Span>,
    waiting: &mut Vec<Waiting>,
) {
    // Only patterns whose needs the text covers, and that the union pass saw match, are searched.
    let has = markers(text.as_bytes());
    let matching = union_matches(c, text);
    let searched: Vec<(usize, &Pattern)> = selected
        .iter()
        .flat_map(|&ty| c.types[ty].patterns.iter().enumerate().map(move |(i, p)| (ty, i, p)))
        .filter(|&(ty, i, p)| {
            let id = PatternID::new_unchecked(c.types[ty].first_pattern + i);
            has.covers(&p.need) && matching.as_ref().is_none_or(|m| m.contains(id))
        })
        .map(|(ty, _, p)| (ty, p))
        .collect();
    let clustered = searched.iter().any(|(_, p)| !matches!(p.gate, Gate::Plain));
    let clusters = if clustered { c.clusters.find(text) } else { Vec::new() };
    for (ty, p) in searched {
        let t = &c.types[ty];
        let mut caps = p.regex.create_captures();
        // Records a candidate; returns where to resume when the validator kept only a prefix.
        let mut push = |start: usize, end: usize| -> Option<usize> {
            if start >= end {
                return None;
            }
            let (kept, prev, next) = accept(t, c, text, start, end)?;
            let span = Span { start, end: kept, ty };
            match (prev, next) {
                (None, None) => out.push(span),
                _ => waiting.push(Waiting { span, prev, next }),
            }
            (kept < end).then_some(kept)
        };
        match &p.gate {
            Gate::Plain => each_match(p, text, 0..text.len(), &mut caps, &mut push),
            Gate::Cluster(need, alphabet) => {
                for cl in clusters.iter().filter(|cl| cl.has.covers(need)) {
                    if cl.end - cl.start <= SHORT_CLUSTER {
                        each_match(p, text, cl.start..cl.end, &mut caps, &mut push);
                        continue;
                    }
                    for (start, end) in alphabet.runs(text, (cl.start, cl.end), need) {
                        each_match(p, text, start..end, &mut caps, &mut push);
                    }
                }
            }
            Gate::Window(reach) => {
                for (start, end) in windows(text, &clusters, *reach) {
                    each_match(p, text, start..end, &mut caps, &mut push);
                }
            }
        }
    }
}

/// Keep the non-overlapping spans, by start, then longer first, then catalog order (rule 3).
pub fn resolve(spans: &mut Vec<Span>) {
    spans.sort_by(|a, b| {
        a.start.cmp(&b.start).then((b.end - b.start).cmp(&(a.end - a.start))).then(a.ty.cmp(&b.ty))
    });
    let mut last_end = 0;
    spans.retain(|s| {
        if s.start >= last_end {
            last_end = s.end;
            true
        } else {
            false
        }
    });
}

/// Return true if `value` is on the allow list (exact, or a pattern matching all of it).
pub fn allowed(c: &Compiled, value: &str) -> bool {
    c.allow_values.contains(value) || c.allow_patterns.iter().any(|p| p.is_match(value))
}

/// Return true if a kept span (sorted, disjoint, so ends ascend too) overlaps `[start, end)`.
fn covering(kept: &[Span], start: usize, end: usize) -> bool {
    let i = kept.partition_point(|k| k.end <= start);
    i < kept.len() && kept[i].start < end
}

/// Keep waiting candidates whose blocking neighbours lie inside kept spans (rule 3b), to a fixpoint.
pub fn rescue(kept: &mut Vec<Span>, mut waiting: Vec<Waiting>) {
    while !waiting.is_empty() {
        let (ok, rest): (Vec<Waiting>, Vec<Waiting>) = waiting.into_iter().partition(|w| {
            w.prev.is_none_or(|p| covering(kept, p, p + 1))
                && w.next.is_none_or(|n| covering(kept, n, n + 1))
                && !covering(kept, w.span.start, w.span.end)
        });
        if ok.is_empty() {
            break;
        }
        kept.extend(ok.iter().map(|w| w.span));
        resolve(kept);
        waiting = rest;
    }
}

/// Return the detections in `text` for the selected type indices, sorted by start.
pub fn detect(c: &Compiled, text: &str, selected: &[usize]) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut waiting = Vec::new();
    candidates(c, text, selected, &mut spans, &mut waiting);
    resolve(&mut spans);
    if !waiting.is_empty() {
        rescue(&mut spans, waiting);
    }
    if !c.allow_values.is_empty() || !c.allow_patterns.is_empty() {
        spans.retain(|s| !allowed(c, &text[s.start..s.end]));
    }
    spans
}

/// Convert sorted, non-overlapping byte spans of `text` to code-point offsets.
pub fn char_offsets(text: &str, spans: &[Span]) -> Vec<(usize, usize)> {
    if text.is_ascii() {
        return spans.iter().map(|s| (s.start, s.end)).collect();
    }
    let (mut byte, mut chars) = (0usize, 0usize);
    let mut at = |target: usize| {
        chars += text[byte..target].chars().count();
        byte = target;
        chars
    };
    spans.iter().map(|s| (at(s.start), at(s.end))).collect()
}
