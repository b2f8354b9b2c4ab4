"""A JSON-RPC message as the line the stdio transport writes, long mostly-ASCII texts escaped to ASCII.

A tool result's long text (mask_pii's masked text, in the text content and again in the
structured content) is written with its few non-ASCII characters as ``\\uXXXX`` escapes when
they are rare in it, so that the whole line is ASCII. The JSON value is the same; what changes
is the reader's cost. The SDK's stdio client decodes the line into a Python string before it
parses it: one emoji makes every character of that string take 4 bytes, and the client copies
and splits it once per 64 KiB it reads. An ASCII line takes 1 byte a character there (the
bench's 100 KB text, 3% of its characters non-ASCII, with the SDK client against the server
before and after, interleaved: client CPU 2.22 -> 1.90 ms per call, page faults 104 -> 3).

A text dense in non-ASCII characters (Cyrillic, CJK) would grow by the escapes more than the
reader saves, and is written as UTF-8, as is every short text. Only the text blocks of the
content and the top-level strings of the structured content are looked at: a nested payload's
strings are short, and walking it would cost the event loop more than it saves.
"""

from __future__ import annotations

import secrets
from json.encoder import encode_basestring_ascii
from typing import Any

from mcp_types import JSONRPCMessage, JSONRPCResponse

# Texts shorter than this (characters) are written as they are: the escaping pass costs about
# what the reader saves.
ESCAPE_MIN = 16 * 1024
# A text is escaped when its UTF-8 form is at most this much longer than its length in
# characters (about 8% of its characters non-ASCII). Measured with the SDK client on the 100 KB
# bench text with words added: client CPU per call 2.22 -> 1.89 ms at 2.7% non-ASCII characters,
# 3.40 -> 3.21 at 7.9%, 4.06 -> 4.07 at 12%.
DENSE_SHARE = 1 / 10
# The density is counted on one character in this many.
SAMPLE_STEP = 8
# Stands for a long text while the rest of the message is serialised; random per process, so
# no text a client sends can contain it.
_MARK = "mcp-pii-line-" + secrets.token_hex(12)


def _serialise(message: JSONRPCMessage) -> bytes:
    return message.__pydantic_serializer__.to_json(message, by_alias=True, exclude_unset=True)


def _sparse(text: Any) -> bool:
    """Whether ``text`` is a long string whose non-ASCII characters are few (and there are some).

    Counted on every 8th character (a tenth of the time of encoding the whole text): an estimate
    is enough for a choice that changes only the reader's cost, never the value.
    """
    if not isinstance(text, str) or len(text) < ESCAPE_MIN or text.isascii():
        return False
    sample = text[::SAMPLE_STEP]
    return len(sample.encode("utf-8", "surrogatepass")) - len(sample) <= len(sample) * DENSE_SHARE


def _marked(result: dict[str, Any], marks: dict[int, tuple[str, str]]) -> dict[str, Any]:
    """``result`` with each long sparse text of its content and top-level structured content as a mark."""

    def mark(value: Any) -> Any:
        if id(value) in marks:  # the same text in the content and the structured content
            return marks[id(value)][0]
        if not _sparse(value):
            return value
        marks[id(value)] = (f"{_MARK}-{len(marks)}", value)
        return marks[id(value)][0]

    out = dict(result)
    content = result.get("content")
    if isinstance(content, list):
        out["content"] = [
            {**block, "text": mark(block["text"])} if isinstance(block, dict) and "text" in block else block
            for block in content
        ]
    structured = result.get("structuredContent")
    if isinstance(structured, dict):
        out["structuredContent"] = {k: mark(v) for k, v in structured.items()}
    return out


def line(message: JSONRPCMessage) -> bytes:
    """The JSON text of ``message`` and a newline (compact), long sparse texts of a tool result in ASCII."""
    if not isinstance(message, JSONRPCResponse):
        return _serialise(message) + b"\n"
    marks: dict[int, tuple[str, str]] = {}
    result = _marked(message.result, marks)
    if not marks:
        return _serialise(message) + b"\n"
    data = _serialise(message.model_copy(update={"result": result})) + b"\n"
    for mark, text in marks.values():  # one join per text: the line is copied once, not once more per step
        data = encode_basestring_ascii(text).encode().join(data.split(f'"{mark}"'.encode()))
    return data
