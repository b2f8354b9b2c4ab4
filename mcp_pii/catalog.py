"""Loading the PII catalog and compiling it, with the configuration, for the Python engine.

Mirrors ``native/catalog.rs``. The catalog is the folder ``mcp_pii/catalog/`` (its layout, the
pattern dialect and the label grammar are described at the top of ``catalog/catalog.toml``);
:func:`check_dialect` enforces the dialect for built-in and custom patterns alike, so a pattern
means the same thing to Python's ``re`` and Rust's ``regex``. The patterns of labelled types are
generated here from the catalog's label phrases and value shapes, by the same steps as in Rust
(:func:`label_pattern`), so both engines search the very same expressions.
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
VALIDATORS = ("luhn", "iban", "ssn", "ip", "date", "phone", "mrz", "secret", "password")
MAX_PATTERN_LEN = 1000
MAX_DEPTH_CAP = 100
# Custom patterns without keywords that join the union pass (the rest are searched on their own):
# past some dozens of patterns the union's lazy DFA thrashes its cache on large texts.
MAX_UNION_CUSTOM = 16
_ID = re.compile(r"[a-z][a-z0-9_]{0,47}", re.ASCII)
# Escapes whose meaning differs between the engines or that one of them lacks.
_FORBIDDEN_ESCAPES = frozenset("dDwWsSpPAzZgkN0123456789")
_REGEX_META = frozenset("\\.+*?()|[]{}^$")
_CLASS_META = frozenset("\\]-[^")
_CHECK_KEYS = ("validator", "min_digits", "reject_prev", "reject_next", "deny_suffixes")


# --- the catalog files -----------------------------------------------------------------------


@cache
def catalog_files() -> tuple[tuple[str, str], ...]:
    """Return ``(path, text)`` of every catalog file, paths relative to the folder, sorted.

    The Rust engine embeds the same files in the same order (``build.rs``).
    """
    root = files("mcp_pii").joinpath("catalog")
    out: list[tuple[str, str]] = []

    def walk(node: Any, prefix: str) -> None:
        for child in node.iterdir():
            name = prefix + child.name
            if child.is_dir():
                walk(child, name + "/")
            elif child.name.endswith(".toml"):
                out.append((name, child.read_text(encoding="utf-8")))

    walk(root, "")
    return tuple(sorted(out))


@cache
def catalog_data() -> dict[str, Any]:
    """Return the parsed catalog: ``meta`` (catalog.toml), ``types`` in order, and vendor ``rules``.

    Each rule from ``rules/`` carries ``type`` (the type it reports) and ``file``.
    """
    by_path = dict(catalog_files())
    try:
        meta = tomllib.loads(by_path["catalog.toml"])
    except (KeyError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"the catalog is invalid: catalog.toml: {exc}") from None
    types = []
    for tid in meta["types"]:
        path = f"types/{tid}.toml"
        if path not in by_path:
            raise ConfigError(f"the catalog is invalid: {path} is missing")
        entry = _parse(path, by_path[path])
        if entry.get("id") != tid:
            raise ConfigError(f"the catalog is invalid: {path} must have id '{tid}'")
        types.append(entry)
    rules = []
    for path, text in by_path.items():
        if path.startswith("rules/"):
            for rule in _parse(path, text).get("rules", []):
                rules.append({**rule, "file": path})
    return {"meta": meta, "types": types, "rules": rules}


def _parse(path: str, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the catalog is invalid: {path}: {exc}") from None


def builtin_type_ids() -> tuple[str, ...]:
    """Return the ids of the built-in types, in catalog order."""
    return tuple(t["id"] for t in catalog_data()["types"])


# --- the pattern dialect -----------------------------------------------------------------------


def check_dialect(pattern: str) -> None:
    """Raise ConfigError if ``pattern`` uses syntax the two engines read differently."""
    if len(pattern) > MAX_PATTERN_LEN:
        raise ConfigError(f"pattern is {len(pattern)} characters long; the limit is {MAX_PATTERN_LEN}")
    _check_syntax(pattern)


def _check_syntax(pattern: str) -> None:
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
    return _compile(pattern)


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.ASCII)
    except re.error as exc:
        raise ConfigError(f"pattern does not compile: {exc.msg} at position {exc.pos}") from None


# --- the label grammar -------------------------------------------------------------------------


def escape_literal(text: str) -> str:
    """Escape ``text`` for a pattern (only the characters both engines treat as syntax)."""
    return "".join("\\" + ch if ch in _REGEX_META else ch for ch in text)


def _escape_class(ch: str) -> str:
    return "\\" + ch if ch in _CLASS_META else ch


def split_parts(name: str) -> list[str]:
    """Split a label or key into lower-cased word parts: ``AwsSecretAccessKey`` -> aws, secret, access, key.

    Parts break at every character that is not an ASCII letter or digit (a non-ASCII character
    counts as a lower-case letter), between a lower-case letter and an upper-case one, between a
    letter and a digit, and before the last capital of a run of capitals followed by a lower-case
    letter (``HTTPServer`` -> http, server). Mirrors ``split_parts`` in ``native/catalog.rs``.
    """
    parts: list[str] = []
    cur: list[str] = []
    prev = ""
    for ch in name:
        if "0" <= ch <= "9":
            kind = "d"
        elif "A" <= ch <= "Z":
            kind = "u"
        elif "a" <= ch <= "z" or ord(ch) > 127:
            kind = "l"
        else:
            if cur:
                parts.append("".join(cur).lower())
                cur = []
            prev = ""
            continue
        if cur:
            if (prev == "d") != (kind == "d") or (prev == "l" and kind == "u"):
                parts.append("".join(cur).lower())
                cur = []
            elif prev == "u" and kind == "l" and len(cur) >= 2 and "A" <= cur[-2] <= "Z":
                last = cur.pop()
                parts.append("".join(cur).lower())
                cur = [last]
        cur.append(ch)
        prev = kind
    if cur:
        parts.append("".join(cur).lower())
    return parts


@dataclass(frozen=True, slots=True)
class Grammar:
    """The shared label grammar (catalog.toml ``[grammar]``)."""

    connector_words: tuple[str, ...]
    connector_tokens: tuple[str, ...]
    connector_chars: str
    quotes: str
    operators: str
    operator_words: frozenset[str]
    max_connector: int
    max_prefix: int
    max_suffix: int

    def connector(self) -> str:
        """The pattern of a connector: a closing quote, items (tokens, blanks, characters, words) on each
        side of at most one line break, an opening quote."""
        tokens = "".join(escape_literal(t).replace("\t", "\\t") + "|" for t in _longest_first(self.connector_tokens))
        chars = "".join(_escape_class(ch) for ch in self.connector_chars)
        words = "|".join(escape_literal(w) for w in _longest_first(self.connector_words))
        quotes = "".join(_escape_class(ch) for ch in self.quotes)
        item = f"(?:{tokens}[ \\t]|[{chars}]|(?i:{words})\\b){{0,{self.max_connector}}}"
        return f"[{quotes}]?\\]?{item}(?:\\r?\\n{item})?[{quotes}]?"

    def has_operator(self, connector: str) -> bool:
        """Return True if a connector holds an operator character or word."""
        if any(ch in self.operators for ch in connector):
            return True
        return any(w in self.operator_words for w in split_parts(connector))


def _longest_first(items: Any) -> list[str]:
    return sorted(set(items), key=lambda s: (-len(s), s))


@cache
def grammar() -> Grammar:
    """Return the label grammar of the catalog."""
    g = catalog_data()["meta"]["grammar"]
    return Grammar(
        connector_words=tuple(g["connector_words"]),
        connector_tokens=tuple(g["connector_tokens"]),
        connector_chars=g["connector_chars"],
        quotes=g["quotes"],
        operators=g["operators"],
        operator_words=frozenset(g["operator_words"]),
        max_connector=int(g["max_connector"]),
        max_prefix=int(g["max_prefix"]),
        max_suffix=int(g["max_suffix"]),
    )


@dataclass(frozen=True, slots=True)
class Labels:
    """What names a value of a type: phrases, the words allowed after them, words that disqualify."""

    phrases: tuple[str, ...]  # each phrase's parts joined ("dateofbirth")
    key_phrases: tuple[str, ...]  # those that also name a key (not "mr#", "a/c": their marks matter)
    suffixes: frozenset[str] | None  # None: any word may follow the phrase
    deny: frozenset[str]
    operator: bool
    key_values: re.Pattern[str]  # a value under a labelled key must match it in full

    def matches(self, name: str, key: bool = False) -> bool:
        """Return True if ``name`` (an identifier or label as written, or with ``key`` an object key) is a label.

        Some run of consecutive parts must spell a phrase (for a key, also its plural, as for a
        list, and no phrase whose punctuation carries its meaning, such as ``mr#``); no other part
        may be a denied word, and every part after the phrase must be an allowed suffix word or a
        number.
        """
        phrases = self.key_phrases if key else self.phrases
        plural = key
        parts = split_parts(name)
        for i in range(len(parts)):
            acc = ""
            for j in range(i, len(parts)):
                acc += parts[j]
                if len(acc) > _LONGEST_PHRASE:
                    break
                if acc in phrases or (plural and acc[-1:] == "s" and acc[:-1] in phrases):
                    others = parts[:i] + parts[j + 1 :]
                    if any(p in self.deny for p in others):
                        continue
                    if self.suffixes is not None and not all(p in self.suffixes or p.isdigit() for p in parts[j + 1 :]):
                        continue
                    return True
        return False


_LONGEST_PHRASE = 64
# A phrase holding one of these is recognised in text only, not as an object key ("mr#", "a/c").
_TEXT_ONLY = "#/"


def label_pattern(phrases: list[str], values: list[str]) -> str:
    """The pattern that finds a labelled value: phrase, rest of the identifier, connector, value.

    Groups: ``label`` (the phrase as written), ``tail`` (what follows it in the identifier) and
    ``value``. Mirrors ``label_pattern`` in ``native/catalog.rs``.
    """
    g = grammar()
    alts = "|".join("[ _.-]?".join(escape_literal(w) for w in p.split(" ")) for p in _longest_first(phrases))
    vals = "|".join(f"(?:{v})" for v in values)
    return f"(?P<label>(?i:{alts}))(?P<tail>[A-Za-z0-9_-]{{0,{g.max_suffix}}}){g.connector()}(?P<value>{vals})"


# What may join two words of a phrase in a label (as label_pattern writes ``[ _.-]?``).
WORD_JOINS = ("", " ", "_", ".", "-")


def phrase_keywords(phrases: list[str]) -> tuple[str, ...]:
    """The keywords of a labelled type, which every match starts with: each phrase's first word, or
    its first two words joined in each way a label may join them ("id token" is tried at far fewer
    places than "id" alone, which "valid" holds)."""
    words = [p.lower().split(" ")[:2] for p in phrases]
    return tuple(_longest_first(w[0] if len(w) == 1 else join.join(w) for w in words for join in WORD_JOINS))


def label_identifier(text: str, start: int) -> int:
    """Return where the identifier holding a label that starts at ``start`` begins (at most max_prefix back)."""
    limit = max(0, start - grammar().max_prefix)
    i = start
    while i > limit and (text[i - 1].isascii() and (text[i - 1].isalnum() or text[i - 1] in "_.-")):
        i -= 1
    return i


# --- compiled configuration ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checks:
    """What a candidate must pass (see catalog.toml)."""

    validator: str | None = None
    min_digits: int = 0
    reject_prev: re.Pattern[str] | None = None
    reject_next: re.Pattern[str] | None = None
    deny_suffixes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled pattern of a type, with its name, keyword gate and checks."""

    name: str
    regex: re.Pattern[str]
    checks: Checks
    keywords: tuple[str, ...] = ()
    # True: every match starts with a keyword (built-in rules), so the rule is tried only at
    # keyword positions; False with keywords (custom patterns): the whole text is searched when a
    # keyword occurs anywhere in it.
    anchored: bool = False
    labelled: bool = False
    union: bool = True  # joins the union pass (no keywords and not over the custom cap)
    # How strong a candidate's evidence is when spans tie (rule 3 of detect.py): 0 a named rule
    # with keywords (a vendor's format), 1 a label or key, 2 a shape alone.
    evidence: int = 2


@dataclass(frozen=True, slots=True)
class PiiType:
    """One compiled type: its rules and what its candidates must pass."""

    id: str
    category: str
    description: str
    rules: tuple[Rule, ...]
    checks: Checks
    labels: Labels | None = None
    partial: str = "tail"

    @property
    def key_rule(self) -> int:
        """The rule index reported for a value found under a labelled key."""
        return len(self.rules)

    def rule_name(self, index: int) -> str:
        """The name of rule ``index`` (``<id>-key`` for the key rule)."""
        return self.rules[index].name if index < len(self.rules) else f"{self.id}-key"


@dataclass(frozen=True, slots=True)
class Tables:
    """The validator tables of the catalog."""

    issuers: tuple[tuple[tuple[tuple[int, int, int], ...], frozenset[int]], ...]
    iban_lengths: dict[str, int]
    phone_international: tuple[int, int]
    phone_national: tuple[int, int]
    years: tuple[int, int]
    min_ipv6_groups: int
    placeholders: frozenset[str]
    markers: tuple[str, ...]
    starts: tuple[str, ...]
    max_run: int
    password_kinds: int


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
    key_labels: bool = True
    scan_numbers: bool = True
    index: dict[str, int] = field(default_factory=dict)
    # Finds every position where a keyword of an anchored rule starts (a look-ahead per position).
    keyword_finder: re.Pattern[str] | None = None
    # Keyword (lower case) -> (type index, rule index) of the anchored rules it gates, including
    # the rules of every keyword that is a prefix of it (they start at the same position).
    keyword_rules: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)


def _prefix_range(spec: str) -> tuple[int, int, int]:
    lo, _, hi = spec.partition("-")
    hi = hi or lo
    if len(lo) != len(hi) or not (lo.isdigit() and hi.isdigit()):
        raise ConfigError(f"bad issuer prefix range {spec!r} in the catalog")
    return len(lo), int(lo), int(hi)


@cache
def tables() -> Tables:
    """Return the validator tables parsed from the catalog."""
    v = catalog_data()["meta"]["validators"]
    issuers = tuple(
        (tuple(_prefix_range(p) for p in i["prefixes"]), frozenset(i["lengths"])) for i in v["luhn"]["issuers"]
    )
    s = v["secret"]
    return Tables(
        issuers=issuers,
        iban_lengths=dict(v["iban"]["lengths"]),
        phone_international=tuple(v["phone"]["international"]),  # type: ignore[arg-type]
        phone_national=tuple(v["phone"]["national"]),  # type: ignore[arg-type]
        years=tuple(v["date"]["years"]),  # type: ignore[arg-type]
        min_ipv6_groups=int(v["ip"]["min_ipv6_groups"]),
        placeholders=frozenset(s["placeholders"]),
        markers=tuple(s["markers"]),
        starts=tuple(s["starts"]),
        max_run=int(s["max_run"]),
        password_kinds=int(s["password_kinds"]),
    )


def _checks(entry: dict[str, Any], base: Checks | None = None) -> Checks:
    """The checks an entry sets, on top of ``base`` (a type's own checks, for its rules)."""
    base = base or Checks()
    validator = entry.get("validator", base.validator)
    validator = validator or None
    if validator is not None and validator not in VALIDATORS:
        raise ConfigError(f"'{entry.get('id', '?')}' names an unknown validator")

    def cls(key: str, default: re.Pattern[str] | None) -> re.Pattern[str] | None:
        if key not in entry:
            return default
        return compile_pattern(entry[key]) if entry[key] else None

    return Checks(
        validator=validator,
        min_digits=int(entry.get("min_digits", base.min_digits)),
        reject_prev=cls("reject_prev", base.reject_prev),
        reject_next=cls("reject_next", base.reject_next),
        deny_suffixes=tuple(s.lower() for s in entry.get("deny_suffixes", base.deny_suffixes)),
    )


def _keywords(entry: dict[str, Any]) -> tuple[str, ...]:
    words = entry.get("keywords", [])
    if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
        raise ConfigError(f"'{entry.get('id', '?')}': keywords must be a list of non-empty strings")
    return tuple(_longest_first(w.lower() for w in words))


def _labels(entry: dict[str, Any]) -> tuple[Labels, list[str]] | None:
    """The compiled labels of a type entry and the value patterns they lead to."""
    spec = entry.get("labels")
    if spec is None:
        return None
    values = list(spec.get("values", [])) + [f["pattern"] for f in entry.get("formats", [])]
    values = list(dict.fromkeys(values))
    if not spec.get("phrases") or not values:
        raise ConfigError(f"type '{entry['id']}': labels need phrases and values")
    suffixes = spec.get("suffixes", [])
    phrases = ["".join(split_parts(p)) for p in spec["phrases"]]
    for v in values:
        check_dialect(v)
    key_phrases = ["".join(split_parts(p)) for p in spec["phrases"] if not any(ch in p for ch in _TEXT_ONLY)]
    labels = Labels(
        phrases=tuple(dict.fromkeys(phrases)),
        key_phrases=tuple(dict.fromkeys(key_phrases)),
        suffixes=None if "*" in suffixes else frozenset(suffixes),
        deny=frozenset(spec.get("deny", [])),
        operator=bool(spec.get("operator", False)),
        key_values=_compile("(?:" + "|".join(f"(?:{v})" for v in values) + ")"),
    )
    return labels, values


def _build_type(entry: dict[str, Any], extra_rules: list[dict[str, Any]], union_budget: list[int]) -> PiiType:
    tid = entry["id"]
    partial = entry.get("partial", "tail")
    if partial not in PARTIAL_RULES:
        raise ConfigError(f"type '{tid}' names an unknown partial rule")
    checks = _checks(entry)
    rules: list[Rule] = []
    for p in entry.get("patterns", []):
        if isinstance(p, str):
            rules.append(Rule(tid, compile_pattern(p), checks))
        else:
            # A shape with keywords: searched once one of them occurs (email: "@").
            rules.append(Rule(tid, compile_pattern(p["pattern"]), checks, keywords=_keywords(p), union=False))
    for spec in [*extra_rules, *entry.get("rules", [])]:
        keywords = _keywords(spec)
        custom = spec.get("custom", False)
        union = not keywords
        if union and custom:
            union = union_budget[0] > 0
            union_budget[0] -= 1 if union else 0
        rules.append(
            Rule(
                name=spec["id"],
                regex=compile_pattern(spec["pattern"]),
                checks=_checks(spec, checks),
                keywords=keywords,
                anchored=bool(keywords) and not custom and bool(spec.get("anchor", True)),
                union=union,
                evidence=0 if keywords else 2,
            )
        )
    got = _labels(entry)
    labels = None
    if got is not None:
        labels, values = got
        phrases = list(entry["labels"]["phrases"])
        pattern = label_pattern(phrases, values)
        _check_syntax(pattern)
        rules.append(
            Rule(
                name=f"{tid}-label",
                regex=_compile(pattern),
                checks=checks,
                keywords=phrase_keywords(phrases),
                anchored=True,
                labelled=True,
                union=False,
                evidence=1,
            )
        )
    if not rules:
        raise ConfigError(f"type '{tid}' has no patterns")
    return PiiType(
        id=tid,
        category=entry.get("category", "custom"),
        description=entry.get("description", ""),
        rules=tuple(rules),
        checks=checks,
        labels=labels,
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
    _keywords(entry)


def compile_config(cfg: dict[str, Any]) -> Compiled:
    """Build the compiled catalog for a resolved configuration (see ``Config.to_engine``)."""
    data = catalog_data()
    entries = list(data["types"])
    taken = {e["id"] for e in entries}
    vendor: dict[str, list[dict[str, Any]]] = {}
    for rule in data["rules"]:
        if rule.get("type") not in taken:
            raise ConfigError(f"the catalog is invalid: rule '{rule.get('id')}' names an unknown type")
        vendor.setdefault(rule["type"], []).append(rule)
    for custom in cfg.get("custom_patterns", []):
        check_custom(custom, taken)
        taken.add(custom["id"])
        entries.append(
            {
                "id": custom["id"],
                "category": "custom",
                "partial": custom.get("partial", "tail"),
                "rules": [
                    {
                        "id": custom["id"],
                        "pattern": custom["pattern"],
                        "keywords": list(custom.get("keywords") or []),
                        "custom": True,
                    }
                ],
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
    budget = [MAX_UNION_CUSTOM]
    types = tuple(_build_type(e, vendor.get(e["id"], []), budget) for e in entries)

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
    finder, keyword_rules = _keyword_index(types)
    return Compiled(
        types=types,
        tables=tables(),
        default_strategy=default,
        strategies=strategies,
        redaction_text=str(cfg.get("redaction_text", "[REDACTED]")),
        hash_key=key.encode("utf-8") if key else None,
        allow_values=frozenset(cfg.get("allow_values", [])),
        allow_patterns=tuple(allow_patterns),
        key_labels=bool(cfg.get("key_labels", True)),
        scan_numbers=bool(cfg.get("scan_numbers", True)),
        index={t.id: i for i, t in enumerate(types)},
        keyword_finder=finder,
        keyword_rules=keyword_rules,
        **limits,
    )


def _keyword_index(
    types: tuple[PiiType, ...],
) -> tuple[re.Pattern[str] | None, dict[str, tuple[tuple[int, int], ...]]]:
    """The keyword finder and, per keyword, the anchored rules that may start where it stands."""
    direct: dict[str, list[tuple[int, int]]] = {}
    for ti, t in enumerate(types):
        for ri, rule in enumerate(t.rules):
            if rule.anchored:
                for kw in rule.keywords:
                    direct.setdefault(kw, []).append((ti, ri))
    if not direct:
        return None, {}
    closure = {
        kw: tuple(sorted({r for other, rs in direct.items() if kw.startswith(other) for r in rs})) for kw in direct
    }
    return re.compile(f"(?=({_trie(list(direct))}))", re.IGNORECASE | re.ASCII), closure


def _trie(words: list[str]) -> str:
    """A pattern matching the longest of ``words`` at a position, shaped as a trie.

    Python's ``re`` tries the alternatives of a flat alternation one by one at every position; as
    a trie it decides each character once (about eight times faster with the vendor keywords).
    """
    tree: dict[str, Any] = {}
    for word in words:
        node = tree
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        alts = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(tree)


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
