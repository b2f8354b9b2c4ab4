"""A real ``redis-server`` on a free loopback port, for the vault tests.

``make test`` installs the Debian package redis-server when the binary is missing (see the
Makefile); a test that needs Redis fails, never skips, when it is not there.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from mcp_pii.vault.redis_backend import PREFIX

START_TIMEOUT = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class RedisServer:
    """A redis-server process: its ``port``, ``url``, and start/stop to test outages."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or restart) the server on the same port and wait until it answers."""
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: `make test` installs it (Debian package redis-server)")
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--dir", str(self.workdir), "--protected-mode", "yes", "--loglevel", "warning"]
        self.process = subprocess.Popen(
            [binary, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (its data is lost: it keeps none on disk)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    """Start a redis-server on a free loopback port; stop it on the way out."""
    with tempfile.TemporaryDirectory(prefix="mcp-pii-redis-") as workdir:
        server = RedisServer(free_port(), Path(workdir))
        server.start()
        try:
            yield server
        finally:
            server.stop()


def vault_data(url: str) -> bytes:
    """Everything the vault wrote to the Redis at ``url``: key names, field names and values."""
    client = redis.Redis.from_url(url)
    try:
        out = []
        for key in client.scan_iter(match=PREFIX + "*"):
            out.append(key)
            for field, value in client.hgetall(key).items():
                out += [field, value]
        return b"\n".join(out)
    finally:
        client.close()
