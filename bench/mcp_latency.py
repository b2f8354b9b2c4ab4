"""Tool-call latency through a real MCP client (the SDK's ``mcp.Client``), over stdio and HTTP.

The server is ``python -m mcp_pii serve --transport stdio|http --port N`` (the one users run);
with ``standin=True`` it is ``bench/_noop_server.py``, which has the same command line and tools
and exists only to develop this harness. For each transport the harness starts one server, calls
``ping`` (the no-op tool), ``mask_pii`` with 1 KB, 10 KB and 100 KB of PII prose and
``scan_nested`` with the 10 KB payload (the tools' defaults: counts, no per-detection list), and
``mask_pii`` with 100 KB asking for every detection's span (``detections='spans'``, the cost of the
list: the client checks each detection against the output schema), with the counts as its text
content (``text_content='counts'``: the masked text travels once) and with one type whose search
costs little (``types=['private_key']``: the same bytes in and out, the floor under the 100 KB
target), round-robin so that every case sees the same conditions,
and reports p50/p95/p99 of the client-side latency and each case's ratio to ``ping``: the cost
the PII work adds on top of the protocol. After each mask_pii call it times ``Engine.mask`` on the
same arguments in its own process, warm (not part of the call's latency): the engine's own time,
on the same stretch of a shared machine as the call.

Run on its own: ``python bench/mcp_latency.py [--quick] [--standin]``. With ``--against DIR`` (another
checkout of mcp-pii, built, e.g. a ``git worktree`` of an older commit), the same calls go to that
checkout's server and to this one, interleaved on one client machine (each round in the opposite order
to the one before), and both tables are printed:
the side-by-side comparison a shared, noisy machine needs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import inputs
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
TRANSPORTS = ("stdio", "http")
NOOP_TOOL = "ping"
# mask_pii of the 100 KB text asking for this type only (the text has none; its search is a
# keyword's): the floor case.
FLOOR_TYPE = "private_key"
FLOOR_CASE = "mask_pii 100KB floor"
START_TIMEOUT = 60.0
# Untimed engine calls before the timed one after each mask_pii call (see engine_call).
ENGINE_WARM = 2


@dataclass(frozen=True)
class Case:
    """One kind of call: a tool and its arguments."""

    name: str
    tool: str
    arguments: dict[str, Any]
    nbytes: int


@dataclass
class Latency:
    """Latency of one case on one transport (milliseconds)."""

    transport: str
    case: str
    tool: str
    nbytes: int
    server: str = ""  # which checkout's server, with --against ("" in the benchmark)
    n: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    mean_ms: float | None = None
    ratio_p50: float | None = None
    ratio_p95: float | None = None
    client_check_ms: float | None = None
    # For mask_pii: the engine's own time on the same arguments (Engine.mask in this process, this
    # tree's engine, warm, median), timed after each of the case's MCP calls: in the same rounds as
    # the calls, so both see the same stretches of a shared machine (a median of 30 calls in a row,
    # taken after the run, once read 0.88 ms for a text the engine masks in 0.55).
    engine_ms: float | None = None
    error: str = ""


@dataclass
class Plan:
    """How many calls to make."""

    calls: int = 300
    warmup: int = 20
    seconds_per_case: float = 20.0
    min_calls: int = 30
    cases: list[Case] = field(default_factory=list)


def make_cases() -> list[Case]:
    """ping, mask_pii at 1/10/100 KB (at 100 KB also counts as text, the floor, spans), scan_nested at 10 KB."""
    out = [Case("ping", NOOP_TOOL, {}, 0)]
    for size in ("1KB", "10KB", "100KB"):
        inp = inputs.pii_prose(size)
        out.append(Case(f"mask_pii {size}", "mask_pii", {"text": inp.text}, inp.nbytes))
    inp = inputs.pii_prose("100KB")
    # counts and floor before spans: a call after a spans call pays for the garbage that one left in the client
    counted = {"text": inp.text, "text_content": "counts"}
    out.append(Case("mask_pii 100KB counts", "mask_pii", counted, inp.nbytes))
    # The same 100 KB in and out with one type whose search costs little: what the protocol and
    # the transport cost on their own, the floor under the 100 KB target.
    floor = {"text": inp.text, "types": [FLOOR_TYPE]}
    out.append(Case(FLOOR_CASE, "mask_pii", floor, inp.nbytes))
    out.append(Case("mask_pii 100KB spans", "mask_pii", {"text": inp.text, "detections": "spans"}, inp.nbytes))
    nested = inputs.nested_payload("10KB")
    out.append(Case("scan_nested 10KB", "scan_nested", {"data": nested.data}, nested.nbytes))
    return out


def stop(proc: subprocess.Popen[Any]) -> None:
    """Stop a server process: terminate, then kill if it has not gone within 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def percentile(sorted_xs: list[float], p: float) -> float:
    """The ``p``-th percentile (0-100) by linear interpolation between closest ranks."""
    if len(sorted_xs) == 1:
        return sorted_xs[0]
    k = (len(sorted_xs) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(sorted_xs) - 1)
    return sorted_xs[lo] + (sorted_xs[hi] - sorted_xs[lo]) * (k - lo)


def server_command(transport: str, port: int | None, standin: bool) -> list[str]:
    """The command that starts the server under test."""
    head = [sys.executable, str(BENCH / "_noop_server.py")] if standin else [sys.executable, "-m", "mcp_pii"]
    cmd = [*head, "serve", "--transport", transport]
    return [*cmd, "--port", str(port)] if port is not None else cmd


def server_env(root: Path = REPO) -> dict[str, str]:
    """What the server process needs on top of a clean environment: the source tree and MCP_PII_*."""
    env = {k: v for k, v in os.environ.items() if k.startswith("MCP_PII_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH", "")) if p)
    return env


def server_available(standin: bool) -> tuple[bool, str]:
    """Whether the server's module imports (``mcp_pii.cli``, or the stand-in's dependencies)."""
    module = "mcp_pii" if standin else "mcp_pii.cli"
    proc = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        env=os.environ | server_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return False, f"server not available: `import {module}` failed ({last})"
    return True, ""


def server_engine() -> str:
    """The engine the server will pick, by the same rule as ``mcp_pii.Engine``."""
    from mcp_pii import native_available

    forced = os.environ.get("MCP_PII_FORCE_PYTHON", "").strip().lower() in ("1", "true", "yes", "on")
    return "python" if forced or not native_available() else "rust"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


@asynccontextmanager
async def connect(
    transport: str, standin: bool, log: TextIO, log_path: Path, root: Path = REPO
) -> AsyncIterator[Client]:
    """A connected client; for HTTP, the server subprocess runs (on a free port) for the duration."""
    if transport == "stdio":
        args = server_command("stdio", None, standin)[1:]
        params = StdioServerParameters(command=sys.executable, args=args, env=server_env(root), cwd=str(root))
        async with Client(stdio_client(params, errlog=log), cache=None) as client:
            yield client
        return
    port = free_port()
    proc = subprocess.Popen(
        server_command("http", port, standin), env=os.environ | server_env(root), cwd=root, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the HTTP server exited with {proc.returncode}: {_tail(log_path)}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the HTTP server did not listen on port {port} in {START_TIMEOUT:.0f} s"
                    ) from None
                await asyncio.sleep(0.1)
        async with Client(f"http://127.0.0.1:{port}/mcp", cache=None) as client:
            yield client
    finally:
        stop(proc)


async def client_check_ms(client: Client, case: Case, repeat: int = 20) -> float | None:
    """Median time the client spends re-validating one result against the tool's output schema.

    The SDK's client checks every structured result with ``jsonschema``; that cost is part of the
    latency measured here and grows with the number of detections, so it is shown on its own.
    """
    r = await client.call_tool(case.tool, case.arguments)
    check = getattr(getattr(client, "session", None), "validate_tool_result", None)
    if check is None or r.is_error:
        return None
    xs = []
    for _ in range(repeat):
        t = time.perf_counter()
        await check(case.tool, r)
        xs.append(time.perf_counter() - t)
    xs.sort()
    return percentile(xs, 50) * 1e3


def _each_case_reversed(live: list[tuple[str, Case]]) -> list[tuple[str, Case]]:
    """``live`` (the servers of a case next to each other) with the servers of each case in reverse order."""
    out: list[tuple[str, Case]] = []
    for label, case in live:
        at = len(out)
        while at > 0 and out[at - 1][1] is case:
            at -= 1
        out.insert(at, (label, case))
    return out


def engine_call(engine: Any, case: Case, warm: int = ENGINE_WARM) -> float:
    """Seconds ``engine.mask`` takes on a mask_pii case's arguments (the tool's engine work), warm:
    the last of ``warm + 1`` calls in a row. The first after an MCP call runs cold (the call's JSON
    work evicted the engine's tables: at 100 KB it took three times as long), and the throughput
    tables and the target's goal mean the engine's warm time."""
    text, types = case.arguments["text"], case.arguments.get("types")
    for _ in range(warm):
        engine.mask(text, types=types)
    t = time.perf_counter()
    engine.mask(text, types=types)
    return time.perf_counter() - t


async def measure_transport(
    transport: str, plan: Plan, standin: bool, log_dir: Path, roots: dict[str, Path] | None = None
) -> tuple[list[Latency], str]:
    """Latencies of every case on one transport, and the negotiated protocol version.

    ``roots`` names the checkouts whose servers are measured (default: this one, named ""); with
    several, every round calls each case on each server in turn.
    """
    from mcp_pii import Engine

    roots = roots or {"": REPO}
    engine = Engine()
    keys = [(label, c) for c in plan.cases for label in roots]
    results = {(label, c.name): Latency(transport, c.name, c.tool, c.nbytes, label) for label, c in keys}
    async with AsyncExitStack() as stack:
        clients = {}
        for label, root in roots.items():
            log_path = log_dir / f"server-{transport}{'-' + label if label else ''}.log"
            log = stack.enter_context(log_path.open("w"))
            clients[label] = await stack.enter_async_context(connect(transport, standin, log, log_path, root))
        protocol = str(clients[next(iter(roots))].protocol_version)
        tools = {label: {t.name for t in (await c.list_tools()).tools} for label, c in clients.items()}
        live = []
        for label, case in keys:
            if case.tool not in tools[label]:
                results[label, case.name].error = f"the server has no tool {case.tool!r}"
            else:
                live.append((label, case))
        for label, case in live:  # warm-up, and a first check that the call works
            for _ in range(plan.warmup):
                r = await clients[label].call_tool(case.tool, case.arguments)
                if r.is_error:
                    text = getattr(r.content[0], "text", "") if r.content else ""
                    results[label, case.name].error = f"tool error: {text[:200]}"
                    break
        live = [(label, c) for label, c in live if not results[label, c.name].error]
        checks = {(label, c.name): await client_check_ms(clients[label], c) for label, c in live}
        samples: dict[tuple[str, str], list[float]] = {(label, c.name): [] for label, c in live}
        spent: dict[tuple[str, str], float] = dict.fromkeys(samples, 0.0)
        own: dict[tuple[str, str], list[float]] = {key: [] for key in samples}
        # The engine's warm-up: its first calls on a text build the DFA states the text needs.
        for case in {c.name: c for _, c in live if c.tool == "mask_pii"}.values():
            for _ in range(plan.warmup):
                engine_call(engine, case)
        turn = 0
        while live:
            # With several servers, every other round takes them in the opposite order: a call pays
            # for freeing the result before it (the client drops it when the next one arrives), and
            # the same server must not always follow the other's 100 KB answer (0.4-1 ms at 100 KB).
            turn += 1
            for label, case in list(live) if turn % 2 else _each_case_reversed(live):
                key = (label, case.name)
                t = time.perf_counter()
                r = await clients[label].call_tool(case.tool, case.arguments)
                dt = time.perf_counter() - t
                samples[key].append(dt)
                spent[key] += dt
                if case.tool == "mask_pii":
                    own[key].append(engine_call(engine, case))
                n = len(samples[key])
                if r.is_error:
                    results[key].error = "tool error during the run"
                    live.remove((label, case))
                elif n >= plan.calls or (n >= plan.min_calls and spent[key] > plan.seconds_per_case):
                    live.remove((label, case))
    for key, xs in samples.items():
        if not xs:
            continue
        xs.sort()
        lat = results[key]
        lat.n = len(xs)
        lat.p50_ms, lat.p95_ms, lat.p99_ms = (percentile(xs, p) * 1e3 for p in (50, 95, 99))
        lat.mean_ms = sum(xs) / len(xs) * 1e3
        lat.client_check_ms = checks.get(key)
        lat.engine_ms = statistics.median(own[key]) * 1e3 if own.get(key) else None
    for label in roots:
        base = results[label, plan.cases[0].name]
        for (of, _), lat in results.items():
            if of == label and lat.p50_ms is not None and base.p50_ms and base.p95_ms and lat.p95_ms is not None:
                lat.ratio_p50 = lat.p50_ms / base.p50_ms
                lat.ratio_p95 = lat.p95_ms / base.p95_ms
    return list(results.values()), protocol


def run(quick: bool = False, standin: bool = False, transports: tuple[str, ...] = TRANSPORTS) -> dict[str, Any]:
    """The MCP section: a dict with ``status`` and, when the server runs, the latency rows."""
    section: dict[str, Any] = {
        "server": " ".join(["python", *server_command("stdio|http", None, standin)[1:]]),
        "standin": standin,
        "client": "mcp.Client (SDK), cache off",
    }
    ok, why = server_available(standin)
    if not ok:
        return section | {"status": "unavailable", "detail": why, "rows": []}
    section["engine"] = server_engine()
    plan = (
        Plan(calls=40, warmup=3, seconds_per_case=3.0, min_calls=10, cases=make_cases())
        if quick
        else Plan(cases=make_cases())
    )
    section["plan"] = {k: v for k, v in asdict(plan).items() if k != "cases"}
    rows: list[Latency] = []
    protocols: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="mcp-pii-bench-") as tmp:
        for transport in transports:
            print(f"  mcp: {transport} ...", file=sys.stderr, flush=True)
            try:
                got, protocols[transport] = asyncio.run(measure_transport(transport, plan, standin, Path(tmp)))
            except Exception as exc:
                detail = f"{type(exc).__name__}: {exc}"
                if isinstance(exc, BaseExceptionGroup):
                    detail += " (" + "; ".join(repr(e) for e in exc.exceptions) + ")"
                tail = _tail(Path(tmp) / f"server-{transport}.log")
                rows += [
                    Latency(transport, c.name, c.tool, c.nbytes, error=f"{detail[:300]} {tail}") for c in plan.cases
                ]
                continue
            rows += got
            for lat in got:
                print(
                    f"  mcp: {transport:<5} {lat.case:<18} p50 {lat.p50_ms or 0:8.2f} ms"
                    f"  {lat.ratio_p50 or 0:.2f}x ping {lat.error}",
                    file=sys.stderr,
                    flush=True,
                )
    return section | {"status": "ok", "protocols": protocols, "rows": [asdict(r) for r in rows]}


def compare(against: Path, quick: bool = False, transports: tuple[str, ...] = TRANSPORTS) -> list[str]:
    """The same calls to ``against``'s server ("before") and this tree's ("after"), interleaved; a text table.

    ``p50 ÷ engine`` divides by ``Engine.mask`` of this tree, in this process, timed after each call.
    """
    plan = Plan(calls=40, warmup=3, seconds_per_case=3.0, min_calls=10) if quick else Plan()
    plan.cases = make_cases()
    roots = {"before": against.resolve(), "after": REPO}
    rows: list[Latency] = []
    with tempfile.TemporaryDirectory(prefix="mcp-pii-bench-") as tmp:
        for transport in transports:
            print(f"  mcp: {transport}, before and after ...", file=sys.stderr, flush=True)
            rows += asyncio.run(measure_transport(transport, plan, False, Path(tmp), roots))[0]
    lines = [f"before: {roots['before']}  after: {REPO}  (load average at the end: {os.getloadavg()[0]:.2f})"]
    head = ("transport", "server", "call", "p50 ms", "p95 ms", "÷ ping", "÷ engine")
    lines.append("{:<9} {:<6} {:<21} {:>8} {:>8} {:>7} {:>9}".format(*head))
    order = {c.name: i for i, c in enumerate(plan.cases)}
    for r in sorted(rows, key=lambda r: (r.transport, order[r.case], r.server != "before")):
        if r.error or r.p50_ms is None:
            lines.append(f"{r.transport:<9} {r.server:<6} {r.case:<21} error: {r.error[:80]}")
            continue
        by_engine = f"{r.p50_ms / r.engine_ms:8.2f}x" if r.engine_ms else ""
        lines.append(
            f"{r.transport:<9} {r.server:<6} {r.case:<21} {r.p50_ms:8.2f} {r.p95_ms or 0:8.2f} "
            f"{r.ratio_p50 or 0:6.2f}x {by_engine}"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description="MCP tool-call latency (see bench/run.py for the full benchmark)")
    parser.add_argument("--quick", action="store_true", help="few calls, for a smoke run")
    parser.add_argument("--standin", action="store_true", help="use bench/_noop_server.py (development only)")
    parser.add_argument("--against", type=Path, help="another built checkout: measure both servers side by side")
    args = parser.parse_args()
    if args.against is not None:
        print("\n".join(compare(args.against, args.quick)))
        return 0
    print(json.dumps(run(args.quick, args.standin), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
