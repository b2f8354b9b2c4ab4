"""Call the three mcp-pii tools through the MCP Python SDK's client over stdio, and print the results.

python3 examples/client_stdio.py           # spawns `python -m mcp_pii serve` (stdio)

Run from a clone after `make setup`: a Python without the `mcp` package (the system's python3)
hands over to the clone's .venv, which has it. Elsewhere, run it with the Python that has mcp-pii.
"""

import asyncio
import json
import os
import sys
from pathlib import Path

try:
    from mcp import Client, StdioServerParameters
except ImportError:
    VENV = Path(__file__).resolve().parent.parent / ".venv"
    if not (VENV / "bin" / "python").exists() or Path(sys.prefix).resolve() == VENV.resolve():
        sys.exit("client_stdio.py needs the mcp package: run `make setup` in the clone, or `pip install mcp-pii`")
    os.execv(VENV / "bin" / "python", [str(VENV / "bin" / "python"), *sys.argv])  # noqa: S606 (this script, again)

TEXT = "Ticket from Jane Roe <jane.roe@example.com>, phone (555) 123-4567, SSN 123-45-6789."
PAYLOAD = {
    "user": {"name": "Jane", "email": "jane.roe@example.com", "age": 41},
    "events": [{"note": "card 4111 1111 1111 1111 declined"}, {"raw": '{"ip": "203.0.113.7"}'}],
}


async def main() -> None:
    server = StdioServerParameters(command=sys.executable, args=["-m", "mcp_pii", "serve"])
    async with Client(server) as client:
        tools = await client.list_tools()
        print("tools:", ", ".join(t.name for t in tools.tools))

        for name, args in (
            ("detect_pii", {"text": TEXT}),
            ("mask_pii", {"text": TEXT, "strategy": "partial"}),
            ("scan_nested", {"data": PAYLOAD, "strategy": "label"}),
        ):
            result = await client.call_tool(name, args)
            if result.is_error:
                sys.exit(f"{name} failed: {result.content}")
            print(f"\n{name}:")
            print(json.dumps(result.structured_content, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
