//! JSON held in a string: read onto a [`Tape`] whose texts borrow from the string, and written
//! back compactly with the changes of a walk.
//!
//! The parser is serde_json's own, so what counts as JSON is exactly what parsing into a
//! `Value` accepts (grammar, escapes, surrogates, numbers, nesting limit), but a visitor writes
//! the tape as serde reads, instead of a `Value` (a `String` per key and text and a map per
//! object, then read onto a tape and dropped). The text written back is what
//! `serde_json::to_string` gives for that `Value` with the changes applied.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

use crate::error::Error;
use crate::traverse::{Budget, Change, Kind, Shape, Tape};

/// The key serde_json hands a visitor for a number it keeps as text (`arbitrary_precision`);
/// parsing into a `Value` takes an object whose first key is this for that number too.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// How a number, boolean or null of the document is written back.
#[derive(Debug, Clone, PartialEq)]
enum Raw {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Number(Number),
}

/// A JSON object or array read from a string.
#[derive(Debug)]
pub struct Embedded<'s> {
    /// The document; texts without escapes borrow from the string.
    pub tape: Tape<Cow<'s, str>>,
    /// The written form of each number, boolean and null, in document order.
    raws: Vec<Raw>,
}

/// What reading found besides the tape: whether an object repeats a key, the object members,
/// and the first limit the nodes went over when counted.
struct Builder<'s, 'c> {
    tape: Tape<Cow<'s, str>>,
    raws: Vec<Raw>,
    repeated: bool,
    members: usize,
    /// The key texts of the objects being read, innermost last.
    keys: Vec<usize>,
    budget: Budget<'c>,
    over: Option<Error>,
}

impl<'s> Builder<'s, '_> {
    /// Add a node at `depth`, counting it (after the first limit, nothing more is counted).
    fn node(&mut self, key: Option<usize>, kind: Kind, depth: usize) -> usize {
        if self.over.is_none() {
            self.over = self.budget.enter(depth).err();
        }
        self.tape.push(key, kind)
    }

    fn text(&mut self, key: Option<usize>, text: Cow<'s, str>, depth: usize) {
        let t = self.tape.text(text);
        self.node(key, Kind::Text(t), depth);
    }

    fn scalar(&mut self, key: Option<usize>, kind: Kind, raw: Raw, depth: usize) {
        self.node(key, kind, depth);
        self.raws.push(raw);
    }

    /// A number as parsing into a `Value` holds it, read onto the tape as [`Tape::read`] does.
    fn number(&mut self, key: Option<usize>, n: Number, depth: usize) {
        let kind = match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Kind::Int(i),
            (None, Some(u)) => Kind::UInt(u),
            _ => Kind::Scalar,
        };
        self.scalar(key, kind, Raw::Number(n), depth);
    }

    /// Whether the keys from `from` on in `keys` (one object's) repeat one.
    fn repeats(&self, from: usize) -> bool {
        let (keys, texts) = (&self.keys[from..], &self.tape.texts);
        if keys.len() <= 16 {
            return (1..keys.len()).any(|i| keys[..i].iter().any(|&j| texts[j] == texts[keys[i]]));
        }
        let mut sorted: Vec<&str> = keys.iter().map(|&k| &*texts[k]).collect();
        sorted.sort_unstable();
        sorted.windows(2).any(|w| w[0] == w[1])
    }
}

/// Reads one value onto the builder (a `DeserializeSeed` and its visitor).
struct Node<'b, 's, 'c> {
    b: &'b mut Builder<'s, 'c>,
    key: Option<usize>,
    depth: usize,
}

impl<'de, 's> DeserializeSeed<'de> for Node<'_, 's, '_>
where
    'de: 's,
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, 's> Visitor<'de> for Node<'_, 's, '_>
where
    'de: 's,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.b.scalar(self.key, Kind::Scalar, Raw::Bool(v), self.depth);
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.b.scalar(self.key, Kind::Int(v), Raw::Int(v), self.depth);
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        let kind = i64::try_from(v).map_or(Kind::UInt(v), Kind::Int);
        self.b.scalar(self.key, kind, Raw::UInt(v), self.depth);
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        match Number::from_f64(v) {
            Some(n) => self.b.number(self.key, n, self.depth),
            None => self.b.scalar(self.key, Kind::Scalar, Raw::Null, self.depth),
        }
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.b.scalar(self.key, Kind::Scalar, Raw::Null, self.depth);
        Ok(())
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<(), E> {
        self.b.text(self.key, Cow::Borrowed(v), self.depth);
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.b.text(self.key, Cow::Owned(v.to_owned()), self.depth);
        Ok(())
    }

    fn visit_string<E>(self, v: String) -> Result<(), E> {
        self.b.text(self.key, Cow::Owned(v), self.depth);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let at = self.b.node(self.key, Kind::Array(0), self.depth);
        let mut items = 0;
        while seq.next_element_seed(Node { b: &mut *self.b, key: None, depth: self.depth + 1 })?.is_some() {
            items += 1;
        }
        self.b.tape.nodes[at].kind = Kind::Array(items);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some(mut key) = map.next_key_seed(Text)? else {
            self.b.node(self.key, Kind::Object(0), self.depth);
            return Ok(());
        };
        if key == NUMBER_TOKEN {
            // A number serde keeps as text, or an object that parsing into a `Value` takes for
            // one (and whose key is then missing from the count: not JSON, see `parse`).
            let text = map.next_value_seed(Text)?;
            let n = text.parse::<Number>().map_err(de::Error::custom)?;
            self.b.number(self.key, n, self.depth);
            return Ok(());
        }
        let at = self.b.node(self.key, Kind::Object(0), self.depth);
        let from = self.b.keys.len();
        loop {
            let k = self.b.tape.text(key);
            self.b.keys.push(k);
            map.next_value_seed(Node { b: &mut *self.b, key: Some(k), depth: self.depth + 1 })?;
            match map.next_key_seed(Text)? {
                Some(next) => key = next,
                None => break,
            }
        }
        let members = self.b.keys.len() - from;
        self.b.tape.nodes[at].kind = Kind::Object(members);
        self.b.members += members;
        if members > 1 && !self.b.repeated {
            self.b.repeated = self.b.repeats(from);
        }
        self.b.keys.truncate(from);
        Ok(())
    }
}

/// Reads a string (a key, or the text of a number serde keeps as text), borrowed when it can be.
struct Text;

impl<'de> DeserializeSeed<'de> for Text {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Text {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

/// Read `s` (of shape `shape`, held by a string at `depth`) as strict JSON, counting its nodes
/// in `budget` as [`Tape::read`] would: `Ok(None)` when it is not one JSON object or array,
/// the limit error when its nodes go over one.
///
/// An object with a repeated key is not taken as JSON (parsing would keep only one of the
/// values, and the others would go unscanned): such a string is scanned as plain text. Nodes
/// are counted only once `s` is known to be JSON, so text that merely looks like it never
/// trips a limit.
///
/// # Example
/// ```
/// use _native::catalog::{compile_config, EngineConfig};
/// use _native::embedded::parse;
/// use _native::traverse::{shape, Budget, Kind};
///
/// let c = compile_config(&EngineConfig::default()).unwrap();
/// let s = r#"{"a": ["x\u00e9", -0, 1.5e3]}"#;
/// let e = parse(s, shape(s), 1, &mut Budget::new(&c)).unwrap().unwrap();
/// let kinds: Vec<Kind> = e.tape.nodes.iter().map(|n| n.kind).collect();
/// assert_eq!(kinds, [Kind::Object(1), Kind::Array(3), Kind::Text(1), Kind::Int(0), Kind::Scalar]);
/// assert_eq!(e.write(&[(2, "[X]".to_owned())], s), r#"{"a":["[X]",-0,1.5e+3]}"#);
/// let twice = r#"{"a": 1, "a": 2}"#;
/// assert!(parse(twice, shape(twice), 1, &mut Budget::new(&c)).unwrap().is_none());
/// ```
pub fn parse<'s>(
    s: &'s str,
    shape: Shape,
    depth: usize,
    budget: &mut Budget<'_>,
) -> Result<Option<Embedded<'s>>, Error> {
    let mut b = Builder {
        tape: Tape::with_capacity(16),
        raws: Vec::new(),
        repeated: false,
        members: 0,
        keys: Vec::new(),
        budget: budget.clone(),
        over: None,
    };
    let mut de = serde_json::Deserializer::from_str(s);
    let read = Node { b: &mut b, key: None, depth }.deserialize(&mut de).and_then(|()| de.end());
    let container = matches!(b.tape.nodes.first().map(|n| n.kind), Some(Kind::Array(_) | Kind::Object(_)));
    if read.is_err() || !container || b.repeated || b.members != shape.keys {
        return Ok(None);
    }
    if let Some(e) = b.over {
        return Err(e);
    }
    *budget = b.budget;
    Ok(Some(Embedded { tape: b.tape, raws: b.raws }))
}

impl Embedded<'_> {
    /// The document as compact JSON with `changes` (ascending, from a walk over its tape)
    /// written in: what `serde_json::to_string` gives for the `Value` parsed from `source`, with
    /// the changed nodes replaced by strings.
    pub fn write(&self, changes: &[Change], source: &str) -> String {
        let mut out = Vec::with_capacity(source.len() + 16);
        let mut w = Writer { e: self, changes, next: 0, raw: 0, out: &mut out };
        if !self.tape.nodes.is_empty() {
            w.node(0);
        }
        String::from_utf8(out).unwrap_or_else(|_| source.to_owned())
    }
}

struct Writer<'a, 's> {
    e: &'a Embedded<'s>,
    changes: &'a [Change],
    /// The first change not written yet.
    next: usize,
    /// The first raw scalar not written yet.
    raw: usize,
    out: &'a mut Vec<u8>,
}

impl Writer<'_, '_> {
    /// Write the node at `i` and its subtree; return the index after it.
    fn node(&mut self, i: usize) -> usize {
        let (e, changes) = (self.e, self.changes);
        let changed = match changes.get(self.next) {
            Some((at, text)) if *at == i => {
                self.next += 1;
                Some(text.as_str())
            }
            _ => None,
        };
        let tape = &e.tape;
        let mut next = i + 1;
        match tape.nodes[i].kind {
            Kind::Text(t) => self.string(changed.unwrap_or(&tape.texts[t])),
            Kind::Int(_) | Kind::UInt(_) | Kind::Scalar => {
                let raw = &e.raws[self.raw];
                self.raw += 1;
                match (changed, raw) {
                    (Some(text), _) => self.string(text),
                    (None, Raw::Null) => self.out.extend_from_slice(b"null"),
                    (None, Raw::Bool(v)) => self.out.extend_from_slice(if *v { b"true" } else { b"false" }),
                    (None, Raw::Int(v)) => self.out.extend_from_slice(v.to_string().as_bytes()),
                    (None, Raw::UInt(v)) => self.out.extend_from_slice(v.to_string().as_bytes()),
                    (None, Raw::Number(n)) => {
                        // Cannot fail: writing to a Vec.
                        let _ = serde_json::to_writer(&mut *self.out, n);
                    }
                }
            }
            Kind::Array(items) => {
                self.out.push(b'[');
                for k in 0..items {
                    if k > 0 {
                        self.out.push(b',');
                    }
                    next = self.node(next);
                }
                self.out.push(b']');
            }
            Kind::Object(members) => {
                self.out.push(b'{');
                for k in 0..members {
                    if k > 0 {
                        self.out.push(b',');
                    }
                    self.string(tape.nodes[next].key.map_or("", |t| &tape.texts[t]));
                    self.out.push(b':');
                    next = self.node(next);
                }
                self.out.push(b'}');
            }
        }
        next
    }

    /// A JSON string, escaped as serde_json escapes it.
    fn string(&mut self, s: &str) {
        // Cannot fail: writing to a Vec.
        let _ = serde_json::to_writer(&mut *self.out, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{compile_config, Compiled, EngineConfig};
    use crate::traverse::{apply, shape};

    /// Configurations with `max_nodes` of 1 to 12, and the default.
    fn configs() -> Vec<Compiled> {
        let mut all: Vec<Compiled> = (1..=12)
            .map(|max_nodes| compile_config(&EngineConfig { max_nodes, ..Default::default() }).unwrap())
            .collect();
        all.push(compile_config(&EngineConfig::default()).unwrap());
        all
    }
    use serde_json::Value;

    /// Object members as a map holds them (a repeated key once).
    fn entries(v: &Value) -> usize {
        match v {
            Value::Array(items) => items.iter().map(entries).sum(),
            Value::Object(map) => map.len() + map.values().map(entries).sum::<usize>(),
            _ => 0,
        }
    }

    /// A tape as (key, kind) with texts in place of their indices.
    fn flat<T: AsRef<str>>(tape: &Tape<T>) -> Vec<(Option<String>, String)> {
        let text = |t: usize| tape.texts[t].as_ref().to_owned();
        tape.nodes
            .iter()
            .map(|n| {
                let kind = match n.kind {
                    Kind::Text(t) => format!("text {}", text(t)),
                    other => format!("{other:?}"),
                };
                (n.key.map(text), kind)
            })
            .collect()
    }

    /// Every other string and integer node, replaced.
    fn changes<T>(tape: &Tape<T>) -> Vec<Change> {
        let leaves =
            tape.nodes.iter().enumerate().filter(|(_, n)| matches!(n.kind, Kind::Text(_) | Kind::Int(_)));
        leaves.step_by(2).map(|(i, _)| (i, format!("[{i}] \"\\\u{1}é"))).collect()
    }

    /// What reading `s` gives, through this module and through a `Value` (as scans did before):
    /// not JSON, a limit error, or the tape and the text written back with `changes`.
    fn both(s: &str, c: &Compiled) -> (String, String) {
        let mut budget = Budget::new(c);
        budget.enter(0).unwrap();
        let mut old_budget = budget.clone();
        let shape = shape(s);
        let new = match parse(s, shape, 1, &mut budget) {
            Err(e) => format!("{e:?}"),
            Ok(None) => "not JSON".to_owned(),
            Ok(Some(e)) => {
                let changes = changes(&e.tape);
                format!("{:?} {} {}", flat(&e.tape), e.write(&changes, s), budget.nodes)
            }
        };
        let value = serde_json::from_str::<Value>(s)
            .ok()
            .filter(|v| v.is_object() || v.is_array())
            .filter(|v| entries(v) == shape.keys);
        let old = match value {
            None => "not JSON".to_owned(),
            Some(mut v) => match Tape::read(&v, 1, &mut old_budget, false) {
                Err(e) => format!("{e:?}"),
                Ok(tape) => {
                    let changes = changes(&tape);
                    let tape = flat(&tape);
                    apply(&mut v, &changes);
                    format!("{tape:?} {} {}", serde_json::to_string(&v).unwrap(), old_budget.nodes)
                }
            },
        };
        (new, old)
    }

    #[test]
    fn reads_and_writes_as_a_value_does() {
        let configs = configs();
        let default = &configs[12];
        for s in [
            r#"{"a": "x", "b": {"c": [1, {"d": 2}]}}"#,
            r#"{"a": "x", "a": "y"}"#,
            r#"[{"k": 1}, {"k": 2}]"#,
            r#"{"a\"b": ":", "a\u0022b": 1}"#,
            r#"{"$serde_json::private::Number": "1.5"}"#,
            r#"[{"$serde_json::private::Number": "1.5"}]"#,
            r#"[{"$serde_json::private::Number": "x"}]"#,
            r#"[{"$serde_json::private::Number": 1}]"#,
            r#"[{"x": 1, "$serde_json::private::Number": "1"}]"#,
            r#"[-0, -0.0, 0, 1.50e3, 2E-3, 1e400, 18446744073709551615, 18446744073709551616, -9223372036854775809]"#,
            r#"["\ud83d\ude00", "\u00e9\/\b\f\n\r\t", "\u0001\u001f\u007f"]"#,
            r#"["\ud800"]"#,
            r#"["\udc00x"]"#,
            " [ true , false , null ] \n",
            "[1] x",
            "[1,]",
            "{}",
            "[]",
            "[\"a\tb\"]",
        ] {
            let (new, old) = both(s, default);
            assert_eq!(new, old, "{s}");
        }
        let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
        for n in [126, 127, 128, 129] {
            let (new, old) = both(&deep(n), default);
            assert_eq!(new, old, "depth {n}");
        }
        for c in &configs[..6] {
            let (new, old) = both(r#"{"a": [1, 2, {"b": "c"}], "d": "e"}"#, c);
            assert_eq!(new, old, "max_nodes {}", c.max_nodes);
            let (new, old) = both(r#"{"a": [1, 2, {"b": "c"}], "d": }"#, c);
            assert_eq!(new, old, "max_nodes {}, not JSON", c.max_nodes);
        }
    }

    #[test]
    fn generated_documents_read_and_write_as_a_value_does() {
        const PIECES: [&str; 44] = [
            "\"a\"",
            "\"a\"",
            "\"b\"",
            "\"\\u0061\"",
            "\"\\\"\"",
            "\"\\\\\"",
            "\"é\"",
            "\"\\ud83d\\ude00\"",
            "\"\\ud800\"",
            "\"\\/\"",
            "\"$serde_json::private::Number\"",
            "\"1\"",
            "\"x\u{1}\"",
            "0",
            "-0",
            "01",
            "1.",
            "1.5",
            "-2.50E+3",
            "1e5",
            "9223372036854775808",
            "18446744073709551616",
            "-9223372036854775809",
            "true",
            "false",
            "null",
            "nul",
            "[",
            "]",
            "{",
            "}",
            "[",
            "{",
            ",",
            ",",
            ":",
            ":",
            " ",
            "\n",
            "\t",
            "\r",
            "\u{a0}",
            "x",
            "\"",
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let configs = configs();
        let mut json = 0;
        for round in 0..60_000 {
            let mut s = String::from(if round % 2 == 0 { "{" } else { "[" });
            for _ in 0..next(24) {
                s.push_str(PIECES[next(PIECES.len())]);
            }
            // Close what is open, most of the time, so that many documents are JSON.
            if next(4) > 0 {
                let (mut stack, mut in_str, mut escaped) = (Vec::new(), false, false);
                for b in s.bytes() {
                    match (in_str, escaped, b) {
                        (true, true, _) => escaped = false,
                        (true, false, b'\\') => escaped = true,
                        (true, false, b'"') => in_str = false,
                        (true, false, _) => {}
                        (false, _, b'"') => in_str = true,
                        (false, _, b'[' | b'{') => stack.push(b),
                        (false, _, b']' | b'}') => {
                            stack.pop();
                        }
                        _ => {}
                    }
                }
                if in_str {
                    s.push('"');
                }
                while let Some(open) = stack.pop() {
                    s.push(if open == b'[' { ']' } else { '}' });
                }
            }
            let (new, old) = both(&s, &configs[next(configs.len())]);
            json += usize::from(!new.starts_with("not JSON"));
            assert_eq!(new, old, "{s}");
        }
        assert!(json > 1_000, "too few documents were JSON: {json}");
    }
}
