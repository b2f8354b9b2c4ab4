//! Prefilters: finding where a pattern *could* match, so that each pattern is searched only there.
//!
//! Nothing here changes what is detected: a prefilter only skips text in which the pattern
//! provably has no match, and searches the rest with the same leftmost-first semantics.
//!
//! A pattern whose matches only contain bytes from a small alphabet (digits, separators,
//! upper-case letters, hex) and at least one digit or colon is *cluster-gated*, decided from its
//! syntax tree when the engine is built. One pass over the text finds the *clusters* — maximal
//! runs of cluster bytes around a digit or colon — and counts their digits, colons and dots; such
//! a pattern is searched only inside clusters that hold enough of each for one of its matches. A
//! match lies inside one cluster, so searching cluster by cluster (with the surrounding text
//! visible to `\b`) finds exactly the matches of a full-text search.
//!
//! A pattern of bounded length L whose every match holds a digit (a label followed by a number),
//! and whose matches may begin with fewer than three known bytes (so the regex engine's own
//! prefilter would fire all the time), is *window-gated*: searched only within L bytes of a
//! cluster with a digit, windows merged.
//! Other patterns are searched over the whole text, with the regex engine's own prefilters.

use regex_automata::meta;
use regex_automata::Input;
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Class, Hir, HirKind};

/// How much of each marker a cluster needs before a pattern can match in it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Need {
    /// ASCII digits.
    pub digits: usize,
    /// Colons.
    pub colons: usize,
    /// Dots.
    pub dots: usize,
    /// At signs.
    pub ats: usize,
    /// Bytes.
    pub len: usize,
    /// Which ASCII bytes occur (bit b for byte b); for a pattern, those every match contains.
    pub bytes: u128,
}

/// Where a pattern is searched.
#[derive(Debug, Clone)]
pub enum Gate {
    /// The whole text, with the regex engine's own prefilter.
    Plain,
    /// Only inside clusters holding what [`Need`] asks for, and there only inside runs of the
    /// pattern's own alphabet that hold it too.
    Cluster(Need, Alphabet),
    /// Only within this many bytes of a cluster holding a digit: for patterns of bounded length
    /// whose every match holds a digit, such as a label followed by a number.
    Window(usize),
}

/// The bytes a pattern's matches can contain.
#[derive(Debug, Clone)]
pub struct Alphabet(Box<[bool; 256]>);

impl Alphabet {
    /// Where the run of alphabet bytes that ends at `end` begins, looking back no further than
    /// `floor`: a match ending at `end` starts there or later.
    pub fn run_start(&self, bytes: &[u8], end: usize, floor: usize) -> usize {
        run_back(bytes, end, floor, |b| self.0[usize::from(b)])
    }

    /// The maximal runs of alphabet bytes in `text[range]` that hold what `need` asks for.
    pub fn runs(&self, text: &str, range: (usize, usize), need: &Need) -> Vec<(usize, usize)> {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = range.0;
        while i < range.1 {
            while i < range.1 && !self.0[bytes[i] as usize] {
                i += 1;
            }
            let start = i;
            while i < range.1 && self.0[bytes[i] as usize] {
                i += 1;
            }
            if start < i && markers(&bytes[start..i]).covers(need) {
                out.push((start, i));
            }
        }
        out
    }
}

/// Per byte, which marker it is: 1 digit, 2 colon, 3 dot, 4 at sign, 0 none.
const MARKER: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = b'0';
    while b <= b'9' {
        t[b as usize] = 1;
        b += 1;
    }
    t[b':' as usize] = 2;
    t[b'.' as usize] = 3;
    t[b'@' as usize] = 4;
    t
};

/// Count the markers of `bytes`.
pub fn markers(bytes: &[u8]) -> Need {
    let mut n = [0usize; 5];
    let mut present = 0u128;
    for &b in bytes {
        n[MARKER[b as usize] as usize] += 1;
        present |= 1u128.checked_shl(u32::from(b)).unwrap_or(0);
    }
    Need { digits: n[1], colons: n[2], dots: n[3], ats: n[4], len: bytes.len(), bytes: present }
}

impl Need {
    /// True if this much of each marker satisfies `need`.
    pub fn covers(&self, need: &Need) -> bool {
        self.digits >= need.digits
            && self.colons >= need.colons
            && self.dots >= need.dots
            && self.len >= need.len
    }
}

/// Bytes that may occur in a match, or `None` if some non-ASCII character may.
fn alphabet(hir: &Hir, set: &mut [bool; 128]) -> bool {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => true,
        HirKind::Literal(lit) => lit.0.iter().all(|&b| {
            let ok = b < 128;
            if ok {
                set[b as usize] = true;
            }
            ok
        }),
        HirKind::Class(Class::Unicode(c)) => c.ranges().iter().all(|r| {
            let ok = (r.end() as u32) < 128;
            if ok {
                (r.start() as usize..=r.end() as usize).for_each(|b| set[b] = true);
            }
            ok
        }),
        HirKind::Class(Class::Bytes(c)) => c.ranges().iter().all(|r| {
            let ok = r.end() < 128;
            if ok {
                (r.start() as usize..=r.end() as usize).for_each(|b| set[b] = true);
            }
            ok
        }),
        HirKind::Repetition(r) => alphabet(&r.sub, set),
        HirKind::Capture(c) => alphabet(&c.sub, set),
        HirKind::Concat(xs) | HirKind::Alternation(xs) => xs.iter().all(|x| alphabet(x, set)),
    }
}

/// The fewest bytes satisfying `pred` that any match contains.
fn min_count(hir: &Hir, pred: &dyn Fn(u8) -> bool) -> usize {
    let class_all = |ranges: Vec<(u32, u32)>| -> usize {
        usize::from(ranges.iter().all(|&(a, b)| b < 128 && (a..=b).all(|x| pred(x as u8))))
    };
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => 0,
        HirKind::Literal(lit) => lit.0.iter().filter(|&&b| pred(b)).count(),
        HirKind::Class(Class::Unicode(c)) => {
            class_all(c.ranges().iter().map(|r| (r.start() as u32, r.end() as u32)).collect())
        }
        HirKind::Class(Class::Bytes(c)) => {
            class_all(c.ranges().iter().map(|r| (u32::from(r.start()), u32::from(r.end()))).collect())
        }
        HirKind::Repetition(r) => (r.min as usize).saturating_mul(min_count(&r.sub, pred)),
        HirKind::Capture(c) => min_count(&c.sub, pred),
        HirKind::Concat(xs) => xs.iter().map(|x| min_count(x, pred)).sum(),
        HirKind::Alternation(xs) => xs.iter().map(|x| min_count(x, pred)).min().unwrap_or(0),
    }
}

/// Letters that may join a cluster: hex digits and upper case, but not the rest of lower case,
/// so that clusters stay short in prose.
fn cluster_byte(b: u8) -> bool {
    b.is_ascii_digit()
        || b.is_ascii_uppercase()
        || (b'a'..=b'f').contains(&b)
        || b" \t.:,;()+-/#".contains(&b)
}

/// What every match of a pattern holds at the least, from its syntax tree.
///
/// # Example
/// ```
/// use _native::prefilter::{markers, need};
/// let ssn = need(&regex_syntax::parse(r"[0-9]{3}-[0-9]{2}-[0-9]{4}").unwrap());
/// assert_eq!(ssn.digits, 9);
/// assert!(markers(b"SSN 123-45-6789").covers(&ssn));
/// assert!(!markers(b"SSN 123-45").covers(&ssn));
/// ```
pub fn need(hir: &Hir) -> Need {
    Need {
        digits: min_count(hir, &|b| b.is_ascii_digit()),
        colons: min_count(hir, &|b| b == b':'),
        dots: min_count(hir, &|b| b == b'.'),
        ats: min_count(hir, &|b| b == b'@'),
        len: hir.properties().minimum_len().unwrap_or(0),
        bytes: required(hir),
    }
}

/// The ASCII bytes that every match contains.
fn required(hir: &Hir) -> u128 {
    let single = |lo: u32, hi: u32| if lo == hi && hi < 128 { 1u128 << lo } else { 0 };
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => 0,
        HirKind::Literal(lit) => lit.0.iter().filter(|&&b| b < 128).fold(0, |acc, &b| acc | 1u128 << b),
        HirKind::Class(Class::Unicode(c)) => match c.ranges() {
            [r] => single(r.start() as u32, r.end() as u32),
            _ => 0,
        },
        HirKind::Class(Class::Bytes(c)) => match c.ranges() {
            [r] => single(u32::from(r.start()), u32::from(r.end())),
            _ => 0,
        },
        HirKind::Repetition(r) if r.min > 0 => required(&r.sub),
        HirKind::Repetition(_) => 0,
        HirKind::Capture(c) => required(&c.sub),
        HirKind::Concat(xs) => xs.iter().fold(0, |acc, x| acc | required(x)),
        HirKind::Alternation(xs) => xs.iter().map(required).reduce(|a, b| a & b).unwrap_or(0),
    }
}

/// How a keyword-gated pattern's matches begin: a run of at most `max` of `bytes` (ASCII, none of
/// them a keyword's first byte, no look-around), then one of the keywords, as an IPv6 address
/// begins with up to four hex digits and a colon. Such a pattern is tried once per keyword
/// occurrence, anchored where the run before it starts ([`lead`]).
#[derive(Debug, Clone)]
pub struct Lead {
    /// The longest run before the keyword.
    pub max: usize,
    /// The bytes the run may hold.
    pub bytes: [bool; 128],
}

impl Lead {
    /// Where a match whose keyword starts at `at` would start, at `from` or after: as far back as
    /// the run of [`Lead::bytes`] before `at` goes, at most [`Lead::max`] bytes.
    pub fn start(&self, text: &[u8], at: usize, from: usize) -> usize {
        let floor = from.max(at.saturating_sub(self.max));
        run_back(text, at, floor, |b| self.bytes.get(usize::from(b)) == Some(&true))
    }
}

/// Where the run of bytes `inside` accepts that ends at `end` begins, looking back no further
/// than `floor`.
#[inline(always)]
fn run_back(bytes: &[u8], end: usize, floor: usize, inside: impl Fn(u8) -> bool) -> usize {
    let mut start = end;
    while start > floor && inside(bytes[start - 1]) {
        start -= 1;
    }
    start
}

/// The [`Lead`] of a pattern with `keywords` (lower case, found in any ASCII case), if its syntax
/// shows one: a concatenation whose leading items together match any string of one ASCII class
/// with a length in one range (so that from any position of a run of that class the rest of the
/// run is read alike), none of its bytes a keyword's first, followed by an item every match of
/// which starts with a keyword.
///
/// ```
/// use _native::prefilter::lead;
/// let ipv6 = regex_syntax::parse(r"(?:[0-9a-f]{1,4})?(?::[0-9a-f]{0,4}){2,15}").unwrap();
/// let ipv6_lead = lead(&ipv6, &[":".to_string()]).unwrap();
/// assert_eq!(ipv6_lead.max, 4);
/// assert_eq!(ipv6_lead.start(b"at fe80::1", 7, 0), 3);
/// let tail = regex_syntax::parse(r"[0-9:]+:[0-9]{2}").unwrap();
/// assert!(lead(&tail, &[":".to_string()]).is_none());
/// // Not one class: in "9a1:" a match starts at "a", not where the run starts.
/// let mixed = regex_syntax::parse(r"[a-f]{1,2}[0-9]{1,2}:").unwrap();
/// assert!(lead(&mixed, &[":".to_string()]).is_none());
/// // Not one range of lengths: two or four digits.
/// let gaps = regex_syntax::parse(r"(?:[0-9]{2}){1,2}:").unwrap();
/// assert!(lead(&gaps, &[":".to_string()]).is_none());
/// ```
pub fn lead(hir: &Hir, keywords: &[String]) -> Option<Lead> {
    let HirKind::Concat(xs) = hir.kind() else {
        return None;
    };
    let mut run: Option<([bool; 128], usize, usize)> = None;
    for x in xs {
        if starts_with_keyword(x, keywords) {
            let (bytes, _, max) = run.unwrap_or(([false; 128], 0, 0));
            let first = |k: &String| k.bytes().next().filter(u8::is_ascii);
            let clash = keywords.iter().filter_map(first).any(|b| {
                bytes[usize::from(b.to_ascii_lowercase())] || bytes[usize::from(b.to_ascii_uppercase())]
            });
            return (!clash).then_some(Lead { max, bytes });
        }
        // Runs of one class one after the other: one run, the lengths added.
        let (bytes, least, most) = uniform_run(x)?;
        run = match run {
            None => Some((bytes, least, most)),
            Some((same, l, m)) if same == bytes => Some((bytes, l + least, m + most)),
            Some(_) => return None,
        };
    }
    None
}

/// If every match of `hir` is any string of one ASCII class with a length in `least..=most`:
/// the class's bytes and the two lengths.
fn uniform_run(hir: &Hir) -> Option<([bool; 128], usize, usize)> {
    match hir.kind() {
        HirKind::Capture(c) => uniform_run(&c.sub),
        HirKind::Class(_) => {
            let mut bytes = [false; 128];
            alphabet(hir, &mut bytes).then_some((bytes, 1, 1))
        }
        HirKind::Repetition(r) => {
            let (bytes, least, most) = uniform_run(&r.sub)?;
            let (min, max) = (r.min as usize, r.max? as usize);
            // k runs of least..=most bytes for k in min..=max: one range of lengths when a run
            // may be a byte or none long, or when k is fixed.
            (least <= 1 || min == max).then_some((bytes, min * least, max * most))
        }
        _ => None,
    }
}

/// True if every match of `hir` starts with one of `keywords`.
fn starts_with_keyword(hir: &Hir, keywords: &[String]) -> bool {
    match hir.kind() {
        HirKind::Literal(lit) => {
            let lower = lit.0.to_ascii_lowercase();
            keywords.iter().any(|k| !k.is_empty() && lower.starts_with(k.as_bytes()))
        }
        HirKind::Capture(c) => starts_with_keyword(&c.sub, keywords),
        HirKind::Repetition(r) => r.min > 0 && starts_with_keyword(&r.sub, keywords),
        HirKind::Concat(xs) => xs.first().is_some_and(|x| starts_with_keyword(x, keywords)),
        HirKind::Alternation(xs) => xs.iter().all(|x| starts_with_keyword(x, keywords)),
        _ => false,
    }
}

/// Choose the gate of a pattern from its syntax tree (as compiled).
pub fn gate(hir: &Hir) -> Gate {
    let mut set = [false; 128];
    if alphabet(hir, &mut set) && set.iter().enumerate().all(|(b, &on)| !on || cluster_byte(b as u8)) {
        let need = need(hir);
        if need.digits > 0 || need.colons > 0 {
            let mut table = Box::new([false; 256]);
            table[..128].copy_from_slice(&set);
            return Gate::Cluster(need, Alphabet(table));
        }
    }
    match hir.properties().maximum_len() {
        Some(max)
            if max <= MAX_WINDOW && min_count(hir, &|b| b.is_ascii_digit()) > 0 && weak_prefixes(hir) =>
        {
            Gate::Window(max)
        }
        _ => Gate::Plain,
    }
}

/// The literals every match of `hir` begins with one of, if its syntax gives a finite list.
fn prefixes(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(hir);
    seq.literals().map(|lits| lits.iter().map(|l| l.as_bytes().to_vec()).collect())
}

/// True if the regex engine's own prefilter is likely to fire often: some match may begin with
/// fewer than three known bytes (in practice a case-insensitive label such as `ssn`).
fn weak_prefixes(hir: &Hir) -> bool {
    prefixes(hir).is_none_or(|lits| lits.iter().any(|l| l.len() < 3))
}

/// The most leading bytes a [`Head`] holds.
const HEAD_BYTES: usize = 8;

/// A set of bytes, one bit each.
type ByteSet = [u64; 4];

fn add(set: &mut ByteSet, b: u8) {
    set[usize::from(b >> 6)] |= 1 << (b & 63);
}

fn has(set: &ByteSet, b: u8) -> bool {
    set[usize::from(b >> 6)] >> (b & 63) & 1 == 1
}

/// What each of the first bytes of every match can be, as far as the pattern's syntax fixes them
/// (up to [`HEAD_BYTES`]): `pat[a-zA-Z0-9]{14}\.` gives p, a, t and then five letters or digits.
/// A pattern tried at a keyword found with case ignored is not tried where the bytes from there
/// do not fit: a log's `path=` is no Airtable token, and its search cost more than the check.
#[derive(Debug, Clone, Default)]
pub struct Head(Vec<ByteSet>);

impl Head {
    /// True if the bytes from a match's start can begin a match (as many as the text has).
    pub fn fits(&self, from: &[u8]) -> bool {
        self.0.iter().zip(from).all(|(set, &b)| has(set, b))
    }

    /// How many leading bytes it checks.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True if it checks nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The [`Head`] of `hir`.
///
/// # Example
/// ```
/// let hir = regex_syntax::parse(r"\bSK[0-9a-f]{32}\b").unwrap();
/// let head = _native::prefilter::head(&hir);
/// assert!(head.fits(b"SKa188c27d9dfd65") && !head.fits(b"sk in a desk"));
/// ```
pub fn head(hir: &Hir) -> Head {
    let mut sets = Vec::new();
    extend_head(hir, &mut sets);
    Head(sets)
}

/// Append the byte sets of `hir`'s leading bytes to `out` (up to [`HEAD_BYTES`] in all); true if
/// `hir` has a fixed width and all of it went in (what follows it may go on).
///
/// Zero-width assertions are passed over: leaving a condition out only lets more through.
fn extend_head(hir: &Hir, out: &mut Vec<ByteSet>) -> bool {
    let room = HEAD_BYTES.saturating_sub(out.len());
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => true,
        HirKind::Literal(lit) => {
            out.extend(lit.0.iter().take(room).map(|&b| {
                let mut set = ByteSet::default();
                add(&mut set, b);
                set
            }));
            lit.0.len() <= room
        }
        HirKind::Class(_) if room == 0 => false,
        HirKind::Class(Class::Bytes(class)) => {
            let mut set = ByteSet::default();
            class.ranges().iter().flat_map(|r| r.start()..=r.end()).for_each(|b| add(&mut set, b));
            out.push(set);
            true
        }
        HirKind::Class(Class::Unicode(class)) => {
            // The first byte of a code point's UTF-8 form grows with the code point: a range's
            // first bytes lie between those of its ends. Wider than one byte: nothing after it.
            let mut set = ByteSet::default();
            let first = |c: char| c.encode_utf8(&mut [0; 4]).as_bytes()[0];
            for r in class.ranges() {
                (first(r.start())..=first(r.end())).for_each(|b| add(&mut set, b));
            }
            out.push(set);
            class.ranges().last().is_none_or(|r| r.end().is_ascii())
        }
        HirKind::Repetition(rep) if rep.min == 0 => false,
        HirKind::Repetition(rep) => {
            let mut one = Vec::new();
            let fixed = extend_head(&rep.sub, &mut one);
            if !fixed || one.is_empty() {
                out.extend(one.into_iter().take(room));
                return false;
            }
            let times = usize::try_from(rep.min).unwrap_or(usize::MAX);
            out.extend(one.iter().cycle().take(room.min(one.len().saturating_mul(times))));
            rep.max == Some(rep.min) && one.len().saturating_mul(times) <= room
        }
        HirKind::Capture(cap) => extend_head(&cap.sub, out),
        HirKind::Concat(items) => items.iter().all(|item| extend_head(item, out)),
        HirKind::Alternation(branches) => {
            // Byte by byte, what any branch may have there, as far as every branch goes.
            let shapes: Vec<(bool, Vec<ByteSet>)> = branches
                .iter()
                .map(|b| {
                    let mut one = Vec::new();
                    (extend_head(b, &mut one), one)
                })
                .collect();
            let common = shapes.iter().map(|(_, one)| one.len()).min().unwrap_or(0).min(room);
            for i in 0..common {
                let mut set = ByteSet::default();
                for (_, one) in &shapes {
                    set.iter_mut().zip(&one[i]).for_each(|(a, b)| *a |= b);
                }
                out.push(set);
            }
            shapes.iter().all(|(fixed, one)| *fixed && one.len() == common) && common <= room
        }
    }
}

/// The most literals [`openings`] gives: a longer list costs more to check than the search it saves.
pub const MOST_OPENINGS: usize = 16;

/// The literals, at most [`MOST_OPENINGS`] and none empty, one of which begins every match of
/// `hir`, case included (empty when there is no such list): a pattern tried at a keyword found
/// with case ignored is not tried where none of them opens.
pub fn openings(hir: &Hir) -> Vec<Vec<u8>> {
    prefixes(hir)
        .filter(|lits| lits.len() <= MOST_OPENINGS && lits.iter().all(|l| !l.is_empty()))
        .unwrap_or_default()
}

/// The longest match a window-gated pattern may have.
const MAX_WINDOW: usize = 512;

/// The merged spans within `reach` bytes of a cluster holding a digit, widened to char boundaries.
pub fn windows(text: &str, clusters: &[Cluster], reach: usize) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for cl in clusters.iter().filter(|cl| cl.has.digits > 0) {
        let mut start = cl.start.saturating_sub(reach);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (cl.end + reach).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// A maximal run of cluster bytes around a digit or colon, with its marker counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cluster {
    /// First byte.
    pub start: usize,
    /// Just past the last byte.
    pub end: usize,
    /// What the cluster holds.
    pub has: Need,
}

/// Finds clusters: a fast search for seed bytes, then a table-driven extension both ways.
#[derive(Debug, Clone)]
pub struct ClusterFinder {
    seeds: meta::Regex,
    member: [bool; 256],
}

impl Default for ClusterFinder {
    fn default() -> Self {
        let mut member = [false; 256];
        for b in 0..=255u8 {
            member[b as usize] = cluster_byte(b);
        }
        // An alternation (not the class `[0-9:]`) gets the regex engine's fast byte-set prefilter.
        ClusterFinder { seeds: meta::Regex::new("[0-9]|:").expect("a valid seed pattern"), member }
    }
}

impl ClusterFinder {
    /// Return every cluster of `text`, in order.
    pub fn find(&self, text: &str) -> Vec<Cluster> {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            // Seeds close to the last cluster are found by a short scalar look-ahead (cheaper
            // than restarting the vectorised search); distant ones by the search.
            let near =
                bytes[at..(at + 32).min(bytes.len())].iter().position(|&b| b.is_ascii_digit() || b == b':');
            let seed_at = match near {
                Some(i) => at + i,
                None => match self.seeds.find(Input::new(text).range(at..)) {
                    Some(m) => m.start(),
                    None => break,
                },
            };
            let mut start = seed_at;
            while start > at && self.member[bytes[start - 1] as usize] {
                start -= 1;
            }
            let mut end = seed_at;
            while end < bytes.len() && self.member[bytes[end] as usize] {
                end += 1;
            }
            out.push(Cluster { start, end, has: markers(&bytes[start..end]) });
            at = end.max(seed_at + 1);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(p: &str) -> Hir {
        regex_syntax::ParserBuilder::new().build().parse(p).unwrap()
    }

    #[test]
    fn digit_patterns_are_cluster_gated() {
        let g = gate(&parse(r"(?-u:\b)[0-9]{3}-[0-9]{2}-[0-9]{4}(?-u:\b)"));
        assert!(matches!(g, Gate::Cluster(Need { digits: 9, len: 11, .. }, _)));
        let g = gate(&parse(r"(?:[0-9A-Fa-f]{1,4})?(?::[0-9A-Fa-f]{0,4}){2,}"));
        assert!(matches!(g, Gate::Cluster(Need { colons: 2, .. }, _)));
    }

    #[test]
    fn labels_and_lower_case_are_plain() {
        assert!(matches!(gate(&parse(r"(?i-u:passport)[ :]*(?P<value>[A-Z0-9]{6,9})")), Gate::Plain));
        assert!(matches!(gate(&parse("[a-z]+@x")), Gate::Plain));
    }

    #[test]
    fn heads_hold_what_the_syntax_fixes() {
        let twilio = head(&parse(r"\bSK[0-9a-f]{32}\b"));
        assert_eq!(twilio.len(), HEAD_BYTES);
        assert!(twilio.fits(b"SKa188c27d9dfd6584") && twilio.fits(b"SKa1"));
        assert!(!twilio.fits(b"sk ") && !twilio.fits(b"SKA188c2"));
        let airtable = head(&parse(r"pat[a-zA-Z0-9]{14}\.[a-f0-9]{64}"));
        assert!(airtable.fits(b"patXydTFRgCBoT2DU.157a") && !airtable.fits(b"path=/api/v1"));
        // Branches: byte by byte, what any of them has there.
        let stripe = head(&parse(r"(?:sk|rk)_(?:live|test)_[0-9a-zA-Z]{24}"));
        assert_eq!(stripe.len(), HEAD_BYTES);
        assert!(stripe.fits(b"rk_test_") && stripe.fits(b"sk_lest_") && !stripe.fits(b"sk-live_"));
        let uneven = head(&parse(r"(?:ab|c)d"));
        assert_eq!(uneven.len(), 1);
        // Case ignored in Unicode mode: `s` is also the long s (two bytes, the first 0xC5).
        let ask = head(&parse(r"(?i)ask_"));
        assert!(
            ask.fits(b"ASK_") && ask.fits(b"ask_") && ask.fits("a\u{17F}k_".as_bytes()) && !ask.fits(b"ab")
        );
        assert_eq!(ask.len(), 2, "nothing is known after a character of more than one byte");
        // Nothing fixed at the start: nothing checked.
        assert!(head(&parse(r"[a-z]*@x")).is_empty());
        assert!(head(&parse(r"(?:x|)y")).is_empty());
    }

    #[test]
    fn clusters_count_markers() {
        let f = ClusterFinder::default();
        let c = f.find("call 555-123-4567 or at 10:30, thanks");
        assert_eq!(c.len(), 2);
        assert_eq!(&"call 555-123-4567 or at 10:30, thanks"[c[0].start..c[0].end], " 555-123-4567 ");
        assert_eq!(c[0].has.digits, 10);
        assert_eq!(c[1].has.colons, 1);
    }
}
