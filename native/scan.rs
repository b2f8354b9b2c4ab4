//! The union pass: the union's lazy DFA run over a text, reporting every (union id, match end).
//!
//! A lazy DFA is bound by the latency of its transition loads: each byte's next state depends on
//! the last one, so one walk cannot go faster than one load after another (about 2 ns a byte on
//! the bench machine, whatever the pattern). Walks over the thirds of a long text, stepped
//! together, are independent chains of loads that the processor overlaps. Two walks gave 1.4-1.6
//! times the throughput of one on the bench's 100 KB and 1 MB texts; three take 10-20% less time
//! than two from 10 KB up (the same at 1 KB), and a generic number of walks in an array ran slower
//! than either (its states went through memory). Past three, the loop's instructions, not the
//! loads, set the pace.
//!
//! Each walk after the first starts `reach` bytes (the longest a union match can be) before the
//! end of the part before it, so each match ending in its part lies whole in what it reads; each
//! walk reports only the ends in its own part. Each walk has its own cache: a cache clear in one
//! cannot invalidate another's state. What is reported is exactly what one walk over the whole
//! text reports (tested against the library's overlapping search).

use std::cell::Cell;

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::hybrid::LazyStateID;
use regex_automata::Input;

use crate::catalog::Union;
use crate::kept::with_kept;

/// Texts shorter than this many times the reach are walked once: the other walks' head starts
/// would cost more than the split saves.
const SPLIT_REACHES: usize = 6;

/// How many walks read a long text at once, each its own part ([`Parts`]).
pub const WALKS: usize = 3;

/// The DFA gave up on its cache (too many clears for too little progress).
#[derive(Debug)]
pub struct GaveUp;

/// One walk of the DFA: its cache and where it reports from. The hot loops keep the state and
/// the position in locals (in a struct behind a reference they go through memory, and a store
/// and reload per byte halves the speed).
struct Walk<'c> {
    cache: &'c mut Cache,
    /// Ends at or before this are not reported (the other walk reports them).
    from: usize,
}

impl Walk<'_> {
    fn start(dfa: &DFA, cache: &mut Cache, text: &str, at: usize) -> Result<LazyStateID, GaveUp> {
        // The range starts the walk at `at` with the byte before it as look-behind.
        let sid = dfa.start_state_forward(cache, &Input::new(text).range(at..)).map_err(|_| GaveUp)?;
        cache.search_start(at);
        Ok(sid)
    }

    /// The transition from `sid` on `byte`, or an unknown state when `sid` is tagged (then
    /// [`Walk::settle`] takes over). Inlined: the loop's speed is this load.
    #[inline(always)]
    fn peek(&self, dfa: &DFA, sid: LazyStateID, byte: u8) -> LazyStateID {
        if sid.is_tagged() {
            return sid;
        }
        dfa.next_state_untagged(self.cache, sid, byte)
    }

    /// The state after the byte at `at` when [`Walk::peek`] did not settle it (`sid` or `next`
    /// tagged): builds a state not in the cache and reports the matches of a match state, which
    /// end at `at` (a lazy DFA sees a match one byte late).
    #[cold]
    #[inline(never)]
    fn settle(
        &mut self,
        dfa: &DFA,
        sid: LazyStateID,
        next: LazyStateID,
        (byte, at): (u8, usize),
        found: &mut impl FnMut(usize, usize),
    ) -> Result<LazyStateID, GaveUp> {
        let next = if sid.is_tagged() || next.is_unknown() {
            self.cache.search_update(at);
            dfa.next_state(self.cache, sid, byte).map_err(|_| GaveUp)?
        } else {
            next
        };
        if next.is_match() && at > self.from {
            for i in 0..dfa.match_len(self.cache, next) {
                found(dfa.match_pattern(self.cache, next, i).as_usize(), at);
            }
        }
        Ok(next)
    }

    /// Read `hay[at..end]` from `sid`; the state after.
    fn run(
        &mut self,
        dfa: &DFA,
        mut sid: LazyStateID,
        hay: &[u8],
        (at, end): (usize, usize),
        found: &mut impl FnMut(usize, usize),
    ) -> Result<LazyStateID, GaveUp> {
        for (i, &byte) in hay[at..end].iter().enumerate() {
            let next = self.peek(dfa, sid, byte);
            sid = if next.is_tagged() || sid.is_tagged() {
                self.settle(dfa, sid, next, (byte, at + i), found)?
            } else {
                next
            };
        }
        Ok(sid)
    }

    /// The end of the text: the matches that end there.
    fn finish(
        &mut self,
        dfa: &DFA,
        sid: LazyStateID,
        len: usize,
        found: &mut impl FnMut(usize, usize),
    ) -> Result<(), GaveUp> {
        let last = dfa.next_eoi_state(self.cache, sid).map_err(|_| GaveUp)?;
        if last.is_match() {
            for i in 0..dfa.match_len(self.cache, last) {
                found(dfa.match_pattern(self.cache, last, i).as_usize(), len);
            }
        }
        self.cache.search_finish(len);
        Ok(())
    }
}

/// Every (union id, match end) of the union's patterns and keywords in `text`, each id's ends
/// ascending; `Err` if the DFA gave up. `Ok(true)` if the text was walked in parts ([`WALKS`]).
///
/// `held` is a cache taken by the caller for many texts (a payload's strings), used for the
/// first walk instead of one taken here per text.
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
    let dfa = &union.dfa;
    let hay = text.as_bytes();
    let len = hay.len();
    let mut taken;
    let first: &mut Cache = match held {
        Some(cache) => cache,
        None => {
            taken = union.caches.get();
            &mut taken
        }
    };
    let Some(reach) = union.reach.filter(|&r| len >= SPLIT_REACHES * r.max(16)) else {
        let sid = Walk::start(dfa, first, text, 0)?;
        let mut walk = Walk { cache: first, from: 0 };
        let sid = walk.run(dfa, sid, hay, (0, len), found)?;
        walk.finish(dfa, sid, len, found)?;
        return Ok(false);
    };
    let mut second = union.caches.get();
    let mut third = union.caches.get();
    let parts = Parts::of(len, reach);
    let [_, h2, h3] = parts.heads;
    let (s1, s2, s3) = (
        Walk::start(dfa, first, text, 0)?,
        Walk::start(dfa, &mut second, text, h2)?,
        Walk::start(dfa, &mut third, text, h3)?,
    );
    let mut a = Walk { cache: first, from: 0 };
    let mut b = Walk { cache: &mut second, from: parts.last(0) };
    let mut c = Walk { cache: &mut third, from: parts.last(1) };
    // The later walks' finds are held until the walks before them are done, so that each id's
    // ends stay ascending.
    with_kept(&LATER, |later| {
        with_kept(&LAST, |last| {
            let mut keep_b = |id: usize, end: usize| later.push((id, end));
            let mut keep_c = |id: usize, end: usize| last.push((id, end));
            let s3 = thirds(
                dfa,
                hay,
                &parts,
                [(&mut a, s1), (&mut b, s2), (&mut c, s3)],
                (found, &mut keep_b, &mut keep_c),
            )?;
            let s3 = c.run(dfa, s3, hay, (h3 + parts.len, len), &mut keep_c)?;
            c.finish(dfa, s3, len, &mut keep_c)?;
            for &(id, end) in later.iter().chain(last.iter()) {
                found(id, end);
            }
            Ok(true)
        })
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

/// The three walks stepped together over their parts ([`Parts`]); the last walk's state then.
/// Its own function: in the closure that holds the later walks' finds, the states were kept in
/// memory rather than in registers, a store and a reload per byte.
#[inline(never)]
fn thirds(
    dfa: &DFA,
    hay: &[u8],
    parts: &Parts,
    [(a, mut sa), (b, mut sb), (c, mut sc)]: [(&mut Walk<'_>, LazyStateID); WALKS],
    (found, keep_b, keep_c): (
        &mut impl FnMut(usize, usize),
        &mut impl FnMut(usize, usize),
        &mut impl FnMut(usize, usize),
    ),
) -> Result<LazyStateID, GaveUp> {
    let [ha, hb, hc] = parts.heads;
    let n = parts.len;
    for (i, ((&xa, &xb), &xc)) in hay[..n].iter().zip(&hay[hb..hb + n]).zip(&hay[hc..hc + n]).enumerate() {
        // Every transition is read before any is acted on: the loads overlap.
        let (na, nb, nc) = (a.peek(dfa, sa, xa), b.peek(dfa, sb, xb), c.peek(dfa, sc, xc));
        sa = if na.is_tagged() || sa.is_tagged() { a.settle(dfa, sa, na, (xa, ha + i), found)? } else { na };
        sb = if nb.is_tagged() || sb.is_tagged() { b.settle(dfa, sb, nb, (xb, hb + i), keep_b)? } else { nb };
        sc = if nc.is_tagged() || sc.is_tagged() { c.settle(dfa, sc, nc, (xc, hc + i), keep_c)? } else { nc };
    }
    a.cache.search_finish(ha + n);
    b.cache.search_finish(hb + n);
    Ok(sc)
}

thread_local! {
    /// What the second walk found, held until the first is done.
    static LATER: Cell<Option<Vec<(usize, usize)>>> = const { Cell::new(None) };
    /// What the third walk found, held until the second is done.
    static LAST: Cell<Option<Vec<(usize, usize)>>> = const { Cell::new(None) };
}

#[cfg(test)]
mod tests {
    use regex_automata::hybrid::dfa::OverlappingState;
    use regex_automata::Input;

    use super::*;
    use crate::catalog::{compile_config, EngineConfig};

    /// Every (id, end) of one overlapping search by the library, per id ascending.
    fn one_walk(union: &Union, text: &str) -> Vec<(usize, usize)> {
        let mut cache = union.dfa.create_cache();
        let mut state = OverlappingState::start();
        let mut out = Vec::new();
        loop {
            union.dfa.try_search_overlapping_fwd(&mut cache, &Input::new(text), &mut state).unwrap();
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
        for (piece, border) in pieces.iter().flat_map(|p| [(p, parts.last(0)), (p, parts.last(1))]) {
            // The piece straddles a border between parts at each of its bytes, and just misses it.
            for shift in 0..=piece.len() + 1 {
                let head = border + 1 - shift;
                let text = format!("{}{piece}{}", &long[..head], &long[..total - head - piece.len()]);
                let (got, split) = ours(union, &text);
                assert_eq!(got, one_walk(union, &text), "piece {piece:?} shifted {shift} from {border}");
                checked_split += usize::from(split);
            }
        }
        assert!(checked_split > 0, "no text was long enough to split");
        // Short texts are walked once.
        assert!(!ours(union, "ssn 123-45-6789").1);
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
