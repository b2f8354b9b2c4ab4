"""Run ``python -m mcp_pii serve`` as a subprocess for the transport tests.

``running_server("--transport", "http")`` starts the server on 127.0.0.1 with ``--port 0``, reads
the URL it prints on stderr once it has bound its socket, waits for ``/healthz`` to answer, and
always stops the process on the way out; ``running_servers`` does the same for several servers
at once (they start in parallel, about a second in all). Everything the server writes to stderr is kept (a reader
thread drains the pipe, so a chatty server can never block on a full pipe) for the log checks.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2

PYTHON = sys.executable
# How the servers are started: ``python -m mcp_pii COMMAND ...``.
MCP_PII = ("-m", "mcp_pii")
URL_LINE = re.compile(r"^mcp-pii \S+: (?P<kind>.+) at (?P<url>http://\S+)$")
# Seconds a server may take to listen (about 2 s here; a CI run once saw more than 20 s on a busy
# host); `make coverage` raises it, since tracing slows start-up.
START_TIMEOUT = float(os.environ.get("MCP_PII_TEST_START_TIMEOUT", "60"))
# The first message of a session, for raw HTTP and stdio exchanges.
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}},
}


def server_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without any ``MCP_PII_*`` setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCP_PII_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


@dataclass
class RunningServer:
    """A server subprocess: its MCP endpoint ``url``, ``base`` URL, and what it wrote to stderr."""

    process: subprocess.Popen[str]
    url: str = ""
    kind: str = ""
    _lines: list[str] = field(default_factory=list)
    _seen: queue.Queue[str | None] = field(default_factory=queue.Queue)
    _reader: threading.Thread | None = None

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT``, without the MCP path."""
        return self.url.rsplit("/", 1)[0]

    @property
    def stderr(self) -> str:
        """Everything the server has written to stderr so far."""
        return "".join(self._lines)

    def wait_for(self, text: str, timeout: float = 30.0) -> bool:
        """Wait until ``text`` appears in the server's stderr; False if it has not within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while text not in self.stderr:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def _drain(self) -> None:
        for line in self.process.stderr:  # type: ignore[union-attr]
            self._lines.append(line)
            self._seen.put(line)
        self._seen.put(None)

    def _wait_ready(self, deadline: float) -> None:
        while not self.url:
            try:
                line = self._seen.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                raise RuntimeError(f"mcp-pii did not print its URL; exit code {self.process.poll()}:\n{self.stderr}")
            if match := URL_LINE.match(line.strip()):
                self.url, self.kind = match["url"], match["kind"]
        # The URL is printed once the socket listens (tests/test_operate.py connects on the line alone).
        while True:
            try:
                if httpx2.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mcp-pii /healthz never answered:\n{self.stderr}")
            time.sleep(0.05)


def _start(
    args: Sequence[str], env: Mapping[str, str] | None, command: str = "serve", launcher: Sequence[str] = MCP_PII
) -> RunningServer:
    cmd = [PYTHON, *launcher, command, "--host", "127.0.0.1", "--port", "0", *args]
    process = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=server_env(env),
    )
    server = RunningServer(process)
    server._reader = threading.Thread(target=server._drain, daemon=True)
    server._reader.start()
    return server


def _stop(servers: Sequence[RunningServer]) -> None:
    for server in servers:
        if server.process.poll() is None:
            server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=5)
        if server._reader is not None:
            server._reader.join(timeout=5)


@contextmanager
def running_servers(
    *specs: tuple[Sequence[str], Mapping[str, str] | None], command: str = "serve", launcher: Sequence[str] = MCP_PII
) -> Iterator[list[RunningServer]]:
    """Start several servers at once (``(args, env)`` each); yield them once all answer; stop them all.

    ``command`` is the mcp-pii subcommand: ``serve``, ``plugin`` or ``proxy``; ``launcher`` what
    runs it (default ``-m mcp_pii``; a test script that wraps ``mcp_pii.cli.main``, e.g. ``held_engine.py``).
    """
    servers: list[RunningServer] = []
    try:
        for args, env in specs:
            servers.append(_start(args, env, command, launcher))
        deadline = time.monotonic() + START_TIMEOUT
        for server in servers:
            server._wait_ready(deadline)
        yield servers
    finally:
        _stop(servers)


@contextmanager
def running_server(*args: str, env: Mapping[str, str] | None = None, command: str = "serve") -> Iterator[RunningServer]:
    """Start ``mcp-pii COMMAND --host 127.0.0.1 --port 0 ARGS...``; yield it once /healthz answers; stop it."""
    with running_servers((args, env), command=command) as (server,):
        yield server


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Wait until ``url`` answers (any status), or fail if ``process`` exits first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx2.get(url, timeout=2)
            return
        except httpx2.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{url} never answered (exit code {process.poll()})")
        time.sleep(0.1)


def stop(process: subprocess.Popen[Any]) -> None:
    """Stop a process we started, by its PID: terminate, then kill after 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def running(cmd: list[str], ready_url: str | None = None, **kwargs: Any) -> Iterator[subprocess.Popen[bytes]]:
    """Start a helper process (an upstream, a plugin server); wait for ``ready_url``; stop it afterwards."""
    process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, **kwargs)
    try:
        if ready_url:
            wait_http(ready_url, process)
        yield process
    finally:
        stop(process)


# PII-laden input shared by the server tests: every value is detected by the default config.
PII = {
    "email": "jane.doe@example.com",
    "phone": "(555) 123-4567",
    "ssn": "123-45-6789",
    "credit_card": "4111 1111 1111 1111",
    "iban": "GB82 WEST 1234 5698 7654 32",
    "date_of_birth": "1985-03-14",
    "medical_record": "00482913",
    "ip_address": "203.0.113.42",
    "aws_access_key": "AKIAIOSFODNN7EXAMPLE",
    "github_token": "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
    "stripe_key": "sk_live_51Hx9QvLkTq3Zr8Wm2Yp7Nc",
}
PII_TEXT = (
    f"Customer Zoë Müller <{PII['email']}>, phone {PII['phone']}, SSN {PII['ssn']}, card {PII['credit_card']}, "
    f"IBAN {PII['iban']}, DOB: {PII['date_of_birth']}, MRN: {PII['medical_record']}, ip {PII['ip_address']}, "
    f"AWS {PII['aws_access_key']}, github {PII['github_token']}, api_key={PII['stripe_key']}"
)
# A JSON payload as a gateway would route it: PII in nested strings and in a string holding JSON.
PII_PAYLOAD = {
    "user": {"name": "Zoë", "contact": [PII["email"], {"phone": PII["phone"]}], "age": 41, "vip": True, "x": None},
    "body": '{"ssn": "' + PII["ssn"] + '", "card": "' + PII["credit_card"] + '"}',
    "keys": [PII["aws_access_key"]],
}


class Collect(logging.Handler):
    """Keep every record, formatted with its exception text and stack."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
