"""A stand-in for ``python -m mcp_pii serve``, for developing the MCP latency harness only.

It has the same command line (``serve --transport stdio|http --port N``) and the same tools
(``detect_pii``, ``mask_pii``, ``scan_nested`` and the no-op ``ping``), built on the real SDK and
our engine, so ``bench/mcp_latency.py --standin`` can run end to end before the real server
exists. The benchmark proper always targets ``python -m mcp_pii serve``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import BaseModel

from mcp_pii import Engine

READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)


class Found(BaseModel):
    type: str
    start: int
    end: int


class NestedFound(BaseModel):
    path: str
    type: str
    start: int
    end: int


class DetectOut(BaseModel):
    detections: list[Found]


class MaskOut(BaseModel):
    text: str
    detections: list[Found]


class ScanOut(BaseModel):
    data: Any
    detections: list[NestedFound]


class PingOut(BaseModel):
    ok: bool


def build() -> MCPServer:
    """The stand-in server; the engine is built once, like the real server's lifespan does."""
    engine = Engine()
    mcp = MCPServer("mcp-pii-standin", log_level="WARNING")

    @mcp.tool(annotations=READ_ONLY)
    def detect_pii(text: str, types: list[str] | None = None, include_values: bool = False) -> DetectOut:
        """Detect PII in text."""
        return DetectOut(detections=[Found(type=d.type, start=d.start, end=d.end) for d in engine.detect(text, types)])

    @mcp.tool(annotations=READ_ONLY)
    def mask_pii(text: str, strategy: str | None = None, types: list[str] | None = None) -> MaskOut:
        """Mask PII in text."""
        r = engine.mask(text, strategy, types)
        return MaskOut(text=r.text, detections=[Found(type=d.type, start=d.start, end=d.end) for d in r.detections])

    @mcp.tool(annotations=READ_ONLY)
    def scan_nested(
        data: Any, strategy: str | None = None, types: list[str] | None = None, mask: bool = True
    ) -> ScanOut:
        """Scan a JSON value."""
        r = engine.scan(data, strategy, types, mask)
        found = [NestedFound(path=d.path, type=d.type, start=d.start, end=d.end) for d in r.detections]
        return ScanOut(data=r.data, detections=found)

    @mcp.tool(annotations=READ_ONLY)
    def ping() -> PingOut:
        """Do nothing (a baseline for latency)."""
        return PingOut(ok=True)

    return mcp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve")
    serve.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    serve.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    mcp = build()
    if args.transport == "stdio":
        mcp.run()
    else:
        mcp.run("streamable-http", host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
