"""What detect_pii, mask_pii and scan_nested answer: their output models and their detection reports.

The models exist for their ``outputSchema`` (the tools build their results as dicts or JSON text,
and the SDK does not validate them again, see ``PiiServer.call_tool``). How much a result says
about each detection is the caller's choice (``detections``): nothing but the counts per type,
spans (type, offsets, rule, and the JSON Pointer in a payload), or spans with the values. Clients
check every detection of a result against the output schema (the SDK's client with jsonschema,
about 10-20 us each), so a 100 KB text with 500 detections costs a client more to check than the
engine to mask; mask_pii and scan_nested therefore answer counts only unless asked.

No ``from __future__ import annotations`` here: pydantic reads the annotations as real objects.
"""

import json
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from mcp_pii.schema import AnyJson
from mcp_pii.server_vault import SCOPE_FIELD

Detail = Literal["none", "spans", "values"]
DETAIL_DOC = (
    "What to return about each detection besides the counts per type: 'none' (counts only), 'spans' "
    "(type, offsets and rule{where}) or 'values' (spans with the detected text; values are PII, ask only "
    "when needed). Default: '{default}'."
)


def detail_doc(default: Detail, where: str = "") -> str:
    """The description of a tool's ``detections`` argument."""
    return DETAIL_DOC.format(default=default, where=where)


ContentShown = Literal["masked", "counts"]
TEXT_CONTENT_DOC = (
    "What the result's text content holds: 'masked' ({masked}; for hosts that show a model only the text "
    "content) or 'counts' (the counts per type, and the scope, as JSON: for callers that read the structured "
    "content, which always holds the {what}, so that it travels once). Default: 'masked'."
)


def text_content_doc(masked: str, what: str) -> str:
    """The description of a tool's ``text_content`` argument: what 'masked' shows, and what is masked."""
    return TEXT_CONTENT_DOC.format(masked=masked, what=what)


def summary(counted: dict[str, int], scope: str | None) -> str:
    """The text content with ``text_content='counts'``: the counts per type (and the scope) as compact JSON."""
    return json.dumps({"counts": counted} | ({} if scope is None else {"scope": scope}), separators=(",", ":"))


COUNTS_DOC = "Detections per type id."


class Span(BaseModel):
    """A detection in a text: type id and offsets into the input (code points unless asked otherwise)."""

    type: str = Field(description="PII type id, e.g. 'email'.")
    start: int = Field(description="Offset of the first character (in the unit asked for: code points by default).")
    end: int = Field(description="Offset just past the last character.")
    rule: str = Field(
        description="What found it: the type id (its own shape), '<type>-label' (after a label), "
        "'<type>-key' (under a labelled key) or a vendor rule such as 'gitlab-pat'."
    )
    value: str | None = Field(None, description="The detected text (only with detections='values').")


class NestedSpan(Span):
    """A detection inside a JSON payload."""

    path: str = Field(
        description="RFC 6901 JSON Pointer of the string the detection is in; inside JSON held in a "
        "string, the pointer of that string."
    )
    embedded: list[str] | None = Field(
        None,
        description="Only inside JSON held in a string: the RFC 6901 pointer within that embedded "
        "document (parse the string at 'path', then resolve it), and one more per further level of "
        "JSON held in a string, outermost first.",
    )


class DetectOutput(BaseModel):
    """Result of detect_pii."""

    detections: list[Span] | None = Field(
        None, description="Each detection, in text order (absent with detections='none')."
    )
    counts: dict[str, int] = Field(description=COUNTS_DOC)


class MaskOutput(BaseModel):
    """Result of mask_pii."""

    text: str = Field(description="The text with every detection masked.")
    detections: list[Span] | None = Field(
        None, description="What was masked; spans refer to the input text (only with detections='spans' or 'values')."
    )
    counts: dict[str, int] = Field(description=COUNTS_DOC)
    scope: str | None = SCOPE_FIELD


class ScanOutput(BaseModel):
    """Result of scan_nested."""

    data: AnyJson = Field(description="The payload, masked unless mask=false.")
    detections: list[NestedSpan] | None = Field(
        None, description="Each detection, in payload order (only with detections='spans' or 'values')."
    )
    counts: dict[str, int] = Field(description=COUNTS_DOC)
    scope: str | None = SCOPE_FIELD


def counts(found: Sequence[Any]) -> dict[str, int]:
    """Detections per type id, in order of first appearance."""
    out: dict[str, int] = {}
    for d in found:
        out[d.type] = out.get(d.type, 0) + 1
    return out


def report(found: Sequence[Any], detail: Detail, *, nested: bool = False) -> list[dict[str, Any]] | None:
    """The ``detections`` member of a result as a list of dicts (None with ``detail='none'``)."""
    if detail == "none":
        return None
    value = detail == "values"
    out = []
    for d in found:
        item: dict[str, Any] = {"path": d.path} if nested else {}
        item |= {"type": d.type, "start": d.start, "end": d.end, "rule": d.rule}
        if value:
            item["value"] = d.value
        if nested and d.embedded:
            item["embedded"] = list(d.embedded)
        out.append(item)
    return out


def report_json(found: Sequence[Any], detail: Detail, *, nested: bool = False) -> str | None:
    """The ``detections`` member as JSON text, written without a dict per detection (None with 'none').

    A large result holds hundreds of thousands of detections, and so many new containers set off
    garbage collections that hold the GIL for tens of milliseconds.
    """
    if detail == "none":
        return None
    value = detail == "values"
    names: dict[str, str] = {}
    parts = []
    for d in found:
        kind = names.get(d.type) or names.setdefault(d.type, json.dumps(d.type))
        rule = names.get("\0" + d.rule) or names.setdefault("\0" + d.rule, json.dumps(d.rule))
        head = f'{{"path":{json.dumps(d.path, ensure_ascii=False)},' if nested else "{"
        tail = f',"value":{json.dumps(d.value, ensure_ascii=False)}}}' if value else "}"
        if nested and d.embedded:
            tail = f',"embedded":{json.dumps(list(d.embedded), ensure_ascii=False)}{tail}'
        parts.append(f'{head}"type":{kind},"start":{d.start},"end":{d.end},"rule":{rule}{tail}')
    return "[" + ",".join(parts) + "]"


def members(
    found: Sequence[Any], counted: dict[str, int], detail: Detail, as_json: bool, *, nested: bool = False
) -> dict[str, Any]:
    """A result's ``detections`` (left out with ``detail='none'``) and ``counts`` members.

    As values for a dict result, or (``as_json``) as JSON text for a result written as text.
    """
    if as_json:
        listed: Any = report_json(found, detail, nested=nested)
        return ({} if listed is None else {"detections": listed}) | {"counts": json.dumps(counted)}
    listed = report(found, detail, nested=nested)
    return ({} if listed is None else {"detections": listed}) | {"counts": counted}
