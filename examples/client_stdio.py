"""Call the three mcp-pii tools through the MCP Python SDK's client over stdio, and print the results.

python examples/client_stdio.py            # spawns `python -m mcp_pii serve` (stdio)
"""

import asyncio
import json
import sys

from mcp import Client, StdioServerParameters

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
            status = "error" if result.is_error else "ok"
            print(f"\n{name} ({status}):")
            print(json.dumps(result.structured_content, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
