"""Latency on the traffic path, beside ContextForge's built-in ``cpex-pii-filter`` plugin, on the same payloads.

Three rows, each per call, median and p95:

- **in-process hook**: ``tool_post_invoke`` on a 1 KB tool result (PII prose), called on the
  plugin object as the gateway's plugin manager calls it: ``mcp_pii.contextforge.PIIFilterPlugin``
  and ``cpex_pii_filter.pii_filter.PIIFilterPlugin``, both loaded by cpex's loader with the
  built-in filter's default configuration. Beside it, our engine's own time on the same text
  (``Engine.scan``): the hook's overhead is the difference (target: under 0.1 ms).
- **external plugin round trip**: the same hook through cpex's external-plugin client (the
  gateway's) to ``mcp-pii plugin``, and to the built-in plugin served by cpex's own external
  runtime, over stdio and Streamable HTTP.
- **proxy**: an SDK client calling the test upstream's ``echo`` tool with the 1 KB text, directly
  and through ``mcp-pii proxy``; the difference is what the proxy adds. The built-in plugin has
  no proxy of its own, so that row has no peer.

Run on its own: ``python bench/path_latency.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import inputs

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

UPSTREAM = [sys.executable, str(REPO / "tests" / "e2e" / "upstream.py")]
BUILTIN_KIND = "cpex_pii_filter.pii_filter.PIIFilterPlugin"
OUR_KIND = "mcp_pii.contextforge.PIIFilterPlugin"
# The built-in plugin's manifest defaults, less detect_bsn (we have no BSN type yet).
CONFIG: dict[str, Any] = {
    **{f"detect_{t}": True for t in ("ssn", "credit_card", "email", "phone", "ip_address", "date_of_birth")},
    **{f"detect_{t}": True for t in ("passport", "driver_license", "bank_account", "medical_record")},
    "default_mask_strategy": "redact",
}
HOOKS = ["tool_pre_invoke", "tool_post_invoke"]


def stats(samples_ns: list[int]) -> dict[str, float]:
    xs = sorted(samples_ns)
    return {
        "n": len(xs),
        "p50_us": round(statistics.median(xs) / 1000, 1),
        "p95_us": round(xs[min(len(xs) - 1, int(len(xs) * 0.95))] / 1000, 1),
    }


async def timed(call: Callable[[], Awaitable[Any]], calls: int, warmup: int) -> dict[str, float]:
    for _ in range(warmup):
        await call()
    samples = []
    for _ in range(calls):
        t0 = time.perf_counter_ns()
        await call()
        samples.append(time.perf_counter_ns() - t0)
    return stats(samples)


def payload_1kb() -> tuple[str, dict[str, Any]]:
    text = inputs.pii_prose("1KB").text
    return text, {"content": [{"type": "text", "text": text}], "isError": False}


async def in_process(calls: int) -> list[dict[str, Any]]:
    from cpex.framework import GlobalContext, PluginConfig, PluginContext, PluginLoader, ToolPostInvokePayload

    from mcp_pii.plugin import build_filter, load_settings

    text, result = payload_1kb()
    payload = ToolPostInvokePayload(name="t", result=result)
    ctx = PluginContext(global_context=GlobalContext(request_id="1"))
    rows = []
    for who, kind in (("mcp-pii", OUR_KIND), ("cpex-pii-filter", BUILTIN_KIND)):
        plugin = await PluginLoader().load_and_instantiate_plugin(
            PluginConfig(name=who, kind=kind, hooks=HOOKS, config=CONFIG)
        )
        out = await plugin.tool_post_invoke(payload, ctx)
        assert out.modified_payload is not None, f"{who} masked nothing"
        rows.append(
            {
                "row": "in-process hook, tool result 1 KB",
                "who": who,
                **await timed(lambda p=plugin: p.tool_post_invoke(payload, ctx), calls, calls // 10),
            }
        )
    engine = build_filter(load_settings(CONFIG)).engine

    async def scan() -> None:
        engine.scan([text])

    rows.append(
        {
            "row": "in-process hook, tool result 1 KB",
            "who": "mcp-pii engine alone",
            **await timed(scan, calls, calls // 10),
        }
    )
    return rows


async def external(calls: int, tmp: Path) -> list[dict[str, Any]]:
    from cpex.framework import GlobalContext, PluginConfig, PluginContext, ToolPostInvokePayload
    from cpex.framework.external.mcp.client import ExternalPlugin
    from cpex.framework.settings import get_ssrf_settings
    from servers import free_port, running

    os.environ["PLUGINS_SSRF_PROTECTION_ENABLED"] = "false"  # plugin servers on 127.0.0.1
    get_ssrf_settings.cache_clear()
    settings = tmp / "settings.json"
    settings.write_text(json.dumps(CONFIG))
    runtime_config = tmp / "builtin.yaml"
    runtime_config.write_text(
        json.dumps({"plugins": [{"name": "Builtin", "kind": BUILTIN_KIND, "hooks": HOOKS, "config": CONFIG}]})
    )
    runtime_env = {"PLUGINS_CONFIG_PATH": str(runtime_config), "PLUGINS_LOG_LEVEL": "WARNING"}
    ours = [sys.executable, "-m", "mcp_pii", "plugin", "--log-level", "WARNING", "--settings", str(settings)]
    builtin = [sys.executable, "-m", "cpex.framework.external.mcp.server.runtime"]
    _, result = payload_1kb()
    payload = ToolPostInvokePayload(name="t", result=result)
    ctx = PluginContext(global_context=GlobalContext(request_id="1"))
    rows = []

    async def measure(who: str, transport: str, mcp: dict[str, Any]) -> None:
        plugin = ExternalPlugin(
            PluginConfig(name="Builtin" if "cpex" in who else "MCPPII", kind="external", hooks=HOOKS, mcp=mcp)
        )
        await plugin.initialize()
        try:
            out = await plugin.invoke_hook("tool_post_invoke", payload, ctx)
            assert out.modified_payload is not None, f"{who} masked nothing"
            stat = await timed(lambda: plugin.invoke_hook("tool_post_invoke", payload, ctx), calls, calls // 10)
            rows.append({"row": f"external plugin round trip ({transport}), tool result 1 KB", "who": who, **stat})
        finally:
            await plugin.shutdown()

    await measure("mcp-pii", "stdio", {"proto": "STDIO", "cmd": ours})
    await measure("cpex-pii-filter", "stdio", {"proto": "STDIO", "cmd": builtin, "env": runtime_env})
    port = free_port()
    with running([*ours, "--transport", "http", "--port", str(port)], f"http://127.0.0.1:{port}/healthz"):
        await measure("mcp-pii", "http", {"proto": "STREAMABLEHTTP", "url": f"http://127.0.0.1:{port}/mcp"})
    port = free_port()
    http_env = {
        **os.environ,
        **runtime_env,
        "PLUGINS_TRANSPORT": "http",
        "PLUGINS_SERVER_HOST": "127.0.0.1",
        "PLUGINS_SERVER_PORT": str(port),
    }
    with running(builtin, f"http://127.0.0.1:{port}/mcp", env=http_env):
        await measure("cpex-pii-filter", "http", {"proto": "STREAMABLEHTTP", "url": f"http://127.0.0.1:{port}/mcp"})
    return rows


async def proxy(calls: int) -> list[dict[str, Any]]:
    from mcp import Client, StdioServerParameters
    from servers import server_env

    text, _ = payload_1kb()
    direct = StdioServerParameters(command=UPSTREAM[0], args=UPSTREAM[1:], env=server_env())
    proxied = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_pii", "proxy", "--log-level", "WARNING", "--", *UPSTREAM],
        env=server_env(),
    )
    rows = []
    for who, params in (("upstream direct", direct), ("through mcp-pii proxy", proxied)):
        async with Client(params, cache=None) as client:
            await client.list_tools()
            first = await client.call_tool("echo", {"text": text})
            masked = first.content[0].text != text  # type: ignore[union-attr]
            assert masked == (who != "upstream direct")
            stat = await timed(lambda c=client: c.call_tool("echo", {"text": text}), calls, calls // 10)
        rows.append({"row": "proxy, echo tool 1 KB (stdio, SDK client)", "who": who, **stat})
    return rows


def run(quick: bool = False) -> dict[str, Any]:
    calls = {"hook": 300 if quick else 3000, "external": 50 if quick else 400, "proxy": 50 if quick else 300}
    with tempfile.TemporaryDirectory() as tmp:

        async def everything() -> list[dict[str, Any]]:
            rows = await in_process(calls["hook"])
            rows += await external(calls["external"], Path(tmp))
            rows += await proxy(calls["proxy"])
            return rows

        try:
            rows = asyncio.run(everything())
        except ImportError as exc:
            return {"status": "unavailable", "detail": f"needs cpex and cpex-pii-filter ({exc})", "rows": []}
    by_row: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        by_row.setdefault(r["row"], {})[r["who"]] = r
    hook = by_row["in-process hook, tool result 1 KB"]
    overhead = hook["mcp-pii"]["p50_us"] - hook["mcp-pii engine alone"]["p50_us"]
    added = by_row["proxy, echo tool 1 KB (stdio, SDK client)"]
    return {
        "status": "ok",
        "calls": calls,
        "rows": rows,
        "hook_overhead_p50_us": round(overhead, 1),
        "proxy_added_p50_us": round(added["through mcp-pii proxy"]["p50_us"] - added["upstream direct"]["p50_us"], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    print(json.dumps(run(parser.parse_args().quick), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
