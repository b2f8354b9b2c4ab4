"""Exceptions raised by both engines.

The Rust extension raises these same classes (it imports this module), so callers catch one set
of errors whichever engine runs. No message ever contains a value taken from the input text:
messages name positions, paths, sizes and type ids only.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "InputError",
    "InternalError",
    "LimitError",
    "PIIError",
    "ScopeError",
    "VaultError",
    "VaultFullError",
    "VaultUnavailableError",
]


class PIIError(Exception):
    """Base class of every error mcp-pii raises on purpose."""


class InputError(PIIError, ValueError):
    """The input cannot be processed as given (wrong type, lone surrogate, unknown type id)."""


class LimitError(InputError):
    """The input is over a configured limit (max_text_bytes, max_depth or max_nodes)."""


class ConfigError(PIIError, ValueError):
    """The configuration is invalid (unknown type, bad custom pattern, bad limit)."""


class InternalError(PIIError, RuntimeError):
    """A bug in an engine; the input was not processed. Reported without any input content."""


class VaultError(PIIError):
    """The vault of reversible masking failed; messages hold no value and no scope id."""


class ScopeError(VaultError, InputError):
    """The scope id names no scope of the vault (never minted by it, expired, or forgotten)."""


class VaultFullError(VaultError):
    """The vault holds its maximum number of scopes, or a scope its maximum number of entries."""


class VaultUnavailableError(VaultError):
    """The vault's backend (Redis) cannot be reached or did not answer in time."""
