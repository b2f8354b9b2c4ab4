"""The stdio line of a message (``mcp_pii.lines``): the same JSON value, long sparse texts escaped to ASCII."""

from __future__ import annotations

import json
from typing import Any

import mcp_types as types
import pytest

from mcp_pii import lines

# 2.5% non-ASCII characters, among them astral ones (which made the client's string 4 bytes a character).
SPARSE = (
    "Zoë Müller paid 12.50 € at the café 😀; mail zoe@example.com or call +1 555 0100 about order "
    'A-12345, "quoted" and back\\slashed, on 2024-05-01 at 10:00 UTC; the rest is plain ASCII prose.\n\t' * 200
)[: lines.ESCAPE_MIN + 100]
DENSE = ("Съешь же ещё этих мягких французских булок. 東京都の天気 " * 400)[: lines.ESCAPE_MIN + 100]
PLAIN = ("mail [EMAIL] or call [PHONE]. " * 1000)[: lines.ESCAPE_MIN + 100]


def response(text: str, **structured: Any) -> types.JSONRPCResponse:
    """A tools/call answer shaped as mask_pii's: the text in the text content and the structured content."""
    result = {
        "content": [{"type": "text", "text": text}],
        "structuredContent": {"text": text, "counts": {"email": 1}, **structured},
    }
    return types.JSONRPCResponse(jsonrpc="2.0", id=7, result=result)


def plain(message: types.JSONRPCMessage) -> bytes:
    """The line as the SDK's serialiser writes it."""
    return message.__pydantic_serializer__.to_json(message, by_alias=True, exclude_unset=True) + b"\n"


def pairs(data: bytes) -> Any:
    """The JSON value with objects as lists of pairs: equal values with members in the same order."""
    return json.loads(data, object_pairs_hook=list)


def test_a_long_sparse_text_is_written_in_ascii_in_both_places() -> None:
    message = response(SPARSE, scope="s-1")
    data = lines.line(message)
    assert data.isascii()
    assert data.index(b"\n") == len(data) - 1  # one line
    assert pairs(data) == pairs(plain(message))
    value = json.loads(data)
    assert value["result"]["content"][0]["text"] == value["result"]["structuredContent"]["text"] == SPARSE


@pytest.mark.parametrize(
    "text",
    [
        DENSE,  # the escapes would add more than the reader saves
        SPARSE[: lines.ESCAPE_MIN - 1],  # short
        PLAIN,  # ASCII already
        "x" * (lines.ESCAPE_MIN - 2000) + "😀" * 2000,  # 12% non-ASCII, all at the end
    ],
)
def test_other_texts_are_written_as_utf8(text: str) -> None:
    message = response(text)
    assert lines.line(message) == plain(message)


def test_each_text_is_decided_on_its_own() -> None:
    message = types.JSONRPCResponse(
        jsonrpc="2.0",
        id="a",
        result={
            "content": [{"type": "text", "text": DENSE}, {"type": "text", "text": SPARSE + "!"}],
            "structuredContent": {"text": SPARSE, "other": DENSE, "n": 1, "data": {"s": SPARSE}},
            "isError": False,
        },
    )
    data = lines.line(message)
    assert pairs(data) == pairs(plain(message))
    assert DENSE.encode() in data  # both copies of the dense text as they were
    assert data.count(DENSE.encode()) == 2
    assert data.count(json.dumps(SPARSE).encode()) == 1  # top-level structured member
    assert data.count(json.dumps(SPARSE + "!").encode()) == 1  # a second text block
    assert data.count(json.dumps(SPARSE, ensure_ascii=False).encode()) == 1  # nested: not looked into


def test_a_text_that_looks_like_a_mark_is_left_alone() -> None:
    # The mark is random per process: a client's text naming the prefix is only text.
    text = SPARSE + '"mcp-pii-line-00"'
    message = response(text, note="mcp-pii-line-0")
    data = lines.line(message)
    assert json.loads(data)["result"]["structuredContent"]["note"] == "mcp-pii-line-0"
    assert pairs(data) == pairs(plain(message))


@pytest.mark.parametrize(
    "message",
    [
        types.JSONRPCRequest(jsonrpc="2.0", id=1, method="sampling/createMessage", params={"t": SPARSE}),
        types.JSONRPCNotification(jsonrpc="2.0", method="notifications/message", params={"data": SPARSE}),
        types.JSONRPCError(jsonrpc="2.0", id=2, error=types.ErrorData(code=-32603, message="Internal error")),
        types.JSONRPCResponse(jsonrpc="2.0", id=3, result={"tools": [{"name": "x", "description": SPARSE}]}),
    ],
)
def test_messages_other_than_tool_results_are_written_as_the_sdk_writes_them(message: types.JSONRPCMessage) -> None:
    assert lines.line(message) == plain(message)
