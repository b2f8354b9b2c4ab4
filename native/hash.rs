//! A quick hash for the engine's own tables: the catalog's word sets, looked up for every label a
//! text holds, and the walk's tables of keys and short strings.
//!
//! The standard library's default hasher (SipHash, keyed per table) resists inputs made to
//! collide, which matters for tables that grow with what a caller sends. These tables do not:
//! the word sets are fixed when the catalog is compiled (a made-up word costs a lookup that
//! finds nothing, whatever its hash), and the walk's tables keep one entry per slot. A
//! multiply-rotate hash of 8 bytes at a time (FxHash's step) costs a few nanoseconds where
//! SipHash cost a good part of a label's check.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A quick hash of `bytes` continuing from `h` (FxHash's step, 8 bytes at a time).
pub fn quick_hash(mut h: u64, bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    let tail = chunks.remainder().iter().rev().fold(0u64, |t, &b| t << 8 | u64::from(b));
    (h.rotate_left(5) ^ tail ^ bytes.len() as u64).wrapping_mul(K)
}

/// [`quick_hash`] as a [`Hasher`], for the standard maps and sets.
#[derive(Default, Clone, Copy)]
pub struct QuickHasher(u64);

impl Hasher for QuickHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = quick_hash(self.0, bytes);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A set hashed with [`QuickHasher`] (for keys the catalog fixes, not ones a caller sends).
pub type QuickSet<T> = HashSet<T, BuildHasherDefault<QuickHasher>>;

/// A map hashed with [`QuickHasher`] (for keys the catalog fixes, not ones a caller sends).
pub type QuickMap<K, V> = HashMap<K, V, BuildHasherDefault<QuickHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_find_what_they_hold_and_nothing_else() {
        let words: QuickSet<String> =
            ["ssn", "social", "security", "number", "a", ""].into_iter().map(str::to_owned).collect();
        for w in ["ssn", "social", "security", "number", "a", ""] {
            assert!(words.contains(w), "{w:?}");
        }
        for w in ["ss", "ssn ", "Ssn", "numbers", "b"] {
            assert!(!words.contains(w), "{w:?}");
        }
    }

    #[test]
    fn every_byte_counts() {
        let base = b"dateofbirthplace".to_vec();
        let h = quick_hash(0, &base);
        for i in 0..base.len() {
            let mut other = base.clone();
            other[i] ^= 1;
            assert_ne!(quick_hash(0, &other), h, "byte {i}");
        }
        assert_ne!(quick_hash(0, b"ab"), quick_hash(0, b"ab\0"));
    }
}
