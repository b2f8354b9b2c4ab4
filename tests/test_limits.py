"""The pure pieces behind serving under load (issue 12): the gate, the token, Host/Origin matching,
log scrubbing, large-answer JSON, and the backtracking check for custom patterns."""

from __future__ import annotations

import json
import logging
import threading

import pytest

from mcp_pii import jsonout, logs
from mcp_pii.auth import BearerToken, TokenError, load_token
from mcp_pii.exchange import Exchange
from mcp_pii.http import AllowedPeers, accept_errors
from mcp_pii.limits import Busy, Gate, Limits
from mcp_pii.redos import backtracking_risk

# --- the gate ------------------------------------------------------------------------------------


def test_gate_refuses_past_either_cap_and_counts_refusals() -> None:
    gate = Gate(Limits(max_inflight_bytes=100, max_inflight_calls=2))
    a = gate.admit(60)
    with pytest.raises(Busy) as refused:
        gate.admit(50)  # 110 bytes > 100
    assert refused.value.reason == "bytes"
    b = gate.admit(40)
    with pytest.raises(Busy) as refused:
        gate.admit(0)  # a third call
    assert refused.value.reason == "calls"
    assert gate.refused == {"bytes": 1, "calls": 1}
    a.release()
    b.release()
    assert (gate.inflight_calls, gate.inflight_bytes) == (0, 0)


def test_a_single_call_larger_than_the_byte_cap_runs_alone() -> None:
    gate = Gate(Limits(max_inflight_bytes=10))
    big = gate.admit(1000)
    with pytest.raises(Busy):
        gate.admit(1)
    big.release()
    gate.admit(1).release()


def test_a_ticket_is_released_by_its_last_holder_once() -> None:
    gate = Gate(Limits(max_inflight_bytes=100))
    ticket = gate.admit(30)
    ticket.hold()  # the tool call the request carries
    ticket.release()  # the answer is written
    assert gate.inflight_bytes == 30
    released = threading.Thread(target=ticket.release)  # the engine thread finishes
    released.start()
    released.join()
    ticket.release()  # a stray extra release changes nothing
    assert (gate.inflight_calls, gate.inflight_bytes) == (0, 0)


def test_a_body_of_unknown_length_grows_its_ticket_until_the_cap() -> None:
    gate = Gate(Limits(max_inflight_bytes=100))
    other = gate.admit(50)
    ticket = gate.admit(0)
    assert ticket.grow(40)
    assert not ticket.grow(20)
    assert gate.inflight_bytes == 90
    other.release()
    ticket.release()
    assert gate.inflight_bytes == 0


def test_closing_the_gate_cancels_calls_and_refuses_new_ones() -> None:
    gate = Gate()
    reasons: list[str] = []

    class FakeCall:
        def cancel(self, reason: str) -> None:
            reasons.append(reason)

    gate.calls.add(FakeCall())
    gate.close("stopping")
    assert reasons == ["stopping"]
    with pytest.raises(Busy, match="shutting down"):
        gate.admit(1)


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="max_sessions"):
        Limits(max_sessions=0)
    with pytest.raises(ValueError, match="header_timeout"):
        Limits(header_timeout=0)


def test_snapshot_holds_caps_and_counters() -> None:
    gate = Gate()
    snap = gate.snapshot()
    assert snap["calls_in_flight"] == 0
    assert snap["limits"]["max_inflight_calls"] == gate.limits.max_inflight_calls  # type: ignore[index]
    json.dumps(snap)


# --- the token -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "   ", "a b", "tab\there", "é-token"])
def test_unusable_tokens_are_refused(value: str) -> None:
    with pytest.raises(TokenError):
        load_token(None, None, {"MCP_PII_AUTH_TOKEN": value})
    with pytest.raises(TokenError):
        load_token(value, None, {})


def test_token_sources_in_order(tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "t"  # type: ignore[operator]
    path.write_text("from-file\n")
    env = {"MCP_PII_AUTH_TOKEN": "from-env"}
    assert load_token(None, str(path), env) == "from-file"
    assert load_token("from-flag", None, env) == "from-flag"
    assert load_token(None, None, env) == "from-env"
    assert load_token(None, None, {}) is None
    with pytest.raises(TokenError, match="cannot read"):
        load_token(None, str(path) + ".missing", {})


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        (b"Bearer s3cret-token", True),
        (b"bearer s3cret-token", True),
        (b"BEARER   s3cret-token", True),
        (b"Bearer s3cret-tokenx", False),
        (b"Basic s3cret-token", False),
        (b"s3cret-token", False),
        (b"Bearer", False),
        (b"", False),
        (None, False),
    ],
)
def test_bearer_scheme_is_case_insensitive(header: bytes | None, ok: bool) -> None:
    assert BearerToken("s3cret-token").accepts(header) is ok


# --- Host and Origin -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ("127.0.0.1:8765", True),
        ("LOCALHOST:8765", True),
        ("[::1]:8765", True),
        ("gw.internal", True),
        ("gw.internal:8765", True),
        ("gw.internal:443", False),
        ("proxy.example:9000", True),
        ("proxy.example", False),
        ("any.example:1", True),
        ("any.example", False),
        ("localhost", False),
        ("localhost:80", False),
        ("127.0.0.1:8765@evil.example", False),  # the SDK's prefix match took these (issue 12)
        ("localhost:8765.evil.example", False),
        ("127.0.0.1:8765 ", True),
        ("", False),
    ],
)
def test_hosts_are_matched_exactly(host: str, ok: bool) -> None:
    peers = AllowedPeers("127.0.0.1", 8765, ["gw.internal", "proxy.example:9000", "any.example:*"])
    assert peers.host(host) is ok


@pytest.mark.parametrize(
    ("origin", "ok"),
    [
        ("http://localhost:8765", True),
        ("https://127.0.0.1:8765", True),
        ("http://localhost:3000", False),
        ("http://localhost:8765.evil.example", False),
        ("https://app.example", True),
        ("https://app.example:8443", False),
        ("http://dev.example:5173", True),
        ("http://dev.example", False),
        ("null", False),
    ],
)
def test_origins_are_matched_exactly(origin: str, ok: bool) -> None:
    peers = AllowedPeers("127.0.0.1", 8765, origins=["https://app.example", "http://dev.example:*"])
    assert peers.origin(origin) is ok


def test_bad_allowed_host_is_refused() -> None:
    with pytest.raises(ValueError, match="allowed-host"):
        AllowedPeers("127.0.0.1", 1, ["a b"])


# --- logs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "templated", "expected"),
    [
        ("Tool %r failed: %r", True, "Tool <…> failed: <…>"),
        ("Invalid Host header: evil.example", False, "Invalid Host header"),
        ("Session 3f2a9c8b7d6e5f4a3b2c1d0e idle timeout", False, "Session <…> idle timeout"),
        ("Received invalid session ID: x\nFORGED LINE", False, "Received invalid session ID"),
        ("handler for %(m)s raised", True, "handler for <…> raised"),
        ("Terminating session", False, "Terminating session"),
    ],
)
def test_third_party_messages_lose_their_values(message: str, templated: bool, expected: str) -> None:
    assert logs.scrub(message, templated) == expected


def test_control_characters_cannot_forge_a_line() -> None:
    record = logging.LogRecord("mcp_pii.x", logging.INFO, __file__, 1, "a\nb\r\x1b[31mc\u2028d", (), None)
    line = logs.SafeFormatter("%(message)s").format(record)
    assert "\n" not in line
    assert "\r" not in line
    assert "\x1b" not in line
    assert "\u2028" not in line


def test_throttled_logs_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    throttled = logs.Throttled(logging.getLogger("mcp_pii.test"), interval=60)
    with caplog.at_level(logging.WARNING, logger="mcp_pii.test"):
        for _ in range(1000):
            throttled.warning("refused")
    assert len(caplog.records) == 1


# --- large answers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        {"a": [{"x": i, "y": "é" * 3} for i in range(10_000)], "b": "q" * 100_000},
        {"c": {str(i): [i] * 3 for i in range(5_000)}},
        [[list(range(50))] * 100] * 3,
        [],
        {},
        "x\n\u2028",
        None,
        1.5,
    ],
)
def test_jsonout_is_json(value: object) -> None:
    text = jsonout.dumps(value)
    assert json.loads(text) == value
    assert "\n" not in text


def test_splice_puts_answers_in_place_of_their_markers() -> None:
    exchange = Exchange(None)
    result = exchange.splice('"masked"', '{"text":"masked"}')
    envelope = json.dumps(
        {"result": result.model_dump(by_alias=True, mode="json", exclude_none=True)}, separators=(",", ":")
    )
    parts = exchange.fill(envelope.encode())
    answer = json.loads(b"".join(parts))
    assert answer["result"]["content"][0]["text"] == "masked"
    assert answer["result"]["structuredContent"] == {"text": "masked"}
    assert exchange.pieces == {}
    assert exchange.fill(b"plain") == [b"plain"]


# --- custom patterns that backtrack --------------------------------------------------------------


@pytest.mark.parametrize("pattern", ["(a|aa)+c", "(?:[a-z]{1,20}){1,5}x", "(a|a)+b", "(?:x[a-z]+)+", "(?:b|[ab]c)+"])
def test_backtracking_shapes_are_found(pattern: str) -> None:
    assert backtracking_risk(pattern)


@pytest.mark.parametrize(
    "pattern",
    [r"(?:\.[a-z0-9-]{1,63}){1,8}\.[a-z]{2,6}", "(?:foo|bar)+", "(?:[0-9]{3}-){2}[0-9]{4}", "ORD-[0-9]{6}", "(?:ab?)+"],
)
def test_unambiguous_shapes_pass(pattern: str) -> None:
    assert backtracking_risk(pattern) is None


def test_accept_failures_are_logged_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    # Regression (issue 12): with its file descriptors exhausted the server wrote ~40,000
    # accept() error lines a second.

    handle = accept_errors(logs.Throttled(logging.getLogger("mcp_pii.http"), interval=60))
    with caplog.at_level(logging.WARNING, logger="mcp_pii.http"):
        for _ in range(10_000):
            handle(None, {"message": "socket.accept() out of system resource", "exception": OSError(24, "x")})  # type: ignore[arg-type]
    assert len(caplog.records) == 1
    assert "accept() failed: OSError (errno 24)" in caplog.records[0].getMessage()
