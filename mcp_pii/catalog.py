"""Loading the PII catalog and compiling it, with the configuration, for the Python engine.

Mirrors ``native/catalog.rs``. The catalog (``catalog.toml``) and the pattern dialect are described
at the top of that file; :func:`check_dialect` enforces the dialect for both built-in and custom
patterns, so a pattern means the same thing to Python's ``re`` and Rust's ``regex``.
"""

from __future__ import annotations

import importlib
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

from mcp_pii.errors import ConfigError
from mcp_pii.redos import backtracking_risk

STRATEGIES = ("redact", "label", "partial", "hash", "tokenize", "remove")
PARTIAL_RULES = ("digits", "tail", "email")
VALIDATORS = ("luhn", "iban", "ssn", "ip", "date", "phone")
MAX_PATTERN_LEN = 1000
MAX_DEPTH_CAP = 100
_ID = re.compile(r"[a-z][a-z0-9_]{0,47}", re.ASCII)
# Escapes whose meaning differs between the engines or that one of them lacks.
_FORBIDDEN_ESCAPES = frozenset("dDwWsSpPAzZgkN0123456789")


@cache
def catalog_text() -> str:
    """Return the text of the catalog file shipped in the package."""
    return files("mcp_pii").joinpath("catalog.toml").read_text(encoding="utf-8")


@cache
def catalog_data() -> dict[str, Any]:
    """Return the parsed catalog (types and validator tables)."""
    return tomllib.loads(catalog_text())


def builtin_type_ids() -> tuple[str, ...]:
    """Return the ids of the built-in types, in catalog order."""
    return tuple(t["id"] for t in catalog_data()["types"])


def check_dialect(pattern: str) -> None:
    """Raise ConfigError if ``pattern`` uses syntax the two engines read differently."""
    if len(pattern) > MAX_PATTERN_LEN:
        raise ConfigError(f"pattern is {len(pattern)} characters long; the limit is {MAX_PATTERN_LEN}")
    i, n, in_class = 0, len(pattern), False
    while i < n:
        c = pattern[i]
        if c == "\\":
            nxt = pattern[i + 1] if i + 1 < n else ""
            if nxt in _FORBIDDEN_ESCAPES or nxt == "":
                raise ConfigError(
                    f"pattern uses '\\{nxt}' at position {i}; use explicit ASCII classes such as "
                    "[0-9] or [A-Za-z], and no back-references"
                )
            i += 2
            continue
        if in_class:
            if c == "[" or (c in "&~-" and pattern[i + 1 : i + 2] == c):
                raise ConfigError(f"pattern has a nested or set-operation class at position {i}")
            if c == "]":
                in_class = False
        elif c == "[":
            in_class = True
            i += 1
            if pattern[i : i + 1] == "^":
                i += 1
            if pattern[i : i + 1] == "]":
                i += 1
            continue
        elif c == "$":
            raise ConfigError(f"pattern uses '$' at position {i}; end anchors differ between engines")
        elif c == "{" and pattern[i + 1 : i + 2] == ",":
            raise ConfigError(f"pattern uses '{{,n}}' at position {i}; write '{{0,n}}'")
        elif c == "(" and pattern[i + 1 : i + 2] == "?":
            rest = pattern[i + 2 : i + 4]
            if not (rest.startswith(":") or rest in {"P<", "i:"}):
                raise ConfigError(
                    f"pattern uses '(?{rest}' at position {i}; only (?:...), (?P<name>...) and "
                    "(?i:...) groups are allowed (no look-around, no inline flags)"
                )
        i += 1


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a dialect-checked pattern for the Python engine (ASCII word boundaries)."""
    check_dialect(pattern)
    try:
        return re.compile(pattern, re.ASCII)
    except re.error as exc:
        raise ConfigError(f"pattern does not compile: {exc.msg} at position {exc.pos}") from None


@dataclass(frozen=True, slots=True)
class PiiType:
    """One compiled type: its patterns and the checks its candidates must pass."""

    id: str
    category: str
    patterns: tuple[re.Pattern[str], ...]
    validator: str | None = None
    min_digits: int = 0
    reject_prev: re.Pattern[str] | None = None
    reject_next: re.Pattern[str] | None = None
    deny_suffixes: tuple[str, ...] = ()
    partial: str = "tail"


@dataclass(frozen=True, slots=True)
class Tables:
    """The validator tables of the catalog."""

    issuers: tuple[tuple[tuple[tuple[int, int, int], ...], frozenset[int]], ...]
    iban_lengths: dict[str, int]
    phone_international: tuple[int, int]
    phone_national: tuple[int, int]
    years: tuple[int, int]
    min_ipv6_groups: int


@dataclass(frozen=True, slots=True)
class Compiled:
    """Everything the Python engine needs, built once per configuration."""

    types: tuple[PiiType, ...]
    tables: Tables
    default_strategy: str
    strategies: dict[str, str]
    redaction_text: str
    hash_key: bytes | None
    allow_values: frozenset[str]
    allow_patterns: tuple[re.Pattern[str], ...]
    max_text_bytes: int
    max_depth: int
    max_nodes: int
    index: dict[str, int] = field(default_factory=dict)


def _prefix_range(spec: str) -> tuple[int, int, int]:
    lo, _, hi = spec.partition("-")
    hi = hi or lo
    if len(lo) != len(hi) or not (lo.isdigit() and hi.isdigit()):
        raise ConfigError(f"bad issuer prefix range {spec!r} in the catalog")
    return len(lo), int(lo), int(hi)


@cache
def tables() -> Tables:
    """Return the validator tables parsed from the catalog."""
    v = catalog_data()["validators"]
    issuers = tuple(
        (tuple(_prefix_range(p) for p in i["prefixes"]), frozenset(i["lengths"])) for i in v["luhn"]["issuers"]
    )
    return Tables(
        issuers=issuers,
        iban_lengths=dict(v["iban"]["lengths"]),
        phone_international=tuple(v["phone"]["international"]),  # type: ignore[arg-type]
        phone_national=tuple(v["phone"]["national"]),  # type: ignore[arg-type]
        years=tuple(v["date"]["years"]),  # type: ignore[arg-type]
        min_ipv6_groups=int(v["ip"]["min_ipv6_groups"]),
    )


def _build_type(entry: dict[str, Any]) -> PiiType:
    def opt(key: str) -> re.Pattern[str] | None:
        return compile_pattern(entry[key]) if entry.get(key) else None

    validator = entry.get("validator")
    if validator is not None and validator not in VALIDATORS:
        raise ConfigError(f"type '{entry['id']}' names an unknown validator")
    partial = entry.get("partial", "tail")
    if partial not in PARTIAL_RULES:
        raise ConfigError(f"type '{entry['id']}' names an unknown partial rule")
    return PiiType(
        id=entry["id"],
        category=entry.get("category", "custom"),
        patterns=tuple(compile_pattern(p) for p in entry["patterns"]),
        validator=validator,
        min_digits=int(entry.get("min_digits", 0)),
        reject_prev=opt("reject_prev"),
        reject_next=opt("reject_next"),
        deny_suffixes=tuple(s.lower() for s in entry.get("deny_suffixes", ())),
        partial=partial,
    )


def _sre_parser() -> Any:
    """Python's private regex parser (``re._parser``, stable across 3.11-3.14), for pattern analysis."""
    return importlib.import_module("re._parser")


def can_match_empty(pattern: str) -> bool:
    """Return True if ``pattern`` can match the empty string somewhere."""
    return bool(_sre_parser().parse(pattern, re.ASCII).getwidth()[0] == 0)


def check_custom(entry: dict[str, Any], taken: set[str]) -> None:
    """Raise ConfigError unless a custom pattern entry is well formed."""
    cid = entry.get("id", "")
    if not isinstance(cid, str) or not _ID.fullmatch(cid):
        raise ConfigError("custom pattern id must be lower snake case (a-z, 0-9, _), at most 48 characters")
    if cid in taken:
        raise ConfigError(f"custom pattern id '{cid}' is already taken")
    pattern = entry.get("pattern")
    if not isinstance(pattern, str) or not pattern:
        raise ConfigError(f"custom pattern '{cid}' needs a non-empty pattern")
    compile_pattern(pattern)
    if can_match_empty(pattern):
        raise ConfigError(f"custom pattern '{cid}' can match the empty string")
    if has_nested_repeat(pattern):
        raise ConfigError(
            f"custom pattern '{cid}' nests a repetition inside an unbounded one, as in (a+)+; "
            "that can take exponential time in the Python engine, so write it without the nesting"
        )
    if risk := backtracking_risk(pattern):
        raise ConfigError(f"custom pattern '{cid}' {risk}; that can take exponential time in the Python engine")
    if entry.get("partial", "tail") not in PARTIAL_RULES:
        raise ConfigError(f"custom pattern '{cid}': partial must be one of {', '.join(PARTIAL_RULES)}")


def compile_config(cfg: dict[str, Any]) -> Compiled:
    """Build the compiled catalog for a resolved configuration (see ``Config.to_engine``)."""
    entries = list(catalog_data()["types"])
    taken = {e["id"] for e in entries}
    for custom in cfg.get("custom_patterns", []):
        check_custom(custom, taken)
        taken.add(custom["id"])
        entries.append(
            {
                "id": custom["id"],
                "category": "custom",
                "patterns": [custom["pattern"]],
                "partial": custom.get("partial", "tail"),
            }
        )
    enabled = cfg.get("enabled")
    if enabled is not None:
        for name in enabled:
            if name not in taken:
                raise ConfigError(f"unknown PII type '{name}' in enabled types")
        entries = [e for e in entries if e["id"] in set(enabled)]
    for name in cfg.get("disabled", []):
        if name not in taken:
            raise ConfigError(f"unknown PII type '{name}' in disabled types")
    entries = [e for e in entries if e["id"] not in set(cfg.get("disabled", []))]
    types = tuple(_build_type(e) for e in entries)

    strategies = dict(cfg.get("strategies", {}))
    for name, strategy in strategies.items():
        if name not in taken:
            raise ConfigError(f"unknown PII type '{name}' in strategies")
        if strategy not in STRATEGIES:
            raise ConfigError(f"unknown strategy for '{name}'; use one of {', '.join(STRATEGIES)}")
    default = cfg.get("default_strategy", "label")
    if default not in STRATEGIES:
        raise ConfigError(f"unknown default strategy; use one of {', '.join(STRATEGIES)}")
    limits = {k: int(cfg.get(k, d)) for k, d in LIMIT_DEFAULTS.items()}
    for k, v in limits.items():
        if v < 1:
            raise ConfigError(f"{k} must be at least 1")
    if limits["max_depth"] > MAX_DEPTH_CAP:
        raise ConfigError(f"max_depth must be at most {MAX_DEPTH_CAP}")
    allow_patterns = [compile_pattern(p) for p in cfg.get("allow_patterns", [])]
    key = cfg.get("hash_key")
    return Compiled(
        types=types,
        tables=tables(),
        default_strategy=default,
        strategies=strategies,
        redaction_text=str(cfg.get("redaction_text", "[REDACTED]")),
        hash_key=key.encode("utf-8") if key else None,
        allow_values=frozenset(cfg.get("allow_values", [])),
        allow_patterns=tuple(allow_patterns),
        index={t.id: i for i, t in enumerate(types)},
        **limits,
    )


LIMIT_DEFAULTS = {"max_text_bytes": 10 * 1024 * 1024, "max_depth": 64, "max_nodes": 1_000_000}


def has_nested_repeat(pattern: str) -> bool:
    """Return True if an unbounded repetition nests another repetition (e.g. ``(a+)+``, ``(a*){2,}``).

    That shape makes a backtracking engine (Python's ``re``) take exponential time on a near miss;
    Rust's ``regex`` is immune, but the Python engine must give the same results, so custom
    patterns may not use it.
    """
    sre = importlib.import_module("re._constants")
    repeats = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)

    def walk(items: Any, outer_unbounded: bool, outer_repeat: bool) -> bool:
        for op, av in items:
            if op in repeats:
                _lo, hi, body = av
                unbounded = hi is sre.MAXREPEAT or hi > 100
                if hi > 1 and outer_repeat and (unbounded or outer_unbounded):
                    return True
                if walk(body, unbounded or outer_unbounded, outer_repeat or hi > 1):
                    return True
            elif op is sre.SUBPATTERN:
                if walk(av[-1], outer_unbounded, outer_repeat):
                    return True
            elif op is sre.BRANCH and any(walk(b, outer_unbounded, outer_repeat) for b in av[1]):
                return True
        return False

    return walk(_sre_parser().parse(pattern, re.ASCII), False, False)
