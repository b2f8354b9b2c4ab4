//! Scanning nested JSON values. Mirrors `mcp_pii/traverse.py`.
//!
//! Two passes, in the same order in both engines so that the same limit trips first: reading
//! the value into a [`Tape`] (here from a serde `Value`, in the binding from Python objects)
//! validates it against the limits through [`Budget`], and [`Walker`] scans every string of the
//! tape, parsing strings that hold JSON objects or arrays and writing them back compactly when
//! something inside was masked. An object member's key is the label of its value (the nearest
//! key, else that key joined to the one above it): a whole string, or an integer's decimal
//! text, under a labelled key is tried against the type's value shapes.
//!
//! The walk does not build the output: it returns the [`Change`]s (new text for a node), and
//! whoever read the tape writes them into its own representation ([`apply`] for a `Value`), so
//! that unchanged parts need not be copied.

use serde_json::Value;

use std::collections::HashMap;
use std::rc::Rc;

use crate::catalog::Compiled;
use crate::detect::{self, char_offsets, Span};
use crate::embedded;
use crate::error::{Error, Result};
use crate::hash::quick_hash;
use crate::mask::Masker;

/// A detection in a payload: pointer, type index, code-point start and end, value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// RFC 6901 pointer of the string in the payload (for a detection inside JSON held in a
    /// string: the pointer of that string).
    pub path: String,
    /// Inside JSON held in a string: the pointer within that embedded document, then (for JSON
    /// held in a string of it) within the next one, outermost first; empty otherwise.
    pub embedded: Vec<String>,
    /// Index of the type.
    pub ty: usize,
    /// Code-point offset of the start within the string.
    pub start: usize,
    /// Code-point offset of the end within the string.
    pub end: usize,
    /// The detected value.
    pub value: String,
    /// Index of the pattern within the type that found it (see [`crate::catalog::PiiType::rule_name`]).
    pub rule: usize,
}

/// The error for a payload nested deeper than `max_depth`.
pub fn depth_error(c: &Compiled) -> Error {
    Error::Limit(format!(
        "payload is nested deeper than {} levels (max_depth); flatten it or raise the limit",
        c.max_depth
    ))
}

/// The error for a payload with more than `max_nodes` values.
pub fn nodes_error(c: &Compiled) -> Error {
    Error::Limit(format!(
        "payload has more than {} values (max_nodes); split it or raise the limit",
        c.max_nodes
    ))
}

/// The error for a payload whose strings add up to more than `max_text_bytes`.
pub fn text_total_error(c: &Compiled) -> Error {
    Error::Limit(format!(
        "strings in the payload add up to more than {} bytes (max_text_bytes); split it or raise the limit",
        c.max_text_bytes
    ))
}

/// Append one RFC 6901 reference token (`~` as `~0`, `/` as `~1`) to a pointer.
pub fn push_token(ptr: &mut String, token: &str) {
    ptr.push('/');
    if token.bytes().any(|b| b == b'~' || b == b'/') {
        ptr.push_str(&token.replace('~', "~0").replace('/', "~1"));
    } else {
        ptr.push_str(token);
    }
}

/// Counts nodes and string bytes against the limits during the first pass.
#[derive(Clone)]
pub struct Budget<'c> {
    c: &'c Compiled,
    /// Nodes seen so far.
    pub nodes: usize,
    bytes: usize,
}

impl<'c> Budget<'c> {
    /// A fresh budget for one payload.
    pub fn new(c: &'c Compiled) -> Self {
        Budget { c, nodes: 0, bytes: 0 }
    }

    /// Count a node at `depth`; fail past `max_depth` or `max_nodes`.
    pub fn enter(&mut self, depth: usize) -> Result<()> {
        if depth > self.c.max_depth {
            return Err(depth_error(self.c));
        }
        self.nodes += 1;
        if self.nodes > self.c.max_nodes {
            return Err(nodes_error(self.c));
        }
        Ok(())
    }

    /// UTF-8 bytes of the strings counted so far.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Count a string of `len` UTF-8 bytes; fail past `max_text_bytes`.
    pub fn string(&mut self, len: usize) -> Result<()> {
        self.bytes = self.bytes.saturating_add(len);
        if self.bytes > self.c.max_text_bytes {
            return Err(text_total_error(self.c));
        }
        Ok(())
    }
}

/// One value of a [`Tape`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    /// For an object member, the index of its key in [`Tape::texts`].
    pub key: Option<usize>,
    /// What the value is.
    pub kind: Kind,
}

/// What a [`Node`] is, as far as the walk cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string: the index of its text in [`Tape::texts`].
    Text(usize),
    /// An integer that fits in an `i64`.
    Int(i64),
    /// An integer past `i64::MAX` that fits in a `u64`.
    UInt(u64),
    /// Any other number, a boolean or null: left as it is.
    Scalar,
    /// An array of this many items: the nodes that follow, each with its own subtree.
    Array(usize),
    /// An object of this many members: the nodes that follow, each with its key and subtree.
    Object(usize),
}

/// A payload flattened in pre-order (object members in order), with its strings and keys as texts.
///
/// Nodes are numbered by their position, which is how [`Change`]s name them.
#[derive(Debug, Clone, Default)]
pub struct Tape<T> {
    /// The values, root first.
    pub nodes: Vec<Node>,
    /// The strings and keys the nodes refer to.
    pub texts: Vec<T>,
}

/// The room a tape starts with: most payloads need no more, and growing costs more than this.
pub const TAPE_ROOM: usize = 32;

/// New text for the node at an index (a masked string, or a masked integer written as a string).
pub type Change = (usize, String);

impl<T> Tape<T> {
    /// An empty tape.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty tape with room for `n` nodes and texts.
    pub fn with_capacity(n: usize) -> Self {
        Tape { nodes: Vec::with_capacity(n), texts: Vec::with_capacity(n) }
    }

    /// Add a text; return its index.
    pub fn text(&mut self, t: T) -> usize {
        self.texts.push(t);
        self.texts.len() - 1
    }

    /// Add a node; return its index.
    pub fn push(&mut self, key: Option<usize>, kind: Kind) -> usize {
        self.nodes.push(Node { key, kind });
        self.nodes.len() - 1
    }
}

impl<'a> Tape<&'a str> {
    /// Flatten `v` (sitting at `depth`), counting its nodes in `budget` and, with `bytes`, the
    /// sizes of its strings: the first pass of a scan (and the count of JSON held in a string).
    ///
    /// # Example
    /// ```
    /// use _native::catalog::{compile_config, EngineConfig};
    /// use _native::traverse::{Budget, Kind, Tape};
    ///
    /// let c = compile_config(&EngineConfig::default()).unwrap();
    /// let v = serde_json::json!({"a": ["x", 1]});
    /// let tape = Tape::read(&v, 0, &mut Budget::new(&c), true).unwrap();
    /// let kinds: Vec<Kind> = tape.nodes.iter().map(|n| n.kind).collect();
    /// assert_eq!(kinds, [Kind::Object(1), Kind::Array(2), Kind::Text(1), Kind::Int(1)]);
    /// assert_eq!(tape.texts, ["a", "x"]);
    /// ```
    pub fn read(v: &'a Value, depth: usize, budget: &mut Budget<'_>, bytes: bool) -> Result<Self> {
        let mut tape = Tape::with_capacity(TAPE_ROOM);
        tape.add(v, None, depth, budget, bytes)?;
        Ok(tape)
    }

    fn add(
        &mut self,
        v: &'a Value,
        key: Option<usize>,
        depth: usize,
        b: &mut Budget<'_>,
        bytes: bool,
    ) -> Result<()> {
        b.enter(depth)?;
        match v {
            Value::String(s) => {
                if bytes {
                    b.string(s.len())?;
                }
                let t = self.text(s.as_str());
                self.push(key, Kind::Text(t));
            }
            Value::Number(n) => {
                let kind = match (n.as_i64(), n.as_u64()) {
                    (Some(i), _) => Kind::Int(i),
                    (None, Some(u)) => Kind::UInt(u),
                    _ => Kind::Scalar,
                };
                self.push(key, kind);
            }
            Value::Array(items) => {
                self.push(key, Kind::Array(items.len()));
                for x in items {
                    self.add(x, None, depth + 1, b, bytes)?;
                }
            }
            Value::Object(map) => {
                self.push(key, Kind::Object(map.len()));
                for (k, x) in map {
                    let k = self.text(k.as_str());
                    self.add(x, Some(k), depth + 1, b, bytes)?;
                }
            }
            Value::Bool(_) | Value::Null => {
                self.push(key, Kind::Scalar);
            }
        }
        Ok(())
    }
}

/// Write the changes of a walk over [`Tape::read`]`(v, ..)` into `v` (a masked integer becomes a string).
pub fn apply(v: &mut Value, changes: &[Change]) {
    fn visit(v: &mut Value, at: &mut usize, changes: &mut std::iter::Peekable<std::slice::Iter<'_, Change>>) {
        if changes.peek().is_none() {
            return;
        }
        let here = *at;
        *at += 1;
        match v {
            Value::Array(items) => items.iter_mut().for_each(|x| visit(x, at, changes)),
            Value::Object(map) => map.values_mut().for_each(|x| visit(x, at, changes)),
            _ => {
                if let Some((_, text)) = changes.next_if(|(i, _)| *i == here) {
                    *v = Value::String(text.clone());
                }
            }
        }
    }
    visit(v, &mut 0, &mut changes.iter().peekable());
}

/// What a scan of JSON text finds outside its strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// The deepest nesting of brackets.
    pub depth: usize,
    /// Object keys written (strings followed by a colon).
    pub keys: usize,
}

/// Scan JSON text `s` once for its bracket depth and its number of keys, skipping strings.
pub fn shape(s: &str) -> Shape {
    let (mut depth, mut deepest, mut keys) = (0isize, 0isize, 0usize);
    let (mut in_str, mut escaped, mut after_str) = (false, false, false);
    for b in s.bytes() {
        if in_str {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
                after_str = true;
            }
            continue;
        }
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => continue,
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth -= 1,
            b':' if after_str => keys += 1,
            _ => {}
        }
        after_str = false;
    }
    Shape { depth: deepest.max(0) as usize, keys }
}

/// Whether `s` is one JSON object or array (RFC 8259 syntax, at any depth), checked without recursion.
///
/// Decides whether a string nested deeper than `max_depth` is JSON (the depth error) or text.
pub fn is_json(s: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Want {
        Value,
        ValueOrClose,
        Key,
        KeyOrClose,
        Colon,
        CommaOrClose,
    }
    let b = s.as_bytes();
    let mut stack: Vec<u8> = Vec::new();
    let mut want = Want::Value;
    let mut i = 0;
    loop {
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        if i == b.len() {
            return want == Want::CommaOrClose && stack.is_empty();
        }
        if want == Want::CommaOrClose && stack.is_empty() {
            return false; // something after the document
        }
        let c = b[i];
        match (want, c) {
            (Want::Value | Want::ValueOrClose, b'[' | b'{') => {
                stack.push(c);
                want = if c == b'[' { Want::ValueOrClose } else { Want::KeyOrClose };
                i += 1;
                continue;
            }
            (Want::ValueOrClose | Want::KeyOrClose | Want::CommaOrClose, b']' | b'}') => {
                let open = if c == b']' { b'[' } else { b'{' };
                let fits = match want {
                    Want::ValueOrClose => open == b'[',
                    Want::KeyOrClose => open == b'{',
                    _ => true,
                };
                if !fits || stack.pop() != Some(open) {
                    return false;
                }
                want = Want::CommaOrClose;
                i += 1;
                continue;
            }
            (Want::CommaOrClose, b',') => {
                want = if stack.last() == Some(&b'{') { Want::Key } else { Want::Value };
                i += 1;
                continue;
            }
            (Want::Colon, b':') => {
                want = Want::Value;
                i += 1;
                continue;
            }
            _ => {}
        }
        let is_key = matches!(want, Want::Key | Want::KeyOrClose);
        if !is_key && (stack.is_empty() || !matches!(want, Want::Value | Want::ValueOrClose)) {
            return false; // a scalar where none may stand (the root must be an object or array)
        }
        let end = if c == b'"' {
            json_string_end(b, i)
        } else if is_key {
            None
        } else {
            json_scalar_end(b, i)
        };
        let Some(end) = end else {
            return false;
        };
        i = end;
        want = if is_key { Want::Colon } else { Want::CommaOrClose };
    }
}

/// The end of the JSON string that starts at `b[i] == b'"'`, or `None` if it is not one.
fn json_string_end(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'"' => return Some(i + 1),
            b'\\' => match b.get(i + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                b'u' if b.get(i + 2..i + 6)?.iter().all(u8::is_ascii_hexdigit) => i += 6,
                _ => return None,
            },
            0..=0x1f => return None,
            _ => i += 1,
        }
    }
    None
}

/// The end of the JSON number or literal that starts at `b[i]`, or `None` if none starts there.
fn json_scalar_end(b: &[u8], i: usize) -> Option<usize> {
    for word in [&b"true"[..], b"false", b"null"] {
        if b[i..].starts_with(word) {
            return Some(i + word.len());
        }
    }
    let digits = |mut j: usize| {
        let from = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        (j > from).then_some(j)
    };
    let mut j = i + usize::from(b[i] == b'-');
    j = match b.get(j)? {
        b'0' => j + 1,
        b'1'..=b'9' => digits(j)?,
        _ => return None,
    };
    if b.get(j) == Some(&b'.') {
        j = digits(j + 1)?;
    }
    if matches!(b.get(j), Some(b'e' | b'E')) {
        j += 1;
        j += usize::from(matches!(b.get(j), Some(b'+' | b'-')));
        j = digits(j)?;
    }
    Some(j)
}

/// The keys above a value: the one above the nearest, and the nearest.
type Keys<'k> = (Option<&'k str>, Option<&'k str>);

/// A step of a JSON Pointer: an object member's key or an array index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'t> {
    /// An object member.
    Key(&'t str),
    /// An array item.
    Index(usize),
}

/// The RFC 6901 pointer of a path.
///
/// # Example
/// ```
/// use _native::traverse::{pointer, Step};
/// assert_eq!(pointer(&[Step::Key("a/b"), Step::Index(0)]), "/a~1b/0");
/// ```
pub fn pointer(path: &[Step<'_>]) -> String {
    let room = path.iter().map(|step| 1 + if let Step::Key(k) = step { k.len() } else { 4 }).sum();
    let mut out = String::with_capacity(room);
    for step in path {
        match *step {
            Step::Key(k) => push_token(&mut out, k),
            Step::Index(mut i) => {
                out.push('/');
                let mut digits = [0u8; 20];
                let mut at = digits.len();
                loop {
                    at -= 1;
                    digits[at] = b'0' + (i % 10) as u8;
                    i /= 10;
                    if i == 0 {
                        break;
                    }
                }
                out.extend(digits[at..].iter().map(|&d| char::from(d)));
            }
        }
    }
    out
}

/// What the keys of payloads name: the labelled types (catalog order) whose key labels match a
/// key, or a key joined to the one above it.
///
/// Matching a name against every type's label vocabulary costs far more than looking it up, and
/// the payloads of one API repeat the same keys, so the engine keeps this from one scan to the
/// next: a map of names, which holds at most [`KeyNames::MAX_BYTES`] and starts over when full,
/// and in front of it a small table of the pairs of keys met lately, found by a quick hash of
/// their text and compared in full (so that made-up keys can only push others out). Names
/// longer than [`KeyNames::LONGEST`] bytes are matched every time and never kept.
#[derive(Debug)]
pub struct KeyNames {
    names: HashMap<Box<str>, Box<[usize]>>,
    bytes: usize,
    pairs: Vec<Option<Pair>>,
    /// Room for a key joined to the one above it.
    joined: String,
}

/// A pair of keys (the one above, if any, and the nearest) with what they name.
#[derive(Debug)]
struct Pair {
    parent: Option<Box<str>>,
    key: Box<str>,
    /// The types the key names.
    key_types: Box<[usize]>,
    /// The types the key joined to the one above names, once needed.
    joined_types: Option<Box<[usize]>>,
}

impl Default for KeyNames {
    fn default() -> Self {
        KeyNames {
            names: HashMap::new(),
            bytes: 0,
            pairs: (0..Self::PAIRS).map(|_| None).collect(),
            joined: String::new(),
        }
    }
}

impl KeyNames {
    /// The most memory the names take, counted as their UTF-8 length plus 64 bytes each.
    pub const MAX_BYTES: usize = 1 << 20;
    /// The longest name (or pair of keys, in bytes) kept.
    pub const LONGEST: usize = 256;
    /// Slots of the table of pairs.
    const PAIRS: usize = 256;

    /// The number of names held.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no name is held.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The types a value under `key` (below `parent`) is tried as, among those `keep` accepts:
    /// those the key names, else those the key joined to the one above names.
    ///
    /// # Example
    /// ```
    /// use _native::catalog::{compile_config, EngineConfig};
    /// use _native::traverse::KeyNames;
    ///
    /// let c = compile_config(&EngineConfig::default()).unwrap();
    /// let mut names = KeyNames::default();
    /// let ids = |types: Vec<usize>| -> Vec<String> { types.iter().map(|&t| c.types[t].id.clone()).collect() };
    /// assert_eq!(ids(names.types(&c, Some("passport"), "number", |_| true)), ["passport"]);
    /// assert_eq!(ids(names.types(&c, None, "number", |_| true)), Vec::<String>::new());
    /// ```
    pub fn types(
        &mut self,
        c: &Compiled,
        parent: Option<&str>,
        key: &str,
        keep: impl Fn(usize) -> bool,
    ) -> Vec<usize> {
        let pick = |types: &[usize]| -> Vec<usize> { types.iter().copied().filter(|&ti| keep(ti)).collect() };
        if parent.map_or(0, str::len) + key.len() > Self::LONGEST {
            let got = pick(&self.named(c, key));
            return match parent.filter(|_| got.is_empty()) {
                Some(parent) => pick(&self.named(c, &format!("{parent} {key}"))),
                None => got,
            };
        }
        let (first, second) = pair_slots(parent, key);
        let is_it =
            |p: &Option<Pair>| p.as_ref().is_some_and(|p| *p.key == *key && p.parent.as_deref() == parent);
        let slot = if is_it(&self.pairs[first]) {
            first
        } else if is_it(&self.pairs[second]) {
            second
        } else {
            let slot = if self.pairs[first].is_none() { first } else { second };
            let key_types = self.named(c, key);
            self.pairs[slot] =
                Some(Pair { parent: parent.map(Box::from), key: key.into(), key_types, joined_types: None });
            slot
        };
        let got = self.pairs[slot].as_ref().map(|p| pick(&p.key_types)).unwrap_or_default();
        let Some(parent) = parent.filter(|_| got.is_empty()) else {
            return got;
        };
        if self.pairs[slot].as_ref().is_some_and(|p| p.joined_types.is_none()) {
            let mut joined = std::mem::take(&mut self.joined);
            joined.clear();
            joined.push_str(parent);
            joined.push(' ');
            joined.push_str(key);
            let types = self.named(c, &joined);
            self.joined = joined;
            if let Some(p) = self.pairs[slot].as_mut() {
                p.joined_types = Some(types);
            }
        }
        self.pairs[slot].as_ref().and_then(|p| p.joined_types.as_deref()).map(pick).unwrap_or_default()
    }

    /// The types whose key labels `name` matches.
    fn named(&mut self, c: &Compiled, name: &str) -> Box<[usize]> {
        if let Some(all) = self.names.get(name) {
            return all.clone();
        }
        let all: Box<[usize]> = (0..c.types.len())
            .filter(|&ti| c.types[ti].labels.as_ref().is_some_and(|l| l.matches(name, true)))
            .collect();
        if name.len() > Self::LONGEST {
            return all;
        }
        let cost = name.len() + 64;
        if self.bytes + cost > Self::MAX_BYTES {
            self.names.clear();
            self.bytes = 0;
        }
        self.bytes += cost;
        self.names.insert(name.into(), all.clone());
        all
    }
}

/// The two slots a pair of keys may take in [`KeyNames`]' table (two, so that two pairs met in
/// turn do not push each other out).
fn pair_slots(parent: Option<&str>, key: &str) -> (usize, usize) {
    let h = quick_hash(
        quick_hash(parent.map_or(0, |p| p.len() as u64 + 1), parent.unwrap_or("").as_bytes()),
        key.as_bytes(),
    );
    ((h >> 32) as usize % KeyNames::PAIRS, (h >> 48) as usize % KeyNames::PAIRS)
}

/// Pass 2: scan (and optionally mask) every string of a checked value.
pub struct Walker<'c, 's> {
    c: &'c Compiled,
    selected: &'s [usize],
    /// Per type: selected, with key labels, and keys are read as labels (`key_labels`).
    labelled: Vec<bool>,
    /// Whether any type is `labelled`.
    any_labelled: bool,
    masker: Option<Masker<'c>>,
    /// Counts the nodes of JSON held in strings, after those of the payload.
    budget: Budget<'c>,
    /// What keys name (the engine keeps it from one scan to the next).
    names: KeyNames,
    /// The pointers of the strings holding JSON that the walk is inside, outermost first.
    outer: Vec<String>,
    /// The detections, in traversal order.
    pub found: Vec<Found>,
    /// The detections of short strings met twice in the walk, and fingerprints of those met
    /// once (see `detect_short`).
    short: Vec<Option<(Box<str>, Vec<Span>)>>,
    seen: Vec<u32>,
    /// The labelled types of pairs of keys of the payload met in this walk, by where the keys'
    /// texts lie (see `types_for`).
    key_types: Vec<Option<(KeyPlace, KeyTypes)>>,
    /// What the detections in its strings keep from one string to the next.
    held: detect::Held<'c>,
    /// The union's matches in the strings of a stretch of the payload, walked joined.
    joined: Joined,
}

/// A string of a [`Joined`] stretch.
struct JoinedText {
    /// Its index in [`Tape::texts`].
    t: usize,
    /// Where it lies in [`Joined::text`].
    at: std::ops::Range<usize>,
    /// Where its matches are in [`Joined::pairs`].
    matches: std::ops::Range<usize>,
}

/// The payload's strings up to this many bytes are walked joined, by stretches of about
/// [`JOINED_BYTES`]: one walk of the union over a stretch instead of one per string, and no
/// detection at all in the strings it found nothing in (most of them).
const JOINED_TEXT: usize = 4096;
const JOINED_BYTES: usize = 64 * 1024;

/// The strings of a stretch of the payload's nodes, joined by line feeds, and the union's
/// matches in each ([`detect::Matches::Given`]).
#[derive(Default)]
struct Joined {
    /// Joining is off: the union cannot be walked joined ([`Union::joinable`]), or gave up.
    ///
    /// [`Union::joinable`]: crate::catalog::Union::joinable
    off: bool,
    /// The node after the stretch.
    to: usize,
    /// The strings of the stretch, in the order of their nodes.
    texts: Vec<JoinedText>,
    /// The next of `texts` the walk will meet.
    next: usize,
    /// The strings, each followed by a line feed.
    text: String,
    /// Union id and end (in its string's own offsets) of each match.
    pairs: Vec<(u32, u32)>,
}

/// The labelled types a pair of keys names, if any (shared by every value under the pair).
type KeyTypes = Option<Rc<[usize]>>;

/// Where the texts of a pair of keys lie: address and length of the key above (if any) and of
/// the nearest key.
type KeyPlace = (Option<(usize, usize)>, (usize, usize));

impl Joined {
    /// Add to each string's run of `pairs` the (id, end) of the `hits` (position in `text`, id)
    /// that lie in it: the keywords of one byte, found by a byte search of the whole stretch
    /// rather than one per string.
    fn add_ends(&mut self, hits: &mut [(usize, u32)]) {
        if hits.is_empty() {
            return;
        }
        hits.sort_unstable();
        let mut pairs = Vec::with_capacity(self.pairs.len() + hits.len());
        let mut h = hits.iter().peekable();
        for x in &mut self.texts {
            let start = pairs.len();
            pairs.extend_from_slice(&self.pairs[x.matches.clone()]);
            // A hit before the string is in none (in no string: a line feed is no keyword).
            while h.next_if(|&&(at, _)| at < x.at.start).is_some() {}
            while let Some(&(at, id)) = h.next_if(|&&(at, _)| at < x.at.end) {
                pairs.push((id, (at + 1 - x.at.start) as u32));
            }
            x.matches = start..pairs.len();
        }
        self.pairs = pairs;
    }
}

/// Whether `s` starts like JSON (an object or an array, after blanks): it is parsed as JSON
/// before it is scanned as text.
fn json_like(s: &str) -> bool {
    matches!(s.as_bytes().get(unblanked(s).start), Some(b'{' | b'['))
}

/// The bytes of `s` without its leading and trailing JSON blanks (space, tab, CR, LF): a byte
/// walk (`str::trim_matches` with a set of chars decodes each char, and it was 5% of a scan).
fn unblanked(s: &str) -> std::ops::Range<usize> {
    let blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let bytes = s.as_bytes();
    let start = bytes.iter().position(|b| !blank(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !blank(b)).map_or(start, |i| i + 1);
    start..end
}
/// Strings up to this many bytes have their detections kept for the rest of the walk, in a
/// table of a slot per two strings of the payload (rounded down to a power of two), at most
/// `SHORT_SLOTS` (a power of two).
const SHORT: usize = 64;
const SHORT_SLOTS: usize = 1024;
/// Slots of the walk's table of pairs of keys: the bench's records have about 35 pairs, a
/// quarter of which took a slot another pair took too in a table of 64 (and then each looked its
/// types up by content at every record).
const KEY_SLOTS: usize = 256;

impl<'c, 's> Walker<'c, 's> {
    /// A walker that has already counted `nodes` nodes in pass 1 (`names`: what earlier scans
    /// learnt of key names, or a new [`KeyNames`]).
    pub fn new(
        c: &'c Compiled,
        selected: &'s [usize],
        masker: Option<Masker<'c>>,
        nodes: usize,
        names: KeyNames,
    ) -> Self {
        let mut labelled = vec![false; c.types.len()];
        if c.key_labels {
            for &ti in selected.iter().filter(|&&ti| c.types[ti].labels.is_some()) {
                labelled[ti] = true;
            }
        }
        let any_labelled = labelled.contains(&true);
        Walker {
            c,
            selected,
            labelled,
            any_labelled,
            masker,
            budget: Budget { c, nodes, bytes: 0 },
            names,
            short: Vec::new(),
            seen: Vec::new(),
            key_types: (0..KEY_SLOTS).map(|_| None).collect(),
            held: detect::Held::default(),
            joined: Joined::default(),
            outer: Vec::new(),
            found: Vec::new(),
        }
    }

    /// Scan every string of `tape` (masking when the walker has a masker); return what changed.
    ///
    /// # Example
    /// ```
    /// use _native::catalog::{compile_config, EngineConfig};
    /// use _native::mask::Masker;
    /// use _native::traverse::{apply, Budget, KeyNames, Tape, Walker};
    ///
    /// let c = compile_config(&EngineConfig::default()).unwrap();
    /// let mut v = serde_json::json!({"to": ["jane@example.com", "hello"]});
    /// let mut budget = Budget::new(&c);
    /// let tape = Tape::read(&v, 0, &mut budget, true).unwrap();
    /// let selected: Vec<usize> = (0..c.types.len()).collect();
    /// let mut walker = Walker::new(&c, &selected, Some(Masker::new(&c, None)), budget.nodes, KeyNames::default());
    /// let changes = walker.walk(&tape).unwrap();
    /// assert_eq!(changes, [(2, "[EMAIL]".to_owned())]);
    /// assert_eq!(walker.found[0].path, "/to/0");
    /// apply(&mut v, &changes);
    /// assert_eq!(v, serde_json::json!({"to": ["[EMAIL]", "hello"]}));
    /// ```
    pub fn walk<T: AsRef<str>>(&mut self, tape: &Tape<T>) -> Result<Vec<Change>> {
        let slots = 1 << (tape.texts.len() / 2).clamp(16, SHORT_SLOTS).ilog2();
        self.short.clear();
        self.short.resize_with(slots, || None);
        self.seen = vec![0; slots * 4];
        self.joined = Joined { off: !self.c.union.as_ref().is_some_and(|u| u.joinable), ..Joined::default() };
        self.walk_at(tape, 0, (None, None))
    }

    /// The detections, and what the walk learnt of keys (for the next one).
    pub fn into_parts(self) -> (Vec<Found>, KeyNames) {
        (self.found, self.names)
    }

    fn walk_at<T: AsRef<str>>(
        &mut self,
        tape: &Tape<T>,
        depth: usize,
        keys: Keys<'_>,
    ) -> Result<Vec<Change>> {
        let mut changes = Vec::new();
        if !tape.nodes.is_empty() {
            self.node(tape, 0, depth, keys, &mut Vec::new(), &mut changes)?;
        }
        Ok(changes)
    }

    /// Walk the node at `i` and its subtree; return the index after it.
    fn node<'t, T: AsRef<str>>(
        &mut self,
        tape: &'t Tape<T>,
        i: usize,
        depth: usize,
        keys: Keys<'_>,
        path: &mut Vec<Step<'t>>,
        changes: &mut Vec<Change>,
    ) -> Result<usize> {
        let mut next = i + 1;
        match tape.nodes[i].kind {
            Kind::Text(t) => {
                let joined = self.joined_matches(tape, i, t);
                if let Some(new) = self.string(tape.texts[t].as_ref(), depth, path, keys, joined)? {
                    changes.push((i, new));
                }
            }
            Kind::Array(items) => {
                for k in 0..items {
                    path.push(Step::Index(k));
                    next = self.node(tape, next, depth + 1, keys, path, changes)?;
                    path.pop();
                }
            }
            Kind::Object(members) => {
                for _ in 0..members {
                    let key = tape.nodes[next].key.map_or("", |k| tape.texts[k].as_ref());
                    path.push(Step::Key(key));
                    next = self.node(tape, next, depth + 1, (keys.1, Some(key)), path, changes)?;
                    path.pop();
                }
            }
            Kind::Int(n) => self.number(i, n.into(), path, keys, changes),
            Kind::UInt(n) => self.number(i, n.into(), path, keys, changes),
            Kind::Scalar => {}
        }
        Ok(next)
    }

    /// An integer under a labelled key is tried as its decimal text (`scan_numbers`).
    fn number(&mut self, i: usize, n: i128, path: &[Step<'_>], keys: Keys<'_>, changes: &mut Vec<Change>) {
        if !self.c.scan_numbers {
            return;
        }
        let Some(types) = self.types_for(keys) else {
            return;
        };
        let text = n.to_string();
        let keyed = self.keyed(&text, &types);
        if keyed.is_empty() {
            return;
        }
        let spans = detect::detect_with(self.c, &text, &[], keyed, &mut self.held);
        if spans.is_empty() {
            return;
        }
        if let Some(masked) = self.record(&text, &spans, path) {
            changes.push((i, masked));
        }
    }

    /// The labelled types a value under `keys` is tried as (the nearest key, else both joined);
    /// `None` when there are none.
    ///
    /// A payload's keys repeat (the same members in every record), and the keys of a payload
    /// read from Python are most often the same `str` objects. Its texts neither move nor change
    /// while it is walked, so where a pair's texts lie names the pair: the walk keeps the answer
    /// for the pairs it met by that, which costs a few compares instead of a lookup by content.
    /// Not for JSON held in a string, whose texts live only while it is walked.
    fn types_for(&mut self, keys: Keys<'_>) -> KeyTypes {
        let key = keys.1.filter(|_| self.any_labelled)?;
        let place = |s: &str| (s.as_ptr() as usize, s.len());
        let at: KeyPlace = (keys.0.map(place), place(key));
        let slot = self.outer.is_empty().then(|| {
            let mixed = (at.0.map_or(0, |p| p.0).rotate_left(29) ^ at.1 .0) as u64;
            (mixed.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40) as usize % KEY_SLOTS
        });
        if let Some(Some((kept, types))) = slot.map(|i| &self.key_types[i]) {
            if *kept == at {
                return types.clone();
            }
        }
        let labelled = &self.labelled;
        let types = self.names.types(self.c, keys.0, key, |ti| labelled[ti]);
        let types: KeyTypes = (!types.is_empty()).then(|| types.into());
        if let Some(i) = slot {
            self.key_types[i] = Some((at, types.clone()));
        }
        types
    }

    /// Candidates for a whole value as one of the labelled `types` its keys name: its text
    /// without surrounding blanks.
    fn keyed(&self, s: &str, types: &[usize]) -> Vec<Span> {
        let mut out = Vec::new();
        let std::ops::Range { start, end } = unblanked(s);
        for &ty in types {
            let t = &self.c.types[ty];
            if start >= end || !t.labels.as_ref().is_some_and(|l| l.key_values.is_match(&s[start..end])) {
                continue;
            }
            if let Some((kept, None, None)) = detect::accept(&t.checks, self.c, s, start, end) {
                if kept == end {
                    out.push(Span { start, end, ty, rule: t.patterns.len() });
                }
            }
        }
        out
    }

    /// Record the detections of a string at `path`; return its masked text when masking.
    fn record(&mut self, s: &str, spans: &[Span], path: &[Step<'_>]) -> Option<String> {
        let ptr = pointer(path);
        let (mut path, mut embedded): (String, Vec<String>) = match self.outer.split_first() {
            Some((first, rest)) => (first.clone(), rest.iter().cloned().chain([ptr]).collect()),
            None => (ptr, Vec::new()),
        };
        for (k, (span, (start, end))) in spans.iter().zip(char_offsets(s, spans)).enumerate() {
            // The last detection takes the pointers (most strings have one), the others copy them.
            let last = k + 1 == spans.len();
            self.found.push(Found {
                path: if last { std::mem::take(&mut path) } else { path.clone() },
                embedded: if last { std::mem::take(&mut embedded) } else { embedded.clone() },
                ty: span.ty,
                start,
                end,
                value: s[span.start..span.end].to_owned(),
                rule: span.rule,
            });
        }
        self.masker.as_mut().map(|m| m.apply(s, spans))
    }

    /// The range in `joined.pairs` of the union's matches in text `t` (node `i`) of the payload,
    /// walked joined with the strings around it (the stretch from node `i` is walked when the
    /// walk reaches it); `None` when it is not walked joined.
    fn joined_matches<T: AsRef<str>>(
        &mut self,
        tape: &Tape<T>,
        i: usize,
        t: usize,
    ) -> Option<std::ops::Range<usize>> {
        if self.joined.off || !self.outer.is_empty() {
            return None;
        }
        if i >= self.joined.to {
            self.join(tape, i);
        }
        let j = &mut self.joined;
        while j.texts.get(j.next).is_some_and(|x| x.t < t) {
            j.next += 1;
        }
        j.texts.get(j.next).filter(|x| x.t == t).map(|x| x.matches.clone())
    }

    /// Join the strings of the nodes from `from` (up to [`JOINED_BYTES`]) and walk the union
    /// over them; off when it gives up.
    fn join<T: AsRef<str>>(&mut self, tape: &Tape<T>, from: usize) {
        let Walker { c, joined: j, held, .. } = self;
        j.texts.clear();
        j.text.clear();
        j.pairs.clear();
        j.next = 0;
        let mut at = from;
        while at < tape.nodes.len() && j.text.len() < JOINED_BYTES {
            if let Kind::Text(t) = tape.nodes[at].kind {
                let s = tape.texts[t].as_ref();
                if s.len() <= JOINED_TEXT && !json_like(s) {
                    let start = j.text.len();
                    j.text.push_str(s);
                    j.texts.push(JoinedText { t, at: start..j.text.len(), matches: 0..0 });
                    j.text.push('\n');
                }
            }
            at += 1;
        }
        j.to = at;
        let (texts, pairs) = (&mut j.texts, &mut j.pairs);
        let mut last = 0;
        let walked = held.walk_union(c, &j.text, &mut |id, end| {
            // Each string's matches are one run of `pairs`: the ends come ascending.
            debug_assert!(end >= last, "union ends out of order");
            last = end;
            // The string the match ends in, if it ends in one (not just after a line feed).
            let k = texts.partition_point(|x| x.at.end < end);
            let Some(x) = texts.get_mut(k).filter(|x| x.at.start < end) else { return };
            if x.matches.is_empty() {
                x.matches = pairs.len()..pairs.len();
            }
            pairs.push((id as u32, (end - x.at.start) as u32));
            x.matches.end = pairs.len();
        });
        if !walked {
            j.off = true;
        } else if let Some(index) = c.keywords.as_ref().filter(|i| !i.bytes.is_empty()) {
            let shapes = c.union.as_ref().map_or(0, |u| u.shapes);
            let mut hits = Vec::new();
            detect::each_byte_keyword(index, j.text.as_bytes(), &mut |k, at| {
                hits.push((at, (shapes + index.byte_id(k)) as u32))
            });
            j.add_ends(&mut hits);
        }
    }

    /// Scan a string at `path` (`joined`: its union matches, when walked joined); return its new
    /// text when it changed.
    fn string(
        &mut self,
        s: &str,
        depth: usize,
        path: &[Step<'_>],
        keys: Keys<'_>,
        joined: Option<std::ops::Range<usize>>,
    ) -> Result<Option<String>> {
        // A string walked joined is not one (`join` leaves those out).
        if joined.is_none() && json_like(s) {
            let shape = shape(s);
            let too_deep = depth + shape.depth > self.c.max_depth + 1;
            if too_deep && is_json(s) {
                return Err(depth_error(self.c));
            }
            // Text that only starts like JSON (any number of brackets) is scanned as text.
            let inner = if too_deep { None } else { embedded::parse(s, shape, depth, &mut self.budget)? };
            if let Some(inner) = inner {
                let before = self.found.len();
                self.outer.push(pointer(path));
                let changes = self.walk_at(&inner.tape, depth, keys)?;
                self.outer.pop();
                if self.masker.is_none() || self.found.len() == before {
                    return Ok(None);
                }
                return Ok(Some(inner.write(&changes, s)));
            }
        }
        let keyed = self.types_for(keys).map_or_else(Vec::new, |types| self.keyed(s, &types));
        let spans = match joined {
            Some(range) => {
                let given = detect::Matches::Given(&self.joined.pairs[range]);
                detect::detect_matched(self.c, s, self.selected, keyed, &mut self.held, given)
            }
            None if keyed.is_empty() && s.len() <= SHORT => self.detect_short(s),
            None => detect::detect_with(self.c, s, self.selected, keyed, &mut self.held),
        };
        if spans.is_empty() {
            return Ok(None);
        }
        Ok(self.record(s, &spans, path))
    }

    /// The detections in a short string: payloads repeat short values (states, kinds, tags,
    /// cities), and what a text holds depends on nothing but the text, so a string met a second
    /// time is kept for the rest of the walk, one per slot of a table (the first time, only a
    /// fingerprint of it is: values met once, most of them, cost no copy and push nothing out).
    fn detect_short(&mut self, s: &str) -> Vec<Span> {
        if self.short.is_empty() {
            return detect::detect_with(self.c, s, self.selected, Vec::new(), &mut self.held);
        }
        let h = quick_hash(0, s.as_bytes());
        // Both tables have a power of two of slots: a mask, not a division (a division per
        // lookup was a visible part of a short string's cost).
        let slot = (h >> 40) as usize & (self.short.len() - 1);
        if let Some((text, spans)) = &self.short[slot] {
            if **text == *s {
                return spans.clone();
            }
        }
        let spans = detect::detect_with(self.c, s, self.selected, Vec::new(), &mut self.held);
        let (mark, print) = ((h >> 8) as usize & (self.seen.len() - 1), (h >> 32) as u32 | 1);
        if self.seen[mark] == print {
            self.short[slot] = Some((s.into(), spans.clone()));
        } else {
            self.seen[mark] = print;
        }
        spans
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{compile_config, EngineConfig};
    use serde_json::json;

    #[test]
    fn pointers_escape() {
        let mut p = String::new();
        push_token(&mut p, "a/b~c");
        push_token(&mut p, "0");
        assert_eq!(p, "/a~1b~0c/0");
    }

    #[test]
    fn depth_of_brackets_ignores_strings() {
        assert_eq!(shape(r#"{"a": "[[[", "b": [1, [2]]}"#), Shape { depth: 3, keys: 2 });
        assert_eq!(shape(r#"["\"]"]"#).depth, 1);
    }

    #[test]
    fn json_syntax_at_any_depth() {
        let deep = |n: usize, inner: &str| format!("{}{inner}{}", "[".repeat(n), "]".repeat(n));
        for ok in [
            deep(10_000, r#""a@example.com""#),
            deep(3, r#"{"a": [1, -0.5e+3, true, null, "\u00e9\n"], "b": {}}"#),
            " [ ] ".to_owned(),
        ] {
            assert!(is_json(&ok), "{ok}");
        }
        for bad in [
            format!("{}hello", "[".repeat(70)),
            deep(70, "hello"),
            deep(3, "01"),
            deep(3, "1."),
            "[1,]".to_owned(),
            "[1] [2]".to_owned(),
            r#"{"a" 1}"#.to_owned(),
            r#"{1: 2}"#.to_owned(),
            r#"["\u12"]"#.to_owned(),
            "[\"\t\"]".to_owned(),
            "[}".to_owned(),
            "\"x\"".to_owned(),
            "[truex]".to_owned(),
        ] {
            assert!(!is_json(&bad), "{bad}");
        }
        for s in ["[1, {\"a\": [\"b\", 2.5e-3]}]", "{\"k\": \"v\"}", "[[], {}]"] {
            assert_eq!(is_json(s), serde_json::from_str::<Value>(s).is_ok(), "{s}");
        }
    }

    #[test]
    fn strings_walked_joined_give_what_each_gives_alone() {
        // Values cut anywhere, so that matches and keywords run from one string into the next
        // (where the joined walk sees them end), strings holding line feeds, and more than one
        // stretch of strings.
        let c = compile_config(&EngineConfig::default()).unwrap();
        let all: Vec<usize> = (0..c.types.len()).collect();
        let text = "Mail jane.doe@example.com or call +1 (555) 123-4567; SSN 123-45-6789, card \
                    4111 1111 1111 1111, password: hunter2\nIP 192.168.10.20 on 2024-03-05T10:20:00Z, \
                    IBAN DE89 3704 0044 0532 0130 00, token ghp_abcdefghijklmnopqrstuvwxyz0123456789 é";
        let mut strings: Vec<String> = Vec::new();
        let (mut at, mut step) = (0, 1);
        while strings.iter().map(String::len).sum::<usize>() < 3 * JOINED_BYTES {
            let mut end = (at + step).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            strings.push(text[at..end].to_owned());
            (at, step) = if end == text.len() { (0, step % 23 + 1) } else { (end, step) };
            strings.push(text.to_owned());
        }
        let v = Value::Array(strings.iter().cloned().map(Value::String).collect());
        let mut budget = Budget::new(&c);
        let tape = Tape::read(&v, 0, &mut budget, true).unwrap();
        let mut walker = Walker::new(&c, &all, None, budget.nodes, KeyNames::default());
        walker.walk(&tape).unwrap();
        assert!(!walker.joined.off && walker.joined.to == tape.nodes.len(), "walked joined to the end");
        let mut alone = Vec::new();
        for (i, s) in strings.iter().enumerate() {
            let spans = detect::detect(&c, s, &all);
            alone.extend(spans.iter().zip(char_offsets(s, &spans)).map(|(sp, (start, end))| {
                (format!("/{i}"), sp.ty, start, end, s[sp.start..sp.end].to_owned())
            }));
        }
        let joined: Vec<_> =
            walker.found.iter().map(|f| (f.path.clone(), f.ty, f.start, f.end, f.value.clone())).collect();
        assert!(alone.len() > strings.len() / 2, "the strings hold values");
        assert_eq!(joined, alone);
    }

    #[test]
    fn limits_trip() {
        let cfg = EngineConfig { max_nodes: 3, ..Default::default() };
        let c = compile_config(&cfg).unwrap();
        let read = |v: &Value| Tape::read(v, 0, &mut Budget::new(&c), true).map(|t| t.nodes.len());
        assert_eq!(read(&json!([1, 2])).unwrap(), 3);
        assert!(matches!(read(&json!([1, 2, 3])), Err(Error::Limit(_))));
    }

    #[test]
    fn key_names_stay_bounded_and_right() {
        let c = compile_config(&EngineConfig::default()).unwrap();
        let mut names = KeyNames::default();
        let passport = c.index["passport"];
        for i in 0..30_000 {
            // Made-up keys push each other out, and out of the names; the pair met in turn stays right.
            assert!(names.types(&c, Some("x"), &format!("field {i}"), |_| true).is_empty());
            assert_eq!(names.types(&c, Some("passport"), "number", |_| true), [passport]);
        }
        assert!(names.bytes <= KeyNames::MAX_BYTES);
        let long = "k".repeat(KeyNames::LONGEST + 1);
        assert!(names.types(&c, Some("passport"), &long, |_| true).is_empty());
        assert!(!names.names.contains_key(long.as_str()));
        // The types a call asks for decide: without passport, "passport number" names nothing.
        assert!(names.types(&c, Some("passport"), "number", |t| t != passport).is_empty());
    }

    #[test]
    fn embedded_json_is_rewritten_only_when_masked() {
        let c = compile_config(&EngineConfig::default()).unwrap();
        let selected: Vec<usize> = (0..c.types.len()).collect();
        let mut v = json!({"a": "{\"n\": 1.50e3, \"e\": \"x a@example.com\"}", "b": "[1, 2]"});
        let mut w = Walker::new(&c, &selected, Some(Masker::new(&c, None)), 3, KeyNames::default());
        let changes = w.walk(&Tape::read(&v, 0, &mut Budget::new(&c), true).unwrap()).unwrap();
        assert_eq!(changes.len(), 1);
        apply(&mut v, &changes);
        assert_eq!(v, json!({"a": "{\"n\":1.50e+3,\"e\":\"x [EMAIL]\"}", "b": "[1, 2]"}));
        assert_eq!(
            (w.found[0].path.as_str(), w.found[0].embedded.as_slice()),
            ("/a", ["/e".to_owned()].as_slice())
        );
        assert_eq!((w.found[0].start, w.found[0].end), (2, 15));
    }
}
