//! Detection: candidates, validation, overlap resolution, allow list. Mirrors `mcp_pii/detect.py`.
//!
//! Spans here are byte offsets into the text; the engine converts them to code-point offsets.

use crate::catalog::{Compiled, PiiType};
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
    text[..at]
        .char_indices()
        .next_back()
        .map_or("", |(i, _)| &text[i..at])
}

fn accept(t: &PiiType, c: &Compiled, text: &str, start: usize, end: usize) -> Option<usize> {
    let mut end = end;
    if let Some(name) = &t.validator {
        end = start + validate::run(name, &text[start..end], &c.tables)?;
    }
    if let Some(rx) = &t.reject_prev {
        if start > 0 && rx.is_match(prev_char(text, start)) {
            return None;
        }
    }
    if let Some(rx) = &t.reject_next {
        if end < text.len() && rx.is_match(one_char(&text[end..])) {
            return None;
        }
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
    Some(end)
}

/// Return every validated candidate of the selected types (rules 1 and 2).
pub fn candidates(c: &Compiled, text: &str, selected: &[usize], out: &mut Vec<Span>) {
    for &ty in selected {
        let t = &c.types[ty];
        for p in &t.patterns {
            let mut push = |start: usize, end: usize| {
                if start < end {
                    if let Some(end) = accept(t, c, text, start, end) {
                        out.push(Span { start, end, ty });
                    }
                }
            };
            match p.value_group {
                Some(g) => {
                    for caps in p.regex.captures_iter(text) {
                        if let Some(m) = caps.get(g) {
                            push(m.start(), m.end());
                        }
                    }
                }
                None => {
                    for m in p.regex.find_iter(text) {
                        push(m.start(), m.end());
                    }
                }
            }
        }
    }
}

/// Keep the non-overlapping spans, by start, then longer first, then catalog order (rule 3).
pub fn resolve(spans: &mut Vec<Span>) {
    spans.sort_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.ty.cmp(&b.ty))
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

/// Return the detections in `text` for the selected type indices, sorted by start.
pub fn detect(c: &Compiled, text: &str, selected: &[usize]) -> Vec<Span> {
    let mut spans = Vec::new();
    candidates(c, text, selected, &mut spans);
    resolve(&mut spans);
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
