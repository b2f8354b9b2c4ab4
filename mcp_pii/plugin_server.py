"""``mcp-pii plugin``: ContextForge's external plugin contract, served over MCP.

The gateway (``kind: "external"``, ``mcp: {proto: STREAMABLEHTTP, url: …}`` or ``{proto: STDIO,
cmd: [...]}``) calls three tools and reads the first text item of each result as JSON:

- ``get_plugin_config({name})``: the plugin's configuration (``kind`` is not ``"external"``; the
  settings are ours, since the gateway's YAML may not hold ``config:`` for an external plugin);
- ``get_plugin_configs()``: the same, as a one-item list;
- ``invoke_hook(hook_type, plugin_name, payload, context)``: ``{"plugin_name", "result": {...}}``,
  or ``{"plugin_name", "error": {message, plugin_name, code, details}}``.

The gateway's client does not look at ``isError``: it parses the text whatever it is. So every
answer here, failures included, is JSON of the shape it expects.
"""

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, cast

import anyio
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from mcp_pii import __version__
from mcp_pii.hooks import HOOK_TYPES, PIIFilter
from mcp_pii.limits import Gate
from mcp_pii.plugin import FilterSettings, result_dict, tool_aliases
from mcp_pii.schema import AnyJson
from mcp_pii.server import AppState, PiiServer

logger = logging.getLogger("mcp_pii.plugin_server")

PLUGIN_KIND = "mcp_pii.contextforge.PIIFilterPlugin"
DEFAULT_NAME = "MCPPII"
DEFAULT_HOOKS = ("tool_pre_invoke", "tool_post_invoke", "prompt_pre_fetch", "prompt_post_fetch", "resource_post_fetch")
INTERNAL_ERROR = -32603

INSTRUCTIONS = (
    "ContextForge external plugin: masks or blocks PII in the gateway's tool, prompt and resource "
    "traffic. Called by the gateway's plugin framework, not by a model."
)
INTERNAL = ToolAnnotations(read_only_hint=True, open_world_hint=False, idempotent_hint=True, destructive_hint=False)


def plugin_config(name: str, settings: FilterSettings) -> dict[str, Any]:
    """The plugin's ``PluginConfig`` as the framework reads it; the gateway's YAML entry wins where it says."""
    return {
        "name": name,
        "kind": PLUGIN_KIND,
        "description": "mcp-pii: detects and masks PII and secrets in tool, prompt and resource traffic",
        "author": "mcp-pii",
        "version": __version__,
        "hooks": list(DEFAULT_HOOKS),
        "tags": ["pii", "security", "masking"],
        "mode": "sequential",
        "on_error": "fail",
        "priority": 10,
        "conditions": [],
        "applied_to": None,
        "config": settings.model_dump(mode="json", exclude_defaults=True),
        "max_content_size": 10_000_000,
        "capabilities": [],
    }


def _json(value: Any) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=json.dumps(value, ensure_ascii=False))])


def _error(plugin_name: str, message: str, code: str) -> CallToolResult:
    error = {
        "message": message,
        "plugin_name": plugin_name,
        "code": code,
        "details": {},
        "mcp_error_code": INTERNAL_ERROR,
    }
    return _json({"plugin_name": plugin_name, "error": error})


def build_plugin_server(pii_filter: PIIFilter, settings: FilterSettings, gate: Gate | None = None) -> PiiServer:
    """The MCP server of the external plugin contract, around one filter (under ``gate``'s limits on HTTP)."""
    gate = gate if gate is not None else Gate()

    @asynccontextmanager
    async def lifespan(server: Any) -> AsyncIterator[AppState]:
        logger.info("mcp-pii %s plugin ready: %s engine", __version__, pii_filter.engine.implementation)
        yield AppState(pii_filter.engine, gate, anyio.CapacityLimiter(gate.limits.engine_threads))

    mcp = PiiServer("mcp-pii-plugin", version=__version__, instructions=INSTRUCTIONS, lifespan=lifespan)
    mcp.engine_implementation = pii_filter.engine.implementation

    @mcp.tool(name="get_plugin_config", annotations=INTERNAL, description="The plugin's configuration, by name.")
    async def get_plugin_config(
        name: Annotated[str, Field(description="The plugin's name in the gateway's configuration.")],
    ) -> CallToolResult:
        return _json(plugin_config(name, settings))

    @mcp.tool(name="get_plugin_configs", annotations=INTERNAL, description="The configurations of every plugin here.")
    async def get_plugin_configs() -> CallToolResult:
        return _json([plugin_config(DEFAULT_NAME, settings)])

    @mcp.tool(
        name="invoke_hook",
        annotations=INTERNAL,
        description="Run one hook on one payload; returns the framework's PluginResult as JSON.",
    )
    async def invoke_hook(
        hook_type: Annotated[str, Field(description=f"One of: {', '.join(HOOK_TYPES)}.")],
        plugin_name: Annotated[str, Field(description="The plugin's name in the gateway's configuration.")],
        payload: Annotated[AnyJson, Field(description="The hook's payload.")],
        context: Annotated[AnyJson, Field(description="The plugin context (state, metadata, global context).")] = None,
    ) -> CallToolResult:
        if hook_type not in HOOK_TYPES:
            return _error(
                plugin_name, f"unknown hook type '{hook_type}'; expected one of: {', '.join(HOOK_TYPES)}", "HOOK"
            )
        try:
            # A payload that is not an object is refused by the filter (fail closed), not here.
            outcome = await pii_filter.arun(hook_type, cast("dict[str, Any]", payload), aliases=tool_aliases(context))
        except Exception as exc:  # a bug; the payload is not in the message
            logger.error("invoke_hook %s failed: %s", hook_type, type(exc).__name__)
            return _error(plugin_name, f"mcp-pii failed on {hook_type} ({type(exc).__name__})", "INTERNAL")
        return _json({"plugin_name": plugin_name, "result": result_dict(outcome)})

    return mcp
