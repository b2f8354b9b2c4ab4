//! Detection: candidates, validation, overlap resolution, allow list. Mirrors `mcp_pii/detect.py`.
//!
//! Spans here are byte offsets into the text; the engine converts them to code-point offsets.

use std::cell::Cell;
use std::cmp::Reverse;
use std::ops::Range;

use regex_automata::dfa::Automaton;
use regex_automata::util::captures::Captures;
use regex_automata::{Anchored, Input};

use crate::catalog::{
    any_position, label_identifier, CacheGuard, Checks, Compiled, KeywordIndex, Pattern, PiiType,
};
use crate::kept::{with_kept, Kept};
use crate::prefilter::{markers, windows, Alphabet, Gate, Lead};
use crate::scan::union_matches;
use crate::validate;

/// A detection: byte start, byte end, type index, pattern index within the type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset just past the last byte.
    pub end: usize,
    /// Index of the type in [`Compiled::types`].
    pub ty: usize,
    /// Index of the pattern within the type (one past the last for a labelled key).
    pub rule: usize,
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
pub fn accept(
    ck: &Checks,
    c: &Compiled,
    text: &str,
    start: usize,
    end: usize,
) -> Option<(usize, Option<usize>, Option<usize>)> {
    let mut end = end;
    if let Some(name) = &ck.validator {
        end = start + validate::run(name, &text[start..end], &c.tables)?;
    }
    let value = &text[start..end];
    if ck.min_digits > 0 && value.bytes().filter(u8::is_ascii_digit).count() < ck.min_digits {
        return None;
    }
    // The suffixes are lower-cased: compared to the value's end ignoring ASCII case, as a
    // lower-cased copy of the value would be (a copy per e-mail candidate), but in place.
    let ends_with = |s: &String| {
        let (v, s) = (value.as_bytes(), s.as_bytes());
        v.len() >= s.len() && v[v.len() - s.len()..].eq_ignore_ascii_case(s)
    };
    if ck.deny_suffixes.iter().any(ends_with) {
        return None;
    }
    let prev = ck
        .reject_prev
        .as_ref()
        .filter(|class| start > 0 && class.contains(prev_char(text, start)))
        .map(|_| start - prev_char(text, start).len());
    let next = ck
        .reject_next
        .as_ref()
        .filter(|class| end < text.len() && class.contains(one_char(&text[end..])))
        .map(|_| end);
    Some((end, prev, next))
}

/// A match of a pattern: the value span, the end of the whole match, and for a labelled
/// pattern the label's start, the tail's end and the value's start.
struct Found {
    start: usize,
    end: usize,
    whole_end: usize,
    label: Option<(usize, usize)>,
}

/// Search one pattern within `input`'s range.
fn search(p: &Pattern, input: &mut Input<'_>, caps: &mut Option<Captures>) -> Option<Found> {
    if p.value_group.is_none() {
        return p.regex.search(input).map(|m| Found {
            start: m.start(),
            end: m.end(),
            whole_end: m.end(),
            label: None,
        });
    }
    // A label pattern's groups, found by its parts' DFAs when they can tell (nearly always).
    if let Some(split) = &p.split {
        let whole = p.regex.search(input)?;
        if let Some((start, head)) = split.groups(input.haystack(), whole.start(), whole.end()) {
            return Some(Found {
                start,
                end: whole.end(),
                whole_end: whole.end(),
                label: Some((whole.start(), head)),
            });
        }
    }
    // Made at the first labelled match only: most patterns searched in a text never match.
    // A search for groups finds the match with the forward DFA first, so one tried at a keyword
    // that does not match costs no more than that DFA.
    let caps = caps.get_or_insert_with(|| p.regex.create_captures());
    p.regex.search_captures(input, caps);
    let whole = caps.get_match()?;
    let (start, end) = p
        .value_group
        .and_then(|g| caps.get_group(g))
        .map_or((whole.end(), whole.end()), |v| (v.start, v.end));
    let label = p.label_groups.and_then(|(l, t)| Some((caps.get_group(l)?.start, caps.get_group(t)?.end)));
    Some(Found { start, end, whole_end: whole.end(), label })
}

/// The index of the first of the ascending `starts` at or after `pos`, looking from `i` on.
///
/// A walk one by one, not a binary search: the searches move `pos` past a start or two at a time,
/// so the walk takes a step or two, where a binary search took a dozen dependent loads per try
/// (on log lines, a timestamp's colons tried as IPv6 addresses: 20% of the time).
fn first_from(starts: &[usize], mut i: usize, pos: usize) -> usize {
    while starts.get(i).is_some_and(|&s| s < pos) {
        i += 1;
    }
    i
}

/// Every leftmost-first match of `p` in `text[range]` (seen with its surroundings), as `re.finditer`
/// gives; with `starts`, only matches starting at those (ascending) positions.
fn each_match(
    p: &Pattern,
    text: &str,
    range: Range<usize>,
    starts: Option<&[usize]>,
    caps: &mut Option<Captures>,
    mut f: impl FnMut(&Found) -> Option<usize>,
) {
    let mut input = Input::new(text).range(range.clone());
    let mut pos = range.start;
    let Some(starts) = starts else {
        while pos < range.end {
            input.set_start(pos);
            let Some(m) = search(p, &mut input, caps) else {
                return;
            };
            // Patterns cannot match the empty string (checked when built), so this always advances,
            // and once at the range's end (where a match located by the union ends) nothing is left.
            pos = m.whole_end.max(pos + 1);
            if let Some(resume) = f(&m) {
                // The validator kept a prefix: what the match ran over is searched again.
                pos = resume;
            }
        }
        return;
    };
    input.set_anchored(Anchored::Yes);
    let mut i = 0;
    while i < starts.len() {
        i = first_from(starts, i, pos);
        let Some(&at) = starts.get(i) else {
            return;
        };
        i += 1;
        let from = &text.as_bytes()[at..];
        if !p.head.fits(from) || (!p.openings.is_empty() && !p.openings.iter().any(|o| from.starts_with(o))) {
            continue;
        }
        // A match here would be refused by the label check (no operator), which resumes at the
        // next start too.
        if p.operator.as_ref().is_some_and(|o| !o.may_hold(from)) {
            continue;
        }
        input.set_start(at);
        let Some(m) = search(p, &mut input, caps) else {
            continue;
        };
        pos = m.whole_end.max(at + 1);
        if let Some(resume) = f(&m) {
            pos = resume;
        }
    }
}

/// Every leftmost-first match of `p` in `text`, as [`each_match`] over the whole text gives, for a
/// pattern whose matches begin with a run of its [`Lead`] and then a keyword: tried anchored once
/// per keyword start in `at` (ascending), from the start of the run before it.
///
/// Exact: from anywhere in the run the pattern reads the rest of the run and then matches from
/// the keyword on in the same way, so where it fails from the run's start it fails from every
/// position of the run; and a match cannot start anywhere else, its run would hold a keyword.
fn each_match_at_keywords(
    p: &Pattern,
    text: &str,
    at: &[usize],
    lead: &Lead,
    caps: &mut Option<Captures>,
    mut f: impl FnMut(&Found) -> Option<usize>,
) {
    let mut input = Input::new(text).anchored(Anchored::Yes);
    let (mut pos, mut i) = (0, 0);
    loop {
        i = first_from(at, i, pos);
        let Some(&keyword) = at.get(i) else {
            return;
        };
        let start = lead.start(text.as_bytes(), keyword, pos);
        input.set_start(start);
        let found = match p.lead_dfa.as_deref().map(|dfa| dfa.try_search_fwd(&input)) {
            Some(Ok(end)) => {
                end.map(|end| Found { start, end: end.offset(), whole_end: end.offset(), label: None })
            }
            _ => search(p, &mut input, caps),
        };
        let Some(m) = found else {
            pos = keyword + 1;
            continue;
        };
        pos = m.whole_end.max(start + 1);
        if let Some(resume) = f(&m) {
            // A kept prefix: what the match ran over is searched again, this keyword included.
            pos = resume;
        }
    }
}

/// What the union pass saw: per union pattern the ascending match ends (`None` when the union
/// gave up on its cache, or there is none; lists all empty, or no list, when nothing matched),
/// and per keyword-gated pattern the ascending positions where one of its keywords starts.
struct Located<'s> {
    ends: Option<&'s [Vec<usize>]>,
    /// By gate id ([`Pattern::gate_id`]).
    starts: &'s Starts,
}

/// Keyword starts by gate id, as (gate, position) pairs sorted and kept in two columns: a text
/// meets few of the gates, and a list per gate was made, walked and dropped whole per text.
#[derive(Default)]
struct Starts {
    gate: Vec<usize>,
    at: Vec<usize>,
}

/// Bits of a packed keyword start ([`note_keyword`]) that hold the position (texts are far shorter).
const AT_BITS: u32 = 40;

impl Starts {
    /// Set to the keyword starts packed as `gate << AT_BITS | position`: sorted as single
    /// integers, gate then position (a log line's hex ids give hundreds, and sorting pairs cost
    /// twice as much), each once.
    fn fill(&mut self, packed: &mut Vec<u64>) {
        self.gate.clear();
        self.at.clear();
        if packed.is_empty() {
            return;
        }
        packed.sort_unstable();
        packed.dedup();
        let mask = (1u64 << AT_BITS) - 1;
        self.gate.extend(packed.iter().map(|&p| (p >> AT_BITS) as usize));
        self.at.extend(packed.iter().map(|&p| (p & mask) as usize));
    }

    /// The ascending positions where a keyword of gate `g` starts.
    fn of(&self, g: usize) -> &[usize] {
        let lo = self.gate.partition_point(|&x| x < g);
        let hi = lo + self.gate[lo..].partition_point(|&x| x == g);
        &self.at[lo..hi]
    }

    /// The gates with a keyword in the text, ascending, each once.
    fn gates(&self) -> impl Iterator<Item = usize> + '_ {
        self.gate.iter().enumerate().filter(|&(i, g)| i == 0 || self.gate[i - 1] != *g).map(|(_, &g)| g)
    }
}

/// What detections in many texts in turn (a payload's strings) keep from one text to the next:
/// the union's cache, taken once for them all rather than once per text (a lock and two moves
/// per text), and the lists a text's detection fills, emptied rather than freed (a payload's
/// short strings made three allocations each, most of them these lists).
#[derive(Default)]
pub struct Held<'c> {
    cache: Option<CacheGuard<'c>>,
    lists: Lists,
}

impl<'c> Held<'c> {
    /// Walk the union over `text` with the cache held, reporting each (union id, end); false
    /// without a union, or when it gave up.
    pub fn walk_union(&mut self, c: &'c Compiled, text: &str, found: &mut impl FnMut(usize, usize)) -> bool {
        walk_union(c, text, &mut self.cache, found)
    }
}

/// The lists a text's detection fills, kept empty between texts: by [`Held`] for a payload's
/// strings, and per thread for single texts ([`detect`]).
#[derive(Default)]
pub struct Lists {
    marks: Marks,
    /// The (type, pattern) pairs to search in the text.
    picked: Vec<(usize, usize)>,
}

impl Kept for Lists {
    fn reset(&mut self) {
        // The list per union pattern stays (emptied): each is made once, at a text's first match.
        self.marks.ends.iter_mut().for_each(Kept::reset);
        self.marks.packed.reset();
        self.marks.starts.gate.reset();
        self.marks.starts.at.reset();
        self.picked.reset();
    }
}

thread_local! {
    static LISTS: Cell<Option<Lists>> = const { Cell::new(None) };
}

/// The lists [`locate`] fills.
#[derive(Default)]
struct Marks {
    /// Per union pattern, the ends of its matches.
    ends: Vec<Vec<usize>>,
    /// Keyword starts as found, packed ([`note_keyword`]).
    packed: Vec<u64>,
    starts: Starts,
}

/// Where the union's matches in a text come from.
#[derive(Debug, Clone, Copy)]
pub enum Matches<'a> {
    /// A walk of the union over the text.
    Walk,
    /// A walk over many texts joined, each followed by a line feed (`traverse`): the (union id,
    /// end) pairs that end in the text, ends in its own offsets, and its keywords of one byte
    /// ([`KeywordIndex::bytes`]) as pairs too, by the ids after the union's
    /// ([`KeywordIndex::word_of`]). The union's matches in the text are among them whenever
    /// [`Union::joinable`](crate::catalog::Union::joinable); the others began before it and only
    /// cost a search that finds nothing.
    Given(&'a [(u32, u32)]),
}

/// Walk the union over `text` with the cache `held` (taken at the first walk), reporting each
/// (union id, end); false without a union, or when it gave up (a thrashing cache).
fn walk_union<'c>(
    c: &'c Compiled,
    text: &str,
    held: &mut Option<CacheGuard<'c>>,
    found: &mut impl FnMut(usize, usize),
) -> bool {
    c.union.as_ref().is_some_and(|union| {
        let cache = held.get_or_insert_with(|| union.caches.get());
        union_matches(union, text, Some(cache), found).is_ok()
    })
}

/// The pattern ends and the keyword starts in `text`, by a pass of the union's lazy DFA over it
/// or as `matches` gives them. When the union gives up (a thrashing cache), the keywords are
/// found by their own automaton and the union patterns are searched without the union's help.
fn locate<'c, 's>(
    c: &'c Compiled,
    text: &str,
    matches: Matches<'_>,
    cache: &mut Option<CacheGuard<'c>>,
    marks: &'s mut Marks,
) -> Located<'s> {
    let Marks { ends, packed, starts } = marks;
    packed.clear();
    ends.iter_mut().for_each(Vec::clear);
    let shapes = c.union.as_ref().map_or(0, |union| union.shapes);
    let mut found = |id: usize, end: usize| {
        if id < shapes {
            // Made at the first match: most short strings of a payload have none.
            if ends.len() < shapes {
                ends.resize_with(shapes, Vec::new);
            }
            if ends[id].last() != Some(&end) {
                ends[id].push(end);
            }
        } else if let Some(index) = &c.keywords {
            let word = index.word_of(id - shapes);
            // A keyword of joined texts that began before this one is not in it.
            if let Some(start) = end.checked_sub(index.words[word].len()) {
                note_keyword(packed, &index.rules[word], start);
            }
        }
    };
    let walked = match matches {
        Matches::Walk => {
            let walked = walk_union(c, text, cache, &mut found);
            if let Some(index) = c.keywords.as_ref().filter(|_| walked) {
                byte_keywords(index, text.as_bytes(), packed);
            }
            walked
        }
        // The keywords of one byte are among the pairs.
        Matches::Given(pairs) => {
            pairs.iter().for_each(|&(id, end)| found(id as usize, end as usize));
            c.union.is_some()
        }
    };
    if !walked {
        // What a walk that gave up noted is dropped: its keyword starts are found again, whole.
        packed.clear();
        keyword_starts(c, text, packed);
    }
    starts.fill(packed);
    Located { ends: walked.then_some(ends), starts }
}

/// The starts of the keywords of one byte ([`KeywordIndex::bytes`]), packed into `starts`.
fn byte_keywords(index: &KeywordIndex, text: &[u8], starts: &mut Vec<u64>) {
    each_byte_keyword(index, text, &mut |k, at| note_keyword(starts, &index.rules[index.bytes[k]], at));
}

/// Each keyword of one byte ([`KeywordIndex::bytes`]) in `text`: `found(k, at)` with its index in
/// `bytes` and its position, by a byte search of up to three bytes at a time (ascending for each
/// three of `bytes`).
pub fn each_byte_keyword(index: &KeywordIndex, text: &[u8], found: &mut impl FnMut(usize, usize)) {
    any_position(&index.byte_values, text, |at| {
        if let Some(k) = index.byte_values.iter().position(|&b| b == text[at]) {
            found(k, at);
        }
        false
    });
}

/// Note a keyword starting at `at` for each of its `gates`, packed for [`Starts::from_packed`].
fn note_keyword(starts: &mut Vec<u64>, gates: &[usize], at: usize) {
    starts.extend(gates.iter().map(|&gate| (gate as u64) << AT_BITS | at as u64));
}

/// The merged spans `[end - reach, end]` (widened to char boundaries) around ascending match ends:
/// every match of a pattern no longer than `reach` lies in one of them, whole.
///
/// With the pattern's `alphabet` (the bytes its matches can hold), a span starts no earlier than
/// the run of alphabet bytes that ends at its end: a match lies in one run, so it is still whole
/// in the span, and the search from the run's start finds what a search of the whole text finds
/// (that one cannot be inside a match when it reaches the run: a match would have to hold the
/// byte before it). An IPv4 address in a log line was searched over 66 bytes, now over its 13.
fn end_windows<'a>(
    text: &'a str,
    ends: &'a [usize],
    reach: usize,
    alphabet: Option<&'a Alphabet>,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    let start_of = move |end: usize| {
        let mut start = end.saturating_sub(reach);
        if let Some(alphabet) = alphabet {
            start = alphabet.run_start(text.as_bytes(), end, start);
        }
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        start
    };
    // Each end's window start is found once (the walk back to a run's start is not free), then
    // windows that reach back into the one before are merged with it.
    let mut spans = ends.iter().map(move |&end| (start_of(end), end)).peekable();
    std::iter::from_fn(move || {
        let (start, mut last) = spans.next()?;
        while let Some((_, end)) = spans.next_if(|&(next, _)| next <= last) {
            last = last.max(end);
        }
        Some((start, last))
    })
}

/// The starts of the keywords of the keyword-gated patterns in `text`, packed into `packed`
/// ([`note_keyword`]), found by the keywords' own automaton (without the union).
fn keyword_starts(c: &Compiled, text: &str, packed: &mut Vec<u64>) {
    let Some(index) = &c.keywords else {
        return;
    };
    for m in index.automaton.find_overlapping_iter(text) {
        note_keyword(packed, &index.rules[m.pattern().as_usize()], m.start());
    }
}

/// True if `text[start..end]` is a token masking wrote (`[PHONE]`, `[PHONE_1#k3x9qz]`), not a label.
fn mask_token(text: &str, start: usize, end: usize) -> bool {
    start > 0
        && text.as_bytes()[start - 1] == b'['
        && matches!(text.as_bytes().get(end), Some(b']' | b'#'))
        && !text[start..end].bytes().any(|b| b.is_ascii_lowercase())
}

/// True if the label of a labelled pattern's match passes the label grammar.
fn label_ok(t: &PiiType, c: &Compiled, text: &str, label: (usize, usize), value_start: usize) -> bool {
    let Some(labels) = &t.labels else {
        return false;
    };
    let at = label_identifier(&c.grammar, text, label.0);
    let ident = &text[at..label.1];
    label.1 < value_start
        && !mask_token(text, at, label.1)
        && labels.matches(ident, false)
        && (!labels.operator || c.grammar.has_operator(&text[label.1..value_start]))
}

/// Windows around union ends start at the run of the pattern's alphabet only for patterns longer
/// than this: the walk back to the run's start costs about half of what searching those bytes
/// does, and under this reach it covers nearly the whole window (on the bench's PII prose, its
/// SSNs and most phone formats made `detect` 1-2% slower).
const RUN_REACH: usize = 32;

/// Clusters up to this long are searched whole: splitting them into runs costs more than it saves.
const SHORT_CLUSTER: usize = 48;

/// Collect the validated candidates of the selected types, and those waiting on a neighbour (rules 1, 2).
pub fn candidates<'c>(
    c: &'c Compiled,
    text: &str,
    selected: &[usize],
    matches: Matches<'_>,
    held: &mut Held<'c>,
    out: &mut Vec<Span>,
    waiting: &mut Vec<Waiting>,
) {
    // Union patterns are searched only if the union pass saw them match (or, without a union, if
    // the text covers their needs); keyword-gated ones only where (anchored) or once one of their
    // keywords occurs.
    let Held { cache, lists: Lists { marks, picked } } = held;
    let Located { ends, starts } = locate(c, text, matches, cache, marks);
    let has = if ends.is_none() { Some(markers(text.as_bytes())) } else { None };
    let wanted_type = |ty: usize| selected.binary_search(&ty).is_ok();
    picked.clear();
    picked.extend(c.always.iter().copied().filter(|&(ty, _)| wanted_type(ty)));
    match (&ends, &has) {
        (Some(e), _) => {
            picked.extend(e.iter().enumerate().filter(|(_, at)| !at.is_empty()).map(|(id, _)| c.by_union[id]))
        }
        (None, Some(has)) => picked.extend(
            c.by_union.iter().copied().filter(|&(ty, pi)| has.covers(&c.types[ty].patterns[pi].need)),
        ),
        (None, None) => picked.extend(c.by_union.iter().copied()),
    }
    picked.extend(starts.gates().map(|gate| c.by_gate[gate]));
    picked.retain(|&(ty, _)| wanted_type(ty));
    // Searched in type, then pattern order, as the Python engine does (ties keep that order).
    picked.sort_unstable();
    let searched = picked.iter().map(|&(ty, pi)| (ty, pi, &c.types[ty].patterns[pi]));
    // A bounded union pattern is searched only around the ends the union pass saw (the union as a
    // locator); the others by their gate.
    let located = |p: &Pattern| -> Option<&[usize]> {
        let e = ends?;
        p.max_len?;
        p.union_id.map(|id| e.get(id).map_or(&[][..], Vec::as_slice))
    };
    let clustered = searched
        .clone()
        .any(|(_, _, p)| p.union_id.is_some() && located(p).is_none() && !matches!(p.gate, Gate::Plain));
    let clusters = if clustered { c.clusters.find(text) } else { Vec::new() };
    for (ty, rule, p) in searched {
        let t = &c.types[ty];
        let mut caps = None;
        // Records a candidate; returns where to resume when the validator kept only a prefix.
        let mut push = |m: &Found| -> Option<usize> {
            let (start, end) = (m.start, m.end);
            if start >= end {
                return None;
            }
            let checked = match m.label {
                Some(label) if !label_ok(t, c, text, label, start) => None,
                _ => accept(&p.checks, c, text, start, end),
            };
            let Some((kept, prev, next)) = checked else {
                // A refused label gives way: the next label may stand inside what it ran over.
                return m.label.map(|(label_start, _)| label_start + 1);
            };
            let span = Span { start, end: kept, ty, rule };
            match (prev, next) {
                (None, None) => out.push(span),
                _ => waiting.push(Waiting { span, prev, next }),
            }
            (kept < end).then_some(kept)
        };
        if p.anchored {
            let at = p.gate_id.map_or(&[][..], |g| starts.of(g));
            each_match(p, text, 0..text.len(), Some(at), &mut caps, &mut push);
            continue;
        }
        if let (Some(lead), Some(gate)) = (&p.lead, p.gate_id) {
            let at = starts.of(gate);
            each_match_at_keywords(p, text, at, lead, &mut caps, &mut push);
            continue;
        }
        if let (Some(at), Some(reach)) = (located(p), p.max_len) {
            let alphabet = match &p.gate {
                Gate::Cluster(_, alphabet) if reach > RUN_REACH => Some(alphabet),
                _ => None,
            };
            for (start, end) in end_windows(text, at, reach, alphabet) {
                each_match(p, text, start..end, None, &mut caps, &mut push);
            }
            continue;
        }
        match (&p.gate, p.union_id) {
            (Gate::Cluster(need, alphabet), Some(_)) => {
                for cl in clusters.iter().filter(|cl| cl.has.covers(need)) {
                    if cl.end - cl.start <= SHORT_CLUSTER {
                        each_match(p, text, cl.start..cl.end, None, &mut caps, &mut push);
                        continue;
                    }
                    for (start, end) in alphabet.runs(text, (cl.start, cl.end), need) {
                        each_match(p, text, start..end, None, &mut caps, &mut push);
                    }
                }
            }
            (Gate::Window(reach), Some(_)) => {
                for (start, end) in windows(text, &clusters, *reach) {
                    each_match(p, text, start..end, None, &mut caps, &mut push);
                }
            }
            _ => each_match(p, text, 0..text.len(), None, &mut caps, &mut push),
        }
    }
}

/// How strong the evidence of pattern `rule` of type `ty` is: 0 keywords (a vendor's format),
/// 1 a label or key, 2 a shape alone.
pub fn evidence(c: &Compiled, ty: usize, rule: usize) -> u8 {
    c.types[ty].patterns.get(rule).map_or(1, |p| p.evidence)
}

/// Spans up to this many are sorted without a list of their keys (making it costs more).
const CACHED_ORDER: usize = 8;

/// Keep the non-overlapping spans, by start, then evidence, then longer first, then catalog
/// order (rule 3).
pub fn resolve(c: &Compiled, spans: &mut Vec<Span>) {
    let order = |s: &Span| (s.start, evidence(c, s.ty, s.rule), Reverse(s.end - s.start), s.ty);
    // Both sorts are stable. Past a few spans each one's evidence is looked up once, not at
    // every comparison (a dense text's spans took 7% of its time to sort).
    if spans.len() > CACHED_ORDER {
        spans.sort_by_cached_key(order);
    } else {
        spans.sort_by_key(order);
    }
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
pub fn rescue(c: &Compiled, kept: &mut Vec<Span>, mut waiting: Vec<Waiting>) {
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
        resolve(c, kept);
        waiting = rest;
    }
}

/// Return the detections in `text` for the selected type indices, sorted by start.
///
/// # Example
/// ```
/// use _native::catalog::{compile_config, EngineConfig};
/// let c = compile_config(&EngineConfig::default()).unwrap();
/// let all: Vec<usize> = (0..c.types.len()).collect();
/// let text = "mail jane@example.com, SSN 123-45-6789, order 123456789";
/// let found: Vec<(&str, &str)> = _native::detect::detect(&c, text, &all)
///     .iter()
///     .map(|s| (c.types[s.ty].id.as_str(), &text[s.start..s.end]))
///     .collect();
/// // A bare nine-digit number is no passport: that type needs a label or a key.
/// assert_eq!(found, [("email", "jane@example.com"), ("ssn", "123-45-6789")]);
/// ```
pub fn detect(c: &Compiled, text: &str, selected: &[usize]) -> Vec<Span> {
    with_kept(&LISTS, |lists| {
        let mut held = Held { cache: None, lists: std::mem::take(lists) };
        let spans = detect_with(c, text, selected, Vec::new(), &mut held);
        *lists = held.lists;
        spans
    })
}

/// [`detect`], with candidates found through a labelled key (`traverse`) competing with the
/// text's own candidates like any other, and what is `held` from the texts before.
pub fn detect_with<'c>(
    c: &'c Compiled,
    text: &str,
    selected: &[usize],
    keyed: Vec<Span>,
    held: &mut Held<'c>,
) -> Vec<Span> {
    detect_matched(c, text, selected, keyed, held, Matches::Walk)
}

/// [`detect_with`], with the union's matches in `text` as `matches` gives them.
pub fn detect_matched<'c>(
    c: &'c Compiled,
    text: &str,
    selected: &[usize],
    keyed: Vec<Span>,
    held: &mut Held<'c>,
    matches: Matches<'_>,
) -> Vec<Span> {
    if matches!(matches, Matches::Given([])) && keyed.is_empty() && c.always.is_empty() {
        // No union match and no keyword: nothing calls for a search (most of a payload's
        // strings end here).
        return keyed;
    }
    let mut spans = keyed;
    let mut waiting = Vec::new();
    candidates(c, text, selected, matches, held, &mut spans, &mut waiting);
    resolve(c, &mut spans);
    if !waiting.is_empty() {
        rescue(c, &mut spans, waiting);
    }
    if !c.allow_values.is_empty() || !c.allow_patterns.is_empty() {
        spans.retain(|s| !allowed(c, &text[s.start..s.end]));
    }
    spans
}

/// Convert sorted, non-overlapping byte spans of `text` to code-point offsets.
///
/// # Example
/// ```
/// use _native::detect::{char_offsets, Span};
/// // "é" is two bytes and one code point: "123" is bytes 7..10, code points 6..9.
/// let spans = [Span { start: 7, end: 10, ty: 0, rule: 0 }];
/// assert_eq!(char_offsets("héllo 123", &spans).collect::<Vec<_>>(), [(6, 9)]);
/// ```
pub fn char_offsets<'a>(text: &'a str, spans: &'a [Span]) -> impl Iterator<Item = (usize, usize)> + 'a {
    let ascii = spans.is_empty() || text.is_ascii();
    let (mut byte, mut chars) = (0usize, 0usize);
    let mut at = move |target: usize| {
        if ascii {
            return target;
        }
        chars += text[byte..target].chars().count();
        byte = target;
        chars
    };
    spans.iter().map(move |s| (at(s.start), at(s.end)))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::catalog::{compile_config, EngineConfig};

    /// The default catalog with `change` made to every pattern (a shortcut turned off).
    fn catalog_with(change: impl FnMut(&mut Pattern)) -> Compiled {
        let mut c = compile_config(&EngineConfig::default()).unwrap();
        c.types.iter_mut().flat_map(|t| t.patterns.iter_mut()).for_each(change);
        c
    }

    /// A reproducible pick in `0..n` per call (xorshift from `seed`), for generated texts.
    pub(crate) fn picker(mut seed: u64) -> impl FnMut(usize) -> usize {
        move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        }
    }

    /// Texts detected in turn with what is held from the ones before (a payload's, or this
    /// thread's single texts) find what each finds alone: nothing of a text's matches or keyword
    /// starts is left over for the next.
    #[test]
    fn held_lists_start_empty_for_each_text() {
        let c = compile_config(&EngineConfig::default()).unwrap();
        let all: Vec<usize> = (0..c.types.len()).collect();
        let texts = [
            "SSN 123-45-6789, call +1 (415) 555-0123",
            "",
            "plain words and nothing else",
            "ip 10.1.2.3 and 2001:db8::1, mail jo@example.com",
            "passport: X1234567",
            "x",
            "card 4111 1111 1111 1111 and iban GB82 WEST 1234 5698 7654 32",
            "api_key=sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "SKU-81418",
        ];
        let mut next = picker(0x9E37_79B9_7F4A_7C15);
        let mut held = Held::default();
        for _ in 0..500 {
            let text = texts[next(texts.len())];
            let long = text.repeat(1 + next(3) * 40);
            for t in [text, long.as_str()] {
                let fresh = detect_with(&c, t, &all, Vec::new(), &mut Held::default());
                assert_eq!(detect_with(&c, t, &all, Vec::new(), &mut held), fresh, "{t:?}");
                assert_eq!(detect(&c, t, &all), fresh, "{t:?}");
            }
        }
    }

    /// Patterns searched around the union's match ends, from the start of the run of their
    /// alphabet, find what they find without the union: texts of values of digits, dots, dashes,
    /// spaces and capitals glued to each other, to such runs and to words.
    #[test]
    fn searching_from_the_run_before_an_end_finds_what_a_whole_search_finds() {
        let located = compile_config(&EngineConfig::default()).unwrap();
        let mut whole = compile_config(&EngineConfig::default()).unwrap();
        whole.union = None;
        let all: Vec<usize> = (0..located.types.len()).collect();
        let pieces = [
            "19.48.187.150",
            "10.0.0.1/24",
            "1.2.3.4.5.6.7.8",
            "123-45-6789",
            "078-05-1120",
            "(415) 555-0123",
            "+1 415 555 0123",
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "GB82 WEST 1234 5698 7654 32",
            "DE89 3704 0044 0532 0130 00",
            "AB",
            "2024-02-29",
            "12/31/1999",
            "999.1.1.1",
            "0.",
            ".",
            "-",
            " ",
            "/",
            "7",
            "42",
            "ip=",
            "SSN ",
            "call ",
            "word",
            "\n",
            "é",
        ];
        let mut next = picker(0x51_7CC1_B727_220A);
        let mut checked = 0;
        for _ in 0..5_000 {
            let mut text = String::new();
            for _ in 0..next(16) {
                text.push_str(pieces[next(pieces.len())]);
            }
            let found = detect(&whole, &text, &all);
            checked += found.len();
            assert_eq!(detect(&located, &text, &all), found, "{text:?}");
        }
        assert!(checked > 1_000, "too few values in the texts: {checked}");
    }

    /// A pattern tried at its keywords finds what a search of the whole text finds: texts made
    /// of address-like runs, timestamps, hex words, colons and fillers.
    #[test]
    fn trying_at_keywords_finds_what_a_whole_search_finds() {
        let tried = compile_config(&EngineConfig::default()).unwrap();
        let leads: Vec<&str> = tried
            .types
            .iter()
            .flat_map(|t| &t.patterns)
            .filter(|p| p.lead.is_some())
            .map(|p| p.name.as_str())
            .collect();
        assert!(leads.contains(&"ip_address"), "{leads:?}");
        assert!(tried.types.iter().flat_map(|t| &t.patterns).any(|p| p.lead_dfa.is_some()));
        // Tried with the general matcher instead of the anchored DFA.
        let general = catalog_with(|p| p.lead_dfa = None);
        let searched = catalog_with(|p| p.lead = None);
        let all: Vec<usize> = (0..tried.types.len()).collect();
        let pieces = [
            "2001:db8::1",
            "fe80::1ff:fe23:4567:890a%eth0",
            "::ffff:192.0.2.1/96",
            "10:30:45",
            ":",
            "::",
            "a:b",
            "1:2:3:4:5:6:7:8",
            "dead:beef:",
            "cafe",
            "192.0.2.4",
            "/64",
            "%",
            " ",
            "\n",
            "é",
            "f",
            "0",
            ".",
            "mail jo@example.com",
            "x@y",
            "@",
            "12345:",
        ];
        let mut next = picker(0x2545_F491_4F6C_DD1D);
        for _ in 0..5_000 {
            let mut text = String::new();
            for _ in 0..next(24) {
                match next(5) {
                    0 => text.push_str(&"word ".repeat(next(40))),
                    _ => text.push_str(pieces[next(pieces.len())]),
                }
            }
            let whole = detect(&searched, &text, &all);
            assert_eq!(detect(&tried, &text, &all), whole, "{text:?}");
            assert_eq!(detect(&general, &text, &all), whole, "{text:?}");
        }
    }

    /// A labelled pattern of a type that needs an operator is not tried where its gate sees none
    /// within reach, and finds what it finds when tried everywhere: texts of labels in every
    /// spelling, connectors with and without operators (characters, words, quotes, line breaks,
    /// long runs of blanks and marks), values, base64 runs and fillers.
    #[test]
    fn labels_not_tried_without_an_operator_find_what_trying_everywhere_finds() {
        let gated = compile_config(&EngineConfig::default()).unwrap();
        let operator_types: Vec<&str> = gated
            .types
            .iter()
            .filter(|t| t.patterns.iter().any(|p| p.operator.is_some()))
            .map(|t| t.id.as_str())
            .collect();
        assert!(
            operator_types.contains(&"password") && operator_types.contains(&"api_key"),
            "{operator_types:?}"
        );
        let everywhere = catalog_with(|p| p.operator = None);
        let all: Vec<usize> = (0..gated.types.len()).collect();
        let labels = [
            "password",
            "PASSWORD",
            "Passwd",
            "db_pass",
            "pw",
            "PW",
            "pwd",
            "pass word",
            "api_key",
            "apiKey",
            "x-api-key",
            "token",
            "secret",
            "SECRET_KEY",
            "auth_token",
        ];
        let tails =
            ["_for_the_production_database_v2", "Of_The_Backup-Service_Account3", "2", "_old", "Hash"];
        // Connector items, operators among them, and what stops a connector.
        let items = [
            " ",
            "  ",
            "\t",
            "=",
            ":",
            ":=",
            "=>",
            "#",
            ",",
            ">",
            "+",
            "|",
            "?",
            ".",
            " - ",
            " is",
            " IS",
            " number",
            " was",
            " are",
            "\n",
            "\r\n",
            "\"",
            "'",
            "]",
            "`",
            ";",
            "(",
            " number number number number number",
            "\t\t\t\t\t\t\t\t\t\t",
        ];
        let values = [
            "hunter2",
            "Tr0ub4dor&3",
            "s3cr3t-v4lue",
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
            "aB3+pw9/Xy7=",
            "QmFzZTY0",
            "x",
            "null",
            "é",
        ];
        // The operator as far from the label as a connector lets it stand: a tail of 32, a quote
        // and a bracket, twelve items, a line break, twelve more, the last one '='.
        let far = format!("\"]{}\n{}number=\"", "number.".repeat(6), "number.".repeat(5));
        for label in labels {
            let text = format!("{label}Of_The_Backup-Service_Account3xy{far}hunter22");
            let expected = detect(&everywhere, &text, &all);
            assert_eq!(detect(&gated, &text, &all), expected, "{text:?}");
            if label == "password" {
                assert_eq!(expected.len(), 1, "{text:?}");
            }
        }
        let mut next = picker(0x0DE7_A7E5_0BE7_A7E5);
        let mut found = 0;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..next(8) {
                match next(6) {
                    0 => text.push_str(&" ".repeat(next(30))),
                    1 => text.push_str(&"+aB3x9/Q".repeat(next(40))),
                    2 => text.push_str(["the ", "0", "\n", "é"][next(4)]),
                    // A label, maybe a tail, a connector of up to 26 items (an operator anywhere or
                    // nowhere in it), a value.
                    _ => {
                        text.push_str(labels[next(labels.len())]);
                        if next(2) == 0 {
                            text.push_str(tails[next(tails.len())]);
                        }
                        for _ in 0..next(27) {
                            text.push_str(items[next(items.len())]);
                        }
                        text.push_str(values[next(values.len())]);
                    }
                }
            }
            let expected = detect(&everywhere, &text, &all);
            found +=
                expected.iter().filter(|s| operator_types.contains(&gated.types[s.ty].id.as_str())).count();
            assert_eq!(detect(&gated, &text, &all), expected, "{text:?}");
        }
        assert!(found > 1_000, "too few passwords and keys in the texts: {found}");
    }
}
