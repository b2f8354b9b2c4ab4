"""``mcp-pii proxy``: an MCP server in front of another one, masking PII on the way through.

The upstream is a command (``mcp-pii proxy -- npx @modelcontextprotocol/server-filesystem /data``,
spoken to over stdio) or a URL (``--upstream http://host/mcp``: Streamable HTTP, or SSE for a URL
ending in ``/sse`` or with ``--upstream-transport sse``; ``--header`` adds HTTP headers). The
proxy lists the upstream's tools, prompts, resources and resource templates under their own
names and schemas (page by page, cursors relayed), forwards calls and reads, and applies the hook
module (:mod:`mcp_pii.hooks`) to what comes back: tool results, rendered prompts, resource
contents; and, with ``--mask-arguments``, to tool and prompt arguments before they go up.

With ``--rehydrate`` (stdio only: one client, one scope), results are masked reversibly: each value
becomes a token of the proxy's scope (``[EMAIL_1]``), and tokens of that scope in the arguments of
later tool calls and prompts are put back to their values before they go up, so an agent can act
on a value it was never shown. The vault is the one mcp-pii's configuration names (memory by
default); the scope is forgotten when the proxy stops.

A refused payload (``--block``, or one that cannot be scanned) becomes a tool error for a tool
call and an MCP error otherwise. The upstream's JSON-RPC errors keep their code and get a fixed
text, as mcp-pii's own do (the upstream's text may quote the request). Not relayed:
completions, subscriptions, logging, and requests the upstream makes of the client (sampling,
elicitation, roots).

One upstream connection serves every client of the proxy (stdio and Streamable HTTP); over SSE
each client connection gets its own.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
import httpx2
from mcp import Client, types
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_REQUEST

from mcp_pii import __version__
from mcp_pii.errors import PIIError
from mcp_pii.hooks import Outcome, PIIFilter
from mcp_pii.limits import Gate
from mcp_pii.server import AppState, OwnError, PiiServer
from mcp_pii.vault import Vault

logger = logging.getLogger("mcp_pii.proxy")


@dataclass(frozen=True)
class Upstream:
    """Where the proxied server is: a command to run (stdio) or a URL."""

    command: tuple[str, ...] = ()
    url: str | None = None
    transport: Literal["http", "sse"] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if bool(self.command) == bool(self.url):
            raise ValueError("give the upstream either as a command after '--' or as --upstream URL, not both")
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError("--upstream must be an http:// or https:// URL")

    @property
    def kind(self) -> Literal["stdio", "http", "sse"]:
        """The transport to the upstream."""
        if self.command:
            return "stdio"
        if self.transport is not None:
            return self.transport
        return "sse" if (self.url or "").rstrip("/").endswith("/sse") else "http"

    def describe(self) -> str:
        """Where the upstream is, for messages (the command name or URL, no arguments or headers)."""
        return f"command '{self.command[0]}'" if self.command else f"{self.kind} {self.url}"

    def client(self) -> Client:
        """An MCP client for the upstream (no response cache: every call goes through)."""
        if self.command:
            # The upstream inherits the proxy's environment, as a wrapped command would.
            params = StdioServerParameters(command=self.command[0], args=list(self.command[1:]), env=dict(os.environ))
            return Client(params, cache=None)
        assert self.url is not None
        if self.kind == "sse":
            return Client(sse_client(self.url, headers=self.headers), cache=None)
        http = httpx2.AsyncClient(headers=self.headers, timeout=httpx2.Timeout(30.0, read=300.0))
        return Client(streamable_http_client(self.url, http_client=http), cache=None)

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Client]:
        """A connected client; a failure to connect is a ConnectionError with a one-line reason."""
        client = self.client()
        try:
            await client.__aenter__()
        except Exception as exc:
            raise ConnectionError(f"cannot connect to the upstream {self.describe()}: {_reason(exc)}") from None
        try:
            yield client
        finally:
            await client.__aexit__(None, None, None)


class Relay:
    """The proxy's request handlers: forward to the upstream, filter what passes (and rehydrate, with a vault)."""

    def __init__(self, pii_filter: PIIFilter, upstream: Upstream, vault: Vault | None = None) -> None:
        self.filter = pii_filter
        self.upstream = upstream
        self.vault = vault
        self.scope: str | None = None
        self._client: Client | None = None

    @asynccontextmanager
    async def connected(self) -> AsyncIterator[Client]:
        """Serve from the upstream (and hold a scope of the vault) for as long as the context lasts."""
        async with self.upstream.connect() as client:
            self._client = client
            if self.vault is not None:
                self.scope = await self.vault.new_scope()
            try:
                yield client
            finally:
                self._client = None
                if self.vault is not None and self.scope is not None:
                    await self.vault.forget(self.scope)
                    await self.vault.aclose()
                self.scope = None

    @property
    def client(self) -> Client:
        if self._client is None:
            raise OwnError(code=INTERNAL_ERROR, message="the upstream server is not connected")
        return self._client

    def _has(self, capability: str) -> bool:
        return getattr(self.client.server_capabilities, capability, None) is not None

    def _refuse(self, outcome: Outcome) -> MCPError:
        assert outcome.violation is not None
        return OwnError(code=INVALID_REQUEST, message=outcome.violation.description)

    async def list_tools(self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None) -> Any:
        page = types.PaginatedRequestParams(cursor=params.cursor if params else None)
        return await self.client.session.list_tools(params=page)

    async def _hook(self, hook: str, payload: dict[str, Any]) -> Outcome:
        """The hook module on a payload; reversible masking in the proxy's scope when rehydrating."""
        return await self.filter.arun(hook, payload, vault=self.vault, scope=self.scope)

    async def _rehydrate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The arguments with the tokens of the proxy's scope put back to their values."""
        if self.vault is None or self.scope is None or not arguments:
            return arguments
        restored = await self.filter.engine.unmask_nested(arguments, self.vault, self.scope)
        return dict(restored.data)

    async def call_tool(self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams) -> Any:
        arguments = params.arguments or {}
        try:
            arguments = await self._rehydrate(arguments)
        except PIIError as exc:
            return _tool_error(f"the arguments could not be rehydrated: {exc}")
        if self.filter.policy.mask_arguments:
            pre = await self.filter.arun("tool_pre_invoke", {"name": params.name, "args": arguments})
            if pre.violation is not None:
                return _tool_error(pre.violation.description)
            if pre.payload is not None:
                arguments = pre.payload["args"]
        try:
            result = await self.client.session.call_tool(params.name, arguments)
        except RuntimeError as exc:  # the SDK's checks of the upstream's answer (output schema, input rounds)
            return _tool_error(f"the upstream's answer was refused: {self.filter.engine.mask(str(exc)).text}")
        assert isinstance(result, types.CallToolResult)
        post = await self._hook("tool_post_invoke", {"name": params.name, "result": _dump(result)})
        if post.violation is not None:
            return _tool_error(post.violation.description)
        return result if post.payload is None else types.CallToolResult.model_validate(post.payload["result"])

    async def list_prompts(self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None) -> Any:
        if not self._has("prompts"):
            return types.ListPromptsResult(prompts=[])
        page = types.PaginatedRequestParams(cursor=params.cursor if params else None)
        return await self.client.session.list_prompts(params=page)

    async def get_prompt(self, ctx: ServerRequestContext[Any], params: types.GetPromptRequestParams) -> Any:
        try:
            arguments = await self._rehydrate(dict(params.arguments or {}))
        except PIIError as exc:
            raise OwnError(code=INVALID_REQUEST, message=f"the arguments could not be rehydrated: {exc}") from None
        if self.filter.policy.mask_arguments:
            pre = await self.filter.arun("prompt_pre_fetch", {"prompt_id": params.name, "args": arguments})
            if pre.violation is not None:
                raise self._refuse(pre)
            if pre.payload is not None:
                arguments = pre.payload["args"]
        result = await self.client.session.get_prompt(params.name, arguments)
        post = await self._hook("prompt_post_fetch", {"prompt_id": params.name, "result": _dump(result)})
        if post.violation is not None:
            raise self._refuse(post)
        return result if post.payload is None else types.GetPromptResult.model_validate(post.payload["result"])

    async def list_resources(self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None) -> Any:
        if not self._has("resources"):
            return types.ListResourcesResult(resources=[])
        page = types.PaginatedRequestParams(cursor=params.cursor if params else None)
        return await self.client.session.list_resources(params=page)

    async def list_resource_templates(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> Any:
        if not self._has("resources"):
            return types.ListResourceTemplatesResult(resource_templates=[])
        page = types.PaginatedRequestParams(cursor=params.cursor if params else None)
        return await self.client.session.list_resource_templates(params=page)

    async def read_resource(self, ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams) -> Any:
        result = await self.client.session.read_resource(str(params.uri))
        dumped = _dump(result)
        post = await self._hook("resource_post_fetch", {"uri": str(params.uri), "content": dumped["contents"]})
        if post.violation is not None:
            raise self._refuse(post)
        if post.payload is None:
            return result
        return types.ReadResourceResult.model_validate({**dumped, "contents": post.payload["content"]})


def check_upstream(upstream: Upstream) -> None:
    """Connect to the upstream once and hang up; raise ConnectionError with a one-line reason if it fails.

    For the HTTP transports, where the connection is made in the web server's start-up and a
    failure there would end in a traceback rather than a message.
    """

    async def probe() -> None:
        async with upstream.connect():
            pass

    anyio.run(probe)


def _dump(result: types.Result) -> dict[str, Any]:
    return result.model_dump(mode="json", by_alias=True, exclude_none=True)


def _tool_error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)


def _reason(exc: BaseException) -> str:
    """A short reason for a failed connection (exception groups unwrapped to their first cause)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return str(exc) or type(exc).__name__


def build_proxy(
    pii_filter: PIIFilter, upstream: Upstream, gate: Gate | None = None, *, rehydrate: Vault | None = None
) -> PiiServer:
    """The proxy's MCP server (under ``gate``'s limits on HTTP); it connects to the upstream when it starts serving.

    With ``rehydrate`` (a vault), results are masked reversibly and arguments rehydrated (see the module docstring).
    """
    relay = Relay(pii_filter, upstream, rehydrate)
    gate = gate if gate is not None else Gate()

    @asynccontextmanager
    async def lifespan(server: MCPServer[AppState]) -> AsyncIterator[AppState]:
        async with relay.connected() as client:
            info = client.server_info
            logger.info(
                "mcp-pii %s proxy ready: upstream %s (%s), %s engine",
                __version__,
                upstream.describe(),
                info.name if info else "unnamed",
                pii_filter.engine.implementation,
            )
            yield AppState(pii_filter.engine, gate, anyio.CapacityLimiter(gate.limits.engine_threads))

    mcp = PiiServer("mcp-pii-proxy", version=__version__, lifespan=lifespan)
    mcp.engine_implementation = pii_filter.engine.implementation
    lowlevel = mcp._lowlevel_server  # the SDK's handler table: relayed results keep their exact shape
    lowlevel.add_request_handler("tools/list", types.PaginatedRequestParams, relay.list_tools)
    lowlevel.add_request_handler("tools/call", types.CallToolRequestParams, relay.call_tool)
    lowlevel.add_request_handler("prompts/list", types.PaginatedRequestParams, relay.list_prompts)
    lowlevel.add_request_handler("prompts/get", types.GetPromptRequestParams, relay.get_prompt)
    lowlevel.add_request_handler("resources/list", types.PaginatedRequestParams, relay.list_resources)
    lowlevel.add_request_handler(
        "resources/templates/list", types.PaginatedRequestParams, relay.list_resource_templates
    )
    lowlevel.add_request_handler("resources/read", types.ReadResourceRequestParams, relay.read_resource)
    return mcp
