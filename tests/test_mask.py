"""Masking strategies, per-type overrides, the allow list and custom patterns, on both engines."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from conftest import EngineFactory

from mcp_pii import Config, CustomPattern, Detection, Engine, InputError

MIXED = "Mail jane@example.com, SSN 123-45-6789, call (415) 555-4567."
STRATEGIES = ("redact", "label", "partial", "hash", "tokenize", "remove")


def sha(value: str) -> str:
    return f"[HASH:{hashlib.sha256(value.encode()).hexdigest()[:12]}]"


def keyed(key: str, value: str) -> str:
    return f"[HASH:{hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()[:12]}]"


# --- each strategy -------------------------------------------------------------------------------


def test_label_is_the_default(engine: Engine) -> None:
    result = engine.mask(MIXED)
    assert result.text == "Mail [EMAIL], SSN [SSN], call [PHONE]."
    assert result.detections == engine.detect(MIXED)
    assert result.detections[0] == Detection("email", 5, 21, "jane@example.com")
    assert engine.mask("card 4111111111111111 from 192.168.1.10").text == "card [CREDIT_CARD] from [IP_ADDRESS]"


@pytest.mark.parametrize("strategy", [None, *STRATEGIES])
@pytest.mark.parametrize("types", [None, ["email", "phone"], []])
def test_mask_counts_is_mask_counted(engine: Engine, strategy: str | None, types: list[str] | None) -> None:
    text = f"{MIXED} Again jane@example.com, 😀 and ops@example.org."
    whole = engine.mask(text, strategy, types)
    counts: dict[str, int] = {}
    for d in whole.detections:
        counts[d.type] = counts.get(d.type, 0) + 1
    masked, counted = engine.mask_counts(text, strategy, types)
    assert (masked, counted) == (whole.text, counts)
    assert list(counted) == list(counts)  # in order of first appearance


@pytest.mark.parametrize(
    ("text", "strategy", "types"),
    [(123, None, None), ("SSN 123-45-6789", "nope", None), ("SSN 123-45-6789", None, ["nope"]), ("\ud800", None, None)],
    ids=["not-a-string", "unknown-strategy", "unknown-type", "lone-surrogate"],
)
def test_mask_counts_refuses_what_mask_refuses(engine: Engine, text: Any, strategy: str | None, types: Any) -> None:
    with pytest.raises(InputError) as counted:
        engine.mask_counts(text, strategy, types)
    with pytest.raises(InputError) as masked:
        engine.mask(text, strategy, types)
    assert str(counted.value) == str(masked.value)


def test_redact(make_engine: EngineFactory) -> None:
    assert make_engine().mask(MIXED, strategy="redact").text == "Mail [REDACTED], SSN [REDACTED], call [REDACTED]."
    engine = make_engine(default_strategy="redact", redaction_text="<hidden>")
    assert engine.mask(MIXED).text == "Mail <hidden>, SSN <hidden>, call <hidden>."


@pytest.mark.parametrize("replacement", ["$1 \\1 ${value} $0 \\g<0>", "█", "", "[EMAIL]"])
def test_redaction_text_is_literal(make_engine: EngineFactory, replacement: str) -> None:
    # The replacement is never read as a regex template, in either engine.
    engine = make_engine(default_strategy="redact", redaction_text=replacement)
    assert engine.mask("SSN 123-45-6789!").text == f"SSN {replacement}!"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("SSN 123-45-6789", "SSN ***-**-6789"),
        ("SSN 536221234", "SSN *****1234"),
        ("card 4111-1111-1111-1111", "card ****-****-****-1111"),
        ("card 4111 1111 1111 1111", "card **** **** **** 1111"),
        ("card 4111111111111111", "card ************1111"),
        ("mail john@example.com", "mail j***@example.com"),
        ("mail JOHN.SMITH+news@Example.COM", "mail J***@Example.COM"),
        ("call (415) 555-4567", "call (***) ***-4567"),
        ("call +44 20 7946 0958", "call +** ** **** 0958"),
        ("IBAN GB82 WEST 1234 5698 7654 32", "IBAN **** **** **** **** **54 32"),
        ("key AKIAIOSFODNN7EXAMPLE", "key ****************MPLE"),
        ("ip 192.168.1.10", "ip ***.**8.1.10"),
        ("DOB: 1985-04-12", "DOB: ****-04-12"),
        ("Passport No: X1234567", "Passport No: ****4567"),
        ("MRN: MR-0012345", "MRN: **-***2345"),
        ("MRN: 123456", "MRN: ***456"),
    ],
)
def test_partial(engine: Engine, text: str, masked: str) -> None:
    # Keep the shape and the last min(4, n/2) digits (or letters and digits), or for an email
    # the first character of the local part and the domain.
    assert engine.mask(text, strategy="partial").text == masked


def test_hash_without_a_key_is_sha256(make_engine: EngineFactory) -> None:
    engine = make_engine(default_strategy="hash")
    assert engine.mask(MIXED).text == (
        f"Mail {sha('jane@example.com')}, SSN {sha('123-45-6789')}, call {sha('(415) 555-4567')}."
    )
    assert sha("123-45-6789") != sha("123-45-6780")


def test_hash_with_a_key_is_hmac_sha256(make_engine: EngineFactory) -> None:
    key = "s3cr3t-kéy"
    engine = make_engine(default_strategy="hash", hash_key=key)
    assert engine.mask("SSN 123-45-6789, again 123-45-6789").text == (
        f"SSN {keyed(key, '123-45-6789')}, again {keyed(key, '123-45-6789')}"
    )
    assert keyed(key, "123-45-6789") != sha("123-45-6789")
    other = make_engine(default_strategy="hash", hash_key="another key")
    assert other.mask("SSN 123-45-6789").text == f"SSN {keyed('another key', '123-45-6789')}"


def test_hash_of_non_ascii_custom_value(make_engine: EngineFactory) -> None:
    engine = make_engine(
        default_strategy="hash", custom_patterns=[CustomPattern(id="codename", pattern="Projekt [A-Z][a-z]+")]
    )
    # The hash is of the UTF-8 bytes of the value.
    assert engine.mask("über Projekt Zeta ✓").text == f"über {sha('Projekt Zeta')} ✓"


def test_tokenize_numbers_distinct_values_per_type(engine: Engine) -> None:
    text = "a@example.com, b@example.com, a@example.com; SSN 123-45-6789 / 234-56-7890 / 123-45-6789; c@example.com"
    assert engine.mask(text, strategy="tokenize").text == (
        "[EMAIL_1], [EMAIL_2], [EMAIL_1]; SSN [SSN_1] / [SSN_2] / [SSN_1]; [EMAIL_3]"
    )
    # Each call numbers from 1 again.
    assert engine.mask("b@example.com", strategy="tokenize").text == "[EMAIL_1]"
    # Values are compared exactly (case matters).
    assert engine.mask("A@example.com a@example.com", strategy="tokenize").text == "[EMAIL_1] [EMAIL_2]"


def test_remove(engine: Engine) -> None:
    assert engine.mask(MIXED, strategy="remove").text == "Mail , SSN , call ."
    assert engine.mask("123-45-6789", strategy="remove").text == ""


def test_no_detection_leaves_text_unchanged(engine: Engine) -> None:
    text = "Nothing here: version 1.2.3, order #12345, ☃"
    for strategy in STRATEGIES:
        result = engine.mask(text, strategy=strategy)
        assert result.text == text
        assert result.detections == []


def test_no_detection_is_the_callers_string(engine: Engine) -> None:
    # Both engines hand back the caller's own string when nothing was found (no copy).
    backend = engine._backend
    text = "Nothing here: version 1.2.3, order #12345, ☃"
    masked, hits = backend.mask(text)
    assert masked is text
    assert hits == []
    assert backend.detect(text) == []
    # Each call's list is its own: a caller that changes one changes no other call's result.
    assert backend.detect(text) is not backend.detect(text)
    assert backend.detect("SSN 123-45-6789") == [Detection("ssn", 4, 15, "123-45-6789")]


# --- per-type overrides --------------------------------------------------------------------------


def test_per_type_overrides_and_default(make_engine: EngineFactory) -> None:
    engine = make_engine(default_strategy="redact", strategies={"ssn": "partial", "email": "tokenize"})
    assert engine.mask(MIXED).text == "Mail [EMAIL_1], SSN ***-**-6789, call [REDACTED]."
    # A strategy given with the call applies to every type.
    assert engine.mask(MIXED, strategy="label").text == "Mail [EMAIL], SSN [SSN], call [PHONE]."


def test_override_without_default_uses_label(make_engine: EngineFactory) -> None:
    engine = make_engine(strategies={"phone": "remove"})
    assert engine.mask(MIXED).text == "Mail [EMAIL], SSN [SSN], call ."


@pytest.mark.parametrize("strategy", ["scramble", "", "LABEL", "Redact"])
def test_unknown_strategy_is_an_input_error(engine: Engine, strategy: str) -> None:
    with pytest.raises(InputError, match="strategy"):
        engine.mask(MIXED, strategy=strategy)
    with pytest.raises(InputError, match="strategy"):
        engine.scan({"a": MIXED}, strategy=strategy)


def test_unknown_strategy_is_an_error_even_without_detections(engine: Engine) -> None:
    with pytest.raises(InputError):
        engine.mask("no pii here", strategy="scramble")


# --- allow list ----------------------------------------------------------------------------------


def test_allow_values_are_exact(make_engine: EngineFactory) -> None:
    engine = make_engine(allow_values=["support@example.com", "123-45-6789"])
    text = "Write support@example.com or jane@example.com; SUPPORT@example.com; SSN 123-45-6789 and 234-56-7890"
    assert [d.value for d in engine.detect(text)] == ["jane@example.com", "SUPPORT@example.com", "234-56-7890"]
    assert engine.mask(text).text == "Write support@example.com or [EMAIL]; [EMAIL]; SSN 123-45-6789 and [SSN]"


def test_allow_patterns_match_the_whole_value(make_engine: EngineFactory) -> None:
    engine = make_engine(allow_patterns=[r"[a-z.]+@example\.com", "example"])
    text = "jane.doe@example.com, jane@example.com.au, j4ne@example.com"
    # "example" matches inside every value but never a whole one, so it allows nothing.
    assert [d.value for d in engine.detect(text)] == ["jane@example.com.au", "j4ne@example.com"]


def test_allowed_span_still_keeps_weaker_candidates_out(make_engine: EngineFactory) -> None:
    # The email wins the overlap with the card inside it; allowing the email must not bring the card back.
    text = "4111111111111111@example.com"
    engine = make_engine(allow_values=["4111111111111111@example.com"])
    assert engine.detect(text) == []
    assert engine.mask(text).text == text
    assert [d.type for d in make_engine().detect(text)] == ["email"]
    # Same span, catalog order: allowing the jwt does not turn it into an api_key.
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl"
    engine = make_engine(allow_patterns=["eyJ[A-Za-z0-9_.-]+"])
    assert engine.detect(f"token={jwt}") == []
    assert make_engine().detect(f"token={jwt}", types=["api_key"]) == [Detection("api_key", 6, 6 + len(jwt), jwt)]


# --- custom patterns -----------------------------------------------------------------------------


def test_custom_pattern_with_a_value_group(make_engine: EngineFactory) -> None:
    engine = make_engine(
        custom_patterns=[CustomPattern(id="employee_id", pattern=r"\bEMP-(?P<value>[0-9]{6})\b", partial="digits")]
    )
    assert engine.types[-1] == "employee_id"
    text = "Badge EMP-004217 and EMP-12 and XEMP-123456"
    assert engine.detect(text) == [Detection("employee_id", 10, 16, "004217")]
    assert engine.mask(text).text == "Badge EMP-[EMPLOYEE_ID] and EMP-12 and XEMP-123456"
    assert engine.mask(text, strategy="partial").text == "Badge EMP-***217 and EMP-12 and XEMP-123456"
    assert engine.mask(text, strategy="tokenize").text == "Badge EMP-[EMPLOYEE_ID_1] and EMP-12 and XEMP-123456"


def test_custom_pattern_without_a_value_group(make_engine: EngineFactory) -> None:
    engine = make_engine(custom_patterns=[CustomPattern(id="ticket", pattern=r"\bTICKET-[0-9]{4,8}\b")])
    text = "See TICKET-20231 and ticket-20231."
    assert engine.detect(text) == [Detection("ticket", 4, 16, "TICKET-20231")]
    assert engine.mask(text, strategy="partial").text == "See ******-*0231 and ticket-20231."
    assert engine.mask(text, strategy="redact").text == "See [REDACTED] and ticket-20231."


def test_custom_pattern_case_insensitive_group_and_email_partial(make_engine: EngineFactory) -> None:
    engine = make_engine(
        custom_patterns=[CustomPattern(id="handle", pattern=r"(?i:user):(?P<value>[a-z]+@[a-z]+)", partial="email")],
        strategies={"handle": "partial"},
    )
    assert engine.mask("USER:alice@corp and User:bob@corp").text == "USER:a***@corp and User:b***@corp"


def test_custom_types_can_be_disabled_and_selected(make_engine: EngineFactory) -> None:
    custom = [CustomPattern(id="ticket", pattern=r"\bTICKET-[0-9]{4,8}\b")]
    assert make_engine(custom_patterns=custom, disabled_types=["ticket"]).detect("TICKET-1234") == []
    engine = make_engine(custom_patterns=custom, enabled_types=["ticket"])
    assert engine.types == ["ticket"]
    assert engine.detect("TICKET-1234 a@example.com") == [Detection("ticket", 0, 11, "TICKET-1234")]


def test_config_object_is_reusable(make_engine: EngineFactory) -> None:
    config = Config(default_strategy="tokenize")
    engine = make_engine(config)
    assert engine.config is config
    assert engine.mask("a@example.com").text == "[EMAIL_1]"
