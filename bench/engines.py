"""The contenders: one adapter per engine, each with ``detect``, ``mask`` and ``scan`` callables.

Contenders, all masking with the ``redact`` strategy so the replacement work is the same:

- ``rust-full`` / ``python-full``: our engine (``implementation="rust"`` / ``"python"``) with
  its whole catalog (19 types);
- ``rust-peer`` / ``python-peer``: our engine limited to ``PEER_TYPES``, the types closest to
  what cpex-pii-filter detects, for the comparison rows;
- ``cpex``: ``cpex-pii-filter`` 0.3.9 (IBM ContextForge's Rust PII filter) with its defaults.

What cpex-pii-filter 0.3.9 turned out to be (read from ``dir()``, the docstrings in
``cpex_pii_filter/pii_filter_rust/__init__.pyi``, ``plugin-manifest.yaml``, the package README,
and by running it):

- ``from cpex_pii_filter.pii_filter_rust import PIIDetectorRust``; the class has exactly three
  methods: ``detect``, ``mask`` and ``process_nested``.
- ``PIIDetectorRust(config)`` takes a dict (or a pydantic model) with the keys ``detect_ssn``,
  ``detect_bsn``, ``detect_credit_card``, ``detect_email``, ``detect_phone``,
  ``detect_ip_address``, ``detect_date_of_birth``, ``detect_passport``,
  ``detect_driver_license``, ``detect_bank_account``, ``detect_medical_record`` (all default to
  true), ``default_mask_strategy`` (``redact`` by default; also ``partial``, ``hash``,
  ``tokenize``, ``remove``), ``redaction_text``, ``block_on_detection``, ``log_detections``,
  ``include_detection_details``, ``max_text_bytes`` (10 MiB), ``max_nested_depth`` (32),
  ``max_collection_items`` (4096 per list or dict: a larger one raises ``ValueError``),
  ``custom_patterns`` and ``whitelist_patterns``. ``PIIDetectorRust({})`` gives those defaults.
- ``detect(text) -> dict[type, list[{"value", "start", "end", "mask_strategy"}]]``; offsets are
  UTF-8 byte offsets, not code points, and for labelled types (DOB, MRN, passport, licence,
  account, labelled SSN) the span includes the label (``"MRN: 12345678"``).
- ``mask(text, detections) -> str`` masks what ``detect`` returned, so a caller that wants masked
  text makes both calls: our ``mask`` row for cpex times ``mask(text, detect(text))``.
- ``process_nested(data, path) -> (modified, new_data, detections)`` walks dicts and lists and
  masks every string as text; JSON held in a string is not parsed (it is masked as plain text),
  and the detections are merged into one dict per type, without paths.
- Types: the eleven ``detect_*`` flags above. Compared with ours it has ``bsn`` (Dutch citizen
  number) and no IBAN (its README says "IBAN-like values" fall under ``bank_account``, but none of
  the valid IBANs we tried was reported), no AWS keys, API keys or vendor tokens; it reports
  unlabelled ``MM/DD/YYYY`` dates as ``date_of_birth`` and only full 8-group IPv6 addresses.

So the peer set is our ten types that have a cpex counterpart (``CPEX_TO_OURS``): cpex's
``bsn`` has none of ours, and our ``iban`` and secret types have none of theirs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

STRATEGY = "redact"

# cpex type -> our type id (None: we have no such type).
CPEX_TO_OURS: dict[str, str | None] = {
    "ssn": "ssn",
    "bsn": None,
    "credit_card": "credit_card",
    "email": "email",
    "phone": "phone",
    "ip_address": "ip_address",
    "date_of_birth": "date_of_birth",
    "passport": "passport",
    "driver_license": "driver_license",
    "bank_account": "bank_account",
    "medical_record": "medical_record",
}
PEER_TYPES: list[str] = [t for t in CPEX_TO_OURS.values() if t is not None]
CPEX_CONFIG: dict[str, Any] = {f"detect_{t}": True for t in CPEX_TO_OURS} | {"default_mask_strategy": STRATEGY}

CONTENDERS = ["rust-full", "rust-peer", "python-full", "python-peer", "cpex"]

__all__ = [
    "CONTENDERS",
    "CPEX_TO_OURS",
    "PEER_TYPES",
    "Contender",
    "Unavailable",
    "load",
    "load_all",
]


@dataclass(frozen=True)
class Contender:
    """An engine ready to run: the three operations plus counters used to sanity-check results."""

    name: str
    description: str
    version: str
    types: list[str]
    detect: Callable[[str], Any]
    mask: Callable[[str], Any]
    scan: Callable[[Any], Any]
    count_text: Callable[[str], int]
    count_nested: Callable[[Any], int]


@dataclass(frozen=True)
class Unavailable:
    """A contender that could not be loaded, and why."""

    name: str
    reason: str


def _ours(name: str) -> Contender:
    from mcp_pii import Config, Engine, __version__

    implementation = "rust" if name.startswith("rust") else "python"
    peer = name.endswith("-peer")
    config = Config(enabled_types=PEER_TYPES if peer else None, default_strategy=STRATEGY)
    engine = Engine(config, implementation=implementation)  # type: ignore[arg-type]
    v = __version__
    if implementation == "rust":
        from mcp_pii import _native  # type: ignore[attr-defined]

        v = getattr(_native, "__version__", v)
    return Contender(
        name=name,
        description=f"mcp-pii {implementation} engine, {'peer set' if peer else 'full catalog'}"
        f" ({len(engine.types)} types)",
        version=v,
        types=engine.types,
        detect=engine.detect,
        mask=engine.mask,
        scan=engine.scan,
        count_text=lambda text: len(engine.detect(text)),
        count_nested=lambda data: len(engine.scan(data, mask=False).detections),
    )


def _cpex() -> Contender:
    from cpex_pii_filter.pii_filter_rust import PIIDetectorRust

    det = PIIDetectorRust(CPEX_CONFIG)
    detect = det.detect
    mask_found = det.mask
    process_nested = det.process_nested

    def mask(text: str) -> str:
        return mask_found(text, detect(text))  # type: ignore[no-any-return]

    def scan(data: Any) -> Any:
        return process_nested(data, "")

    def count(found: dict[str, list[Any]]) -> int:
        return sum(len(v) for v in found.values())

    return Contender(
        name="cpex",
        description="cpex-pii-filter PIIDetectorRust, default types (11)",
        version=version("cpex-pii-filter"),
        types=list(CPEX_TO_OURS),
        detect=detect,
        mask=mask,
        scan=scan,
        count_text=lambda text: count(detect(text)),
        count_nested=lambda data: count(process_nested(data, "")[2]),
    )


def load(name: str) -> Contender | Unavailable:
    """Build the contender ``name`` (one of ``CONTENDERS``), or say why it is unavailable."""
    try:
        return _cpex() if name == "cpex" else _ours(name)
    except ImportError as exc:
        return Unavailable(name, str(exc) or type(exc).__name__)


def load_all(names: list[str] | None = None) -> list[Contender | Unavailable]:
    """Every contender in ``names`` (default: all), in table order."""
    return [load(n) for n in names or CONTENDERS]


def package_version(dist: str) -> str:
    """The installed version of the distribution ``dist``, or ``"not installed"``."""
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"
