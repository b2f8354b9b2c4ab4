//! Scanning nested JSON values. Mirrors `mcp_pii/traverse.py`.
//!
//! Two passes, in the same order in both engines so that the same limit trips first:
//! [`check`] (or the binding's conversion, through [`Budget`]) validates the value as given, and
//! [`Walker`] scans every string, parsing strings that hold JSON objects or arrays and writing
//! them back compactly when something inside was masked.

use serde_json::Value;

use crate::catalog::Compiled;
use crate::detect::{self, char_offsets};
use crate::error::{Error, Result};
use crate::mask::Masker;

/// A detection in a payload: pointer, type index, code-point start and end, value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// RFC 6901 pointer of the string.
    pub path: String,
    /// Index of the type.
    pub ty: usize,
    /// Code-point offset of the start within the string.
    pub start: usize,
    /// Code-point offset of the end within the string.
    pub end: usize,
    /// The detected value.
    pub value: String,
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

/// The number of object entries in a parsed value.
fn entries(v: &Value) -> usize {
    match v {
        Value::Array(items) => items.iter().map(entries).sum(),
        Value::Object(map) => map.len() + map.values().map(entries).sum::<usize>(),
        _ => 0,
    }
}

/// Pass 2: scan (and optionally mask) every string of a checked value.
pub struct Walker<'c, 's> {
    c: &'c Compiled,
    selected: &'s [usize],
    masker: Option<Masker<'c>>,
    nodes: usize,
    /// The detections, in traversal order.
    pub found: Vec<Found>,
}

impl<'c, 's> Walker<'c, 's> {
    /// A walker that has already counted `nodes` nodes in pass 1.
    pub fn new(c: &'c Compiled, selected: &'s [usize], masker: Option<Masker<'c>>, nodes: usize) -> Self {
        Walker { c, selected, masker, nodes, found: Vec::new() }
    }

    /// Scan `v` in place, masking its strings when the walker has a masker.
    pub fn walk(&mut self, v: &mut Value, depth: usize, ptr: &mut String) -> Result<()> {
        match v {
            Value::String(s) => self.string(s, depth, ptr),
            Value::Array(items) => {
                for (i, x) in items.iter_mut().enumerate() {
                    let len = ptr.len();
                    push_token(ptr, &i.to_string());
                    self.walk(x, depth + 1, ptr)?;
                    ptr.truncate(len);
                }
                Ok(())
            }
            Value::Object(map) => {
                for (k, x) in map.iter_mut() {
                    let len = ptr.len();
                    push_token(ptr, k);
                    self.walk(x, depth + 1, ptr)?;
                    ptr.truncate(len);
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

    fn string(&mut self, s: &mut String, depth: usize, ptr: &mut String) -> Result<()> {
        if s.trim_start_matches([' ', '\t', '\n', '\r']).starts_with(['{', '[']) {
            let shape = shape(s);
            if depth + shape.depth > self.c.max_depth + 1 {
                return Err(depth_error(self.c));
            }
            if let Some(mut inner) = parse_embedded(s, shape) {
                self.count(&inner, depth)?;
                let before = self.found.len();
                self.walk(&mut inner, depth, ptr)?;
                if self.masker.is_some() && self.found.len() > before {
                    *s = serde_json::to_string(&inner).unwrap_or_else(|_| s.clone());
                }
                return Ok(());
            }
        }
        let spans = detect::detect(self.c, s, self.selected);
        if spans.is_empty() {
            return Ok(());
        }
        for (span, (start, end)) in spans.iter().zip(char_offsets(s, &spans)) {
            self.found.push(Found {
                path: ptr.clone(),
                ty: span.ty,
                start,
                end,
                value: s[span.start..span.end].to_owned(),
            });
        }
        if let Some(m) = self.masker.as_mut() {
            *s = m.apply(s, &spans);
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
        assert_eq!(w.found[0].path, "/a/e");
        assert_eq!((w.found[0].start, w.found[0].end), (2, 15));
    }
}
