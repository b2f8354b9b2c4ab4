"""Prometheus metrics: scraped after real calls, parsed with prometheus_client's own parser."""

from __future__ import annotations

import re
import subprocess
import time
from typing import Any

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from prometheus_client.parser import text_string_to_metric_families
from servers import MCP_PII, PII, PII_PAYLOAD, PII_TEXT, PYTHON, running_server, server_env

from mcp_pii import Config, Engine, __version__
from mcp_pii.limits import Gate
from mcp_pii.metrics import STAGES, Metrics
from mcp_pii.server import build_server

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


ORIGIN = {
    "pii_filter_detections_duration_seconds": ("histogram", {"implementation"}),
    "pii_filter_masking_duration_seconds": ("histogram", {"implementation"}),
    "pii_filter_detections": ("counter", {"implementation"}),
    "pii_filter_implementation": ("gauge", {"version"}),
}


def scrape(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, by name and labels (parsed by prometheus_client)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def mixed_calls(client: Client) -> None:
    """Calls of every kind: detections, masking, a nested scan, argument and input errors."""
    assert not (await client.call_tool("detect_pii", {"text": PII_TEXT})).is_error
    assert not (await client.call_tool("mask_pii", {"text": PII_TEXT, "strategy": "partial"})).is_error
    assert not (await client.call_tool("scan_nested", {"data": PII_PAYLOAD})).is_error
    assert not (await client.call_tool("mask_pii", {"text": "nothing here"})).is_error
    assert (await client.call_tool("mask_pii", {"text": "x", "strategy": "blur"})).is_error  # arguments
    assert (await client.call_tool("mask_pii", {"text": "x" * 2000})).is_error  # over max_text_bytes: limit
    unknown_scope = {"data": {"a": "x"}, "reversible": True, "scope": "A" * 32}
    assert (await client.call_tool("scan_nested", unknown_scope)).is_error  # input


def check_mixed(samples: dict[Any, float], implementation: str) -> None:
    for name, (_kind, labels) in ORIGIN.items():
        found = [key for key in samples if key[0].startswith(name)]
        assert found, name
        assert all({k for k, _ in key[1]} - {"le"} == labels for key in found), (name, found)
    impl = {"implementation": implementation}
    assert value(samples, "pii_filter_implementation", version=__version__) == 1
    # detect_pii detects; mask_pii (twice) and scan_nested mask.
    assert value(samples, "pii_filter_detections_duration_seconds_count", **impl) == 1
    assert value(samples, "pii_filter_masking_duration_seconds_count", **impl) == 3
    text_hits = len(PII)  # one detection per value of PII_TEXT
    assert value(samples, "pii_filter_detections_total", **impl) == 2 * text_hits + 5
    assert value(samples, "pii_filter_masking_duration_seconds_bucket", le="+Inf", **impl) == 3
    assert value(samples, "mcp_pii_tool_calls_total", tool="mask_pii", outcome="ok") == 2
    assert value(samples, "mcp_pii_tool_calls_total", tool="mask_pii", outcome="error") == 2
    assert value(samples, "mcp_pii_tool_calls_total", tool="scan_nested", outcome="error") == 1
    assert value(samples, "mcp_pii_tool_call_duration_seconds_count", tool="detect_pii") == 1
    for kind in ("arguments", "limit", "input"):
        assert value(samples, "mcp_pii_errors_total", kind=kind) == 1, kind
    assert value(samples, "mcp_pii_detections_by_type_total", type="email") == 3
    assert value(samples, "mcp_pii_detections_by_type_total", type="ssn") == 3
    text_bytes = len(PII_TEXT.encode())
    assert value(samples, "mcp_pii_scanned_bytes_total", tool="mask_pii") == text_bytes + len("nothing here")
    assert value(samples, "mcp_pii_scanned_bytes_total", tool="detect_pii") == text_bytes
    # The payload's strings as they are (the JSON held in "body" once, "Zoë" 4 bytes), not its keys.
    strings = [PII_PAYLOAD["user"]["name"], PII["email"], PII["phone"], PII_PAYLOAD["body"], PII["aws_access_key"]]
    assert value(samples, "mcp_pii_scanned_bytes_total", tool="scan_nested") == sum(len(s.encode()) for s in strings)
    assert value(samples, "mcp_pii_tool_calls_in_flight") == 0
    assert value(samples, "process_resident_memory_bytes") > 0  # memory, tracked


async def test_scrape_after_mixed_calls_in_memory(engine_impl: str) -> None:
    engine = Engine(Config(max_text_bytes=1000), implementation=engine_impl)  # type: ignore[arg-type]
    server = build_server(engine=engine)
    async with Client(server) as client:
        await mixed_calls(client)
        assert server.metrics is not None
        samples = scrape(server.metrics.exposition().decode())
        assert value(samples, "mcp_pii_sessions_open") == 1
    check_mixed(samples, engine_impl)
    assert not [key for key in samples if key[0].startswith("pii_filter_stage")]  # only with MCP_PII_PROFILE=1


async def test_profile_adds_the_stage_breakdown(monkeypatch: pytest.MonkeyPatch, engine_impl: str) -> None:
    monkeypatch.setenv("MCP_PII_PROFILE", "1")
    server = build_server(engine=Engine(implementation=engine_impl))  # type: ignore[arg-type]
    async with Client(server) as client:
        for tool, args in (("mask_pii", {"text": PII_TEXT}), ("scan_nested", {"data": PII_PAYLOAD})):
            assert not (await client.call_tool(tool, args)).is_error
    assert server.metrics is not None
    samples = scrape(server.metrics.exposition().decode())
    stage = "pii_filter_stage_duration_seconds_count"
    counts = {s: value(samples, stage, implementation=engine_impl, stage=s) for s in STAGES}
    assert counts == {"compile": 1, "match": 2, "mask": 2, "traverse": 1}


def test_profile_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_PII_PROFILE", "1")
    assert Metrics(Engine(), Gate()).stages is not None
    monkeypatch.setenv("MCP_PII_PROFILE", "0")
    assert Metrics(Engine(), Gate()).stages is None


async def test_rejected_calls_and_vault_size_come_from_the_gate_and_the_vault() -> None:
    server = build_server()
    assert server.metrics is not None
    gate = server.metrics.gate
    gate.refused.update({"calls": 3, "bytes": 1})
    async with Client(server) as client:
        result = await client.call_tool("mask_pii", {"text": PII_TEXT, "reversible": True})
        assert not result.is_error
    samples = scrape(server.metrics.exposition().decode())
    assert value(samples, "mcp_pii_rejected_calls_total", reason="calls") == 3
    assert value(samples, "mcp_pii_rejected_calls_total", reason="bytes") == 1
    assert value(samples, "mcp_pii_vault_scopes") == 1
    assert value(samples, "mcp_pii_vault_entries") == len(PII)
    assert value(samples, "mcp_pii_vault_bytes") > 0


async def test_http_metrics_behind_the_token() -> None:
    env = {"MCP_PII_AUTH_TOKEN": "t0ken", "MCP_PII_MAX_TEXT_BYTES": "1000"}
    with running_server("--transport", "http", env=env) as server:
        auth = {"Authorization": "Bearer t0ken"}
        assert httpx2.get(server.base + "/metrics").status_code == 401
        async with Client(streamable_http_client(server.url, http_client=httpx2.AsyncClient(headers=auth))) as client:
            await mixed_calls(client)
        answer = httpx2.get(server.base + "/metrics", headers=auth)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/plain")
        assert httpx2.post(server.base + "/metrics", headers=auth).status_code == 405
    samples = scrape(answer.text)
    check_mixed(samples, "rust")
    assert value(samples, "mcp_pii_sessions_open") >= 1


async def test_stdio_metrics_only_on_a_port_when_asked() -> None:
    params = StdioServerParameters(
        command=PYTHON,
        args=[*MCP_PII, "serve", "--metrics-port", "0"],
        env=server_env({"MCP_PII_MAX_TEXT_BYTES": "1000"}),
    )
    with open_errlog() as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            await mixed_calls(client)
            errlog.seek(0)
            url = re.search(r"Prometheus metrics on (http://\S+)", errlog.read())
            assert url is not None
            samples = scrape(httpx2.get(url[1]).text)
    check_mixed(samples, "rust")
    assert value(samples, "mcp_pii_sessions_open") == 1


def open_errlog() -> Any:
    import tempfile

    return tempfile.TemporaryFile("w+", encoding="utf-8")


def test_metrics_port_that_cannot_be_bound_is_a_clear_error() -> None:
    with running_server("--transport", "http") as server:
        taken = server.base.rsplit(":", 1)[1]
        started = time.monotonic()
        done = subprocess.run(
            [PYTHON, *MCP_PII, "serve", "--metrics-port", taken],
            capture_output=True,
            text=True,
            env=server_env(),
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    assert done.stderr.strip().endswith(
        f"mcp-pii: error: cannot serve metrics on 127.0.0.1:{taken}: Address already in use"
    )
    assert time.monotonic() - started < 60
