"""scan(): nested JSON values, embedded JSON, pointers and limits, on both engines."""

from __future__ import annotations

import copy
import json
import math
from decimal import Decimal
from typing import Any

import pytest
from conftest import EngineFactory

from mcp_pii import Engine, InputError, LimitError, NestedDetection
from mcp_pii.pointer import resolve


def where(result: Any) -> list[tuple[str, str, str]]:
    return [(d.path + "".join(f" -> {p}" for p in d.embedded), d.type, d.value) for d in result.detections]


# --- pointers ------------------------------------------------------------------------------------


def test_pointers_follow_rfc_6901(engine: Engine) -> None:
    data = {
        "a/b": {"c~d": ["x jane@example.com"]},
        "": "SSN 123-45-6789",
        "~1": {"/": "a@example.com"},
        "ключ": ["", "b@example.com"],
    }
    result = engine.scan(data)
    assert result.detections == [
        NestedDetection("/a~1b/c~0d/0", "email", 2, 18, "jane@example.com"),
        NestedDetection("/", "ssn", 4, 15, "123-45-6789"),
        NestedDetection("/~01/~1", "email", 0, 13, "a@example.com"),
        NestedDetection("/ключ/1", "email", 0, 13, "b@example.com"),
    ]
    assert result.data == {
        "a/b": {"c~d": ["x [EMAIL]"]},
        "": "SSN [SSN]",
        "~1": {"/": "[EMAIL]"},
        "ключ": ["", "[EMAIL]"],
    }


def test_root_values(engine: Engine) -> None:
    result = engine.scan("call (415) 555-0132")
    assert result.data == "call [PHONE]"
    assert result.detections == [NestedDetection("", "phone", 5, 19, "(415) 555-0132")]
    for value in (None, True, False, 0, -7, 2.5, 10**30, [], {}, ""):
        result = engine.scan(value)
        assert result.data == value
        assert type(result.data) is type(value)
        assert result.detections == []


def test_offsets_in_nested_strings_are_code_points(engine: Engine) -> None:
    result = engine.scan({"msg": "👨\u200d👩\u200d👧 Grüße: jane@example.com"})
    assert result.detections == [NestedDetection("/msg", "email", 13, 29, "jane@example.com")]


def test_detections_are_in_document_order(engine: Engine) -> None:
    data = {"z": "z@example.com", "a": ["a@example.com", {"m": "m@example.com"}], "b": "b@example.com"}
    assert [d.path for d in engine.scan(data).detections] == ["/z", "/a/0", "/a/1/m", "/b"]


# --- what is scanned and what is left alone ------------------------------------------------------


def test_keys_and_non_string_leaves_are_untouched(engine: Engine) -> None:
    data = {
        "jane@example.com": "no pii",
        "n": 4111111111111111,
        "f": 1.5,
        "big": 10**30,
        "t": True,
        "nil": None,
        "ssn 123-45-6789": ["SSN 123-45-6789"],
    }
    result = engine.scan(data)
    assert result.data == {
        "jane@example.com": "no pii",
        "n": 4111111111111111,
        "f": 1.5,
        "big": 10**30,
        "t": True,
        "nil": None,
        "ssn 123-45-6789": ["SSN [SSN]"],
    }
    assert list(result.data) == list(data)  # key order kept
    assert type(result.data["t"]) is bool
    assert type(result.data["n"]) is int
    assert where(result) == [("/ssn 123-45-6789/0", "ssn", "123-45-6789")]


def test_input_is_not_modified(engine: Engine) -> None:
    data = {"a": ["jane@example.com", {"b": "SSN 123-45-6789"}], "c": '{"d": "x@example.com"}'}
    before = copy.deepcopy(data)
    result = engine.scan(data)
    assert data == before
    assert result.data != data


def test_mask_false_reports_but_changes_nothing(engine: Engine) -> None:
    data = {"a": ["jane@example.com", ("SSN 123-45-6789",)], "c": '{"d": "x@example.com"}'}
    before = copy.deepcopy(data)
    result = engine.scan(data, mask=False)
    assert result.data == before
    assert where(result) == [
        ("/a/0", "email", "jane@example.com"),
        ("/a/1/0", "ssn", "123-45-6789"),
        ("/c -> /d", "email", "x@example.com"),
    ]
    assert where(result) == where(engine.scan(data))


def test_scanned_bytes_are_those_of_the_strings(engine: Engine) -> None:
    """UTF-8 bytes of every string value, a string holding JSON once as it is; keys, numbers
    and literals count nothing; with or without masking, in a tuple too."""
    strings = ["Zoë jane@example.com", "SSN 123-45-6789", '{"d": "x@example.com", "ключ": "é"}', "", "🙂"]
    data = {"a": [strings[0], (strings[1], 7)], "bé": strings[2], "c": [strings[3], None, True, 2.5, {"d": strings[4]}]}
    expected = sum(len(s.encode()) for s in strings)
    assert engine.scan(data).scanned_bytes == expected
    assert engine.scan(data, mask=False).scanned_bytes == expected
    assert engine.scan(12).scanned_bytes == 0


def test_tuples_are_arrays(engine: Engine) -> None:
    result = engine.scan(("jane@example.com", ("x", 1)))
    assert result.data == ["[EMAIL]", ["x", 1]]
    assert where(result) == [("/0", "email", "jane@example.com")]


# --- what the result is made of -----------------------------------------------------------------


def test_unchanged_parts_are_shared_and_changed_paths_are_new(engine: Engine) -> None:
    data = {"kept": {"a": ["x", 1, None]}, "hit": {"b": ["ok", "mail a@example.com"]}, "n": 2.5, "s": "plain"}
    before = copy.deepcopy(data)
    out = engine.scan(data).data
    assert out == {"kept": {"a": ["x", 1, None]}, "hit": {"b": ["ok", "mail [EMAIL]"]}, "n": 2.5, "s": "plain"}
    assert data == before
    # Containers on the path to a change are new; everything else is the input's own object.
    assert out is not data
    assert out["hit"] is not data["hit"]
    assert out["hit"]["b"] is not data["hit"]["b"]
    assert out["kept"] is data["kept"]
    for key in ("n", "s"):
        assert out[key] is data[key]
    assert out["hit"]["b"][0] is data["hit"]["b"][0]


def test_a_payload_without_detections_comes_back_as_it_is(engine: Engine) -> None:
    data = {"a": [{"b": "nothing here"}, 3], "c": '{"d": "json, no PII"}'}
    assert engine.scan(data).data is data
    assert engine.scan(data, mask=False).data is data


def test_tuples_and_subclasses_come_back_as_json_types(engine: Engine) -> None:
    class Mapping(dict):  # type: ignore[type-arg]
        pass

    class Items(list):  # type: ignore[type-arg]
        pass

    data = {"t": ("x", ("y",)), "m": Mapping(a="b"), "l": Items(["c"]), "deep": [[("z",)]]}
    out = engine.scan(data).data
    assert out == {"t": ["x", ["y"]], "m": {"a": "b"}, "l": ["c"], "deep": [[["z"]]]}
    assert type(out["m"]) is dict
    assert type(out["l"]) is list
    assert type(out["deep"][0][0]) is list
    assert out is not data
    assert out["deep"] is not data["deep"]


def test_keys_that_are_str_subclasses(engine: Engine) -> None:
    class Key(str):
        __slots__ = ()

    result = engine.scan({Key("mail"): "a@example.com", "k": {Key("x"): "y"}})
    assert result.data == {"mail": "[EMAIL]", "k": {"x": "y"}}
    assert where(result) == [("/mail", "email", "a@example.com")]


def test_keys_met_again_read_as_the_first_time(engine: Engine) -> None:
    # The Rust reader keeps the text of a key object it met (by the object, in a table of 64):
    # records sharing their key objects (as json.loads gives), more distinct keys than the table
    # holds, and equal keys that are different objects all read and come back alike.
    records = json.loads(
        json.dumps([{"mail": f"u{i}@example.com", "note": "hi", f"k{i % 150}": "x"} for i in range(400)])
    )
    built = [
        {"".join(["ma", "il"]): r["mail"], "note": r["note"], **{k: v for k, v in r.items() if k[0] == "k"}}
        for r in records
    ]
    expected = [(f"/{i}/mail", "email", f"u{i}@example.com") for i in range(400)]
    for data in (records, built):
        result = engine.scan(data)
        assert where(result) == expected
        assert result.data == [{**src, "mail": "[EMAIL]"} for src in data]
        # The result's keys are the input's own key objects.
        assert all(a is b for out, src in zip(result.data, data, strict=True) for a, b in zip(out, src, strict=True))
    shared = engine.scan({"a": records[:3], "b": {"mail": records[0]["mail"]}, "mail": "none"})
    assert where(shared) == [*((f"/a{p}", t, v) for p, t, v in expected[:3]), ("/b/mail", "email", "u0@example.com")]
    with pytest.raises(InputError, match="lone surrogate") as caught:
        engine.scan([{"ok": "1"}, {"\ud800": "x"}, {"\ud800": "y"}])
    assert "/1" in str(caught.value)


def test_numbers_keep_their_values(engine: Engine) -> None:
    data = [-0.0, 5e-324, 1.7976931348623157e308, 0.1, 2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1]
    out = engine.scan([*data, "a@example.com"]).data
    assert out[:-1] == data
    assert [type(x) for x in out[:-1]] == [type(x) for x in data]
    assert math.copysign(1, out[0]) == -1


def test_integers_past_64_bits_are_not_scanned_under_labelled_keys(engine: Engine) -> None:
    big = 123456789 * 10**40
    result = engine.scan({"ssn": 123456789, "account": big, "flag": {"ssn": True}})
    assert [d.path for d in result.detections] == ["/ssn"]
    assert result.data["account"] is big
    assert result.data["flag"] == {"ssn": True}


def test_a_shared_sub_object_is_scanned_at_each_place(engine: Engine) -> None:
    inner = {"mail": "a@example.com", "note": "hi"}
    result = engine.scan({"x": inner, "y": [inner]})
    assert result.data == {"x": {"mail": "[EMAIL]", "note": "hi"}, "y": [{"mail": "[EMAIL]", "note": "hi"}]}
    assert where(result) == [("/x/mail", "email", "a@example.com"), ("/y/0/mail", "email", "a@example.com")]
    assert inner == {"mail": "a@example.com", "note": "hi"}


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_a_cycle_is_too_deep(engine: Engine, kind: str) -> None:
    cycle: Any = []
    if kind == "list":
        cycle.append(cycle)
    else:
        cycle = {"me": None}
        cycle["me"] = cycle
    with pytest.raises(LimitError, match="max_depth"):
        engine.scan(cycle)
    with pytest.raises(LimitError, match="max_depth"):
        engine.scan(["a@example.com", cycle], mask=False)


def test_errors_of_the_payload_come_before_errors_inside_embedded_json(make_engine: EngineFactory) -> None:
    # Pass 1 (types and limits of the payload as given) finishes before anything is scanned, so
    # a later bad value wins over JSON in an earlier string that is over a limit.
    engine = make_engine(max_nodes=8, max_depth=3)
    with pytest.raises(InputError, match="'/1'"):
        engine.scan(["[1, 2, 3, 4, 5, 6, 7, 8]", {1: "x"}])
    with pytest.raises(InputError, match="'/1/a'"):
        engine.scan(["[[[[1]]]]", {"a": math.nan}])
    with pytest.raises(LimitError, match="max_nodes"):
        engine.scan(["[1, 2, 3, 4, 5, 6, 7, 8]", {"a": "x"}])
    # Within the walk, the first limit met in document order is the one reported.
    with pytest.raises(LimitError, match="max_depth"):
        engine.scan(["[[[[1]]]]", "[1, 2, 3, 4, 5, 6, 7, 8]"])
    with pytest.raises(LimitError, match="max_nodes"):
        engine.scan(["[1, 2, 3, 4, 5, 6, 7, 8]", "[[[[1]]]]"])


def test_key_labels_follow_the_types_asked_for_from_call_to_call(engine: Engine) -> None:
    # Which types a key names is remembered from one scan to the next; the types a call asks
    # for still decide: "phone" alone names phone, so the value is tried as a phone number
    # unless the call leaves phone out, when "token phone" (with the key above) names api_key.
    value = "Zx9fQ2mN7pL4rT8vK3wB5yH1"
    data = {"token": {"phone": value}}
    for _ in range(2):
        assert engine.scan(data).data == data
        masked = engine.scan(data, types=["api_key"])
        assert masked.data == {"token": {"phone": "[API_KEY]"}}
        assert [d.rule for d in masked.detections] == ["api_key-key"]
        assert engine.scan({"phone": value}, types=["api_key"]).detections == []


def test_each_pair_of_keys_names_its_own_types_in_a_long_payload(engine: Engine) -> None:
    # The Rust walk keeps what pairs of keys name by where their texts lie (the same key object
    # under many parents), in a table of 64: hundreds of pairs, the same "number" under parents
    # that name a passport and parents that do not, and each value decided by its own pair.
    value = "123456789"
    number = "number"
    data: dict[str, dict[str, str]] = {}
    for i in range(300):
        parent = f"passport{i}" if i % 3 == 0 else f"order{i}"
        data[parent] = {number: value, "ref": value}
    result = engine.scan(data, mask=False)
    assert [d.path for d in result.detections] == [f"/passport{i}/number" for i in range(0, 300, 3)]
    assert {d.rule for d in result.detections} == {"passport-key"}


def test_scan_takes_strategy_and_types(engine: Engine) -> None:
    data = {"a": "SSN 123-45-6789, jane@example.com", "b": ['["123-45-6789"]']}
    assert engine.scan(data, strategy="partial", types=["ssn"]).data == {
        "a": "SSN ***-**-6789, jane@example.com",
        "b": ['["***-**-6789"]'],
    }


def test_tokenize_numbering_is_shared_across_the_payload(engine: Engine) -> None:
    data = [
        "a@example.com",
        {"x": "b@example.com and a@example.com", "s": "SSN 123-45-6789"},
        '["b@example.com", {"ssn": "SSN 123-45-6789"}, "c@example.com"]',
    ]
    result = engine.scan(data, strategy="tokenize")
    assert result.data == [
        "[EMAIL_1]",
        {"x": "[EMAIL_2] and [EMAIL_1]", "s": "SSN [SSN_1]"},
        '["[EMAIL_2]",{"ssn":"SSN [SSN_1]"},"[EMAIL_3]"]',
    ]


def test_values_repeated_through_a_payload_are_each_reported(engine: Engine) -> None:
    # The Rust walk keeps what a short string holds once it has met it twice: every later
    # occurrence is still reported at its own place and masked in turn.
    row = {"mail": "a@example.com", "city": "Lisboa", "ssn": "123-45-6789", "note": "call 555-123-4567"}
    data = {"rows": [dict(row) for _ in range(6)], "raw": json.dumps([row, row])}
    result = engine.scan(data, strategy="tokenize")
    paths = [d.path + "".join(d.embedded) for d in result.detections]
    assert paths == [f"/rows/{i}/{k}" for i in range(6) for k in ("mail", "ssn", "note")] + [
        f"/raw/{i}/{k}" for i in range(2) for k in ("mail", "ssn", "note")
    ]
    masked = {"mail": "[EMAIL_1]", "city": "Lisboa", "ssn": "[SSN_1]", "note": "call [PHONE_1]"}
    assert result.data == {"rows": [masked] * 6, "raw": json.dumps([masked, masked], separators=(",", ":"))}


# --- embedded JSON -------------------------------------------------------------------------------


def test_embedded_json_is_walked_and_written_back_compactly(engine: Engine) -> None:
    inner = '{ "user": { "email": "jane@example.com", "age": 41, "tags": ["a", "b"] }, "ok": true, "x": null }'
    result = engine.scan({"payload": inner})
    assert result.data == {"payload": '{"user":{"email":"[EMAIL]","age":41,"tags":["a","b"]},"ok":true,"x":null}'}
    assert result.detections == [
        NestedDetection("/payload", "email", 0, 16, "jane@example.com", embedded=("/user/email",))
    ]


def test_pointers_into_embedded_json_resolve_in_input_and_output(engine: Engine) -> None:
    # Regression: the pointer ran on into the embedded document ("/events/1/raw/ip"), which
    # resolves neither in the input nor in the output. Now "path" names the string that holds
    # the JSON and "embedded" the pointer within it, one per level.
    data = {
        "events": [
            {"raw": "nothing"},
            {"raw": json.dumps({"ip": "10.1.2.3", "a/b": [json.dumps({"mail": "x jane@example.com"})]})},
        ]
    }
    result = engine.scan(data)
    assert where(result) == [
        ("/events/1/raw -> /ip", "ip_address", "10.1.2.3"),
        ("/events/1/raw -> /a~1b/0 -> /mail", "email", "jane@example.com"),
    ]
    for d in result.detections:
        assert resolve(data, d.path, d.embedded)[d.start : d.end] == d.value
        assert resolve(result.data, d.path, d.embedded) in ("[IP_ADDRESS]", "x [EMAIL]")
    assert engine.scan(data, mask=False).detections == result.detections


def test_embedded_json_left_verbatim_when_nothing_is_masked(engine: Engine) -> None:
    inner = '{ "user": { "name": "Jane", "n": 1.50e3 } ,  "list": [1, 2] }'
    assert engine.scan({"payload": inner}).data == {"payload": inner}
    assert engine.scan(inner).data == inner
    # mask=False never rewrites, even when there is something to report.
    inner = '{ "email": "jane@example.com" }'
    assert engine.scan([inner], mask=False).data == [inner]


def test_embedded_numbers_keep_their_digits(engine: Engine) -> None:
    # Every mantissa and integer is written back digit for digit (no float round trip: 1.50 stays
    # 1.50, -0 stays -0, 2.0 stays 2.0, a 20-digit integer is not rounded). The exponent is
    # written in one canonical form, a lower-case 'e' with an explicit sign, in both engines.
    inner = '[1.50e3, 1E5, 2e-7, -0, -0.0, 2.0, 12345678901234567890, 0.1000, 3E+2, "jane@example.com"]'
    assert engine.scan(inner).data == '[1.50e+3,1e+5,2e-7,-0,-0.0,2.0,12345678901234567890,0.1000,3e+2,"[EMAIL]"]'


def test_embedded_strings_are_reencoded_as_json(engine: Engine) -> None:
    # Escapes in the source are decoded, and written back the way json.dumps(ensure_ascii=False)
    # writes them: non-ASCII as is, control characters escaped.
    inner = r'{"name": "Jos\u00e9 \"JJ\"", "note": "line\nnext\ttab \u001f \u2028 /", "e": "a@example.com"}'
    result = engine.scan(inner)
    assert result.data == '{"name":"José \\"JJ\\"","note":"line\\nnext\\ttab \\u001f \u2028 /","e":"[EMAIL]"}'
    assert json.loads(result.data)["name"] == 'José "JJ"'


def test_embedded_json_may_be_padded_with_whitespace(engine: Engine) -> None:
    assert engine.scan(' \n\t[ "a@example.com" ] \n').data == '["[EMAIL]"]'
    assert where(engine.scan(' \n\t[ "a@example.com" ] \n')) == [(" -> /0", "email", "a@example.com")]


def test_embedded_json_nests(engine: Engine) -> None:
    inner = json.dumps({"level2": json.dumps({"email": "deep@example.com"})})
    result = engine.scan({"level1": inner})
    assert where(result) == [("/level1 -> /level2 -> /email", "email", "deep@example.com")]
    assert result.data == {"level1": '{"level2":"{\\"email\\":\\"[EMAIL]\\"}"}'}


@pytest.mark.parametrize(
    "text",
    [
        '{"a": "jane@example.com"',  # truncated
        '{"a": "jane@example.com",}',  # trailing comma
        "{'a': 'jane@example.com'}",  # not JSON (single quotes)
        '{"a": NaN, "b": "jane@example.com"}',  # NaN is not JSON
        '[1, 2] "jane@example.com"',  # extra data after the value
        '"jane@example.com"',  # a JSON string, not an object or array
        '{"a": "\\ud800", "b": "jane@example.com"}',  # lone-surrogate escape
        '["\\udc00x", "jane@example.com"]',
        '{"\\ud800": "jane@example.com"}',  # lone surrogate in a key
    ],
)
def test_strings_that_are_not_clean_json_are_plain_text(engine: Engine, text: str) -> None:
    start = text.index("jane@example.com")
    result = engine.scan({"s": text})
    assert result.detections == [NestedDetection("/s", "email", start, start + 16, "jane@example.com")]
    assert result.data == {"s": text.replace("jane@example.com", "[EMAIL]")}


def test_embedded_json_with_duplicate_keys_does_not_hide_values(engine: Engine) -> None:
    # Regression: duplicate keys in embedded JSON collapsed to the last value, so the earlier
    # values were neither reported nor masked. Such a string is now scanned as plain text.
    result = engine.scan({"s": '{"a": "jane@example.com", "a": "nothing"}'})
    assert "jane@example.com" not in json.dumps(result.data)
    assert [d.path for d in result.detections] == ["/s"]


# --- errors and limits ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "pointer"),
    [
        ({"a": {1, 2}}, "/a"),
        ([b"jane@example.com"], "/0"),
        ({"a": [1, math.nan]}, "/a/1"),
        ({"a": math.inf}, "/a"),
        ([-math.inf], "/0"),
        ({"x~y": [object()]}, "/x~0y/0"),
        ([Decimal("1.5")], "/0"),
        ([1 + 2j], "/0"),
        ({"a": bytearray(b"x")}, "/a"),
        ({1: "a"}, ""),
        ({"k": {None: "a"}}, "/k"),
        ({"s": "ok", "t": ["x\ud800"]}, "/t/0"),
        ({"a\udc00": "b"}, ""),
    ],
)
def test_unsupported_values_are_input_errors(engine: Engine, data: Any, pointer: str) -> None:
    with pytest.raises(InputError, match=f"'{pointer}'"):
        engine.scan(data)
    with pytest.raises(InputError, match=f"'{pointer}'"):
        engine.scan(data, mask=False)


def test_errors_never_echo_values(engine: Engine) -> None:
    with pytest.raises(InputError) as info:
        engine.scan({"secret": ["jane@example.com", {b"x"}]})
    assert "jane@example.com" not in str(info.value)


def test_max_depth(make_engine: EngineFactory) -> None:
    engine = make_engine(max_depth=3)
    assert engine.scan([[["a@example.com"]]]).data == [[["[EMAIL]"]]]
    with pytest.raises(LimitError, match="max_depth"):
        engine.scan([[[["a@example.com"]]]])
    with pytest.raises(LimitError, match="max_depth"):
        engine.scan({"a": {"b": {"c": {"d": None}}}})
    # Embedded JSON continues the depth of its string.
    assert engine.scan([["[1]"]]).data == [["[1]"]]
    with pytest.raises(LimitError, match="max_depth"):
        engine.scan([["[[1]]"]])
    with pytest.raises(LimitError, match="max_depth"):
        engine.scan('[[[["a@example.com"]]]]')


def test_embedded_json_too_deep(make_engine: EngineFactory) -> None:
    deep = "[" * 70 + '"a@example.com"' + "]" * 70
    with pytest.raises(LimitError, match="max_depth"):
        make_engine().scan({"s": deep})
    with pytest.raises(LimitError, match="max_depth"):
        make_engine(max_depth=100).scan({"s": "[" * 150 + "]" * 150})
    assert make_engine(max_depth=100).scan({"s": deep}).data == {"s": "[" * 70 + '"[EMAIL]"' + "]" * 70}


@pytest.mark.parametrize("brackets", [65, 200, 10_000])
def test_text_that_only_starts_like_deep_json_is_scanned_as_text(engine: Engine, brackets: int) -> None:
    # Regression (an open problem until now): a string starting with more than max_depth (64)
    # brackets failed with the depth error although it is no JSON at all; it is text.
    for text in ("[" * brackets + " mail a@example.com", "[" * brackets + '"a@example.com"' + "]" * (brackets - 1)):
        result = engine.scan({"s": text})
        assert result.data == {"s": text.replace("a@example.com", "[EMAIL]")}
        assert where(result) == [("/s", "email", "a@example.com")]
    # JSON that deep is still refused, whatever its depth.
    with pytest.raises(LimitError, match="max_depth"):
        engine.scan({"s": "[" * brackets + '"a@example.com"' + "]" * brackets})


def test_max_nodes(make_engine: EngineFactory) -> None:
    engine = make_engine(max_nodes=5)
    assert engine.scan({"a": [1, 2, "x"]}).data == {"a": [1, 2, "x"]}  # 5 values
    with pytest.raises(LimitError, match="max_nodes"):
        engine.scan({"a": [1, 2, "x", None]})
    # The values inside embedded JSON count too.
    assert engine.scan(["[1,2]"]).data == ["[1,2]"]
    with pytest.raises(LimitError, match="max_nodes"):
        engine.scan(["[1,2,3]"])
    with pytest.raises(LimitError, match="max_nodes"):
        engine.scan(["[1,2,3]"], mask=False)


def test_max_text_bytes_is_a_total(make_engine: EngineFactory) -> None:
    engine = make_engine(max_text_bytes=10)
    assert engine.scan(["aaa", "ééé", "b"]).data == ["aaa", "ééé", "b"]  # 3 + 6 + 1 bytes
    with pytest.raises(LimitError, match="max_text_bytes"):
        engine.scan(["aaaaa", "aaaaa", "a"])
    with pytest.raises(LimitError, match="max_text_bytes"):
        engine.scan({"x": "éééééé"})
    # Keys do not count; numbers do not count.
    assert engine.scan({"k" * 50: 123456789012345, "a": "aaaaaaaaaa"}).data == {
        "k" * 50: 123456789012345,
        "a": "a" * 10,
    }


def test_limits_apply_with_mask_false(make_engine: EngineFactory) -> None:
    with pytest.raises(LimitError):
        make_engine(max_depth=1).scan([["x"]], mask=False)
    with pytest.raises(LimitError):
        make_engine(max_text_bytes=3).scan(["abcd"], mask=False)


def test_an_error_leaves_nothing_half_done(make_engine: EngineFactory) -> None:
    # The limits and types are checked before anything is scanned.
    engine = make_engine(max_nodes=3)
    data = ["jane@example.com", "SSN 123-45-6789", "x", "y"]
    with pytest.raises(LimitError):
        engine.scan(data)
    assert data[0] == "jane@example.com"
