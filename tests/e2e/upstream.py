"""A small MCP server whose tools, prompts and resources hand out PII: the upstream of the traffic-path tests.

Run it as ``python tests/e2e/upstream.py`` (stdio) or ``python tests/e2e/upstream.py --port N``
(Streamable HTTP at /mcp and SSE at /sse on 127.0.0.1). Its values are fixtures, not real people.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field

CONTACT = "Call Ana at ana.silva@example.com or +1 415-555-0132."
# One value of each type the gateway's built-in filter knows, plus an IBAN and a secret: the label
# before it (kept) and the value (masked).
VALUES = {
    "email": ("mail", "bob@example.com"),
    "ssn": ("SSN", "078-05-1120"),
    "credit_card": ("card", "4111 1111 1111 1111"),
    "phone": ("phone", "+1 415-555-0132"),
    "ip_address": ("ip", "192.168.10.24"),
    "date_of_birth": ("DOB:", "1984-07-03"),
    "passport": ("Passport No:", "X12345678"),
    "driver_license": ("DL#", "D1234567"),
    "bank_account": ("Account:", "12345678901"),
    "medical_record": ("MRN:", "44812345"),
    "iban": ("IBAN", "DE89 3704 0044 0532 0130 00"),
    "aws_access_key": ("key", "AKIAIOSFODNN7EXAMPLE"),
}
EVERY_TYPE = ", ".join(f"{label} {value}" for label, value in VALUES.values())


class Person(BaseModel):
    """A structured tool result."""

    name: str
    email: str
    phone: str
    note: str = Field(description="Free text.")


def build() -> MCPServer:
    """The upstream server."""
    mcp = MCPServer(
        "pii-upstream", instructions="Fixture server for mcp-pii's traffic-path tests.", log_level="WARNING"
    )

    @mcp.tool(description="Echo the text back.")
    def echo(text: Annotated[str, Field(description="Any text.")]) -> str:
        return text

    @mcp.tool(description="What arrived: the text's length and whether it holds an '@' (not the text itself).")
    def inspect_args(text: Annotated[str, Field(description="Any text.")]) -> dict[str, int | bool]:
        return {"length": len(text), "has_at": "@" in text, "has_digits": any(c.isdigit() for c in text)}

    @mcp.tool(description="A person record (structured output).")
    def lookup_person(name: Annotated[str, Field(description="Who.")] = "Ana") -> Person:
        return Person(
            name=name, email="ana.silva@example.com", phone="+1 415-555-0132", note=f"SSN 078-05-1120 of {name}"
        )

    @mcp.tool(description="A JSON document as text, holding PII of every type.")
    def export_json() -> str:
        return json.dumps({"customer": {"contact": EVERY_TYPE, "id": 1042}})

    @mcp.tool(description="Plain text holding PII of every type.")
    def every_type() -> str:
        return EVERY_TYPE

    @mcp.prompt(description="A letter to a person.")
    def contact_prompt(person: str) -> str:
        return f"Write to {person} at bob@example.com, SSN 078-05-1120."

    @mcp.resource("note://contact", description="A contact note.", mime_type="text/plain")
    def contact_note() -> str:
        return CONTACT

    @mcp.resource("note://people/{name}", description="A note about someone.", mime_type="text/plain")
    def person_note(name: str) -> str:
        return f"{name} can be reached at {name.lower()}@example.org."

    return mcp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, help="serve HTTP on 127.0.0.1 at this port (default: stdio)")
    parser.add_argument("--transport", choices=("http", "sse"), default="http", help="HTTP flavour: /mcp or /sse")
    args = parser.parse_args()
    mcp = build()
    if args.port is None:
        mcp.run("stdio")
        return
    import uvicorn

    app = mcp.sse_app(host="127.0.0.1") if args.transport == "sse" else mcp.streamable_http_app(host="127.0.0.1")
    print(f"upstream listening on 127.0.0.1:{args.port}", file=sys.stderr, flush=True)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
