"""The hook module (mcp_pii/hooks.py) on both engines: what each hook scans, masks, blocks and refuses."""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

import anyio
import pytest
from conftest import EngineFactory

from mcp_pii import ConfigError
from mcp_pii.hooks import HOOK_TYPES, PII_DETECTED, PII_SCAN_FAILED, HookPolicy, PIIFilter, ToolRule

EMAIL, SSN, PHONE = "bob@example.com", "078-05-1120", "+1 415-555-0132"
TEXT = f"mail {EMAIL}, SSN {SSN}"


def tool_result(text: str, structured: Any = None) -> dict[str, Any]:
    """A tool result as the gateway passes it to tool_post_invoke."""
    result: dict[str, Any] = {
        "content": [{"type": "text", "text": text, "annotations": None, "_meta": None}],
        "isError": False,
        "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "up", "version": "1"}},
    }
    if structured is not None:
        result["structuredContent"] = structured
    return result


@pytest.fixture
def make_filter(make_engine: EngineFactory) -> Any:
    def make(policy: HookPolicy | None = None, **config: Any) -> PIIFilter:
        return PIIFilter(make_engine(**config) if config else make_engine(), policy)

    return make


def test_tool_arguments_are_masked(make_filter: Any) -> None:
    payload = {"name": "up-echo", "args": {"text": TEXT, "n": 3, "nested": [{"mail": EMAIL}]}, "headers": {}}
    before = copy.deepcopy(payload)
    outcome = make_filter().run("tool_pre_invoke", payload)
    assert outcome.continue_processing
    assert outcome.payload == {
        "name": "up-echo",
        "args": {"text": "mail [EMAIL], SSN [SSN]", "n": 3, "nested": [{"mail": "[EMAIL]"}]},
        "headers": {},
    }
    assert outcome.counts == {"email": 2, "ssn": 1}
    assert payload == before  # the input is never changed in place


def test_tool_result_text_structured_content_and_embedded_resources(make_filter: Any) -> None:
    result = tool_result(json.dumps({"email": EMAIL}), structured={"email": EMAIL, "id": 7})
    result["content"] += [
        {
            "type": "resource",
            "resource": {"uri": "file:///bob@example.com.txt", "mimeType": "text/plain", "text": PHONE},
        },
        {"type": "resource", "resource": {"uri": "file:///a.bin", "blob": "Ym9iQGV4YW1wbGUuY29t"}},
        {"type": "image", "data": "aGk=", "mimeType": "image/png"},
    ]
    before = copy.deepcopy(result)
    outcome = make_filter().run("tool_post_invoke", {"name": "t", "result": result})
    new = outcome.payload["result"]
    assert new["content"][0]["text"] == '{"email":"[EMAIL]"}'
    assert new["content"][1]["resource"] == {
        "uri": "file:///bob@example.com.txt",
        "mimeType": "text/plain",
        "text": "[PHONE]",
    }
    assert new["content"][2:] == before["content"][2:]  # blobs and images are not text
    assert new["structuredContent"] == {"email": "[EMAIL]", "id": 7}
    assert new["_meta"] == before["_meta"]
    assert new["isError"] is False
    assert outcome.counts == {"email": 2, "phone": 1}
    assert result == before


def test_a_value_gets_one_token_across_the_whole_result(make_filter: Any) -> None:
    result = tool_result(f"{EMAIL} and x@y.org", structured={"to": EMAIL})
    outcome = make_filter(default_strategy="tokenize").run("tool_post_invoke", {"name": "t", "result": result})
    assert outcome.payload["result"]["content"][0]["text"] == "[EMAIL_1] and [EMAIL_2]"
    assert outcome.payload["result"]["structuredContent"] == {"to": "[EMAIL_1]"}


def test_a_result_of_another_shape_is_scanned_whole(make_filter: Any) -> None:
    outcome = make_filter().run("tool_post_invoke", {"name": "t", "result": {"status": "ok", "who": EMAIL}})
    assert outcome.payload["result"] == {"status": "ok", "who": "[EMAIL]"}
    outcome = make_filter().run("tool_post_invoke", {"name": "t", "result": f"plain {EMAIL}"})
    assert outcome.payload["result"] == "plain [EMAIL]"


def test_prompt_arguments_and_messages(make_filter: Any) -> None:
    pii_filter = make_filter()
    outcome = pii_filter.run("prompt_pre_fetch", {"prompt_id": "p", "args": {"person": EMAIL, "tone": "warm"}})
    assert outcome.payload == {"prompt_id": "p", "args": {"person": "[EMAIL]", "tone": "warm"}}
    result = {
        "messages": [
            {"role": "user", "content": {"type": "text", "text": f"Write to {EMAIL}"}},
            {"role": "assistant", "content": {"type": "resource", "resource": {"uri": "n://1", "text": f"SSN {SSN}"}}},
        ],
        "description": "A letter",
    }
    outcome = pii_filter.run("prompt_post_fetch", {"prompt_id": "p", "result": result})
    assert outcome.payload["result"]["messages"][0]["content"]["text"] == "Write to [EMAIL]"
    assert outcome.payload["result"]["messages"][1]["content"]["resource"] == {"uri": "n://1", "text": "SSN [SSN]"}
    assert outcome.payload["result"]["description"] == "A letter"


def test_resource_contents(make_filter: Any) -> None:
    pii_filter = make_filter()
    content = {"type": "resource", "id": "1", "uri": "note://c", "mimeType": "text/plain", "text": f"Call {PHONE}"}
    outcome = pii_filter.run("resource_post_fetch", {"uri": "note://c", "content": content})
    assert outcome.payload["content"] == {**content, "text": "Call [PHONE]"}
    contents = [{"uri": "a://1", "text": EMAIL}, {"uri": "a://2", "blob": "eA=="}]
    outcome = pii_filter.run("resource_post_fetch", {"uri": "a://1", "content": contents})
    assert outcome.payload["content"] == [{"uri": "a://1", "text": "[EMAIL]"}, {"uri": "a://2", "blob": "eA=="}]
    assert pii_filter.run("resource_pre_fetch", {"uri": f"mailto:{EMAIL}", "metadata": {}}).payload is None


def test_nothing_found_leaves_the_payload_alone(make_filter: Any) -> None:
    outcome = make_filter().run("tool_post_invoke", {"name": "t", "result": tool_result("all clear", {"n": 1})})
    assert outcome.continue_processing
    assert outcome.payload is None
    assert outcome.counts == {}


def test_mask_arguments_off_leaves_arguments(make_filter: Any) -> None:
    pii_filter = make_filter(HookPolicy(mask_arguments=False))
    assert pii_filter.run("tool_pre_invoke", {"name": "t", "args": {"text": TEXT}}).payload is None
    assert pii_filter.run("prompt_pre_fetch", {"prompt_id": "p", "args": {"a": TEXT}}).payload is None
    assert pii_filter.run("tool_post_invoke", {"name": "t", "result": tool_result(TEXT)}).payload is not None


def test_block_on_detection_gives_counts_never_values(make_filter: Any) -> None:
    outcome = make_filter(HookPolicy(block_on_detection=True)).run(
        "tool_pre_invoke", {"name": "t", "args": {"text": TEXT}}
    )
    assert not outcome.continue_processing
    assert outcome.payload is None
    violation = outcome.violation
    assert violation is not None
    assert violation.code == PII_DETECTED
    assert violation.http_status == 422
    assert violation.reason == "PII detected in tool arguments"
    assert violation.details == {
        "counts": {"email": 1, "ssn": 1},
        "total": 2,
        "detected_types": ["email", "ssn"],
        "where": "tool arguments",
    }
    assert EMAIL not in repr(violation)
    assert SSN not in repr(violation)


@pytest.mark.parametrize(
    ("hook", "payload", "status", "why"),
    [
        ("tool_post_invoke", {"name": "t", "result": tool_result("x" * 2000)}, 413, "max_text_bytes"),
        ("tool_post_invoke", {"name": "t", "result": tool_result("a\ud800b")}, 422, "lone surrogate"),
        ("tool_pre_invoke", {"name": "t", "args": {"deep": [[[[[[[[["x"]]]]]]]]]}}, 413, "max_depth"),
        ("tool_pre_invoke", {"name": "t", "args": {"many": list(range(50))}}, 413, "max_collection_items"),
        ("prompt_post_fetch", ["not", "an", "object"], 422, "not an object"),
    ],
)
def test_fail_closed(make_filter: Any, hook: str, payload: Any, status: int, why: str) -> None:
    pii_filter = make_filter(HookPolicy(max_collection_items=40), max_text_bytes=1000, max_depth=8)
    outcome = pii_filter.run(hook, payload)
    assert not outcome.continue_processing
    assert outcome.payload is None
    assert outcome.violation is not None
    assert outcome.violation.code == PII_SCAN_FAILED
    assert outcome.violation.http_status == status
    assert why in outcome.violation.description


def test_tool_rules_skip_strategy_types_and_aliases(make_filter: Any) -> None:
    rules = [
        ToolRule(match="fs-*", skip=True),
        ToolRule(match="crm-*", strategy="partial", types=["ssn"]),
        ToolRule(match="read_file", strategy="redact"),
    ]
    pii_filter = make_filter(HookPolicy(tools=rules))
    payload = {"args": {"text": TEXT}}
    assert pii_filter.run("tool_pre_invoke", {"name": "fs-read", **payload}).payload is None
    crm = pii_filter.run("tool_pre_invoke", {"name": "crm-lookup", **payload})
    assert crm.payload["args"]["text"] == f"mail {EMAIL}, SSN ***-**-1120"
    # A gateway prefixes tool names; the rule also matches the tool's own name.
    aliased = pii_filter.run("tool_pre_invoke", {"name": "gw-read-file", **payload}, aliases=["read_file"])
    assert aliased.payload["args"]["text"] == "mail [REDACTED], SSN [REDACTED]"
    other = pii_filter.run("tool_pre_invoke", {"name": "other", **payload})
    assert other.payload["args"]["text"] == "mail [EMAIL], SSN [SSN]"


def test_a_tool_rule_naming_a_type_not_enabled_is_refused(make_engine: EngineFactory) -> None:
    with pytest.raises(ConfigError, match="tool rule 'x' names type 'email', which is not enabled"):
        PIIFilter(make_engine(disabled_types=["email"]), HookPolicy(tools=[ToolRule(match="x", types=["email"])]))


def test_unknown_hook_is_an_error(make_filter: Any) -> None:
    with pytest.raises(ValueError, match="unknown hook type 'tool_pre'"):
        make_filter().run("tool_pre", {})
    assert "tool_pre_invoke" in HOOK_TYPES


def test_log_detections_logs_counts_not_values(make_filter: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    outcome = make_filter(HookPolicy(log_detections=True, include_detection_details=True)).run(
        "tool_pre_invoke", {"name": "t", "args": {"text": TEXT}}
    )
    assert outcome.metadata == {"pii_detections": {"counts": {"email": 1, "ssn": 1}, "total": 2}}
    assert "tool arguments: 2 detections {'email': 1, 'ssn': 1}" in caplog.text
    assert EMAIL not in caplog.text
    assert SSN not in caplog.text


def test_arun_gives_the_same_outcome_inline_and_in_a_thread(make_filter: Any) -> None:
    pii_filter = make_filter()
    small = {"name": "t", "result": tool_result(TEXT)}
    large = {"name": "t", "result": tool_result(TEXT + " " + "filler " * 5000)}

    async def both() -> tuple[Any, Any]:
        return await pii_filter.arun("tool_post_invoke", small), await pii_filter.arun("tool_post_invoke", large)

    inline, threaded = anyio.run(both)
    assert inline == pii_filter.run("tool_post_invoke", small)
    assert threaded == pii_filter.run("tool_post_invoke", large)
    assert threaded.payload["result"]["content"][0]["text"].startswith("mail [EMAIL], SSN [SSN] filler")


def test_arun_with_a_vault_masks_reversibly(make_filter: Any) -> None:
    from mcp_pii.tokens import TOKEN
    from mcp_pii.vault import Vault

    pii_filter = make_filter()
    vault = Vault.memory()
    result = tool_result(f"{EMAIL} and {SSN}", structured={"to": EMAIL})

    async def go() -> tuple[Any, Any, Any]:
        scope = await vault.new_scope()
        outcome = await pii_filter.arun("tool_post_invoke", {"name": "t", "result": result}, vault=vault, scope=scope)
        text = outcome.payload["result"]["content"][0]["text"]
        back = await pii_filter.engine.unmask(text, vault, scope)
        blocked = await make_filter(HookPolicy(block_on_detection=True)).arun(
            "tool_post_invoke", {"name": "t", "result": result}, vault=vault, scope=scope
        )
        return outcome, back, blocked

    outcome, back, blocked = anyio.run(go)
    text = outcome.payload["result"]["content"][0]["text"]
    email_token = outcome.payload["result"]["structuredContent"]["to"]
    assert TOKEN.fullmatch(email_token)
    assert text == f"{email_token} and {text.split(' and ')[1]}"
    assert back.text == f"{EMAIL} and {SSN}"
    assert blocked.violation is not None
    assert blocked.violation.details["counts"] == {"email": 2, "ssn": 1}
