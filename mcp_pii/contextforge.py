"""mcp-pii as ContextForge's PII plugin, in the gateway's process: ``kind: mcp_pii.contextforge.PIIFilterPlugin``.

It takes the built-in ``cpex-pii-filter`` plugin's ``config:`` keys (see :mod:`mcp_pii.plugin`),
so swapping the built-in plugin for this one is a change of ``kind:``; it also serves the
``resource_post_fetch`` hook, which the built-in one lacks. The gateway's plugin framework
(``cpex``) is an optional dependency, imported by this module only: ``pip install "mcp-pii[contextforge]"``.

A configuration it cannot honour raises at start-up, so the gateway (with
``PLUGINS_FAIL_ON_PLUGIN_ERROR=true``) stops rather than run unfiltered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

try:
    from cpex.framework import (
        Plugin,
        PluginConfig,
        PluginContext,
        PluginResult,
        PluginViolation,
        PromptPosthookPayload,
        PromptPosthookResult,
        PromptPrehookPayload,
        PromptPrehookResult,
        ResourcePostFetchPayload,
        ResourcePostFetchResult,
        ResourcePreFetchPayload,
        ResourcePreFetchResult,
        ToolPostInvokePayload,
        ToolPostInvokeResult,
        ToolPreInvokePayload,
        ToolPreInvokeResult,
    )
    from cpex.framework.utils import StructuredData, coerce_nested
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "mcp_pii.contextforge needs ContextForge's plugin framework: pip install 'mcp-pii[contextforge]'"
    ) from exc

from mcp_pii.hooks import Outcome
from mcp_pii.plugin import build_filter, load_settings, tool_aliases, violation_dict

__all__ = ["PIIFilterPlugin"]


class PIIFilterPlugin(Plugin):  # type: ignore[misc]
    """Masks (or blocks on) PII in tool arguments and results, prompts and resource contents."""

    def __init__(self, config: PluginConfig) -> None:
        super().__init__(config)
        self._filter = build_filter(load_settings(config.config or {}))

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> ToolPreInvokeResult:
        """Mask the tool's arguments (unless ``mask_arguments`` is off)."""
        outcome = await self._filter.arun(
            "tool_pre_invoke", {"name": payload.name, "args": payload.args}, aliases=tool_aliases(context)
        )
        return _result(ToolPreInvokeResult, outcome, payload, lambda new: {"args": new["args"]})

    async def tool_post_invoke(self, payload: ToolPostInvokePayload, context: PluginContext) -> ToolPostInvokeResult:
        """Mask the tool's result: text items, embedded resources, ``structuredContent``."""
        outcome = await self._filter.arun(
            "tool_post_invoke", {"name": payload.name, "result": _plain(payload.result)}, aliases=tool_aliases(context)
        )
        return _result(
            ToolPostInvokeResult, outcome, payload, lambda new: {"result": _like(payload.result, new["result"])}
        )

    async def prompt_pre_fetch(self, payload: PromptPrehookPayload, context: PluginContext) -> PromptPrehookResult:
        """Mask the prompt's arguments (unless ``mask_arguments`` is off)."""
        outcome = await self._filter.arun("prompt_pre_fetch", {"prompt_id": payload.prompt_id, "args": payload.args})
        return _result(PromptPrehookResult, outcome, payload, lambda new: {"args": new["args"]})

    async def prompt_post_fetch(self, payload: PromptPosthookPayload, context: PluginContext) -> PromptPosthookResult:
        """Mask the rendered prompt's messages."""
        outcome = await self._filter.arun(
            "prompt_post_fetch", {"prompt_id": payload.prompt_id, "result": _plain(payload.result)}
        )
        return _result(
            PromptPosthookResult, outcome, payload, lambda new: {"result": _like(payload.result, new["result"])}
        )

    async def resource_pre_fetch(
        self, payload: ResourcePreFetchPayload, context: PluginContext
    ) -> ResourcePreFetchResult:
        """Nothing to do before a read (a URI is an address); here so either hook list loads."""
        return ResourcePreFetchResult()

    async def resource_post_fetch(
        self, payload: ResourcePostFetchPayload, context: PluginContext
    ) -> ResourcePostFetchResult:
        """Mask the text of the resource's contents."""
        outcome = await self._filter.arun(
            "resource_post_fetch", {"uri": payload.uri, "content": _plain(payload.content)}
        )
        return _result(
            ResourcePostFetchResult, outcome, payload, lambda new: {"content": _like(payload.content, new["content"])}
        )


def _result(
    result_type: type[PluginResult],
    outcome: Outcome,
    payload: BaseModel,
    changes: Callable[[dict[str, Any]], dict[str, Any]],
) -> Any:
    """The framework's result for an outcome; a masked payload keeps the payload's own class."""
    if outcome.violation is not None:
        return result_type(
            continue_processing=False,
            violation=PluginViolation(**violation_dict(outcome.violation)),
            metadata=outcome.metadata,
        )
    if outcome.payload is None:
        return result_type(metadata=outcome.metadata)
    return result_type(modified_payload=payload.model_copy(update=changes(outcome.payload)), metadata=outcome.metadata)


def _plain(value: Any) -> Any:
    """A gateway object as JSON-like data (the gateway passes models in process, dicts over the wire)."""
    return value.model_dump(mode="json", by_alias=True) if isinstance(value, BaseModel) else value


def _like(original: Any, masked: Any) -> Any:
    """The masked data in the original's form, so the gateway (and the plugins after us) get back what they gave.

    A gateway model comes back as the same class; the framework's attribute-access wrapper of a
    plain dict (``StructuredData``, nested) is rebuilt the way the framework builds it.
    """
    if isinstance(original, StructuredData):
        return coerce_nested(masked)
    return type(original).model_validate(masked) if isinstance(original, BaseModel) else masked
