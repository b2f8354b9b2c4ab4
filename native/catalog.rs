//! Loading the PII catalog and compiling it, with the configuration, for the Rust engine.
//!
//! Mirrors `mcp_pii/catalog.py`. The catalog file (`mcp_pii/catalog.toml`) is embedded at build
//! time, so the two engines read the very same data. Patterns follow a dialect that Python's `re`
//! and this crate's `regex` read the same way; [`check_dialect`] enforces it and
//! [`translate`] rewrites `\b` and `(?i:` to their ASCII-only forms.

use std::collections::{HashMap, HashSet};

use regex::Regex;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::prefilter::{gate, need, ClusterFinder, Gate, Need};
use regex_automata::meta;

/// The catalog file, shared with the Python engine.
pub const CATALOG_TOML: &str = include_str!("../mcp_pii/catalog.toml");

/// The masking strategies, in their documented order.
pub const STRATEGIES: [&str; 6] = ["redact", "label", "partial", "hash", "tokenize", "remove"];
const PARTIAL_RULES: [&str; 3] = ["digits", "tail", "email"];
const VALIDATORS: [&str; 6] = ["luhn", "iban", "ssn", "ip", "date", "phone"];
/// The longest pattern accepted.
pub const MAX_PATTERN_LEN: usize = 1000;
/// The highest `max_depth` accepted.
pub const MAX_DEPTH_CAP: usize = 100;
const FORBIDDEN_ESCAPES: &str = "dDwWsSpPAzZgkN0123456789";

#[derive(Deserialize)]
struct CatalogFile {
    types: Vec<TypeEntry>,
    validators: ValidatorTables,
}

#[derive(Deserialize, Clone)]
struct TypeEntry {
    id: String,
    #[serde(default = "custom_category")]
    category: String,
    patterns: Vec<String>,
    validator: Option<String>,
    #[serde(default)]
    min_digits: usize,
    reject_prev: Option<String>,
    reject_next: Option<String>,
    #[serde(default)]
    deny_suffixes: Vec<String>,
    #[serde(default = "tail")]
    partial: String,
}

fn custom_category() -> String {
    "custom".to_owned()
}

fn tail() -> String {
    "tail".to_owned()
}

#[derive(Deserialize)]
struct ValidatorTables {
    luhn: LuhnTable,
    iban: IbanTable,
    phone: PhoneTable,
    date: DateTable,
    ip: IpTable,
}

#[derive(Deserialize)]
struct LuhnTable {
    issuers: Vec<Issuer>,
}

#[derive(Deserialize)]
struct Issuer {
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
}

/// One compiled pattern: the regex, its `value` group and where it is searched.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The compiled (translated) regex.
    pub regex: meta::Regex,
    /// The index of the `value` group, if the pattern has one.
    pub value_group: Option<usize>,
    /// The prefilter deciding where the pattern is searched.
    pub gate: Gate,
    /// What every match holds at the least; a text holding less is not searched.
    pub need: Need,
}

/// One compiled type: its patterns and the checks its candidates must pass.
#[derive(Debug, Clone)]
pub struct PiiType {
    /// The type id.
    pub id: String,
    /// The id upper-cased, as the label and tokenize strategies write it.
    pub upper: String,
    /// `personal`, `secret` or `custom`.
    pub category: String,
    /// The patterns, tried in order.
    pub patterns: Vec<Pattern>,
    /// The validator name, if any.
    pub validator: Option<String>,
    /// Fewest ASCII digits a value may have.
    pub min_digits: usize,
    /// A class the character before a value must not be in.
    pub reject_prev: Option<Regex>,
    /// A class the character after a value must not be in.
    pub reject_next: Option<Regex>,
    /// Lower-cased suffixes a value may not end with.
    pub deny_suffixes: Vec<String>,
    /// The partial-mask rule.
    pub partial: String,
    /// Id of the type's first pattern among all patterns of all enabled types.
    pub first_pattern: usize,
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

/// Everything the engine needs, built once per configuration.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The enabled types, in catalog order (custom types last).
    pub types: Vec<PiiType>,
    /// Validator tables.
    pub tables: Tables,
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
    /// Type index by id.
    pub index: HashMap<String, usize>,
    /// Finds the clusters that cluster-gated patterns are searched in.
    pub clusters: ClusterFinder,
    /// All patterns of all types in one regex (pattern ids in type, then pattern order), to find
    /// in one pass which patterns match a text at all.
    pub union: Option<meta::Regex>,
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
    let chars: Vec<char> = pattern.chars().collect();
    if chars.len() > MAX_PATTERN_LEN {
        return Err(Error::Config(format!(
            "pattern is {} characters long; the limit is {MAX_PATTERN_LEN}",
            chars.len()
        )));
    }
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

/// Compile a type's pattern for searching: the regex, its `value` group and its prefilter.
pub fn compile_search_pattern(pattern: &str) -> Result<Pattern> {
    check_dialect(pattern)?;
    let translated = translate(pattern);
    let regex = meta::Regex::builder()
        .configure(meta::Config::new().nfa_size_limit(Some(32 * 1024 * 1024)))
        .build(&translated)
        .map_err(|e| Error::Config(format!("pattern does not compile in the Rust engine: {e}")))?;
    let value_group = regex.group_info().to_index(regex_automata::PatternID::ZERO, "value");
    let parse = |p: &str| regex_syntax::ParserBuilder::new().build().parse(p).ok();
    let (gate, need) = match parse(&translated) {
        Some(hir) => (gate(&hir), need(&hir)),
        None => (Gate::Plain, Need::default()),
    };
    Ok(Pattern { regex, value_group, gate, need })
}

/// Return true if `pattern` can match the empty string somewhere.
pub fn can_match_empty(pattern: &str) -> bool {
    regex_syntax::ParserBuilder::new()
        .build()
        .parse(&translate(pattern))
        .map(|hir| hir.properties().minimum_len() == Some(0))
        .unwrap_or(false)
}

fn parse_catalog() -> Result<CatalogFile> {
    toml::from_str(CATALOG_TOML).map_err(|e| Error::Config(format!("the catalog is invalid: {e}")))
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
    })
}

fn build_type(e: &TypeEntry) -> Result<PiiType> {
    if let Some(v) = &e.validator {
        if !VALIDATORS.contains(&v.as_str()) {
            return Err(Error::Config(format!("type '{}' names an unknown validator", e.id)));
        }
    }
    if !PARTIAL_RULES.contains(&e.partial.as_str()) {
        return Err(Error::Config(format!("type '{}' names an unknown partial rule", e.id)));
    }
    let patterns = e.patterns.iter().map(|p| compile_search_pattern(p)).collect::<Result<Vec<_>>>()?;
    let opt = |p: &Option<String>| -> Result<Option<Regex>> {
        match p {
            Some(p) if !p.is_empty() => {
                check_dialect(p)?;
                Ok(Some(anchored(p)?))
            }
            _ => Ok(None),
        }
    };
    Ok(PiiType {
        id: e.id.clone(),
        upper: e.id.to_uppercase(),
        category: e.category.clone(),
        patterns,
        validator: e.validator.clone(),
        min_digits: e.min_digits,
        reject_prev: opt(&e.reject_prev)?,
        reject_next: opt(&e.reject_next)?,
        deny_suffixes: e.deny_suffixes.iter().map(|s| s.to_ascii_lowercase()).collect(),
        partial: e.partial.clone(),
        first_pattern: 0,
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
    Ok(())
}

/// Build the compiled catalog for a resolved configuration.
pub fn compile_config(cfg: &EngineConfig) -> Result<Compiled> {
    let catalog = parse_catalog()?;
    let mut entries = catalog.types.clone();
    let mut taken: HashSet<String> = entries.iter().map(|e| e.id.clone()).collect();
    for custom in &cfg.custom_patterns {
        check_custom(custom, &taken)?;
        taken.insert(custom.id.clone());
        entries.push(TypeEntry {
            id: custom.id.clone(),
            category: custom_category(),
            patterns: vec![custom.pattern.clone()],
            validator: None,
            min_digits: 0,
            reject_prev: None,
            reject_next: None,
            deny_suffixes: Vec::new(),
            partial: custom.partial.clone(),
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
    let mut types = entries.iter().map(build_type).collect::<Result<Vec<_>>>()?;
    let mut first = 0;
    for t in &mut types {
        t.first_pattern = first;
        first += t.patterns.len();
    }

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
    Ok(Compiled {
        types,
        tables: build_tables(&catalog.validators)?,
        default_strategy: cfg.default_strategy.clone(),
        strategies: cfg.strategies.clone(),
        redaction_text: cfg.redaction_text.clone(),
        hash_key: cfg.hash_key.as_ref().filter(|k| !k.is_empty()).map(|k| k.as_bytes().to_vec()),
        allow_values: cfg.allow_values.iter().cloned().collect(),
        allow_patterns,
        max_text_bytes: cfg.max_text_bytes,
        max_depth: cfg.max_depth,
        max_nodes: cfg.max_nodes,
        index,
        clusters: ClusterFinder::default(),
        union: union_regex(&entries),
    })
}

/// One regex of every pattern, reporting which of them match (or `None` if it is too big).
///
/// Its lazy DFA gets a 16 MiB cache (per searching thread) instead of the default 2 MiB: on a
/// megabyte of varied text the default cache filled and was rebuilt over and over (the profile
/// was all determinisation), and throughput fell to a third of what it is at 100 KB.
fn union_regex(entries: &[TypeEntry]) -> Option<meta::Regex> {
    let all: Vec<String> = entries.iter().flat_map(|e| e.patterns.iter().map(|p| translate(p))).collect();
    meta::Regex::builder()
        .configure(
            meta::Config::new()
                .match_kind(regex_automata::MatchKind::All)
                .nfa_size_limit(Some(64 * 1024 * 1024))
                .hybrid_cache_capacity(16 * 1024 * 1024),
        )
        .build_many(&all)
        .ok()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_compiles() {
        let c = compile_config(&EngineConfig::default()).unwrap();
        assert_eq!(c.types.len(), builtin_type_ids().len());
        assert!(c.types.iter().all(|t| !t.patterns.is_empty()));
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
            custom_patterns: vec![CustomPattern { id: "x".into(), pattern: "a*".into(), partial: tail() }],
            ..Default::default()
        };
        assert!(matches!(compile_config(&cfg), Err(Error::Config(_))));
        cfg.custom_patterns[0].pattern = "EMP-[0-9]{6}".into();
        assert!(compile_config(&cfg).is_ok());
        cfg.custom_patterns[0].id = "email".into();
        assert!(compile_config(&cfg).is_err());
    }
}
