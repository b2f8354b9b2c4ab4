//! Scanning nested JSON values. Mirrors `mcp_pii/traverse.py`.
//!
//! Two passes, in the same order in both engines so that the same limit trips first:
//! [`check`] (or the binding's conversion, through [`Budget`]) validates the value as given, and
//! [`Walker`] scans every string, parsing strings that hold JSON objects or arrays and writing
//! them back compactly when something inside was masked. An object member's key is the label of
//! its value (the nearest key, else that key joined to the one above it): a whole string, or an
//! integer's decimal text, under a labelled key is tried against the type's value shapes.

use serde_json::Value;

use std::collections::HashMap;

use crate::catalog::Compiled;
use crate::detect::{self, char_offsets, Span};
use crate::error::{Error, Result};
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
    if token.contains(['~', '/']) {
        ptr.push_str(&token.replace('~', "~0").replace('/', "~1"));
    } else {
        ptr.push_str(token);
    }
}

/// Counts nodes and string bytes against the limits during the first pass.
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

    /// Count a string of `len` UTF-8 bytes; fail past `max_text_bytes`.
    pub fn string(&mut self, len: usize) -> Result<()> {
        self.bytes = self.bytes.saturating_add(len);
        if self.bytes > self.c.max_text_bytes {
            return Err(text_total_error(self.c));
        }
        Ok(())
    }
}

/// Pass 1: check the limits of `data`; return the number of nodes.
pub fn check(c: &Compiled, data: &Value) -> Result<usize> {
    fn visit(v: &Value, depth: usize, b: &mut Budget<'_>) -> Result<()> {
        b.enter(depth)?;
        match v {
            Value::String(s) => b.string(s.len()),
            Value::Array(items) => items.iter().try_for_each(|x| visit(x, depth + 1, b)),
            Value::Object(map) => map.values().try_for_each(|x| visit(x, depth + 1, b)),
            _ => Ok(()),
        }
    }
    let mut b = Budget::new(c);
    visit(data, 0, &mut b)?;
    Ok(b.nodes)
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

/// Return the object or array that `s` (of shape `shape`) holds as strict JSON, or `None`.
///
/// An object with a repeated key is not taken as JSON (parsing would keep only one of the
/// values, and the others would go unscanned): such a string is scanned as plain text.
pub fn parse_embedded(s: &str, shape: Shape) -> Option<Value> {
    let v = serde_json::from_str::<Value>(s).ok().filter(|v| v.is_object() || v.is_array())?;
    (entries(&v) == shape.keys).then_some(v)
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

/// The number of object entries in a parsed value.
fn entries(v: &Value) -> usize {
    match v {
        Value::Array(items) => items.iter().map(entries).sum(),
        Value::Object(map) => map.len() + map.values().map(entries).sum::<usize>(),
        _ => 0,
    }
}

/// The keys above a value: the one above the nearest, and the nearest.
type Keys<'k> = (Option<&'k str>, Option<&'k str>);

/// Pass 2: scan (and optionally mask) every string of a checked value.
pub struct Walker<'c, 's> {
    c: &'c Compiled,
    selected: &'s [usize],
    labelled: Vec<usize>,
    masker: Option<Masker<'c>>,
    nodes: usize,
    key_types: HashMap<(Option<String>, String), Vec<usize>>,
    /// The pointers of the strings holding JSON that the walk is inside, outermost first.
    outer: Vec<String>,
    /// The detections, in traversal order.
    pub found: Vec<Found>,
}

const BLANK: [char; 4] = [' ', '\t', '\n', '\r'];

/// The decimal text of an integer that fits in 64 bits (signed or unsigned), as JSON numbers go.
fn integer_text(n: &serde_json::Number) -> Option<String> {
    n.as_i64().map(|i| i.to_string()).or_else(|| n.as_u64().map(|u| u.to_string()))
}

impl<'c, 's> Walker<'c, 's> {
    /// A walker that has already counted `nodes` nodes in pass 1.
    pub fn new(c: &'c Compiled, selected: &'s [usize], masker: Option<Masker<'c>>, nodes: usize) -> Self {
        let labelled = if c.key_labels {
            selected.iter().copied().filter(|&ti| c.types[ti].labels.is_some()).collect()
        } else {
            Vec::new()
        };
        Walker {
            c,
            selected,
            labelled,
            masker,
            nodes,
            key_types: HashMap::new(),
            outer: Vec::new(),
            found: Vec::new(),
        }
    }

    /// Scan `v` in place, masking its strings when the walker has a masker.
    pub fn walk(&mut self, v: &mut Value, depth: usize, ptr: &mut String) -> Result<()> {
        self.walk_keyed(v, depth, ptr, (None, None))
    }

    fn walk_keyed(&mut self, v: &mut Value, depth: usize, ptr: &mut String, keys: Keys<'_>) -> Result<()> {
        match v {
            Value::String(s) => self.string(s, depth, ptr, keys),
            Value::Array(items) => {
                for (i, x) in items.iter_mut().enumerate() {
                    let len = ptr.len();
                    push_token(ptr, &i.to_string());
                    self.walk_keyed(x, depth + 1, ptr, keys)?;
                    ptr.truncate(len);
                }
                Ok(())
            }
            Value::Object(map) => {
                for (k, x) in map.iter_mut() {
                    let len = ptr.len();
                    push_token(ptr, k);
                    self.walk_keyed(x, depth + 1, ptr, (keys.1, Some(k.as_str())))?;
                    ptr.truncate(len);
                }
                Ok(())
            }
            Value::Number(n) if keys.1.is_some() && self.c.scan_numbers => {
                let Some(text) = integer_text(n) else {
                    return Ok(());
                };
                let keyed = self.keyed(&text, keys);
                if keyed.is_empty() {
                    return Ok(());
                }
                let spans = detect::detect_with(self.c, &text, &[], keyed);
                if spans.is_empty() {
                    return Ok(());
                }
                let masked = self.record(&text, &spans, ptr);
                if let Some(masked) = masked {
                    *v = Value::String(masked);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn count(&mut self, v: &Value, depth: usize) -> Result<()> {
        if depth > self.c.max_depth {
            return Err(depth_error(self.c));
        }
        self.nodes += 1;
        if self.nodes > self.c.max_nodes {
            return Err(nodes_error(self.c));
        }
        match v {
            Value::Array(items) => items.iter().try_for_each(|x| self.count(x, depth + 1)),
            Value::Object(map) => map.values().try_for_each(|x| self.count(x, depth + 1)),
            _ => Ok(()),
        }
    }

    /// The labelled types a value under `keys` is tried as (the nearest key, else both joined).
    fn types_for(&mut self, keys: Keys<'_>) -> Vec<usize> {
        let Some(key) = keys.1 else {
            return Vec::new();
        };
        if self.labelled.is_empty() {
            return Vec::new();
        }
        let cache_key = (keys.0.map(str::to_owned), key.to_owned());
        if let Some(got) = self.key_types.get(&cache_key) {
            return got.clone();
        }
        let types = &self.c.types;
        let matching = |name: &str| -> Vec<usize> {
            self.labelled
                .iter()
                .copied()
                .filter(|&ti| types[ti].labels.as_ref().is_some_and(|l| l.matches(name, true)))
                .collect()
        };
        let mut got = matching(key);
        if got.is_empty() {
            if let Some(parent) = keys.0 {
                got = matching(&format!("{parent} {key}"));
            }
        }
        self.key_types.insert(cache_key, got.clone());
        got
    }

    /// Candidates for a whole value under a labelled key: its text without surrounding blanks.
    fn keyed(&mut self, s: &str, keys: Keys<'_>) -> Vec<Span> {
        let mut out = Vec::new();
        for ty in self.types_for(keys) {
            let trimmed = s.trim_start_matches(BLANK);
            let start = s.len() - trimmed.len();
            let end = s.trim_end_matches(BLANK).len();
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

    /// Record the detections of a string; return its masked text when masking.
    fn record(&mut self, s: &str, spans: &[Span], ptr: &str) -> Option<String> {
        let (path, embedded) = match self.outer.split_first() {
            Some((first, rest)) => (first.as_str(), rest.iter().map(String::as_str).chain([ptr]).collect()),
            None => (ptr, Vec::new()),
        };
        for (span, (start, end)) in spans.iter().zip(char_offsets(s, spans)) {
            self.found.push(Found {
                path: path.to_owned(),
                embedded: embedded.iter().map(|p| (*p).to_owned()).collect(),
                ty: span.ty,
                start,
                end,
                value: s[span.start..span.end].to_owned(),
                rule: span.rule,
            });
        }
        self.masker.as_mut().map(|m| m.apply(s, spans))
    }

    fn string(&mut self, s: &mut String, depth: usize, ptr: &mut String, keys: Keys<'_>) -> Result<()> {
        if s.trim_start_matches(BLANK).starts_with(['{', '[']) {
            let shape = shape(s);
            let too_deep = depth + shape.depth > self.c.max_depth + 1;
            if too_deep && is_json(s) {
                return Err(depth_error(self.c));
            }
            // Text that only starts like JSON (any number of brackets) is scanned as text.
            if let Some(mut inner) = parse_embedded(s, shape).filter(|_| !too_deep) {
                self.count(&inner, depth)?;
                let before = self.found.len();
                self.outer.push(std::mem::take(ptr));
                self.walk_keyed(&mut inner, depth, ptr, keys)?;
                *ptr = self.outer.pop().unwrap_or_default();
                if self.masker.is_some() && self.found.len() > before {
                    *s = serde_json::to_string(&inner).unwrap_or_else(|_| s.clone());
                }
                return Ok(());
            }
        }
        let keyed = self.keyed(s, keys);
        let spans = detect::detect_with(self.c, s, self.selected, keyed);
        if spans.is_empty() {
            return Ok(());
        }
        if let Some(masked) = self.record(s, &spans, ptr) {
            *s = masked;
        }
        Ok(())
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
    fn duplicate_keys_are_not_json() {
        let parse = |s: &str| parse_embedded(s, shape(s));
        assert!(parse(r#"{"a": "x", "b": {"c": [1, {"d": 2}]}}"#).is_some());
        assert!(parse(r#"{"a": "x", "a": "y"}"#).is_none());
        assert!(parse(r#"[{"k": 1}, {"k": 2}]"#).is_some());
        assert!(parse(r#"{"a\"b": ":", "a\u0022b": 1}"#).is_none());
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
    fn limits_trip() {
        let cfg = EngineConfig { max_nodes: 3, ..Default::default() };
        let c = compile_config(&cfg).unwrap();
        assert!(check(&c, &json!([1, 2])).is_ok());
        assert!(matches!(check(&c, &json!([1, 2, 3])), Err(Error::Limit(_))));
    }

    #[test]
    fn embedded_json_is_rewritten_only_when_masked() {
        let c = compile_config(&EngineConfig::default()).unwrap();
        let selected: Vec<usize> = (0..c.types.len()).collect();
        let mut v = json!({"a": "{\"n\": 1.50e3, \"e\": \"x a@example.com\"}", "b": "[1, 2]"});
        let mut w = Walker::new(&c, &selected, Some(Masker::new(&c, None)), 3);
        w.walk(&mut v, 0, &mut String::new()).unwrap();
        assert_eq!(v, json!({"a": "{\"n\":1.50e+3,\"e\":\"x [EMAIL]\"}", "b": "[1, 2]"}));
        assert_eq!(
            (w.found[0].path.as_str(), w.found[0].embedded.as_slice()),
            ("/a", ["/e".to_owned()].as_slice())
        );
        assert_eq!((w.found[0].start, w.found[0].end), (2, 15));
    }
}
