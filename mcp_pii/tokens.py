"""The reversible token: the text that stands for a value within a scope, and how to find it again.

A reversible token reads ``[EMAIL_1#k3f9qa]``::

    token = "[" NAME "_" N "#" TAG "]"
    NAME  = the type id upper-cased:          [A-Z][A-Z0-9_]{0,63}
    N     = the value's number in the scope:  [1-9][0-9]{0,17}
    TAG   = the scope's tag:                  [a-z2-7]{6}

``NAME_N`` (the token's *key*) names a value within its scope: the same type and value always get
the same number in a scope, numbers count up from 1 per type in order of first appearance. The
number is the digits between the last ``_`` and the ``#``, so the grammar parses one way even for
a type id that ends in ``_<digits>``. The tag is a keyed hash of the scope id (see
:meth:`mcp_pii.vault.Vault.tag`): tokens of two scopes differ, so a token pasted from another
conversation is recognised as foreign and never resolved to this scope's data.

Text that merely looks like a token of the scope (it was in the input before masking) is
*reserved* in the vault when that text is masked: its key is never handed out, and unmasking
leaves it as it is. So for every text, unmasking the masked text gives the text back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

TAG_LENGTH = 6
TAG_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
TOKEN = re.compile(r"\[(?P<key>[A-Z][A-Z0-9_]{0,63}_[1-9][0-9]{0,17})#(?P<tag>[a-z2-7]{6})\]", re.ASCII)

__all__ = ["TAG_ALPHABET", "TAG_LENGTH", "TOKEN", "Token", "find", "render", "token_name"]


@dataclass(frozen=True, slots=True)
class Token:
    """A token found in a text: its span, its key (``NAME_N``) and its scope tag."""

    start: int
    end: int
    key: str
    tag: str


def token_name(type_id: str) -> str:
    """The NAME part of the tokens of a type: its id upper-cased."""
    return type_id.upper()


def render(key: str, tag: str) -> str:
    """The token text for ``key`` (``NAME_N``) in the scope whose tag is ``tag``."""
    return f"[{key}#{tag}]"


def find(text: str) -> Iterator[Token]:
    """Every token in ``text``, of any scope, left to right."""
    for m in TOKEN.finditer(text):
        yield Token(m.start(), m.end(), m["key"], m["tag"])
