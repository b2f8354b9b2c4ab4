"""The catalog and the detection corpus (tests/corpus/cases.toml), run against both engines."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from conftest import load_corpus

from mcp_pii import Detection, Engine
from mcp_pii.catalog import PARTIAL_RULES, VALIDATORS, builtin_type_ids, catalog_data, check_dialect

CORPUS = load_corpus()
CORPUS_DIR = Path(__file__).parent / "corpus"
TYPE_IDS = builtin_type_ids()
MIN_CASES = 8

# Every type the design names, in the order the catalog must list them (the order breaks ties).
DESIGN_TYPES = (
    "email",
    "credit_card",
    "ssn",
    "phone",
    "ip_address",
    "date_of_birth",
    "passport",
    "driver_license",
    "bank_account",
    "iban",
    "medical_record",
    "aws_access_key",
    "github_token",
    "slack_token",
    "stripe_key",
    "google_api_key",
    "jwt",
    "private_key",
    "api_key",
    "password",
    "bsn",
)
# Types found only through a label or a key, never by their shape alone.
LABELLED_ONLY = ("date_of_birth", "passport", "driver_license", "bank_account", "medical_record", "bsn")


def _negative(case: str | dict[str, Any]) -> tuple[str, list[str]]:
    if isinstance(case, str):
        return case, []
    return case["text"], list(case.get("also", []))


def _params(kind: str) -> list[Any]:
    return [
        pytest.param(type_id, case, id=f"{type_id}-{i}")
        for type_id in TYPE_IDS
        for i, case in enumerate(CORPUS.get(type_id, {}).get(kind, []))
    ]


# --- the catalog itself --------------------------------------------------------------------------


def test_catalog_lists_the_designed_types_in_order() -> None:
    assert TYPE_IDS == DESIGN_TYPES


def _rules() -> list[dict[str, Any]]:
    """Every named rule of the catalog: those in type files and those in rules/."""
    out = [{**r, "type": t["id"]} for t in catalog_data()["types"] for r in t.get("rules", [])]
    return out + list(catalog_data()["rules"])


def test_catalog_entries_are_well_formed() -> None:
    seen = set()
    for entry in catalog_data()["types"]:
        tid = entry["id"]
        assert re.fullmatch(r"[a-z][a-z0-9_]*", tid), tid
        assert tid not in seen
        seen.add(tid)
        assert entry["category"] in ("personal", "secret"), tid
        assert entry["description"], tid
        assert entry.get("patterns") or entry.get("rules") or entry.get("labels"), tid
        for shape in entry.get("patterns", []):
            pattern = shape if isinstance(shape, str) else shape["pattern"]
            if not isinstance(shape, str):
                assert set(shape) == {"pattern", "keywords"}, tid
                assert shape["keywords"], tid
            check_dialect(pattern)
            compiled = re.compile(pattern, re.ASCII)
            assert set(compiled.groupindex) <= {"value"}, f"{tid}: only a group named 'value' is allowed"
        assert entry.get("validator") in (None, *VALIDATORS), tid
        assert entry.get("partial", "tail") in PARTIAL_RULES, tid
        assert entry.get("examples"), f"{tid}: examples"
        assert entry.get("counterexamples"), f"{tid}: counterexamples"
        labels = entry.get("labels")
        if labels is not None:
            assert labels["phrases"], tid
            assert labels.get("values") or entry.get("formats"), tid
            assert all(p == p.lower() and p.strip() == p for p in labels["phrases"]), tid
            for value in labels.get("values", []):
                check_dialect(value)


def test_rules_are_well_formed() -> None:
    ids = set()
    for rule in _rules():
        rid = rule["id"]
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", rid), rid
        assert rid not in ids, f"rule id {rid} is used twice"
        ids.add(rid)
        assert rule["type"] in TYPE_IDS, rid
        check_dialect(rule["pattern"])
        assert set(re.compile(rule["pattern"], re.ASCII).groupindex) <= {"value"}, rid
        assert all(k == k.strip() and k for k in rule.get("keywords", [])), rid
    assert not ids & set(TYPE_IDS), "a rule id may not be a type id"


def test_labelled_only_types_have_no_bare_patterns() -> None:
    # DESIGN.md: these shapes are only PII when something names them (a label or a key).
    for entry in catalog_data()["types"]:
        if entry["id"] in LABELLED_ONLY:
            assert not entry.get("patterns"), entry["id"]
            assert entry.get("labels"), entry["id"]


def test_engine_types_follow_the_catalog(engine: Engine) -> None:
    assert engine.types == list(TYPE_IDS)


# --- the corpus ----------------------------------------------------------------------------------


def test_corpus_covers_every_type() -> None:
    assert set(CORPUS) == set(TYPE_IDS), "one corpus table per catalog type, and no others"
    for type_id in TYPE_IDS:
        section = CORPUS[type_id]
        assert set(section) == {"positives", "negatives"}, type_id
        assert len(section["positives"]) >= MIN_CASES, type_id
        assert len(section["negatives"]) >= MIN_CASES, type_id
        for case in section["positives"]:
            assert set(case) == {"text", "value"}, case
            assert case["text"].count(case["value"]) == 1, f"value must occur once in its text: {case}"
        for case in section["negatives"]:
            if isinstance(case, dict):
                assert set(case) == {"text", "also"}, case
                assert type_id not in case["also"], case
                assert set(case["also"]) <= set(TYPE_IDS), case


@pytest.mark.parametrize(("type_id", "case"), _params("positives"))
def test_positive(engine: Engine, type_id: str, case: dict[str, str]) -> None:
    text, value = case["text"], case["value"]
    start = text.index(value)
    want = [Detection(type_id, start, start + len(value), value)]
    assert [d for d in engine.detect(text) if d.type == type_id] == want
    assert engine.detect(text, types=[type_id]) == want


@pytest.mark.parametrize(("type_id", "case"), _params("negatives"))
def test_negative(engine: Engine, type_id: str, case: str | dict[str, Any]) -> None:
    text, also = _negative(case)
    assert [d for d in engine.detect(text) if d.type not in also] == []
    # Not hidden behind another type's span either.
    assert engine.detect(text, types=[type_id]) == []


def test_corpus_masks_every_positive(engine: Engine) -> None:
    # With the label strategy, no positive value survives in the masked text.
    for type_id in TYPE_IDS:
        for case in CORPUS[type_id]["positives"]:
            masked = engine.mask(case["text"]).text
            assert case["value"] not in masked, (type_id, case)
            assert f"[{type_id.upper()}]" in masked, (type_id, case)


HARD_NEGATIVES = tomllib.loads((CORPUS_DIR / "hard_negatives.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "text",
    [pytest.param(text, id=f"{group}-{i}") for group, texts in HARD_NEGATIVES.items() for i, text in enumerate(texts)],
)
def test_hard_negative(engine: Engine, text: str) -> None:
    assert engine.detect(text) == []
    # A JSON object keyed by the same words is no different.
    assert engine.scan({"note": text}).detections == []
