//! The errors of the core. Each maps to one Python exception class in `lib.rs`.

use std::fmt;

/// An error from building an engine or from processing an input.
///
/// Messages never contain values taken from the input: they name positions, JSON Pointers,
/// sizes and type ids only.
///
/// # Example
/// ```
/// use _native::engine::Engine;
/// use _native::error::Error;
///
/// let engine = Engine::from_json(r#"{"max_text_bytes": 4}"#).unwrap();
/// match engine.detect("secret 123-45-6789", None) {
///     Err(e @ Error::Limit(_)) => {
///         assert!(e.to_string().contains("max_text_bytes"));
///         assert!(!e.to_string().contains("123-45-6789"));
///     }
///     other => panic!("expected a limit error, got {other:?}"),
/// }
/// ```
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
