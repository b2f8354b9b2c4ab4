"""The public engine: one facade over the Rust extension and the pure-Python twin."""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from mcp_pii.config import Config
from mcp_pii.pyengine import PyEngine

logger = logging.getLogger("mcp_pii")

Implementation = Literal["rust", "python"]

__all__ = ["Detection", "Engine", "MaskResult", "NestedDetection", "ScanResult", "native_available"]


@dataclass(frozen=True, slots=True)
class Detection:
    """One detected value: its type id, its span in the text (code-point offsets) and the value."""

    type: str
    start: int
    end: int
    value: str


@dataclass(frozen=True, slots=True)
class NestedDetection:
    """A detection inside a nested payload; ``path`` is the RFC 6901 pointer of its string."""

    path: str
    type: str
    start: int
    end: int
    value: str


@dataclass(frozen=True, slots=True)
class MaskResult:
    """Masked text and the detections, whose spans refer to the input text."""

    text: str
    detections: list[Detection]


@dataclass(frozen=True, slots=True)
class ScanResult:
    """The scanned payload (masked unless ``mask=False``) and its detections."""

    data: Any
    detections: list[NestedDetection]


class _Backend(Protocol):
    def type_ids(self) -> list[str]: ...
    def detect(self, text: str, types: list[str] | None = None) -> list[tuple[str, int, int]]: ...
    def mask(
        self, text: str, strategy: str | None = None, types: list[str] | None = None
    ) -> tuple[str, list[tuple[str, int, int]]]: ...
    def scan(
        self, data: Any, strategy: str | None = None, types: list[str] | None = None, mask: bool = True
    ) -> tuple[Any, list[tuple[str, str, int, int, str]]]: ...


_announced: set[str] = set()


def _announce(kind: str, message: str, *, warn: bool = False) -> None:
    """Log (and for a fallback, warn) once per process."""
    if kind in _announced:
        return
    _announced.add(kind)
    if warn:
        logger.warning(message)
        warnings.warn(message, RuntimeWarning, stacklevel=4)
    else:
        logger.info(message)


def native_available() -> bool:
    """Return True if the Rust extension can be imported."""
    try:
        from mcp_pii import _native  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


def _forced_python() -> bool:
    return os.environ.get("MCP_PII_FORCE_PYTHON", "").strip().lower() in ("1", "true", "yes", "on")


class Engine:
    """Detects and masks PII in text and nested JSON values.

    Uses the Rust extension when it imports and the pure-Python twin otherwise (or when
    ``implementation="python"`` or ``MCP_PII_FORCE_PYTHON=1``); both give identical results.
    """

    __slots__ = ("_backend", "config", "implementation")

    def __init__(self, config: Config | None = None, *, implementation: Implementation | None = None) -> None:
        self.config = config if config is not None else Config()
        if implementation is None:
            implementation = "python" if _forced_python() else None
        if implementation not in (None, "rust", "python"):
            raise ValueError("implementation must be 'rust', 'python' or None")
        engine_json = self.config.to_engine_json()
        backend: _Backend
        if implementation == "python":
            backend = PyEngine(engine_json)
            _announce("python", "mcp-pii: using the pure-Python engine")
        else:
            try:
                from mcp_pii import _native  # noqa: PLC0415
            except ImportError as exc:
                if implementation == "rust":
                    raise ImportError("the Rust extension mcp_pii._native is not built") from exc
                _announce(
                    "fallback",
                    "mcp-pii: the Rust extension is not available; falling back to the slower pure-Python engine",
                    warn=True,
                )
                backend = PyEngine(engine_json)
                implementation = "python"
            else:
                backend = _native.Engine(engine_json)
                implementation = "rust"
                _announce("rust", "mcp-pii: using the Rust engine")
        self._backend = backend
        self.implementation: Implementation = implementation

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, implementation: Implementation | None = None) -> Engine:
        """Build an engine from a TOML config file."""
        return cls(Config.from_file(path), implementation=implementation)

    @property
    def types(self) -> list[str]:
        """The enabled type ids, in catalog order."""
        return self._backend.type_ids()

    def detect(self, text: str, types: list[str] | None = None) -> list[Detection]:
        """Return the PII detections in ``text``, sorted by start."""
        return [Detection(t, a, b, text[a:b]) for t, a, b in self._backend.detect(text, types)]

    def mask(self, text: str, strategy: str | None = None, types: list[str] | None = None) -> MaskResult:
        """Return ``text`` with every detection masked by ``strategy`` (or the configured ones)."""
        masked, hits = self._backend.mask(text, strategy, types)
        return MaskResult(masked, [Detection(t, a, b, text[a:b]) for t, a, b in hits])

    def scan(
        self, data: Any, strategy: str | None = None, types: list[str] | None = None, mask: bool = True
    ) -> ScanResult:
        """Scan every string in a JSON value; mask them unless ``mask=False``."""
        out, found = self._backend.scan(data, strategy, types, mask)
        return ScanResult(out, [NestedDetection(*f) for f in found])

    def __repr__(self) -> str:
        return f"Engine(implementation={self.implementation!r}, types={len(self.types)})"
