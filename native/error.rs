//! The errors of the core. Each maps to one Python exception class in `lib.rs`.

use std::fmt;

/// An error from building an engine or from processing an input.
///
/// Messages never contain values taken from the input: they name positions, JSON Pointers,
/// sizes and type ids only.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The input cannot be processed as given (wrong type, unknown type id, unknown strategy).
    Input(String),
    /// The input is over a configured limit (`max_text_bytes`, `max_depth`, `max_nodes`).
    Limit(String),
    /// The configuration is invalid (bad custom pattern, unknown type, bad limit).
    Config(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input(m) | Error::Limit(m) | Error::Config(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

/// The result type of the core.
pub type Result<T> = std::result::Result<T, Error>;
