//! Working lists kept per thread from one call to the next, emptied rather than freed: a 1 KB
//! text's detection made two dozen small allocations, a tenth of its time.
//!
//! What a thread keeps is bounded: each list is emptied after a call and its room cut to
//! [`KEEP`] items (a 1 MB text's lists would otherwise stay at their largest for good). With the
//! default catalog that is at most about 15 KiB a thread (the match ends of 20 union patterns,
//! 10 KiB, are most of it), whatever the texts were: 600 KiB were each of anyio's 40 worker
//! threads (the server's engine threads come from that pool) to have scanned long texts.

use std::cell::Cell;
use std::thread::LocalKey;

/// The most items of room a kept list keeps between calls.
pub const KEEP: usize = 64;

/// Lists a thread keeps between calls.
pub trait Kept: Default {
    /// Empty the lists and cut their room to [`KEEP`] items.
    fn reset(&mut self);
}

impl<T> Kept for Vec<T> {
    fn reset(&mut self) {
        self.clear();
        self.shrink_to(KEEP);
    }
}

impl<T, const N: usize> Kept for [Vec<T>; N]
where
    [Vec<T>; N]: Default,
{
    fn reset(&mut self) {
        self.iter_mut().for_each(Kept::reset);
    }
}

impl Kept for String {
    fn reset(&mut self) {
        self.clear();
        self.shrink_to(KEEP);
    }
}

/// Run `work` with this thread's kept `T`, empty, or with a new one when a call on this thread
/// already has it.
///
/// # Example
/// ```
/// use std::cell::Cell;
/// use _native::kept::with_kept;
///
/// thread_local! {
///     static WORDS: Cell<Option<Vec<&'static str>>> = const { Cell::new(None) };
/// }
/// let count = |text: &'static str| with_kept(&WORDS, |words| {
///     words.extend(text.split(' '));
///     words.len()
/// });
/// assert_eq!(count("one two"), 2);
/// assert_eq!(count("three"), 1, "the list comes back empty");
/// ```
pub fn with_kept<T: Kept, R>(key: &'static LocalKey<Cell<Option<T>>>, work: impl FnOnce(&mut T) -> R) -> R {
    let mut kept = key.with(Cell::take).unwrap_or_default();
    let out = work(&mut kept);
    kept.reset();
    key.with(|k| k.set(Some(kept)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static LIST: Cell<Option<Vec<u32>>> = const { Cell::new(None) };
    }

    #[test]
    fn kept_lists_come_back_empty_and_bounded() {
        with_kept(&LIST, |list| list.extend(0..100_000));
        with_kept(&LIST, |list| {
            assert!(list.is_empty());
            assert!(list.capacity() <= KEEP);
            // A call inside a call gets a list of its own.
            list.push(1);
            with_kept(&LIST, |inner| assert!(inner.is_empty()));
            assert_eq!(list, &[1]);
        });
    }
}
