"""The pure-Python engine: the same interface as ``mcp_pii._native.Engine``. Mirrors ``native/engine.rs``.

Both take the resolved configuration as JSON (``Config.to_engine_json``) and return their
detections as :mod:`mcp_pii.detection` objects; :mod:`mcp_pii.engine` wraps them in the public
result types.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from mcp_pii import detect
from mcp_pii.catalog import STRATEGIES, compile_config
from mcp_pii.detection import Detection, MaskResult, NestedDetection, built
from mcp_pii.errors import InputError, LimitError
from mcp_pii.mask import Assigned, Masker
from mcp_pii.traverse import Walker, check, surrogate_index, utf8_len


class PyEngine:
    """A compiled configuration, ready to detect, mask and scan."""

    def __init__(self, config_json: str) -> None:
        self._c = compile_config(json.loads(config_json))

    def type_ids(self) -> list[str]:
        """Return the enabled type ids in catalog order."""
        return [t.id for t in self._c.types]

    def _select(self, types: list[str] | None) -> list[int]:
        if types is None:
            return list(range(len(self._c.types)))
        if not isinstance(types, list):
            raise InputError("types must be a list of type ids")
        picked = set()
        for i, name in enumerate(types):
            ti = self._c.index.get(name) if isinstance(name, str) else None
            if ti is None:
                raise InputError(f"unknown PII type at types[{i}]; enabled types are: {', '.join(self.type_ids())}")
            picked.add(ti)
        return sorted(picked)

    def _masker(self, strategy: str | None, assigned: Assigned | None = None) -> Masker:
        if assigned is None and strategy is not None and strategy not in STRATEGIES:
            raise InputError(f"unknown strategy; use one of: {', '.join(STRATEGIES)}")
        return Masker(self._c, strategy, assigned)

    def _tokens(self, tokens: Any) -> Assigned | None:
        """Pre-assigned tokens: a dict of type id to a dict of value to token text."""
        if tokens is None:
            return None
        shape = InputError("tokens must map type ids to dicts of value to token text")

        def text(obj: Any) -> str:
            if not isinstance(obj, str) or surrogate_index(obj) is not None:
                raise shape
            return obj

        if not isinstance(tokens, dict):
            raise shape
        assigned: Assigned = {}
        for type_id, values in tokens.items():
            ti = self._c.index.get(text(type_id))
            if ti is None:
                raise InputError(f"unknown PII type in tokens; enabled types are: {', '.join(self.type_ids())}")
            if not isinstance(values, dict):
                raise shape
            assigned.setdefault(ti, {}).update((text(v), text(t)) for v, t in values.items())
        return assigned

    def _text(self, text: Any) -> str:
        if not isinstance(text, str):
            raise InputError(f"text must be a string, not '{type(text).__name__}'")
        bad = surrogate_index(text)
        if bad is not None:
            raise InputError(f"text has a lone surrogate at index {bad}; send valid Unicode")
        size = utf8_len(text)
        if size > self._c.max_text_bytes:
            raise LimitError(
                f"text is {size} bytes, over the limit of {self._c.max_text_bytes} bytes "
                "(max_text_bytes); split it or raise the limit"
            )
        return text

    def _hits(self, text: str, spans: list[tuple[int, int, int, int]]) -> list[Detection]:
        if not spans:
            return []
        types = self._c.types
        columns = (
            [types[ti].id for _, _, ti, _ in spans],
            [a for a, _, _, _ in spans],
            [b for _, b, _, _ in spans],
            [text[a:b] for a, b, _, _ in spans],
            [types[ti].rule_name(ri) for _, _, ti, ri in spans],
        )
        return built(Detection, columns)

    def detect(self, text: str, types: list[str] | None = None) -> list[Detection]:
        """Return the detections in ``text``, sorted by start."""
        text = self._text(text)
        return self._hits(text, detect.detect(self._c, text, self._select(types)))

    def mask(
        self,
        text: str,
        strategy: str | None = None,
        types: list[str] | None = None,
        tokens: dict[str, dict[str, str]] | None = None,
    ) -> tuple[str, list[Detection]]:
        """Return the masked text and the detections (spans in the input text).

        With ``tokens`` (type id -> value -> token), every detection is replaced by its token.
        """
        masked, text, spans = self._masked(text, strategy, types, self._tokens(tokens))
        return masked, self._hits(text, spans)

    def mask_result(self, text: str, strategy: str | None = None, types: list[str] | None = None) -> MaskResult:
        """:meth:`mask` as the :class:`MaskResult` that ``Engine.mask`` returns."""
        return MaskResult(*self.mask(text, strategy, types))

    def mask_counts(
        self, text: str, strategy: str | None = None, types: list[str] | None = None
    ) -> tuple[str, dict[str, int]]:
        """Return the masked text and the detections per type id, in order of first appearance."""
        masked, _, spans = self._masked(text, strategy, types, None)
        return masked, dict(Counter(self._c.types[ti].id for _, _, ti, _ in spans))

    def _masked(
        self, text: str, strategy: str | None, types: list[str] | None, assigned: Assigned | None
    ) -> tuple[str, str, list[tuple[int, int, int, int]]]:
        """The masked text, the text, and the detections' spans: what ``mask`` and ``mask_counts`` share."""
        text = self._text(text)
        masker = self._masker(strategy, assigned)
        spans = detect.detect(self._c, text, self._select(types))
        return masker.apply(text, spans), text, spans

    def scan(
        self,
        data: Any,
        strategy: str | None = None,
        types: list[str] | None = None,
        mask: bool = True,
        tokens: dict[str, dict[str, str]] | None = None,
    ) -> tuple[Any, list[NestedDetection], int]:
        """Return the data (masked when ``mask``), the detections and the UTF-8 bytes of its strings.

        With ``tokens`` (type id -> value -> token), the data is masked and every detection is
        replaced by its token.
        """
        assigned = self._tokens(tokens)
        mask = mask or assigned is not None
        masker = self._masker(strategy, assigned)
        selected = self._select(types)
        nodes, nbytes = check(self._c, data)
        walker = Walker(self._c, selected, masker if mask else None, nodes)
        out = walker.walk(data, 0, ())
        return (out if mask else data), built(NestedDetection, walker.found), nbytes
