//! Nested payloads: the input as JSON if it parses (else as one string, which exercises the
//! embedded-JSON path), scanned with and without masking.
//!
//! Invariants: no panic; only input or limit errors; without masking the payload comes back
//! unchanged; every detection's pointer leads (through embedded JSON where needed) to a string
//! whose characters at the reported offsets are the reported value; masking with `label` gives
//! the same detections as reporting.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

#[path = "common.rs"]
mod common;

use _native::error::Error;

/// The string a detection's pointer names: resolved in `v`, continuing into embedded JSON.
fn resolve(v: &Value, path: &str) -> Option<String> {
    if let Some(Value::String(s)) = v.pointer(path) {
        return Some(s.clone());
    }
    // The longest prefix that names a string holding JSON; resolve the rest inside it.
    let cuts: Vec<usize> = path.match_indices('/').map(|(i, _)| i).filter(|&i| i > 0).collect();
    for &cut in cuts.iter().rev() {
        if let Some(Value::String(s)) = v.pointer(&path[..cut]) {
            let inner: Value = serde_json::from_str(s).ok()?;
            return resolve(&inner, &path[cut..]);
        }
    }
    if let Value::String(s) = v {
        let inner: Value = serde_json::from_str(s).ok()?;
        return resolve(&inner, path);
    }
    None
}

fuzz_target!(|data: &[u8]| {
    let value = match serde_json::from_slice::<Value>(data) {
        Ok(v) => v,
        Err(_) => Value::String(String::from_utf8_lossy(data).into_owned()),
    };
    let engine = common::engine();
    let report = match engine.scan(value.clone(), None, None, false) {
        Ok(r) => r,
        Err(Error::Input(_) | Error::Limit(_)) => return,
        Err(e) => panic!("unexpected error kind: {e:?}"),
    };
    assert_eq!(report.0, value, "reporting changed the payload");
    for f in &report.1 {
        let s = resolve(&value, &f.path).unwrap_or_else(|| panic!("pointer {:?} leads to no string", f.path));
        let got: String = s.chars().skip(f.start).take(f.end - f.start).collect();
        assert_eq!(got, f.value, "offsets of {:?} in {:?}", f, f.path);
    }
    let strategy =
        common::strategies()[data.first().copied().unwrap_or(0) as usize % common::strategies().len()];
    for s in [strategy, "label"] {
        let (_masked, found) = engine.scan(value.clone(), Some(s), None, true).expect("the same limits pass");
        assert_eq!(found, report.1, "masking ({s}) found other detections than reporting");
    }
});
