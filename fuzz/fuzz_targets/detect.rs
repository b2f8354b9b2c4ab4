//! Arbitrary bytes (read as lossy UTF-8) through detection and every masking strategy.
//!
//! Invariants: spans are sorted, non-overlapping and on char boundaries within the text; the
//! code-point offsets match them; every strategy reports the same detections; and masking with
//! `label` is a fixpoint (masking its output again changes nothing).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

use _native::detect;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let engine = common::engine();
    let c = engine.compiled();
    let selected = engine.select(None).expect("no types asked for");
    let spans = detect::detect(c, &text, &selected);
    common::check_spans(&text, &spans, c.types.len());
    let hits = engine.detect(&text, None).expect("a short text is within the limits");
    common::check_hits(&text, &spans, &hits);
    for &strategy in common::strategies() {
        let (_masked, masked_hits) = engine.mask(&text, Some(strategy), None).expect("mask");
        assert_eq!(masked_hits, hits, "strategy {strategy} reported other detections");
    }
    let (once, _) = engine.mask(&text, Some("label"), None).expect("mask");
    let (twice, again) = engine.mask(&once, Some("label"), None).expect("mask");
    assert_eq!(twice, once, "label masking is not a fixpoint; detections in its output: {again:?}");
});
