//! The groups of a labelled match, found without the general matcher's backtracking.
//!
//! A label pattern ([`crate::catalog::label_pattern`]) is `head connector value`: the head is the
//! label phrase and the rest of its identifier (groups `label` and `tail`), the connector joins it
//! to the value (group `value`). Once the whole match is known, its groups were found by running
//! the bounded backtracker over it: 300 to 1,000 ns per match on thousands of NFA states, ten
//! times the search that found the match.
//!
//! Here three small lazy DFAs find them instead (100-200 ns a match), each walking a few bytes of the match: the head
//! forward from the start (where can it end?), the connector forward from each such end (where can
//! the value start?), the value backward from the match end (from where does it reach the end?).
//! The backtracker's head end is one whose connector reaches a position from which the value
//! reaches the end, and its value start is one of those. When there is only one of each, that is
//! it, whatever path the backtracker took. When there are several (a tail that could also be a
//! connector word, "DLno"; "=" that may join a password or begin it), the backtracker's choice is
//! the first in its order of preference: a walk of the head's NFA in that order picks the head
//! end, one of the connector's NFA from there the value start. The general matcher is left only
//! a head and connector running past `REACH` bytes, or a part that does not compile: on the
//! catalog's examples, the external suites' texts and the bench's, no match at all.

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::nfa::thompson::{self, State, WhichCaptures, NFA};
use regex_automata::util::pool::Pool;
use regex_automata::util::start;
use regex_automata::{Anchored, MatchKind};
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::{Arc, OnceLock};

/// One part of a label pattern: its NFA, and its lazy DFA, which matches every way it can (not
/// only the first). Made the first time it is needed (about 0.25 ms a part), and lazy: dense DFAs
/// of the catalog's ten label patterns took 50 ms to build with the engine, or added 25 ms to a
/// server's first call when built then; a lazy DFA builds only the states the texts lead to.
#[derive(Debug, Clone)]
pub struct Part {
    source: String,
    reverse: bool,
    built: OnceLock<Option<Arc<Built>>>,
}

type MakeCache = Box<dyn Fn() -> Cache + Send + Sync + UnwindSafe + RefUnwindSafe>;

/// What a part is made into.
#[derive(Debug)]
struct Built {
    nfa: NFA,
    dfa: DFA,
    /// A cache of the DFA per thread that walks it.
    caches: Pool<Cache, MakeCache>,
}

impl Part {
    /// The part with the translated `source`, read forward or (`reverse`) backward.
    pub fn new(source: String, reverse: bool) -> Self {
        Part { source, reverse, built: OnceLock::new() }
    }

    /// Its NFA and DFA; `None` if they cannot be built (then the backtracker finds the groups).
    fn get(&self) -> Option<&Built> {
        self.built.get_or_init(|| build(&self.source, self.reverse).map(Arc::new)).as_deref()
    }

    fn nfa(&self) -> Option<&NFA> {
        self.get().map(|built| &built.nfa)
    }
}

/// The parts of one label pattern.
#[derive(Debug, Clone)]
pub struct Split {
    /// The head (label and tail), forward from the match start.
    head: Part,
    /// The connector, forward from where the head ends (the same for every label pattern).
    connector: Arc<Part>,
    /// The value, backward from the match end.
    value: Part,
}

/// How far from a match's start the head and connector are followed; one that may run further (a
/// rare label, tail and connector of over 128 bytes) is left to the backtracker.
const REACH: usize = 128;

impl Split {
    /// The parts of a label pattern, from its translated head and value.
    pub fn new(head: String, connector: Arc<Part>, value: String) -> Self {
        Split { head: Part::new(head, false), connector, value: Part::new(value, true) }
    }

    /// The value's start and the head's end of the match `text[start..end]`, if each is the only
    /// position it can be.
    pub fn groups(&self, text: &[u8], start: usize, end: usize) -> Option<(usize, usize)> {
        let (head, connector, value) = (self.head.get()?, self.connector.get()?, self.value.get()?);
        let (mut head_cache, mut connector_cache) = (head.caches.get(), connector.caches.get());
        // Positions after the start within reach, as bits.
        let bit = |at: usize| (at - start).checked_sub(1).filter(|&i| i < REACH).map_or(0, |i| 1u128 << i);
        let last = (end - 1).min(start + REACH);
        // A read that stopped before reaching past `last` saw every position it could match.
        let within = |stopped: bool| stopped || last == end - 1;
        let (mut heads, mut empty) = (0u128, false);
        let stopped = walk_forward(&head.dfa, &mut head_cache, text, start, last, |at| {
            heads |= bit(at);
            empty |= at == start;
        })?;
        // (A head is never empty: its label is not. Were it, its end would have no bit.)
        if !within(stopped) || empty {
            return None;
        }
        let mut values = 0u128;
        walk_backward(&value.dfa, &mut value.caches.get(), text, start, end, |at| values |= bit(at))?;
        // Where a connector can take a head end: the value starts at one of these.
        let mut connect = |from: usize| -> Option<u128> {
            let mut ends = 0u128;
            let stopped =
                walk_forward(&connector.dfa, &mut connector_cache, text, from, last, |to| ends |= bit(to))?;
            within(stopped).then_some(ends)
        };
        // The head ends whose connector reaches a value start (and the last one's ends). When there
        // are several ("pass" + "word=x" or "password" + "=x"), the backtracker takes the first in
        // the head's order of preference, and from it the first way of the connector that stops
        // at a value start ("=" can join a password or begin it).
        let (mut head_ends, mut reaching) = (0u128, (0, 0u128));
        let mut rest = heads;
        while rest != 0 {
            let at = position(start, rest);
            rest &= rest - 1;
            let ends = connect(at)? & values;
            if ends != 0 {
                head_ends |= bit(at);
                reaching = (at, ends);
            }
        }
        let head_end = match only_bit(head_ends) {
            Some(bits) => position(start, bits),
            None if head_ends != 0 => {
                first_way(self.head.nfa()?, text, start, last, |at| head_ends & bit(at) != 0)?
            }
            None => return None,
        };
        let ends = if reaching.0 == head_end { reaching.1 } else { connect(head_end)? & values };
        let value_start = match only_bit(ends) {
            Some(bits) => position(start, bits),
            None => first_way(self.connector.nfa()?, text, head_end, last, |at| ends & bit(at) != 0)?,
        };
        Some((value_start, head_end))
    }
}

/// The position of the only bit of `bits`, counted from `start`.
fn position(start: usize, bits: u128) -> usize {
    start + bits.trailing_zeros() as usize + 1
}

/// The one bit set, if exactly one is.
fn only_bit(bits: u128) -> Option<u128> {
    (bits.count_ones() == 1).then_some(bits)
}

fn nfa(source: &str, reverse: bool) -> Option<NFA> {
    thompson::Compiler::new()
        .configure(thompson::Config::new().reverse(reverse).which_captures(WhichCaptures::None))
        .build(source)
        .ok()
}

fn build(source: &str, reverse: bool) -> Option<Built> {
    let nfa = nfa(source, reverse)?;
    let config = DFA::config().match_kind(MatchKind::All);
    let dfa = DFA::builder().configure(config).build_from_nfa(nfa.clone()).ok()?;
    let maker = dfa.clone();
    let caches = Pool::new(Box::new(move || maker.create_cache()) as MakeCache);
    Some(Built { nfa, dfa, caches })
}

/// Where the first way of matching the forward `nfa` from `start`, in the order a backtracking
/// matcher tries them, ends at a position `ends` accepts (up to `last`).
///
/// Depth first as the backtracker goes, each state at each position visited once: from there,
/// whether an accepted end is reachable does not depend on the way there.
fn first_way(
    nfa: &NFA,
    text: &[u8],
    start: usize,
    last: usize,
    ends: impl Fn(usize) -> bool,
) -> Option<usize> {
    let width = last + 2 - start;
    let mut visited = vec![0u64; (nfa.states().len() * width).div_ceil(64)];
    let mut stack = vec![(nfa.start_anchored(), start)];
    while let Some((mut id, at)) = stack.pop() {
        loop {
            let slot = id.as_usize() * width + (at - start);
            if visited[slot / 64] & (1 << (slot % 64)) != 0 {
                break;
            }
            visited[slot / 64] |= 1 << (slot % 64);
            let byte = text.get(at).copied().filter(|_| at <= last);
            id = match nfa.state(id) {
                State::ByteRange { trans } => match byte.filter(|&b| trans.matches_byte(b)) {
                    Some(_) => {
                        stack.push((trans.next, at + 1));
                        break;
                    }
                    None => break,
                },
                State::Sparse(sparse) => match byte.and_then(|b| sparse.matches_byte(b)) {
                    Some(next) => {
                        stack.push((next, at + 1));
                        break;
                    }
                    None => break,
                },
                State::Dense(dense) => match byte.and_then(|b| dense.matches_byte(b)) {
                    Some(next) => {
                        stack.push((next, at + 1));
                        break;
                    }
                    None => break,
                },
                State::Look { look, next } if nfa.look_matcher().matches(*look, text, at) => *next,
                State::Union { alternates } => {
                    stack.extend(alternates[1..].iter().rev().map(|&alt| (alt, at)));
                    match alternates.first() {
                        Some(&first) => first,
                        None => break,
                    }
                }
                State::BinaryUnion { alt1, alt2 } => {
                    stack.push((*alt2, at));
                    *alt1
                }
                State::Capture { next, .. } => *next,
                State::Match { .. } if ends(at) => return Some(at),
                State::Look { .. } | State::Fail | State::Match { .. } => break,
            };
        }
    }
    None
}

/// Call `seen` with each position in `start + 1..=end` from which the reverse DFA matches up to
/// `end`, nearest first. `None` if the DFA gave up.
fn walk_backward(
    dfa: &DFA,
    cache: &mut Cache,
    text: &[u8],
    start: usize,
    end: usize,
    mut seen: impl FnMut(usize),
) -> Option<()> {
    let config = start::Config::new().anchored(Anchored::Yes).look_behind(text.get(end).copied());
    let mut state = dfa.start_state(cache, &config).ok()?;
    // A match state is seen one byte late: after reading the byte at `at`, it is a match from `at + 1`.
    for at in (start..end).rev() {
        state = dfa.next_state(cache, state, text[at]).ok()?;
        if state.is_tagged() {
            if state.is_match() {
                seen(at + 1);
            } else if state.is_dead() {
                return Some(());
            } else if state.is_quit() {
                return None;
            }
        }
    }
    Some(())
}

/// Call `seen` with each position in `start..=last` up to which the forward DFA matches from
/// `start`, nearest first. True if it stopped before reading past `last` (no match can end
/// after); `None` if the DFA gave up.
fn walk_forward(
    dfa: &DFA,
    cache: &mut Cache,
    text: &[u8],
    start: usize,
    last: usize,
    mut seen: impl FnMut(usize),
) -> Option<bool> {
    let behind = start.checked_sub(1).map(|at| text[at]);
    let config = start::Config::new().anchored(Anchored::Yes).look_behind(behind);
    let mut state = dfa.start_state(cache, &config).ok()?;
    // After reading the byte at `at`, a match state is a match up to `at` (`last` is inside the
    // text: a value follows it).
    for (at, &byte) in text.iter().enumerate().take(last + 1).skip(start) {
        state = dfa.next_state(cache, state, byte).ok()?;
        if state.is_tagged() {
            if state.is_match() {
                seen(at);
            } else if state.is_dead() {
                return Some(true);
            } else if state.is_quit() {
                return None;
            }
        }
    }
    Some(false)
}

#[cfg(test)]
mod tests {
    use crate::catalog::{compile_config, EngineConfig};
    use crate::detect::tests::picker;
    use regex_automata::{Anchored, Input};

    /// Labels, connectors and values of several types, and what confuses them: tails that read as
    /// connector words, values whose tails are values too, quotes, line breaks, non-ASCII.
    const PIECES: [&str; 52] = [
        "DL",
        "dl",
        "driver's license",
        "Driving Licence",
        "license_number",
        "licence no",
        "lic_no",
        "SSN",
        "ssn_no",
        "social security number",
        "dob",
        "date of birth",
        "password",
        "pwd",
        "api_key",
        "apiKey",
        "access token",
        "secret",
        "MRN",
        "passport no",
        "account number",
        ": ",
        "=",
        " is ",
        " number ",
        "#",
        "\"",
        "'",
        "`",
        "]",
        "\t-",
        " -",
        "\r\n",
        "\n",
        " no ",
        "nr",
        " on ",
        ",",
        "> ",
        "D1234567",
        "64 219 730",
        "S530-460-71-811-0",
        "123-45-6789",
        "01/02/1990",
        "1990-01-02",
        "hunter2!x",
        "sk_live_abcdefghijklmnopqrstuvwx",
        "AKIAIOSFODNN7EXAMPLE",
        "A12345678",
        "12345678",
        "é",
        " ",
    ];

    #[test]
    fn the_dfas_find_the_groups_the_backtracker_finds() {
        let compiled = compile_config(&EngineConfig::default()).unwrap();
        let labelled: Vec<_> =
            compiled.types.iter().flat_map(|t| &t.patterns).filter(|p| p.split.is_some()).collect();
        assert!(labelled.len() >= 10, "{}", labelled.len());
        let mut next = picker(0x9E37_79B9_7F4A_7C15);
        let (mut answered, mut matches) = (0, 0);
        for _ in 0..4_000 {
            let text: String = (0..1 + next(8)).map(|_| PIECES[next(PIECES.len())]).collect();
            for p in &labelled {
                let mut caps = p.regex.create_captures();
                for start in (0..text.len()).filter(|&i| text.is_char_boundary(i)) {
                    let input = Input::new(&text).range(start..).anchored(Anchored::Yes);
                    p.regex.search_captures(&input, &mut caps);
                    let Some(whole) = caps.get_match() else {
                        continue;
                    };
                    matches += 1;
                    let value = caps.get_group(p.value_group.unwrap()).unwrap().start;
                    let head = caps.get_group(p.label_groups.unwrap().1).unwrap().end;
                    let split = p.split.as_ref().unwrap();
                    if let Some(found) = split.groups(text.as_bytes(), whole.start(), whole.end()) {
                        answered += 1;
                        assert_eq!(found, (value, head), "{} in {text:?} at {start}", p.name);
                    }
                }
            }
        }
        // Only what reads past the reach would be left to the backtracker.
        assert!(matches > 1_000 && answered * 100 >= matches * 99, "{answered} of {matches}");
    }

    #[test]
    fn a_label_its_connector_and_its_value_are_answered() {
        let compiled = compile_config(&EngineConfig::default()).unwrap();
        let labels =
            ["DL", "driver's license", "license_number", "SSN", "date of birth", "password", "api_key"];
        let connectors = [": ", "=", " is ", "# ", "\": \"", " number ", ":\n  ", " - "];
        let values =
            ["D1234567", "078-05-1120", "1990-01-02", "hunter2!x", "sk_live_abcdefghijklmnopqrstuvwx"];
        let mut answered = 0;
        let texts = labels.iter().flat_map(|l| connectors.iter().map(move |c| format!("{l}{c}")));
        for text in texts.flat_map(|head| values.iter().map(move |v| format!("{head}{v} and more"))) {
            for p in compiled.types.iter().flat_map(|t| &t.patterns).filter(|p| p.split.is_some()) {
                let mut caps = p.regex.create_captures();
                p.regex.search_captures(&Input::new(&text).anchored(Anchored::Yes), &mut caps);
                let Some(whole) = caps.get_match() else {
                    continue;
                };
                let expected = (
                    caps.get_group(p.value_group.unwrap()).unwrap().start,
                    caps.get_group(p.label_groups.unwrap().1).unwrap().end,
                );
                let found = p.split.as_ref().unwrap().groups(text.as_bytes(), 0, whole.end());
                assert_eq!(found, Some(expected), "{} in {text:?}", p.name);
                answered += 1;
            }
        }
        assert!(answered > 100, "{answered}");
    }

    #[test]
    fn several_ends_are_taken_in_the_backtrackers_order_and_a_long_head_is_left_to_it() {
        let compiled = compile_config(&EngineConfig::default()).unwrap();
        let pattern =
            |name: &str| compiled.types.iter().flat_map(|t| &t.patterns).find(|p| p.name == name).unwrap();
        let cases = [
            // "no" is a tail or a connector word: the greedy tail takes it.
            ("driver_license-label", "DLno D1234567", Some((5, 4))),
            // "pass" + "word=x" or "password" + "=x", and "=" may begin a password.
            ("password-label", "password=D1234567", Some((9, 8))),
            // The head and connector run past the reach.
            (
                "driver_license-label",
                "driver's licence_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"] number number number number number number\n number number number number number D1234567",
                None,
            ),
        ];
        for (name, text, expected) in cases {
            let p = pattern(name);
            let mut caps = p.regex.create_captures();
            p.regex.search_captures(&Input::new(text).anchored(Anchored::Yes), &mut caps);
            let whole = caps.get_match().unwrap();
            assert_eq!(whole.end(), text.len(), "{text:?}");
            let backtracker = (
                caps.get_group(p.value_group.unwrap()).unwrap().start,
                caps.get_group(p.label_groups.unwrap().1).unwrap().end,
            );
            let found = p.split.as_ref().unwrap().groups(text.as_bytes(), 0, text.len());
            assert_eq!(found, expected, "{text:?}");
            assert!(found.is_none_or(|f| f == backtracker), "{text:?}");
        }
    }
}
