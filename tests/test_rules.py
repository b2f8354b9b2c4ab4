"""Every type's and rule's own examples and counterexamples from the catalog, on both engines.

A type file and a rule file carry what they must find (``examples``: a whole text, or a ``value``
inside a ``text``) and what they must not (``counterexamples``); a value format carries an example
that must be found after the type's first label phrase. Adding a vendor is one file, and these
tests run it.
"""

from __future__ import annotations

from typing import Any

import pytest

from mcp_pii import Engine
from mcp_pii.catalog import catalog_data


def _example(case: str | dict[str, str]) -> tuple[str, str]:
    if isinstance(case, str):
        return case, case
    return case["text"], case["value"]


def _type_cases(kind: str) -> list[Any]:
    return [
        pytest.param(t["id"], case, id=f"{t['id']}-{i}")
        for t in catalog_data()["types"]
        for i, case in enumerate(t.get(kind, []))
    ]


def _rules() -> list[dict[str, Any]]:
    return [{**r, "type": t["id"]} for t in catalog_data()["types"] for r in t.get("rules", [])] + list(
        catalog_data()["rules"]
    )


def _rule_cases(kind: str) -> list[Any]:
    return [
        pytest.param(r["type"], r["id"], case, id=f"{r['id']}-{i}")
        for r in _rules()
        for i, case in enumerate(r.get(kind, []))
    ]


def _format_cases() -> list[Any]:
    return [
        pytest.param(t["id"], t["labels"]["phrases"][0], f, id=f"{t['id']}-{f['region']}-{i}")
        for t in catalog_data()["types"]
        for i, f in enumerate(t.get("formats", []))
    ]


def _found(engine: Engine, type_id: str, text: str, value: str) -> list[str]:
    """The rules that found exactly ``value`` (which occurs once in ``text``) as ``type_id``."""
    assert text.count(value) == 1, f"the value must occur once in its text: {text!r}"
    start = text.index(value)
    return [
        d.rule
        for d in engine.detect(text, types=[type_id])
        if (d.start, d.end, d.type) == (start, start + len(value), type_id)
    ]


@pytest.mark.parametrize(("type_id", "case"), _type_cases("examples"))
def test_type_example_is_found(engine: Engine, type_id: str, case: str | dict[str, str]) -> None:
    text, value = _example(case)
    assert _found(engine, type_id, text, value), (type_id, text)
    # Found among every type too, not hidden behind another type's span.
    start = text.index(value)
    assert any((d.type, d.start, d.end) == (type_id, start, start + len(value)) for d in engine.detect(text))


@pytest.mark.parametrize(("type_id", "case"), _type_cases("counterexamples"))
def test_type_counterexample_is_not_found(engine: Engine, type_id: str, case: str | dict[str, str]) -> None:
    text, _ = _example(case)
    assert engine.detect(text, types=[type_id]) == []


@pytest.mark.parametrize(("type_id", "rule", "case"), _rule_cases("examples"))
def test_rule_example_is_found(engine: Engine, type_id: str, rule: str, case: str | dict[str, str]) -> None:
    text, value = _example(case)
    assert rule in _found(engine, type_id, text, value), (rule, text)


@pytest.mark.parametrize(("type_id", "rule", "case"), _rule_cases("counterexamples"))
def test_rule_counterexample_is_not_found(engine: Engine, type_id: str, rule: str, case: str | dict[str, str]) -> None:
    text, _ = _example(case)
    assert [d for d in engine.detect(text, types=[type_id]) if d.rule == rule] == []


@pytest.mark.parametrize(("type_id", "phrase", "fmt"), _format_cases())
def test_format_example_is_found_after_a_label(engine: Engine, type_id: str, phrase: str, fmt: dict[str, str]) -> None:
    for text in (f"{phrase}: {fmt['example']}", f"{phrase.replace(' ', '_')} = {fmt['example']}"):
        assert _found(engine, type_id, text, fmt["example"]), (fmt["region"], text)
    # Without a label, nothing.
    assert engine.detect(f"ref {fmt['example']}", types=[type_id]) == []


def test_every_rule_has_examples() -> None:
    for rule in _rules():
        if not rule.get("custom"):
            assert rule.get("examples"), f"rule {rule['id']} has no examples"
