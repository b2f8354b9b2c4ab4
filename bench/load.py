"""Load test: K concurrent MCP clients against one server per transport, for T seconds each.

    python bench/load.py                          # 8 clients, 20 s per mode, every mode
    python bench/load.py --clients 16 --seconds 60 --modes http-stateless,stdio

Modes: ``http-stateless`` and ``http-stateful`` (Streamable HTTP; the server listens on a free
127.0.0.1 port) and ``stdio`` (one server subprocess; the K clients are K concurrent callers
sharing its one session, since a stdio server has exactly one peer). Each server is the command
users run, ``python -m mcp_pii serve``, and is stopped after its mode.

Every client calls in a loop, drawing from a fixed mix: tiny texts, 1 KB, 10 KB and 100 KB of
PII-dense prose (``mask_pii``, ``detect_pii``) and a 10 KB nested JSON payload (``scan_nested``),
from ``bench/inputs.py``. Every answer is checked against the in-process engine; an is_error
result, an exception or a wrong answer is an error. After a warm-up the server's resident set
(``VmRSS`` in ``/proc/<pid>/status``) is read, and again at the end; growth beyond the tolerance
is flagged. The server's CPU use (user + system time over the measured seconds; 100% is one
core) shows whether it or the clients are the bottleneck. Prints a Markdown table and writes
``bench/results/load.json``; exits 1 if any call failed (and, with ``--fail-on-growth``, if the
RSS grew beyond the tolerance).

The clients run in this process (asyncio), on the same machine: on 2 cores they compete with
the server for CPU, and the SDK client's own work (it checks every structured result against the
tool's output schema) is part of every latency measured here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(BENCH), str(REPO)]

import httpx2  # noqa: E402
import inputs  # noqa: E402
from mcp import Client, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402
from mcp_latency import percentile, server_env, stop  # noqa: E402

from mcp_pii import Engine, __version__  # noqa: E402

MODES = ("http-stateless", "http-stateful", "stdio")
START_TIMEOUT = 60.0
CALL_TIMEOUT = 60.0


@dataclass(frozen=True)
class Call:
    """One kind of call in the mix, with the answer it must get."""

    name: str
    weight: int
    tool: str
    arguments: dict[str, Any]
    check: Callable[[dict[str, Any]], bool]


def make_mix() -> list[Call]:
    """The call mix: mostly small texts, some large ones, some nested payloads."""
    engine = Engine()
    tiny = "Ping from jane.doe@example.com, call +1 415 555 0134."
    tiny_out = engine.mask(tiny).text
    mix = [Call("tiny", 40, "mask_pii", {"text": tiny}, lambda r: r["text"] == tiny_out)]
    for size, weight in (("1KB", 25), ("10KB", 12), ("100KB", 3)):
        text = inputs.pii_prose(size).text
        masked = engine.mask(text).text
        found = len(engine.detect(text))
        mix.append(Call(f"mask {size}", weight, "mask_pii", {"text": text}, lambda r, m=masked: r["text"] == m))
        if size == "10KB":
            mix.append(
                Call(f"detect {size}", 5, "detect_pii", {"text": text}, lambda r, n=found: len(r["detections"]) == n)
            )
    nested = inputs.nested_payload("10KB").data
    nested_out = engine.scan(nested).data
    mix.append(Call("scan 10KB", 15, "scan_nested", {"data": nested}, lambda r: r["data"] == nested_out))
    return mix


@dataclass
class Result:
    """What one mode measured."""

    mode: str
    clients: int
    seconds: float
    calls: int = 0
    errors: int = 0
    calls_per_s: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    rss_start_mb: float = 0.0
    rss_end_mb: float = 0.0
    rss_peak_mb: float = 0.0
    rss_growth_pct: float = 0.0
    rss_flag: bool = False
    server_cpu_pct: float = 0.0
    by_call: dict[str, dict[str, float]] = field(default_factory=dict)
    first_errors: list[str] = field(default_factory=list)


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    """A memory figure of a process from /proc/<pid>/status, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {key} for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_child() -> int:
    """The pid of the stdio server: our child process running ``mcp_pii serve``."""
    me = str(os.getpid())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = stat.rsplit(")", 1)[1].split()[1]
        if ppid == me and b"mcp_pii" in cmdline and b"serve" in cmdline:
            return int(entry.name)
    raise RuntimeError("the stdio server process was not found")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def http_server(stateless: bool, log: Any) -> AsyncIterator[tuple[str, int]]:
    """A Streamable HTTP server on a free 127.0.0.1 port: (MCP URL, pid); stopped on exit."""
    port = free_port()
    cmd = [sys.executable, "-m", "mcp_pii", "serve", "--transport", "http", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), *(["--stateless"] if stateless else [])]
    proc = subprocess.Popen(cmd, env=os.environ | server_env(), cwd=REPO, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        async with httpx2.AsyncClient() as http:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"the HTTP server exited with status {proc.returncode}")
                try:
                    if (await http.get(base + "/healthz", timeout=2)).status_code == 200:
                        break
                except httpx2.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the HTTP server did not answer on port {port}")
                await asyncio.sleep(0.1)
        yield base + "/mcp", proc.pid
    finally:
        stop(proc)


async def run_mode(mode: str, mix: list[Call], *, clients: int, seconds: float, warmup: float, log: Any) -> Result:
    """Drive one server with ``clients`` concurrent callers; measure calls, latency and RSS."""
    result = Result(mode, clients, seconds)
    samples: dict[str, list[float]] = {c.name: [] for c in mix}
    weights = [c.weight for c in mix]
    phase = {"measure": False, "stop": False}

    async def worker(client: Client, seed: int) -> None:
        rng = random.Random(seed)
        while not phase["stop"]:
            call = rng.choices(mix, weights)[0]
            t = time.perf_counter()
            error = ""
            try:
                async with asyncio.timeout(CALL_TIMEOUT):
                    r = await client.call_tool(call.tool, call.arguments)
                if r.is_error:
                    error = f"{call.name}: tool error: {getattr(r.content[0], 'text', '')[:200]}"
                elif r.structured_content is None or not call.check(r.structured_content):
                    error = f"{call.name}: wrong answer"
            except Exception as exc:  # every failure is counted and reported
                error = f"{call.name}: {type(exc).__name__}: {str(exc)[:200]}"
            dt = time.perf_counter() - t
            if phase["measure"]:
                samples[call.name].append(dt)
                if error:
                    result.errors += 1
                    if len(result.first_errors) < 5:
                        result.first_errors.append(error)
            elif error:
                raise RuntimeError(f"warm-up call failed: {error}")

    async def drive(connections: list[Client], pid: int) -> None:
        tasks = [asyncio.create_task(worker(connections[i % len(connections)], i)) for i in range(clients)]
        try:
            await asyncio.sleep(warmup)
            phase["measure"] = True
            result.rss_start_mb = rss_mb(pid)
            cpu_start = cpu_seconds(pid)
            start = time.perf_counter()
            await asyncio.sleep(seconds)
            phase["stop"] = True
            await asyncio.gather(*tasks)
            elapsed = time.perf_counter() - start
            cpu = cpu_seconds(pid) - cpu_start
        finally:
            phase["stop"] = True
            for task in tasks:
                task.cancel()
        result.rss_end_mb = rss_mb(pid)
        result.rss_peak_mb = rss_mb(pid, "VmHWM")
        result.seconds = round(elapsed, 2)
        result.server_cpu_pct = round(cpu / elapsed * 100, 1)

    if mode == "stdio":
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "mcp_pii", "serve"], env=server_env(), cwd=str(REPO)
        )
        async with Client(stdio_client(params, errlog=log), cache=None) as client:
            await drive([client], server_child())
    else:
        async with http_server(stateless=mode == "http-stateless", log=log) as (url, pid):
            connections = [Client(url, cache=None) for _ in range(clients)]
            entered = []
            try:
                for c in connections:
                    entered.append(await c.__aenter__())
                await drive(entered, pid)
            finally:
                for c in reversed(entered):
                    await c.__aexit__(None, None, None)

    everything = sorted(x for xs in samples.values() for x in xs)
    result.calls = len(everything)
    result.calls_per_s = round(result.calls / result.seconds, 1) if result.seconds else 0.0
    if everything:
        result.p50_ms = round(percentile(everything, 50) * 1e3, 2)
        result.p99_ms = round(percentile(everything, 99) * 1e3, 2)
    for name, xs in samples.items():
        xs.sort()
        if xs:
            result.by_call[name] = {
                "calls": len(xs),
                "p50_ms": round(percentile(xs, 50) * 1e3, 2),
                "p99_ms": round(percentile(xs, 99) * 1e3, 2),
            }
    return result


def table(results: list[Result], tolerance: float) -> str:
    head = (
        "| mode | clients | s | calls | calls/s | p50 ms | p99 ms | errors | server CPU | RSS start MiB | RSS end MiB "
        "| growth |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    rows = []
    for r in results:
        flag = f" ⚠ over {tolerance:.0%}" if r.rss_flag else ""
        rows.append(
            f"| {r.mode} | {r.clients} | {r.seconds:.0f} | {r.calls} | {r.calls_per_s:.1f} | {r.p50_ms:.1f} | "
            f"{r.p99_ms:.1f} | {r.errors} | {r.server_cpu_pct:.0f}% | {r.rss_start_mb:.1f} | {r.rss_end_mb:.1f} | "
            f"{r.rss_growth_pct:+.1f}%{flag} |"
        )
    return head + "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients per mode (default 8)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per mode (default 20)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring (default 3)")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    parser.add_argument(
        "--rss-tolerance", type=float, default=0.25, help="flag RSS growth above this fraction (default 0.25)"
    )
    parser.add_argument("--fail-on-growth", action="store_true", help="exit 1 when the RSS grew beyond tolerance")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "load.json", help="JSON report path")
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown or args.clients < 1 or args.seconds <= 0:
        parser.error(f"unknown mode {unknown[0]!r}" if unknown else "--clients and --seconds must be positive")

    mix = make_mix()
    print(f"mcp-pii {__version__} load: {args.clients} clients x {args.seconds:.0f} s per mode; mix:", flush=True)
    for call in mix:
        size = len(json.dumps(call.arguments, ensure_ascii=False).encode())
        print(f"  {call.weight:3d}%  {call.name:<10} {call.tool:<11} {size:>7} bytes of arguments", flush=True)
    results = []
    with tempfile.NamedTemporaryFile("w+", prefix="mcp-pii-load-", suffix=".log", delete=False) as log:
        for mode in modes:
            print(f"{mode}: ...", flush=True)
            r = asyncio.run(
                run_mode(mode, mix, clients=args.clients, seconds=args.seconds, warmup=args.warmup, log=log)
            )
            r.rss_growth_pct = round((r.rss_end_mb - r.rss_start_mb) / r.rss_start_mb * 100, 1)
            r.rss_flag = r.rss_growth_pct > args.rss_tolerance * 100
            results.append(r)
            print(
                f"{mode}: {r.calls} calls, {r.calls_per_s:.1f}/s, p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms, "
                f"{r.errors} errors, server CPU {r.server_cpu_pct:.0f}%, RSS {r.rss_start_mb:.1f} -> "
                f"{r.rss_end_mb:.1f} MiB",
                flush=True,
            )
            for e in r.first_errors:
                print(f"  error: {e}", flush=True)
    print()
    print(table(results, args.rss_tolerance))
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "version": __version__,
        "engine": Engine().implementation,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()},
        "settings": {
            "clients": args.clients,
            "seconds": args.seconds,
            "warmup": args.warmup,
            "rss_tolerance": args.rss_tolerance,
            "mix": [{"name": c.name, "weight": c.weight, "tool": c.tool} for c in mix],
        },
        "results": [asdict(r) for r in results],
        "server_log": log.name,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out} (server logs: {log.name})")
    failed = sum(r.errors for r in results)
    grew = [r.mode for r in results if r.rss_flag]
    if grew:
        print(f"RSS grew by more than {args.rss_tolerance:.0%} in: {', '.join(grew)}", file=sys.stderr)
    if failed:
        print(f"{failed} calls failed", file=sys.stderr)
        return 1
    return 1 if grew and args.fail_on_growth else 0


if __name__ == "__main__":
    sys.exit(main())
