"""The MCP server through the SDK's real ``Client``, in memory: tools, options, schemas, errors, parity.

Every test that takes ``server`` runs once per engine ("rust", "python"; conftest's ``engine_impl``);
``test_engines_agree`` runs the same calls against both and compares the structured results.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from conftest import require_impl
from jsonschema import Draft202012Validator
from mcp import Client
from mcp.types import CallToolResult
from servers import PII, PII_PAYLOAD, PII_TEXT

from mcp_pii import Config, Engine, __version__
from mcp_pii.offload import INLINE_LIMIT
from mcp_pii.pointer import resolve
from mcp_pii.server import PiiServer, build_server

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

STRATEGIES = ["redact", "label", "partial", "hash", "tokenize", "remove"]
TOOLS = {"detect_pii", "mask_pii", "scan_nested", "ping"}
# Limits small enough to hit with a short payload.
SMALL = Config(max_text_bytes=64, max_depth=4, max_nodes=20)

# A short text whose masked forms are easy to write out; the email appears twice (tokenize).
TEXT = f"Zoë <{PII['email']}>, SSN {PII['ssn']}, card {PII['credit_card']}; cc {PII['email']}"
TEXT_VALUES = [
    ("email", PII["email"]),
    ("ssn", PII["ssn"]),
    ("credit_card", PII["credit_card"]),
    ("email", PII["email"]),
]
MASKED = {
    "label": "Zoë <[EMAIL]>, SSN [SSN], card [CREDIT_CARD]; cc [EMAIL]",
    "redact": "Zoë <[REDACTED]>, SSN [REDACTED], card [REDACTED]; cc [REDACTED]",
    "partial": "Zoë <j***@example.com>, SSN ***-**-6789, card **** **** **** 1111; cc j***@example.com",
    "tokenize": "Zoë <[EMAIL_1]>, SSN [SSN_1], card [CREDIT_CARD_1]; cc [EMAIL_1]",
    "remove": "Zoë <>, SSN , card ; cc ",
}
HASH_TEXT = re.compile(
    r"Zoë <\[HASH:([0-9a-f]{12})\]>, SSN \[HASH:[0-9a-f]{12}\], card \[HASH:[0-9a-f]{12}\]; cc \[HASH:([0-9a-f]{12})\]"
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


_SERVERS: dict[tuple[str, str], PiiServer] = {}


def server_for(impl: str, name: str = "default", config: Config | None = None) -> PiiServer:
    """One server per (engine, configuration name) for the whole session: building one takes ~0.1 s."""
    key = (impl, name)
    if key not in _SERVERS:
        _SERVERS[key] = build_server(engine=Engine(config, implementation=impl))  # type: ignore[arg-type]
    return _SERVERS[key]


@pytest.fixture
def server(engine_impl: str) -> PiiServer:
    return server_for(engine_impl)


@pytest.fixture
async def client(server: PiiServer) -> AsyncIterator[Client]:
    async with Client(server) as c:
        yield c


async def ok(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    """Call a tool that must succeed; return its structured result (checked against the text content)."""
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert_text_content(tool, args, result.content[0].text, result.structured_content)  # type: ignore[union-attr]
    return result.structured_content


def assert_text_content(tool: str, args: dict[str, Any], text: str, structured: dict[str, Any]) -> None:
    """The text content is what a client reading only text needs, never an indented copy of the result.

    mask_pii: the masked text; scan_nested: the masked payload as compact JSON (with mask=false:
    the report: detections when asked for, and counts); detect_pii and ping: the result as compact JSON.
    With text_content='counts' (mask_pii, scan_nested): the counts and the scope as compact JSON.
    """
    assert "\n  " not in text or tool == "mask_pii", text[:200]
    if args.get("text_content") == "counts":
        assert text == json.dumps(
            {k: v for k, v in structured.items() if k in ("counts", "scope")}, separators=(",", ":")
        )
    elif tool == "mask_pii":
        assert text == structured["text"]
    elif tool == "scan_nested" and args.get("mask", True):
        assert json.loads(text) == structured["data"]
    elif tool == "scan_nested":
        assert json.loads(text) == {k: v for k, v in structured.items() if k in ("detections", "counts")}
    else:
        assert json.loads(text) == structured


async def error(client: Client, tool: str, args: dict[str, Any]) -> str:
    """Call a tool that must fail with a tool error; return the error text."""
    result = await client.call_tool(tool, args)
    assert result.is_error, result.structured_content
    assert result.structured_content is None
    text: str = result.content[0].text  # type: ignore[union-attr]
    assert text.startswith(f"Error executing tool {tool}: "), text
    return text


def find_enum(schema: dict[str, Any], root: dict[str, Any]) -> list[Any] | None:
    """The first ``enum`` under a property schema, following ``$ref``, ``anyOf`` and ``items``."""
    if "enum" in schema:
        return list(schema["enum"])
    if "$ref" in schema:
        return find_enum(root["$defs"][schema["$ref"].rsplit("/", 1)[1]], root)
    for sub in [*schema.get("anyOf", []), schema.get("items", {})]:
        if (found := find_enum(sub, root)) is not None:
            return found
    return None


# --- list_tools ----------------------------------------------------------------------------------


async def test_server_info(client: Client) -> None:
    assert client.server_info.name == "mcp-pii"
    assert client.server_info.version == __version__
    assert client.instructions
    assert "mask_pii" in client.instructions


async def test_list_tools(client: Client, engine_impl: str) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    type_ids = Engine(implementation=engine_impl).types  # type: ignore[arg-type]
    outputs = {
        "detect_pii": {"detections", "counts"},
        "mask_pii": {"text", "detections", "counts"},
        "scan_nested": {"data", "detections", "counts"},
    }
    for name, tool in tools.items():
        assert tool.description, name
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is True, name
        assert tool.annotations.open_world_hint is False, name
        assert tool.output_schema is not None, name
        props = tool.input_schema["properties"]
        if name == "ping":
            assert props == {}
            continue
        assert outputs[name] <= set(tool.output_schema["properties"]), name
        assert find_enum(props["types"], tool.input_schema) == type_ids, name
        for prop in props.values():
            assert prop.get("description"), (name, prop)
        if name != "detect_pii":
            assert find_enum(props["strategy"], tool.input_schema) == STRATEGIES, name
    assert tools["detect_pii"].input_schema["required"] == ["text"]
    assert tools["mask_pii"].input_schema["required"] == ["text"]
    assert tools["scan_nested"].input_schema["required"] == ["data"]
    assert "include_values" in tools["detect_pii"].input_schema["properties"]
    assert "mask" in tools["scan_nested"].input_schema["properties"]


async def test_schema_lists_only_enabled_types() -> None:
    server = server_for("python", "no-ip", Config(disabled_types=["ip_address", "phone"]))
    async with Client(server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        enum = find_enum(tools["mask_pii"].input_schema["properties"]["types"], tools["mask_pii"].input_schema)
        assert enum is not None
        assert "ip_address" not in enum
        assert "phone" not in enum
        assert "email" in enum
        out = await ok(client, "detect_pii", {"text": PII_TEXT})
        assert "ip_address" not in out["counts"]
        assert "phone" not in out["counts"]
        msg = await error(client, "detect_pii", {"text": PII_TEXT, "types": ["ip_address"]})
        assert "types.0" in msg


# --- detect_pii ----------------------------------------------------------------------------------


async def test_detect(client: Client) -> None:
    out = await ok(client, "detect_pii", {"text": TEXT})
    assert [(d["type"], TEXT[d["start"] : d["end"]]) for d in out["detections"]] == TEXT_VALUES
    assert all("value" not in d for d in out["detections"])
    assert out["counts"] == {"email": 2, "ssn": 1, "credit_card": 1}


async def test_detect_every_type_in_a_long_text(client: Client) -> None:
    out = await ok(client, "detect_pii", {"text": PII_TEXT, "include_values": True})
    assert {d["type"]: d["value"] for d in out["detections"]} == PII
    assert out["counts"] == dict.fromkeys(PII, 1)
    for d in out["detections"]:
        assert PII_TEXT[d["start"] : d["end"]] == d["value"]


async def test_detect_values_only_when_asked(client: Client) -> None:
    with_values = await ok(client, "detect_pii", {"text": TEXT, "include_values": True})
    assert [(d["type"], d["value"]) for d in with_values["detections"]] == TEXT_VALUES
    without = await ok(client, "detect_pii", {"text": TEXT, "include_values": False})
    assert all("value" not in d for d in without["detections"])
    assert [{k: d[k] for k in ("type", "start", "end", "rule")} for d in with_values["detections"]] == without[
        "detections"
    ]


async def test_detect_types_filter(client: Client) -> None:
    out = await ok(client, "detect_pii", {"text": TEXT, "types": ["ssn", "credit_card"]})
    assert [d["type"] for d in out["detections"]] == ["ssn", "credit_card"]
    assert out["counts"] == {"ssn": 1, "credit_card": 1}
    none = await ok(client, "detect_pii", {"text": TEXT, "types": []})
    assert none == {"detections": [], "counts": {}}


async def test_detect_clean_and_empty_text(client: Client) -> None:
    for text in ("", "nothing to see here: order 1234-5678, version 1.2.3"):
        assert await ok(client, "detect_pii", {"text": text}) == {"detections": [], "counts": {}}


async def test_offsets_are_code_points(client: Client) -> None:
    text = "😀 naïve café — 日本語 " + PII["email"] + " 🇫🇷 " + PII["ssn"]
    out = await ok(client, "detect_pii", {"text": text, "include_values": True})
    assert [(d["type"], text[d["start"] : d["end"]]) for d in out["detections"]] == [
        ("email", PII["email"]),
        ("ssn", PII["ssn"]),
    ]


# --- mask_pii ------------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_mask_strategies(client: Client, strategy: str) -> None:
    out = await ok(client, "mask_pii", {"text": TEXT, "strategy": strategy, "detections": "spans"})
    if strategy == "hash":
        match = HASH_TEXT.fullmatch(out["text"])
        assert match, out["text"]
        assert match[1] == match[2]  # same value, same hash
    else:
        assert out["text"] == MASKED[strategy]
    # Spans refer to the input text, whatever the strategy did to the output.
    assert [(d["type"], TEXT[d["start"] : d["end"]]) for d in out["detections"]] == TEXT_VALUES
    assert out["counts"] == dict(Counter(d["type"] for d in out["detections"]))
    for value in PII.values():
        assert value not in out["text"]


async def test_mask_default_is_the_configured_strategy(client: Client) -> None:
    assert (await ok(client, "mask_pii", {"text": TEXT}))["text"] == MASKED["label"]
    assert (await ok(client, "mask_pii", {"text": TEXT, "strategy": None}))["text"] == MASKED["label"]


async def test_mask_per_type_strategies_from_config(engine_impl: str) -> None:
    config = Config(default_strategy="redact", strategies={"ssn": "partial"}, redaction_text="<gone>")
    async with Client(server_for(engine_impl, "strategies", config)) as client:
        out = await ok(client, "mask_pii", {"text": TEXT})
        assert out["text"] == "Zoë <<gone>>, SSN ***-**-6789, card <gone>; cc <gone>"


async def test_mask_hash_is_keyed(engine_impl: str) -> None:
    texts = []
    for name, config in (("unkeyed", None), ("key-a", Config(hash_key="key-a")), ("key-b", Config(hash_key="key-b"))):
        async with Client(server_for(engine_impl, name, config)) as client:
            first = await ok(client, "mask_pii", {"text": PII["email"], "strategy": "hash"})
            again = await ok(client, "mask_pii", {"text": PII["email"], "strategy": "hash"})
            assert first == again
            assert re.fullmatch(r"\[HASH:[0-9a-f]{12}\]", first["text"])
            texts.append(first["text"])
    assert len(set(texts)) == 3


async def test_mask_types_filter(client: Client) -> None:
    out = await ok(client, "mask_pii", {"text": TEXT, "types": ["email"], "strategy": "label"})
    assert out["text"] == f"Zoë <[EMAIL]>, SSN {PII['ssn']}, card {PII['credit_card']}; cc [EMAIL]"
    assert out["counts"] == {"email": 2}


async def test_mask_every_type(client: Client) -> None:
    out = await ok(client, "mask_pii", {"text": PII_TEXT})
    for value in PII.values():
        assert value not in out["text"]
    for type_id in PII:
        assert f"[{type_id.upper()}]" in out["text"]
    assert out["counts"] == dict.fromkeys(PII, 1)


async def test_large_text_runs_in_a_worker_thread(client: Client) -> None:
    # Over INLINE_LIMIT characters the server scans in a worker thread: same results.
    filler = "lorem ipsum é " * (INLINE_LIMIT // 10)
    text = filler + TEXT + " " + filler
    assert len(text) > INLINE_LIMIT
    out = await ok(client, "mask_pii", {"text": text, "strategy": "label", "detections": "spans"})
    assert out["text"] == filler + MASKED["label"] + " " + filler
    assert [(d["type"], text[d["start"] : d["end"]]) for d in out["detections"]] == TEXT_VALUES
    scanned = await ok(client, "scan_nested", {"data": {"big": [text]}, "strategy": "label", "detections": "spans"})
    assert scanned["data"] == {"big": [filler + MASKED["label"] + " " + filler]}
    assert {d["path"] for d in scanned["detections"]} == {"/big/0"}


async def test_concurrent_calls_on_one_client(client: Client) -> None:
    results: dict[int, dict[str, Any]] = {}

    async def one(i: int) -> None:
        results[i] = await ok(client, "mask_pii", {"text": f"#{i} " + TEXT, "strategy": "tokenize"})

    async with anyio.create_task_group() as tg:
        for i in range(40):
            tg.start_soon(one, i)
    for i, out in results.items():
        assert out["text"] == f"#{i} " + MASKED["tokenize"]
    assert len(results) == 40


# --- detections: what a result says about each one -------------------------------------------------


async def test_mask_answers_counts_unless_asked(client: Client) -> None:
    out = await ok(client, "mask_pii", {"text": TEXT})
    assert out == {"text": MASKED["label"], "counts": {"email": 2, "ssn": 1, "credit_card": 1}}
    assert await ok(client, "mask_pii", {"text": TEXT, "detections": "none"}) == out
    scanned = await ok(client, "scan_nested", {"data": PII_PAYLOAD})
    assert set(scanned) == {"data", "counts"}
    report = await ok(client, "scan_nested", {"data": PII_PAYLOAD, "mask": False})
    assert report == {"data": PII_PAYLOAD, "counts": scanned["counts"]}


async def test_text_content_counts_leaves_the_structured_result_as_it_is(client: Client) -> None:
    """text_content='counts': the masked text or payload travels once, in the structured content."""
    calls: list[tuple[str, dict[str, Any]]] = [
        ("mask_pii", {"text": TEXT}),
        ("mask_pii", {"text": TEXT, "detections": "spans", "strategy": "partial"}),
        ("mask_pii", {"text": "nothing here"}),
        ("scan_nested", {"data": PII_PAYLOAD}),
        ("scan_nested", {"data": PII_PAYLOAD, "mask": False, "detections": "spans"}),
    ]
    for tool, args in calls:
        default = await client.call_tool(tool, args)
        counted = await client.call_tool(tool, args | {"text_content": "counts"})
        assert counted.structured_content == default.structured_content
        assert counted.content[0].text == json.dumps(
            {"counts": default.structured_content["counts"]}, separators=(",", ":")
        )  # type: ignore[index, union-attr]
        assert await ok(client, tool, args | {"text_content": "masked"}) == default.structured_content
    reversible = await ok(client, "mask_pii", {"text": TEXT, "reversible": True, "text_content": "counts"})
    assert set(reversible) == {"text", "counts", "scope"}  # the scope is in the text content too (ok checks it)
    message = await error(client, "mask_pii", {"text": TEXT, "text_content": "json"})
    assert message.endswith("text_content: Input should be 'masked' or 'counts'")


async def test_detections_spans_and_values(client: Client) -> None:
    spans = await ok(client, "mask_pii", {"text": TEXT, "detections": "spans"})
    values = await ok(client, "mask_pii", {"text": TEXT, "detections": "values"})
    assert spans["text"] == values["text"] == MASKED["label"]
    assert [set(d) for d in spans["detections"]] == [{"type", "start", "end", "rule"}] * 4
    assert [(d["type"], d["value"]) for d in values["detections"]] == TEXT_VALUES
    assert [{k: d[k] for k in ("type", "start", "end", "rule")} for d in values["detections"]] == spans["detections"]
    assert spans["counts"] == values["counts"] == dict(Counter(d["type"] for d in spans["detections"]))


async def test_nested_detections_values(client: Client) -> None:
    out = await ok(client, "scan_nested", {"data": PII_PAYLOAD, "detections": "values"})
    assert {d["type"]: d["value"] for d in out["detections"]} == {t: PII[t] for t in out["counts"]}
    for d in out["detections"]:  # each value is where its pointers and offsets say, in the input
        assert resolve(PII_PAYLOAD, d["path"], d.get("embedded", []))[d["start"] : d["end"]] == d["value"]


async def test_detect_detections_option(client: Client) -> None:
    assert await ok(client, "detect_pii", {"text": TEXT, "detections": "none"}) == {
        "counts": {"email": 2, "ssn": 1, "credit_card": 1}
    }
    values = await ok(client, "detect_pii", {"text": TEXT, "detections": "values"})
    assert values == await ok(client, "detect_pii", {"text": TEXT, "include_values": True})
    assert [(d["type"], d["value"]) for d in values["detections"]] == TEXT_VALUES


async def test_reversible_masking_with_and_without_detections(client: Client) -> None:
    bare = await ok(client, "mask_pii", {"text": TEXT, "reversible": True})
    assert set(bare) == {"text", "counts", "scope"}
    spans = await ok(
        client, "mask_pii", {"text": TEXT, "reversible": True, "scope": bare["scope"], "detections": "spans"}
    )
    assert spans["text"] == bare["text"]  # same scope, same tokens
    assert [(d["type"], TEXT[d["start"] : d["end"]]) for d in spans["detections"]] == TEXT_VALUES


async def test_output_schemas_have_no_references_and_fit_every_shape(client: Client) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    for tool in tools.values():
        assert "$ref" not in json.dumps(tool.output_schema), tool.name
        assert "$defs" not in (tool.output_schema or {}), tool.name
    mask = tools["mask_pii"].output_schema
    assert mask is not None
    assert mask["required"] == ["text", "counts"]
    assert mask["properties"]["detections"]["items"]["properties"]["value"] == {
        "type": "string",
        "description": "The detected text (only with detections='values').",
        "title": "Value",
    }
    assert mask["properties"]["scope"]["type"] == "string"  # absent when not reversible, never null
    for detail in ("none", "spans", "values"):  # the client checks each result against the schema
        result = await client.call_tool("scan_nested", {"data": PII_PAYLOAD, "detections": detail})
        assert not result.is_error
        Draft202012Validator(tools["scan_nested"].output_schema).validate(result.structured_content)


# --- scan_nested ---------------------------------------------------------------------------------


async def test_scan_nested(client: Client) -> None:
    out = await ok(client, "scan_nested", {"data": PII_PAYLOAD, "detections": "spans"})
    assert out["data"] == {
        "user": {"name": "Zoë", "contact": ["[EMAIL]", {"phone": "[PHONE]"}], "age": 41, "vip": True, "x": None},
        "body": '{"ssn":"[SSN]","card":"[CREDIT_CARD]"}',  # embedded JSON, written back compactly
        "keys": ["[AWS_ACCESS_KEY]"],
    }
    assert [(d["path"], d.get("embedded"), d["type"]) for d in out["detections"]] == [
        ("/user/contact/0", None, "email"),
        ("/user/contact/1/phone", None, "phone"),
        ("/body", ["/ssn"], "ssn"),  # the string holding JSON, then the pointer inside it
        ("/body", ["/card"], "credit_card"),
        ("/keys/0", None, "aws_access_key"),
    ]
    assert out["counts"] == {"email": 1, "phone": 1, "ssn": 1, "credit_card": 1, "aws_access_key": 1}
    for d in out["detections"]:  # offsets are into the string the pointer names
        assert d["start"] == 0


async def test_scan_nested_report_only(client: Client) -> None:
    out = await ok(client, "scan_nested", {"data": PII_PAYLOAD, "mask": False, "detections": "spans"})
    assert out["data"] == PII_PAYLOAD
    assert out["counts"] == {"email": 1, "phone": 1, "ssn": 1, "credit_card": 1, "aws_access_key": 1}
    ssn = next(d for d in out["detections"] if d["type"] == "ssn")
    assert resolve(PII_PAYLOAD, ssn["path"], ssn["embedded"])[ssn["start"] : ssn["end"]] == PII["ssn"]


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_scan_nested_strategies(client: Client, strategy: str) -> None:
    out = await ok(client, "scan_nested", {"data": {"t": TEXT, "n": [1, 2.5, False]}, "strategy": strategy})
    masked = (await ok(client, "mask_pii", {"text": TEXT, "strategy": strategy}))["text"]
    assert out["data"] == {"t": masked, "n": [1, 2.5, False]}
    assert out["counts"] == {"email": 2, "ssn": 1, "credit_card": 1}


async def test_scan_nested_types_filter(client: Client) -> None:
    out = await ok(client, "scan_nested", {"data": PII_PAYLOAD, "types": ["email", "ssn"]})
    assert out["data"]["user"]["contact"] == ["[EMAIL]", {"phone": PII["phone"]}]
    assert out["counts"] == {"email": 1, "ssn": 1}


async def test_scan_nested_leaves_keys_and_scalars(client: Client) -> None:
    data = {PII["email"]: 123456789, "a/b": {"c~d": [PII["ssn"], None, True, 1.5]}, "": ""}
    out = await ok(client, "scan_nested", {"data": data, "detections": "spans"})
    assert out["data"] == {PII["email"]: 123456789, "a/b": {"c~d": ["[SSN]", None, True, 1.5]}, "": ""}
    assert [d["path"] for d in out["detections"]] == ["/a~1b/c~0d/0"]  # RFC 6901 escapes


@pytest.mark.parametrize("data", [None, 7, 2.5, True, [], {}, "plain", [PII["email"]]])
async def test_scan_nested_any_json_value(client: Client, data: Any) -> None:
    out = await ok(client, "scan_nested", {"data": data, "strategy": "label"})
    assert out["data"] == (["[EMAIL]"] if data == [PII["email"]] else data)


async def test_scan_nested_top_level_text(client: Client) -> None:
    out = await ok(client, "scan_nested", {"data": "mail " + PII["email"], "detections": "spans"})
    assert out["data"] == "mail [EMAIL]"
    assert [(d["path"], d["start"], d["end"]) for d in out["detections"]] == [("", 5, 25)]


# Regression: the SDK's pre_parse_json used to turn a top-level string holding JSON (or 'null')
# into a value before scan_nested saw it, so a string came back as an object or null.
@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ('{"email": "' + PII["email"] + '"}', '{"email":"[EMAIL]"}'),
        ('["' + PII["email"] + '"]', '["[EMAIL]"]'),
        ("null", "null"),
    ],
)
async def test_scan_nested_top_level_string_stays_a_string(client: Client, data: str, expected: str) -> None:
    # Regression test: a string payload must come back as a string (the engine does this; the SDK's
    # argument pre-parsing made it an object before the engine ran).
    out = await ok(client, "scan_nested", {"data": data})
    assert out["data"] == expected


# --- ping and unknown tools ----------------------------------------------------------------------


async def test_ping(client: Client) -> None:
    assert await ok(client, "ping", {}) == {"ok": True}


async def test_unknown_tool(client: Client) -> None:
    result = await client.call_tool("redact_everything", {"text": PII_TEXT})
    assert result.is_error
    assert "Unknown tool" in result.content[0].text  # type: ignore[union-attr]
    assert PII["email"] not in result.content[0].text  # type: ignore[union-attr]


# --- errors --------------------------------------------------------------------------------------

# (tool, arguments, what the message must say). Every message must be free of the input values.
ERRORS: list[tuple[str, dict[str, Any], str]] = [
    ("detect_pii", {"text": PII_TEXT, "types": ["passport_no"]}, "types.0: Input should be 'email', 'credit_card'"),
    ("mask_pii", {"text": PII_TEXT, "types": [PII["email"]]}, "types.0: Input should be 'email'"),
    ("scan_nested", {"data": PII_PAYLOAD, "types": ["ssn", "nope"]}, "types.1: Input should be 'email'"),
    ("mask_pii", {"text": PII_TEXT, "strategy": "obfuscate"}, "strategy: Input should be 'redact', 'label', "),
    ("scan_nested", {"data": PII_PAYLOAD, "strategy": PII["ssn"]}, "strategy: Input should be 'redact'"),
    ("mask_pii", {"text": 4111111111111111}, "text: Input should be a valid string"),
    ("detect_pii", {"text": [PII["email"], PII["ssn"]]}, "text: Input should be a valid string"),
    ("detect_pii", {"text": {"ssn": PII["ssn"]}}, "text: Input should be a valid string"),
    ("mask_pii", {"text": PII_TEXT, "types": {"ssn": PII["ssn"]}}, "types: Input should be a valid list"),
    ("detect_pii", {"text": PII_TEXT, "types": PII["email"]}, "types: Input should be a valid list"),
    ("detect_pii", {"text": PII_TEXT, "include_values": PII["email"]}, "include_values: Input should be a valid bool"),
    ("scan_nested", {"data": PII_PAYLOAD, "mask": {"a": PII["ssn"]}}, "mask: Input should be a valid boolean"),
    ("mask_pii", {"text": PII_TEXT, "detections": "all"}, "detections: Input should be 'none', 'spans' or 'values'"),
    ("scan_nested", {"data": PII_PAYLOAD, "detections": PII["ssn"]}, "detections: Input should be 'none', 'spans'"),
    ("mask_pii", {}, "text: Field required"),
    ("scan_nested", {"strategy": "label"}, "data: Field required"),
    ("mask_pii", {"text": "a\ud800 " + PII["email"]}, "lone surrogate at index 1; send valid Unicode"),
    ("detect_pii", {"text": PII["ssn"] + " \udfff"}, "lone surrogate at index 12"),
    ("scan_nested", {"data": {"k": ["x", "a\udc00 " + PII["email"]]}}, "string at '/k/1' has a lone surrogate"),
]
# Over the SMALL limits (max_text_bytes=64, max_depth=4, max_nodes=20).
LIMIT_ERRORS: list[tuple[str, dict[str, Any], str]] = [
    ("mask_pii", {"text": PII_TEXT}, "bytes, over the limit of 64 bytes (max_text_bytes)"),
    ("detect_pii", {"text": "é" * 33}, "text is 66 bytes, over the limit of 64 bytes (max_text_bytes)"),  # bytes
    ("scan_nested", {"data": {"a": [PII["email"], PII["iban"], PII["credit_card"]]}}, "(max_text_bytes)"),
    ("scan_nested", {"data": {"a": {"b": {"c": {"d": {"e": [PII["email"]]}}}}}}, "deeper than 4 levels (max_depth)"),
    ("scan_nested", {"data": [PII["ssn"], *range(30)]}, "more than 20 values (max_nodes)"),
    ("scan_nested", {"data": json.loads("[" * 10 + "]" * 10)}, "(max_depth); flatten it or raise the limit"),
]


def assert_no_values(message: str, args: dict[str, Any]) -> None:
    """No PII value, nor any string or number the caller sent, appears in an error message."""
    sent = json.dumps(args, ensure_ascii=False, default=str)
    for value in [*PII.values(), "4111111111111111", "passport_no", "obfuscate", "nope"]:
        if value in sent:
            assert value not in message, (value, message)
    assert "input_value" not in message
    assert "errors.pydantic.dev" not in message


async def test_errors(client: Client) -> None:
    for tool, args, expected in ERRORS:
        message = await error(client, tool, args)
        assert expected in message, (tool, args, message)
        assert_no_values(message, args)
        # The same session still answers correctly after every error.
        assert (await ok(client, "mask_pii", {"text": TEXT}))["text"] == MASKED["label"]


async def test_limit_errors(engine_impl: str) -> None:
    async with Client(server_for(engine_impl, "small", SMALL)) as client:
        for tool, args, expected in LIMIT_ERRORS:
            message = await error(client, tool, args)
            assert expected in message, (tool, args, message)
            assert "split it or raise the limit" in message or "flatten it or raise the limit" in message
            assert_no_values(message, args)
            assert (await ok(client, "mask_pii", {"text": f"x {PII['ssn']}"}))["text"] == "x [SSN]"
        # At the limit is fine: 32 two-byte characters are exactly 64 bytes.
        assert (await ok(client, "detect_pii", {"text": "é" * 32}))["counts"] == {}
        assert (await ok(client, "scan_nested", {"data": {"a": {"b": [PII["email"]]}}}))["counts"] == {"email": 1}


async def test_errors_over_json_rpc(engine_impl: str) -> None:
    # The "legacy" mode goes through the initialize handshake and JSON-RPC framing in memory.
    async with Client(server_for(engine_impl), mode="legacy") as client:
        assert client.protocol_version != "2026-07-28"
        for tool, args, expected in ERRORS:
            if "surrogate" in expected:
                continue  # a lone surrogate cannot be encoded as JSON (the client refuses to send it)
            message = await error(client, tool, args)
            assert expected in message
            assert_no_values(message, args)
        assert (await ok(client, "mask_pii", {"text": TEXT}))["text"] == MASKED["label"]


async def test_unexpected_failure_hides_its_message(engine_impl: str) -> None:
    class Broken(Engine):
        def mask(self, text: str, strategy: str | None = None, types: list[str] | None = None) -> Any:
            raise RuntimeError(f"engine bug near {text!r}")

        mask_counts = mask  # what mask_pii calls for counts only (its default)

    server = build_server(engine=Broken(implementation=engine_impl))  # type: ignore[arg-type]
    async with Client(server) as client:
        for detail in ("none", "spans"):
            result = await client.call_tool("mask_pii", {"text": PII_TEXT, "detections": detail})
            assert result.is_error
            assert result.content[0].text == "Error executing tool mask_pii"  # type: ignore[union-attr]
        assert (await ok(client, "detect_pii", {"text": TEXT}))["counts"]["email"] == 2


# --- both engines ----------------------------------------------------------------------------------

PARITY_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("detect_pii", {"text": PII_TEXT}),
    ("detect_pii", {"text": PII_TEXT, "include_values": True}),
    ("detect_pii", {"text": PII_TEXT, "types": ["email", "iban", "github_token"]}),
    ("detect_pii", {"text": "😀 naïve — " + PII_TEXT + " ünïcödé"}),
    *[("mask_pii", {"text": PII_TEXT, "strategy": s}) for s in STRATEGIES],
    *[("mask_pii", {"text": PII_TEXT, "strategy": s, "detections": "values"}) for s in STRATEGIES],
    ("mask_pii", {"text": PII_TEXT, "types": ["ssn"], "strategy": "partial"}),
    ("mask_pii", {"text": TEXT + " " + TEXT, "strategy": "tokenize"}),
    *[("scan_nested", {"data": PII_PAYLOAD, "strategy": s, "detections": "spans"}) for s in STRATEGIES],
    ("scan_nested", {"data": PII_PAYLOAD, "mask": False}),
    ("scan_nested", {"data": PII_PAYLOAD, "mask": False, "detections": "values", "offsets": "utf16"}),
    ("scan_nested", {"data": PII_PAYLOAD, "types": ["phone"]}),
    ("scan_nested", {"data": [PII_TEXT, {"a/b~": [PII_TEXT, 1, None]}]}),
    ("ping", {}),
    *[(tool, args) for tool, args, _ in ERRORS],
]


@pytest.mark.parametrize(("tool", "args"), PARITY_CALLS, ids=[f"{i}-{c[0]}" for i, c in enumerate(PARITY_CALLS)])
@pytest.mark.parametrize("config", ["default", "hash-key"])
async def test_engines_agree(tool: str, args: dict[str, Any], config: str) -> None:
    require_impl("rust")
    results: list[CallToolResult] = []
    for impl in ("rust", "python"):
        async with Client(server_for(impl, config, Config(hash_key="parity") if config == "hash-key" else None)) as c:
            results.append(await c.call_tool(tool, args))
    rust, python = results
    assert rust.is_error == python.is_error
    assert rust.structured_content == python.structured_content
    assert rust.content == python.content
