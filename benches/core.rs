//! Criterion benchmarks of the Rust core alone (no Python in the way): `make bench-rust`.
//!
//! Inputs are generated deterministically: prose with about one PII item per 200 bytes (some of
//! it non-ASCII), the same prose without PII, and a nested JSON payload with JSON in strings.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::{json, Value};

use _native::engine::Engine;

const FILLER: &[&str] = &[
    "The quarterly report covers 81 regions and 4 product lines.",
    "Zoë presented the roadmap in München and everyone cheered 🎉.",
    "東京のチームは午後に会議を開きます。",
    "2024-06-11T22:14:48.124Z INFO order=ORD-20230102-097557 items=32 build=v4.32.122",
    "Please review the draft by 22:30 so we can send it to the printer.",
];
const PII: &[&str] = &[
    "Mail jane.doe@example.com today.",
    "Call (415) 555-0132 after lunch.",
    "SSN 123-45-6789 on file.",
    "Card 4111 1111 1111 1111 declined.",
    "From 203.0.113.7 again.",
    "IBAN GB82 WEST 1234 5698 7654 32 please.",
    "Key AKIAIOSFODNN7EXAMPLE leaked.",
    "DOB: 1985-03-14 confirmed.",
];

/// A deterministic text of about `size` bytes; PII about every 200 bytes when `pii`.
fn text(size: usize, pii: bool) -> String {
    let (mut out, mut i, mut since) = (String::with_capacity(size + 128), 0usize, 0usize);
    while out.len() < size {
        let piece = if pii && since >= 200 {
            since = 0;
            PII[i % PII.len()]
        } else {
            FILLER[(i * 7 + 3) % FILLER.len()]
        };
        since += piece.len() + 1;
        out.push_str(piece);
        out.push(' ');
        i += 1;
    }
    out
}

/// A nested payload of about `size` bytes: records three levels deep, some JSON in strings.
fn nested(size: usize) -> Value {
    let mut records = Vec::new();
    let mut bytes = 0;
    let mut i = 0;
    while bytes < size {
        let note = text(120, i % 2 == 0);
        let embedded = json!({"ip": "203.0.113.7", "note": "ok"}).to_string();
        let record = json!({"id": i, "user": {"name": "Jane", "email": format!("user{i}@example.com"),
                             "tags": ["a", "b"]}, "events": [{"note": note, "raw": embedded}]});
        bytes += record.to_string().len();
        records.push(record);
        i += 1;
    }
    json!({"records": records})
}

fn engine() -> Engine {
    Engine::from_json("{}").expect("the default config builds")
}

fn compile(c: &mut Criterion) {
    c.bench_function("compile default catalog", |b| b.iter(engine));
}

fn texts(c: &mut Criterion) {
    let e = engine();
    for (name, pii) in [("pii", true), ("clean", false)] {
        let mut group = c.benchmark_group(format!("text-{name}"));
        for size in [1_000, 10_000, 100_000, 1_000_000] {
            let t = text(size, pii);
            group.throughput(Throughput::Bytes(t.len() as u64));
            group.bench_with_input(BenchmarkId::new("detect", size), &t, |b, t| {
                b.iter(|| e.detect(black_box(t), None).expect("detect"))
            });
            group.bench_with_input(BenchmarkId::new("mask", size), &t, |b, t| {
                b.iter(|| e.mask(black_box(t), None, None).expect("mask"))
            });
        }
        group.finish();
    }
}

fn traverse(c: &mut Criterion) {
    let e = engine();
    let mut group = c.benchmark_group("scan");
    for size in [10_000, 1_000_000] {
        let data = nested(size);
        group.throughput(Throughput::Bytes(data.to_string().len() as u64));
        group.bench_with_input(BenchmarkId::new("scan", size), &data, |b, data| {
            b.iter_batched(
                || data.clone(),
                |d| e.scan(d, None, None, true).expect("scan"),
                criterion::BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = compile, texts, traverse
}
criterion_main!(benches);
