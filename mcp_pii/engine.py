"""The public engine: one facade over the Rust extension and the pure-Python twin."""

from __future__ import annotations

import importlib.util
import logging
import os
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, overload

from mcp_pii import reversible
from mcp_pii.config import Config
from mcp_pii.detection import Detection, MaskResult, NestedDetection
from mcp_pii.errors import InputError
from mcp_pii.offload import run_engine
from mcp_pii.pyengine import PyEngine

if TYPE_CHECKING:
    from mcp_pii.offload import EngineRunner
    from mcp_pii.vault import Vault

logger = logging.getLogger("mcp_pii")

Implementation = Literal["rust", "python"]

__all__ = [
    "Detection",
    "Engine",
    "MaskResult",
    "NestedDetection",
    "ScanResult",
    "UnmaskNestedResult",
    "UnmaskResult",
    "native_available",
]


@dataclass(slots=True)
class ScanResult:
    """The scanned payload (masked unless ``mask=False``) and its detections.

    ``scope`` is the scope of reversible masking (with a vault), None otherwise; ``scanned_bytes``
    the UTF-8 bytes of the payload's strings (its keys not counted; a string holding JSON counts
    once, as the string it is).
    """

    data: Any
    detections: list[NestedDetection]
    scope: str | None = None
    scanned_bytes: int = 0


@dataclass(frozen=True, slots=True)
class UnmaskResult:
    """Unmasked text: ``restored`` tokens of the scope were replaced by their values; ``unknown``
    tokens with the scope's tag (expired, never assigned, or text that only looked like a token)
    and ``foreign`` tokens of other scopes were left as they are."""

    text: str
    restored: int
    unknown: int
    foreign: int


@dataclass(frozen=True, slots=True)
class UnmaskNestedResult:
    """An unmasked payload, with the counts of :class:`UnmaskResult`."""

    data: Any
    restored: int
    unknown: int
    foreign: int


class _Backend(Protocol):
    def type_ids(self) -> list[str]: ...
    def detect(self, text: str, types: list[str] | None = None) -> list[Detection]: ...
    def mask(
        self,
        text: str,
        strategy: str | None = None,
        types: list[str] | None = None,
        tokens: dict[str, dict[str, str]] | None = None,
    ) -> tuple[str, list[Detection]]: ...
    def mask_result(self, text: str, strategy: str | None = None, types: list[str] | None = None) -> MaskResult: ...
    def mask_counts(
        self, text: str, strategy: str | None = None, types: list[str] | None = None
    ) -> tuple[str, dict[str, int]]: ...
    def scan(
        self,
        data: Any,
        strategy: str | None = None,
        types: list[str] | None = None,
        mask: bool = True,
        tokens: dict[str, dict[str, str]] | None = None,
    ) -> tuple[Any, list[NestedDetection], int]: ...


_announced: set[str] = set()


def _announce(kind: str, message: str, *, level: int = logging.INFO) -> None:
    """Log ``message`` once per process: the first engine of each kind says which one runs.

    One log record and nothing else, so it shows once on stderr (through Python's last-resort
    handler when the application configured no logging).
    """
    if kind in _announced:
        return
    _announced.add(kind)
    logger.log(level, message)


def _fallback_message() -> str:
    """Why the pure-Python engine runs, and the two ways to the fast one."""
    if importlib.util.find_spec("mcp_pii._native") is None:
        reason = "this is the pure-Python install (no Rust extension)"
    else:
        reason = "the Rust extension did not load on this platform"
    return (
        f"mcp-pii: {reason}; the pure-Python engine runs: same results, slower. For the fast engine: "
        "on Linux, macOS or Windows (x86_64 or arm64) upgrade pip and reinstall mcp-pii; elsewhere, "
        "build it with a Rust toolchain (https://rustup.rs): pip install --no-binary mcp-pii mcp-pii"
    )


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

    __slots__ = ("_backend", "compile_seconds", "config", "implementation")

    def __init__(self, config: Config | None = None, *, implementation: Implementation | None = None) -> None:
        self.config = config if config is not None else Config()
        if implementation is None:
            implementation = "python" if _forced_python() else None
        if implementation not in (None, "rust", "python"):
            raise ValueError("implementation must be 'rust', 'python' or None")
        engine_json = self.config.to_engine_json()
        started = time.perf_counter()
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
                _announce("fallback", _fallback_message(), level=logging.WARNING)
                backend = PyEngine(engine_json)
                implementation = "python"
            else:
                backend = _native.Engine(engine_json)
                implementation = "rust"
                _announce("rust", "mcp-pii: using the Rust engine")
        self._backend = backend
        self.implementation: Implementation = implementation
        self.compile_seconds = time.perf_counter() - started  # what the configuration took to compile

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
        return self._backend.detect(text, types)

    @overload
    def mask(self, text: str, strategy: str | None = None, types: list[str] | None = None) -> MaskResult: ...
    @overload
    def mask(
        self,
        text: str,
        strategy: str | None = None,
        types: list[str] | None = None,
        *,
        vault: Vault,
        scope: str | None = None,
        run: EngineRunner | None = None,
    ) -> Awaitable[MaskResult]: ...
    def mask(
        self,
        text: str,
        strategy: str | None = None,
        types: list[str] | None = None,
        *,
        vault: Vault | None = None,
        scope: str | None = None,
        run: EngineRunner | None = None,
    ) -> MaskResult | Awaitable[MaskResult]:
        """Return ``text`` with every detection masked by ``strategy`` (or the configured ones).

        With a ``vault``, masking is reversible and the call returns an awaitable: every detection
        becomes a token of ``scope`` (a new scope when None, returned as ``result.scope``), which
        :meth:`unmask` turns back into the value. ``strategy`` must then be None or "tokenize".
        ``run`` decides where the engine steps run (default: inline for small texts, in a worker
        thread otherwise; a server passes its own, to count them under its limits).
        """
        if vault is None:
            if scope is not None:
                raise InputError("a scope needs a vault (reversible masking)")
            return self._backend.mask_result(text, strategy, types)
        reversible.check_strategy(strategy)
        return self._mask_reversible(text, types, vault, scope, run or run_engine)

    def mask_counts(
        self, text: str, strategy: str | None = None, types: list[str] | None = None
    ) -> tuple[str, dict[str, int]]:
        """The masked text of :meth:`mask` and its detections per type id (in order of first appearance).

        For callers that report counts only (the server's ``detections='none'``): no
        :class:`Detection` is made.
        """
        return self._backend.mask_counts(text, strategy, types)

    async def _mask_reversible(
        self, text: str, types: list[str] | None, vault: Vault, scope: str | None, run: EngineRunner
    ) -> MaskResult:
        masked, hits, scope = await reversible.mask_text(self._backend, vault, text, types, scope, run=run)
        return MaskResult(masked, hits, scope)

    @overload
    def scan(
        self, data: Any, strategy: str | None = None, types: list[str] | None = None, mask: bool = True
    ) -> ScanResult: ...
    @overload
    def scan(
        self,
        data: Any,
        strategy: str | None = None,
        types: list[str] | None = None,
        mask: bool = True,
        *,
        vault: Vault,
        scope: str | None = None,
        run: EngineRunner | None = None,
    ) -> Awaitable[ScanResult]: ...
    def scan(
        self,
        data: Any,
        strategy: str | None = None,
        types: list[str] | None = None,
        mask: bool = True,
        *,
        vault: Vault | None = None,
        scope: str | None = None,
        run: EngineRunner | None = None,
    ) -> ScanResult | Awaitable[ScanResult]:
        """Scan every string in a JSON value; mask them unless ``mask=False``.

        The result's ``data`` shares what did not change with ``data``: a masked string is a new
        ``str`` and a dict or list is new only when something inside it changed; every other value,
        and ``data`` itself when nothing changed (or without masking), is the input's own object.
        Copy the result before changing it in place if the input must stay as it was. Tuples, and
        subclasses of dict and list, come back as plain lists and dicts.

        With a ``vault``, masking is reversible as for :meth:`mask` (the call returns an
        awaitable, ``mask`` must be true) and :meth:`unmask_nested` reverses it.
        """
        if vault is None:
            if scope is not None:
                raise InputError("a scope needs a vault (reversible masking)")
            out, found, nbytes = self._backend.scan(data, strategy, types, mask)
            return ScanResult(out, found, scanned_bytes=nbytes)
        reversible.check_strategy(strategy)
        if not mask:
            raise InputError("reversible masking masks: leave mask true, or scan without a vault to only report")
        return self._scan_reversible(data, types, vault, scope, run or run_engine)

    async def _scan_reversible(
        self, data: Any, types: list[str] | None, vault: Vault, scope: str | None, run: EngineRunner
    ) -> ScanResult:
        out, found, scope, nbytes = await reversible.mask_nested(self._backend, vault, data, types, scope, run=run)
        return ScanResult(out, found, scope, nbytes)

    async def unmask(self, text: str, vault: Vault, scope: str, *, run: EngineRunner | None = None) -> UnmaskResult:
        """Replace every token of ``scope`` in ``text`` by its value; leave and count the others.

        Raises:
            InputError: ``text`` is not a string, has a lone surrogate, or is over ``max_text_bytes``.
            VaultUnavailableError: The vault (Redis) cannot be reached.
        """
        out, tally = await reversible.unmask_text(self._backend, vault, text, scope, run=run or run_engine)
        return UnmaskResult(out, tally.restored, tally.unknown, tally.foreign)

    async def unmask_nested(
        self, data: Any, vault: Vault, scope: str, *, run: EngineRunner | None = None
    ) -> UnmaskNestedResult:
        """Replace every token of ``scope`` in the strings of a JSON value (also inside strings holding JSON).

        Raises:
            InputError: The payload is not JSON, or over a limit (as :meth:`scan`).
            VaultUnavailableError: The vault (Redis) cannot be reached.
        """
        out, tally = await reversible.unmask_nested(self._backend, vault, data, scope, run=run or run_engine)
        return UnmaskNestedResult(out, tally.restored, tally.unknown, tally.foreign)

    def __repr__(self) -> str:
        return f"Engine(implementation={self.implementation!r}, types={len(self.types)})"
