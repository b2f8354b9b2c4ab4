"""Detection semantics (DESIGN.md, "Detection semantics"), the same for both engines."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import EngineFactory, load_corpus

from mcp_pii import Config, CustomPattern, Detection, Engine, InputError, LimitError

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUgRG9lIiwiaWF0IjoxNTE2"
    "MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
GHP = "ghp_FAKEfakeFAKEfake1234567890abcdefABCD"


def spans(detections: list[Detection]) -> list[tuple[str, int, int]]:
    return [(d.type, d.start, d.end) for d in detections]


def assert_consistent(text: str, detections: list[Detection]) -> None:
    """Values match their spans; spans are sorted and never overlap."""
    end = 0
    for d in detections:
        assert text[d.start : d.end] == d.value
        assert d.start < d.end
        assert d.start >= end, f"{d} overlaps the previous detection"
        end = d.end


# --- overlaps ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "SSN 212-55-1234",
        "Phone: 212-55-1234",
        "tel 212 55 1234",
        "ssn: 212551234",
        "+1 212-55-1234",
        "Call 123-45-6789 now",
    ],
)
def test_an_ssn_is_never_also_a_phone(engine: Engine, text: str) -> None:
    found = engine.detect(text)
    assert [d.type for d in found] == ["ssn"]
    assert found[0].value.replace(" ", "").replace("-", "")[-4:] in ("1234", "6789")


def test_detections_never_overlap_across_the_corpus(engine: Engine) -> None:
    corpus = load_corpus()
    for section in corpus.values():
        for case in section["positives"]:
            assert_consistent(case["text"], engine.detect(case["text"]))
    everything = "\n".join(case["text"] for s in corpus.values() for case in s["positives"])
    found = engine.detect(everything)
    assert_consistent(everything, found)
    assert len(found) >= sum(len(s["positives"]) for s in corpus.values())


def test_longer_span_wins_at_the_same_start(engine: Engine) -> None:
    # The email starts where the card does and is longer; the card is not reported.
    text = "4111111111111111@example.com"
    assert spans(engine.detect(text)) == [("email", 0, 28)]
    assert spans(engine.detect(text, types=["credit_card"])) == [("credit_card", 0, 16)]


def test_catalog_order_breaks_ties(engine: Engine) -> None:
    # "token=<jwt>" is both a jwt and an api_key with the same span: jwt comes first in the catalog.
    text = f"token={JWT}"
    assert spans(engine.detect(text)) == [("jwt", 6, 6 + len(JWT))]
    assert spans(engine.detect(text, types=["api_key", "jwt"])) == [("jwt", 6, 6 + len(JWT))]
    assert spans(engine.detect(text, types=["api_key"])) == [("api_key", 6, 6 + len(JWT))]
    text = f"token: {GHP}"
    assert spans(engine.detect(text)) == [("github_token", 7, 7 + len(GHP))]
    text = f"Authorization: Bearer {JWT}"
    assert [d.type for d in engine.detect(text)] == ["jwt"]


def test_nothing_is_masked_twice(engine: Engine) -> None:
    assert engine.mask(f"token={JWT}").text == "token=[JWT]"
    assert engine.mask(f"token: {GHP}").text == "token: [GITHUB_TOKEN]"
    assert engine.mask("4111111111111111@example.com").text == "[EMAIL]"
    assert engine.mask("SSN 212-55-1234").text == "SSN [SSN]"


def test_overlap_rules_with_custom_types(make_engine: EngineFactory) -> None:
    engine = make_engine(
        custom_patterns=[
            CustomPattern(id="word_a", pattern="abc"),
            CustomPattern(id="word_b", pattern="abcdef"),
            CustomPattern(id="word_c", pattern="bcdefgh"),
            CustomPattern(id="twin_1", pattern="xyz"),
            CustomPattern(id="twin_2", pattern="xyz"),
            CustomPattern(id="emp_ssn", pattern="[0-9]{3}-[0-9]{2}-[0-9]{4}"),
        ]
    )
    # Longer first at the same start; an earlier start beats a longer span that starts later.
    assert spans(engine.detect("abcdefgh")) == [("word_b", 0, 6)]
    assert spans(engine.detect("abcdefgh", types=["word_c", "word_a"])) == [("word_a", 0, 3)]
    # Same span: the type listed first wins (custom types follow the built-in ones, in order).
    assert spans(engine.detect("xyz")) == [("twin_1", 0, 3)]
    assert spans(engine.detect("xyz", types=["twin_2", "twin_1"])) == [("twin_1", 0, 3)]
    assert spans(engine.detect("id 123-45-6789")) == [("ssn", 3, 14)]
    assert spans(engine.detect("id 123-45-6789", types=["emp_ssn"])) == [("emp_ssn", 3, 14)]
    # Greedy: after a kept span, the next candidate may start right at its end.
    assert spans(engine.detect("abcdefabc")) == [("word_b", 0, 6), ("word_a", 6, 9)]


def test_iban_followed_by_another_iban(engine: Engine) -> None:
    # Regression: the IBAN pattern ran on into the next IBAN, the validator kept only the first
    # 20 characters, and the search went on after the whole match, so the second IBAN was lost.
    # The search now resumes right after a value the validator shortened.
    text = "AT61 1904 3002 3457 3201 AT61 1904 3002 3457 3201"
    assert spans(engine.detect(text)) == [("iban", 0, 24), ("iban", 25, 49)]
    text = "Accounts: AT611904300234573201 DE89370400440532013000."
    assert spans(engine.detect(text)) == [("iban", 10, 30), ("iban", 31, 53)]
    assert engine.mask(text).text == "Accounts: [IBAN] [IBAN]."
    text = "AT61 1904 3002 3457 3201 2024 report"
    assert spans(engine.detect(text)) == [("iban", 0, 24)]


def test_patterns_give_non_overlapping_matches(make_engine: EngineFactory) -> None:
    engine = make_engine(custom_patterns=[CustomPattern(id="pair", pattern="aa")])
    assert spans(engine.detect("aaaaa")) == [("pair", 0, 2), ("pair", 2, 4)]


# --- the types filter ----------------------------------------------------------------------------

MIXED = "Mail jane@example.com, SSN 123-45-6789, call (415) 555-0132."


def test_types_filter(engine: Engine) -> None:
    assert spans(engine.detect(MIXED)) == [("email", 5, 21), ("ssn", 27, 38), ("phone", 45, 59)]
    assert spans(engine.detect(MIXED, types=["email"])) == [("email", 5, 21)]
    assert spans(engine.detect(MIXED, types=["phone", "ssn"])) == [("ssn", 27, 38), ("phone", 45, 59)]
    assert spans(engine.detect(MIXED, types=["ssn", "ssn"])) == [("ssn", 27, 38)]
    assert engine.detect(MIXED, types=[]) == []
    assert engine.detect(MIXED, types=None) == engine.detect(MIXED)
    assert engine.mask(MIXED, types=["ssn"]).text == "Mail jane@example.com, SSN [SSN], call (415) 555-0132."


@pytest.mark.parametrize(
    ("types", "where"),
    [
        (["email", "postcode"], r"types\[1\]"),
        (["Email"], r"types\[0\]"),
        (["email", 7], r"types\[1\]"),
    ],
)
def test_unknown_type_is_an_input_error(engine: Engine, types: list[Any], where: str) -> None:
    with pytest.raises(InputError, match=where):
        engine.detect(MIXED, types=types)
    with pytest.raises(InputError, match=where):
        engine.mask(MIXED, types=types)
    with pytest.raises(InputError, match=where):
        engine.scan({"a": MIXED}, types=types)


def test_unknown_type_message_does_not_echo_the_input(engine: Engine) -> None:
    with pytest.raises(InputError) as info:
        engine.detect(MIXED, types=["jane@example.com"])
    assert "jane@example.com" not in str(info.value)
    assert "email" in str(info.value)  # it lists the enabled types


def test_types_must_be_a_list(engine: Engine) -> None:
    with pytest.raises(InputError):
        engine.detect(MIXED, types="email")  # type: ignore[arg-type]


def test_disabled_type_cannot_be_selected(make_engine: EngineFactory) -> None:
    engine = make_engine(disabled_types=["phone"])
    assert "phone" not in engine.types
    assert [d.type for d in engine.detect(MIXED)] == ["email", "ssn"]
    with pytest.raises(InputError):
        engine.detect(MIXED, types=["phone"])


# --- offsets in non-ASCII text -------------------------------------------------------------------

UNICODE_TEXT = (
    "Grüße 👋🏽 von José (Jose\u0301) 👨\u200d👩\u200d👧\u200d👦: jane@example.com, 电话 (415) 555-0132, "
    "SSN 123-45-6789 🇩🇪 IBAN DE89370400440532013000!"
)


def test_offsets_are_code_points(engine: Engine) -> None:
    found = engine.detect(UNICODE_TEXT)
    assert found == [
        Detection("email", 35, 51, "jane@example.com"),
        Detection("phone", 56, 70, "(415) 555-0132"),
        Detection("ssn", 76, 87, "123-45-6789"),
        Detection("iban", 96, 118, "DE89370400440532013000"),
    ]
    assert_consistent(UNICODE_TEXT, found)
    assert engine.mask(UNICODE_TEXT).text == (
        "Grüße 👋🏽 von José (Jose\u0301) 👨\u200d👩\u200d👧\u200d👦: [EMAIL], 电话 [PHONE], SSN [SSN] 🇩🇪 IBAN [IBAN]!"
    )


@pytest.mark.parametrize(
    "filler",
    ["é", "漢", "😀", "e\u0301", "👨\u200d👩\u200d👧", "\u00a0", "a", "é漢😀a"],
    ids=["2-byte", "3-byte", "4-byte", "combining", "zwj", "nbsp", "ascii", "mixed"],
)
def test_offsets_after_long_non_ascii_runs(engine: Engine, filler: str) -> None:
    head = filler * 700
    text = f"{head} a@example.com {filler * 333} 123-45-6789 {filler}"
    found = engine.detect(text)
    a = len(head) + 1
    b = a + len("a@example.com ") + len(filler) * 333 + 1
    assert found == [Detection("email", a, a + 13, "a@example.com"), Detection("ssn", b, b + 11, "123-45-6789")]


def test_ascii_word_boundaries_next_to_non_ascii_letters(engine: Engine) -> None:
    # `\b` is an ASCII word boundary in both engines: a non-ASCII letter is not a word character,
    # so a value glued to one is still found, while an ASCII letter glued to it blocks the match.
    assert engine.detect("éjohn@example.com") == [Detection("email", 1, 17, "john@example.com")]
    assert engine.detect("ejohn@example.com") == [Detection("email", 0, 17, "ejohn@example.com")]
    assert engine.detect("ñ4111111111111111é") == [Detection("credit_card", 1, 17, "4111111111111111")]
    assert engine.detect("x4111111111111111") == []
    assert engine.detect("日本123-45-6789です") == [Detection("ssn", 2, 13, "123-45-6789")]
    assert engine.detect("abc123-45-6789") == []
    assert engine.detect("AKIAIOSFODNN7EXAMPLEü") == [Detection("aws_access_key", 0, 20, "AKIAIOSFODNN7EXAMPLE")]
    assert engine.detect("AKIAIOSFODNN7EXAMPLEu") == []


FULLWIDTH_DIGITS = {ord(d): 0xFF10 + int(d) for d in "0123456789"}


def test_only_ascii_digits_and_ascii_case_folding(engine: Engine) -> None:
    # [0-9] is ASCII: Arabic-Indic and full-width digits are not digits to the catalog.
    assert engine.detect("SSN ١٢٣-٤٥-٦٧٨٩") == []
    assert engine.detect("SSN " + "123-45-6789".translate(FULLWIDTH_DIGITS)) == []
    # (?i:...) folds ASCII only: U+017F LONG S is not an 's', so this label is not a label.
    assert engine.detect("SOCIAL SECURITY NUMBER 536221234") == [Detection("ssn", 23, 32, "536221234")]
    assert engine.detect("\u017focial \u017fecurity number 536221234") == []


# --- input checks --------------------------------------------------------------------------------


def test_empty_text(engine: Engine) -> None:
    assert engine.detect("") == []
    for strategy in ("redact", "label", "partial", "hash", "tokenize", "remove"):
        result = engine.mask("", strategy=strategy)
        assert result.text == ""
        assert result.detections == []


@pytest.mark.parametrize(
    ("text", "index"),
    [("abc\ud800def", 3), ("\udfff", 0), ("ok 123-45-6789 \udc80", 15), ("😀\ud83d", 1)],
)
def test_lone_surrogate_is_an_input_error(engine: Engine, text: str, index: int) -> None:
    with pytest.raises(InputError, match=f"index {index}"):
        engine.detect(text)
    with pytest.raises(InputError, match=f"index {index}"):
        engine.mask(text)


@pytest.mark.parametrize("value", [None, 42, 4.2, b"jane@example.com", ["jane@example.com"], {"a": "b"}])
def test_text_must_be_a_str(engine: Engine, value: Any) -> None:
    with pytest.raises(InputError):
        engine.detect(value)
    with pytest.raises(InputError):
        engine.mask(value)


@pytest.mark.parametrize(("unit", "size"), [("a", 1), ("é", 2), ("漢", 3), ("😀", 4)])
def test_max_text_bytes_counts_utf8_bytes(make_engine: EngineFactory, unit: str, size: int) -> None:
    limit = 120
    engine = make_engine(max_text_bytes=limit)
    fits = unit * (limit // size)
    assert len(fits.encode()) <= limit
    assert engine.detect(fits) == []
    assert engine.mask(fits).text == fits
    over = fits + "a" * (limit - len(fits.encode()) + 1)
    assert len(over.encode()) == limit + 1
    with pytest.raises(LimitError, match="max_text_bytes"):
        engine.detect(over)
    with pytest.raises(LimitError, match="max_text_bytes"):
        engine.mask(over)


def test_max_text_bytes_exact_boundary(make_engine: EngineFactory) -> None:
    text = "SSN 123-45-6789"
    assert spans(make_engine(max_text_bytes=len(text)).detect(text)) == [("ssn", 4, 15)]
    with pytest.raises(LimitError):
        make_engine(max_text_bytes=len(text) - 1).detect(text)
    # Five code points, ten bytes: the limit is in bytes, not characters.
    with pytest.raises(LimitError):
        make_engine(max_text_bytes=9).detect("ééééé")
    assert make_engine(max_text_bytes=10).detect("ééééé") == []


def test_limit_error_is_an_input_error() -> None:
    assert issubclass(LimitError, InputError)
    assert issubclass(InputError, ValueError)


def test_config_is_immutable_and_shared(make_engine: EngineFactory) -> None:
    config = Config(disabled_types=["email"])
    first, second = make_engine(config), make_engine(config)
    assert first.types == second.types
    assert "email" not in first.types
