"""Prometheus metrics of one server process: what the engine did, what the tools answered, the load.

The four series of the origin document keep their names and labels:
``pii_filter_detections_duration_seconds{implementation}`` (time in the engine for calls that
only detect), ``pii_filter_masking_duration_seconds{implementation}`` (calls that mask),
``pii_filter_detections_total{implementation}`` and ``pii_filter_implementation{version}`` (1).
Next to them, under ``mcp_pii_``: calls and latency per tool, errors by kind, calls refused at the
load caps, bytes scanned, detections by type, open sessions, requests and calls in flight, the
memory vault's size, and the process's own memory and CPU (``process_*``).

With ``MCP_PII_PROFILE=1``, ``pii_filter_stage_duration_seconds{implementation,stage}`` breaks a
call into ``compile`` (once, when the engine is built), ``match``, ``mask`` and ``traverse``. The
engines run a call in one pass, so profiling measures the stages by running the parts again
(detection alone, then the walk without masking): it costs a second or third pass per call and
is meant for finding where time goes, not for production.

Metrics never carry a value a client sent: labels are tool names, type ids, error kinds and
refusal reasons, all from fixed sets.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from mcp_pii import __version__
from mcp_pii.errors import PIIError
from mcp_pii.logs import CURRENT_CALL

if TYPE_CHECKING:
    from mcp_pii.engine import Engine
    from mcp_pii.limits import Gate
    from mcp_pii.vault import Vault

__all__ = ["CONTENT_TYPE", "Metrics", "profiling", "scan_stages", "text_stages"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Engine calls take microseconds to a second or so; tool calls up to the request time limits.
ENGINE_BUCKETS = (1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                  2.5, 5.0)  # fmt: skip
CALL_BUCKETS = (1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
STAGES = ("compile", "match", "mask", "traverse")


def profiling() -> bool:
    """True when ``MCP_PII_PROFILE`` asks for the stage breakdown."""
    return os.environ.get("MCP_PII_PROFILE", "").strip().lower() in ("1", "true", "yes", "on")


class Timer:
    """The seconds a timed block took (set when it ends)."""

    __slots__ = ("seconds",)

    def __init__(self) -> None:
        self.seconds = 0.0


class Metrics:
    """The metrics of one server: a registry of its own, fed by the tools and read from the gate."""

    def __init__(self, engine: Engine, gate: Gate, vault: Vault | None = None, *, profile: bool | None = None) -> None:
        self.implementation = engine.implementation
        self.gate = gate
        self.vault = vault
        self.profile = profiling() if profile is None else profile
        self.lifespans = 0  # clients connected through the SDK's lifespan (stdio, SSE, in memory)
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        r = self.registry = CollectorRegistry()
        impl = self.implementation
        self.detecting = Histogram(
            "pii_filter_detections_duration_seconds",
            "Time in the engine for calls that detect without masking.",
            ["implementation"],
            registry=r,
            buckets=ENGINE_BUCKETS,
        ).labels(impl)
        self.masking = Histogram(
            "pii_filter_masking_duration_seconds",
            "Time in the engine for calls that mask (detection included).",
            ["implementation"],
            registry=r,
            buckets=ENGINE_BUCKETS,
        ).labels(impl)
        self.detections = Counter("pii_filter_detections", "Values detected.", ["implementation"], registry=r).labels(
            impl
        )
        Gauge("pii_filter_implementation", "The mcp-pii version serving (always 1).", ["version"], registry=r).labels(
            __version__
        ).set(1)
        Gauge(
            "mcp_pii_engine_info", "The engine serving (always 1).", ["implementation", "version"], registry=r
        ).labels(impl, __version__).set(1)
        self.calls = Counter("mcp_pii_tool_calls", "Tool calls answered, by outcome.", ["tool", "outcome"], registry=r)
        self.latency = Histogram(
            "mcp_pii_tool_call_duration_seconds",
            "Tool call latency in the server, from arguments to answer.",
            ["tool"],
            registry=r,
            buckets=CALL_BUCKETS,
        )
        self.errors = Counter(
            "mcp_pii_errors",
            "Failed calls by kind: arguments, input, limit, busy, cancelled, vault, internal, unknown_tool.",
            ["kind"],
            registry=r,
        )
        self.scanned = Counter("mcp_pii_scanned_bytes", "UTF-8 bytes of text scanned.", ["tool"], registry=r)
        self.by_type = Counter("mcp_pii_detections_by_type", "Values detected, by type id.", ["type"], registry=r)
        self.stages = (
            Histogram(
                "pii_filter_stage_duration_seconds",
                "Engine time by stage (MCP_PII_PROFILE=1): compile, match, mask, traverse.",
                ["implementation", "stage"],
                registry=r,
                buckets=ENGINE_BUCKETS,
            )
            if self.profile
            else None
        )
        if self.stages is not None:
            self.stages.labels(impl, "compile").observe(engine.compile_seconds)
        r.register(_LoadCollector(self))
        ProcessCollector(registry=r)

    # --- recording ---------------------------------------------------------------------------

    @contextmanager
    def engine_time(self, masks: bool) -> Iterator[Timer]:
        """Time the engine work inside the block as masking (``masks``) or detection (calls that succeed)."""
        timer = Timer()
        start = time.perf_counter()
        yield timer
        timer.seconds = time.perf_counter() - start
        (self.masking if masks else self.detecting).observe(timer.seconds)

    def _child(self, metric: Any, *labels: str) -> Any:
        """A labelled child, cached: ``labels()`` takes a lock and checks its arguments every time."""
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def found(self, tool: str, nbytes: int, counts: dict[str, int]) -> None:
        """Count a call's scanned bytes and its detections by type (and note them for the call's log line)."""
        self._child(self.scanned, tool).inc(nbytes)
        record = CURRENT_CALL.get()
        if record is not None:
            record.nbytes, record.counts = nbytes, counts
        for t, n in counts.items():
            self._child(self.by_type, t).inc(n)
        if counts:
            self.detections.inc(sum(counts.values()))

    def stage_times(self, times: Mapping[str, float]) -> None:
        """Add one call's stage breakdown (profiling only)."""
        if self.stages is not None:
            for stage, seconds in times.items():
                self.stages.labels(self.implementation, stage).observe(max(seconds, 0.0))

    def answered(self, tool: str, seconds: float, outcome: str) -> None:
        """Count a tool call and its latency; ``outcome`` is ``ok`` or ``error``."""
        self._child(self.calls, tool, outcome).inc()
        self._child(self.latency, tool).observe(seconds)

    def failed(self, kind: str) -> None:
        """Count a failed call by kind."""
        self._child(self.errors, kind).inc()

    # --- exposition --------------------------------------------------------------------------

    def exposition(self) -> bytes:
        """The metrics in the Prometheus text format."""
        return generate_latest(self.registry)

    def serve(self, host: str, port: int) -> int:
        """Serve the metrics on a port of their own (any path) from a daemon thread; return the port.

        Raises:
            PIIError: The port cannot be bound.
        """
        from prometheus_client import start_http_server  # noqa: PLC0415

        try:
            server, _ = start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:
            raise PIIError(f"cannot serve metrics on {host}:{port}: {exc.strerror}") from None
        return int(server.server_port)


class _LoadCollector:
    """Reads the gate (and the memory vault) at scrape time: nothing to update on the hot path."""

    def __init__(self, metrics: Metrics) -> None:
        self.m = metrics

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        gate = self.m.gate
        refused = CounterMetricFamily(
            "mcp_pii_rejected_calls", "Requests refused at a load cap, by reason (503, busy error).", labels=["reason"]
        )
        for reason, n in sorted(gate.refused.items()):
            refused.add_metric([reason], n)
        yield refused
        sessions = max(gate.open_sessions(), self.m.lifespans)
        yield GaugeMetricFamily("mcp_pii_sessions_open", "Open sessions (HTTP, SSE or stdio clients).", sessions)
        yield CounterMetricFamily("mcp_pii_sessions_evicted", "HTTP sessions ended for room.", gate.sessions_evicted)
        yield GaugeMetricFamily("mcp_pii_requests_in_flight", "Requests admitted, unanswered.", gate.inflight_calls)
        yield GaugeMetricFamily("mcp_pii_tool_calls_in_flight", "Tool calls running or queued.", len(gate.calls))
        yield GaugeMetricFamily(
            "mcp_pii_request_bytes_in_flight", "Request bytes admitted, not yet answered.", gate.inflight_bytes
        )
        yield GaugeMetricFamily("mcp_pii_connections_open", "Open HTTP connections.", gate.open_connections())
        yield CounterMetricFamily(
            "mcp_pii_connections_refused", "HTTP connections refused at the cap.", gate.connections_refused
        )
        held = self.m.vault.held() if self.m.vault is not None else None
        if held is not None:
            scopes, entries, nbytes = held
            yield GaugeMetricFamily("mcp_pii_vault_scopes", "Scopes the memory vault holds.", scopes)
            yield GaugeMetricFamily("mcp_pii_vault_entries", "Tokens the memory vault holds.", entries)
            yield GaugeMetricFamily("mcp_pii_vault_bytes", "Estimated bytes the memory vault holds.", nbytes)


# --- the stage breakdown (MCP_PII_PROFILE=1) -----------------------------------------------------


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def text_stages(engine: Engine, text: str, types: list[str] | None, seconds: float, masks: bool) -> dict[str, float]:
    """Split a text call of ``seconds`` into match (detection run again alone) and mask (the rest)."""
    match = _timed(lambda: engine.detect(text, types))
    return {"match": match, "mask": seconds - match} if masks else {"match": seconds}


def scan_stages(engine: Engine, data: Any, types: list[str] | None, seconds: float, masks: bool) -> dict[str, float]:
    """Split a scan of ``seconds`` into match (each string detected alone), traverse and mask.

    Traverse is the walk without masking less its matching; mask is the rest of a masking call.
    """
    from mcp_pii.reversible import map_strings  # noqa: PLC0415

    spent = [0.0]

    def detect(s: str) -> str:
        spent[0] += _timed(lambda: engine.detect(s, types))
        return s

    map_strings(data, detect)
    walk = _timed(lambda: engine.scan(data, None, types, mask=False)) if masks else seconds
    out = {"match": spent[0], "traverse": walk - spent[0]}
    return out | {"mask": seconds - walk} if masks else out
