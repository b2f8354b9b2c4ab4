//! Masking with a strategy and a type selection taken from the input's first bytes.
//!
//! Input: byte 0 picks the strategy, bytes 1-3 a subset of the types (a bit per type), the rest
//! is the text (lossy UTF-8). Invariants: detections match `detect` for the same selection; the
//! output is the text with each span replaced, everything between spans unchanged; replacements
//! have the strategy's form (label and tokenize `[TYPE]`/`[TYPE_n]` numbered per distinct value,
//! redact the redaction text, hash `[HASH:` + 12 hex digits + `]` and equal for equal values,
//! partial the same number of characters unless it is an email, remove nothing).
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

use _native::detect;
use _native::mask::partial;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let engine = common::engine();
    let c = engine.compiled();
    let strategy = common::strategies()[data[0] as usize % common::strategies().len()];
    let bits = u32::from_le_bytes([data[1], data[2], data[3], 0]);
    let ids = engine.type_ids();
    let picked: Vec<&str> =
        ids.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, id)| *id).collect();
    let text = String::from_utf8_lossy(&data[4..]);

    let selected = engine.select(Some(&picked)).expect("known type ids");
    let spans = detect::detect(c, &text, &selected);
    common::check_spans(&text, &spans, c.types.len());
    assert!(spans.iter().all(|s| selected.contains(&s.ty)), "a type that was not asked for");
    let (masked, hits) = engine.mask(&text, Some(strategy), Some(&picked)).expect("mask");
    common::check_hits(&text, &spans, &hits);

    // Rebuild the output from the spans and check each replacement's form.
    let mut pos = 0;
    let mut out = masked.as_str();
    let mut tokens: HashMap<(usize, &str), usize> = HashMap::new();
    let mut counters: HashMap<usize, usize> = HashMap::new();
    let mut hashes: HashMap<&str, String> = HashMap::new();
    for (i, s) in spans.iter().enumerate() {
        let gap = &text[pos..s.start];
        assert!(out.starts_with(gap), "text before span {i} changed");
        out = &out[gap.len()..];
        let value = &text[s.start..s.end];
        let t = &c.types[s.ty];
        let next_gap = &text[s.end..spans.get(i + 1).map_or(text.len(), |n| n.start)];
        let replacement = match strategy {
            "label" => format!("[{}]", t.upper),
            "redact" => c.redaction_text.clone(),
            "remove" => String::new(),
            "tokenize" => {
                let n = *tokens.entry((s.ty, value)).or_insert_with(|| {
                    let n = counters.entry(s.ty).or_insert(0);
                    *n += 1;
                    *n
                });
                format!("[{}_{n}]", t.upper)
            }
            "partial" => {
                let p = partial(value, &t.partial);
                if !(t.partial == "email" && value.contains('@')) {
                    assert_eq!(p.chars().count(), value.chars().count(), "partial changed the length");
                }
                p
            }
            "hash" => {
                let h = out.get(..19).expect("a hash replacement is 19 bytes").to_owned();
                assert!(h.starts_with("[HASH:") && h.ends_with(']'), "bad hash {h:?}");
                assert!(h[6..18].bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
                let first = hashes.entry(value).or_insert_with(|| h.clone());
                assert_eq!(*first, h, "equal values hashed differently");
                h
            }
            other => unreachable!("strategy {other}"),
        };
        assert!(out.starts_with(&replacement), "span {i} ({strategy}) not replaced as expected");
        out = &out[replacement.len()..];
        pos = s.end;
        if spans.get(i + 1).is_none() {
            assert_eq!(out, next_gap, "text after the last span changed");
        }
    }
    if spans.is_empty() {
        assert_eq!(masked, text, "a text without detections changed");
    }
});
