"""Functions with a pure-Python twin that the Rust extension also has: the extension's when it is built.

Both give the same results (the tests compare them); the extension's read a payload without a
Python call per value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])


def native_or(plain: F, name: str) -> F:
    """The extension's function ``name`` when the extension imports and has it, else ``plain``."""
    try:
        from mcp_pii import _native  # noqa: PLC0415
    except ImportError:
        return plain
    made: F = getattr(_native, name, plain)
    return made
