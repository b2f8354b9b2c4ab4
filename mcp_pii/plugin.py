"""The ContextForge PII plugin, whichever way the gateway loads it: its settings and its result shapes.

Shared by the in-process plugin (:mod:`mcp_pii.contextforge`) and the external one
(:mod:`mcp_pii.plugin_server`); nothing here imports the gateway's framework (``cpex``).

The keys of ``cpex-pii-filter`` (the gateway's built-in PII plugin) are accepted as they are, so a
gateway operator swaps the plugin by changing ``kind:`` only. What each key becomes:

============================  =====================================================================
``detect_<type>``              the types in :data:`DETECT_KEYS`; ``false`` disables them, ``true``
                               requires them (a type this engine lacks is a start-up error)
``default_mask_strategy``      the default strategy (``redact``, ``partial``, ``hash``, ``tokenize``,
                               ``remove``; also our ``label``)
``redaction_text``             the text of ``redact``
``block_on_detection``         refuse a payload holding PII (violation ``PII_DETECTED``, HTTP 422)
``log_detections``             log counts per type (never values)
``include_detection_details``  counts per type in the plugin result's ``metadata``
``max_text_bytes``             the engine's limit on the text of one payload
``max_nested_depth``           the engine's depth limit (at most 100)
``max_collection_items``       most items in one list or object
``custom_patterns``            ``{pattern, description, mask_strategy?, enabled?, type?}``: each a
                               type of its own (``type``, else ``custom_1``, ``custom_2``, …)
``whitelist_patterns``         a detection whose value contains a match is not reported
============================  =====================================================================

Our keys: ``detect_secrets`` (every type of the catalog's ``secret`` category), ``strategies``
(per type), ``mask_arguments``, ``tools`` (per-tool rules, see :class:`mcp_pii.hooks.ToolRule`)
and ``config_file`` (an mcp-pii TOML file: custom patterns in our format, a hash key, allow lists).
Unknown keys are an error, so a typo cannot silently leave a type unmasked.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mcp_pii.catalog import MAX_DEPTH_CAP, catalog_data
from mcp_pii.config import Config, Strategy
from mcp_pii.engine import Engine, Implementation
from mcp_pii.errors import ConfigError
from mcp_pii.hooks import HookPolicy, Outcome, PIIFilter, ToolRule, Violation
from mcp_pii.logs import describe_validation_error

__all__ = [
    "BUILTIN_DEFAULTS",
    "CATEGORY_KEYS",
    "DETECT_KEYS",
    "FilterSettings",
    "build_filter",
    "load_settings",
    "result_dict",
    "tool_aliases",
    "violation_dict",
]

# The built-in filter's detect_* keys and the type ids each one stands for. Its bank account
# pattern also matches IBANs, so ours covers both types.
DETECT_KEYS: dict[str, tuple[str, ...]] = {
    "detect_ssn": ("ssn",),
    "detect_bsn": ("bsn",),
    "detect_credit_card": ("credit_card",),
    "detect_email": ("email",),
    "detect_phone": ("phone",),
    "detect_ip_address": ("ip_address",),
    "detect_date_of_birth": ("date_of_birth",),
    "detect_passport": ("passport",),
    "detect_driver_license": ("driver_license",),
    "detect_bank_account": ("bank_account", "iban"),
    "detect_medical_record": ("medical_record",),
}
# Our keys that stand for a whole category of the catalog.
CATEGORY_KEYS: dict[str, str] = {"detect_secrets": "secret"}

# The built-in filter's defaults where ours differ; they apply unless the key or the mcp-pii
# config file (config_file / --config) sets the value.
BUILTIN_DEFAULTS: dict[str, Any] = {"default_strategy": "redact", "max_depth": 32}


class BuiltinCustomPattern(BaseModel):
    """A custom pattern as the built-in filter takes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: str
    description: str = ""
    mask_strategy: Strategy | None = None
    enabled: bool = True
    type: str | None = Field(None, description="Type id (ours); default custom_1, custom_2, ...")


class FilterSettings(BaseModel):
    """Every key the plugin accepts (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    detect_ssn: bool | None = None
    detect_bsn: bool | None = None
    detect_credit_card: bool | None = None
    detect_email: bool | None = None
    detect_phone: bool | None = None
    detect_ip_address: bool | None = None
    detect_date_of_birth: bool | None = None
    detect_passport: bool | None = None
    detect_driver_license: bool | None = None
    detect_bank_account: bool | None = None
    detect_medical_record: bool | None = None
    detect_secrets: bool | None = None
    default_mask_strategy: Strategy | None = None
    redaction_text: str | None = Field(None, max_length=256)
    block_on_detection: bool = False
    log_detections: bool = False
    include_detection_details: bool = False
    max_text_bytes: int | None = Field(None, ge=1)
    max_nested_depth: int | None = Field(None, ge=1, le=MAX_DEPTH_CAP)
    max_collection_items: int | None = Field(4096, ge=1)
    custom_patterns: list[BuiltinCustomPattern] = Field(default_factory=list)
    whitelist_patterns: list[str] = Field(default_factory=list)
    strategies: dict[str, Strategy] = Field(default_factory=dict)
    mask_arguments: bool = True
    tools: list[ToolRule] = Field(default_factory=list)
    config_file: str | None = None


def load_settings(source: Mapping[str, Any] | str | os.PathLike[str] | None) -> FilterSettings:
    """Read settings from a mapping (a gateway's ``config:``) or a TOML, JSON or YAML file."""
    if source is None:
        return FilterSettings()
    data = _read_file(Path(source)) if isinstance(source, str | os.PathLike) else dict(source)
    try:
        return FilterSettings.model_validate(data)
    except ValidationError as exc:
        raise _settings_error(exc) from None


def _settings_error(exc: ValidationError) -> ConfigError:
    """A one-line error naming the wrong keys, without their values (a key may hold a secret)."""
    return ConfigError(describe_validation_error(exc).replace("invalid arguments", "invalid PII filter settings", 1))


def _read_file(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read settings file {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
        if path.suffix == ".json":
            data = json.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            data = _load_yaml(text)
        else:
            data = tomllib.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"settings file {path} cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"settings file {path} must hold a table of keys")
    return data


def _load_yaml(text: str) -> Any:
    try:
        import yaml  # noqa: PLC0415
    except ImportError:
        raise ConfigError("YAML settings need PyYAML: pip install 'mcp-pii[contextforge]'") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(str(exc).splitlines()[0]) from None


def _catalog_types() -> dict[str, str]:
    """The built-in type ids and their catalog category ('personal', 'secret'), in catalog order."""
    return {t["id"]: t.get("category", "custom") for t in catalog_data()["types"]}


def type_categories(type_ids: list[str]) -> dict[str, str]:
    """The category of each type id; custom patterns are 'custom'."""
    catalog = _catalog_types()
    return {t: catalog.get(t, "custom") for t in type_ids}


def _disabled_types(settings: FilterSettings, available: list[str]) -> list[str]:
    """The types the detect_* keys switch off; a key set to true for a type we lack is an error."""
    have = set(available)
    categories = type_categories(available)
    wanted: dict[str, tuple[str, ...]] = dict(DETECT_KEYS)
    for key, category in CATEGORY_KEYS.items():
        wanted[key] = tuple(t for t in available if categories[t] == category)
    disabled: list[str] = []
    for key, type_ids in wanted.items():
        value = getattr(settings, key)
        missing = [t for t in type_ids if t not in have] or ([] if type_ids else [f"any {CATEGORY_KEYS[key]} type"])
        if value is True and missing:
            raise ConfigError(
                f"{key}: true asks for {', '.join(missing)}, which this mcp-pii engine does not have "
                f"(its types: {', '.join(available)}); set {key}: false"
            )
        if value is False:
            disabled += [t for t in type_ids if t in have]
    return disabled


def _custom(settings: FilterSettings, taken: set[str]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Built-in custom patterns as ours: one type each, and their strategies."""
    patterns: list[dict[str, Any]] = []
    strategies: dict[str, str] = {}
    for n, custom in enumerate((c for c in settings.custom_patterns if c.enabled), start=1):
        type_id = custom.type or f"custom_{n}"
        if type_id in taken:
            raise ConfigError(f"custom_patterns: type '{type_id}' is taken; give this pattern another 'type'")
        taken.add(type_id)
        patterns.append({"id": type_id, "pattern": custom.pattern})
        if custom.mask_strategy is not None:
            strategies[type_id] = custom.mask_strategy
    return patterns, strategies


def _whitelist(patterns: list[str]) -> list[str]:
    """The built-in filter skips a detection when a whitelist pattern matches anywhere in its value;
    our allow patterns must match the whole value, so each is wrapped to allow text around it."""
    return [f".*(?:{p}).*" for p in patterns]


def build_filter(
    settings: FilterSettings,
    base: Config | None = None,
    *,
    defaults: Mapping[str, Any] | None = BUILTIN_DEFAULTS,
    implementation: Implementation | None = None,
) -> PIIFilter:
    """Build the engine and hook policy the settings describe, on top of an mcp-pii ``base`` config.

    ``defaults`` are the values that apply where neither the settings nor the base config say
    (the built-in filter's, for a drop-in; ``None`` keeps mcp-pii's own defaults).
    """
    if base is None:
        base = Config.load(settings.config_file, env={}) if settings.config_file else Config()
    data = base.model_dump()  # secrets stay SecretStr objects, and validate back as such
    for name, value in (defaults or {}).items():
        if name not in base.model_fields_set:
            data[name] = value
    overrides = {
        "default_strategy": settings.default_mask_strategy,
        "redaction_text": settings.redaction_text,
        "max_text_bytes": settings.max_text_bytes,
        "max_depth": settings.max_nested_depth,
    }
    data.update({k: v for k, v in overrides.items() if v is not None})
    available = _type_ids(base)
    data["disabled_types"] = sorted(set(data["disabled_types"]) | set(_disabled_types(settings, available)))
    customs, custom_strategies = _custom(settings, set(available))
    data["custom_patterns"] = [*data["custom_patterns"], *customs]
    data["strategies"] = {**data["strategies"], **custom_strategies, **settings.strategies}
    data["allow_patterns"] = [*data["allow_patterns"], *_whitelist(settings.whitelist_patterns)]
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise _settings_error(exc) from None
    policy = HookPolicy(
        block_on_detection=settings.block_on_detection,
        mask_arguments=settings.mask_arguments,
        tools=settings.tools,
        max_collection_items=settings.max_collection_items,
        log_detections=settings.log_detections,
        include_detection_details=settings.include_detection_details,
    )
    return PIIFilter(Engine(config, implementation=implementation), policy)


def _type_ids(base: Config) -> list[str]:
    """Every type id the base config knows (built-in and custom), enabled or not."""
    return [*_catalog_types(), *(c.id for c in base.custom_patterns)]


def tool_aliases(context: Any) -> list[str]:
    """The tool's own name, from a gateway hook context (its payload has the gateway's prefixed name).

    ContextForge puts the tool record into ``global_context.metadata["tool"]``: an object in the
    gateway's process, a dict over the wire. Per-tool rules match either name.
    """
    glob = context.get("global_context") if isinstance(context, Mapping) else getattr(context, "global_context", None)
    meta = glob.get("metadata") if isinstance(glob, Mapping) else getattr(glob, "metadata", None)
    tool = meta.get("tool") if isinstance(meta, Mapping) else None
    name = tool.get("original_name") if isinstance(tool, Mapping) else getattr(tool, "original_name", None)
    return [name] if isinstance(name, str) else []


def violation_dict(violation: Violation) -> dict[str, Any]:
    """A violation in the shape of the framework's ``PluginViolation``."""
    return {
        "reason": violation.reason,
        "description": violation.description,
        "code": violation.code,
        "details": violation.details,
        "http_status_code": violation.http_status,
    }


def result_dict(outcome: Outcome) -> dict[str, Any]:
    """An outcome in the shape of the framework's ``PluginResult`` (as the external contract sends it)."""
    return {
        "continue_processing": outcome.continue_processing,
        "modified_payload": outcome.payload,
        "violation": violation_dict(outcome.violation) if outcome.violation else None,
        "metadata": outcome.metadata,
    }
