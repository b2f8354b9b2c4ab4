"""The ``mcp-pii`` command: ``serve`` the MCP server, ``plugin`` and ``proxy`` on the traffic path, or
``detect``/``mask``/``scan`` from the shell."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Any

from mcp_pii import __version__, describe
from mcp_pii.auth import TokenError, load_token
from mcp_pii.client_config import CLIENTS, WHERE, client_config, server_command
from mcp_pii.config import Config
from mcp_pii.engine import Engine, Implementation
from mcp_pii.errors import PIIError
from mcp_pii.limits import MIB, Gate, Limits

STRATEGIES = ("redact", "label", "partial", "hash", "tokenize", "remove")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, no usage dump
        self.exit(2, f"mcp-pii: error: {message} (see '{self.prog} --help')\n")


def _port(text: str) -> int:
    """A TCP port for ``--port``: 0 to 65535 (0 picks a free one)."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: give a number from 0 to 65535")
    return port


def _positive(text: str) -> int:
    """A whole number of at least 1 (for ``--max-body-bytes``)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: give a whole number of at least 1")
    return value


def _seconds(text: str) -> float:
    """A positive number of seconds, at most a day."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: give a number of seconds above 0, at most 86400")
    return value


def _minutes(text: str) -> float:
    """A positive number of minutes, at most a day."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 1440:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: give a number of minutes above 0, at most 1440")
    return value


def _add_serve_flags(cmd: argparse.ArgumentParser) -> None:
    """The flags that say how a server is served: transport, HTTP options, auth and limits."""
    cmd.add_argument("--transport", choices=("stdio", "http", "sse"), default="stdio", help="default: stdio")
    cmd.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    cmd.add_argument("--port", type=_port, default=8765, help="HTTP port; 0 picks a free one (default 8765)")
    cmd.add_argument("--stateless", action="store_true", help="Streamable HTTP without sessions")
    cmd.add_argument("--json-response", action="store_true", help="Streamable HTTP answers as JSON, not SSE")
    cmd.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="HOST",
        help="extra Host header to accept (behind a gateway or proxy); repeatable",
    )
    cmd.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="extra Origin to accept, e.g. https://gateway.example; repeatable",
    )
    auth = cmd.add_mutually_exclusive_group()
    auth.add_argument(
        "--auth-token-file",
        metavar="FILE",
        help="require 'Authorization: Bearer TOKEN' on HTTP, TOKEN read from FILE (or set $MCP_PII_AUTH_TOKEN)",
    )
    auth.add_argument("--auth-token", help="the same with the token on the command line (other users can see it in ps)")
    auth.add_argument(
        "--no-auth", action="store_true", help="no token: required to serve HTTP beyond loopback without one"
    )
    cmd.add_argument(
        "--metrics-port",
        type=_port,
        metavar="PORT",
        help="also serve Prometheus metrics on this port of --host (any transport; 0 picks a free one)",
    )
    cmd.add_argument(
        "--max-body-bytes", type=_positive, default=16 * 1024 * 1024, help="largest HTTP request body (default 16 MiB)"
    )
    d = Limits()
    lim = cmd.add_argument_group("limits (see the README's 'Serving under load')")
    lim.add_argument(
        "--max-inflight-mib",
        type=_positive,
        default=d.max_inflight_bytes // MIB,
        help=f"MiB of requests in flight; past it: 503 / busy error (default {d.max_inflight_bytes // MIB})",
    )
    lim.add_argument(
        "--max-calls", type=_positive, default=d.max_inflight_calls, help=f"calls in flight ({d.max_inflight_calls})"
    )
    lim.add_argument(
        "--engine-threads",
        type=_positive,
        default=d.engine_threads,
        help="large calls run in the engine at once; others wait (default: the CPU count)",
    )
    lim.add_argument(
        "--max-sessions",
        type=_positive,
        default=d.max_sessions,
        help=f"open Streamable HTTP sessions; the longest idle is ended for a new one (default {d.max_sessions})",
    )
    lim.add_argument(
        "--session-idle-minutes",
        type=_minutes,
        default=d.session_idle_minutes,
        help=f"end a session idle this long (default {d.session_idle_minutes:g})",
    )
    lim.add_argument(
        "--max-connections",
        type=_positive,
        default=d.max_connections,
        help=f"open HTTP connections; the longest idle is closed for a new one (default {d.max_connections})",
    )
    lim.add_argument(
        "--header-timeout",
        type=_seconds,
        default=d.header_timeout,
        help=f"seconds a connection has to send a complete request head (default {d.header_timeout:g})",
    )
    lim.add_argument(
        "--keep-alive-timeout",
        type=_seconds,
        default=d.keep_alive_timeout,
        help=f"close an idle keep-alive connection after this many seconds (default {d.keep_alive_timeout:g})",
    )


def _parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--config", metavar="FILE", help="TOML config file (default: $MCP_PII_CONFIG)")
    common.add_argument(
        "--force-python", action="store_true", help="use the pure-Python engine (as MCP_PII_FORCE_PYTHON=1)"
    )
    common.add_argument(
        "--log-level", default=os.environ.get("MCP_PII_LOG_LEVEL", "INFO"), help="log level on stderr (default INFO)"
    )
    common.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=os.environ.get("MCP_PII_LOG_FORMAT", "text"),
        help="text lines, or one JSON object per line with a line per tool call (default text)",
    )

    p = _Parser(
        prog="mcp-pii",
        description="Detect and mask PII and secrets: an MCP server, and the same engine from the shell.",
        epilog="Environment: MCP_PII_CONFIG, MCP_PII_FORCE_PYTHON, MCP_PII_DEFAULT_STRATEGY, MCP_PII_STRATEGIES, "
        "MCP_PII_ENABLED_TYPES, MCP_PII_DISABLED_TYPES, MCP_PII_ALLOW_VALUES, MCP_PII_REDACTION_TEXT, "
        "MCP_PII_HASH_KEY, MCP_PII_MAX_TEXT_BYTES, MCP_PII_MAX_DEPTH, MCP_PII_MAX_NODES, MCP_PII_AUTH_TOKEN, "
        "MCP_PII_ALLOW_UNMASK, MCP_PII_VAULT_URL, MCP_PII_VAULT_KEY, MCP_PII_VAULT_TTL_SECONDS, "
        "MCP_PII_VAULT_MAX_SCOPES, MCP_PII_VAULT_MAX_ENTRIES, MCP_PII_VAULT_TIMEOUT_SECONDS.",
    )
    p.add_argument("--version", action="version", version=f"mcp-pii {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    serve = sub.add_parser("serve", parents=[common], help="run the MCP server (stdio by default)")
    _add_serve_flags(serve)

    plugin = sub.add_parser(
        "plugin",
        parents=[common],
        help="serve ContextForge's external plugin contract (stdio by default)",
        description="Serve the tools of ContextForge's external plugin contract (get_plugin_config, "
        "get_plugin_configs, invoke_hook), with the same transports and options as 'serve'.",
    )
    plugin.add_argument(
        "--settings",
        metavar="FILE",
        help="the plugin's keys (the built-in filter's 'config:' block plus ours): TOML, JSON or YAML",
    )
    _add_serve_flags(plugin)

    proxy = sub.add_parser(
        "proxy",
        parents=[common],
        help="serve another MCP server's tools, prompts and resources with PII masked",
        description="Relay an upstream MCP server, masking PII in what comes back. The upstream is a "
        "command after '--' (stdio), or --upstream URL.",
        usage="mcp-pii proxy [options] (--upstream URL | -- COMMAND [ARG ...])",
    )
    proxy.add_argument("--upstream", metavar="URL", help="the upstream's Streamable HTTP or SSE endpoint")
    proxy.add_argument(
        "--upstream-transport",
        choices=("http", "sse"),
        help="how to reach --upstream (default: sse for a URL ending in /sse, else http)",
    )
    proxy.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="HTTP header to send to --upstream, e.g. 'Authorization: Bearer ...'; repeatable",
    )
    proxy.add_argument(
        "--mask-arguments", action="store_true", help="also mask tool and prompt arguments before they go upstream"
    )
    proxy.add_argument("--block", action="store_true", help="refuse results holding PII instead of masking them")
    proxy.add_argument(
        "--rehydrate",
        action="store_true",
        help="mask results with reversible tokens ([EMAIL_1]) and put the values back into the arguments of "
        "later calls that carry them (stdio only; the vault of --config)",
    )
    proxy.add_argument("--settings", metavar="FILE", help="hook settings (the keys of 'mcp-pii plugin --settings')")
    _add_serve_flags(proxy)
    proxy.add_argument("upstream_command", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)

    for name, text in (
        ("detect", "print the detections in a text as JSON (types and offsets)"),
        ("mask", "print the text with every detection masked"),
        ("scan", "print a JSON payload with every string masked"),
    ):
        cmd = sub.add_parser(name, parents=[common], help=text, description=text)
        cmd.add_argument("file", nargs="?", help="input file (default: standard input)")
        cmd.add_argument("--types", help="comma-separated type ids (default: all enabled)")
        if name != "detect":
            cmd.add_argument("--strategy", choices=STRATEGIES, help="masking strategy (default: configured)")
        if name == "scan":
            cmd.add_argument("--report", action="store_true", help="print the detections instead of the data")
        if name == "detect":
            cmd.add_argument("--values", action="store_true", help="include the detected values in the output")

    config = sub.add_parser(
        "config",
        help="print a client configuration that starts this server (claude, cursor, vscode, inspector)",
        description="Print a ready-to-paste configuration for an MCP client, with the absolute path of this "
        "installation's command. Arguments after '--' are added to 'serve', e.g. -- --config /abs/mcp-pii.toml",
    )
    config.add_argument("client", choices=CLIENTS)
    config.add_argument("--name", default="pii", help="the server's name in the configuration (default pii)")
    config.add_argument("--uvx", action="store_true", help="start it with 'uvx mcp-pii' (the package from PyPI)")

    types = sub.add_parser(
        "types",
        parents=[common],
        help="list the types and rules the configured engine detects",
        description="List every enabled type: its category, whether it needs a label or key, its labels and an "
        "example; with --rules, every named rule (vendor formats) with an example.",
    )
    types.add_argument("--rules", action="store_true", help="list every named rule of each type")
    types.add_argument("--json", action="store_true", help="print JSON")
    return p


def _read(path: str | None) -> str:
    raw = sys.stdin.buffer.read() if path in (None, "-") else open(path, "rb").read()  # noqa: SIM115
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PIIError(f"input is not valid UTF-8 (byte {exc.start})") from None


def _engine(args: argparse.Namespace) -> Engine:
    config = Config.load(args.config)
    return Engine(config, implementation="python" if args.force_python else None)


def _types(args: argparse.Namespace) -> int:
    engine = _engine(args)
    config = engine.config
    found = describe.catalog_types(engine.types)
    custom = [
        describe.TypeInfo(c.id, "custom", "custom pattern (configuration)", False, [], [], "")
        for c in config.custom_patterns
        if c.id in engine.types
    ]
    found += custom
    print(describe.as_json(found) if args.json else describe.text(found, rules=args.rules))
    return 0


def _shell(args: argparse.Namespace) -> int:
    engine = _engine(args)
    types = [t.strip() for t in args.types.split(",")] if args.types else None
    text = _read(args.file)
    if args.command == "detect":
        hits = engine.detect(text, types)
        out = [
            {"type": d.type, "start": d.start, "end": d.end} | ({"value": d.value} if args.values else {}) for d in hits
        ]
        json.dump({"detections": out}, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    elif args.command == "mask":
        sys.stdout.write(engine.mask(text, args.strategy, types).text)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PIIError(f"input is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
        result = engine.scan(data, args.strategy, types, mask=not args.report)
        if args.report:
            out_report = [
                {"path": d.path, "type": d.type, "start": d.start, "end": d.end}
                | ({"embedded": list(d.embedded)} if d.embedded else {})
                for d in result.detections
            ]
            json.dump({"detections": out_report}, sys.stdout, ensure_ascii=False)
        else:
            json.dump(result.data, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    return 0


def _limits(args: argparse.Namespace) -> Limits:
    return Limits(
        max_inflight_bytes=args.max_inflight_mib * MIB,
        max_inflight_calls=args.max_calls,
        engine_threads=args.engine_threads,
        max_sessions=args.max_sessions,
        session_idle_minutes=args.session_idle_minutes,
        max_connections=args.max_connections,
        header_timeout=args.header_timeout,
        keep_alive_timeout=args.keep_alive_timeout,
    )


LOOPBACK_BINDS = ("127.0.0.1", "localhost", "::1", "[::1]")


def _token(args: argparse.Namespace) -> str | None:
    """The HTTP bearer token, or None; refuses an unusable one and an unguarded bind beyond loopback."""
    if args.no_auth:
        return None
    token = load_token(args.auth_token, args.auth_token_file)
    if token is None and args.transport != "stdio" and args.host not in LOOPBACK_BINDS:
        raise PIIError(
            f"serving HTTP on {args.host} without a token: set $MCP_PII_AUTH_TOKEN or --auth-token-file, "
            "or say --no-auth"
        )
    return token


def _serve(args: argparse.Namespace) -> int:
    from mcp_pii import logs  # noqa: PLC0415

    logs.configure(args.log_level, args.log_format)
    token = _token(args)
    engine = _engine(args)  # a bad configuration fails here, before the SDK is imported (~1 s)
    from mcp_pii.server import build_server  # noqa: PLC0415
    from mcp_pii.server_vault import probe_vault  # noqa: PLC0415

    probe_vault(engine.config)  # a bad vault key or an unreachable Redis fails here, never falls back

    gate = Gate(_limits(args))
    return _run_server(build_server(engine=engine, gate=gate), gate, token, args)


def _run_server(mcp: Any, gate: Gate, token: str | None, args: argparse.Namespace) -> int:
    """Serve ``mcp`` on the transport the serve flags name, under ``gate``'s limits."""
    from mcp_pii import logs  # noqa: PLC0415
    from mcp_pii.server import serve_stdio  # noqa: PLC0415

    # MCPServer() may have touched logging; hold the SDK's loggers at the level asked for (INFO at least).
    logs.clamp_payload_loggers(logging.getLogger("mcp_pii").getEffectiveLevel())
    if args.auth_token is not None:
        logging.getLogger("mcp_pii.cli").warning(
            "--auth-token is visible to other users in the process list; prefer --auth-token-file"
        )
    if args.metrics_port is not None:
        if mcp.metrics is None:
            raise PIIError("--metrics-port: only 'mcp-pii serve' has metrics")
        port = mcp.metrics.serve(args.host, args.metrics_port)
        shown = f"[{args.host}]" if ":" in args.host else args.host
        print(
            f"mcp-pii {__version__}: Prometheus metrics on http://{shown}:{port}/metrics", file=sys.stderr, flush=True
        )
    if args.transport == "stdio":
        return serve_stdio(mcp, gate)
    from mcp_pii.http import HttpOptions, serve_http  # noqa: PLC0415

    serve_http(
        mcp,
        HttpOptions(
            transport=args.transport,
            host=args.host,
            port=args.port,
            stateless=args.stateless,
            json_response=args.json_response,
            allowed_hosts=tuple(args.allowed_host),
            allowed_origins=tuple(args.allowed_origin),
            auth_token=token,
            max_body_bytes=args.max_body_bytes,
        ),
        gate,
    )
    return 0


def _filter(args: argparse.Namespace, *, proxy: bool) -> Any:
    """The hook filter of ``plugin`` and ``proxy``: --config (or the settings' config_file), then --settings."""
    from mcp_pii.plugin import BUILTIN_DEFAULTS, build_filter, load_settings  # noqa: PLC0415

    settings = load_settings(args.settings)
    base = Config.load(args.config or settings.config_file)
    implementation: Implementation | None = "python" if args.force_python else None
    if not proxy:  # a drop-in for the built-in plugin: its defaults where nothing says otherwise
        return build_filter(settings, base, defaults=BUILTIN_DEFAULTS, implementation=implementation)
    # The proxy masks results; arguments only when asked (--mask-arguments or mask_arguments = true).
    asked = "mask_arguments" in settings.model_fields_set and settings.mask_arguments
    settings = settings.model_copy(
        update={
            "mask_arguments": args.mask_arguments or asked,
            "block_on_detection": args.block or settings.block_on_detection,
        }
    )
    return build_filter(settings, base, defaults=None, implementation=implementation)


def _plugin(args: argparse.Namespace) -> int:
    from mcp_pii import logs  # noqa: PLC0415

    logs.configure(args.log_level, args.log_format)
    token = _token(args)
    pii_filter = _filter(args, proxy=False)
    from mcp_pii.plugin import load_settings  # noqa: PLC0415
    from mcp_pii.plugin_server import build_plugin_server  # noqa: PLC0415

    gate = Gate(_limits(args))
    return _run_server(build_plugin_server(pii_filter, load_settings(args.settings), gate), gate, token, args)


def _proxy(args: argparse.Namespace) -> int:
    from mcp_pii import logs  # noqa: PLC0415

    logs.configure(args.log_level, args.log_format)
    token = _token(args)
    command = args.upstream_command[1:] if args.upstream_command[:1] == ["--"] else args.upstream_command
    headers = {}
    for header in args.header:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise PIIError("--header must look like 'Name: value'")
        headers[name.strip()] = value.strip()
    if args.rehydrate and (args.mask_arguments or args.block or args.transport != "stdio"):
        raise PIIError("--rehydrate works alone: not with --mask-arguments or --block, and over stdio only")
    pii_filter = _filter(args, proxy=True)
    from mcp_pii.proxy import Upstream, build_proxy, check_upstream  # noqa: PLC0415

    try:
        upstream = Upstream(tuple(command), args.upstream, args.upstream_transport, headers)
    except ValueError as exc:
        raise PIIError(str(exc)) from None
    if args.transport != "stdio":
        check_upstream(upstream)  # fail with a message, not in the web server's start-up
    vault = None
    if args.rehydrate:
        from mcp_pii.server_vault import probe_vault  # noqa: PLC0415
        from mcp_pii.vault import Vault  # noqa: PLC0415

        probe_vault(pii_filter.engine.config)
        vault = Vault.from_config(pii_filter.engine.config)
    gate = Gate(_limits(args))
    return _run_server(build_proxy(pii_filter, upstream, gate, rehydrate=vault), gate, token, args)


def _client_config(args: argparse.Namespace) -> int:
    found = client_config(args.client, args.name, server_command(args.uvx), args.serve_args)
    print(json.dumps(found, indent=2))
    print(f"mcp-pii: {WHERE[args.client]}", file=sys.stderr)
    return 0


_SERVERS = {"serve": _serve, "plugin": _plugin, "proxy": _proxy, "config": _client_config}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    serve_args: list[str] = []
    if argv[:1] == ["config"] and "--" in argv:  # `mcp-pii config CLIENT -- SERVE-ARGS`
        at = argv.index("--")
        argv, serve_args = argv[:at], argv[at + 1 :]
    args = _parser().parse_args(argv)
    args.serve_args = serve_args
    if args.command is None:
        _parser().print_help(sys.stderr)
        return 2
    try:
        if args.command == "types":
            return _types(args)
        return _SERVERS.get(args.command, _shell)(args)
    except (PIIError, TokenError, OSError) as exc:
        print(f"mcp-pii: error: {exc}", file=sys.stderr)
        return 2
    except BaseExceptionGroup as group:  # an error at start-up inside a server's task group
        cause = _only_cause(group)
        if not isinstance(cause, PIIError | TokenError | OSError):
            raise
        print(f"mcp-pii: error: {cause}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _only_cause(group: BaseExceptionGroup[BaseException]) -> BaseException | None:
    """The one exception inside nested exception groups, or None if there are several."""
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup):
        if len(exc.exceptions) != 1:
            return None
        exc = exc.exceptions[0]
    return exc
