"""Reversible masking through the engine API, on both engines: round trips, the token format,
scopes, and the properties of issue 10 (hypothesis).

``Engine.mask(..., vault=...)`` and ``Engine.scan(..., vault=...)`` mask reversibly;
``Engine.unmask`` and ``Engine.unmask_nested`` put the values back.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import make_both
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from servers import PII, PII_PAYLOAD, PII_TEXT
from test_properties import EXAMPLES, JSON, SMALL, TEXT, engine_for

from mcp_pii import Engine, InputError
from mcp_pii.errors import ScopeError
from mcp_pii.tokens import TOKEN
from mcp_pii.traverse import RawNumber, parse_embedded
from mcp_pii.vault import Vault

PROPERTY = settings(max_examples=SMALL, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
DIFFERENTIAL = settings(
    max_examples=max(50, EXAMPLES // 4), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
VAULT = Vault.memory(max_scopes=1_000_000)


@pytest.fixture(scope="module")
def run() -> Iterator[Any]:
    """Run a coroutine to completion on one event loop kept for the module."""
    with asyncio.Runner() as runner:
        yield runner.run


def tokens_of(text: str) -> list[str]:
    return [m.group(0) for m in TOKEN.finditer(text)]


def spans(result: Any) -> list[tuple[int, int]]:
    return [(d.start, d.end) for d in result.detections]


# --- examples -----------------------------------------------------------------------------------


def test_round_trip_of_every_type(engine_impl: str, run: Any) -> None:
    engine = engine_for(engine_impl)
    masked = run(engine.mask(PII_TEXT, vault=VAULT))
    assert masked.scope is not None
    assert not any(value in masked.text for value in PII.values())
    assert len(masked.detections) == len(PII)
    assert {m["key"].rpartition("_")[0] for m in TOKEN.finditer(masked.text)} == {t.upper() for t in PII}
    back = run(engine.unmask(masked.text, VAULT, masked.scope))
    assert back.text == PII_TEXT
    assert (back.restored, back.unknown, back.foreign) == (len(PII), 0, 0)


def test_same_value_same_token_across_calls(engine_impl: str, run: Any) -> None:
    engine = engine_for(engine_impl)
    first = run(engine.mask(f"to {PII['email']}, SSN {PII['ssn']}", vault=VAULT))
    tag = VAULT.tag(first.scope)  # type: ignore[arg-type]
    assert first.text == f"to [EMAIL_1#{tag}], SSN [SSN_1#{tag}]"
    second = run(engine.mask(f"cc bob@example.org and {PII['email']}", vault=VAULT, scope=first.scope))
    assert second.scope == first.scope
    assert second.text == f"cc [EMAIL_2#{tag}] and [EMAIL_1#{tag}]"
    # A model writes with the tokens; unmasking its text puts the values back.
    reply = run(
        engine.unmask(f"Reply to [EMAIL_1#{tag}], not [EMAIL_2#{tag}] nor [EMAIL_9#{tag}].", VAULT, first.scope)
    )
    assert reply.text == f"Reply to {PII['email']}, not bob@example.org nor [EMAIL_9#{tag}]."
    assert (reply.restored, reply.unknown, reply.foreign) == (2, 1, 0)


def test_scopes_never_share_a_mapping(engine_impl: str, run: Any) -> None:
    engine = engine_for(engine_impl)
    one = run(engine.mask(f"mail {PII['email']}", vault=VAULT))
    two = run(engine.mask("mail bob@example.org", vault=VAULT))
    assert one.scope != two.scope
    assert one.text != two.text  # both are EMAIL_1, with different scope tags
    crossed = run(engine.unmask(two.text, VAULT, one.scope))  # type: ignore[arg-type]
    assert crossed.text == two.text
    assert (crossed.restored, crossed.unknown, crossed.foreign) == (0, 0, 1)
    guessed = run(engine.unmask(one.text, VAULT, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
    assert guessed.text == one.text
    assert guessed.restored == 0


def test_text_that_looks_like_tokens_round_trips(engine_impl: str, run: Any) -> None:
    engine = engine_for(engine_impl)
    scope = run(VAULT.new_scope())
    tag = VAULT.tag(scope)
    text = f"[EMAIL_1] and [EMAIL_1#{tag}] and [EMAIL_2#zzzzzz] were there before {PII['email']}"
    masked = run(engine.mask(text, vault=VAULT, scope=scope))
    # The look-alike of the scope is reserved, so the real email gets the next number.
    assert masked.text == f"[EMAIL_1] and [EMAIL_1#{tag}] and [EMAIL_2#zzzzzz] were there before [EMAIL_2#{tag}]"
    back = run(engine.unmask(masked.text, VAULT, scope))
    assert back.text == text
    assert (back.restored, back.unknown, back.foreign) == (1, 1, 1)


def test_nested_round_trip(engine_impl: str, run: Any) -> None:
    engine = engine_for(engine_impl)
    masked = run(engine.scan(PII_PAYLOAD, vault=VAULT))
    assert masked.scanned_bytes == engine.scan(PII_PAYLOAD, mask=False).scanned_bytes > 0
    flat = json.dumps(masked.data)
    assert not any(value in flat for value in (PII["email"], PII["ssn"], PII["credit_card"], PII["phone"]))
    back = run(engine.unmask_nested(masked.data, VAULT, masked.scope))  # type: ignore[arg-type]
    expected = dict(PII_PAYLOAD, body=json.dumps(json.loads(PII_PAYLOAD["body"]), separators=(",", ":")))
    assert back.data == expected  # the JSON string inside was rewritten compactly when masked
    assert back.restored == len(masked.detections)
    # A key that looks like a token is not a string the engines scan: it stays as it is.
    tag = VAULT.tag(masked.scope)  # type: ignore[arg-type]
    data = {f"[EMAIL_1#{tag}]": f"[EMAIL_1#{tag}]", "n": 1, "s": '{"a": ["x", "[EMAIL_1#' + tag + ']"]}'}
    out = run(engine.unmask_nested(data, VAULT, masked.scope))  # type: ignore[arg-type]
    assert out.data == {f"[EMAIL_1#{tag}]": PII["email"], "n": 1, "s": '{"a":["x","' + PII["email"] + '"]}'}


def test_values_land_escaped_inside_json_strings(engine_impl: str, run: Any) -> None:
    engine = engine_for(engine_impl)
    scope = run(VAULT.new_scope())
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\\0\n-----END RSA PRIVATE KEY-----"
    payload = {"log": json.dumps({"msg": f'key "{pem}"', "ok": True})}
    masked = run(engine.scan(payload, vault=VAULT, scope=scope))
    assert "MIIB" not in masked.data["log"]
    back = run(engine.unmask_nested(masked.data, VAULT, scope))
    assert json.loads(back.data["log"]) == json.loads(payload["log"])


def test_errors(engine_impl: str, run: Any) -> None:
    engine = engine_for(engine_impl)
    with pytest.raises(ScopeError, match="unknown or expired scope"):
        run(engine.mask("mail a@example.com", vault=VAULT, scope="made-up"))
    with pytest.raises(ScopeError):
        run(engine.scan(["a@example.com"], vault=VAULT, scope="made-up"))
    with pytest.raises(InputError, match="leave strategy unset or 'tokenize'"):
        engine.mask("x", "label", vault=VAULT)
    with pytest.raises(InputError, match="leave mask true"):
        engine.scan(["x"], mask=False, vault=VAULT)
    with pytest.raises(InputError, match="a scope needs a vault"):
        engine.mask("x", scope="s")
    with pytest.raises(InputError, match="lone surrogate"):
        run(engine.unmask("\ud800", VAULT, "s"))
    with pytest.raises(InputError, match="must be a string"):
        run(engine.unmask(42, VAULT, "s"))  # type: ignore[arg-type]
    small = Engine(engine.config.model_copy(update={"max_depth": 2}), implementation=engine.implementation)
    with pytest.raises(InputError, match="max_depth"):
        run(small.unmask_nested([[["x"]]], VAULT, "s"))
    # A failed first step mints no scope.
    scopes = len(VAULT._backend)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        run(engine.mask("x" * (engine.config.max_text_bytes + 1), vault=VAULT))
    assert len(VAULT._backend) == scopes  # type: ignore[arg-type]
    tokenize = run(engine.mask("a@example.com", "tokenize", vault=VAULT))
    assert TOKEN.fullmatch(tokenize.text)


# --- properties (hypothesis), both engines ------------------------------------------------------


@st.composite
def with_lookalikes(draw: st.DrawFn, tag: str) -> str:
    """Text with strings that look like tokens: of this scope (tag), of others, and untagged."""
    parts = draw(
        st.lists(
            st.one_of(
                TEXT,
                st.builds(
                    lambda name, n, t: f"[{name}_{n}#{t}]",
                    st.sampled_from(["EMAIL", "SSN", "PHONE", "CREDIT_CARD", "FOO_1", "X"]),
                    st.integers(1, 12),
                    st.sampled_from([tag, tag, "aaaaaa", "zz2277"]),
                ),
                st.sampled_from(["[EMAIL_1]", "[SSN_2]", "[EMAIL_1#", "#" + tag + "]", "[EMAIL_01#" + tag + "]"]),
            ),
            max_size=8,
        )
    )
    return "".join(parts)


@pytest.mark.xfail(strict=True, reason="open problem: a value found when masking again can run into a token")
def test_masking_again_where_a_value_runs_into_a_token(engine_impl: str, run: Any) -> None:
    # Found by test_unmask_of_mask_is_the_text (2026-11-30). The password's value is refused the
    # first time (a placeholder-like run of "FAKEfake"), the IPv4 tail inside it is masked; masked
    # again in the same scope, the password's value now ends inside the IP token, so the token is
    # cut and unmasking gives the token text back instead of the address.
    engine = engine_for(engine_impl)
    scope = run(VAULT.new_scope())
    text = "password = 0:ffff:0:192.0.2.1.xAIzaSyFAKEfakeFAKEfake00000000000000000 is glued to a word"
    masked = run(engine.mask(text, vault=VAULT, scope=scope))
    again = run(engine.mask(masked.text, vault=VAULT, scope=scope))
    assert run(engine.unmask(again.text, VAULT, scope)).text == text


@PROPERTY
@given(data=st.data())
def test_unmask_of_mask_is_the_text(engine_impl: str, run: Any, data: st.DataObject) -> None:
    engine = engine_for(engine_impl)
    scope = run(VAULT.new_scope())
    text = data.draw(with_lookalikes(VAULT.tag(scope)))
    # Everything is drawn before the assumption below: the scope's tag is new on every run, so a
    # replay can settle the assumption otherwise, and a draw after it made that replay stop
    # drawing early (hypothesis: "Inconsistent data generation", a flaky failure).
    more = data.draw(TEXT)
    masked = run(engine.mask(text, vault=VAULT, scope=scope))
    assert run(engine.unmask(masked.text, VAULT, scope)).text == text
    # Masking again in the same scope (the text now holds the scope's tokens) keeps every token and
    # still unmasks to the text. (It may mask more: a value that overlapped a longer one can match
    # once that one is a token, as for plain masking; see test_properties' open problems.)
    again = run(engine.mask(masked.text, vault=VAULT, scope=scope))
    # Except where a value found the second time runs into one of the tokens (the open problem of
    # test_masking_again_where_a_value_runs_into_a_token), which this property does not judge.
    tokens = [m.span() for m in TOKEN.finditer(masked.text)]
    assume(
        not any(a < end and start < b and not start <= a < b <= end for a, b in tokens for start, end in spans(again))
    )
    for token in set(tokens_of(masked.text)):
        assert again.text.count(token) >= masked.text.count(token)
    assert run(engine.unmask(again.text, VAULT, scope)).text == text
    # Later calls in the scope do not change what the first text unmasks to.
    run(engine.mask(more + text, vault=VAULT, scope=scope))
    assert run(engine.unmask(masked.text, VAULT, scope)).text == text


@PROPERTY
@given(data=st.data())
def test_masking_keeps_earlier_tokens_of_the_scope(engine_impl: str, run: Any, data: st.DataObject) -> None:
    engine = engine_for(engine_impl)
    first = run(engine.mask(data.draw(TEXT) + f" {PII['email']} {PII['ssn']}", vault=VAULT))
    earlier = tokens_of(first.text)
    glue = data.draw(st.lists(st.sampled_from([" ", ", ", "\n", "; ", " bob@example.org "]), min_size=1))
    reply = "".join(g + tok for g, tok in zip(glue, earlier * 2, strict=False)) + data.draw(TEXT)
    masked = run(engine.mask(reply, vault=VAULT, scope=first.scope))
    for tok in earlier:
        assert masked.text.count(tok) >= reply.count(tok)
    expected = reply
    values = run(VAULT.reveal(first.scope, [TOKEN.fullmatch(t)["key"] for t in earlier]))  # type: ignore[index, arg-type]
    for tok in earlier:
        expected = expected.replace(tok, values[TOKEN.fullmatch(tok)["key"]])  # type: ignore[index]
    assert run(engine.unmask(masked.text, VAULT, first.scope)).text == expected  # type: ignore[arg-type]


@PROPERTY
@given(data=JSON)
def test_unmask_nested_of_mask_is_the_data(engine_impl: str, run: Any, data: Any) -> None:
    engine = engine_for(engine_impl)
    masked = run(engine.scan(data, vault=VAULT))
    back = run(engine.unmask_nested(masked.data, VAULT, masked.scope))  # type: ignore[arg-type]
    # Strings holding JSON come back as the same JSON (written compactly once something in them
    # was masked). An integer under a labelled key was masked as a string, and comes back as the
    # string of its digits: the comparison reads integers as their digits on both sides.
    assert _normal(back.data) == _normal(engine.scan(data, mask=False).data)


def _normal(v: Any) -> Any:
    """Parse strings that hold JSON (as the engines do) so that formatting does not count; integers as digits."""
    if isinstance(v, RawNumber):
        return str(int(v)) if v.lstrip("-").isdigit() else ("number", v.canonical())
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    if isinstance(v, str) and v.lstrip(" \t\n\r")[:1] in ("{", "["):
        inner = parse_embedded(v)
        return v if inner is None else ("json", _normal(inner))
    if isinstance(v, dict):
        return {k: _normal(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_normal(x) for x in v]
    return v


@DIFFERENTIAL
@given(texts=st.lists(TEXT, min_size=1, max_size=3), data=JSON)
def test_engines_agree_given_the_same_vault_contents(run: Any, texts: list[str], data: Any) -> None:
    rust, python = make_both()
    one, two = run(VAULT.new_scope()), run(VAULT.new_scope())
    tag_one, tag_two = VAULT.tag(one), VAULT.tag(two)
    for text in texts:
        r = run(rust.mask(text, vault=VAULT, scope=one))
        p = run(python.mask(text.replace(tag_one, tag_two), vault=VAULT, scope=two))
        assert r.text.replace(f"#{tag_one}]", f"#{tag_two}]") == p.text
        assert r.detections == p.detections
    r_nested = run(rust.scan(data, vault=VAULT, scope=one))
    p_nested = run(python.scan(data, vault=VAULT, scope=two))
    assert json.dumps(r_nested.data).replace(f"#{tag_one}]", f"#{tag_two}]") == json.dumps(p_nested.data)
    assert r_nested.detections == p_nested.detections


def test_token_grammar_is_unambiguous() -> None:
    m = TOKEN.fullmatch("[CREDIT_CARD_12#abc234]")
    assert m is not None
    assert (m["key"], m["tag"]) == ("CREDIT_CARD_12", "abc234")
    m = TOKEN.fullmatch("[FOO_1_2#abc234]")  # a type id ending in _1: the number is the last part
    assert m is not None
    assert m["key"].rpartition("_") == ("FOO_1", "_", "2")
    for not_a_token in ("[EMAIL_1]", "[EMAIL_0#abc234]", "[EMAIL_01#abc234]", "[email_1#abc234]", "[EMAIL_1#ABC234]",
                        "[EMAIL_1#abc23]", "[EMAIL_1#abc2345]", "[EMAIL_1#abc189]", "[_1#abc234]"):  # fmt: skip
        assert not TOKEN.fullmatch(not_a_token), not_a_token
    assert re.fullmatch(r"\[EMAIL_1#[a-z2-7]{6}\]", "[EMAIL_1#" + VAULT.tag("x") + "]")
