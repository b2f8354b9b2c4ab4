"""Ready-to-paste configurations that make an MCP client start this server (``mcp-pii config CLIENT``).

Each client spawns the server itself over stdio, from a command it cannot look up in a shell's
PATH reliably (a desktop app starts with a minimal environment), so the command is written as an
absolute path: the installed ``mcp-pii`` script, else this Python running ``-m mcp_pii``. With
``uvx`` it is ``uvx mcp-pii`` (the package from PyPI, fetched by uv).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

Client = Literal["claude", "cursor", "vscode", "inspector"]
CLIENTS: tuple[Client, ...] = ("claude", "cursor", "vscode", "inspector")
WHERE = {
    "claude": "Claude Desktop: merge into claude_desktop_config.json (Settings > Developer > Edit Config)",
    "cursor": "Cursor: merge into ~/.cursor/mcp.json (or .cursor/mcp.json in a project)",
    "vscode": "VS Code: merge into .vscode/mcp.json (or the user mcp.json: 'MCP: Open User Configuration')",
    "inspector": "MCP Inspector: save as a file, then: npx @modelcontextprotocol/inspector --config FILE --server pii",
}


def server_command(uvx: bool = False) -> list[str]:
    """The command line that starts the server, its program as an absolute path."""
    if uvx:
        return [shutil.which("uvx") or "uvx", "mcp-pii"]
    script = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    if script is not None and script.name in ("mcp-pii", "mcp-pii.exe") and script.is_file():
        return [str(script)]
    beside = Path(sys.executable).with_name("mcp-pii.exe" if os.name == "nt" else "mcp-pii")
    if beside.is_file():
        return [str(beside.absolute())]
    found = shutil.which("mcp-pii")
    if found:
        return [str(Path(found).resolve())]
    return [str(Path(sys.executable).absolute()), "-m", "mcp_pii"]


def client_config(client: Client, name: str, command: Sequence[str], serve_args: Sequence[str] = ()) -> dict[str, Any]:
    """The configuration of ``client`` that starts ``command serve serve_args`` as server ``name``."""
    entry: dict[str, Any] = {"command": command[0], "args": [*command[1:], "serve", *serve_args]}
    if client == "vscode":
        return {"servers": {name: {"type": "stdio", **entry}}}
    if client == "inspector":
        return {"mcpServers": {name: {"type": "stdio", **entry}}}
    return {"mcpServers": {name: entry}}
