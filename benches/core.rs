//! Criterion benchmarks of the Rust core alone (no Python): `make bench-rust`.

use criterion::{criterion_group, criterion_main, Criterion};

fn placeholder(c: &mut Criterion) {
    c.bench_function("compile", |b| b.iter(|| _native::engine::Engine::from_json("{}").unwrap()));
}

criterion_group!(benches, placeholder);
criterion_main!(benches);
