//! The engine: a compiled configuration with `detect`, `mask` and `scan`. Mirrors `mcp_pii/pyengine.py`.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Mutex;

use serde_json::Value;

use crate::catalog::{compile_config, Compiled, EngineConfig, STRATEGIES};
use crate::detect::{self, char_offsets};
use crate::error::{Error, Result};
use crate::mask::{Assigned, Masker};
use crate::traverse::{self, Budget, Change, Found, KeyNames, Tape, Walker};

/// A detection in a text: type index and code-point offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Index of the type in [`Engine::type_ids`].
    pub ty: usize,
    /// Code-point offset of the start.
    pub start: usize,
    /// Code-point offset of the end.
    pub end: usize,
    /// Index of the pattern within the type that found it (see [`Engine::rule_name`]).
    pub rule: usize,
    /// Byte offsets of the start and the end.
    pub bytes: (usize, usize),
}

/// A compiled configuration, ready to detect, mask and scan.
///
/// # Example
/// ```
/// use _native::engine::Engine;
/// let engine = Engine::from_json("{}").unwrap();
/// let (masked, hits) = engine.mask("mail jane@example.com", None, None).unwrap();
/// assert_eq!(masked, "mail [EMAIL]");
/// assert_eq!((hits[0].start, hits[0].end), (5, 21));
/// ```
#[derive(Debug)]
pub struct Engine {
    c: Compiled,
    /// Every type's index: the selection of a call that names none.
    all: Vec<usize>,
    /// What keys name, kept from one scan to the next (taken by a scan while it runs).
    names: Mutex<Option<KeyNames>>,
}

impl Clone for Engine {
    fn clone(&self) -> Self {
        Engine { c: self.c.clone(), all: self.all.clone(), names: Mutex::default() }
    }
}

impl Engine {
    /// Build an engine from a resolved configuration.
    pub fn new(cfg: &EngineConfig) -> Result<Self> {
        let c = compile_config(cfg)?;
        Ok(Engine { all: (0..c.types.len()).collect(), c, names: Mutex::default() })
    }

    /// Build an engine from the JSON form of the configuration (`Config.to_engine_json()`).
    ///
    /// Fields left out take their defaults, so `{}` is every built-in type with the `label`
    /// strategy.
    ///
    /// # Example
    /// ```
    /// use _native::engine::Engine;
    /// use _native::error::Error;
    ///
    /// let engine = Engine::from_json(r#"{"enabled": ["email", "ssn"]}"#).unwrap();
    /// assert_eq!(engine.type_ids(), ["email", "ssn"]);
    /// assert!(matches!(Engine::from_json("[1, 2]"), Err(Error::Config(_))));
    /// ```
    pub fn from_json(json: &str) -> Result<Self> {
        let cfg: EngineConfig = serde_json::from_str(json)
            .map_err(|e| Error::Config(format!("invalid engine configuration: {e}")))?;
        Self::new(&cfg)
    }

    /// The compiled configuration.
    pub fn compiled(&self) -> &Compiled {
        &self.c
    }

    /// The name of pattern `rule` of type `ty` (as a detection reports it).
    pub fn rule_name(&self, ty: usize, rule: usize) -> &str {
        self.c.types[ty].rule_name(rule)
    }

    /// The enabled type ids, in catalog order.
    ///
    /// # Example
    /// ```
    /// let engine = _native::engine::Engine::from_json("{}").unwrap();
    /// assert_eq!(engine.type_ids()[0], "email");
    /// ```
    pub fn type_ids(&self) -> Vec<&str> {
        self.c.types.iter().map(|t| t.id.as_str()).collect()
    }

    /// Fail if `text` is over `max_text_bytes`.
    ///
    /// # Example
    /// ```
    /// use _native::engine::Engine;
    /// use _native::error::Error;
    ///
    /// let engine = Engine::from_json(r#"{"max_text_bytes": 8}"#).unwrap();
    /// assert!(engine.check_text("12345678").is_ok());
    /// assert!(matches!(engine.check_text("123456789"), Err(Error::Limit(_))));
    /// ```
    pub fn check_text(&self, text: &str) -> Result<()> {
        if text.len() > self.c.max_text_bytes {
            return Err(Error::Limit(format!(
                "text is {} bytes, over the limit of {} bytes (max_text_bytes); split it or raise the limit",
                text.len(),
                self.c.max_text_bytes
            )));
        }
        Ok(())
    }

    /// Fail unless `strategy` is `None` or a known strategy.
    ///
    /// # Example
    /// ```
    /// let engine = _native::engine::Engine::from_json("{}").unwrap();
    /// assert!(engine.check_strategy(Some("hash")).is_ok());
    /// assert!(engine.check_strategy(Some("shred")).is_err());
    /// ```
    pub fn check_strategy(&self, strategy: Option<&str>) -> Result<()> {
        match strategy {
            Some(s) if !STRATEGIES.contains(&s) => {
                Err(Error::Input(format!("unknown strategy; use one of: {}", STRATEGIES.join(", "))))
            }
            _ => Ok(()),
        }
    }

    /// Return the indices of the requested types (all when `None`), sorted and without repeats.
    ///
    /// # Example
    /// ```
    /// let engine = _native::engine::Engine::from_json(r#"{"enabled": ["email", "ssn"]}"#).unwrap();
    /// assert_eq!(*engine.select(Some(&["ssn", "email", "ssn"])).unwrap(), [0, 1]);
    /// assert!(engine.select(Some(&["phone"])).is_err()); // not enabled
    /// ```
    pub fn select(&self, types: Option<&[&str]>) -> Result<Cow<'_, [usize]>> {
        let Some(types) = types else {
            return Ok(Cow::Borrowed(&self.all));
        };
        let mut picked = BTreeSet::new();
        for (i, name) in types.iter().enumerate() {
            match self.c.index.get(*name) {
                Some(&ty) => picked.insert(ty),
                None => {
                    return Err(Error::Input(format!(
                        "unknown PII type at types[{i}]; enabled types are: {}",
                        self.type_ids().join(", ")
                    )))
                }
            };
        }
        Ok(Cow::Owned(picked.into_iter().collect()))
    }

    fn hits(&self, text: &str, spans: &[detect::Span]) -> Vec<Hit> {
        spans
            .iter()
            .zip(char_offsets(text, spans))
            .map(|(s, (start, end))| Hit { ty: s.ty, start, end, rule: s.rule, bytes: (s.start, s.end) })
            .collect()
    }

    /// Return the detections in `text`, sorted by start; offsets count code points.
    ///
    /// # Example
    /// ```
    /// let engine = _native::engine::Engine::from_json("{}").unwrap();
    /// let hits = engine.detect("Ünïcode mail: jane@example.com, SSN 123-45-6789", None).unwrap();
    /// let ids = engine.type_ids();
    /// let found: Vec<_> = hits.iter().map(|h| (ids[h.ty], h.start, h.end)).collect();
    /// assert_eq!(found, [("email", 14, 30), ("ssn", 36, 47)]);
    /// // Only some types:
    /// assert_eq!(engine.detect("SSN 123-45-6789", Some(&["email"])).unwrap(), []);
    /// ```
    pub fn detect(&self, text: &str, types: Option<&[&str]>) -> Result<Vec<Hit>> {
        self.check_text(text)?;
        let selected = self.select(types)?;
        Ok(self.hits(text, &detect::detect(&self.c, text, &selected)))
    }

    /// Return the masked text and the detections (spans in the input text).
    ///
    /// `strategy` overrides the configured strategies for this call. The masked text borrows
    /// `text` when nothing was found.
    ///
    /// # Example
    /// ```
    /// use std::borrow::Cow;
    ///
    /// let engine = _native::engine::Engine::from_json("{}").unwrap();
    /// let (masked, _) = engine.mask("SSN 123-45-6789", Some("partial"), None).unwrap();
    /// assert_eq!(masked, "SSN ***-**-6789");
    /// let (masked, _) = engine.mask("a@b.io and a@b.io", Some("tokenize"), None).unwrap();
    /// assert_eq!(masked, "[EMAIL_1] and [EMAIL_1]");
    /// let (masked, hits) = engine.mask("nothing here", None, None).unwrap();
    /// assert!(hits.is_empty() && matches!(masked, Cow::Borrowed("nothing here")));
    /// ```
    pub fn mask<'t>(
        &self,
        text: &'t str,
        strategy: Option<&str>,
        types: Option<&[&str]>,
    ) -> Result<(Cow<'t, str>, Vec<Hit>)> {
        self.check_text(text)?;
        self.check_strategy(strategy)?;
        self.mask_by(text, types, Masker::new(&self.c, strategy))
    }

    /// Like [`Engine::mask`], replacing every detection by its token in `assigned` (reversible masking).
    pub fn mask_assigned<'t>(
        &self,
        text: &'t str,
        types: Option<&[&str]>,
        assigned: &Assigned,
    ) -> Result<(Cow<'t, str>, Vec<Hit>)> {
        self.check_text(text)?;
        let out = self.mask_by(text, types, Masker::with_tokens(&self.c, assigned))?;
        assigned.check(&self.c)?;
        Ok(out)
    }

    fn mask_by<'t>(
        &self,
        text: &'t str,
        types: Option<&[&str]>,
        mut masker: Masker<'_>,
    ) -> Result<(Cow<'t, str>, Vec<Hit>)> {
        let selected = self.select(types)?;
        let spans = detect::detect(&self.c, text, &selected);
        // Most texts hold nothing to mask: then the text itself, not a copy.
        let masked =
            if spans.is_empty() { Cow::Borrowed(text) } else { Cow::Owned(masker.apply(text, &spans)) };
        Ok((masked, self.hits(text, &spans)))
    }

    /// Scan every string of `data`; mask them unless `mask` is false.
    ///
    /// Strings that hold JSON are scanned inside; each detection names its string by JSON Pointer
    /// and, inside JSON held in a string, the pointer within that embedded document.
    ///
    /// # Example
    /// ```
    /// use serde_json::json;
    ///
    /// let engine = _native::engine::Engine::from_json("{}").unwrap();
    /// let data = json!({"user": {"mail": "jane@example.com"}, "raw": "{\"ssn\": \"123-45-6789\"}"});
    /// let (masked, found) = engine.scan(data, None, None, true).unwrap();
    /// assert_eq!(masked, json!({"user": {"mail": "[EMAIL]"}, "raw": "{\"ssn\":\"[SSN]\"}"}));
    /// let paths: Vec<_> = found.iter().map(|f| (f.path.as_str(), f.embedded.join(""))).collect();
    /// assert_eq!(paths, [("/user/mail", String::new()), ("/raw", "/ssn".to_owned())]);
    /// ```
    pub fn scan(
        &self,
        mut data: Value,
        strategy: Option<&str>,
        types: Option<&[&str]>,
        mask: bool,
    ) -> Result<(Value, Vec<Found>)> {
        self.check_strategy(strategy)?;
        let selected = self.select(types)?;
        let mut budget = Budget::new(&self.c);
        let tape = Tape::read(&data, 0, &mut budget, true)?;
        let (changes, found) = self.scan_tape(&tape, budget.nodes, strategy, &selected, mask)?;
        traverse::apply(&mut data, &changes);
        Ok((data, found))
    }

    /// Pass 2 of [`Engine::scan`], over a payload read into `tape` (its limits checked, `nodes`
    /// counted): what changed (nothing unless `mask`) and the detections.
    pub fn scan_tape<T: AsRef<str>>(
        &self,
        tape: &Tape<T>,
        nodes: usize,
        strategy: Option<&str>,
        selected: &[usize],
        mask: bool,
    ) -> Result<(Vec<Change>, Vec<Found>)> {
        self.walk(tape, nodes, selected, mask.then(|| Masker::new(&self.c, strategy)))
    }

    /// Like [`Engine::scan_tape`] with masking, replacing every detection by its token in `assigned`.
    pub fn scan_tape_assigned<T: AsRef<str>>(
        &self,
        tape: &Tape<T>,
        nodes: usize,
        selected: &[usize],
        assigned: &Assigned,
    ) -> Result<(Vec<Change>, Vec<Found>)> {
        let out = self.walk(tape, nodes, selected, Some(Masker::with_tokens(&self.c, assigned)))?;
        assigned.check(&self.c)?;
        Ok(out)
    }

    fn walk<T: AsRef<str>>(
        &self,
        tape: &Tape<T>,
        nodes: usize,
        selected: &[usize],
        masker: Option<Masker<'_>>,
    ) -> Result<(Vec<Change>, Vec<Found>)> {
        // Concurrent scans each take what is there (the first one all of it); the one that knows
        // the most names puts them back.
        let names = self.names.lock().ok().and_then(|mut n| n.take()).unwrap_or_default();
        let mut walker = Walker::new(&self.c, selected, masker, nodes, names);
        let changes = walker.walk(tape);
        let (found, names) = walker.into_parts();
        if let Ok(mut kept) = self.names.lock() {
            if kept.as_ref().is_none_or(|k| names.len() >= k.len()) {
                *kept = Some(names);
            }
        }
        Ok((changes?, found))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        Engine::from_json("{}").unwrap()
    }

    #[test]
    fn offsets_are_code_points() {
        let e = engine();
        let text = "Zoë 😀 naïve: jane@example.com";
        let hits = e.detect(text, None).unwrap();
        let chars: Vec<char> = text.chars().collect();
        let value: String = chars[hits[0].start..hits[0].end].iter().collect();
        assert_eq!(value, "jane@example.com");
    }

    #[test]
    fn ssn_is_not_a_phone() {
        let e = engine();
        let hits = e.detect("SSN 123-45-6789", None).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(e.type_ids()[hits[0].ty], "ssn");
    }

    #[test]
    fn strategies() {
        let e = engine();
        let text = "jane@example.com and jane@example.com, 123-45-6789";
        let out = |s| e.mask(text, Some(s), None).unwrap().0;
        assert_eq!(out("label"), "[EMAIL] and [EMAIL], [SSN]");
        assert_eq!(out("redact"), "[REDACTED] and [REDACTED], [REDACTED]");
        assert_eq!(out("partial"), "j***@example.com and j***@example.com, ***-**-6789");
        assert_eq!(out("tokenize"), "[EMAIL_1] and [EMAIL_1], [SSN_1]");
        assert_eq!(out("remove"), " and , ");
        assert!(out("hash").starts_with("[HASH:"));
    }

    #[test]
    fn assigned_tokens_replace_every_detection() {
        let e = engine();
        let text = "jane@example.com, 123-45-6789 and jane@example.com";
        let mut tokens = Assigned::default();
        tokens.insert(e.compiled().index["email"], "jane@example.com".into(), "[EMAIL_3#aaaaaa]".into());
        tokens.insert(e.compiled().index["ssn"], "123-45-6789".into(), "[SSN_1#aaaaaa]".into());
        let (masked, hits) = e.mask_assigned(text, None, &tokens).unwrap();
        assert_eq!(masked, "[EMAIL_3#aaaaaa], [SSN_1#aaaaaa] and [EMAIL_3#aaaaaa]");
        assert_eq!(hits.len(), 3);
        let mut out = serde_json::json!({"a": ["x 123-45-6789"], "b": "{\"c\": \"jane@example.com\"}"});
        let all: Vec<usize> = (0..e.type_ids().len()).collect();
        let tape = Tape::read(&out, 0, &mut Budget::new(e.compiled()), true).unwrap();
        let (changes, found) = e.scan_tape_assigned(&tape, 5, &all, &tokens).unwrap();
        assert_eq!(found.len(), 2);
        traverse::apply(&mut out, &changes);
        assert_eq!(out, serde_json::json!({"a": ["x [SSN_1#aaaaaa]"], "b": "{\"c\":\"[EMAIL_3#aaaaaa]\"}"}));
    }

    #[test]
    fn a_detection_without_a_token_is_an_error() {
        let e = engine();
        let tokens = Assigned::default();
        let err = e.mask_assigned("mail jane@example.com", None, &tokens).unwrap_err();
        assert_eq!(err, Error::Input("no token was assigned to a detected value of type 'email'".into()));
    }

    #[test]
    fn errors_are_reported() {
        let e = engine();
        assert!(matches!(e.detect("x", Some(&["nope"])), Err(Error::Input(_))));
        assert!(matches!(e.mask("x", Some("nope"), None), Err(Error::Input(_))));
        let small = Engine::from_json(r#"{"max_text_bytes": 3}"#).unwrap();
        assert!(matches!(small.detect("abcd", None), Err(Error::Limit(_))));
    }
}
