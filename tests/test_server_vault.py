"""Reversible masking through the MCP server, in memory (both engines): the ``reversible`` and
``scope`` arguments, the unmask tools (listed only with ``allow_unmask``), errors, and logs.

Transports and a shared Redis are in ``test_server_vault_redis.py``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from conftest import load_corpus
from mcp import Client
from servers import PII, PII_PAYLOAD, PII_TEXT, Collect
from test_server_memory import error, ok

from mcp_pii import Config, Engine
from mcp_pii.server import PiiServer, build_server
from mcp_pii.tokens import TOKEN
from mcp_pii.vault import Vault

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

UNMASK_TOOLS = {"unmask_pii", "unmask_nested", "forget_scope"}

# One sentence of the detection corpus per type, as a text and as a JSON payload (one string per
# type, and the same again inside a string holding JSON): every type round-trips.
CORPUS = load_corpus()
EVERY_TYPE = {type_id: cases["positives"][0] for type_id, cases in CORPUS.items()}
EVERY_TYPE_TEXT = "\n".join(case["text"] for case in EVERY_TYPE.values())
EVERY_TYPE_PAYLOAD = {
    "records": [{"type": type_id, "note": case["text"]} for type_id, case in EVERY_TYPE.items()],
    "raw": json.dumps({type_id: case["text"] for type_id, case in EVERY_TYPE.items()}),
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def unmask_server(impl: str, vault: Vault | None = None, **fields: Any) -> PiiServer:
    config = Config(allow_unmask=True, **fields)
    return build_server(engine=Engine(config, implementation=impl), vault=vault)  # type: ignore[arg-type]


@pytest.fixture
async def client(engine_impl: str) -> AsyncIterator[Client]:
    async with Client(unmask_server(engine_impl)) as c:
        yield c


async def test_unmask_tools_are_listed_only_when_allowed(engine_impl: str) -> None:
    async with Client(build_server(engine=Engine(implementation=engine_impl))) as plain:  # type: ignore[arg-type]
        names = {t.name for t in (await plain.list_tools()).tools}
        assert not names & UNMASK_TOOLS
        result = await plain.call_tool("unmask_pii", {"text": "x", "scope": "s"})
        assert result.is_error
        # Reversible masking itself needs no permission.
        masked = await ok(plain, "mask_pii", {"text": PII_TEXT, "reversible": True})
        assert masked["scope"]
    async with Client(unmask_server(engine_impl)) as allowed:
        tools = {t.name: t for t in (await allowed.list_tools()).tools}
    assert set(tools) >= UNMASK_TOOLS
    for name in ("unmask_pii", "unmask_nested"):
        annotations = tools[name].annotations
        assert annotations is not None
        assert (annotations.read_only_hint, annotations.open_world_hint) == (True, False)
        assert "scope" in tools[name].input_schema["required"]
    forget = tools["forget_scope"].annotations
    assert forget is not None
    assert (forget.read_only_hint, forget.destructive_hint, forget.open_world_hint) == (False, True, False)
    for name in UNMASK_TOOLS:
        description = tools[name].description
        assert description is not None
        assert "scope" in description
        assert tools[name].output_schema is not None
    for name in ("mask_pii", "scan_nested"):
        props = tools[name].input_schema["properties"]
        assert {"reversible", "scope"} <= set(props)
        assert "scope" in tools[name].output_schema["properties"]  # type: ignore[index]


async def test_round_trip_through_the_tools(client: Client) -> None:
    masked = await ok(client, "mask_pii", {"text": PII_TEXT, "reversible": True})
    scope = masked["scope"]
    assert len(scope) == 32
    assert not any(value in masked["text"] for value in PII.values())
    assert masked["counts"] == dict.fromkeys(PII, 1)
    back = await ok(client, "unmask_pii", {"text": masked["text"], "scope": scope})
    assert back == {"text": PII_TEXT, "restored": len(PII), "unknown": 0, "foreign": 0}

    # The same value keeps its token across calls in the scope; a model's reply unmasks.
    again = await ok(client, "mask_pii", {"text": f"cc {PII['email']}", "reversible": True, "scope": scope})
    email_token = TOKEN.search(masked["text"])
    assert email_token is not None
    assert again["text"] == f"cc {email_token.group(0)}"
    assert again["scope"] == scope
    reply = await ok(client, "unmask_pii", {"text": f"Sent to {email_token.group(0)}.", "scope": scope})
    assert reply["text"] == f"Sent to {PII['email']}."

    nested = await ok(client, "scan_nested", {"data": PII_PAYLOAD, "reversible": True, "scope": scope})
    assert nested["scope"] == scope
    assert PII["ssn"] not in json.dumps(nested["data"])
    restored = await ok(client, "unmask_nested", {"data": nested["data"], "scope": scope})
    assert restored["data"]["user"] == PII_PAYLOAD["user"]
    assert json.loads(restored["data"]["body"]) == json.loads(PII_PAYLOAD["body"])
    assert restored["restored"] == sum(nested["counts"].values())

    # A string payload stays a string (the SDK would otherwise decode JSON-looking strings).
    text_payload = await ok(client, "unmask_nested", {"data": '["' + email_token.group(0) + '"]', "scope": scope})
    assert text_payload["data"] == '["' + PII["email"] + '"]'


async def test_every_type_round_trips(client: Client) -> None:
    masked = await ok(client, "mask_pii", {"text": EVERY_TYPE_TEXT, "reversible": True})
    assert set(masked["counts"]) == set(EVERY_TYPE)
    assert not any(case["value"] in masked["text"] for case in EVERY_TYPE.values())
    back = await ok(client, "unmask_pii", {"text": masked["text"], "scope": masked["scope"]})
    assert back["text"] == EVERY_TYPE_TEXT
    nested = await ok(client, "scan_nested", {"data": EVERY_TYPE_PAYLOAD, "reversible": True})
    assert set(nested["counts"]) == set(EVERY_TYPE)
    flat = json.dumps(nested["data"])
    assert not any(json.dumps(case["value"])[1:-1] in flat for case in EVERY_TYPE.values())
    restored = await ok(client, "unmask_nested", {"data": nested["data"], "scope": nested["scope"]})
    assert restored["data"]["records"] == EVERY_TYPE_PAYLOAD["records"]
    assert json.loads(restored["data"]["raw"]) == json.loads(EVERY_TYPE_PAYLOAD["raw"])


async def test_scopes_guessed_or_from_other_calls_unmask_nothing(client: Client) -> None:
    one = await ok(client, "mask_pii", {"text": PII_TEXT, "reversible": True})
    two = await ok(client, "mask_pii", {"text": PII_TEXT, "reversible": True})
    assert one["scope"] != two["scope"]
    assert one["text"] != two["text"]
    crossed = await ok(client, "unmask_pii", {"text": one["text"], "scope": two["scope"]})
    assert crossed == {"text": one["text"], "restored": 0, "unknown": 0, "foreign": len(PII)}
    guessed = await ok(client, "unmask_pii", {"text": one["text"], "scope": "A" * 32})
    assert guessed["text"] == one["text"]
    assert guessed["restored"] == 0


async def test_forget_scope(client: Client) -> None:
    masked = await ok(client, "mask_pii", {"text": PII_TEXT, "reversible": True})
    scope = masked["scope"]
    assert await ok(client, "forget_scope", {"scope": scope}) == {"forgotten": True}
    assert await ok(client, "forget_scope", {"scope": scope}) == {"forgotten": False}
    back = await ok(client, "unmask_pii", {"text": masked["text"], "scope": scope})
    assert back == {"text": masked["text"], "restored": 0, "unknown": len(PII), "foreign": 0}
    message = await error(client, "mask_pii", {"text": PII_TEXT, "reversible": True, "scope": scope})
    assert "unknown or expired scope" in message


async def test_argument_errors(client: Client) -> None:
    assert "reversible=true" in await error(client, "mask_pii", {"text": PII_TEXT, "scope": "abc"})
    assert "reversible=true" in await error(client, "scan_nested", {"data": [PII_TEXT], "scope": "abc"})
    assert "'tokenize'" in await error(client, "mask_pii", {"text": PII_TEXT, "reversible": True, "strategy": "label"})
    assert "leave mask true" in await error(client, "scan_nested", {"data": [1], "reversible": True, "mask": False})
    bad_scope = "not a scope: " + PII["email"]
    for tool, args in (
        ("mask_pii", {"text": PII_TEXT, "reversible": True, "scope": bad_scope}),
        ("unmask_pii", {"text": "x", "scope": bad_scope}),
        ("forget_scope", {"scope": bad_scope}),
    ):
        message = await error(client, tool, args)
        assert "scope" in message
        assert PII["email"] not in message
    unknown = "Z" * 32
    message = await error(client, "mask_pii", {"text": PII_TEXT, "reversible": True, "scope": unknown})
    assert unknown not in message


async def test_without_reversible_nothing_changes(client: Client, engine_impl: str) -> None:
    reference = Engine(implementation=engine_impl)  # type: ignore[arg-type]
    plain = await ok(client, "mask_pii", {"text": PII_TEXT, "strategy": "tokenize"})
    assert "scope" not in plain
    assert plain["text"] == reference.mask(PII_TEXT, "tokenize").text
    scanned = await ok(client, "scan_nested", {"data": PII_PAYLOAD})
    assert "scope" not in scanned


async def test_vault_caps_are_tool_errors(engine_impl: str) -> None:
    server = unmask_server(engine_impl, vault_max_scopes=2, vault_max_entries=3)
    async with Client(server) as client:
        first = await ok(client, "mask_pii", {"text": "a@example.com b@example.com", "reversible": True})
        message = await error(
            client, "mask_pii", {"text": "c@example.com d@example.com", "reversible": True, "scope": first["scope"]}
        )
        assert "vault_max_entries" in message
        await ok(client, "mask_pii", {"text": "x", "reversible": True})
        assert "vault_max_scopes" in await error(client, "mask_pii", {"text": "y", "reversible": True})


async def test_no_value_and_no_scope_in_logs(engine_impl: str) -> None:
    collect = Collect()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(collect)
    root.setLevel(logging.DEBUG)
    try:
        async with Client(unmask_server(engine_impl, vault_max_entries=len(PII) + 1)) as client:
            masked = await ok(client, "mask_pii", {"text": PII_TEXT, "reversible": True, "strategy": "tokenize"})
            scope = masked["scope"]
            await ok(client, "unmask_pii", {"text": masked["text"], "scope": scope})
            nested = await ok(client, "scan_nested", {"data": PII_PAYLOAD, "reversible": True})
            await ok(client, "unmask_nested", {"data": nested["data"], "scope": nested["scope"]})
            over = {"text": "x@example.org, y@example.org", "reversible": True, "scope": scope}
            assert "vault_max_entries" in await error(client, "mask_pii", over)
            await ok(client, "forget_scope", {"scope": scope})
            await error(client, "mask_pii", {"text": PII_TEXT, "reversible": True, "scope": scope})  # forgotten
    finally:
        root.removeHandler(collect)
        root.setLevel(old_level)
    logged = "\n".join(collect.lines)
    assert "reversible masking: memory vault" in logged
    for secret in (*PII.values(), scope, nested["scope"]):
        assert secret not in logged
