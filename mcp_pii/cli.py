"""The ``mcp-pii`` command: ``serve`` the MCP server, or ``detect``/``mask``/``scan`` from the shell."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from mcp_pii import __version__
from mcp_pii.config import Config
from mcp_pii.engine import Engine
from mcp_pii.errors import PIIError

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


def _parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--config", metavar="FILE", help="TOML config file (default: $MCP_PII_CONFIG)")
    common.add_argument(
        "--force-python", action="store_true", help="use the pure-Python engine (as MCP_PII_FORCE_PYTHON=1)"
    )
    common.add_argument(
        "--log-level", default=os.environ.get("MCP_PII_LOG_LEVEL", "INFO"), help="log level on stderr (default INFO)"
    )

    p = _Parser(
        prog="mcp-pii",
        description="Detect and mask PII and secrets: an MCP server, and the same engine from the shell.",
        epilog="Environment: MCP_PII_CONFIG, MCP_PII_FORCE_PYTHON, MCP_PII_DEFAULT_STRATEGY, MCP_PII_STRATEGIES, "
        "MCP_PII_ENABLED_TYPES, MCP_PII_DISABLED_TYPES, MCP_PII_ALLOW_VALUES, MCP_PII_REDACTION_TEXT, "
        "MCP_PII_HASH_KEY, MCP_PII_MAX_TEXT_BYTES, MCP_PII_MAX_DEPTH, MCP_PII_MAX_NODES, MCP_PII_AUTH_TOKEN.",
    )
    p.add_argument("--version", action="version", version=f"mcp-pii {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    serve = sub.add_parser("serve", parents=[common], help="run the MCP server (stdio by default)")
    serve.add_argument("--transport", choices=("stdio", "http", "sse"), default="stdio", help="default: stdio")
    serve.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8765, help="HTTP port; 0 picks a free one (default 8765)")
    serve.add_argument("--stateless", action="store_true", help="Streamable HTTP without sessions")
    serve.add_argument("--json-response", action="store_true", help="Streamable HTTP answers as JSON, not SSE")
    serve.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="HOST",
        help="extra Host header to accept (behind a gateway or proxy); repeatable",
    )
    serve.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="extra Origin to accept, e.g. https://gateway.example; repeatable",
    )
    serve.add_argument(
        "--auth-token",
        default=os.environ.get("MCP_PII_AUTH_TOKEN"),
        help="require 'Authorization: Bearer TOKEN' on HTTP (default: $MCP_PII_AUTH_TOKEN)",
    )
    serve.add_argument(
        "--max-body-bytes", type=_positive, default=16 * 1024 * 1024, help="largest HTTP request body (default 16 MiB)"
    )

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
            out_report = [{"path": d.path, "type": d.type, "start": d.start, "end": d.end} for d in result.detections]
            json.dump({"detections": out_report}, sys.stdout, ensure_ascii=False)
        else:
            json.dump(result.data, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from mcp_pii import logs  # noqa: PLC0415

    logs.configure(args.log_level)
    engine = _engine(args)  # a bad configuration fails here, before the SDK is imported (~1 s)
    from mcp_pii.server import HttpOptions, build_server, serve_http  # noqa: PLC0415

    mcp = build_server(engine=engine)
    logs.clamp_payload_loggers()  # MCPServer() may have touched logging
    if args.transport == "stdio":
        mcp.run("stdio")
        return 0
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
            auth_token=args.auth_token or None,
            max_body_bytes=args.max_body_bytes,
        ),
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help(sys.stderr)
        return 2
    try:
        return _serve(args) if args.command == "serve" else _shell(args)
    except (PIIError, OSError) as exc:
        print(f"mcp-pii: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
