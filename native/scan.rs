//! The union pass: the union's lazy DFA run over a text, reporting every (union id, match end).
//!
//! A lazy DFA is bound by the latency of its transition loads: each byte's next state depends on
//! the last one, so one walk cannot go faster than one load after another (about 2 ns a byte on
//! the bench machine, whatever the pattern). Two walks over the two halves of a long text, stepped
//! together, are two independent chains of loads that the processor overlaps: measured on the
//! bench's 100 KB and 1 MB texts, 1.4-1.6 times the throughput of one walk.
//!
//! The second walk starts `reach` bytes (the longest a union match can be) before the middle, so
//! each match ending after the middle lies whole in what it reads; the first walk reports the
//! ends up to the middle, the second those after it. Each walk has its own cache: a cache clear
//! in one cannot invalidate the other's state. What is reported is exactly what one walk over the
//! whole text reports (tested against the library's overlapping search).

use std::cell::Cell;

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::hybrid::LazyStateID;
use regex_automata::Input;

use crate::catalog::Union;
use crate::kept::with_kept;

/// Texts shorter than this many times the reach are walked once: the second walk's head start
/// would cost more than the split saves.
const SPLIT_REACHES: usize = 6;

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
/// ascending; `Err` if the DFA gave up. `Ok(true)` if the text was walked in two halves.
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
    // The first walk reads up to and including the middle byte (so it sees the matches that end
    // at the middle); the second reports only the ends after the middle, buffered until the
    // first is done so that each id's ends stay ascending.
    let middle = middle(len, reach);
    let head = middle - reach;
    let sa = Walk::start(dfa, first, text, 0)?;
    let sb = Walk::start(dfa, &mut second, text, head)?;
    let mut a = Walk { cache: first, from: 0 };
    let mut b = Walk { cache: &mut second, from: middle };
    with_kept(&LATER, |later| {
        let mut keep = |id: usize, end: usize| later.push((id, end));
        let sb = both(dfa, hay, (middle, head), (&mut a, sa), (&mut b, sb), found, &mut keep)?;
        let sb = b.run(dfa, sb, hay, (head + middle + 1, len), &mut keep)?;
        b.finish(dfa, sb, len, &mut keep)?;
        for &(id, end) in later.iter() {
            found(id, end);
        }
        Ok(true)
    })
}

/// Where a text of `len` bytes is split for two walks, the second starting `reach` bytes before:
/// the walks then read as many bytes each, or the second one more (a split at `len / 2` gave the
/// second `reach` more to read alone: a tenth of a 1 KB text).
fn middle(len: usize, reach: usize) -> usize {
    (len + reach - 1) / 2
}

/// The two walks stepped together over `hay[..=middle]` and `hay[head..]` until the first has
/// read the middle byte (the second has as many to read, or one more); the second's state then.
/// Its own function: in the closure that holds the second walk's finds, the states were kept in
/// memory rather than in registers, a store and a reload per byte.
#[inline(never)]
fn both(
    dfa: &DFA,
    hay: &[u8],
    (middle, head): (usize, usize),
    (a, mut sa): (&mut Walk<'_>, LazyStateID),
    (b, mut sb): (&mut Walk<'_>, LazyStateID),
    found: &mut impl FnMut(usize, usize),
    keep: &mut impl FnMut(usize, usize),
) -> Result<LazyStateID, GaveUp> {
    for (i, (&xa, &xb)) in hay[..=middle].iter().zip(&hay[head..]).enumerate() {
        // Both transitions are read before either is acted on: the two loads overlap.
        let (na, nb) = (a.peek(dfa, sa, xa), b.peek(dfa, sb, xb));
        sa = if na.is_tagged() || sa.is_tagged() { a.settle(dfa, sa, na, (xa, i), found)? } else { na };
        sb = if nb.is_tagged() || sb.is_tagged() { b.settle(dfa, sb, nb, (xb, head + i), keep)? } else { nb };
    }
    a.cache.search_finish(middle + 1);
    Ok(sb)
}

thread_local! {
    /// What the second walk found, held until the first is done.
    static LATER: Cell<Option<Vec<(usize, usize)>>> = const { Cell::new(None) };
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
        // Values and keywords of every kind, at every offset around the middle of the text.
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
        for piece in pieces {
            // The piece straddles the split of the text at each of its bytes, and just misses it.
            let total = long.len();
            for shift in 0..=piece.len() + 1 {
                let head = middle(total, reach) + 1 - shift;
                let text = format!("{}{piece}{}", &long[..head], &long[..total - head - piece.len()]);
                let (got, split) = ours(union, &text);
                assert_eq!(got, one_walk(union, &text), "piece {piece:?} shifted {shift}");
                checked_split += usize::from(split);
            }
        }
        assert!(checked_split > 0, "no text was long enough to split");
        // Short texts are walked once.
        assert!(!ours(union, "ssn 123-45-6789").1);
    }
}
