"""The plugin's settings (mcp_pii/plugin.py): the built-in filter's keys, ours, and the contract's shapes."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import pytest
from conftest import IMPLEMENTATIONS, require_impl

from mcp_pii import Config, ConfigError
from mcp_pii.hooks import Outcome, Violation
from mcp_pii.plugin import (
    CATEGORY_KEYS,
    DETECT_KEYS,
    FilterSettings,
    build_filter,
    load_settings,
    result_dict,
    tool_aliases,
    type_categories,
)


@pytest.fixture(params=IMPLEMENTATIONS)
def impl(request: pytest.FixtureRequest) -> str:
    require_impl(request.param)
    return str(request.param)


def build(impl: str, **keys: Any) -> Any:
    return build_filter(load_settings(keys), implementation=impl)  # type: ignore[arg-type]


def mask(impl: str, text: str, **keys: Any) -> str:
    outcome = build(impl, **keys).run("tool_pre_invoke", {"name": "t", "args": {"text": text}})
    return text if outcome.payload is None else str(outcome.payload["args"]["text"])


def test_builtin_defaults_apply_where_nothing_says_otherwise(impl: str) -> None:
    pii_filter = build(impl)
    assert pii_filter.engine.config.default_strategy == "redact"
    assert pii_filter.engine.config.max_depth == 32
    assert pii_filter.policy.max_collection_items == 4096
    assert pii_filter.policy.mask_arguments is True
    assert mask(impl, "mail bob@example.com") == "mail [REDACTED]"


def test_every_detect_key_switches_its_types_off(impl: str) -> None:
    everything = set(build(impl).engine.types)
    for key, type_ids in DETECT_KEYS.items():
        assert set(type_ids) <= everything, key
        assert set(build(impl, **{key: False}).engine.types) == everything - set(type_ids), key
        assert set(build(impl, **{key: True}).engine.types) == everything, key


def test_detect_bsn_keeps_the_bsn_type(impl: str) -> None:
    # The built-in filter's default detect_bsn: true is honoured by the catalog's `bsn` type.
    assert "bsn" in build(impl, detect_bsn=True).engine.types
    assert "bsn" not in build(impl, detect_bsn=False).engine.types


def test_a_key_for_a_type_the_engine_lacks_is_a_startup_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(DETECT_KEYS, "detect_ssn", ("ssn", "tax_id"))
    with pytest.raises(ConfigError, match="detect_ssn: true asks for tax_id"):
        build_filter(FilterSettings(detect_ssn=True))


def test_detect_secrets_follows_the_catalog_category(impl: str) -> None:
    everything = build(impl).engine.types
    secrets = {t for t, c in type_categories(everything).items() if c == CATEGORY_KEYS["detect_secrets"]}
    assert {"aws_access_key", "api_key", "private_key"} <= secrets
    assert set(build(impl, detect_secrets=False).engine.types) == set(everything) - secrets


def test_strategies_and_redaction_text(impl: str) -> None:
    text = "mail bob@example.com, SSN 078-05-1120"
    assert mask(impl, text, default_mask_strategy="label") == "mail [EMAIL], SSN [SSN]"
    assert mask(impl, text, redaction_text="***") == "mail ***, SSN ***"
    assert mask(impl, text, strategies={"ssn": "partial"}) == "mail [REDACTED], SSN ***-**-1120"
    assert mask(impl, text, default_mask_strategy="remove") == "mail , SSN "


def test_custom_patterns_in_the_builtin_format(impl: str) -> None:
    keys: dict[str, Any] = {
        "custom_patterns": [
            {"pattern": "EMP-[0-9]{6}", "description": "employee id", "mask_strategy": "label"},
            {"pattern": "TKT-[0-9]{4}", "description": "ticket", "enabled": False},
            {"pattern": "PRJ-[0-9]{3}", "description": "project", "type": "project_code"},
        ]
    }
    assert build(impl, **keys).engine.types[-2:] == ["custom_1", "project_code"]
    assert mask(impl, "EMP-123456 TKT-1234 PRJ-042", **keys) == "[CUSTOM_1] TKT-1234 [REDACTED]"


def test_custom_pattern_errors_name_the_problem(impl: str) -> None:
    with pytest.raises(ConfigError, match="look-around"):
        build(impl, custom_patterns=[{"pattern": "(?<=a)b", "description": "x"}])
    with pytest.raises(ConfigError, match="type 'email' is taken"):
        build(impl, custom_patterns=[{"pattern": "x[0-9]", "description": "x", "type": "email"}])
    with pytest.raises(ConfigError, match=r"custom_patterns\.0\.pattern: Field required"):
        build(impl, custom_patterns=[{"description": "no pattern"}])


def test_whitelist_patterns_match_anywhere_in_the_value(impl: str) -> None:
    text = "a@example.com b@corp.io"
    assert mask(impl, text, whitelist_patterns=["example"]) == "a@example.com [REDACTED]"
    assert mask(impl, text, whitelist_patterns=["^b@"]) == "[REDACTED] b@corp.io"


def test_limits(impl: str) -> None:
    pii_filter = build(impl, max_text_bytes=100, max_nested_depth=5, max_collection_items=3)
    assert (pii_filter.engine.config.max_text_bytes, pii_filter.engine.config.max_depth) == (100, 5)
    assert pii_filter.policy.max_collection_items == 3
    with pytest.raises(ConfigError, match="max_nested_depth: Input should be less than or equal to 100"):
        build(impl, max_nested_depth=500)


def test_the_base_config_wins_over_the_builtin_defaults_and_keys_win_over_it(tmp_path: Path) -> None:
    base = tmp_path / "mcp-pii.toml"
    base.write_text('default_strategy = "tokenize"\nhash_key = "k3y"\n')
    assert build_filter(FilterSettings(config_file=str(base))).engine.config.default_strategy == "tokenize"
    settings = FilterSettings(config_file=str(base), default_mask_strategy="hash")
    config = build_filter(settings).engine.config
    assert config.default_strategy == "hash"
    assert config.hash_key is not None
    assert config.hash_key.get_secret_value() == "k3y"
    assert build_filter(FilterSettings(), Config(), defaults=None).engine.config.default_strategy == "label"


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"detct_ssn": True}, "invalid PII filter settings: detct_ssn: Extra inputs are not permitted"),
        ({"detect_ssn": "secret-value"}, "detect_ssn: Input should be a valid boolean"),
        ({"default_mask_strategy": "scramble"}, "default_mask_strategy: Input should be"),
        ({"tools": [{"match": "x", "strategy": "shred"}]}, "tools.0.strategy"),
        ({"max_text_bytes": 0}, "max_text_bytes: Input should be greater than or equal to 1"),
    ],
)
def test_bad_keys_give_one_line_errors_without_values(keys: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as exc_info:
        load_settings(keys)
    assert message in str(exc_info.value)
    assert "secret-value" not in str(exc_info.value)


def test_settings_files(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text('detect_email = false\n[[tools]]\nmatch = "fs-*"\nskip = true\n')
    (tmp_path / "s.json").write_text(json.dumps({"detect_email": False}))
    (tmp_path / "s.yaml").write_text("detect_email: false\nwhitelist_patterns: ['example']\n")
    assert load_settings(tmp_path / "s.toml").tools[0].skip is True
    for name in ("s.toml", "s.json", "s.yaml"):
        assert load_settings(str(tmp_path / name)).detect_email is False
    (tmp_path / "bad.toml").write_text("detect_email = \n")
    with pytest.raises(ConfigError, match=r"settings file .*bad.toml cannot be read"):
        load_settings(tmp_path / "bad.toml")
    with pytest.raises(ConfigError, match="cannot read settings file"):
        load_settings(tmp_path / "missing.toml")
    (tmp_path / "list.json").write_text("[1]")
    with pytest.raises(ConfigError, match="must hold a table of keys"):
        load_settings(tmp_path / "list.json")


def test_tool_aliases_from_wire_and_object_contexts() -> None:
    wire = {"global_context": {"metadata": {"tool": {"original_name": "read_file", "name": "fs-read-file"}}}}
    assert tool_aliases(wire) == ["read_file"]
    tool = SimpleNamespace(original_name="read_file")
    assert tool_aliases(SimpleNamespace(global_context=SimpleNamespace(metadata={"tool": tool}))) == ["read_file"]
    assert tool_aliases({"global_context": {"metadata": {}}}) == []
    assert tool_aliases(None) == []


def test_result_dict_shapes() -> None:
    assert result_dict(Outcome()) == {
        "continue_processing": True,
        "modified_payload": None,
        "violation": None,
        "metadata": {},
    }
    violation = Violation(code="PII_DETECTED", reason="r", description="d", details={"counts": {"email": 1}})
    assert result_dict(Outcome(violation=violation))["violation"] == {
        "reason": "r",
        "description": "d",
        "code": "PII_DETECTED",
        "details": {"counts": {"email": 1}},
        "http_status_code": 422,
    }


def test_importing_the_plugin_keeps_the_servers_strategy_enum_in_order() -> None:
    # Regression: the plugin once declared its own Literal of the same strategies in another order;
    # Literal types compare equal regardless of order, so pydantic's schema cache handed the
    # server's tools whichever order was built first.
    from typing import get_args

    import mcp_pii.plugin  # noqa: F401
    from mcp_pii.config import Strategy
    from mcp_pii.server import build_server

    tools = anyio.run(build_server().list_tools)
    mask = next(t for t in tools if t.name == "mask_pii")
    strategy = mask.input_schema["properties"]["strategy"]["anyOf"][0]["enum"]
    assert strategy == list(get_args(Strategy))
