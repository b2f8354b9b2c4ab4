//! Loading the PII catalog and compiling it, with the configuration, for the Rust engine.
//!
//! Mirrors `mcp_pii/catalog.py`. The catalog folder (`mcp_pii/catalog/`) is embedded at build
//! time (`build.rs`), so the two engines read the very same files. Patterns follow a dialect that
//! Python's `re` and this crate's `regex` read the same way; [`check_dialect`] enforces it and
//! [`translate`] rewrites `\b` and `(?i:` to their ASCII-only forms. The patterns of labelled
//! types are generated from the catalog's label phrases and value shapes by [`label_pattern`],
//! step for step as in Python.

use std::cell::Cell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use aho_corasick::AhoCorasick;
use regex::Regex;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::hash::{QuickMap, QuickSet};
use crate::kept::{with_kept, Kept};
use crate::prefilter::{gate, head, lead, need, openings, ClusterFinder, Gate, Head, Lead, Need};
use crate::split::{Part, Split};
use regex_automata::dfa::{dense, StartKind};
use regex_automata::util::look::Look;
use regex_automata::{hybrid, meta};

include!(concat!(env!("OUT_DIR"), "/catalog_files.rs"));

/// The masking strategies, in their documented order.
pub const STRATEGIES: [&str; 6] = ["redact", "label", "partial", "hash", "tokenize", "remove"];
const PARTIAL_RULES: [&str; 3] = ["digits", "tail", "email"];
const VALIDATORS: [&str; 9] = ["luhn", "iban", "ssn", "ip", "date", "phone", "mrz", "secret", "password"];
/// The longest pattern accepted.
pub const MAX_PATTERN_LEN: usize = 1000;
/// The highest `max_depth` accepted.
pub const MAX_DEPTH_CAP: usize = 100;
/// Custom patterns without keywords that join the union pass (the rest are searched on their
/// own): past some dozens of patterns the union's lazy DFA thrashes its cache on large texts.
pub const MAX_UNION_CUSTOM: usize = 16;
const FORBIDDEN_ESCAPES: &str = "dDwWsSpPAzZgkN0123456789";
const REGEX_META: &str = "\\.+*?()|[]{}^$";
const CLASS_META: &str = "\\]-[^";
/// Longest phrase (its parts joined) the label grammar compares.
const LONGEST_PHRASE: usize = 64;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogMeta {
    #[allow(dead_code)]
    version: u32,
    types: Vec<String>,
    grammar: GrammarEntry,
    validators: ValidatorTables,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrammarEntry {
    connector_words: Vec<String>,
    connector_tokens: Vec<String>,
    connector_chars: String,
    quotes: String,
    operators: String,
    operator_words: Vec<String>,
    max_connector: usize,
    max_prefix: usize,
    max_suffix: usize,
}

/// One example of a type or rule: a whole text, or a value inside a text (read by the tests).
#[derive(Deserialize, Clone)]
#[serde(untagged)]
#[allow(dead_code)]
enum Example {
    Whole(String),
    Inside { text: String, value: String },
}

#[derive(Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct LabelsEntry {
    phrases: Vec<String>,
    #[serde(default)]
    suffixes: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
    #[serde(default)]
    operator: bool,
    #[serde(default)]
    values: Vec<String>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct FormatEntry {
    region: String,
    pattern: String,
    example: String,
}

#[derive(Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct ChecksEntry {
    validator: Option<String>,
    min_digits: Option<usize>,
    reject_prev: Option<String>,
    reject_next: Option<String>,
    deny_suffixes: Option<Vec<String>>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct RuleEntry {
    id: String,
    #[serde(rename = "type", default)]
    ty: Option<String>,
    #[serde(default)]
    description: String,
    pattern: String,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default = "yes")]
    anchor: bool,
    #[serde(flatten)]
    checks: ChecksEntry,
    #[serde(default)]
    examples: Vec<Example>,
    #[serde(default)]
    counterexamples: Vec<Example>,
    #[serde(skip)]
    custom: bool,
}

/// A shape of a type: a pattern, or a pattern searched once one of its keywords occurs.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum ShapeEntry {
    Plain(String),
    Gated { pattern: String, keywords: Vec<String> },
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct TypeEntry {
    id: String,
    #[serde(default = "custom_category")]
    category: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    patterns: Vec<ShapeEntry>,
    #[serde(flatten)]
    checks: ChecksEntry,
    #[serde(default = "tail")]
    partial: String,
    #[serde(default)]
    labels: Option<LabelsEntry>,
    #[serde(default)]
    formats: Vec<FormatEntry>,
    #[serde(default)]
    rules: Vec<RuleEntry>,
    #[serde(default)]
    examples: Vec<Example>,
    #[serde(default)]
    counterexamples: Vec<Example>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    rules: Vec<RuleEntry>,
}

fn yes() -> bool {
    true
}

fn custom_category() -> String {
    "custom".to_owned()
}

fn tail() -> String {
    "tail".to_owned()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ValidatorTables {
    luhn: LuhnTable,
    iban: IbanTable,
    phone: PhoneTable,
    date: DateTable,
    ip: IpTable,
    secret: SecretTable,
}

#[derive(Deserialize)]
struct LuhnTable {
    issuers: Vec<Issuer>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Issuer {
    name: String,
    prefixes: Vec<String>,
    lengths: Vec<usize>,
}

#[derive(Deserialize)]
struct IbanTable {
    lengths: HashMap<String, usize>,
}

#[derive(Deserialize)]
struct PhoneTable {
    international: [usize; 2],
    national: [usize; 2],
}

#[derive(Deserialize)]
struct DateTable {
    years: [u32; 2],
}

#[derive(Deserialize)]
struct IpTable {
    min_ipv6_groups: usize,
}

#[derive(Deserialize)]
struct SecretTable {
    placeholders: Vec<String>,
    markers: Vec<String>,
    starts: Vec<String>,
    max_run: usize,
    password_kinds: usize,
}

/// A card issuer: prefix ranges `(width, lo, hi)` and the card lengths it uses.
pub type IssuerRule = (Vec<(usize, u64, u64)>, Vec<usize>);

/// The validator tables of the catalog, in the form the validators use.
#[derive(Debug, Clone)]
pub struct Tables {
    /// Per issuer: prefix ranges `(width, lo, hi)` and the allowed card lengths.
    pub issuers: Vec<IssuerRule>,
    /// IBAN length per country code.
    pub iban_lengths: HashMap<String, usize>,
    /// Digit counts of a phone number written with a leading `+`.
    pub phone_international: (usize, usize),
    /// Digit counts of a phone number written without one.
    pub phone_national: (usize, usize),
    /// Four-digit years accepted in a date.
    pub years: (u32, u32),
    /// Non-empty groups an IPv6 address needs.
    pub min_ipv6_groups: usize,
    /// Secret values that are placeholders (lower case, without `-_.` and blanks).
    pub placeholders: QuickSet<String>,
    /// The longest of [`Tables::placeholders`], in bytes.
    pub placeholder_len: usize,
    /// Substrings that make a secret value a placeholder (lower case), found in one pass with
    /// ASCII case ignored: the same as looking for each in the lower-cased value.
    pub markers: AhoCorasick,
    /// Beginnings that make a secret value a reference, not a secret (lower case).
    pub starts: Vec<String>,
    /// A run of this many equal characters makes a secret value a placeholder.
    pub max_run: usize,
    /// Kinds of characters (lower, upper, digit, other) a password needs.
    pub password_kinds: usize,
}

/// The shared label grammar (catalog.toml `[grammar]`).
#[derive(Debug, Clone)]
pub struct Grammar {
    connector_words: Vec<String>,
    connector_tokens: Vec<String>,
    connector_chars: String,
    quotes: String,
    operators: String,
    operator_words: QuickSet<String>,
    max_connector: usize,
    /// Most characters of an identifier before a label phrase.
    pub max_prefix: usize,
    max_suffix: usize,
}

impl Grammar {
    /// The pattern of a connector: a closing quote, items (tokens, blanks, line breaks,
    /// characters, words), an opening quote.
    fn connector(&self) -> String {
        let tokens: String = longest_first(self.connector_tokens.iter().cloned())
            .iter()
            .map(|t| format!("{}|", escape_literal(t).replace('\t', "\\t")))
            .collect();
        let chars: String = self.connector_chars.chars().map(escape_class).collect();
        let words: Vec<String> =
            longest_first(self.connector_words.iter().cloned()).iter().map(|w| escape_literal(w)).collect();
        let quotes: String = self.quotes.chars().map(escape_class).collect();
        let items =
            format!("(?:{tokens}[ \\t]|[{chars}]|(?i:{})\\b){{0,{}}}", words.join("|"), self.max_connector);
        format!("[{quotes}]?\\]?{items}(?:\\r?\\n{items})?[{quotes}]?")
    }

    /// True if a connector holds an operator character or word.
    pub fn has_operator(&self, connector: &str) -> bool {
        connector.chars().any(|c| self.operators.contains(c)) || {
            let lower = connector.to_ascii_lowercase();
            let mut found = false;
            part_bounds(connector, |s, e| found = found || self.operator_words.contains(&lower[s..e]));
            found
        }
    }
}

/// Where a labelled pattern whose type needs an operator between label and value
/// ([`Labels::operator`]) could find one: within `within` bytes of a match's start lie its label,
/// tail and connector, so where none of those bytes is an operator character and no operator word
/// is spelt in them (any case), a match there has no operator in its connector and the label
/// check refuses it. The pattern is not tried there: in a base64 blob, every `pw` it holds (one in
/// a few hundred bytes) ran a search to a whole match, then found its groups, to be refused.
#[derive(Debug, Clone)]
pub struct OperatorGate {
    within: usize,
    /// The operator characters.
    chars: Vec<u8>,
    /// The operator words, lower-cased.
    words: Vec<String>,
    /// The bytes an operator word ends with, in either case.
    last: Vec<u8>,
}

impl OperatorGate {
    /// The gate for a pattern whose label, tail and connector span at most `within` bytes; `None`
    /// if an operator is not ASCII (the gate reads bytes).
    fn new(g: &Grammar, within: usize) -> Option<Self> {
        let words: Vec<String> = g.operator_words.iter().map(|w| w.to_ascii_lowercase()).collect();
        if !g.operators.is_ascii() || words.iter().any(|w| w.is_empty() || !w.is_ascii()) {
            return None;
        }
        let mut chars: Vec<u8> = g.operators.bytes().collect();
        let mut last: Vec<u8> = words
            .iter()
            .map(|w| w.as_bytes()[w.len() - 1])
            .flat_map(|b| [b, b.to_ascii_uppercase()])
            .collect();
        for set in [&mut chars, &mut last] {
            set.sort_unstable();
            set.dedup();
        }
        Some(OperatorGate { within, chars, words, last })
    }

    /// True if a match starting at the start of `from` could hold an operator in its connector:
    /// an operator character within `within` bytes, or an operator word (any case) within them.
    ///
    /// A connector's words end at a word boundary, so an operator word followed by an ASCII
    /// letter, digit or underscore is none (a base64 blob spells `is` or `are` in most stretches
    /// of 200 bytes, nearly always followed by another letter or digit). A byte past ASCII may
    /// begin a character that is not a letter: it does not rule the word out. The characters and
    /// the words' last letters are found by byte searches, not a look at each byte (that was a
    /// seventh of a blob's detection).
    pub fn may_hold(&self, from: &[u8]) -> bool {
        let window = &from[..from.len().min(self.within)];
        let word_ends_at = |at: usize| {
            let end = at + 1;
            from.get(end).is_none_or(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
                && self
                    .words
                    .iter()
                    .any(|w| end >= w.len() && window[end - w.len()..end].eq_ignore_ascii_case(w.as_bytes()))
        };
        any_position(&self.chars, window, |_| true) || any_position(&self.last, window, word_ends_at)
    }
}

/// True if `found(at)` holds at some position of `hay` that holds one of the bytes of `set` (tried
/// in turn until one does), by one byte search per three of them (ascending within each three).
pub fn any_position(set: &[u8], hay: &[u8], mut found: impl FnMut(usize) -> bool) -> bool {
    set.chunks(3).any(|three| {
        let byte = |i: usize| three.get(i).copied().unwrap_or(three[0]);
        memchr::memchr3_iter(byte(0), byte(1), byte(2), hay).any(&mut found)
    })
}

/// What names a value of a type: phrases, the words allowed after them, words that disqualify.
#[derive(Debug, Clone)]
pub struct Labels {
    /// Every beginning, up to [`LONGEST_PHRASE`] characters, of a phrase (its parts joined,
    /// `dateofbirth`) and of a key's plural, with what it spells whole: a run of parts spelt so
    /// far that is not here cannot grow into a phrase.
    spellings: QuickMap<String, Spelt>,
    /// Words that may follow a phrase; `None`: any.
    suffixes: Option<QuickSet<String>>,
    deny: QuickSet<String>,
    /// The label must be joined to its value by an operator.
    pub operator: bool,
    /// A value under a labelled key must match it in full.
    pub key_values: meta::Regex,
}

impl Labels {
    /// True if `name` (an identifier or label as written, or with `key` an object key) is a label.
    ///
    /// Some run of consecutive parts must spell a phrase (for a key, also its plural, as for a
    /// list, and no phrase whose punctuation carries its meaning, such as `mr#`); no other part
    /// may be a denied word, and every part after the phrase must be an allowed suffix word or a
    /// number.
    pub fn matches(&self, name: &str, key: bool) -> bool {
        // The parts are spans of one lower-cased copy, and the runs are spelt in one buffer, all
        // three kept by the thread: a label is checked for every candidate after one, and a
        // string per part and per run cost more than the lookups.
        with_kept(&SPELLING, |Spelling { lower, bounds, acc }| {
            lower.push_str(name);
            lower.make_ascii_lowercase();
            part_bounds(name, |s, e| bounds.push((s, e)));
            let part = |&(s, e): &(usize, usize)| &lower[s..e];
            for i in 0..bounds.len() {
                acc.clear();
                for j in i..bounds.len() {
                    acc.push_str(part(&bounds[j]));
                    // No phrase begins so (this stops a run of short parts, a base64 blob's,
                    // at once, where it was spelt up to the longest phrase from each part).
                    let Some(whole) = self.spellings.get(acc.as_str()) else {
                        break;
                    };
                    if !(if key { whole.key } else { whole.text }) {
                        continue;
                    }
                    let mut others = bounds[..i].iter().chain(&bounds[j + 1..]).map(part);
                    if others.any(|p| self.deny.contains(p)) {
                        continue;
                    }
                    if let Some(allowed) = &self.suffixes {
                        let ok = bounds[j + 1..].iter().map(part).all(|p| {
                            allowed.contains(p) || (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                        });
                        if !ok {
                            continue;
                        }
                    }
                    return true;
                }
            }
            false
        })
    }
}

/// What a run of parts spells whole, in [`Labels::spellings`] (a mere beginning: neither).
#[derive(Debug, Clone, Copy, Default)]
struct Spelt {
    /// A phrase.
    text: bool,
    /// A phrase that also names a key (not `mr#`, `a/c`: their marks carry the meaning), or its
    /// plural (as for a list).
    key: bool,
}

/// [`Labels::spellings`] of the catalog's `phrases`.
fn spellings(phrases: &[String]) -> QuickMap<String, Spelt> {
    let mut map: QuickMap<String, Spelt> = QuickMap::default();
    let mut add = |word: String, whole: Spelt| {
        let ends = word.char_indices().map(|(at, _)| at).skip(1).chain([word.len()]);
        for end in ends.take(LONGEST_PHRASE) {
            let spelt = map.entry(word[..end].to_owned()).or_default();
            if end == word.len() {
                spelt.text |= whole.text;
                spelt.key |= whole.key;
            }
        }
    };
    for phrase in phrases {
        let joined = split_parts(phrase).concat();
        let key = !phrase.contains(['#', '/']);
        if key {
            add(format!("{joined}s"), Spelt { text: false, key: true });
        }
        add(joined, Spelt { text: true, key });
    }
    map
}

/// What [`Labels::matches`] spells a name in: its lower-cased copy, its parts' spans in it, and a
/// run of parts.
#[derive(Default)]
struct Spelling {
    lower: String,
    bounds: Vec<(usize, usize)>,
    acc: String,
}

impl Kept for Spelling {
    fn reset(&mut self) {
        self.lower.reset();
        self.bounds.reset();
        self.acc.reset();
    }
}

thread_local! {
    static SPELLING: Cell<Option<Spelling>> = const { Cell::new(None) };
}

/// Split a label or key into lower-cased word parts: `AwsSecretAccessKey` gives aws, secret,
/// access, key. Mirrors `split_parts` in `mcp_pii/catalog.py`.
///
/// Parts break at every character that is not an ASCII letter or digit (a non-ASCII character
/// counts as a lower-case letter), between a lower-case letter and an upper-case one, between a
/// letter and a digit, and before the last capital of a run of capitals followed by a lower-case
/// letter (`HTTPServer` gives http, server).
///
/// # Example
/// ```
/// use _native::catalog::split_parts;
/// assert_eq!(split_parts("AwsSecretAccessKey"), ["aws", "secret", "access", "key"]);
/// assert_eq!(split_parts("OPENAI_API_KEY"), ["openai", "api", "key"]);
/// assert_eq!(split_parts("getHTTP2Client"), ["get", "http", "2", "client"]);
/// ```
pub fn split_parts(name: &str) -> Vec<String> {
    let mut parts = Vec::new();
    part_bounds(name, |s, e| parts.push(name[s..e].to_ascii_lowercase()));
    parts
}

/// Where the parts of [`split_parts`] lie in `name`, in order, as byte ranges `part(start, end)`
/// (not lower-cased: lower-casing ASCII keeps every byte where it is, so they are also the parts
/// of the lower-cased name).
fn part_bounds(name: &str, mut part: impl FnMut(usize, usize)) {
    // The part being read: where it starts, and the kinds of its last character and of the one
    // before (' ' when there is none).
    let mut start: Option<usize> = None;
    let (mut before, mut prev) = (' ', ' ');
    let mut last_at = 0;
    for (at, ch) in name.char_indices() {
        let kind = match ch {
            '0'..='9' => 'd',
            'A'..='Z' => 'u',
            'a'..='z' => 'l',
            c if !c.is_ascii() => 'l',
            _ => {
                if let Some(s) = start.take() {
                    part(s, at);
                }
                (before, prev) = (' ', ' ');
                continue;
            }
        };
        match start {
            Some(s) if (prev == 'd') != (kind == 'd') || (prev == 'l' && kind == 'u') => {
                part(s, at);
                start = Some(at);
                (before, prev) = (' ', kind);
            }
            // The last of a run of capitals begins the next part (`HTTPServer`).
            Some(s) if prev == 'u' && kind == 'l' && before == 'u' => {
                part(s, last_at);
                start = Some(last_at);
                (before, prev) = ('u', kind);
            }
            Some(_) => (before, prev) = (prev, kind),
            None => {
                start = Some(at);
                (before, prev) = (' ', kind);
            }
        }
        last_at = at;
    }
    if let Some(s) = start {
        part(s, name.len());
    }
}

fn longest_first(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let set: BTreeSet<String> = items.into_iter().collect();
    let mut out: Vec<String> = set.into_iter().collect();
    out.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then_with(|| a.cmp(b)));
    out
}

/// Escape `text` for a pattern (only the characters both engines treat as syntax).
pub fn escape_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if REGEX_META.contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn escape_class(c: char) -> String {
    if CLASS_META.contains(c) {
        format!("\\{c}")
    } else {
        c.to_string()
    }
}

/// The pattern that finds a labelled value: phrase, rest of the identifier, connector, value.
///
/// Groups: `label` (the phrase as written), `tail` (what follows it in the identifier) and
/// `value`. Mirrors `label_pattern` in `mcp_pii/catalog.py`.
pub fn label_pattern(g: &Grammar, phrases: &[String], values: &[String]) -> String {
    LabelParts::new(g, phrases, values).pattern(g)
}

/// The parts of [`label_pattern`] around its connector (the grammar's): the label phrases, the
/// tail, the value shapes.
struct LabelParts {
    label: String,
    tail: String,
    value: String,
}

impl LabelParts {
    fn new(g: &Grammar, phrases: &[String], values: &[String]) -> Self {
        let alts: Vec<String> = longest_first(phrases.iter().cloned())
            .iter()
            .map(|p| p.split(' ').map(escape_literal).collect::<Vec<_>>().join("[ _.-]?"))
            .collect();
        let vals: Vec<String> = values.iter().map(|v| format!("(?:{v})")).collect();
        LabelParts {
            label: format!("(?i:{})", alts.join("|")),
            tail: format!("[A-Za-z0-9_-]{{0,{}}}", g.max_suffix),
            value: vals.join("|"),
        }
    }

    fn pattern(&self, g: &Grammar) -> String {
        let LabelParts { label, tail, value } = self;
        format!("(?P<label>{label})(?P<tail>{tail}){}(?P<value>{value})", g.connector())
    }

    /// The most bytes the label, tail and connector of a match span, if bounded and if every
    /// match has a value (a match with an empty one is not refused by the label check, and the
    /// search resumes elsewhere after it: see [`OperatorGate`]).
    fn operator_within(&self, g: &Grammar) -> Option<usize> {
        let parse = |p: &str| regex_syntax::ParserBuilder::new().build().parse(&translate(p)).ok();
        let head = parse(&format!("{}{}", self.label, self.tail))?.properties().maximum_len()?;
        let connector = parse(&g.connector())?.properties().maximum_len()?;
        let value = parse(&self.value)?.properties().minimum_len()?;
        (value > 0).then_some(head + connector)
    }

    /// What finds the groups of a match of [`LabelParts::pattern`], with the grammar's `connector`.
    fn split(&self, connector: &Arc<Part>) -> Split {
        Split::new(
            translate(&format!("{}{}", self.label, self.tail)),
            connector.clone(),
            translate(&self.value),
        )
    }
}

/// What may join two words of a phrase in a label (as [`label_pattern`] writes `[ _.-]?`).
const WORD_JOINS: [&str; 5] = ["", " ", "_", ".", "-"];

/// The keywords of a labelled type, which every match starts with: each phrase's first word, or
/// its first two words joined in each way a label may join them. Two words are tried at far
/// fewer places than a short first word alone ("id token" against every "id" of "valid").
/// Mirrors `phrase_keywords` in `mcp_pii/catalog.py`.
///
/// # Example
/// ```
/// use _native::catalog::phrase_keywords;
/// let words = phrase_keywords(&["id token".to_string(), "MRN".to_string()]);
/// assert_eq!(words, ["id token", "id-token", "id.token", "id_token", "idtoken", "mrn"]);
/// ```
pub fn phrase_keywords(phrases: &[String]) -> Vec<String> {
    longest_first(phrases.iter().flat_map(|p| {
        let words: Vec<String> = p.split(' ').take(2).map(str::to_ascii_lowercase).collect();
        match words.as_slice() {
            [first, second] => WORD_JOINS.iter().map(|j| format!("{first}{j}{second}")).collect(),
            _ => words,
        }
    }))
}

/// Where the identifier holding a label that starts at byte `start` begins (at most
/// `max_prefix` characters back).
pub fn label_identifier(g: &Grammar, text: &str, start: usize) -> usize {
    let mut i = start;
    for (n, (at, c)) in text[..start].char_indices().rev().enumerate() {
        if n >= g.max_prefix || !(c.is_ascii_alphanumeric() || "_.-".contains(c)) {
            break;
        }
        i = at;
    }
    i
}

/// A class of characters given as a regex (`reject_prev`, `reject_next`), with its answer for
/// every ASCII character worked out once: most neighbours are ASCII, and a regex search per
/// candidate cost more than the validator.
#[derive(Debug, Clone)]
pub struct CharClass {
    regex: Regex,
    ascii: u128,
}

impl CharClass {
    fn new(regex: Regex) -> Self {
        let ascii = (0u8..128)
            .filter(|&b| regex.is_match(char::from(b).encode_utf8(&mut [0; 4])))
            .fold(0, |m, b| m | 1 << b);
        CharClass { regex, ascii }
    }

    /// True if the one character `ch` is in the class.
    pub fn contains(&self, ch: &str) -> bool {
        match ch.as_bytes() {
            &[b] if b.is_ascii() => self.ascii >> b & 1 == 1,
            _ => self.regex.is_match(ch),
        }
    }
}

/// What a candidate must pass (see catalog.toml).
#[derive(Debug, Clone, Default)]
pub struct Checks {
    /// The validator name, if any.
    pub validator: Option<String>,
    /// Fewest ASCII digits a value may have.
    pub min_digits: usize,
    /// A class the character before a value must not be in.
    pub reject_prev: Option<CharClass>,
    /// A class the character after a value must not be in.
    pub reject_next: Option<CharClass>,
    /// Lower-cased suffixes a value may not end with.
    pub deny_suffixes: Vec<String>,
}

/// One compiled pattern of a type: the regex, its `value` group, its gate and its checks.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The rule's name, reported with its detections.
    pub name: String,
    /// The compiled (translated) regex.
    pub regex: meta::Regex,
    /// The translated pattern the regex was compiled from.
    pub source: String,
    /// The index of the `value` group, if the pattern has one.
    pub value_group: Option<usize>,
    /// The indices of the `label` and `tail` groups of a labelled pattern.
    pub label_groups: Option<(usize, usize)>,
    /// The prefilter deciding where the pattern is searched (union patterns).
    pub gate: Gate,
    /// What every match holds at the least; a text holding less is not searched.
    pub need: Need,
    /// What its candidates must pass.
    pub checks: Checks,
    /// Literal words (lower case), one of which every match holds.
    pub keywords: Vec<String>,
    /// Every match starts with a keyword: the pattern is tried only at keyword positions.
    pub anchored: bool,
    /// Literals, one of which begins every match ([`openings`]; empty when the syntax gives no
    /// such short list). A keyword is found with case ignored, a rule's prefix often is not (`sk`
    /// in "desk" for `SK[0-9a-f]{32}`): a start that opens with none of these is not tried.
    pub openings: Vec<Vec<u8>>,
    /// What the first bytes of every match can be ([`head`]; checks nothing when the syntax fixes
    /// none); a pattern tried at a keyword is not tried where the text does not fit it.
    pub head: Head,
    /// The pattern's id in the union regex, if it joins it.
    pub union_id: Option<usize>,
    /// The longest match, in bytes, if the pattern's matches are bounded.
    pub max_len: Option<usize>,
    /// How strong a candidate's evidence is when spans tie: 0 a named rule with keywords (a
    /// vendor's format), 1 a label or key, 2 a shape alone.
    pub evidence: u8,
    /// The pattern's index among the patterns with keywords, if it has any.
    pub gate_id: Option<usize>,
    /// For a pattern with keywords that is not anchored: how its matches begin before a keyword,
    /// when its syntax shows it (then it is tried once per keyword, not searched for).
    pub lead: Option<Lead>,
    /// For a pattern with a lead and no groups: an anchored DFA finding its match from a given
    /// start, without the general matcher's cost per search (a cache to fetch, a strategy to pick).
    pub lead_dfa: Option<Box<dense::DFA<Vec<u32>>>>,
    /// For a labelled pattern: what finds its groups in a match without the backtracker.
    pub split: Option<Box<Split>>,
    /// For a labelled pattern whose type joins label and value by an operator only: where a
    /// match could hold one ([`OperatorGate`]).
    pub operator: Option<OperatorGate>,
}

/// One compiled type: its patterns and what its candidates must pass.
#[derive(Debug, Clone)]
pub struct PiiType {
    /// The type id.
    pub id: String,
    /// The id upper-cased, as the label and tokenize strategies write it.
    pub upper: String,
    /// `personal`, `secret` or `custom`.
    pub category: String,
    /// What the type is.
    pub description: String,
    /// The patterns, tried in order.
    pub patterns: Vec<Pattern>,
    /// The type's own checks (for values under a labelled key).
    pub checks: Checks,
    /// Its label grammar, for a labelled type.
    pub labels: Option<Labels>,
    /// The partial-mask rule.
    pub partial: String,
    /// The name reported for a value found under a labelled key.
    pub key_rule: String,
}

impl PiiType {
    /// The name of rule `index` (the key rule past the last pattern).
    pub fn rule_name(&self, index: usize) -> &str {
        self.patterns.get(index).map_or(self.key_rule.as_str(), |p| p.name.as_str())
    }
}

/// A custom pattern from the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomPattern {
    /// The type id it defines.
    pub id: String,
    /// The pattern, in the catalog dialect.
    pub pattern: String,
    /// The partial-mask rule.
    #[serde(default = "tail")]
    pub partial: String,
    /// Words one of which a text must hold for the pattern to be searched in it.
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// The resolved configuration both engines take (`Config.to_engine()` in Python).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// Types to run; `None` runs all.
    #[serde(default)]
    pub enabled: Option<Vec<String>>,
    /// Types never to run.
    #[serde(default)]
    pub disabled: Vec<String>,
    /// Strategy for types without an override.
    #[serde(default = "label")]
    pub default_strategy: String,
    /// Per-type strategy overrides.
    #[serde(default)]
    pub strategies: HashMap<String, String>,
    /// Replacement text of `redact`.
    #[serde(default = "redacted")]
    pub redaction_text: String,
    /// Key of the HMAC used by `hash`.
    #[serde(default)]
    pub hash_key: Option<String>,
    /// Exact values never reported.
    #[serde(default)]
    pub allow_values: Vec<String>,
    /// Patterns whose full matches are never reported.
    #[serde(default)]
    pub allow_patterns: Vec<String>,
    /// Additional types.
    #[serde(default)]
    pub custom_patterns: Vec<CustomPattern>,
    /// Largest text, in UTF-8 bytes.
    #[serde(default = "default_max_text_bytes")]
    pub max_text_bytes: usize,
    /// Deepest nesting of a payload.
    #[serde(default = "default_max_depth")]
    pub max_depth: usize,
    /// Most values in one payload.
    #[serde(default = "default_max_nodes")]
    pub max_nodes: usize,
    /// In scans, read an object member's key as the label of its value.
    #[serde(default = "yes")]
    pub key_labels: bool,
    /// In scans, report integers under labelled keys and mask them as strings.
    #[serde(default = "yes")]
    pub scan_numbers: bool,
}

fn label() -> String {
    "label".to_owned()
}

fn redacted() -> String {
    "[REDACTED]".to_owned()
}

fn default_max_text_bytes() -> usize {
    10 * 1024 * 1024
}

fn default_max_depth() -> usize {
    64
}

fn default_max_nodes() -> usize {
    1_000_000
}

impl Default for EngineConfig {
    fn default() -> Self {
        serde_json::from_str("{}").expect("the empty config deserializes")
    }
}

/// Finds the keywords of keyword-gated patterns, ASCII case-insensitively.
#[derive(Debug, Clone)]
pub struct KeywordIndex {
    /// The keywords, lower case.
    pub words: Vec<String>,
    /// The keywords as an automaton of their own: the fallback when the union gives up.
    pub automaton: AhoCorasick,
    /// Per keyword (automaton pattern id): the gate ids ([`Pattern::gate_id`]) of the patterns
    /// it gates.
    pub rules: Vec<Vec<usize>>,
    /// How many patterns have keywords (gate ids `0..gated`).
    pub gated: usize,
    /// The keywords the union finds, by union id after its patterns: all but
    /// [`KeywordIndex::bytes`].
    pub in_union: Vec<usize>,
    /// The keywords of one byte other than a letter (`:`, `@`): found by a byte search instead of
    /// by the union, whose walk would leave its fast loop to report each one (two colons per
    /// timestamp in a log).
    pub bytes: Vec<usize>,
    /// The byte of each of [`KeywordIndex::bytes`], in turn.
    pub byte_values: Vec<u8>,
}

impl KeywordIndex {
    /// The keyword of id `k` counted after the union's patterns: [`KeywordIndex::in_union`] in
    /// turn, then [`KeywordIndex::bytes`] (ids the union never reports; a walk of joined texts
    /// gives them with its matches, [`Matches::Given`](crate::detect::Matches::Given)).
    pub fn word_of(&self, k: usize) -> usize {
        match self.in_union.get(k) {
            Some(&word) => word,
            None => self.bytes[k - self.in_union.len()],
        }
    }

    /// The id [`KeywordIndex::word_of`] reads as `bytes[k]`.
    pub fn byte_id(&self, k: usize) -> usize {
        self.in_union.len() + k
    }
}

/// Everything the engine needs, built once per configuration.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The enabled types, in catalog order (custom types last).
    pub types: Vec<PiiType>,
    /// Validator tables.
    pub tables: Tables,
    /// The label grammar.
    pub grammar: Grammar,
    /// Strategy for types without an override.
    pub default_strategy: String,
    /// Per-type overrides, by type id.
    pub strategies: HashMap<String, String>,
    /// Replacement text of `redact`.
    pub redaction_text: String,
    /// HMAC key of `hash`.
    pub hash_key: Option<Vec<u8>>,
    /// Exact allow-listed values.
    pub allow_values: HashSet<String>,
    /// Allow patterns, anchored at both ends.
    pub allow_patterns: Vec<Regex>,
    /// Largest text, in UTF-8 bytes.
    pub max_text_bytes: usize,
    /// Deepest nesting of a payload.
    pub max_depth: usize,
    /// Most values in one payload.
    pub max_nodes: usize,
    /// In scans, read keys as labels.
    pub key_labels: bool,
    /// In scans, report integers under labelled keys.
    pub scan_numbers: bool,
    /// Type index by id.
    pub index: HashMap<String, usize>,
    /// Finds the clusters that cluster-gated patterns are searched in.
    pub clusters: ClusterFinder,
    /// The patterns without keywords in one lazy DFA (union ids in type, then pattern order), to
    /// find in one pass where each of them can match.
    pub union: Option<Arc<Union>>,
    /// The keywords of the keyword-gated patterns.
    pub keywords: Option<KeywordIndex>,
    /// (type, pattern) of each union pattern, by union id.
    pub by_union: Vec<(usize, usize)>,
    /// (type, pattern) of each keyword-gated pattern, by gate id.
    pub by_gate: Vec<(usize, usize)>,
    /// (type, pattern) of the patterns neither in the union nor gated: searched in every text.
    pub always: Vec<(usize, usize)>,
}

/// Raise a config error unless `pattern` keeps to the dialect both engines read alike.
///
/// # Example
/// ```
/// use _native::catalog::check_dialect;
/// assert!(check_dialect(r"\b[0-9]{3}-[0-9]{4}\b").is_ok());
/// assert!(check_dialect(r"\d+").is_err());
/// ```
pub fn check_dialect(pattern: &str) -> Result<()> {
    let n = pattern.chars().count();
    if n > MAX_PATTERN_LEN {
        return Err(Error::Config(format!("pattern is {n} characters long; the limit is {MAX_PATTERN_LEN}")));
    }
    check_syntax(pattern)
}

fn check_syntax(pattern: &str) -> Result<()> {
    let chars: Vec<char> = pattern.chars().collect();
    let n = chars.len();
    let at = |i: usize| chars.get(i).copied();
    let (mut i, mut in_class) = (0, false);
    while i < n {
        let c = chars[i];
        if c == '\\' {
            let next = at(i + 1);
            let bad = match next {
                None => true,
                Some(x) => FORBIDDEN_ESCAPES.contains(x) || (in_class && (x == 'b' || x == 'B')),
            };
            if bad {
                let shown = next.map(String::from).unwrap_or_default();
                return Err(Error::Config(format!(
                    "pattern uses '\\{shown}' at position {i}; use explicit ASCII classes such as \
                     [0-9] or [A-Za-z], and no back-references"
                )));
            }
            i += 2;
            continue;
        }
        if in_class {
            if c == '[' || ("&~-".contains(c) && at(i + 1) == Some(c)) {
                return Err(Error::Config(format!(
                    "pattern has a nested or set-operation class at position {i}"
                )));
            }
            if c == ']' {
                in_class = false;
            }
        } else if c == '[' {
            in_class = true;
            i += 1;
            if at(i) == Some('^') {
                i += 1;
            }
            if at(i) == Some(']') {
                i += 1;
            }
            continue;
        } else if c == '$' {
            return Err(Error::Config(format!(
                "pattern uses '$' at position {i}; end anchors differ between engines"
            )));
        } else if c == '{' && at(i + 1) == Some(',') {
            return Err(Error::Config(format!("pattern uses '{{,n}}' at position {i}; write '{{0,n}}'")));
        } else if c == '(' && at(i + 1) == Some('?') {
            let rest: String = chars[i + 2..n.min(i + 4)].iter().collect();
            if !(rest.starts_with(':') || rest == "P<" || rest == "i:") {
                return Err(Error::Config(format!(
                    "pattern uses '(?{rest}' at position {i}; only (?:...), (?P<name>...) and \
                     (?i:...) groups are allowed (no look-around, no inline flags)"
                )));
            }
        }
        i += 1;
    }
    Ok(())
}

/// Rewrite a dialect pattern for the `regex` crate: ASCII `\b`/`\B` and ASCII-only `(?i:`.
///
/// # Example
/// ```
/// use _native::catalog::translate;
/// assert_eq!(translate(r"\b(?i:dob)\b"), r"(?-u:\b)(?i-u:dob)(?-u:\b)");
/// ```
pub fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let next = chars.next();
                match next {
                    Some('b') if !in_class => out.push_str(r"(?-u:\b)"),
                    Some('B') if !in_class => out.push_str(r"(?-u:\B)"),
                    Some(x) => {
                        out.push('\\');
                        out.push(x);
                    }
                    None => out.push('\\'),
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push(']');
                    chars.next();
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '(' if !in_class => {
                let mut look = chars.clone();
                if look.next() == Some('?') && look.next() == Some('i') && look.next() == Some(':') {
                    out.push_str("(?i-u:");
                    chars.next();
                    chars.next();
                    chars.next();
                } else {
                    out.push('(');
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Compile a dialect pattern for the Rust engine.
pub fn compile_pattern(pattern: &str) -> Result<Regex> {
    check_dialect(pattern)?;
    regex::RegexBuilder::new(&translate(pattern)).size_limit(32 * 1024 * 1024).build().map_err(|e| {
        Error::Config(format!("pattern does not compile in the Rust engine: {}", first_line(&e)))
    })
}

fn first_line(e: &regex::Error) -> String {
    match e {
        regex::Error::CompiledTooBig(limit) => format!("it needs more than {limit} bytes compiled"),
        other => {
            let text = other.to_string();
            text.lines().last().unwrap_or("syntax error").trim().to_owned()
        }
    }
}

/// Compile a translated pattern; `prefilter`: let the regex skip ahead to where a match can
/// begin (off for a pattern searched only in the short windows the union locates: its prefilter
/// is a byte class, such as the digits, that stops at every digit of a log line and costs more
/// than the few bytes it skips; measured on the union's patterns, whole-text searches were no
/// faster with it either).
fn meta_regex(translated: &str, prefilter: bool) -> Result<meta::Regex> {
    meta::Regex::builder()
        .configure(meta::Config::new().nfa_size_limit(Some(32 * 1024 * 1024)).auto_prefilter(prefilter))
        .build(translated)
        .map_err(|e| Error::Config(format!("pattern does not compile in the Rust engine: {e}")))
}

/// Compile a type's pattern for searching: the regex, its groups and its prefilter. `located`:
/// the pattern joins the union if its matches are bounded (then `union_id` is set).
pub fn compile_search_pattern(pattern: &str, located: bool) -> Result<Pattern> {
    check_dialect(pattern)?;
    search_pattern(pattern, located)
}

fn search_pattern(pattern: &str, located: bool) -> Result<Pattern> {
    let translated = translate(pattern);
    let parse = |p: &str| regex_syntax::ParserBuilder::new().build().parse(p).ok();
    let (gate, need, max_len, openings, head) = match parse(&translated) {
        Some(hir) => (gate(&hir), need(&hir), hir.properties().maximum_len(), openings(&hir), head(&hir)),
        None => (Gate::Plain, Need::default(), None, Vec::new(), Head::default()),
    };
    // The union holds patterns of bounded length only (its pass may split a text: scan.rs).
    let in_union = located && max_len.is_some();
    let regex = meta_regex(&translated, !in_union)?;
    let group = |name: &str| regex.group_info().to_index(regex_automata::PatternID::ZERO, name);
    let value_group = group("value");
    let label_groups = group("label").zip(group("tail"));
    Ok(Pattern {
        name: String::new(),
        regex,
        source: translated,
        value_group,
        label_groups,
        gate,
        need,
        checks: Checks::default(),
        keywords: Vec::new(),
        anchored: false,
        openings,
        head,
        union_id: in_union.then_some(0),
        max_len,
        evidence: 2,
        gate_id: None,
        lead: None,
        lead_dfa: None,
        split: None,
        operator: None,
    })
}

/// Return true if `pattern` can match the empty string somewhere.
pub fn can_match_empty(pattern: &str) -> bool {
    regex_syntax::ParserBuilder::new()
        .build()
        .parse(&translate(pattern))
        .map(|hir| hir.properties().minimum_len() == Some(0))
        .unwrap_or(false)
}

struct Catalog {
    meta: CatalogMeta,
    types: Vec<TypeEntry>,
    rules: Vec<RuleEntry>,
}

fn invalid(path: &str, e: impl std::fmt::Display) -> Error {
    Error::Config(format!("the catalog is invalid: {path}: {e}"))
}

fn parse_catalog() -> Result<Catalog> {
    let file = |path: &str| CATALOG_FILES.iter().find(|(p, _)| *p == path).map(|(_, text)| *text);
    let meta: CatalogMeta =
        toml::from_str(file("catalog.toml").ok_or_else(|| invalid("catalog.toml", "missing"))?)
            .map_err(|e| invalid("catalog.toml", e))?;
    let mut types = Vec::with_capacity(meta.types.len());
    for id in &meta.types {
        let path = format!("types/{id}.toml");
        let text = file(&path).ok_or_else(|| invalid(&path, "missing"))?;
        let entry: TypeEntry = toml::from_str(text).map_err(|e| invalid(&path, e))?;
        if &entry.id != id {
            return Err(invalid(&path, format!("must have id '{id}'")));
        }
        types.push(entry);
    }
    let mut rules = Vec::new();
    for (path, text) in CATALOG_FILES.iter().filter(|(p, _)| p.starts_with("rules/")) {
        let parsed: RulesFile = toml::from_str(text).map_err(|e| invalid(path, e))?;
        rules.extend(parsed.rules);
    }
    Ok(Catalog { meta, types, rules })
}

/// Return the ids of the built-in types, in catalog order.
pub fn builtin_type_ids() -> Vec<String> {
    parse_catalog().map(|c| c.types.into_iter().map(|t| t.id).collect()).unwrap_or_default()
}

fn prefix_range(spec: &str) -> Result<(usize, u64, u64)> {
    let (lo, hi) = spec.split_once('-').unwrap_or((spec, spec));
    let bad = || Error::Config(format!("bad issuer prefix range '{spec}' in the catalog"));
    if lo.len() != hi.len() {
        return Err(bad());
    }
    Ok((lo.len(), lo.parse().map_err(|_| bad())?, hi.parse().map_err(|_| bad())?))
}

/// The markers' automaton. Markers and starts must be lower case: they are compared with the
/// value with ASCII case ignored, which is comparing them with the lower-cased value.
fn secret_markers(s: &SecretTable) -> Result<AhoCorasick> {
    if let Some(m) = s.markers.iter().chain(&s.starts).find(|m| m.bytes().any(|b| b.is_ascii_uppercase())) {
        return Err(Error::Config(format!("secret marker '{m}' in the catalog is not lower case")));
    }
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(&s.markers)
        .map_err(|e| Error::Config(format!("secret markers in the catalog: {e}")))
}

fn build_tables(v: &ValidatorTables) -> Result<Tables> {
    let issuers = v
        .luhn
        .issuers
        .iter()
        .map(|i| {
            let prefixes = i.prefixes.iter().map(|p| prefix_range(p)).collect::<Result<Vec<_>>>()?;
            Ok((prefixes, i.lengths.clone()))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Tables {
        issuers,
        iban_lengths: v.iban.lengths.clone(),
        phone_international: (v.phone.international[0], v.phone.international[1]),
        phone_national: (v.phone.national[0], v.phone.national[1]),
        years: (v.date.years[0], v.date.years[1]),
        min_ipv6_groups: v.ip.min_ipv6_groups,
        placeholders: v.secret.placeholders.iter().cloned().collect(),
        placeholder_len: v.secret.placeholders.iter().map(String::len).max().unwrap_or(0),
        markers: secret_markers(&v.secret)?,
        starts: v.secret.starts.clone(),
        max_run: v.secret.max_run,
        password_kinds: v.secret.password_kinds,
    })
}

fn build_grammar(g: &GrammarEntry) -> Grammar {
    Grammar {
        connector_words: g.connector_words.clone(),
        connector_tokens: g.connector_tokens.clone(),
        connector_chars: g.connector_chars.clone(),
        quotes: g.quotes.clone(),
        operators: g.operators.clone(),
        operator_words: g.operator_words.iter().cloned().collect(),
        max_connector: g.max_connector,
        max_prefix: g.max_prefix,
        max_suffix: g.max_suffix,
    }
}

/// Compile `p` so that it must match a whole string.
fn anchored(p: &str) -> Result<Regex> {
    regex::RegexBuilder::new(&format!(r"\A(?:{})\z", translate(p)))
        .size_limit(32 * 1024 * 1024)
        .build()
        .map_err(|e| {
            Error::Config(format!("pattern does not compile in the Rust engine: {}", first_line(&e)))
        })
}

/// The checks an entry sets, on top of `base` (a type's own checks, for its rules).
fn build_checks(id: &str, entry: &ChecksEntry, base: &Checks) -> Result<Checks> {
    let validator = match &entry.validator {
        Some(v) if v.is_empty() => None,
        Some(v) => Some(v.clone()),
        None => base.validator.clone(),
    };
    if let Some(v) = &validator {
        if !VALIDATORS.contains(&v.as_str()) {
            return Err(Error::Config(format!("'{id}' names an unknown validator")));
        }
    }
    let class = |p: &Option<String>, default: &Option<CharClass>| -> Result<Option<CharClass>> {
        match p {
            None => Ok(default.clone()),
            Some(p) if p.is_empty() => Ok(None),
            Some(p) => {
                check_dialect(p)?;
                Ok(Some(CharClass::new(anchored(p)?)))
            }
        }
    };
    Ok(Checks {
        validator,
        min_digits: entry.min_digits.unwrap_or(base.min_digits),
        reject_prev: class(&entry.reject_prev, &base.reject_prev)?,
        reject_next: class(&entry.reject_next, &base.reject_next)?,
        deny_suffixes: entry.deny_suffixes.as_ref().map_or_else(
            || base.deny_suffixes.clone(),
            |v| v.iter().map(|s| s.to_ascii_lowercase()).collect(),
        ),
    })
}

fn build_keywords(id: &str, words: &[String]) -> Result<Vec<String>> {
    if words.iter().any(|w| w.trim().is_empty()) {
        return Err(Error::Config(format!("'{id}': keywords must be a list of non-empty strings")));
    }
    Ok(longest_first(words.iter().map(|w| w.to_lowercase())))
}

fn build_labels(g: &Grammar, e: &TypeEntry) -> Result<Option<(Labels, Vec<String>)>> {
    let Some(spec) = &e.labels else {
        return Ok(None);
    };
    let mut values: Vec<String> = Vec::new();
    for v in spec.values.iter().chain(e.formats.iter().map(|f| &f.pattern)) {
        if !values.contains(v) {
            values.push(v.clone());
        }
    }
    if spec.phrases.is_empty() || values.is_empty() {
        return Err(Error::Config(format!("type '{}': labels need phrases and values", e.id)));
    }
    for v in &values {
        check_dialect(v)?;
    }
    let alts: Vec<String> = values.iter().map(|v| format!("(?:{v})")).collect();
    let key_values = meta_regex(&format!(r"\A(?:{})\z", translate(&alts.join("|"))), true)?;
    let _ = g;
    Ok(Some((
        Labels {
            spellings: spellings(&spec.phrases),
            suffixes: (!spec.suffixes.iter().any(|s| s == "*"))
                .then(|| spec.suffixes.iter().cloned().collect()),
            deny: spec.deny.iter().cloned().collect(),
            operator: spec.operator,
            key_values,
        },
        values,
    )))
}

/// Compile one type; `connector` is the grammar's connector as a part of every label pattern.
fn build_type(
    g: &Grammar,
    connector: &Arc<Part>,
    e: &TypeEntry,
    extra: &[RuleEntry],
    budget: &mut usize,
) -> Result<PiiType> {
    if !PARTIAL_RULES.contains(&e.partial.as_str()) {
        return Err(Error::Config(format!("type '{}' names an unknown partial rule", e.id)));
    }
    let checks = build_checks(&e.id, &e.checks, &Checks::default())?;
    let mut patterns = Vec::new();
    for shape in &e.patterns {
        let (source, keywords) = match shape {
            ShapeEntry::Plain(p) => (p, Vec::new()),
            // A shape with keywords: searched once one of them occurs (email: "@").
            ShapeEntry::Gated { pattern, keywords } => (pattern, build_keywords(&e.id, keywords)?),
        };
        let mut pattern = compile_search_pattern(source, keywords.is_empty())?;
        pattern.name = e.id.clone();
        pattern.checks = checks.clone();
        pattern.keywords = keywords;
        patterns.push(pattern);
    }
    for spec in extra.iter().chain(&e.rules) {
        let keywords = build_keywords(&spec.id, &spec.keywords)?;
        let located = keywords.is_empty() && !(spec.custom && *budget == 0);
        let mut pattern = compile_search_pattern(&spec.pattern, located)?;
        pattern.name = spec.id.clone();
        pattern.checks = build_checks(&spec.id, &spec.checks, &checks)?;
        pattern.anchored = !keywords.is_empty() && !spec.custom && spec.anchor;
        pattern.evidence = if keywords.is_empty() { 2 } else { 0 };
        if spec.custom && pattern.union_id.is_some() {
            *budget -= 1;
        }
        pattern.keywords = keywords;
        patterns.push(pattern);
    }
    let labels = match build_labels(g, e)? {
        Some((labels, values)) => {
            let phrases = e.labels.as_ref().map(|l| l.phrases.clone()).unwrap_or_default();
            let parts = LabelParts::new(g, &phrases, &values);
            let pattern = parts.pattern(g);
            check_syntax(&pattern)?;
            let mut compiled = search_pattern(&pattern, false)?;
            compiled.split = Some(Box::new(parts.split(connector)));
            if labels.operator {
                compiled.operator = parts.operator_within(g).and_then(|within| OperatorGate::new(g, within));
            }
            compiled.name = format!("{}-label", e.id);
            compiled.checks = checks.clone();
            compiled.keywords = phrase_keywords(&phrases);
            compiled.anchored = true;
            compiled.evidence = 1;
            patterns.push(compiled);
            Some(labels)
        }
        None => None,
    };
    if patterns.is_empty() {
        return Err(Error::Config(format!("type '{}' has no patterns", e.id)));
    }
    Ok(PiiType {
        id: e.id.clone(),
        upper: e.id.to_uppercase(),
        category: e.category.clone(),
        description: e.description.clone(),
        patterns,
        checks,
        labels,
        partial: e.partial.clone(),
        key_rule: format!("{}-key", e.id),
    })
}

fn is_type_id(id: &str) -> bool {
    let b = id.as_bytes();
    !b.is_empty()
        && b.len() <= 48
        && b[0].is_ascii_lowercase()
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

fn check_custom(c: &CustomPattern, taken: &HashSet<String>) -> Result<()> {
    if !is_type_id(&c.id) {
        return Err(Error::Config(
            "custom pattern id must be lower snake case (a-z, 0-9, _), at most 48 characters".to_owned(),
        ));
    }
    if taken.contains(&c.id) {
        return Err(Error::Config(format!("custom pattern id '{}' is already taken", c.id)));
    }
    if c.pattern.is_empty() {
        return Err(Error::Config(format!("custom pattern '{}' needs a non-empty pattern", c.id)));
    }
    compile_pattern(&c.pattern)?;
    if can_match_empty(&c.pattern) {
        return Err(Error::Config(format!("custom pattern '{}' can match the empty string", c.id)));
    }
    if !PARTIAL_RULES.contains(&c.partial.as_str()) {
        return Err(Error::Config(format!(
            "custom pattern '{}': partial must be one of {}",
            c.id,
            PARTIAL_RULES.join(", ")
        )));
    }
    build_keywords(&c.id, &c.keywords)?;
    Ok(())
}

/// Build the compiled catalog for a resolved configuration.
pub fn compile_config(cfg: &EngineConfig) -> Result<Compiled> {
    let catalog = parse_catalog()?;
    let grammar = build_grammar(&catalog.meta.grammar);
    let mut entries = catalog.types.clone();
    let mut taken: HashSet<String> = entries.iter().map(|e| e.id.clone()).collect();
    let mut vendor: HashMap<String, Vec<RuleEntry>> = HashMap::new();
    for rule in &catalog.rules {
        let ty = rule.ty.clone().unwrap_or_default();
        if !taken.contains(&ty) {
            return Err(Error::Config(format!(
                "the catalog is invalid: rule '{}' names an unknown type",
                rule.id
            )));
        }
        vendor.entry(ty).or_default().push(rule.clone());
    }
    for custom in &cfg.custom_patterns {
        check_custom(custom, &taken)?;
        taken.insert(custom.id.clone());
        entries.push(TypeEntry {
            id: custom.id.clone(),
            category: custom_category(),
            description: String::new(),
            patterns: Vec::new(),
            checks: ChecksEntry::default(),
            partial: custom.partial.clone(),
            labels: None,
            formats: Vec::new(),
            rules: vec![RuleEntry {
                id: custom.id.clone(),
                ty: None,
                description: String::new(),
                pattern: custom.pattern.clone(),
                keywords: custom.keywords.clone(),
                anchor: false,
                checks: ChecksEntry::default(),
                examples: Vec::new(),
                counterexamples: Vec::new(),
                custom: true,
            }],
            examples: Vec::new(),
            counterexamples: Vec::new(),
        });
    }
    if let Some(enabled) = &cfg.enabled {
        if let Some(name) = enabled.iter().find(|n| !taken.contains(*n)) {
            return Err(Error::Config(format!("unknown PII type '{name}' in enabled types")));
        }
        entries.retain(|e| enabled.contains(&e.id));
    }
    if let Some(name) = cfg.disabled.iter().find(|n| !taken.contains(*n)) {
        return Err(Error::Config(format!("unknown PII type '{name}' in disabled types")));
    }
    entries.retain(|e| !cfg.disabled.contains(&e.id));
    let mut budget = MAX_UNION_CUSTOM;
    // Shared by the label patterns' parts ([`Split`]): its DFA is made once.
    let connector = Arc::new(Part::new(translate(&grammar.connector()), false));
    let mut types = entries
        .iter()
        .map(|e| {
            build_type(&grammar, &connector, e, vendor.get(&e.id).map_or(&[][..], Vec::as_slice), &mut budget)
        })
        .collect::<Result<Vec<_>>>()?;

    for (name, strategy) in &cfg.strategies {
        if !taken.contains(name) {
            return Err(Error::Config(format!("unknown PII type '{name}' in strategies")));
        }
        if !STRATEGIES.contains(&strategy.as_str()) {
            return Err(Error::Config(format!(
                "unknown strategy for '{name}'; use one of {}",
                STRATEGIES.join(", ")
            )));
        }
    }
    if !STRATEGIES.contains(&cfg.default_strategy.as_str()) {
        return Err(Error::Config(format!("unknown default strategy; use one of {}", STRATEGIES.join(", "))));
    }
    for (name, value) in
        [("max_text_bytes", cfg.max_text_bytes), ("max_depth", cfg.max_depth), ("max_nodes", cfg.max_nodes)]
    {
        if value < 1 {
            return Err(Error::Config(format!("{name} must be at least 1")));
        }
    }
    if cfg.max_depth > MAX_DEPTH_CAP {
        return Err(Error::Config(format!("max_depth must be at most {MAX_DEPTH_CAP}")));
    }
    let allow_patterns = cfg
        .allow_patterns
        .iter()
        .map(|p| {
            check_dialect(p)?;
            anchored(p)
        })
        .collect::<Result<Vec<_>>>()?;
    let index = types.iter().enumerate().map(|(i, t)| (t.id.clone(), i)).collect();
    let keywords = keyword_index(&mut types)?;
    let union = union_regex(&mut types, keywords.as_ref());
    let (mut by_union, mut by_gate, mut always) = (Vec::new(), Vec::new(), Vec::new());
    for (ti, t) in types.iter().enumerate() {
        for (pi, p) in t.patterns.iter().enumerate() {
            match (p.union_id, p.gate_id) {
                (Some(_), _) => by_union.push((ti, pi)),
                (None, Some(_)) => by_gate.push((ti, pi)),
                (None, None) => always.push((ti, pi)),
            }
        }
    }
    Ok(Compiled {
        types,
        tables: build_tables(&catalog.meta.validators)?,
        grammar,
        default_strategy: cfg.default_strategy.clone(),
        strategies: cfg.strategies.clone(),
        redaction_text: cfg.redaction_text.clone(),
        hash_key: cfg.hash_key.as_ref().filter(|k| !k.is_empty()).map(|k| k.as_bytes().to_vec()),
        allow_values: cfg.allow_values.iter().cloned().collect(),
        allow_patterns,
        max_text_bytes: cfg.max_text_bytes,
        max_depth: cfg.max_depth,
        max_nodes: cfg.max_nodes,
        key_labels: cfg.key_labels,
        scan_numbers: cfg.scan_numbers,
        index,
        clusters: ClusterFinder::default(),
        union,
        keywords,
        by_union,
        by_gate,
        always,
    })
}

/// One pass over a text for everything the search needs to know first: the union of the
/// patterns without keywords (where each can match) and the keywords (where they start), as one
/// lazy DFA reporting every (pattern, match end), with a cache per searching thread.
///
/// Union ids `0..shapes` are the patterns; the ids after them are the keywords, in the order of
/// [`KeywordIndex::rules`]. Measured on the bench's 100 KB and 1 MB texts, the single pass costs
/// 0.6-0.75 of a union pass and a separate Aho-Corasick pass over the keywords.
pub struct Union {
    /// The lazy DFA (all matches, overlapping).
    pub dfa: hybrid::dfa::DFA,
    /// Caches of the DFA for the searches running at a time.
    pub caches: Caches,
    /// How many of the union ids are patterns (the rest are keywords).
    pub shapes: usize,
    /// The longest match of a union pattern or keyword, in bytes (every union pattern is bounded).
    pub reach: Option<usize>,
    /// Whether the union's matches in a text are among its matches in the text joined with
    /// others by line feeds: true unless a pattern asserts the start or end of the text (a line
    /// feed is what a word boundary or a multi-line `^`/`$` sees at either) or a CRLF-aware
    /// line boundary.
    pub joinable: bool,
}

/// The caches of the union's DFA: one per search running now (the walks of a long text share it),
/// and at most [`union_spare`] kept between searches, so that the memory kept is bounded whatever the
/// number of threads that search (a library pool keeps one per thread that ever searched at the
/// same time as another, for good).
#[derive(Debug)]
pub struct Caches {
    dfa: hybrid::dfa::DFA,
    /// Grows a new cache's tables before its first walk ([`Caches::reserved`]).
    filler: Option<Filler>,
    // Boxed: a cache is a large struct, and each walk moves one out of the list and back in.
    #[allow(clippy::vec_box)]
    spare: Mutex<Vec<Box<hybrid::dfa::Cache>>>,
    /// How many are kept ([`union_spare`]).
    keep: usize,
}

impl Caches {
    fn new(dfa: hybrid::dfa::DFA) -> Self {
        let caches =
            Caches { dfa, filler: Filler::new(), spare: Mutex::new(Vec::new()), keep: union_spare() };
        // The one the first search takes, made now rather than by that search.
        let ready = Box::new(caches.reserved());
        caches.spare().push(ready);
        caches
    }

    /// A new cache of the union's DFA whose tables already hold [`UNION_RESERVE`] bytes.
    ///
    /// A lazy DFA's transition table is one vector that doubles as states are added; in a
    /// process whose allocator serves such blocks from its heap (glibc does once a large block
    /// was freed), each doubling leaves the old block resident, and RSS stepped up by 1 MiB at
    /// call 4,745 of the memory bench, long after warm-up. So a new cache is first filled by
    /// [`Filler`] up to the reserve, then reset for the union: a reset empties the tables but
    /// keeps their memory, and the union's states go into memory already in place (about 2 ms).
    fn reserved(&self) -> hybrid::dfa::Cache {
        let Some(filler) = &self.filler else { return self.dfa.create_cache() };
        let mut cache = filler.dfa.create_cache();
        filler.fill(&mut cache);
        cache.reset(&self.dfa);
        cache
    }

    #[allow(clippy::vec_box)]
    fn spare(&self) -> MutexGuard<'_, Vec<Box<hybrid::dfa::Cache>>> {
        // A walk that panicked cannot leave the list half changed: push and pop are whole.
        self.spare.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A cache for one search: a kept one when there is one (warm: its states are built), else a new one.
    pub fn get(&self) -> CacheGuard<'_> {
        let cache = self.spare().pop().unwrap_or_else(|| Box::new(self.reserved()));
        CacheGuard { caches: self, cache: Some(cache) }
    }

    /// How many caches are kept now, and the bytes they hold.
    pub fn kept(&self) -> (usize, usize) {
        let spare = self.spare();
        (spare.len(), spare.iter().map(|c| c.memory_usage()).sum())
    }
}

/// Bytes of tables a new union cache is given before its first walk ([`Caches::reserved`]).
pub const UNION_RESERVE: usize = 2 * 1024 * 1024;

/// A lazy DFA that makes a new state at every byte of its text: used to grow a new union cache's
/// tables before the union's states go in ([`Caches::reserved`]).
#[derive(Debug)]
struct Filler {
    dfa: hybrid::dfa::DFA,
    /// The printable ASCII bytes in turn, long enough to fill [`UNION_RESERVE`]; the DFA is this
    /// text as a literal, so each byte read leads to a state not seen yet.
    text: String,
}

impl Filler {
    fn new() -> Option<Self> {
        let text: String = (0..8192u16).map(|i| char::from(b'!' + (i % 94) as u8)).collect();
        let dfa = hybrid::dfa::DFA::builder()
            .configure(hybrid::dfa::DFA::config().cache_capacity(4 * UNION_RESERVE))
            .build(&regex_syntax::escape(&text))
            .ok()?;
        Some(Filler { dfa, text })
    }

    /// Walk the text until `cache` (one of this DFA's) holds [`UNION_RESERVE`] bytes; whether it did.
    fn fill(&self, cache: &mut hybrid::dfa::Cache) -> bool {
        let input = regex_automata::Input::new(&self.text).anchored(regex_automata::Anchored::Yes);
        let Ok(mut sid) = self.dfa.start_state_forward(cache, &input) else { return false };
        for &byte in self.text.as_bytes() {
            if cache.memory_usage() >= UNION_RESERVE {
                return true;
            }
            match self.dfa.next_state(cache, sid, byte) {
                Ok(next) => sid = next,
                Err(_) => return false,
            }
        }
        false
    }
}

/// A cache lent to one search; kept for the next one when dropped, unless [`union_spare`] are kept.
#[derive(Debug)]
pub struct CacheGuard<'a> {
    caches: &'a Caches,
    cache: Option<Box<hybrid::dfa::Cache>>,
}

impl Deref for CacheGuard<'_> {
    type Target = hybrid::dfa::Cache;
    fn deref(&self) -> &Self::Target {
        self.cache.as_deref().expect("a lent cache is there until dropped")
    }
}

impl DerefMut for CacheGuard<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.cache.as_deref_mut().expect("a lent cache is there until dropped")
    }
}

impl Drop for CacheGuard<'_> {
    fn drop(&mut self) {
        let Some(cache) = self.cache.take() else { return };
        let mut spare = self.caches.spare();
        if spare.len() < self.caches.keep {
            spare.push(cache);
        }
    }
}

impl std::fmt::Debug for Union {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Union").field("patterns", &self.dfa.pattern_len()).finish_non_exhaustive()
    }
}

/// The cache a union DFA may fill before it is cleared; past [`UNION_GIVE_UP`] clears that make
/// little progress, a search gives up and the patterns are searched without the union's help.
///
/// 8 MiB per search (the walks of a long text share it) instead of the default 2 MiB: on a
/// megabyte of varied text the default cache filled and was rebuilt over and over (the profile was
/// all determinisation), and throughput fell to a third of what it is at 100 KB.
pub const UNION_CACHE: usize = 8 * 1024 * 1024;
/// Union caches kept between searches: one per CPU and one more, so that searches running on all
/// CPUs at once find warm caches (a cold cache builds its states as it reads: 2-4 ms on the first
/// kilobyte, about 150 ms over a first megabyte of PII prose). The memory kept is at most this
/// many times [`UNION_CACHE`], whatever the thread count.
pub fn union_spare() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get) + 1
}
/// Cache clears a union search tolerates before it gives up (with fewer than 10 bytes searched
/// per state built since).
pub const UNION_GIVE_UP: usize = 8;

/// One lazy DFA of every union pattern (those marked with a `union_id`) and every keyword;
/// numbers the union ids. `None` if there is nothing to search or it cannot be built (then every
/// union pattern is searched alone, and the keywords are found by the index's own automaton).
fn union_regex(types: &mut [PiiType], keywords: Option<&KeywordIndex>) -> Option<Arc<Union>> {
    let mut sources = Vec::new();
    for p in types.iter_mut().flat_map(|t| t.patterns.iter_mut()) {
        if p.union_id.is_some() {
            p.union_id = Some(sources.len());
            sources.push(p.source.clone());
        }
    }
    let shapes = sources.len();
    let lengths = types.iter().flat_map(|t| &t.patterns).filter(|p| p.union_id.is_some()).map(|p| p.max_len);
    let words: Vec<&String> = keywords.iter().flat_map(|k| k.in_union.iter().map(|&w| &k.words[w])).collect();
    let reach = lengths
        .chain(words.iter().map(|w| Some(w.len())))
        .try_fold(0, |most, len| len.map(|len| most.max(len)));
    sources.extend(words.iter().map(|w| format!("(?i-u:{})", regex_syntax::escape(w))));
    if sources.is_empty() {
        return None;
    }
    let built = hybrid::dfa::DFA::builder()
        .configure(
            hybrid::dfa::DFA::config()
                .match_kind(regex_automata::MatchKind::All)
                .cache_capacity(UNION_CACHE)
                .minimum_cache_clear_count(Some(UNION_GIVE_UP))
                .minimum_bytes_per_state(Some(10)),
        )
        .thompson(regex_automata::nfa::thompson::Config::new().nfa_size_limit(Some(64 * 1024 * 1024)))
        .build_many(&sources)
        .ok();
    let Some(dfa) = built else {
        for p in types.iter_mut().flat_map(|t| t.patterns.iter_mut()) {
            p.union_id = None;
        }
        return None;
    };
    let looks = dfa.get_nfa().look_set_any();
    let joinable =
        ![Look::Start, Look::End, Look::StartCRLF, Look::EndCRLF].iter().any(|&l| looks.contains(l));
    let caches = Caches::new(dfa.clone());
    Some(Arc::new(Union { dfa, caches, shapes, reach, joinable }))
}

/// The anchored DFA of a pattern tried at its keywords ([`Pattern::lead_dfa`]), if it is small.
/// On text with a timestamp on every line (each one tried as an IPv6 address), the general
/// matcher's fixed cost per search was most of the pattern's time.
fn lead_dfa(source: &str) -> Option<Box<dense::DFA<Vec<u32>>>> {
    let config = dense::Config::new()
        .start_kind(StartKind::Anchored)
        .dfa_size_limit(Some(1 << 20))
        .determinize_size_limit(Some(1 << 21));
    dense::Builder::new().configure(config).build(source).ok().map(Box::new)
}

fn keyword_index(types: &mut [PiiType]) -> Result<Option<KeywordIndex>> {
    let mut words: Vec<String> = Vec::new();
    let mut rules: Vec<Vec<usize>> = Vec::new();
    let mut gated = 0;
    for p in types.iter_mut().flat_map(|t| t.patterns.iter_mut()) {
        if p.keywords.is_empty() {
            continue;
        }
        p.gate_id = Some(gated);
        if !p.anchored {
            let hir = regex_syntax::ParserBuilder::new().build().parse(&p.source).ok();
            p.lead = hir.and_then(|hir| lead(&hir, &p.keywords));
            if p.lead.is_some() && p.value_group.is_none() {
                p.lead_dfa = lead_dfa(&p.source);
            }
        }
        for kw in &p.keywords {
            let at = match words.iter().position(|w| w == kw) {
                Some(at) => at,
                None => {
                    words.push(kw.clone());
                    rules.push(Vec::new());
                    words.len() - 1
                }
            };
            rules[at].push(gated);
        }
        gated += 1;
    }
    if words.is_empty() {
        return Ok(None);
    }
    let automaton = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(&words)
        .map_err(|e| Error::Config(format!("keywords do not compile: {e}")))?;
    let (bytes, in_union): (Vec<usize>, Vec<usize>) =
        (0..words.len()).partition(|&w| matches!(words[w].as_bytes(), [b] if !b.is_ascii_alphabetic()));
    let byte_values = bytes.iter().map(|&w| words[w].as_bytes()[0]).collect();
    Ok(Some(KeywordIndex { words, automaton, rules, gated, in_union, bytes, byte_values }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every match of every pattern of the catalog, in its examples and counterexamples (each
    /// whole, and all of them in one text), begins with bytes that fit the pattern's head.
    #[test]
    fn every_match_fits_its_pattern_head() {
        let catalog = parse_catalog().unwrap();
        let examples = catalog.types.iter().flat_map(|t| t.examples.iter().chain(&t.counterexamples));
        let examples =
            examples.chain(catalog.rules.iter().flat_map(|r| r.examples.iter().chain(&r.counterexamples)));
        let mut texts: Vec<String> = examples
            .map(|e| match e {
                Example::Whole(text) | Example::Inside { text, .. } => text.clone(),
            })
            .collect();
        texts.push(texts.join(" "));
        let c = compile_config(&EngineConfig::default()).unwrap();
        let (mut checked, mut heads) = (0, 0);
        for p in c.types.iter().flat_map(|t| &t.patterns).filter(|p| !p.head.is_empty()) {
            heads += 1;
            for text in &texts {
                for m in p.regex.find_iter(text.as_str()) {
                    assert!(
                        p.head.fits(&text.as_bytes()[m.start()..]),
                        "{}: {:?}",
                        p.name,
                        &text[m.start()..]
                    );
                    checked += 1;
                }
            }
        }
        assert!(heads > 50 && checked > 500, "{heads} heads, {checked} matches");
    }

    /// The operator gate says a match may hold an operator exactly where its definition does, read
    /// position by position: an operator character within `within` bytes, or an operator word
    /// (any case) inside them and not followed by an ASCII letter, digit or underscore. Texts of
    /// pieces of operator words, word bytes, `+` and `/` (base64), blanks, operators and
    /// characters past ASCII, of every length around the window's.
    #[test]
    fn operator_gate_holds_where_an_operator_may_stand() {
        let c = compile_config(&EngineConfig::default()).unwrap();
        let g = &c.grammar;
        let words: Vec<String> = g.operator_words.iter().map(|w| w.to_ascii_lowercase()).collect();
        let within = 24;
        let gate = OperatorGate::new(g, within).unwrap();
        let by_definition = |from: &[u8]| {
            let window = &from[..from.len().min(within)];
            window.iter().any(|b| g.operators.as_bytes().contains(b))
                || (0..window.len()).any(|i| {
                    words.iter().any(|w| {
                        window.get(i..i + w.len()).is_some_and(|s| s.eq_ignore_ascii_case(w.as_bytes()))
                            && from
                                .get(i + w.len())
                                .is_none_or(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
                    })
                })
        };
        let pieces =
            ["is", "IS", "wAs", "are", "ar", "s", "i", "x", "Q9", "_", "+", "/", " ", ":", "=", "é", "\n"];
        let mut next = crate::detect::tests::picker(0x0BE7_A70B_5EED);
        let (mut held, mut refused) = (0, 0);
        for _ in 0..20_000 {
            let len = next(within + 8);
            let mut text = String::new();
            while text.len() < len {
                text.push_str(pieces[next(pieces.len())]);
            }
            let from = text.as_bytes();
            let expected = by_definition(from);
            assert_eq!(gate.may_hold(from), expected, "{text:?}");
            if expected {
                held += 1;
            } else {
                refused += 1;
            }
        }
        assert!(held > 1000 && refused > 1000, "{held} held, {refused} refused");
    }

    /// Split parts as the rule reads, one character at a time (the reference for `split_parts`).
    fn parts_by_chars(name: &str) -> Vec<String> {
        let (mut parts, mut cur, mut prev) = (Vec::new(), Vec::<char>::new(), ' ');
        let flush = |parts: &mut Vec<String>, cur: &mut Vec<char>| {
            if !cur.is_empty() {
                parts.push(cur.drain(..).map(|c| c.to_ascii_lowercase()).collect());
            }
        };
        for ch in name.chars() {
            let kind = match ch {
                '0'..='9' => 'd',
                'A'..='Z' => 'u',
                c if c.is_ascii_lowercase() || !c.is_ascii() => 'l',
                _ => {
                    flush(&mut parts, &mut cur);
                    prev = ' ';
                    continue;
                }
            };
            if !cur.is_empty() && ((prev == 'd') != (kind == 'd') || (prev == 'l' && kind == 'u')) {
                flush(&mut parts, &mut cur);
            } else if prev == 'u' && kind == 'l' && cur.len() >= 2 && cur[cur.len() - 2].is_ascii_uppercase()
            {
                let last = cur.pop().unwrap();
                flush(&mut parts, &mut cur);
                cur.push(last);
            }
            cur.push(ch);
            prev = kind;
        }
        flush(&mut parts, &mut cur);
        parts
    }

    #[test]
    fn split_parts_reads_as_the_rule() {
        let alphabet = ['a', 'b', 'A', 'B', '0', '7', '_', '-', ' ', '.', '#', 'é', 'Ü'];
        let mut pick = crate::detect::tests::picker(7);
        for _ in 0..20_000 {
            let name: String = (0..pick(12)).map(|_| alphabet[pick(alphabet.len())]).collect();
            assert_eq!(split_parts(&name), parts_by_chars(&name), "{name:?}");
        }
        assert_eq!(split_parts("HTTPServer"), ["http", "server"]);
        assert_eq!(split_parts("dateOfBirth2"), ["date", "of", "birth", "2"]);
    }

    #[test]
    fn catalog_compiles() {
        let c = compile_config(&EngineConfig::default()).unwrap();
        assert_eq!(c.types.len(), builtin_type_ids().len());
        assert!(c.types.iter().all(|t| !t.patterns.is_empty()));
    }

    #[test]
    fn new_union_caches_are_filled_to_the_reserve_and_search_as_fresh_ones() {
        // The filler's text is long enough to fill the reserve (shorter, and new caches would
        // silently get less).
        let filler = Filler::new().unwrap();
        let mut cache = filler.dfa.create_cache();
        assert!(filler.fill(&mut cache));
        // A reserved cache, reset for the union, finds what a fresh one finds.
        let c = compile_config(&EngineConfig::default()).unwrap();
        let union = c.union.as_ref().unwrap();
        let text = "ssn 123-45-6789, mail jane@example.com, ip 10.1.2.3, call +1 415 555 0123";
        let all = |cache: &mut hybrid::dfa::Cache| {
            let mut state = hybrid::dfa::OverlappingState::start();
            let mut out = Vec::new();
            let input = regex_automata::Input::new(text);
            while let Ok(()) = union.dfa.try_search_overlapping_fwd(cache, &input, &mut state) {
                let Some(m) = state.get_match() else { break };
                out.push((m.pattern().as_usize(), m.offset()));
            }
            out
        };
        let found = all(&mut union.caches.reserved());
        assert!(found.len() >= 4);
        assert_eq!(found, all(&mut union.dfa.create_cache()));
        // The engine starts with the cache its first search takes.
        assert_eq!(Caches::new(union.dfa.clone()).kept().0, 1);
    }

    #[test]
    fn union_keeps_a_bounded_number_of_warm_caches() {
        let c = compile_config(&EngineConfig::default()).unwrap();
        let caches = &c.union.as_ref().unwrap().caches;
        // More walks at once than are kept: each gets a cache of its own.
        let keep = union_spare();
        let mut lent: Vec<CacheGuard<'_>> = (0..keep + 3).map(|_| caches.get()).collect();
        assert_eq!(caches.kept().0, 0);
        let text = "ssn 123-45-6789 and mail jane@example.com";
        let input = regex_automata::Input::new(text);
        for cache in &mut lent {
            c.union.as_ref().unwrap().dfa.try_search_fwd(cache, &input).unwrap();
        }
        drop(lent);
        let (kept, bytes) = caches.kept();
        assert_eq!(kept, keep);
        assert!(bytes > 0 && bytes <= keep * UNION_CACHE);
        // A later walk takes a warm one.
        let warm = caches.get();
        assert_eq!(caches.kept().0, keep - 1);
        drop(warm);
        assert_eq!(caches.kept().0, keep);
    }

    #[test]
    fn dialect_rejects_engine_specific_syntax() {
        for p in [r"(?=a)", r"(a)\1", r"\w+", "a$", "[[a]]", "a{,3}", r"(?i)a", "[a&&b]"] {
            assert!(check_dialect(p).is_err(), "{p}");
        }
        for p in [r"\b[0-9]+\b", "(?:a|b)", "(?P<value>x)", "(?i:ab)", "[^a-z]", "[]a]", r"\.", "a{0,3}"] {
            assert!(check_dialect(p).is_ok(), "{p}");
        }
    }

    #[test]
    fn translate_leaves_classes_alone() {
        assert_eq!(translate(r"[\b(?i:]x"), r"[\b(?i:]x");
        assert_eq!(translate(r"\\b"), r"\\b");
    }

    #[test]
    fn custom_patterns_are_checked() {
        let mut cfg = EngineConfig {
            custom_patterns: vec![CustomPattern {
                id: "x".into(),
                pattern: "a*".into(),
                partial: tail(),
                keywords: Vec::new(),
            }],
            ..Default::default()
        };
        assert!(matches!(compile_config(&cfg), Err(Error::Config(_))));
        cfg.custom_patterns[0].pattern = "EMP-[0-9]{6}".into();
        assert!(compile_config(&cfg).is_ok());
        cfg.custom_patterns[0].id = "email".into();
        assert!(compile_config(&cfg).is_err());
    }

    #[test]
    fn labels_follow_the_grammar() {
        let c = compile_config(&EngineConfig::default()).unwrap();
        let labels = |id: &str| c.types[c.index[id]].labels.clone().unwrap();
        let mrn = labels("medical_record");
        for good in
            ["mrn", "patient_mrn", "mrnNumber", "PATIENT-MRN", "MedicalRecordNumber", "medical record no"]
        {
            assert!(mrn.matches(good, false), "{good}");
        }
        for bad in ["xmrn", "mrnx", "mrn_count", "amrn"] {
            assert!(!mrn.matches(bad, false), "{bad}");
        }
        let key = labels("api_key");
        for good in ["OPENAI_API_KEY", "AwsSecretAccessKey", "genericToken", "x-api-key"] {
            assert!(key.matches(good, false), "{good}");
        }
        for bad in ["publicToken", "LLM_SECRET_NAME", "tokenizer", "credentialsId"] {
            assert!(!key.matches(bad, false), "{bad}");
        }
        assert!(!mrn.matches("mrns", false) && mrn.matches("mrns", true));
    }

    /// A label is a run of parts that spells a phrase (the rule as [`Labels::matches`] states it,
    /// every run up to the longest phrase tried): the spelling that stops where no phrase begins
    /// finds the same, on names of phrases, denied and suffix words, numbers and short parts in
    /// every case and joining, long runs of short parts (a base64 blob's) among them.
    #[test]
    fn labels_stop_spelling_only_where_no_phrase_begins() {
        let c = compile_config(&EngineConfig::default()).unwrap();
        let rule = |l: &Labels, name: &str, key: bool| {
            let spelt = |w: &String| l.spellings.get(w).is_some_and(|s| if key { s.key } else { s.text });
            let lower = name.to_ascii_lowercase();
            let mut bounds = Vec::new();
            part_bounds(name, |s, e| bounds.push((s, e)));
            let parts: Vec<&str> = bounds.iter().map(|&(s, e)| &lower[s..e]).collect();
            let number = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
            (0..parts.len()).any(|i| {
                (i..parts.len()).any(|j| {
                    let run = parts[i..=j].concat();
                    run.chars().count() <= LONGEST_PHRASE
                        && spelt(&run)
                        && !parts[..i].iter().chain(&parts[j + 1..]).any(|p| l.deny.contains(*p))
                        && l.suffixes
                            .as_ref()
                            .is_none_or(|s| parts[j + 1..].iter().all(|p| s.contains(*p) || number(p)))
                })
            })
        };
        let mut next = crate::detect::tests::picker(0x1ABE_15BE_91AA_5EED);
        let mut checked = [0usize; 2];
        for t in c.types.iter().filter(|t| t.labels.is_some()) {
            let l = t.labels.as_ref().unwrap();
            let phrases = l.spellings.iter().filter(|(_, s)| s.text).map(|(w, _)| w);
            let mut words: Vec<String> = phrases.chain(&l.deny).cloned().collect();
            words.extend(l.suffixes.iter().flatten().cloned());
            words.extend(["7", "2024", "x", "Q", "ab", "Zq", "s", "é", &"a".repeat(70)].map(String::from));
            for _ in 0..3000 {
                let mut name = String::new();
                let long = next(4) == 0;
                for k in 0..1 + next(if long { 60 } else { 5 }) {
                    if k > 0 {
                        name.push_str(["", "_", "-", " ", "."][next(5)]);
                    }
                    let w = if long && next(3) > 0 {
                        ["q", "Z", "9", "pw", "Kx", "s", "/"][next(7)].to_string()
                    } else {
                        words[next(words.len())].clone()
                    };
                    name.push_str(&match next(3) {
                        0 => w.to_ascii_uppercase(),
                        1 => w
                            .chars()
                            .enumerate()
                            .map(|(i, ch)| if i == 0 { ch.to_ascii_uppercase() } else { ch })
                            .collect(),
                        _ => w,
                    });
                }
                for key in [false, true] {
                    let expected = rule(l, &name, key);
                    assert_eq!(l.matches(&name, key), expected, "type {} key {key}: {name:?}", t.id);
                    checked[usize::from(expected)] += 1;
                }
            }
        }
        assert!(checked.iter().all(|&n| n > 1000), "too few of each answer: {checked:?}");
    }

    /// Every keyword-anchored rule's matches start with one of its keywords: the engine only tries
    /// such a rule where a keyword starts, so a match starting elsewhere would be missed.
    #[test]
    fn anchored_rules_start_with_a_keyword() {
        use regex_syntax::hir::literal::{ExtractKind, Extractor};
        let c = compile_config(&EngineConfig::default()).unwrap();
        for p in
            c.types.iter().flat_map(|t| t.patterns.iter()).filter(|p| p.anchored && p.label_groups.is_none())
        {
            let hir = regex_syntax::ParserBuilder::new().build().parse(&p.source).unwrap();
            let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
            let lits = seq.literals().unwrap_or_else(|| panic!("{}: no finite literal prefixes", p.name));
            for lit in lits {
                let lower = String::from_utf8_lossy(lit.as_bytes()).to_ascii_lowercase();
                assert!(
                    p.keywords
                        .iter()
                        .any(|k| lower.starts_with(k.as_str()) || (k.starts_with(&lower) && !lit.is_exact())),
                    "{}: a match may start with {lower:?}, which no keyword begins",
                    p.name
                );
            }
        }
    }
}
