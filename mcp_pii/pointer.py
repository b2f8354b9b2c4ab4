"""Resolving the pointers that ``scan_nested`` detections carry.

A detection names its string by an RFC 6901 pointer (``path``). When the string holds JSON,
the detection is inside that embedded document, and ``embedded`` holds the pointer within it
(one more per level of JSON held in a string of that document). :func:`resolve` follows both.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


def resolve(data: Any, path: str, embedded: Sequence[str] = ()) -> Any:
    """Return the value at ``path`` in ``data``, then at each of ``embedded`` in the JSON it holds.

    Raises:
        KeyError, IndexError, ValueError: A pointer that does not resolve, or a string that holds no JSON.
    """
    node = _at(data, path)
    for inner in embedded:
        node = _at(json.loads(node), inner)
    return node


def _at(doc: Any, pointer: str) -> Any:
    """The value at one RFC 6901 pointer (``""`` is the whole document)."""
    if pointer and not pointer.startswith("/"):
        raise ValueError("a JSON Pointer is empty or starts with '/'")
    for escaped in pointer.split("/")[1:]:
        token = escaped.replace("~1", "/").replace("~0", "~")
        doc = doc[token] if isinstance(doc, dict) else doc[int(token)]
    return doc
