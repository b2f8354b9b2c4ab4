"""Fault figures: what a hostile or careless crowd of clients does to one server, and how it stops.

    python bench/faults.py                    # every probe, default sizes (about two minutes)
    python bench/faults.py --probes burst,healthz --big-mb 9 --burst 16

Each probe starts its own ``python -m mcp_pii serve`` on a free 127.0.0.1 port (or over stdio),
drives it with raw HTTP (httpx2) so the client side stays cheap, reads the server's resident set
from ``/proc/<pid>/status`` and stops the server by its pid. The server runs with a soft limit of
1,024 file descriptors, the common default, so the idle-socket flood means what it means on a
stock host.

Probes:

- ``burst``: N concurrent ``mask_pii`` calls of B MB each (16 x 9 MB by default), one session
  each; peak RSS (sampled every 20 ms and ``VmHWM``), answers by status (200 with the right
  result, 503 with ``Retry-After``, anything else), wall time;
- ``retain``: RSS of an idle server, then after one B MB ``mask_pii`` and one B MB
  ``scan_nested`` in a session that stays open (what a finished call leaves behind);
- ``healthz``: ``/healthz`` polled every 10 ms during one B MB call; worst and median latency;
- ``idle``: 1,100 sockets that connect and never send a byte, then a token holder's
  ``initialize`` + ``tools/call``; whether and how fast it is served, and how many log lines
  the server wrote meanwhile;
- ``sessions``: S ``initialize`` calls that are never closed, then a new client's session;
- ``shutdown``: SIGTERM and SIGINT during K concurrent B MB calls over HTTP (time to exit,
  what each client got) and over stdio with stdin left open (time to exit).

Planted values (a tool name, a session id, a header, an argument) are sent along the way at
``--log-level DEBUG`` and every server log line is searched for them; a hit is reported.
Writes ``bench/results/faults.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PROBES = ("burst", "retain", "healthz", "idle", "sessions", "shutdown")
TOKEN = "bench-token-5b1f"
PLANTED = "PLANTED-7d41c9"  # sent in tool names, headers and arguments; must never reach a log
FD_LIMIT = 1024
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "faults", "version": "1"}},
}
HEADERS = {
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
    "authorization": f"Bearer {TOKEN}",
}


def big_text(mb: float) -> str:
    """About ``mb`` MB of PII-dense log prose: three detections every ~90 bytes."""
    line = "order {i:08d}: mail jane.doe{j}@example.com, call (555) 123-4567, card 4111 1111 1111 1111.\n"
    out, size, i = [], 0, 0
    while size < mb * 1_000_000:
        s = line.format(i=i, j=i % 1000)
        out.append(s)
        size += len(s)
        i += 1
    return "".join(out)


def rss_mib(pid: int, key: str = "VmRSS") -> float:
    """A memory figure of a process (``VmRSS``, ``VmHWM``), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _limit_fds() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


@dataclass
class Server:
    """A server subprocess with its base URL and a log file of everything it wrote."""

    proc: subprocess.Popen[bytes]
    base: str
    log: Path

    @property
    def mcp(self) -> str:
        return self.base + "/mcp"

    def lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCP_PII_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env["MCP_PII_AUTH_TOKEN"] = TOKEN
    return env


@contextmanager
def http_server(*args: str, log_dir: Path) -> Iterator[Server]:
    """``mcp-pii serve --transport http --port 0 ARGS`` with 1,024 fds and DEBUG logs; stopped by pid."""
    log = Path(tempfile.mkstemp(prefix="faults-", suffix=".log", dir=log_dir)[1])
    cmd = [sys.executable, "-m", "mcp_pii", "serve", "--transport", "http", "--port", "0", "--log-level", "DEBUG"]
    with open(log, "wb") as out:
        # preexec_fn: servers are started before any sampler thread of ours runs.
        proc = subprocess.Popen([*cmd, *args], env=_env(), stdout=out, stderr=out, preexec_fn=_limit_fds)  # noqa: PLW1509
    try:
        deadline = time.monotonic() + 30
        base = ""
        while not base:
            for line in log.read_text(errors="replace").splitlines():
                if " at http://" in line:
                    base = line.split(" at ", 1)[1].rsplit("/", 1)[0]
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.05)
        while True:
            with suppress(httpx2.TransportError):
                if httpx2.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            time.sleep(0.05)
        yield Server(proc, base, log)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _data(response: httpx2.Response) -> dict[str, Any]:
    """The JSON-RPC message of an answer, JSON or a one-event SSE stream."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        for line in response.text.splitlines():
            if line.startswith("data: ") and line[6:].strip():
                return json.loads(line[6:])
        return {}
    return response.json() if response.content else {}


async def open_session(http: httpx2.AsyncClient, url: str, extra: dict[str, str] | None = None) -> str:
    """initialize + notifications/initialized; the session id."""
    r = await http.post(url, json=INIT, headers=HEADERS | (extra or {}))
    r.raise_for_status()
    sid = r.headers["mcp-session-id"]
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    await http.post(url, json=note, headers=HEADERS | {"mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"})
    return sid


async def call(
    http: httpx2.AsyncClient, url: str, sid: str, tool: str, arguments: dict[str, Any], *, rid: int = 2
) -> tuple[int, dict[str, Any], httpx2.Response]:
    """One tools/call in a session: (HTTP status, JSON-RPC message, response)."""
    body = {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
    headers = HEADERS | {"mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"}
    r = await http.post(url, content=json.dumps(body), headers=headers)
    return r.status_code, (_data(r) if r.status_code == 200 else {}), r


class Sampler:
    """Samples a process's RSS every ``every`` seconds in a thread; ``peak`` is the highest seen."""

    def __init__(self, pid: int, every: float = 0.02) -> None:
        self.pid, self.every, self.peak = pid, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with suppress(OSError):
                self.peak = max(self.peak, rss_mib(self.pid))
            self._stop.wait(self.every)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Figures:
    """Everything measured, by probe."""

    probes: dict[str, dict[str, Any]] = field(default_factory=dict)
    leaks: list[str] = field(default_factory=list)


def _limits() -> httpx2.Limits:
    return httpx2.Limits(max_connections=200, max_keepalive_connections=50)


async def probe_burst(server: Server, text: str, n: int, expected: str) -> dict[str, Any]:
    url = server.mcp
    statuses: dict[str, int] = {}
    retry_after: set[str] = set()
    async with httpx2.AsyncClient(timeout=600, limits=_limits()) as http:
        sids = [await open_session(http, url) for _ in range(n)]
        base_rss = rss_mib(server.proc.pid)

        async def one(sid: str) -> None:
            status, msg, r = await call(http, url, sid, "mask_pii", {"text": text})
            if status == 200:
                ok = msg.get("result", {}).get("structuredContent", {}).get("text") == expected
                key = "200 right" if ok else "200 wrong or error"
            else:
                key = str(status)
                if "retry-after" in r.headers:
                    retry_after.add(r.headers["retry-after"])
            statuses[key] = statuses.get(key, 0) + 1

        start = time.perf_counter()
        with Sampler(server.proc.pid) as sampler:
            await asyncio.gather(*(one(s) for s in sids))
        wall = time.perf_counter() - start
    return {
        "calls": n,
        "mb_each": round(len(text) / 1e6, 1),
        "answers": statuses,
        "retry_after": sorted(retry_after),
        "wall_s": round(wall, 2),
        "rss_before_mib": round(base_rss, 1),
        "rss_peak_mib": round(max(sampler.peak, rss_mib(server.proc.pid, "VmHWM")), 1),
    }


async def probe_retain(server: Server, text: str) -> dict[str, Any]:
    url = server.mcp
    out: dict[str, Any] = {}
    payload = {"records": [{"note": line} for line in text.splitlines()[: len(text) // 400]]}
    async with httpx2.AsyncClient(timeout=600) as http:
        sid = await open_session(http, url)
        await asyncio.sleep(0.5)
        out["rss_idle_mib"] = round(rss_mib(server.proc.pid), 1)
        status, _, _ = await call(http, url, sid, "mask_pii", {"text": text})
        await asyncio.sleep(1.0)
        out["mask_status"] = status
        out["rss_after_mask_mib"] = round(rss_mib(server.proc.pid), 1)
        status, _, _ = await call(http, url, sid, "scan_nested", {"data": payload}, rid=3)
        await asyncio.sleep(1.0)
        out["scan_status"] = status
        out["scan_records"] = len(payload["records"])
        out["rss_after_scan_mib"] = round(rss_mib(server.proc.pid), 1)
        await http.delete(url, headers=HEADERS | {"mcp-session-id": sid})
        await asyncio.sleep(1.0)
        out["rss_after_delete_mib"] = round(rss_mib(server.proc.pid), 1)
    out["held_by_open_session_mib"] = round(out["rss_after_scan_mib"] - out["rss_after_delete_mib"], 1)
    return out


async def probe_healthz(server: Server, text: str) -> dict[str, Any]:
    url = server.mcp
    latencies: list[float] = []
    async with httpx2.AsyncClient(timeout=600) as http, httpx2.AsyncClient(timeout=60) as probe:
        sid = await open_session(http, url)
        task = asyncio.create_task(call(http, url, sid, "mask_pii", {"text": text}))
        await asyncio.sleep(0.05)
        while not task.done():
            t = time.perf_counter()
            await probe.get(server.base + "/healthz")
            latencies.append(time.perf_counter() - t)
            await asyncio.sleep(0.01)
        status = (await task)[0]
    latencies.sort()
    return {
        "call_status": status,
        "polls": len(latencies),
        "healthz_max_ms": round(latencies[-1] * 1e3, 1) if latencies else None,
        "healthz_p50_ms": round(latencies[len(latencies) // 2] * 1e3, 1) if latencies else None,
    }


async def probe_idle(server: Server, sockets: int) -> dict[str, Any]:
    held: list[socket.socket] = []
    lines_before = len(server.lines())
    port = int(server.base.rsplit(":", 1)[1])
    for _ in range(sockets):
        s = socket.socket()
        s.setblocking(False)
        with suppress(BlockingIOError, OSError):
            s.connect(("127.0.0.1", port))
        held.append(s)
    await asyncio.sleep(1.0)
    out: dict[str, Any] = {"idle_sockets": sockets}
    t = time.perf_counter()
    try:
        async with httpx2.AsyncClient(timeout=30) as http:
            sid = await open_session(http, server.mcp)
            status, msg, _ = await call(http, server.mcp, sid, "mask_pii", {"text": "mail jane@example.com"})
            out["token_holder"] = f"{status}, {'served' if msg.get('result') else 'not served'}"
    except (httpx2.HTTPError, KeyError) as exc:
        out["token_holder"] = f"failed: {type(exc).__name__}"
    out["token_holder_s"] = round(time.perf_counter() - t, 2)
    await asyncio.sleep(2.0)
    out["log_lines_during_flood"] = len(server.lines()) - lines_before
    closed = 0
    for s in held:
        with suppress(OSError):
            s.setblocking(True)
            s.settimeout(0.01)
            try:
                if s.recv(1) == b"":
                    closed += 1
            except TimeoutError:
                pass
            except OSError:
                closed += 1
        s.close()
    out["closed_by_server"] = closed
    return out


async def probe_sessions(server: Server, count: int) -> dict[str, Any]:
    url = server.mcp
    start = time.perf_counter()
    refused = 0
    async with httpx2.AsyncClient(timeout=60, limits=_limits()) as http:
        sem = asyncio.Semaphore(32)

        async def one() -> None:
            nonlocal refused
            async with sem:
                r = await http.post(url, json=INIT, headers=HEADERS)
                refused += r.status_code != 200

        await asyncio.gather(*(one() for _ in range(count)))
        flood_s = time.perf_counter() - start
        t = time.perf_counter()
        try:
            sid = await open_session(http, url)
            status, msg, _ = await call(http, url, sid, "mask_pii", {"text": "mail jane@example.com"})
            newcomer = f"{status}, {'served' if msg.get('result') else 'not served'}"
        except (httpx2.HTTPError, KeyError) as exc:
            newcomer = f"failed: {type(exc).__name__}"
    return {
        "initialize_calls": count,
        "flood_s": round(flood_s, 1),
        "refused_during_flood": refused,
        "new_client": newcomer,
        "new_client_s": round(time.perf_counter() - t, 2),
        "rss_after_mib": round(rss_mib(server.proc.pid), 1),
    }


async def probe_shutdown_http(server: Server, text: str, k: int, sig: int) -> dict[str, Any]:
    url = server.mcp
    got: dict[str, int] = {}
    async with httpx2.AsyncClient(timeout=120, limits=_limits()) as http:
        sids = [await open_session(http, url) for _ in range(k)]

        async def one(sid: str) -> None:
            try:
                status, msg, _ = await call(http, url, sid, "mask_pii", {"text": text})
                key = f"{status} {'result' if msg.get('result') else 'error' if msg.get('error') else 'nothing'}"
            except httpx2.HTTPError as exc:
                key = type(exc).__name__
            got[key] = got.get(key, 0) + 1

        tasks = [asyncio.create_task(one(s)) for s in sids]
        await asyncio.sleep(1.0)
        t = time.perf_counter()
        server.proc.send_signal(sig)
        while server.proc.poll() is None and time.perf_counter() - t < 120:
            await asyncio.sleep(0.02)
        exit_s = time.perf_counter() - t
        await asyncio.gather(*tasks)
    return {"calls": k, "exit_s": round(exit_s, 2), "exit_code": server.proc.returncode, "clients_got": got}


def probe_shutdown_stdio(sig: int) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "mcp_pii", "serve", "--log-level", "DEBUG"]
    proc = subprocess.Popen(cmd, env=_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.write((json.dumps(INIT) + "\n").encode())
        proc.stdin.flush()
        proc.stdout.readline()
        t = time.perf_counter()
        proc.send_signal(sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            return {"exit_s": "> 15 (stdin open)", "exit_code": None}
        return {"exit_s": round(time.perf_counter() - t, 2), "exit_code": proc.returncode}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def planted_checks(server: Server) -> list[str]:
    """Send the planted value where a client can put it; return the server log lines that show it."""
    with httpx2.Client(timeout=30) as http:
        url = server.mcp
        sid = ""
        for attempt in range(3):
            with suppress(httpx2.HTTPError, KeyError):
                r = http.post(url, json=INIT, headers=HEADERS)
                sid = r.headers["mcp-session-id"]
                break
            time.sleep(0.2 * attempt)
        h = HEADERS | {"mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"}
        bodies: list[Any] = [
            {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": PLANTED, "arguments": {}}},
            {"jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": {"name": f"x\n{PLANTED}", "arguments": {}}},
            {"jsonrpc": "2.0", "id": 7, "method": PLANTED, "params": {}},
            {"jsonrpc": "2.0", "id": 8, "method": "resources/read", "params": {"uri": f"file:///{PLANTED}"}},
            {"jsonrpc": "2.0", "id": 9, "method": "prompts/get", "params": {"name": PLANTED}},
            {
                "jsonrpc": "2.0",
                "id": 10,
                "method": "tools/call",
                "params": {"name": "mask_pii", "arguments": {"text": [PLANTED]}},
            },
            {"jsonrpc": "2.0", "id": {"x": PLANTED}, "method": "tools/call", "params": {}},
        ]
        for body in bodies:
            with suppress(httpx2.HTTPError):
                http.post(url, content=json.dumps(body), headers=h)
        for extra in ({"mcp-session-id": PLANTED}, {"host": PLANTED}, {"origin": f"http://{PLANTED}"}):
            with suppress(httpx2.HTTPError):
                http.post(url, json=INIT, headers=HEADERS | extra)
            with suppress(httpx2.HTTPError):
                http.get(url, headers=HEADERS | extra)
    time.sleep(0.5)
    return [line for line in server.lines() if PLANTED in line]


def table(fig: Figures) -> str:
    rows = ["| probe | figures |", "|---|---|"]
    for name, values in fig.probes.items():
        rows.append(f"| {name} | " + ", ".join(f"{k}: {v}" for k, v in values.items()) + " |")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--probes", default=",".join(PROBES), help=f"comma-separated, of {', '.join(PROBES)}")
    parser.add_argument("--big-mb", type=float, default=9.0, help="size of a big call in MB (default 9)")
    parser.add_argument("--burst", type=int, default=16, help="concurrent big calls in the burst (default 16)")
    parser.add_argument("--sessions", type=int, default=3000, help="initialize calls in the session flood")
    parser.add_argument("--idle-sockets", type=int, default=1100, help="idle sockets in the flood (default 1100)")
    parser.add_argument("--shutdown-calls", type=int, default=8, help="big calls in flight at SIGTERM (default 8)")
    parser.add_argument("--serve-args", default="", help="extra arguments for mcp-pii serve")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "faults.json")
    args = parser.parse_args(argv)
    probes = [p.strip() for p in args.probes.split(",") if p.strip()]
    if unknown := [p for p in probes if p not in PROBES]:
        parser.error(f"unknown probe {unknown[0]!r}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    serve = args.serve_args.split()
    text = big_text(args.big_mb)
    sys.path[:0] = [str(REPO)]
    from mcp_pii import Engine

    expected = Engine().mask(text).text
    fig = Figures()
    log_dir = Path(tempfile.mkdtemp(prefix="mcp-pii-faults-"))

    def run(name: str, coro_fn: Any, *extra: str) -> None:
        print(f"{name}: ...", flush=True)
        with http_server(*serve, *extra, log_dir=log_dir) as server:
            fig.probes[name] = asyncio.run(coro_fn(server))
            if name in ("idle", "sessions"):
                fig.leaks += planted_checks(server)
            fig.leaks += [line for line in server.lines() if PLANTED in line]
        print(f"{name}: {fig.probes[name]}", flush=True)

    if "burst" in probes:
        run("burst", lambda s: probe_burst(s, text, args.burst, expected))
    if "retain" in probes:
        run("retain", lambda s: probe_retain(s, text))
    if "healthz" in probes:
        run("healthz", lambda s: probe_healthz(s, text))
    if "idle" in probes:
        run("idle", lambda s: probe_idle(s, args.idle_sockets))
    if "sessions" in probes:
        run("sessions", lambda s: probe_sessions(s, args.sessions))
    if "shutdown" in probes:
        for sig in (signal.SIGTERM, signal.SIGINT):
            name = f"shutdown http {sig.name}"
            run(name, lambda s, sig=sig: probe_shutdown_http(s, text, args.shutdown_calls, sig))
            fig.probes[f"shutdown stdio {sig.name}"] = probe_shutdown_stdio(sig)
            print(f"shutdown stdio {sig.name}: {fig.probes[f'shutdown stdio {sig.name}']}", flush=True)
    fig.leaks = sorted(set(fig.leaks))
    print()
    print(table(fig))
    print(f"planted values in logs: {len(fig.leaks)} lines")
    for line in fig.leaks[:10]:
        print(f"  {line[:200]}")
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "settings": vars(args) | {"out": str(args.out)},
        "probes": fig.probes,
        "planted_in_logs": fig.leaks,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out} (server logs in {log_dir})")
    return 1 if fig.leaks else 0


if __name__ == "__main__":
    sys.exit(main())
