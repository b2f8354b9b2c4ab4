"""Masking strategies. Mirrors ``native/mask.rs``.

``redact`` writes the configured redaction text, ``label`` the type id upper-cased in brackets,
``partial`` keeps the shape and a short tail (see the catalog's partial rules), ``hash`` a keyed
HMAC-SHA256 (SHA-256 without a key) cut to 12 hex digits, ``tokenize`` one numbered token per
distinct value and type within a call, and ``remove`` nothing. With assigned tokens (reversible
masking), every detection is replaced by the token assigned to its type and value ahead of the
call, whatever the strategy.
"""

from __future__ import annotations

import hashlib
import hmac

from mcp_pii.catalog import Compiled, PiiType
from mcp_pii.errors import InputError

Assigned = dict[int, dict[str, str]]  # type index -> value -> token text


def _significant(ch: str, rule: str) -> bool:
    if rule == "digits":
        return "0" <= ch <= "9"
    return not ch.isascii() or ch.isalnum()


def partial(value: str, rule: str) -> str:
    """Mask ``value`` by a partial rule, keeping at most the last 4 (and at most half) characters."""
    if rule == "email":
        local, at, domain = value.rpartition("@")
        if at and local:
            return local[0] + "***@" + domain
        rule = "tail"
    total = sum(1 for ch in value if _significant(ch, rule))
    keep = min(4, total // 2)
    seen = 0
    out = []
    for ch in value:
        if _significant(ch, rule):
            seen += 1
            out.append(ch if seen > total - keep else "*")
        else:
            out.append(ch)
    return "".join(out)


class Masker:
    """Renders replacements for one call; holds the tokenize numbering of that call."""

    __slots__ = ("_assigned", "_c", "_counters", "_strategy", "_tokens")

    def __init__(self, c: Compiled, strategy: str | None, assigned: Assigned | None = None) -> None:
        self._c = c
        self._strategy = strategy
        self._assigned = assigned
        self._tokens: dict[tuple[str, str], int] = {}
        self._counters: dict[str, int] = {}

    def render(self, t: PiiType, value: str) -> str:
        """Return the replacement for ``value`` of type ``t``."""
        c = self._c
        if self._assigned is not None:
            token = self._assigned.get(c.index[t.id], {}).get(value)
            if token is None:
                raise InputError(f"no token was assigned to a detected value of type '{t.id}'")
            return token
        strategy = self._strategy or c.strategies.get(t.id, c.default_strategy)
        if strategy == "label":
            return f"[{t.id.upper()}]"
        if strategy == "redact":
            return c.redaction_text
        if strategy == "partial":
            return partial(value, t.partial)
        if strategy == "hash":
            data = value.encode("utf-8")
            if c.hash_key is not None:
                digest = hmac.new(c.hash_key, data, hashlib.sha256).hexdigest()
            else:
                digest = hashlib.sha256(data).hexdigest()
            return f"[HASH:{digest[:12]}]"
        if strategy == "tokenize":
            key = (t.id, value)
            n = self._tokens.get(key)
            if n is None:
                n = self._counters.get(t.id, 0) + 1
                self._counters[t.id] = n
                self._tokens[key] = n
            return f"[{t.id.upper()}_{n}]"
        return ""

    def apply(self, text: str, spans: list[tuple[int, int, int, int]]) -> str:
        """Return ``text`` with every span replaced."""
        if not spans:
            return text
        out = []
        pos = 0
        for start, end, ti, _rule in spans:
            out.append(text[pos:start])
            out.append(self.render(self._c.types[ti], text[start:end]))
            pos = end
        out.append(text[pos:])
        return "".join(out)
