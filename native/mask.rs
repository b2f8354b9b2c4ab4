//! Masking strategies. Mirrors `mcp_pii/mask.py`.
//!
//! `redact` writes the configured redaction text, `label` the type id upper-cased in brackets,
//! `partial` keeps the shape and a short tail, `hash` a keyed HMAC-SHA256 (SHA-256 without a
//! key) cut to 12 hex digits, `tokenize` one numbered token per distinct value and type within a
//! call, and `remove` nothing. With [`Assigned`] tokens (reversible masking), every detection is
//! replaced by the token assigned to its type and value ahead of the call, whatever the strategy.

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt::Write;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::catalog::Compiled;
use crate::detect::Span;
use crate::error::{Error, Result};

fn significant(c: char, rule: &str) -> bool {
    if rule == "digits" {
        c.is_ascii_digit()
    } else {
        !c.is_ascii() || c.is_ascii_alphanumeric()
    }
}

/// Mask `value` by a partial rule, keeping at most the last 4 (and at most half) characters.
///
/// # Example
/// ```
/// use _native::mask::partial;
/// assert_eq!(partial("123-45-6789", "digits"), "***-**-6789");
/// assert_eq!(partial("john@example.com", "email"), "j***@example.com");
/// ```
pub fn partial(value: &str, rule: &str) -> String {
    let mut rule = rule;
    if rule == "email" {
        if let Some((local, domain)) = value.rsplit_once('@') {
            if let Some(first) = local.chars().next() {
                return format!("{first}***@{domain}");
            }
        }
        rule = "tail";
    }
    let total = value.chars().filter(|&c| significant(c, rule)).count();
    let keep = 4.min(total / 2);
    let mut seen = 0;
    value
        .chars()
        .map(|c| {
            if significant(c, rule) {
                seen += 1;
                if seen > total - keep {
                    c
                } else {
                    '*'
                }
            } else {
                c
            }
        })
        .collect()
}

fn hash_hex(key: Option<&[u8]>, value: &str) -> String {
    let digest: Vec<u8> = match key {
        Some(key) => {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
            mac.update(value.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        None => Sha256::digest(value.as_bytes()).to_vec(),
    };
    let mut out = String::with_capacity(12);
    for b in &digest[..6] {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Tokens assigned to detected values before masking: per type, value to token text.
///
/// The caller (the reversible-masking layer, which talks to the vault) assigns a token to every
/// value a first pass detected; the masker then only looks them up. A detection without a token
/// is noted, and [`Assigned::check`] turns it into an error after the call.
///
/// # Example
/// ```
/// use _native::engine::Engine;
/// use _native::mask::Assigned;
/// let engine = Engine::from_json("{}").unwrap();
/// let mut tokens = Assigned::default();
/// tokens.insert(0, "jane@example.com".into(), "[EMAIL_7#abcdef]".into());
/// let (masked, _) = engine.mask_assigned("mail jane@example.com", None, &tokens).unwrap();
/// assert_eq!(masked, "mail [EMAIL_7#abcdef]");
/// ```
#[derive(Debug, Default)]
pub struct Assigned {
    by_type: HashMap<usize, HashMap<String, String>>,
    missing: Cell<Option<usize>>,
}

impl Assigned {
    /// Assign `token` to `value` of the type at index `ty`.
    pub fn insert(&mut self, ty: usize, value: String, token: String) {
        self.by_type.entry(ty).or_default().insert(value, token);
    }

    fn get(&self, ty: usize, value: &str) -> Option<&str> {
        self.by_type.get(&ty)?.get(value).map(String::as_str)
    }

    /// Fail if a detection had no token (naming the type of the first such detection).
    pub fn check(&self, c: &Compiled) -> Result<()> {
        match self.missing.get() {
            Some(ty) => Err(Error::Input(format!(
                "no token was assigned to a detected value of type '{}'",
                c.types[ty].id
            ))),
            None => Ok(()),
        }
    }
}

/// Renders replacements for one call; holds the tokenize numbering of that call.
pub struct Masker<'c> {
    c: &'c Compiled,
    strategy: Option<&'c str>,
    assigned: Option<&'c Assigned>,
    tokens: HashMap<(usize, String), usize>,
    counters: HashMap<usize, usize>,
}

impl<'c> Masker<'c> {
    /// A masker using `strategy` for every type, or the configured strategies when `None`.
    ///
    /// # Example
    /// ```
    /// use _native::engine::Engine;
    /// use _native::mask::Masker;
    ///
    /// let engine = Engine::from_json(r#"{"strategies": {"ssn": "partial"}}"#).unwrap();
    /// let ssn = engine.type_ids().iter().position(|&id| id == "ssn").unwrap();
    /// let mut out = String::new();
    /// Masker::new(engine.compiled(), None).render(ssn, "123-45-6789", &mut out);
    /// assert_eq!(out, "***-**-6789"); // the configured strategy of the type
    /// out.clear();
    /// Masker::new(engine.compiled(), Some("redact")).render(ssn, "123-45-6789", &mut out);
    /// assert_eq!(out, "[REDACTED]");
    /// ```
    pub fn new(c: &'c Compiled, strategy: Option<&'c str>) -> Self {
        Masker { c, strategy, assigned: None, tokens: HashMap::new(), counters: HashMap::new() }
    }

    /// A masker that replaces every detection by its token in `assigned`.
    pub fn with_tokens(c: &'c Compiled, assigned: &'c Assigned) -> Self {
        Masker { assigned: Some(assigned), ..Masker::new(c, None) }
    }

    /// Append the replacement for `value` of type `ty` to `out`.
    ///
    /// `tokenize` numbers distinct values per type across all the calls of one masker.
    ///
    /// # Example
    /// ```
    /// use _native::engine::Engine;
    /// use _native::mask::Masker;
    ///
    /// let engine = Engine::from_json("{}").unwrap();
    /// let mut masker = Masker::new(engine.compiled(), Some("tokenize"));
    /// let mut out = String::new();
    /// for value in ["a@b.io", "c@d.io", "a@b.io"] {
    ///     masker.render(0, value, &mut out); // type 0 is email
    /// }
    /// assert_eq!(out, "[EMAIL_1][EMAIL_2][EMAIL_1]");
    /// ```
    pub fn render(&mut self, ty: usize, value: &str, out: &mut String) {
        if let Some(assigned) = self.assigned {
            match assigned.get(ty, value) {
                Some(token) => out.push_str(token),
                None if assigned.missing.get().is_none() => assigned.missing.set(Some(ty)),
                None => {}
            }
            return;
        }
        let t = &self.c.types[ty];
        let strategy = self
            .strategy
            .or_else(|| self.c.strategies.get(&t.id).map(String::as_str))
            .unwrap_or(self.c.default_strategy.as_str());
        match strategy {
            "label" => {
                out.push('[');
                out.push_str(&t.upper);
                out.push(']');
            }
            "redact" => out.push_str(&self.c.redaction_text),
            "partial" => out.push_str(&partial(value, &t.partial)),
            "hash" => {
                out.push_str("[HASH:");
                out.push_str(&hash_hex(self.c.hash_key.as_deref(), value));
                out.push(']');
            }
            "tokenize" => {
                let n = match self.tokens.get(&(ty, value.to_owned())) {
                    Some(&n) => n,
                    None => {
                        let n = self.counters.entry(ty).or_insert(0);
                        *n += 1;
                        let n = *n;
                        self.tokens.insert((ty, value.to_owned()), n);
                        n
                    }
                };
                let _ = write!(out, "[{}_{n}]", t.upper);
            }
            _ => {}
        }
    }

    /// Return `text` with every span replaced; `spans` are sorted, disjoint byte ranges.
    ///
    /// # Example
    /// ```
    /// use _native::detect::Span;
    /// use _native::engine::Engine;
    /// use _native::mask::Masker;
    ///
    /// let engine = Engine::from_json("{}").unwrap();
    /// let spans = [Span { start: 5, end: 11, ty: 0, rule: 0 }];
    /// let masked = Masker::new(engine.compiled(), None).apply("mail a@b.io now", &spans);
    /// assert_eq!(masked, "mail [EMAIL] now");
    /// ```
    pub fn apply(&mut self, text: &str, spans: &[Span]) -> String {
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        for s in spans {
            out.push_str(&text[pos..s.start]);
            self.render(s.ty, &text[s.start..s.end], &mut out);
            pos = s.end;
        }
        out.push_str(&text[pos..]);
        out
    }
}
