"""The result classes: the Rust extension's (``native/objects.rs``) behave as the plain dataclasses.

With the extension, ``mcp_pii.Detection``, ``mcp_pii.NestedDetection`` and ``mcp_pii.MaskResult``
are its classes, which the binding makes without running Python code; without it (the pure
wheel), they are the plain slots dataclasses of ``mcp_pii.detection``. Each check below runs on
both and compares.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
import subprocess
import sys
import typing
from typing import Any

import pydantic
import pytest
from conftest import require_impl
from test_engine_fallback import HIDE_NATIVE

from mcp_pii import Detection, Engine, MaskResult, NestedDetection
from mcp_pii.detection import PlainDetection, PlainMaskResult, PlainNestedDetection, built

FLAT: dict[str, Any] = {"type": "ssn", "start": 4, "end": 15, "value": "123-45-6789", "rule": "ssn-label"}
NESTED: dict[str, Any] = {"path": "/a/0", **FLAT, "embedded": ("/user",)}
PAIRS = [
    pytest.param("Detection", PlainDetection, FLAT, id="Detection"),
    pytest.param("NestedDetection", PlainNestedDetection, NESTED, id="NestedDetection"),
]


def native_class(name: str) -> type:
    """The extension's class ``name``."""
    require_impl("rust")
    from mcp_pii import _native

    made: type = getattr(_native, name)
    return made


def test_with_the_extension_the_public_names_are_its_classes() -> None:
    require_impl("rust")
    from mcp_pii import _native as native

    assert Detection is native.Detection
    assert NestedDetection is native.NestedDetection
    assert MaskResult is native.MaskResult
    assert type(Engine().detect("SSN 123-45-6789")[0]) is native.Detection
    assert type(Engine(implementation="python").detect("SSN 123-45-6789")[0]) is native.Detection
    assert type(Engine().scan({"a": "SSN 123-45-6789"}).detections[0]) is native.NestedDetection
    for implementation in ("rust", "python"):
        result = Engine(implementation=implementation).mask("SSN 123-45-6789")  # type: ignore[arg-type]
        assert type(result) is native.MaskResult
        assert (result.text, result.scope, type(result.detections[0])) == ("SSN [SSN]", None, native.Detection)


def test_without_the_extension_the_public_names_are_the_dataclasses() -> None:
    check = (
        "import dataclasses, mcp_pii, mcp_pii.detection as d; "
        "assert mcp_pii.Detection is d.PlainDetection and mcp_pii.NestedDetection is d.PlainNestedDetection; "
        "assert mcp_pii.MaskResult is d.PlainMaskResult; "
        "found = mcp_pii.Engine().detect('SSN 123-45-6789'); "
        "assert dataclasses.is_dataclass(found[0]) and type(found[0]) is d.PlainDetection, found; "
        "assert type(mcp_pii.Engine().mask('SSN 123-45-6789')) is d.PlainMaskResult"
    )
    subprocess.run([sys.executable, "-c", HIDE_NATIVE + check], check=True, capture_output=True, timeout=60)


@pytest.mark.parametrize(("name", "plain", "fields"), PAIRS)
def test_construction_fields_and_defaults(name: str, plain: type, fields: dict[str, Any]) -> None:
    made = native_class(name)
    for cls in (made, plain):
        positional, keyword = cls(*fields.values()), cls(**fields)
        assert [getattr(positional, f) for f in fields] == list(fields.values())
        assert [getattr(keyword, f) for f in fields] == list(fields.values())
        required = {k: v for k, v in fields.items() if k not in ("rule", "embedded")}
        bare = cls(**required)
        assert bare.rule == ""
        assert getattr(bare, "embedded", ()) == ()
        with pytest.raises(TypeError):
            cls(*list(required.values())[:-1])
        with pytest.raises(TypeError):
            cls(**fields, colour="red")


@pytest.mark.parametrize(("name", "plain", "fields"), PAIRS)
def test_equality_and_hash_ignore_the_rule_only(name: str, plain: type, fields: dict[str, Any]) -> None:
    made = native_class(name)
    key = tuple(v for k, v in fields.items() if k != "rule")
    for cls in (made, plain):
        a = cls(**fields)
        assert a == cls(**{**fields, "rule": "other"})
        assert hash(a) == hash(cls(**{**fields, "rule": "other"})) == hash(key)
        assert a != cls(**{**fields, "value": "987-65-4321"})
        assert a != cls(**{**fields, "end": 16})
        assert a != key  # another class: never equal
        assert len({a, cls(**fields), cls(**{**fields, "start": 0})}) == 2
        with pytest.raises(TypeError):
            _ = a < cls(**fields)
    assert made(**fields) != plain(**fields)  # the two classes are not each other


@pytest.mark.parametrize(("name", "plain", "fields"), PAIRS)
def test_repr_is_the_dataclass_repr(name: str, plain: type, fields: dict[str, Any]) -> None:
    made = native_class(name)
    assert repr(made(**fields)) == repr(plain(**fields))
    odd = {**fields, "value": "quote ' and \u00e9"}
    assert repr(made(**odd)) == repr(plain(**odd))


@pytest.mark.parametrize(("name", "plain", "fields"), PAIRS)
def test_fields_can_be_set_and_no_others_added(name: str, plain: type, fields: dict[str, Any]) -> None:
    made = native_class(name)
    for cls in (made, plain):
        d = cls(**fields)
        d.start, d.end = 5, 9
        assert (d.start, d.end) == (5, 9)
        with pytest.raises(AttributeError):
            d.colour = "red"


@pytest.mark.parametrize(("name", "plain", "fields"), PAIRS)
def test_dataclass_functions_take_both(name: str, plain: type, fields: dict[str, Any]) -> None:
    made = native_class(name)
    a, b = made(**fields), plain(**fields)
    assert dataclasses.is_dataclass(a)
    assert [f.name for f in dataclasses.fields(a)] == [f.name for f in dataclasses.fields(b)] == list(fields)
    assert dataclasses.asdict(a) == dataclasses.asdict(b) == fields
    moved = dataclasses.replace(a, start=0, end=11)
    assert type(moved) is made
    assert moved == made(**{**fields, "start": 0, "end": 11})
    assert moved.rule == fields["rule"]
    assert made.__doc__ == plain.__doc__
    if sys.version_info >= (3, 13):
        assert copy.replace(a, start=0) == made(**{**fields, "start": 0})  # type: ignore[attr-defined]


@pytest.mark.parametrize(("name", "plain", "fields"), PAIRS)
def test_pydantic_takes_both(name: str, plain: type, fields: dict[str, Any]) -> None:
    # pydantic (and FastAPI's response models) make a dataclass blank and set its fields.
    made = native_class(name)
    given = {**fields, "embedded": list(fields["embedded"])} if "embedded" in fields else fields
    for cls in (made, plain):
        adapter = pydantic.TypeAdapter(list[cls])  # type: ignore[valid-type]
        [back] = adapter.validate_python([given])
        assert type(back) is cls
        assert [getattr(back, f) for f in fields] == list(fields.values())
        assert adapter.dump_python([back]) == [fields]
        with pytest.raises(pydantic.ValidationError):
            adapter.validate_python([{**fields, "start": "four"}])
    assert pydantic.TypeAdapter(made).json_schema() == pydantic.TypeAdapter(plain).json_schema()
    assert typing.get_type_hints(made) == typing.get_type_hints(plain)
    # The blank object pydantic starts from: what `object.__new__` gives a dataclass, with None fields.
    assert all(getattr(made(), f) is None for f in fields if f not in ("rule", "embedded"))


@pytest.mark.parametrize(("name", "plain", "fields"), PAIRS)
def test_pickle_and_copies_keep_every_field(name: str, plain: type, fields: dict[str, Any]) -> None:
    made = native_class(name)
    a = made(**fields)
    for back in (pickle.loads(pickle.dumps(a)), copy.copy(a), copy.deepcopy(a)):
        assert type(back) is made
        assert [getattr(back, f) for f in fields] == list(fields.values())
    assert made.__module__ == plain.__module__ == "mcp_pii.detection"


@pytest.mark.parametrize(("name", "plain", "fields"), PAIRS)
def test_match_by_position(name: str, plain: type, fields: dict[str, Any]) -> None:
    made = native_class(name)
    assert made.__match_args__ == plain.__match_args__ == tuple(fields)
    for cls in (made, plain):
        match cls(**fields):
            case Detection(kind, start, end, value) | NestedDetection(_, kind, start, end, value):
                assert (kind, start, end, value) == ("ssn", 4, 15, "123-45-6789")
            case PlainDetection(kind, start, end, value) | PlainNestedDetection(_, kind, start, end, value):
                assert (kind, start, end, value) == ("ssn", 4, 15, "123-45-6789")
            case _:
                pytest.fail("no pattern matched")


def test_built_makes_objects_from_columns() -> None:
    columns = (["ssn", "email"], [0, 20], [11, 36], ["123-45-6789", "jane@example.com"], ["ssn", "email"])
    for kind in (Detection, PlainDetection):
        assert built(kind, columns) == [kind("ssn", 0, 11, "123-45-6789"), kind("email", 20, 36, "jane@example.com")]
        assert built(kind, ([], [], [], [], [])) == []


MASKED: dict[str, Any] = {"text": "SSN [SSN]", "detections": [Detection(**FLAT)], "scope": "s-1"}


def test_mask_result_is_its_dataclass() -> None:
    # What Engine.mask returns, made by the binding: every use of the dataclass holds for it too.
    made = native_class("MaskResult")
    for cls in (made, PlainMaskResult):
        a = cls(**MASKED)
        assert [getattr(cls(*MASKED.values()), f) for f in MASKED] == list(MASKED.values())
        assert cls("x", []).scope is None
        with pytest.raises(TypeError):
            cls("x")
        with pytest.raises(TypeError):
            cls(**MASKED, colour="red")
        # Equal on every field; mutable, so unhashable (as a non-frozen dataclass).
        assert a == cls(**MASKED)
        assert a != cls(**{**MASKED, "scope": None})
        assert a != cls(**{**MASKED, "detections": []})
        assert a != tuple(MASKED.values())
        with pytest.raises(TypeError):
            hash(a)
        a.text = "changed"
        assert a.text == "changed"
        with pytest.raises(AttributeError):
            a.colour = "red"
        match cls(**MASKED):
            case MaskResult(text, found, scope) | PlainMaskResult(text, found, scope):
                assert (text, len(found), scope) == ("SSN [SSN]", 1, "s-1")
            case _:
                pytest.fail("no pattern matched")
    a = made(**MASKED)
    assert made(**MASKED) != PlainMaskResult(**MASKED)  # the two classes are not each other
    assert repr(a) == repr(PlainMaskResult(**MASKED))
    assert made.__match_args__ == PlainMaskResult.__match_args__ == tuple(MASKED)
    assert made.__module__ == PlainMaskResult.__module__ == "mcp_pii.detection"
    assert made.__doc__ == PlainMaskResult.__doc__
    assert dataclasses.is_dataclass(a)
    assert dataclasses.asdict(a) == dataclasses.asdict(PlainMaskResult(**MASKED))
    assert dataclasses.replace(a, scope=None) == made("SSN [SSN]", MASKED["detections"])
    for back in (pickle.loads(pickle.dumps(a)), copy.copy(a), copy.deepcopy(a)):
        assert type(back) is made
        assert back == a
    adapter = pydantic.TypeAdapter(made)
    back = adapter.validate_python({**MASKED, "detections": [FLAT]})
    assert type(back) is made
    assert (back.text, back.scope, back.detections[0].value) == ("SSN [SSN]", "s-1", "123-45-6789")
    assert adapter.json_schema() == pydantic.TypeAdapter(PlainMaskResult).json_schema()
