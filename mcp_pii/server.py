"""The MCP server: detect_pii, mask_pii and scan_nested over stdio, SSE and Streamable HTTP.

No ``from __future__ import annotations`` here: the tool signatures use a ``Literal`` of the
enabled type ids built at start-up, and the SDK reads the annotations as real objects.
"""

import itertools
import json
import logging
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, Literal, TypeVar, cast

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    CallToolResult,
    InputRequiredResult,
    TextContent,
    ToolAnnotations,
)
from pydantic import Field, ValidationError

from mcp_pii import __version__, describe, jsonout, results, stdio
from mcp_pii import offsets as offsets_
from mcp_pii.config import Config, Strategy
from mcp_pii.engine import Detection, Engine, MaskResult, ScanResult, UnmaskNestedResult, UnmaskResult
from mcp_pii.errors import InternalError, LimitError, PIIError, VaultUnavailableError
from mcp_pii.exchange import Call, Exchange, exchange_of
from mcp_pii.limits import Busy, Gate
from mcp_pii.logs import CURRENT_CALL, CallRecord, describe_validation_error, log_call
from mcp_pii.metrics import Metrics, scan_stages, text_stages
from mcp_pii.offload import INLINE_LIMIT, payload_size
from mcp_pii.results import ContentShown, Detail, DetectOutput, MaskOutput, ScanOutput, detail_doc, text_content_doc
from mcp_pii.schema import JsonArg, output_schema
from mcp_pii.server_vault import (
    FORGET,
    FORGET_DOC,
    UNMASK,
    UNMASK_NESTED_DOC,
    UNMASK_PII_DOC,
    ForgetOutput,
    ReversibleArg,
    ScopeArg,
    ScopeId,
    UnmaskNestedOutput,
    UnmaskOutput,
    scope_without_reversible,
)
from mcp_pii.traverse import utf8_len
from mcp_pii.vault import Vault

logger = logging.getLogger("mcp_pii.server")

T = TypeVar("T")

# Payloads up to INLINE_LIMIT characters (mcp_pii.offload, with the measurement behind it) are
# scanned on the event loop; larger ones in a worker thread (the Rust engine releases the GIL),
# so one big payload cannot stall other clients of an HTTP server. A stdio process has one client,
# and the hop to a thread and back (two wake-ups) cost more than the stall it avoids there: 100 KB
# calls took 15% longer with the hop on a loaded 2-core machine. Over stdio, payloads up to
# STDIO_INLINE_LIMIT characters (a few milliseconds of engine work) are scanned on the loop.
STDIO_INLINE_LIMIT = 256 * 1024
# Most entries a `types` argument may have. pydantic checks the length before the items, so a
# list of 100,000 unknown ids costs one error, not 100,000 (each listing every type id, formatted
# by the SDK on the event loop: seconds of stall and a message of some 30 MB).
MAX_TYPES_LISTED = 1000
# Answers over HTTP for payloads of more characters than this are encoded to JSON in the worker
# thread and handed to the HTTP front as text (see mcp_pii.exchange), not through the SDK.
SPLICE_MIN = 64 * 1024

INSTRUCTIONS = (
    "Detects and masks personal data (emails, phone numbers, SSNs, payment cards, IBANs, IP "
    "addresses, dates of birth, passport, licence, account and medical record numbers) and secrets "
    "(API keys, passwords, cloud and vendor tokens, JWTs, private keys). Call mask_pii before storing, "
    "logging or forwarding text that may hold such data; scan_nested for JSON payloads such as tool "
    "results; detect_pii to find out what is there without changing it."
)


def _context_note(type_ids: Iterable[str]) -> str:
    """What a model should know about labels: the types found only next to a label or under a key."""
    weak = describe.labelled_only(list(type_ids))
    if not weak:
        return ""
    return (
        f" {', '.join(weak)} are found only next to a label that names them ('Passport No: X1234567', "
        "'my DOB is 01/15/1990', 'patient_mrn=00472918') or, in JSON, under a key that does "
        '({"passport_number": "X1234567"}); bare numbers are never taken for them. Secrets are '
        'also found by the name they are assigned to (OPENAI_API_KEY=..., "password": ...).'
    )


STRATEGY_DOC = (
    "How to mask each value (default: the server's configured strategies): label gives the type "
    "([EMAIL]); redact a fixed text ([REDACTED]); partial keeps the shape and the last characters "
    "(***-**-6789, j***@example.com); hash a keyed digest ([HASH:1f2e3d4c5b6a]); tokenize a numbered "
    "token, the same for the same value within a call ([EMAIL_1]); remove deletes the value."
)
StrategyArg = Annotated[Strategy | None, Field(description=STRATEGY_DOC)]
OffsetsArg = Annotated[offsets_.Unit, Field(description=offsets_.DOC)]
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False, idempotent_hint=True, destructive_hint=False)


@dataclass(frozen=True)
class AppState:
    """What the lifespan hands to every tool call."""

    engine: Engine
    gate: Gate
    engine_slots: anyio.CapacityLimiter
    metrics: Metrics | None = None  # the proxy and plugin servers have none
    inline_limit: int = INLINE_LIMIT  # payloads up to this many characters are scanned on the event loop


class Abandoned(Exception):
    """Raised in a worker thread between steps once its call was cancelled."""


@dataclass
class Built:
    """An answer: its text content, and its structured content as a dict or (large, over HTTP) as JSON text."""

    text: str
    structured: dict[str, Any] | None = None
    structured_json: str | None = None
    text_json: str | None = None


def _json_string(text: str) -> str:
    """``text`` as a JSON string, encoded a slice at a time (each slice holds the GIL briefly)."""
    step = 1 << 18
    if len(text) <= step:
        return json.dumps(text, ensure_ascii=False)
    parts = [json.dumps(text[i : i + step], ensure_ascii=False)[1:-1] for i in range(0, len(text), step)]
    return '"' + "".join(parts) + '"'


def _object_json(**members: str) -> str:
    """A JSON object from members given as JSON text."""
    return "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in members.items()) + "}"


def _state(ctx: Context[Any, Any]) -> AppState:
    state: AppState = ctx.request_context.lifespan_context
    return state


def _failed(state: AppState, kind: str) -> None:
    if state.metrics is not None:
        state.metrics.failed(kind)


async def _engine_work(state: AppState, size: int, work: Callable[[], T]) -> T:
    """Run engine work inline when small, else in an engine thread (at most ``engine_threads`` at once)."""
    if size <= state.inline_limit:
        return work()
    async with state.engine_slots:
        return await anyio.to_thread.run_sync(work)


async def _answer(
    ctx: Context[Any, Any],
    tool: str,
    size: int,
    build: Callable[[Call, bool], Built],
    prepare: Callable[[AppState], Awaitable[None]] | None = None,
) -> CallToolResult:
    """Run a tool's work under the gate: inline when small, else in an engine thread; build the answer there.

    ``prepare`` is async work (reversible masking: the engine and the vault) awaited first, under
    the same ticket and cancel scope.

    The call holds the HTTP request's ticket (or takes one: stdio and in-memory callers) until
    its work has finished, is cancelled when its client goes away or the server shuts down
    (queued work at once, running work as soon as the engine returns), and hands a large
    answer to the HTTP front as JSON text so that nothing large is serialised on the event loop.
    """
    state = _state(ctx)
    exchange: Exchange | None = exchange_of(ctx.request_context.request)
    if exchange is not None and exchange.ticket is not None:
        ticket = exchange.ticket
        ticket.hold()
    else:
        try:
            ticket = state.gate.admit(size)
        except Busy as exc:
            logger.info("%s refused: %s", tool, exc)
            _failed(state, "busy")
            raise ToolError(str(exc)) from None
    call = Call()
    state.gate.calls.add(call)
    if exchange is not None:
        exchange.calls.add(call)
        if exchange.gone:
            call.cancel("the client went away")
    if state.gate.closing:
        call.cancel("the server is shutting down")
    splice = exchange is not None and exchange.can_splice and size > SPLICE_MIN

    def work() -> CallToolResult:
        built = build(call, splice)
        if call.cancelled:
            raise Abandoned
        if built.structured_json is not None:
            assert exchange is not None
            return exchange.splice(built.text_json or _json_string(built.text), built.structured_json)
        return CallToolResult(content=[TextContent(type="text", text=built.text)], structured_content=built.structured)

    try:
        with call.scope:
            if prepare is not None:
                await prepare(state)
            return await _engine_work(state, size, work)
    except Abandoned:
        pass
    except PIIError as exc:  # engine and vault errors name limits and rules, never input values or scopes
        if isinstance(exc, InternalError):  # an engine bug (a Rust panic): fixed text, no input
            logger.error("%s failed with an internal error: %s", tool, exc)
            _failed(state, "internal")
        elif isinstance(exc, VaultUnavailableError):
            logger.warning("%s failed: %s", tool, exc)
            _failed(state, "vault")
        else:
            logger.info("%s refused its input: %s", tool, exc)
            _failed(state, "limit" if isinstance(exc, LimitError) else "input")
        raise ToolError(str(exc)) from None
    finally:
        ticket.release()
        state.gate.calls.discard(call)
        if exchange is not None:
            exchange.calls.discard(call)
    logger.info("%s cancelled: %s", tool, call.reason)
    _failed(state, "cancelled")
    raise ToolError(f"Call cancelled: {call.reason}.")


def _keep_string_payloads(mcp: MCPServer[Any], tool: str, argument: str) -> None:
    """Stop the SDK from JSON-decoding a string ``argument`` (it does so for non-``str`` parameters).

    A client working around quirky callers, the SDK turns ``data='{"a": 1}'`` into an object and
    ``data='null'`` into null; for scan_nested a string payload must stay the string it was.
    """
    registered = mcp._tool_manager.get_tool(tool)
    meta = getattr(registered, "fn_metadata", None)
    sdk_pre_parse = getattr(meta, "pre_parse_json", None)
    if meta is None or sdk_pre_parse is None:
        return

    def pre_parse(arguments: dict[str, Any]) -> dict[str, Any]:
        parsed: dict[str, Any] = sdk_pre_parse(arguments)
        if argument in arguments:
            parsed[argument] = arguments[argument]
        return parsed

    object.__setattr__(meta, "pre_parse_json", pre_parse)


# What MCPServer serves beyond tools. This server has no prompts or resources, and its tool list
# never changes: a client (a gateway registering it) should not be told otherwise, and an unknown
# prompts/get should be "Method not found", not an error code 0 and an ERROR line.
NOT_SERVED = (
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "subscriptions/listen",
)


def _tools_only(mcp: MCPServer[Any]) -> None:
    """Unregister the prompt, resource and subscription methods, so that only tools are advertised."""
    handlers = mcp._lowlevel_server._request_handlers
    for method in NOT_SERVED:
        handlers.pop(method, None)


def _plain_output_schemas(mcp: MCPServer[Any]) -> None:
    """Publish every tool's output schema without ``$ref`` or null branches (see ``schema.output_schema``)."""
    for tool in mcp._tool_manager.list_tools():
        meta = tool.fn_metadata
        if meta.output_schema is not None:
            meta.output_schema = output_schema(meta.output_schema)


# JSON-RPC errors are answered with a fixed text per code: the SDK's own texts and data can
# quote what the client sent (an unknown method's name, a resource URI, pydantic's input).
ERROR_TEXT = {
    METHOD_NOT_FOUND: "Method not found",
    INVALID_PARAMS: "Invalid params: see the method's schema",
    INVALID_REQUEST: "Invalid request",
    INTERNAL_ERROR: "Internal error",
}


class OwnError(MCPError):
    """A JSON-RPC error whose text mcp-pii wrote (it quotes nothing a client sent): answered as it is."""


async def _quiet_errors(ctx: Any, call_next: Callable[[Any], Any]) -> Any:
    """Server middleware: JSON-RPC errors keep their code and lose any text or data a client supplied."""
    try:
        return await call_next(ctx)
    except OwnError:
        raise
    except MCPError as exc:
        raise MCPError(code=exc.error.code, message=ERROR_TEXT.get(exc.error.code, "Request failed")) from None
    except (ValidationError, ValueError, KeyError, TypeError):  # e.g. the SDK's "Unknown prompt: <name>"
        raise MCPError(code=INVALID_PARAMS, message=ERROR_TEXT[INVALID_PARAMS]) from None
    except Exception:
        logger.exception("a request failed")
        raise MCPError(code=INTERNAL_ERROR, message=ERROR_TEXT[INTERNAL_ERROR]) from None


_call_ids = itertools.count(1)  # request ids of tool calls, for their log lines


class PiiServer(MCPServer[AppState]):
    """MCPServer whose errors never echo what the client sent, and whose tools answer prepared results."""

    engine_implementation = ""
    metrics: Metrics | None = None  # set by build_server; the proxy and plugin servers have none
    inline_limit = INLINE_LIMIT  # serve_stdio raises it to STDIO_INLINE_LIMIT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lowlevel_server.middleware.insert(0, _quiet_errors)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[AppState, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        tool = self._tool_manager.get_tool(name)
        metrics = self.metrics
        if tool is None:
            if metrics is not None:
                metrics.failed("unknown_tool")
            raise ToolError("Unknown tool: tools/list names the tools this server has")
        if context is None:
            context = Context(mcp_server=self)
        started = time.perf_counter()
        outcome = "error"
        record = CallRecord(f"{next(_call_ids):x}")
        current = CURRENT_CALL.set(record)
        try:
            # The tools build their CallToolResult themselves (off the event loop for large
            # payloads), from the same output models that give their outputSchema.
            result = await tool.run(arguments, context, convert_result=False)
            outcome = "error" if isinstance(result, CallToolResult) and result.is_error else "ok"
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError) and not isinstance(exc, UnexpectedToolError):
                if metrics is not None:
                    metrics.failed("arguments")
                raise ToolError(f"Error executing tool {name}: {describe_validation_error(cause)}") from cause
            raise
        finally:
            CURRENT_CALL.reset(current)
            seconds = time.perf_counter() - started
            if metrics is not None:
                metrics.answered(tool.name, seconds, outcome)
            log_call(tool.name, outcome, seconds, record)
        if isinstance(result, CallToolResult):
            return result
        return tool.fn_metadata.convert_result(result)


def build_server(
    config: Config | None = None, *, engine: Engine | None = None, gate: Gate | None = None, vault: Vault | None = None
) -> PiiServer:
    """Build the MCP server for a configuration (or an engine built already), under a gate's limits.

    ``vault`` holds the scopes of reversible masking (default: the one the configuration names).
    """
    engine = engine if engine is not None else Engine(config)
    gate = gate if gate is not None else Gate()
    vault = vault if vault is not None else Vault.from_config(engine.config)
    metrics = Metrics(engine, gate, vault)
    type_ids = tuple(engine.types)
    TypeId = Literal[type_ids]  # type: ignore[valid-type]
    note = _context_note(type_ids)
    sessions = 0  # lifespans entered and not yet left (one per connection on SSE and in memory)
    announced = False

    @asynccontextmanager
    async def lifespan(server: MCPServer[AppState]) -> AsyncIterator[AppState]:
        nonlocal sessions, announced
        if not announced:  # once per server (the SDK enters the lifespan once per SSE connection)
            announced = True
            logger.info(
                "mcp-pii %s ready: %s engine, %d types enabled: %s",
                __version__,
                engine.implementation,
                len(type_ids),
                ", ".join(type_ids),
            )
            logger.info("reversible masking: %s vault (%s); unmask tools %s", vault.kind, vault.where,
                        "offered" if engine.config.allow_unmask else "not offered")  # fmt: skip
        sessions += 1
        metrics.lifespans = sessions
        try:
            slots = anyio.CapacityLimiter(gate.limits.engine_threads)
            yield AppState(engine, gate, slots, metrics, cast(PiiServer, server).inline_limit)
        finally:
            sessions -= 1
            metrics.lifespans = sessions
            if not sessions:
                await vault.aclose()  # Redis connections; they reopen when used again

    mcp = PiiServer("mcp-pii", version=__version__, instructions=INSTRUCTIONS, lifespan=lifespan)
    mcp.engine_implementation = engine.implementation
    mcp.metrics = metrics

    TypesArg = Annotated[
        list[TypeId] | None,  # type: ignore[valid-type]
        Field(max_length=MAX_TYPES_LISTED, description="Only look for these types (default: every enabled type)."),
    ]

    @mcp.tool(
        name="detect_pii",
        title="Detect PII",
        annotations=READ_ONLY,
        description=(
            "Find personal data and secrets in a text without changing it. Returns each detection's type "
            "and character offsets (detections='spans'), and counts per type; values only with "
            "detections='values'. Use it to decide whether text is safe to store or forward."
        )
        + note,
    )
    async def detect_pii(
        text: Annotated[str, Field(description="The text to examine.")],
        types: TypesArg = None,
        include_values: Annotated[
            bool, Field(description="The same as detections='values' (kept for older callers).")
        ] = False,
        *,
        offsets: OffsetsArg = "codepoint",
        detections: Annotated[Detail, Field(description=detail_doc("spans"))] = "spans",
        ctx: Context[AppState, Any] | None = None,
    ) -> DetectOutput:
        assert ctx is not None
        detail: Detail = "values" if include_values else detections

        def build(call: Call, as_json: bool) -> Built:
            with metrics.engine_time(masks=False) as timer:
                hits = engine.detect(text, types)
            if call.cancelled:
                raise Abandoned
            counts = results.counts(hits)
            metrics.found("detect_pii", utf8_len(text), counts)
            if metrics.profile:
                metrics.stage_times(text_stages(engine, text, types, timer.seconds, masks=False))
            found = hits if detail == "none" else offsets_.convert(text, hits, offsets)
            answer = results.members(found, counts, detail, as_json)
            if as_json:
                whole = _object_json(**answer)
                return Built(whole, structured_json=whole)
            return Built(jsonout.dumps(answer), answer)

        return cast(DetectOutput, await _answer(ctx, "detect_pii", len(text), build))

    @mcp.tool(
        name="mask_pii",
        title="Mask PII",
        annotations=READ_ONLY,
        description=(
            "Mask personal data and secrets in a text before it is stored, logged or sent on. Strategies: "
            "label ([EMAIL]), redact ([REDACTED]), partial (***-**-6789), hash ([HASH:...]), tokenize "
            "([EMAIL_1], same value same token) or remove. Returns the masked text (as the text content "
            "too) and the counts per type; where each value was, only with detections='spans'."
        )
        + note,
    )
    async def mask_pii(
        text: Annotated[str, Field(description="The text to mask.")],
        strategy: StrategyArg = None,
        types: TypesArg = None,
        *,
        reversible: ReversibleArg = False,
        scope: ScopeArg = None,
        offsets: OffsetsArg = "codepoint",
        detections: Annotated[Detail, Field(description=detail_doc("none"))] = "none",
        text_content: Annotated[
            ContentShown, Field(description=text_content_doc("the masked text", "masked text"))
        ] = "masked",
        ctx: Context[AppState, Any] | None = None,
    ) -> MaskOutput:
        assert ctx is not None
        if scope is not None and not reversible:
            raise scope_without_reversible()
        done: list[MaskResult] = []

        async def prepare(state: AppState) -> None:  # reversible: the engine and the vault
            run = partial(_engine_work, state)
            with metrics.engine_time(masks=True):
                done.append(await engine.mask(text, strategy, types, vault=vault, scope=scope, run=run))

        def build(call: Call, as_json: bool) -> Built:
            found: list[Detection] = []
            counts: dict[str, int] | None = None
            made_scope = None  # reversible masking's scope
            if done:
                masked, found, made_scope = done[0].text, done[0].detections, done[0].scope
            else:
                with metrics.engine_time(masks=True) as timer:
                    if detections == "none":  # counts only: no Detection per hit
                        masked, counts = engine.mask_counts(text, strategy, types)
                    else:
                        result = engine.mask(text, strategy, types)
                        masked, found = result.text, result.detections
                if metrics.profile:
                    metrics.stage_times(text_stages(engine, text, types, timer.seconds, masks=True))
            if call.cancelled:
                raise Abandoned
            if counts is None:
                counts = results.counts(found)
            metrics.found("mask_pii", utf8_len(text), counts)
            if detections != "none":
                found = offsets_.convert(text, found, offsets)
            answer = results.members(found, counts, detections, as_json)
            scoped = {} if made_scope is None else {"scope": made_scope}
            shown = masked if text_content == "masked" else results.summary(counts, made_scope)
            if as_json:
                masked_json = _json_string(masked)
                extra = {k: json.dumps(v) for k, v in scoped.items()}
                whole = _object_json(text=masked_json, **answer, **extra)
                return Built(shown, structured_json=whole, text_json=masked_json if text_content == "masked" else None)
            return Built(shown, {"text": masked, **answer, **scoped})

        work = prepare if reversible else None
        return cast(MaskOutput, await _answer(ctx, "mask_pii", len(text), build, work))

    @mcp.tool(
        name="scan_nested",
        title="Scan a JSON payload",
        annotations=READ_ONLY,
        description=(
            "Find and mask personal data and secrets in every string of a JSON value (objects, arrays, "
            'strings holding JSON). A member\'s key is the label of its value: {"mrn": "00472918"} is a '
            "medical record number, and an integer under such a key is reported and masked as a string. "
            "Keys, booleans, null and other numbers are left as they are. Returns the counts per type; with "
            "detections='spans' also each detection, naming its string by JSON Pointer. With mask=false it "
            "only reports. The text content is the masked payload as JSON (with mask=false: the report)."
        )
        + note,
    )
    async def scan_nested(
        data: Annotated[JsonArg, Field(description="Any JSON value.")],
        strategy: StrategyArg = None,
        types: TypesArg = None,
        mask: Annotated[bool, Field(description="Mask the payload (true) or only report (false).")] = True,
        *,
        reversible: ReversibleArg = False,
        scope: ScopeArg = None,
        offsets: OffsetsArg = "codepoint",
        detections: Annotated[
            Detail, Field(description=detail_doc("none", ", and the JSON Pointer of the string"))
        ] = "none",
        text_content: Annotated[
            ContentShown,
            Field(description=text_content_doc("the masked payload as JSON; with mask=false the report", "payload")),
        ] = "masked",
        ctx: Context[AppState, Any] | None = None,
    ) -> ScanOutput:
        assert ctx is not None
        if scope is not None and not reversible:
            raise scope_without_reversible()
        done: list[ScanResult] = []

        async def prepare(state: AppState) -> None:  # reversible: the engine and the vault
            run = partial(_engine_work, state)
            with metrics.engine_time(masks=True):
                done.append(await engine.scan(data, strategy, types, mask, vault=vault, scope=scope, run=run))

        def build(call: Call, as_json: bool) -> Built:
            if done:
                result = done[0]
            else:
                with metrics.engine_time(masks=mask) as timer:
                    result = engine.scan(data, strategy, types, mask)
                if metrics.profile:
                    metrics.stage_times(scan_stages(engine, data, types, timer.seconds, masks=mask))
            if call.cancelled:
                raise Abandoned
            found = result.detections
            counts = results.counts(found)
            metrics.found("scan_nested", result.scanned_bytes, counts)
            if detections != "none":
                found = offsets_.convert_nested(data, found, offsets)
            answer = results.members(found, counts, detections, as_json, nested=True)
            scoped = {} if result.scope is None else {"scope": result.scope}
            summary = None if text_content == "masked" else results.summary(counts, result.scope)
            if as_json:
                payload = jsonout.dumps(result.data)
                extra = {k: json.dumps(v) for k, v in scoped.items()}
                whole = _object_json(data=payload, **answer, **extra)
                return Built(summary or (payload if mask else _object_json(**answer)), structured_json=whole)
            structured = {"data": result.data, **answer, **scoped}
            return Built(summary or jsonout.dumps(result.data if mask else answer), structured)

        budget = gate.limits.max_inflight_bytes + 1
        work = prepare if reversible else None
        return cast(ScanOutput, await _answer(ctx, "scan_nested", payload_size(data, budget), build, work))

    _keep_string_payloads(mcp, "scan_nested", "data")
    _tools_only(mcp)
    if engine.config.allow_unmask:
        _add_unmask_tools(mcp, engine, vault, gate)

    @mcp.tool(name="ping", title="Ping", annotations=READ_ONLY, description="Answer at once; for health checks.")
    async def ping() -> dict[str, bool]:
        answer = CallToolResult(content=[TextContent(type="text", text='{"ok":true}')], structured_content={"ok": True})
        return cast(dict[str, bool], answer)

    _plain_output_schemas(mcp)
    return mcp


def _add_unmask_tools(mcp: PiiServer, engine: Engine, vault: Vault, gate: Gate) -> None:
    """unmask_pii, unmask_nested and forget_scope (only with allow_unmask: they hand personal data back)."""
    scope_doc = "The scope id returned by the mask_pii or scan_nested call that made the tokens."

    @mcp.tool(name="unmask_pii", title="Unmask reversible tokens", annotations=UNMASK, description=UNMASK_PII_DOC)
    async def unmask_pii(
        text: Annotated[str, Field(description="Text holding tokens, e.g. a reply written with them.")],
        scope: Annotated[ScopeId, Field(description=scope_doc)],
        ctx: Context[AppState, Any] | None = None,
    ) -> UnmaskOutput:
        assert ctx is not None
        done: list[UnmaskResult] = []

        async def prepare(state: AppState) -> None:
            done.append(await engine.unmask(text, vault, scope, run=partial(_engine_work, state)))

        def build(call: Call, as_json: bool) -> Built:
            r = done[0]
            structured = {"text": r.text, "restored": r.restored, "unknown": r.unknown, "foreign": r.foreign}
            return Built(jsonout.dumps(structured), structured)

        return cast(UnmaskOutput, await _answer(ctx, "unmask_pii", len(text), build, prepare))

    @mcp.tool(
        name="unmask_nested",
        title="Unmask reversible tokens in a JSON payload",
        annotations=UNMASK,
        description=UNMASK_NESTED_DOC,
    )
    async def unmask_nested(
        data: Annotated[JsonArg, Field(description="Any JSON value holding tokens.")],
        scope: Annotated[ScopeId, Field(description=scope_doc)],
        ctx: Context[AppState, Any] | None = None,
    ) -> UnmaskNestedOutput:
        assert ctx is not None
        done: list[UnmaskNestedResult] = []

        async def prepare(state: AppState) -> None:
            done.append(await engine.unmask_nested(data, vault, scope, run=partial(_engine_work, state)))

        def build(call: Call, as_json: bool) -> Built:
            r = done[0]
            structured = {"data": r.data, "restored": r.restored, "unknown": r.unknown, "foreign": r.foreign}
            return Built(jsonout.dumps(structured), structured)

        size = payload_size(data, gate.limits.max_inflight_bytes + 1)
        return cast(UnmaskNestedOutput, await _answer(ctx, "unmask_nested", size, build, prepare))

    _keep_string_payloads(mcp, "unmask_nested", "data")

    @mcp.tool(name="forget_scope", title="Forget a scope", annotations=FORGET, description=FORGET_DOC)
    async def forget_scope(
        scope: Annotated[ScopeId, Field(description="The scope id to delete.")],
        ctx: Context[AppState, Any] | None = None,
    ) -> ForgetOutput:
        assert ctx is not None
        done: list[bool] = []

        async def prepare(state: AppState) -> None:
            done.append(await vault.forget(scope))

        def build(call: Call, as_json: bool) -> Built:
            structured = {"forgotten": done[0]}
            return Built(jsonout.dumps(structured), structured)

        return cast(ForgetOutput, await _answer(ctx, "forget_scope", len(scope), build, prepare))


def serve_stdio(mcp: PiiServer, gate: Gate, grace: float = 3.0) -> int:
    """Serve over stdio until stdin closes, or SIGINT or SIGTERM arrives (with stdin open or not).

    stdin and stdout are served on non-blocking pipes (``mcp_pii.stdio``), and payloads up to
    STDIO_INLINE_LIMIT characters are scanned on the event loop (one client, no thread hop).
    On a signal, calls in flight are cancelled (their callers get an error answer), given up to
    ``grace`` seconds to write it, and the process exits: where stdin is not a pipe, the SDK's
    transport reads it in a worker thread that only a new line or end of file would wake.
    """
    mcp.inline_limit = STDIO_INLINE_LIMIT

    async def run() -> None:
        async with anyio.create_task_group() as tg:

            async def on_signal() -> None:
                with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                    async for signum in signals:
                        gate.close("the server is shutting down")
                        with anyio.move_on_after(grace):
                            while gate.calls:
                                await anyio.sleep(0.02)
                        await anyio.sleep(0.05)  # the answers of cancelled calls, on their way out
                        logger.info("stopped by signal %d", signum)
                        logging.shutdown()
                        sys.stdout.flush()
                        sys.stderr.flush()
                        os._exit(128 + signum)

            tg.start_soon(on_signal)
            await stdio.serve_session(mcp)
            tg.cancel_scope.cancel()

    anyio.run(run)
    return 0
