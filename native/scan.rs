//! The union pass: the union's lazy DFA run over a text, reporting every (union id, match end).
//!
//! A lazy DFA is bound by the latency of its transition loads: each byte's next state depends on
//! the last one, so one walk cannot go faster than one load after another (about 2 ns a byte on
//! the bench machine, whatever the pattern). Walks over the thirds of a long text, stepped
//! together, are independent chains of loads that the processor overlaps. Two walks gave 1.4-1.6
//! times the throughput of one on the bench's 100 KB and 1 MB texts; three take 10-20% less time
//! than two from 10 KB up (the same at 1 KB).
//!
//! Most steps meet no tagged state (no match to report, no state to build): the walks take those
//! in a loop of their own that only loads ([`untagged_run`]), about 10 instructions a byte where
//! the loop that also settles took 31 (callgrind, 1 KB of the bench's PII prose). The union pass
//! over 100 KB of clean prose went from 118-158 µs to 60-72 µs, over 1 KB from 1.6-2.2 µs to
//! 0.9-1.0 µs, over the bench's 100 KB base64 blob from 166-209 µs to 102-110 µs. Four walks then
//! took 15-40% more time than three over 1 KB and no less over 100 KB (the later walks' head
//! starts grow with their number).
//!
//! Each walk after the first starts `reach` bytes (the longest a union match can be) before the
//! end of the part before it, so each match ending in its part lies whole in what it reads; each
//! walk reports only the ends in its own part. What is reported is exactly what one walk over the
//! whole text reports (tested against the library's overlapping search).
//!
//! The walks share one cache. With a cache each, every state a text leads to was built and held
//! three times: three times the tables for the processor to keep near, and three times the
//! memory to fetch when a call comes cold (a server's call after other work). One cache took a
//! quarter less time on the bench's 100 KB and 1 MB PII prose warm, and about half cold. A walk
//! that builds a state may clear the cache when it is full, which leaves the other walks' states
//! meaningless: then the text is walked again, once, from its start (a single walk carries its
//! own state across a clear). Clears are rare: the cache holds 8 MiB, and a megabyte of the
//! bench's prose needs about 4.7.

use std::cell::Cell;

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::hybrid::LazyStateID;
use regex_automata::Input;

use crate::catalog::Union;
use crate::kept::with_kept;

/// Texts shorter than this many times the reach are walked once: the other walks' head starts
/// would cost more than the split saves. With a cache each the split paid from six reaches
/// (about 640 bytes); with the one they share, from three: `detect` of 400-550 bytes of PII prose
/// was 8-20% faster split.
const SPLIT_REACHES: usize = 3;

/// How many walks read a long text at once, each its own part ([`Parts`]).
pub const WALKS: usize = 3;

/// The DFA gave up on its cache (too many clears for too little progress).
#[derive(Debug)]
pub struct GaveUp;

/// Why walks in step stopped before the end of their parts.
enum Stop {
    /// The DFA gave up on its cache.
    GaveUp,
    /// A walk cleared the cache the walks share: the others' states no longer mean anything.
    Cleared,
}

impl From<GaveUp> for Stop {
    fn from(_: GaveUp) -> Self {
        Stop::GaveUp
    }
}

/// One walk of the DFA: where it reports from. The hot loops keep the state and the position in
/// locals (in a struct behind a reference they go through memory, and a store and reload per
/// byte halves the speed).
struct Walk {
    /// Ends at or before this are not reported (the walk before it reports them).
    from: usize,
}

/// How far the walks over a text have read, for the cache's account of the bytes searched per
/// state built (by which the DFA decides to give up): the position of a single walk, or the
/// bytes read by all the walks in step.
type Progress = usize;

impl Walk {
    fn start(dfa: &DFA, cache: &mut Cache, text: &str, at: usize) -> Result<LazyStateID, GaveUp> {
        // The range starts the walk at `at` with the byte before it as look-behind.
        dfa.start_state_forward(cache, &Input::new(text).range(at..)).map_err(|_| GaveUp)
    }

    /// The transition from `sid` on `byte`, or an unknown state when `sid` is tagged (then
    /// [`Walk::settle`] takes over). Inlined: the loop's speed is this load.
    #[inline(always)]
    fn peek(dfa: &DFA, cache: &Cache, sid: LazyStateID, byte: u8) -> LazyStateID {
        if sid.is_tagged() {
            return sid;
        }
        dfa.next_state_untagged(cache, sid, byte)
    }

    /// The state after the byte at `at` when [`Walk::peek`] did not settle it (`sid` or `next`
    /// tagged): builds a state not in the cache and reports the matches of a match state, which
    /// end at `at` (a lazy DFA sees a match one byte late). With `shared` (the cache's clear
    /// count when walks sharing it started), a clear since stops the walks: the others' states
    /// are gone.
    #[cold]
    #[inline(never)]
    fn settle(
        &self,
        dfa: &DFA,
        cache: &mut Cache,
        (sid, next): (LazyStateID, LazyStateID),
        (byte, at, progress): (u8, usize, Progress),
        shared: Option<usize>,
        found: &mut impl FnMut(usize, usize),
    ) -> Result<LazyStateID, Stop> {
        let next = if sid.is_tagged() || next.is_unknown() {
            cache.search_update(progress);
            let next = dfa.next_state(cache, sid, byte).map_err(|_| Stop::GaveUp)?;
            if shared.is_some_and(|clears| cache.clear_count() != clears) {
                return Err(Stop::Cleared);
            }
            next
        } else {
            next
        };
        if next.is_match() && at > self.from {
            for i in 0..dfa.match_len(cache, next) {
                found(dfa.match_pattern(cache, next, i).as_usize(), at);
            }
        }
        Ok(next)
    }

    /// Read `hay[at..end]` from `sid` alone (progress counted from `shift` past the position);
    /// the state after.
    fn run(
        &self,
        dfa: &DFA,
        cache: &mut Cache,
        mut sid: LazyStateID,
        hay: &[u8],
        (at, end, shift): (usize, usize, usize),
        found: &mut impl FnMut(usize, usize),
    ) -> Result<LazyStateID, GaveUp> {
        let mut i = at;
        while i < end {
            if !sid.is_tagged() {
                i += untagged_run(dfa, cache, [&hay[i..end]], [&mut sid]);
                if i == end {
                    break;
                }
            }
            let byte = hay[i];
            let next = Walk::peek(dfa, cache, sid, byte);
            // Alone: a clear cannot harm the walk (the library carries its state across).
            sid = self
                .settle(dfa, cache, (sid, next), (byte, i, i + shift), None, found)
                .map_err(|_| GaveUp)?;
            i += 1;
        }
        Ok(sid)
    }

    /// The end of the text: the matches that end there.
    fn finish(
        &self,
        dfa: &DFA,
        cache: &mut Cache,
        sid: LazyStateID,
        len: usize,
        found: &mut impl FnMut(usize, usize),
    ) -> Result<(), GaveUp> {
        let last = dfa.next_eoi_state(cache, sid).map_err(|_| GaveUp)?;
        if last.is_match() {
            for i in 0..dfa.match_len(cache, last) {
                found(dfa.match_pattern(cache, last, i).as_usize(), len);
            }
        }
        Ok(())
    }
}

/// Every (union id, match end) of the union's patterns and keywords in `text`, each id's ends
/// ascending; `Err` if the DFA gave up. `Ok(true)` if the text was walked in parts ([`WALKS`]).
///
/// `held` is a cache taken by the caller for many texts (a payload's strings), used instead of
/// one taken here per text.
///
/// # Example
/// ```
/// use _native::catalog::{compile_config, EngineConfig};
/// let c = compile_config(&EngineConfig::default()).unwrap();
/// let union = c.union.as_ref().unwrap();
/// let mut ends = Vec::new();
/// let split = _native::scan::union_matches(union, "SSN 123-45-6789", None, &mut |_, end| ends.push(end)).unwrap();
/// assert!(!split, "a short text is walked once");
/// assert!(ends.contains(&15), "the SSN ends at byte 15");
/// ```
#[inline(never)]
pub fn union_matches(
    union: &Union,
    text: &str,
    held: Option<&mut Cache>,
    found: &mut impl FnMut(usize, usize),
) -> Result<bool, GaveUp> {
    let mut taken;
    let cache: &mut Cache = match held {
        Some(cache) => cache,
        None => {
            taken = union.caches.get();
            &mut taken
        }
    };
    walk(&union.dfa, union.reach, cache, text, found)
}

/// [`union_matches`] with `dfa`, whose matches are at most `reach` long, and `cache`.
fn walk(
    dfa: &DFA,
    reach: Option<usize>,
    cache: &mut Cache,
    text: &str,
    found: &mut impl FnMut(usize, usize),
) -> Result<bool, GaveUp> {
    if let Some(reach) = reach.filter(|&r| text.len() >= SPLIT_REACHES * r.max(16)) {
        match in_parts(dfa, cache, text, Parts::of(text.len(), reach), found) {
            Ok(()) => return Ok(true),
            Err(Stop::GaveUp) => return Err(GaveUp),
            // Nothing was reported: the text is walked again, whole.
            Err(Stop::Cleared) => {}
        }
    }
    whole(dfa, cache, text, found)?;
    Ok(false)
}

/// One walk over the whole text.
fn whole(
    dfa: &DFA,
    cache: &mut Cache,
    text: &str,
    found: &mut impl FnMut(usize, usize),
) -> Result<(), GaveUp> {
    let len = text.len();
    cache.search_start(0);
    let walk = Walk { from: 0 };
    let sid = Walk::start(dfa, cache, text, 0)?;
    let sid = walk.run(dfa, cache, sid, text.as_bytes(), (0, len, 0), found)?;
    walk.finish(dfa, cache, sid, len, found)?;
    cache.search_finish(len);
    Ok(())
}

/// The walks over the parts of a long text, in step; what they find is held until all are done
/// (a clear of the cache they share stops them, and then nothing is reported), then reported
/// walk by walk, so that each id's ends stay ascending.
fn in_parts(
    dfa: &DFA,
    cache: &mut Cache,
    text: &str,
    parts: Parts,
    found: &mut impl FnMut(usize, usize),
) -> Result<(), Stop> {
    let (hay, len) = (text.as_bytes(), text.len());
    let clears = cache.clear_count();
    cache.search_start(0);
    let mut starts = [LazyStateID::default(); WALKS];
    for (start, &head) in starts.iter_mut().zip(&parts.heads) {
        *start = Walk::start(dfa, cache, text, head)?;
    }
    // A start state built may have cleared the cache under the ones before it.
    if cache.clear_count() != clears {
        return Err(Stop::Cleared);
    }
    let walks: [Walk; WALKS] =
        std::array::from_fn(|j| Walk { from: if j == 0 { 0 } else { parts.last(j - 1) } });
    with_kept(&FOUND, |kept| {
        let state = in_step(dfa, cache, hay, (&parts, clears), (&walks, starts), kept)?;
        // The last walk reads the rest alone (a clear cannot harm it now: the library carries a
        // single walk's state across one); its progress counts on from what all the walks read.
        let (walk, head, last) = (&walks[WALKS - 1], parts.heads[WALKS - 1], &mut kept[WALKS - 1]);
        let shift = WALKS * parts.len - (head + parts.len);
        let mut keep = |id: usize, end: usize| last.push((id, end));
        let state = walk.run(dfa, cache, state, hay, (head + parts.len, len, shift), &mut keep)?;
        walk.finish(dfa, cache, state, len, &mut keep)?;
        cache.search_finish(len + shift);
        for &(id, end) in kept.iter().flatten() {
            found(id, end);
        }
        Ok(())
    })
}

/// Where the walks of a long text start: each reads `len` bytes from its head (the last one
/// may have up to two more to read alone), and each after the first starts `reach` bytes before
/// the last byte of the part before it. Equal parts: a split at a third of the text gave the
/// later walks `reach` more each to read while the first was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Parts {
    len: usize,
    heads: [usize; WALKS],
}

impl Parts {
    fn of(len: usize, reach: usize) -> Self {
        // Walk j starts at j * (n - 1 - reach) and the last one reads at least n bytes.
        let n = (len + (WALKS - 1) * (reach + 1)) / WALKS;
        Parts { len: n, heads: std::array::from_fn(|j| j * (n - 1 - reach)) }
    }

    /// The last byte walk `j` reads in step with the others: its part's matches end there or before.
    fn last(&self, j: usize) -> usize {
        self.heads[j] + self.len - 1
    }
}

/// The walks stepped together over their parts ([`Parts`]), sharing `cache` (`clears`: its clear
/// count when they started), each keeping what it finds in its list of `kept`; the last walk's
/// state then.
fn in_step(
    dfa: &DFA,
    cache: &mut Cache,
    hay: &[u8],
    (parts, clears): (&Parts, usize),
    (walks, mut states): (&[Walk; WALKS], [LazyStateID; WALKS]),
    kept: &mut Finds,
) -> Result<LazyStateID, Stop> {
    let n = parts.len;
    let shared = Some(clears);
    let mut i = 0;
    while i < n {
        if !states.iter().any(|s| s.is_tagged()) {
            let untagged = parts.heads.map(|head| &hay[head + i..head + n]);
            i += untagged_run(dfa, cache, untagged, states.each_mut());
            if i == n {
                break;
            }
        }
        // A step that meets a tagged state. Every transition is read before any is acted on:
        // the loads overlap. The cache's progress is what all the walks have read.
        let bytes = parts.heads.map(|head| hay[head + i]);
        let next: [LazyStateID; WALKS] = std::array::from_fn(|j| Walk::peek(dfa, cache, states[j], bytes[j]));
        for (j, walk) in walks.iter().enumerate() {
            states[j] = if next[j].is_tagged() || states[j].is_tagged() {
                let list = &mut kept[j];
                let at = (bytes[j], parts.heads[j] + i, WALKS * i + j);
                walk.settle(dfa, cache, (states[j], next[j]), at, shared, &mut |id, end| {
                    list.push((id, end))
                })?
            } else {
                next[j]
            };
        }
        i += 1;
    }
    Ok(states[WALKS - 1])
}

/// Step walks in `states` (untagged) over their `hays` (of one length) together while every
/// state they reach is untagged: no state to build, no match to report, only a load per byte
/// and walk. Returns how many bytes each read; their states are then those before the first
/// tagged one (the caller settles that step), or after the last byte.
///
/// The loop calls nothing and has the cache and the DFA only to read, so their tables'
/// addresses stay in registers; stepped in the loop that also settles, they were reloaded at
/// every byte, and the states shuffled between registers around the call: a third of the
/// instructions per byte.
#[inline(always)]
fn untagged_run<const K: usize>(
    dfa: &DFA,
    cache: &Cache,
    hays: [&[u8]; K],
    states: [&mut LazyStateID; K],
) -> usize {
    let len = hays[0].len();
    let mut ids: [LazyStateID; K] = std::array::from_fn(|k| *states[k]);
    let mut read = 0;
    while read < len {
        let next: [LazyStateID; K] =
            std::array::from_fn(|k| dfa.next_state_untagged(cache, ids[k], hays[k][read]));
        if next.iter().fold(false, |any, id| any | id.is_tagged()) {
            break;
        }
        ids = next;
        read += 1;
    }
    for (state, id) in states.into_iter().zip(ids) {
        *state = id;
    }
    read
}

/// What each of the walks in step found: (union id, end) pairs, held until all are done.
type Finds = [Vec<(usize, usize)>; WALKS];

thread_local! {
    /// What each walk found, held until all are done.
    static FOUND: Cell<Option<Finds>> = const { Cell::new(None) };
}

#[cfg(test)]
mod tests {
    use regex_automata::hybrid::dfa::OverlappingState;
    use regex_automata::Input;

    use super::*;
    use crate::catalog::{compile_config, EngineConfig};

    /// Every (id, end) of one overlapping search by the library, per id ascending.
    fn one_walk(dfa: &DFA, text: &str) -> Vec<(usize, usize)> {
        let mut cache = dfa.create_cache();
        let mut state = OverlappingState::start();
        let mut out = Vec::new();
        loop {
            dfa.try_search_overlapping_fwd(&mut cache, &Input::new(text), &mut state).unwrap();
            let Some(m) = state.get_match() else { break };
            out.push((m.pattern().as_usize(), m.offset()));
        }
        out.sort_unstable();
        out
    }

    fn ours(union: &Union, text: &str) -> (Vec<(usize, usize)>, bool) {
        let mut out = Vec::new();
        let split = union_matches(union, text, None, &mut |id, end| out.push((id, end))).unwrap();
        let ascending = |id| out.iter().filter(|m| m.0 == id).map(|m| m.1).is_sorted();
        assert!((0..union.dfa.pattern_len()).all(ascending), "ends of an id out of order");
        out.sort_unstable();
        (out, split)
    }

    #[test]
    fn split_walks_report_what_one_walk_reports() {
        let c = compile_config(&EngineConfig::default()).unwrap();
        let union = c.union.as_ref().unwrap();
        let reach = union.reach.unwrap();
        // Values and keywords of every kind, at every offset around each border between parts.
        let pieces = [
            "ssn 123-45-6789",
            "call +1 (415) 555-0123",
            "ip 2001:db8::8a2e:370:7334 or 10.1.2.3",
            "card 4111 1111 1111 1111",
            "iban GB82 WEST 1234 5698 7654 32",
            "passport X1234567",
            "api_key=sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "token ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        ];
        let filler = "the quick brown fox jumps over the lazy dog. ";
        let mut checked_split = 0;
        let long = filler.repeat(SPLIT_REACHES * reach / filler.len() + 2);
        let total = long.len();
        let parts = Parts::of(total, reach);
        let borders = (0..WALKS - 1).map(|j| parts.last(j));
        for (piece, border) in pieces.iter().flat_map(|p| borders.clone().map(move |b| (p, b))) {
            // The piece straddles a border between parts at each of its bytes, and just misses it.
            for shift in 0..=piece.len() + 1 {
                let head = border + 1 - shift;
                let text = format!("{}{piece}{}", &long[..head], &long[..total - head - piece.len()]);
                let (got, split) = ours(union, &text);
                assert_eq!(got, one_walk(&union.dfa, &text), "piece {piece:?} shifted {shift} from {border}");
                checked_split += usize::from(split);
            }
        }
        assert!(checked_split > 0, "no text was long enough to split");
        // Short texts are walked once.
        assert!(!ours(union, "ssn 123-45-6789").1);
    }

    /// Walks in step that clear the cache they share (a union given a small cache) report what
    /// one walk reports: the text is walked again, whole, and nothing of the first try is left.
    #[test]
    fn a_cleared_cache_walks_the_text_again() {
        const SMALL: usize = 12 * 1024;
        let sources = [
            r"(?-u:\b)[0-9]{3}-[0-9]{2}-[0-9]{4}(?-u:\b)",
            r"[a-z]{2,8}@[a-z]{2,8}\.(?:com|org)",
            r"(?i)ssn",
            r"(?i)passport",
        ];
        let dfa = DFA::builder()
            .configure(
                DFA::config()
                    .match_kind(regex_automata::MatchKind::All)
                    .cache_capacity(SMALL)
                    .minimum_cache_clear_count(None),
            )
            .build_many(&sources)
            .unwrap();
        let mut next = crate::detect::tests::picker(0x0DDB_1A5E_5EED_5EED);
        let pieces =
            ["ssn 123-45-6789 ", "mail jo@example.com ", "Passport ", "word ", "x@y.org ", "12-34 ", "\n"];
        let mut cleared = 0;
        for _ in 0..200 {
            let text: String = (0..40 + next(80)).map(|_| pieces[next(pieces.len())]).collect();
            let mut cache = dfa.create_cache();
            let mut got = Vec::new();
            let split = walk(&dfa, Some(24), &mut cache, &text, &mut |id, end| got.push((id, end))).unwrap();
            // Long enough to split: walked whole only after a clear stopped the walks in step.
            cleared += usize::from(!split && cache.clear_count() > 0);
            got.sort_unstable();
            assert_eq!(got, one_walk(&dfa, &text), "{text:?}");
        }
        assert!(cleared > 100, "too few walks cleared their cache: {cleared}");
    }

    /// Untagged runs stop at the first step where any walk meets a tagged state (a match, or a
    /// state not built yet), with every walk's state the one before that step, as stepping the
    /// walks one byte at a time with the library's own transition finds.
    #[test]
    fn untagged_runs_stop_before_the_first_tagged_state() {
        let c = compile_config(&EngineConfig::default()).unwrap();
        let dfa = &c.union.as_ref().unwrap().dfa;
        let mut cache = dfa.create_cache();
        let clean = "the quick brown fox jumps over the lazy dog, twice over and over again";
        let values = "mail jo@example.com or call +1 (415) 555-0123 after 10.1.2.3 went down";
        let mut ran = [0; 2];
        for round in 0..3 {
            let cases = [[clean; 3], [clean, values, clean], [values, clean, values]];
            for (case, (texts, (skip, len))) in cases.iter().zip([(0, 20), (3, 40), (7, 60)]).enumerate() {
                let hays: [&[u8]; 3] = std::array::from_fn(|w| &texts[w].as_bytes()[skip..skip + len]);
                let starts: [LazyStateID; 3] =
                    std::array::from_fn(|w| Walk::start(dfa, &mut cache, texts[w], skip).unwrap());
                // By hand: each walk stepped with the library until any is tagged.
                let mut expected = starts;
                let mut read = 0;
                'steps: while read < len {
                    let mut next = expected;
                    for (state, (&from, hay)) in next.iter_mut().zip(expected.iter().zip(hays)) {
                        *state = dfa.next_state(&mut cache, from, hay[read]).unwrap();
                        if state.is_tagged() {
                            break 'steps;
                        }
                    }
                    expected = next;
                    read += 1;
                }
                let mut states = starts;
                let got = untagged_run(dfa, &cache, hays, states.each_mut());
                assert_eq!((got, states), (read, expected), "round {round}, case {case}");
                ran[usize::from(got == len)] += 1;
            }
        }
        // Both ways out were taken: a tagged state met (first rounds: states not built yet;
        // later, the values' matches), and the end of the bytes.
        assert!(ran[0] > 0 && ran[1] > 0, "{ran:?}");
    }

    /// The parts cover the text, each walk after the first starting `reach` before the end of the
    /// part before it, and the last walk reads at least as many bytes as the others.
    #[test]
    fn parts_cover_the_text_with_a_reach_of_overlap() {
        for reach in [16, 40, 106, 300] {
            for len in SPLIT_REACHES * reach..SPLIT_REACHES * reach + 2 * WALKS + 7 {
                let p = Parts::of(len, reach);
                assert_eq!(p.heads[0], 0);
                for j in 1..WALKS {
                    assert_eq!(p.heads[j], p.last(j - 1) - reach, "len {len} reach {reach}");
                }
                let rest = len - p.heads[WALKS - 1];
                assert!((p.len..p.len + WALKS).contains(&rest), "len {len} reach {reach}: {p:?}");
            }
        }
    }
}
