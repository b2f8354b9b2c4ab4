"""Configuration: defaults, TOML files, MCP_PII_* variables, and what custom patterns may not do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import EngineFactory

from mcp_pii import Config, ConfigError, CustomPattern, Engine
from mcp_pii.catalog import builtin_type_ids
from mcp_pii.config import CustomPattern as _CustomPattern

# --- defaults ------------------------------------------------------------------------------------


def test_defaults() -> None:
    config = Config()
    assert config.enabled_types is None
    assert config.disabled_types == []
    assert config.default_strategy == "label"
    assert config.strategies == {}
    assert config.redaction_text == "[REDACTED]"
    assert config.hash_key is None
    assert config.allow_values == []
    assert config.allow_patterns == []
    assert config.custom_patterns == []
    assert config.max_text_bytes == 10 * 1024 * 1024
    assert config.max_depth == 64
    assert config.max_nodes == 1_000_000


def test_default_engine_runs_every_type(make_engine: EngineFactory) -> None:
    assert make_engine().types == list(builtin_type_ids())
    assert make_engine(Config()).types == list(builtin_type_ids())


def test_enabled_and_disabled_types(make_engine: EngineFactory) -> None:
    assert make_engine(enabled_types=["ssn", "email"]).types == ["email", "ssn"]  # catalog order
    assert make_engine(enabled_types=["ssn", "email"], disabled_types=["ssn"]).types == ["email"]
    assert make_engine(enabled_types=[]).types == []
    assert make_engine(enabled_types=[]).detect("a@example.com") == []
    assert "phone" not in make_engine(disabled_types=["phone"]).types


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_depth": 1000}, "max_depth: Input should be less than or equal to 100"),
        ({"enabled_types": ["nope"]}, "unknown PII type 'nope' in enabled_types"),
        ({"default_strategy": "blur"}, "default_strategy: Input should be"),
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"custom_patterns": [{"id": "x", "pattern": "(a+)+"}]}, "custom pattern .x. nests a repetition"),
    ],
)
def test_config_built_directly_raises_config_error(kwargs: dict[str, Any], message: str) -> None:
    # Regression (an open problem until now): Config(...) raised pydantic's ValidationError, where
    # Config.load raised ConfigError; both raise ConfigError now, with the same text.
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        Config(**kwargs)


def test_config_is_frozen() -> None:
    config = Config()
    with pytest.raises(ValueError, match="frozen"):
        config.default_strategy = "redact"  # type: ignore[misc]


def test_hash_key_is_secret() -> None:
    config = Config(hash_key="do-not-print-me")
    assert "do-not-print-me" not in repr(config)
    assert "do-not-print-me" not in str(config)


# --- TOML files ----------------------------------------------------------------------------------

FULL_TOML = """
enabled_types = ["email", "ssn", "phone", "employee_id"]
disabled_types = ["phone"]
default_strategy = "redact"
redaction_text = "<gone>"
hash_key = "k"
allow_values = ["support@example.com"]
allow_patterns = ['[a-z]+@example\\.org']
max_text_bytes = 1000
max_depth = 8
max_nodes = 500

[strategies]
ssn = "partial"
employee_id = "tokenize"

[[custom_patterns]]
id = "employee_id"
pattern = '\\bEMP-(?P<value>[0-9]{6})\\b'
partial = "digits"
"""


def test_from_file(tmp_path: Path, make_engine: EngineFactory) -> None:
    path = tmp_path / "mcp-pii.toml"
    path.write_text(FULL_TOML, encoding="utf-8")
    config = Config.from_file(path)
    assert config.enabled_types == ["email", "ssn", "phone", "employee_id"]
    assert config.disabled_types == ["phone"]
    assert config.default_strategy == "redact"
    assert config.strategies == {"ssn": "partial", "employee_id": "tokenize"}
    assert config.hash_key is not None
    assert config.hash_key.get_secret_value() == "k"
    assert config.custom_patterns == [
        CustomPattern(id="employee_id", pattern=r"\bEMP-(?P<value>[0-9]{6})\b", partial="digits")
    ]
    assert (config.max_text_bytes, config.max_depth, config.max_nodes) == (1000, 8, 500)
    engine = make_engine(config)
    assert engine.types == ["email", "ssn", "employee_id"]
    text = "support@example.com, jane@example.com, bob@example.org, SSN 123-45-6789, EMP-000042, (415) 555-0132"
    assert engine.mask(text).text == (
        "support@example.com, <gone>, bob@example.org, SSN ***-**-6789, EMP-[EMPLOYEE_ID_1], (415) 555-0132"
    )


def test_from_file_accepts_an_mcp_pii_table(tmp_path: Path) -> None:
    path = tmp_path / "pyproject-like.toml"
    path.write_text('[mcp_pii]\ndefault_strategy = "hash"\nmax_depth = 5\n', encoding="utf-8")
    config = Config.from_file(path)
    assert (config.default_strategy, config.max_depth) == ("hash", 5)


def test_engine_from_file(tmp_path: Path, engine_impl: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text('default_strategy = "remove"\n', encoding="utf-8")
    engine = Engine.from_file(path, implementation=engine_impl)  # type: ignore[arg-type]
    assert engine.implementation == engine_impl
    assert engine.mask("mail a@example.com!").text == "mail !"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("default_strategy = ", "not valid TOML"),
        ('default_strategy = "scramble"', "default_strategy"),
        ("max_depth = 0", "max_depth"),
        ("max_depth = 1000", "max_depth"),
        ("max_nodes = -1", "max_nodes"),
        ('colour = "blue"', "colour"),
        ('enabled_types = ["email", "postcode"]', "postcode"),
        ('disabled_types = ["zip"]', "zip"),
        ('[strategies]\npostcode = "label"', "postcode"),
        ('[strategies]\nemail = "scramble"', "strategies"),
        ("allow_patterns = ['(?=x)']", "allow_patterns"),
        ("redaction_text = '" + "x" * 257 + "'", "redaction_text"),
    ],
)
def test_bad_files_are_config_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        Config.from_file(path)


def test_missing_or_undecodable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        Config.from_file(tmp_path / "missing.toml")
    path = tmp_path / "latin1.toml"
    path.write_bytes('redaction_text = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="not valid TOML"):
        Config.from_file(path)


def test_file_errors_do_not_echo_secrets(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('hash_key = "hunter2-secret"\nmax_depth = "deep"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        Config.from_file(path)
    assert "hunter2-secret" not in str(info.value)
    assert "deep" not in str(info.value)


# --- environment variables -----------------------------------------------------------------------


def test_environment_variables() -> None:
    config = Config.load(
        env={
            "MCP_PII_ENABLED_TYPES": "email, ssn ,phone,",
            "MCP_PII_DISABLED_TYPES": "phone",
            "MCP_PII_DEFAULT_STRATEGY": "tokenize",
            "MCP_PII_STRATEGIES": "ssn=partial, email = hash",
            "MCP_PII_REDACTION_TEXT": "***",
            "MCP_PII_HASH_KEY": "env-key",
            "MCP_PII_ALLOW_VALUES": "a@example.com,b@example.com",
            "MCP_PII_MAX_TEXT_BYTES": "2048",
            "MCP_PII_MAX_DEPTH": "10",
            "MCP_PII_MAX_NODES": "99",
            "UNRELATED": "x",
        }
    )
    assert config.enabled_types == ["email", "ssn", "phone"]
    assert config.disabled_types == ["phone"]
    assert config.default_strategy == "tokenize"
    assert config.strategies == {"ssn": "partial", "email": "hash"}
    assert config.redaction_text == "***"
    assert config.hash_key is not None
    assert config.hash_key.get_secret_value() == "env-key"
    assert config.allow_values == ["a@example.com", "b@example.com"]
    assert (config.max_text_bytes, config.max_depth, config.max_nodes) == (2048, 10, 99)


def test_empty_environment_gives_defaults() -> None:
    assert Config.load(env={}) == Config()


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('default_strategy = "redact"\nmax_depth = 5\n', encoding="utf-8")
    config = Config.load(path, env={"MCP_PII_DEFAULT_STRATEGY": "hash"})
    assert (config.default_strategy, config.max_depth) == ("hash", 5)
    # MCP_PII_CONFIG names the file when no path is given.
    config = Config.load(env={"MCP_PII_CONFIG": str(path), "MCP_PII_MAX_DEPTH": "7"})
    assert (config.default_strategy, config.max_depth) == ("redact", 7)


def test_load_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_PII_DEFAULT_STRATEGY", "remove")
    monkeypatch.delenv("MCP_PII_CONFIG", raising=False)
    assert Config.load().default_strategy == "remove"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MCP_PII_MAX_DEPTH": "ten"}, "MCP_PII_MAX_DEPTH"),
        ({"MCP_PII_MAX_NODES": "1.5"}, "MCP_PII_MAX_NODES"),
        ({"MCP_PII_MAX_TEXT_BYTES": "0"}, "max_text_bytes"),
        ({"MCP_PII_STRATEGIES": "ssn:partial"}, "MCP_PII_STRATEGIES"),
        ({"MCP_PII_STRATEGIES": "ssn=scramble"}, "strategies"),
        ({"MCP_PII_STRATEGIES": "postcode=label"}, "postcode"),
        ({"MCP_PII_ENABLED_TYPES": "email,postcode"}, "postcode"),
        ({"MCP_PII_DEFAULT_STRATEGY": "scramble"}, "default_strategy"),
        ({"MCP_PII_CONFIG": "/nonexistent/mcp-pii.toml"}, "cannot read"),
    ],
)
def test_bad_environment_is_a_config_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Config.load(env=env)


# --- custom patterns -----------------------------------------------------------------------------

REFUSED = [
    pytest.param("(abc", "does not compile", id="unbalanced"),
    pytest.param("[a-", "does not compile", id="open-class"),
    pytest.param("a{2}{3}", "does not compile", id="multiple-repeat"),
    pytest.param("(?=x)y", "look-around", id="lookahead"),
    pytest.param("(?!x)y", "look-around", id="negative-lookahead"),
    pytest.param("(?<=a)b", "look-around", id="lookbehind"),
    pytest.param("(?<!a)b", "look-around", id="negative-lookbehind"),
    pytest.param(r"(a)\1", "back-references", id="backreference"),
    pytest.param("(?P<n>a)(?P=n)", "look-around", id="named-backreference"),
    pytest.param(r"\d{3}", r"\\d", id="digit-shorthand"),
    pytest.param(r"\w+x", r"\\w", id="word-shorthand"),
    pytest.param(r"a\sb", r"\\s", id="space-shorthand"),
    pytest.param(r"\p{L}x", r"\\p", id="unicode-class"),
    pytest.param(r"\Aabc", r"\\A", id="start-anchor"),
    pytest.param("abc$", r"'\$'", id="end-anchor"),
    pytest.param("(?i)abc", "inline flags", id="inline-flag"),
    pytest.param("(?s:.)x", "inline flags", id="scoped-flag"),
    pytest.param("a{,3}b", r"\{0,n\}", id="open-lower-bound"),
    pytest.param("[[:alpha:]]x", "nested or set-operation class", id="posix-class"),
    pytest.param("[a-z&&b]x", "nested or set-operation class", id="class-intersection"),
    pytest.param("a" * 1001, "1001 characters long; the limit is 1000", id="too-long"),
    pytest.param("a*", "empty string", id="empty-star"),
    pytest.param("(?:)", "empty string", id="empty-group"),
    pytest.param("x?", "empty string", id="empty-optional"),
    pytest.param("(?:ab|c?)", "empty string", id="empty-branch"),
    pytest.param("(a+)+b", r"nests a repetition", id="nested-plus"),
    pytest.param("(?:a*b*)+c", r"nests a repetition", id="nested-star"),
    pytest.param("(?:ab+){2,}", r"nests a repetition", id="nested-counted"),
    pytest.param("(?:[a-z]+@)*x", r"nests a repetition", id="nested-group"),
]


@pytest.mark.parametrize(("pattern", "reason"), REFUSED)
def test_custom_pattern_refused_with_a_reason(pattern: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        Config(custom_patterns=[CustomPattern(id="custom", pattern=pattern)])


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        p
        for p in REFUSED
        if p.id in ("unbalanced", "lookbehind", r"digit-shorthand", "too-long", "empty-star", "nested-plus")
    ],
)
def test_custom_pattern_refused_in_a_file(tmp_path: Path, pattern: str, reason: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"[[custom_patterns]]\nid = 'custom'\npattern = '''{pattern}'''\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=reason):
        Config.from_file(path)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        p
        for p in REFUSED
        if p.id not in ("multiple-repeat", "nested-plus", "nested-star", "nested-counted", "nested-group")
    ],
)
def test_each_engine_refuses_bad_custom_patterns(engine_impl: str, pattern: str, reason: str) -> None:
    # Bypass the Config checks: each engine checks the patterns it is given itself.
    custom = _CustomPattern.model_construct(id="custom", pattern=pattern, partial="tail")
    config = Config.model_construct(**{**Config().__dict__, "custom_patterns": [custom]})
    with pytest.raises(ConfigError):
        Engine(config, implementation=engine_impl)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"id": "Bad-Id", "pattern": "x"}, "lower snake case"),
        ({"id": "email", "pattern": "x"}, "already taken"),
        ({"id": "a" * 49, "pattern": "x"}, "lower snake case"),
        ({"id": "custom", "pattern": ""}, "non-empty"),
    ],
)
def test_custom_pattern_ids(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Config(custom_patterns=[CustomPattern(**fields)])


def test_custom_pattern_ids_are_unique() -> None:
    with pytest.raises(ValueError, match="already taken"):
        Config(custom_patterns=[CustomPattern(id="twin", pattern="a"), CustomPattern(id="twin", pattern="b")])


def test_custom_partial_rule_is_checked() -> None:
    with pytest.raises(ValueError, match="partial"):
        CustomPattern(id="custom", pattern="x", partial="middle")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "pattern",
    [
        r"\bEMP-[0-9]{6}\b",
        r"(?i:emp)-(?P<value>[0-9]{6})",
        r"[A-Z]{2}[0-9]{6}",
        r"\\[a-z]+",
        r"[.][0-9]+",
        r"(?:ab|cd)+e",
        r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}",
        r"\x41\tB",
        r"^start",
    ],
)
def test_custom_patterns_accepted(make_engine: EngineFactory, pattern: str) -> None:
    make_engine(custom_patterns=[CustomPattern(id="custom", pattern=pattern)])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("enabled_types", ["email", "postcode"]),
        ("disabled_types", ["postcode"]),
        ("strategies", {"postcode": "label"}),
    ],
)
def test_unknown_type_ids_are_refused(engine_impl: str, field: str, value: Any) -> None:
    with pytest.raises(ValueError, match="postcode"):
        Config(**{field: value})
    # Each engine refuses them too when the Config checks are bypassed.
    config = Config.model_construct(**{**Config().__dict__, field: value})
    with pytest.raises(ConfigError, match="postcode"):
        Engine(config, implementation=engine_impl)  # type: ignore[arg-type]


def test_custom_types_can_be_named_in_enabled_disabled_and_strategies(make_engine: EngineFactory) -> None:
    custom = [CustomPattern(id="ticket", pattern=r"\bT-[0-9]{4}\b")]
    engine = make_engine(custom_patterns=custom, enabled_types=["ticket", "ssn"], strategies={"ticket": "remove"})
    assert engine.types == ["ssn", "ticket"]
    assert engine.mask("T-1234 SSN 123-45-6789").text == " SSN [SSN]"


# --- no catastrophic backtracking ----------------------------------------------------------------

EVIL_INPUTS = [
    "a" * 5_000 + "!",
    "a@" * 2_500,
    "a." * 2_500 + "@",
    "ab" * 2_500,
    "0" * 5_000,
    "-" * 5_000,
    " " * 5_000 + "x",
]


@pytest.mark.parametrize(
    "pattern",
    [
        r"[a-z0-9._-]{1,64}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){1,8}\.[a-z]{2,6}\b",
        r"(?:ab|a)c",
        r"[a-z]+!",
        r"(?:a|b)+c",
        r"[0-9]{1,50}x",
    ],
)
def test_redos_inputs_finish_on_allowed_patterns(make_engine: EngineFactory, pattern: str) -> None:
    # Patterns shaped like (a+)+ are refused (above); what is allowed finishes on the classic
    # inputs. No timing assertion: the test only has to finish (pytest-timeout stops a hang).
    engine = make_engine(custom_patterns=[CustomPattern(id="custom", pattern=pattern)])
    for text in EVIL_INPUTS:
        engine.detect(text)


@pytest.mark.parametrize(
    "text",
    [
        "DOB" + " " * 20_000 + "x",
        "Account" + "\t" * 20_000 + "x",
        "Passport No" + " " * 20_000 + ":x",
        "-----BEGIN PRIVATE KEY-----\n" * 4_000,
        "token=" * 5_000,
        "1:" * 20_000,
        "xoxb-" * 10_000,
        "eyJ" + "a" * 30_000 + ".",
    ],
    ids=["dob-spaces", "account-tabs", "passport-spaces", "pem-begins", "token", "colons", "slack", "jwt"],
)
def test_built_in_catalog_on_pathological_text(engine: Engine, text: str) -> None:
    # Regression: label patterns once had two adjacent [ \t]* around an optional separator, and
    # the PEM body could run over other BEGIN lines; the Python engine took quadratic time
    # (minutes for 20 KB). Again no timing assertion, only that it finishes.
    for d in engine.detect(text):
        assert text[d.start : d.end] == d.value


@pytest.mark.parametrize("pattern", ["(a|a)+b", "(a|aa)+c", "(?:b|[ab]c)+x", "(?:[a-z]{1,20}){1,5}x", "(?:x[a-z]+)+"])
def test_overlapping_alternation_is_refused(pattern: str) -> None:
    # Regression (issue 12): these passed the nested-repetition check and backtracked
    # exponentially in the Python engine.
    with pytest.raises(ValueError, match="repetition"):
        Config(custom_patterns=[CustomPattern(id="custom", pattern=pattern)])


@pytest.mark.parametrize(
    "pattern", [r"(?:\.[a-z0-9-]{1,63}){1,8}", "(?:foo|bar)+x", "(?:[0-9]{3}-){2}[0-9]{4}", "(?:ab?)+c"]
)
def test_unambiguous_repetitions_are_accepted(pattern: str) -> None:
    Config(custom_patterns=[CustomPattern(id="custom", pattern=pattern)])
