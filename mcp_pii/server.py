"""The MCP server: detect_pii, mask_pii and scan_nested over stdio, SSE and Streamable HTTP.

No ``from __future__ import annotations`` here: the tool signatures use a ``Literal`` of the
enabled type ids built at start-up, and the SDK reads the annotations as real objects.
"""

import logging
import socket
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, Literal, TypeVar

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import CallToolResult, InputRequiredResult, ToolAnnotations
from pydantic import BaseModel, Field, JsonValue, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from mcp_pii import __version__
from mcp_pii.config import Config, Strategy
from mcp_pii.engine import Engine
from mcp_pii.errors import InternalError, PIIError
from mcp_pii.logs import describe_validation_error

logger = logging.getLogger("mcp_pii.server")

T = TypeVar("T")

# Payloads up to this many characters are scanned on the event loop; larger ones in a worker
# thread (the Rust engine releases the GIL), so one big payload cannot stall other clients of an
# HTTP server. Measured side by side (Rust engine, PII-dense text, loaded 2-core machine): the hop
# to a thread costs 110-180 us; masking 1 KB takes ~50 us, 10 KB ~340 us, 100 KB ~3.5 ms. Up to
# ~16 KB the hop would cost a third or more of the work and the loop stalls well under a
# millisecond; above it the stall grows past the hop.
INLINE_LIMIT = 16 * 1024
# Most entries a `types` argument may have. pydantic checks the length before the items, so a
# list of 100,000 unknown ids costs one error, not 100,000 (each listing every type id, formatted
# by the SDK on the event loop: seconds of stall and a message of some 30 MB).
MAX_TYPES_LISTED = 1000

INSTRUCTIONS = (
    "Detects and masks personal data (emails, phone numbers, SSNs, payment cards, IBANs, IP "
    "addresses, dates of birth, passport, licence, account and medical record numbers) and secrets "
    "(API keys, cloud and vendor tokens, JWTs, private keys). Call mask_pii before storing, logging "
    "or forwarding text that may hold such data; scan_nested for JSON payloads such as tool results; "
    "detect_pii to find out what is there without changing it."
)
StrategyArg = Annotated[
    Strategy | None, Field(description="How to mask (default: the server's configured strategies).")
]
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False, idempotent_hint=True, destructive_hint=False)


class Span(BaseModel):
    """A detection in a text: type id and code-point offsets into the input."""

    type: str = Field(description="PII type id, e.g. 'email'.")
    start: int = Field(description="Offset of the first character (Unicode code points).")
    end: int = Field(description="Offset just past the last character.")


class DetectedSpan(Span):
    """A detection, with its value when the caller asked for values."""

    value: str | None = Field(
        None, description="The detected text (only with include_values=true).", exclude_if=lambda v: v is None
    )


class NestedSpan(Span):
    """A detection inside a JSON payload."""

    path: str = Field(description="RFC 6901 JSON Pointer of the string the detection is in.")


class DetectOutput(BaseModel):
    """Result of detect_pii."""

    detections: list[DetectedSpan]
    counts: dict[str, int] = Field(description="Detections per type id.")


class MaskOutput(BaseModel):
    """Result of mask_pii."""

    text: str = Field(description="The text with every detection masked.")
    detections: list[Span] = Field(description="What was masked; spans refer to the input text.")
    counts: dict[str, int] = Field(description="Detections per type id.")


class ScanOutput(BaseModel):
    """Result of scan_nested."""

    data: JsonValue = Field(description="The payload, masked unless mask=false.")
    detections: list[NestedSpan]
    counts: dict[str, int] = Field(description="Detections per type id.")


@dataclass(frozen=True)
class AppState:
    """What the lifespan hands to every tool call."""

    engine: Engine


def _counts(types: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for t in types:
        out[t] = out.get(t, 0) + 1
    return out


def _engine(ctx: Context[Any, Any]) -> Engine:
    state: AppState = ctx.request_context.lifespan_context
    return state.engine


async def _run(size: int, fn: Callable[..., T], *args: Any) -> T:
    """Run engine work inline or in a worker thread; engine errors become tool errors."""
    try:
        if size > INLINE_LIMIT:
            return await anyio.to_thread.run_sync(partial(fn, *args))
        return fn(*args)
    except PIIError as exc:
        if isinstance(exc, InternalError):  # an engine bug (a Rust panic): fixed text, no input
            logger.error("%s failed with an internal error: %s", getattr(fn, "__name__", "engine call"), exc)
        raise ToolError(str(exc)) from None


def _size(data: Any, budget: int = INLINE_LIMIT + 1) -> int:
    """Characters in the strings of a payload, counted only up to ``budget`` (to choose inline or threaded)."""
    if isinstance(data, str):
        return len(data)
    items = data.values() if isinstance(data, dict) else data if isinstance(data, list) else ()
    total = 8
    for item in items:
        total += _size(item, budget - total)
        if total >= budget:
            break
    return total


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


class PiiServer(MCPServer[AppState]):
    """MCPServer whose argument errors never echo the rejected values (they may be PII)."""

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[AppState, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError) and not isinstance(exc, UnexpectedToolError):
                raise ToolError(f"Error executing tool {name}: {describe_validation_error(cause)}") from cause
            raise


def build_server(config: Config | None = None, *, engine: Engine | None = None) -> PiiServer:
    """Build the MCP server for a configuration (or an engine built already)."""
    engine = engine if engine is not None else Engine(config)
    type_ids = tuple(engine.types)
    TypeId = Literal[type_ids]  # type: ignore[valid-type]

    @asynccontextmanager
    async def lifespan(server: MCPServer[AppState]) -> AsyncIterator[AppState]:
        logger.info(
            "mcp-pii %s ready: %s engine, %d types enabled: %s",
            __version__,
            engine.implementation,
            len(type_ids),
            ", ".join(type_ids),
        )
        yield AppState(engine)

    mcp = PiiServer("mcp-pii", version=__version__, instructions=INSTRUCTIONS, lifespan=lifespan)

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
            "and character offsets, and counts per type; values only when include_values is true. Use it "
            "to decide whether text is safe to store or forward."
        ),
    )
    async def detect_pii(
        text: Annotated[str, Field(description="The text to examine.")],
        types: TypesArg = None,
        include_values: Annotated[
            bool, Field(description="Also return the detected values (they are PII: only ask when needed).")
        ] = False,
        ctx: Context[AppState, Any] | None = None,
    ) -> DetectOutput:
        assert ctx is not None
        hits = await _run(len(text), _engine(ctx).detect, text, types)
        return DetectOutput(
            detections=[
                DetectedSpan(type=d.type, start=d.start, end=d.end, value=d.value if include_values else None)
                for d in hits
            ],
            counts=_counts(d.type for d in hits),
        )

    @mcp.tool(
        name="mask_pii",
        title="Mask PII",
        annotations=READ_ONLY,
        description=(
            "Mask personal data and secrets in a text before it is stored, logged or sent on. Strategies: "
            "label ([EMAIL]), redact ([REDACTED]), partial (***-**-6789), hash ([HASH:...]), tokenize "
            "([EMAIL_1], same value same token) or remove. Returns the masked text and what was masked."
        ),
    )
    async def mask_pii(
        text: Annotated[str, Field(description="The text to mask.")],
        strategy: StrategyArg = None,
        types: TypesArg = None,
        ctx: Context[AppState, Any] | None = None,
    ) -> MaskOutput:
        assert ctx is not None
        result = await _run(len(text), _engine(ctx).mask, text, strategy, types)
        return MaskOutput(
            text=result.text,
            detections=[Span(type=d.type, start=d.start, end=d.end) for d in result.detections],
            counts=_counts(d.type for d in result.detections),
        )

    @mcp.tool(
        name="scan_nested",
        title="Scan a JSON payload",
        annotations=READ_ONLY,
        description=(
            "Find and mask personal data and secrets in every string of a JSON value (objects, arrays, "
            "strings holding JSON). Object keys, numbers, booleans and null are left as they are. Each "
            "detection names its string by JSON Pointer. With mask=false it only reports."
        ),
    )
    async def scan_nested(
        data: Annotated[JsonValue, Field(description="Any JSON value.")],
        strategy: StrategyArg = None,
        types: TypesArg = None,
        mask: Annotated[bool, Field(description="Mask the payload (true) or only report (false).")] = True,
        ctx: Context[AppState, Any] | None = None,
    ) -> ScanOutput:
        assert ctx is not None
        result = await _run(_size(data), _engine(ctx).scan, data, strategy, types, mask)
        return ScanOutput(
            data=result.data,
            detections=[NestedSpan(path=d.path, type=d.type, start=d.start, end=d.end) for d in result.detections],
            counts=_counts(d.type for d in result.detections),
        )

    _keep_string_payloads(mcp, "scan_nested", "data")

    @mcp.tool(name="ping", title="Ping", annotations=READ_ONLY, description="Answer at once; for health checks.")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    @mcp.custom_route("/healthz", methods=["GET"])  # type: ignore[untyped-decorator]
    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__, "implementation": engine.implementation})

    return mcp


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def transport_security(
    host: str, allowed_hosts: Iterable[str] = (), allowed_origins: Iterable[str] = ()
) -> TransportSecuritySettings:
    """DNS-rebinding protection, always on: loopback names, the bind host, and what the user allows."""
    names = [*LOOPBACK_HOSTS]
    if host not in ("0.0.0.0", "::", "127.0.0.1", "localhost", "::1"):
        names.append(host)
    names += list(allowed_hosts)
    hosts = [h for name in names for h in (name, f"{name}:*")]
    origins = [f"{scheme}://{h}" for h in hosts for scheme in ("http", "https")] + list(allowed_origins)
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


@dataclass(frozen=True)
class HttpOptions:
    """How to serve over HTTP."""

    transport: Literal["http", "sse"] = "http"
    host: str = "127.0.0.1"
    port: int = 8765
    stateless: bool = False
    json_response: bool = False
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    auth_token: str | None = None
    max_body_bytes: int = 16 * 1024 * 1024


def http_app(mcp: PiiServer, opts: HttpOptions) -> Any:
    """The ASGI app for an HTTP transport, behind the bearer-token check when a token is set."""
    security = transport_security(opts.host, opts.allowed_hosts, opts.allowed_origins)
    app: Any
    if opts.transport == "sse":
        app = mcp.sse_app(transport_security=security, max_request_body_size=opts.max_body_bytes, host=opts.host)
    else:
        app = mcp.streamable_http_app(
            stateless_http=opts.stateless,
            json_response=opts.json_response,
            transport_security=security,
            max_request_body_size=opts.max_body_bytes,
            host=opts.host,
        )
    if opts.auth_token:
        from mcp_pii.auth import BearerAuth  # noqa: PLC0415

        app = BearerAuth(app, opts.auth_token, exempt=("/healthz",))
    return app


def serve_http(mcp: PiiServer, opts: HttpOptions) -> None:
    """Serve over Streamable HTTP or SSE until interrupted; print the URL once listening."""
    import uvicorn  # noqa: PLC0415

    app = http_app(mcp, opts)
    family = socket.AF_INET6 if ":" in opts.host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio turns TCP_NODELAY on only for such sockets, and without it
    # small responses wait on Nagle's algorithm and delayed ACKs (~40 ms a call).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((opts.host, opts.port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"mcp-pii: error: cannot listen on {opts.host}:{opts.port}: {exc.strerror}") from None
    port = sock.getsockname()[1]
    shown = f"[{opts.host}]" if ":" in opts.host else opts.host
    kind = "SSE" if opts.transport == "sse" else "Streamable HTTP" + (" (stateless)" if opts.stateless else "")
    path = "/sse" if opts.transport == "sse" else "/mcp"
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, server_header=False, lifespan="on", timeout_graceful_shutdown=3
    )
    server = uvicorn.Server(config)
    print(f"mcp-pii {__version__}: {kind} at http://{shown}:{port}{path}", file=sys.stderr, flush=True)
    server.run(sockets=[sock])
