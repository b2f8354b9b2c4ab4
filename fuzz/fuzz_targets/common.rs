//! What the fuzz targets share: one engine per configuration, and the span invariants.

#![allow(dead_code)] // each target uses part of it

use std::sync::OnceLock;

use _native::catalog::STRATEGIES;
use _native::detect::{char_offsets, Span};
use _native::engine::{Engine, Hit};

/// The default engine (every type, `label`), built once per process.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::from_json("{}").expect("the default configuration compiles"))
}

/// Every strategy, in catalog order.
pub fn strategies() -> &'static [&'static str] {
    &STRATEGIES
}

/// Byte spans are non-empty, on char boundaries within `text`, sorted and non-overlapping.
pub fn check_spans(text: &str, spans: &[Span], types: usize) {
    let mut last_end = 0;
    for s in spans {
        assert!(s.start < s.end, "empty span {s:?}");
        assert!(s.end <= text.len(), "span {s:?} past the end ({} bytes)", text.len());
        assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end), "span {s:?} splits a char");
        assert!(s.start >= last_end, "span {s:?} overlaps or precedes the one before (end {last_end})");
        assert!(s.ty < types, "span {s:?} has an unknown type");
        last_end = s.end;
    }
}

/// The engine's code-point hits are exactly the byte spans converted.
pub fn check_hits(text: &str, spans: &[Span], hits: &[Hit]) {
    let offsets = char_offsets(text, spans);
    assert_eq!(hits.len(), spans.len());
    let chars = text.chars().count();
    for ((h, s), (a, b)) in hits.iter().zip(spans).zip(offsets) {
        assert_eq!((h.ty, h.start, h.end), (s.ty, a, b));
        assert!(h.start < h.end && h.end <= chars);
        let value: String = text.chars().skip(h.start).take(h.end - h.start).collect();
        assert_eq!(value, text[s.start..s.end]);
    }
}
