"""Configuration: a pydantic model, loaded from a TOML file and ``MCP_PII_*`` environment variables.

Custom patterns are checked when the model is built: they must follow the pattern dialect, compile
in Python's ``re`` and (when the extension is present) in Rust's ``regex``, stay under 1,000
characters, not match the empty string, and not nest unbounded repetition (the classic
catastrophic-backtracking shape, which would only hurt the Python engine).
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from mcp_pii.catalog import LIMIT_DEFAULTS, MAX_DEPTH_CAP, builtin_type_ids, check_custom, compile_pattern
from mcp_pii.errors import ConfigError

Strategy = Literal["redact", "label", "partial", "hash", "tokenize", "remove"]
PartialRule = Literal["digits", "tail", "email"]

__all__ = ["Config", "CustomPattern", "PartialRule", "Strategy"]


class CustomPattern(BaseModel):
    """A pattern added by configuration; it becomes a type of its own, after the built-in ones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Type id, lower snake case, not a built-in id.")
    pattern: str = Field(description="Regular expression in the catalog dialect; a group named 'value' marks the span.")
    partial: PartialRule = Field("tail", description="How the partial strategy masks a match.")
    keywords: list[str] = Field(
        default_factory=list,
        description="Literal words (any case); the pattern is searched only in texts holding one of them.",
    )


class Config(BaseModel):
    """Engine configuration. Every field has a safe default: ``Config()`` enables every type."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled_types: list[str] | None = Field(None, description="Types to run (built-in and custom); None runs all.")
    disabled_types: list[str] = Field(default_factory=list, description="Types never to run.")
    default_strategy: Strategy = Field("label", description="Strategy for types without an override.")
    strategies: dict[str, Strategy] = Field(default_factory=dict, description="Per-type strategy overrides.")
    redaction_text: str = Field("[REDACTED]", max_length=256, description="Replacement text of 'redact'.")
    hash_key: SecretStr | None = Field(None, description="Key of the HMAC-SHA256 used by 'hash'.")
    allow_values: list[str] = Field(default_factory=list, description="Exact values that are never reported.")
    allow_patterns: list[str] = Field(
        default_factory=list, description="Patterns; a detection they match in full is not reported."
    )
    custom_patterns: list[CustomPattern] = Field(default_factory=list, description="Additional types.")
    max_text_bytes: int = Field(LIMIT_DEFAULTS["max_text_bytes"], ge=1, description="Largest text (UTF-8 bytes).")
    max_depth: int = Field(LIMIT_DEFAULTS["max_depth"], ge=1, le=MAX_DEPTH_CAP, description="Deepest nesting.")
    max_nodes: int = Field(LIMIT_DEFAULTS["max_nodes"], ge=1, description="Most values in one payload.")
    key_labels: bool = Field(True, description="In scan_nested, read an object member's key as the label of its value.")
    scan_numbers: bool = Field(
        True, description="In scan_nested, report integers under labelled keys and mask them (as strings)."
    )
    # Reversible masking (the vault); read by mcp_pii.vault and the server, not by the engines.
    allow_unmask: bool = Field(False, description="Offer the unmask_pii, unmask_nested and forget_scope tools.")
    vault_url: SecretStr | None = Field(None, description="Redis URL of a shared vault; memory when unset.")
    vault_key: SecretStr | None = Field(
        None, description="Secret (32+ characters) the vault derives its keys from; random per process when unset."
    )
    vault_ttl_seconds: float = Field(3600.0, gt=0, description="A scope expires this long after its last use.")
    vault_max_scopes: int = Field(10_000, ge=1, description="Most scopes a memory vault holds.")
    vault_max_entries: int = Field(10_000, ge=1, description="Most tokens one scope holds.")
    vault_max_mib: int = Field(256, ge=1, description="Most memory a memory vault holds, in MiB (an estimate).")
    vault_timeout_seconds: float = Field(2.0, gt=0, description="Longest wait for Redis before a tool error.")

    @field_validator("allow_patterns")
    @classmethod
    def _allow_patterns_compile(cls, v: list[str]) -> list[str]:
        for p in v:
            compile_pattern(p)
        return v

    @model_validator(mode="after")
    def _check(self) -> Config:
        known = set(builtin_type_ids())
        for custom in self.custom_patterns:
            check_custom(custom.model_dump(), known)
            known.add(custom.id)
        for field in ("enabled_types", "disabled_types"):
            for name in getattr(self, field) or []:
                if name not in known:
                    raise ConfigError(f"unknown PII type '{name}' in {field}")
        for name in self.strategies:
            if name not in known:
                raise ConfigError(f"unknown PII type '{name}' in strategies")
        _check_in_rust(self)
        return self

    def to_engine(self) -> dict[str, Any]:
        """Return the resolved configuration both engines take (as JSON)."""
        return {
            "enabled": self.enabled_types,
            "disabled": self.disabled_types,
            "default_strategy": self.default_strategy,
            "strategies": self.strategies,
            "redaction_text": self.redaction_text,
            "hash_key": self.hash_key.get_secret_value() if self.hash_key else None,
            "allow_values": self.allow_values,
            "allow_patterns": self.allow_patterns,
            "custom_patterns": [c.model_dump() for c in self.custom_patterns],
            "max_text_bytes": self.max_text_bytes,
            "max_depth": self.max_depth,
            "max_nodes": self.max_nodes,
            "key_labels": self.key_labels,
            "scan_numbers": self.scan_numbers,
        }

    def to_engine_json(self) -> str:
        """Return :meth:`to_engine` as a JSON string."""
        return json.dumps(self.to_engine())

    def __init__(self, **data: Any) -> None:
        """Build a config from keyword arguments; a bad value raises ConfigError, as :meth:`load` does."""
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ConfigError(_describe(exc)) from None

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> Config:
        """Build a config from a TOML file (if given or named by MCP_PII_CONFIG) and then the environment."""
        env = os.environ if env is None else env
        data: dict[str, Any] = {}
        path = path or env.get("MCP_PII_CONFIG") or None
        if path is not None:
            try:
                raw = Path(path).read_bytes()
            except OSError as exc:
                raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
            try:
                data = tomllib.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
            data = data.get("mcp_pii", data)
        data.update(_from_env(env))
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(_describe(exc)) from None

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Config:
        """Build a config from a TOML file only (the environment is not read)."""
        return cls.load(path, env={})


_LISTS = ("enabled_types", "disabled_types", "allow_values")
_INTS = ("max_text_bytes", "max_depth", "max_nodes", "vault_max_scopes", "vault_max_entries", "vault_max_mib")
# Passed on as written: the model converts numbers and flags ("1", "true", "on", ...) itself.
_STRS = ("default_strategy", "redaction_text", "hash_key", "vault_url", "vault_key", "vault_ttl_seconds",
         "vault_timeout_seconds", "allow_unmask", "key_labels", "scan_numbers")  # fmt: skip


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _LISTS:
        raw = env.get(f"MCP_PII_{name.upper()}")
        if raw is not None:
            out[name] = [x.strip() for x in raw.split(",") if x.strip()]
    for name in _INTS:
        raw = env.get(f"MCP_PII_{name.upper()}")
        if raw is not None:
            try:
                out[name] = int(raw)
            except ValueError:
                raise ConfigError(f"MCP_PII_{name.upper()} must be a whole number") from None
    for name in _STRS:
        raw = env.get(f"MCP_PII_{name.upper()}")
        if raw is not None:
            out[name] = raw
    raw = env.get("MCP_PII_STRATEGIES")
    if raw is not None:
        pairs = [p.split("=", 1) for p in raw.split(",") if p.strip()]
        if any(len(p) != 2 for p in pairs):
            raise ConfigError("MCP_PII_STRATEGIES must look like 'ssn=partial,email=hash'")
        out["strategies"] = {k.strip(): v.strip() for k, v in pairs}
    return out


def _describe(exc: ValidationError) -> str:
    """Summarise a validation error without echoing the values (which may be secrets)."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(x) for x in err["loc"]) or "config"
        parts.append(f"{where}: {err['msg']}")
    return "invalid configuration: " + "; ".join(parts)


def _check_in_rust(config: Config) -> None:
    """Compile the configuration in the Rust engine too, when it is available."""
    if not (config.custom_patterns or config.allow_patterns):
        return
    try:
        from mcp_pii import _native  # noqa: PLC0415
    except ImportError:
        return
    _native.Engine(config.to_engine_json())
