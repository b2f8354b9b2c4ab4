"""Turn a benchmark result (the dict ``run.py`` writes as JSON) into Markdown, and judge the targets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engines import CONTENDERS
from mcp_latency import ENGINE_WARM, FLOOR_CASE, FLOOR_TYPE

X = "\N{MULTIPLICATION SIGN}"
X_GE, X_LE = "\N{GREATER-THAN OR EQUAL TO}", "\N{LESS-THAN OR EQUAL TO}"

TITLES = {
    "rust-full": "rust full",
    "rust-peer": "rust peer",
    "python-full": "python full",
    "python-peer": "python peer",
    "cpex": "cpex",
}
# (contender, contender) ratios shown per row: the peer comparison, the twin, and the twin vs the peer.
# Titled by both contenders: the targets judge `rust full` against cpex, the column `rust peer`.
RATIOS = [("rust-peer", "cpex"), ("rust-full", "python-full"), ("python-peer", "cpex")]
RATIO_TITLES = [f"{TITLES[a]} ÷ {TITLES[b]}" for a, b in RATIOS]
KIND_TITLES = {
    "pii": "PII prose",
    "clean": "no-PII prose",
    "pii-ascii": "PII prose, ASCII only",
    "clean-ascii": "no-PII prose, ASCII only",
    "short-pii-ascii": "short texts with PII, ASCII only",
    "log-ascii": "log lines, ASCII only",
    "chat-ascii": "everyday prose, ASCII only",
    "blob-ascii": "a file in base64, ASCII only",
    "digits-ascii": "a table of numbers, ASCII only",
    "nested": "nested JSON",
    "nested-ascii": "nested JSON, ASCII only",
}


def fmt_mbps(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def fmt_ratio(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:.0f}{X}" if x >= 100 else f"{x:.1f}{X}" if x >= 10 else f"{x:.2f}{X}"


def fmt_kib(kib: int | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB"


def rows_by_cell(cells: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    """{(input, op): {contender: cell}}, in the order the cells were measured."""
    out: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for c in cells:
        out.setdefault((c["input"], c["op"]), {})[c["contender"]] = c
    return out


def ratio(row: dict[str, dict[str, Any]], a: str, b: str) -> float | None:
    """``a``'s speed over ``b``'s in a row: paired round by round (``throughput.paired_ratio``),
    or from the two medians for results written before pairing."""
    paired = row.get(a, {}).get("paired", {}).get(b)
    if paired:
        return float(paired)
    x, y = row.get(a, {}).get("mbps"), row.get(b, {}).get("mbps")
    return x / y if x and y else None


# --- targets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineTarget:
    """A throughput target: over the rows of ``kind`` (and ``size``) and ``ops``, ``pair[0] / pair[1] >= goal``."""

    title: str
    kind: str
    ops: tuple[str, ...]
    pair: tuple[str, str]
    goal: float
    size: str | None = None
    # Reported beside the targets, not judged against a goal.
    reported: bool = False

    def judge(self, cells: list[dict[str, Any]], note: str = "", suffix: str = "") -> dict[str, Any]:
        """The worst ratio over the rows this target covers (None when a row lacks a contender)."""
        worst: tuple[float, str] | None = None
        missing = False
        for (name, op), row in rows_by_cell(cells).items():
            first = next(iter(row.values()))
            if first["kind"] != self.kind + suffix or op not in self.ops:
                continue
            if self.size is not None and first["size"] != self.size:
                continue
            r = ratio(row, *self.pair)
            if r is None:
                missing = True
            elif worst is None or r < worst[0]:
                worst = (r, f"{name} {op}")
        goal = "reported" if self.reported else f"{X_GE} {self.goal:g}{X}"
        if worst is None or missing:
            return {"target": self.title + note, "measured": None, "where": "", "goal": goal, "met": None}
        met = None if self.reported else worst[0] >= self.goal
        return {"target": self.title + note, "measured": worst[0], "where": worst[1], "goal": goal, "met": met}


FULL, TWIN = ("rust-full", "cpex"), ("rust-full", "python-full")
# The performance issue's targets, with the whole catalog (every type and vendor rule) against
# cpex-pii-filter's defaults: ahead on ASCII-only text (cpex's fast path), far ahead once a text
# holds one non-ASCII character (its slow path), and in nested scans.
ENGINE_TARGETS = [
    EngineTarget(f"detect and mask, PII prose, ASCII only, every size: rust {X_GE} 2{X} cpex", "pii-ascii",
                 ("detect", "mask"), FULL, 2),
    EngineTarget(f"detect and mask, no-PII prose, ASCII only, every size: rust {X_GE} 1.5{X} cpex", "clean-ascii",
                 ("detect", "mask"), FULL, 1.5),
    EngineTarget(f"mask, PII prose (non-ASCII), every size: rust {X_GE} 20{X} cpex", "pii", ("mask",), FULL, 20),
    EngineTarget(f"detect and mask, no-PII prose (non-ASCII): rust {X_GE} 20{X} cpex", "clean", ("detect", "mask"),
                 FULL, 20),
    EngineTarget(f"scan, nested JSON, 10 KB and 1 MB: rust {X_GE} 5{X} cpex process_nested", "nested", ("scan",),
                 FULL, 5),
    EngineTarget(f"scan, nested JSON, ASCII only: rust {X_GE} 2{X} cpex process_nested", "nested-ascii", ("scan",),
                 FULL, 2),
    EngineTarget(f"mask, PII prose, 100 KB: rust {X_GE} 200{X} python twin (reported)", "pii", ("mask",), TWIN, 200,
                 "100KB"),
    EngineTarget("detect and mask, short texts with PII (128 B, 512 B), ASCII only: rust ÷ cpex (reported)",
                 "short-pii-ascii", ("detect", "mask"), FULL, 1, reported=True),
    EngineTarget("detect and mask, log lines (a client's IP or e-mail in one in five), ASCII only, every size: "
                 "rust ÷ cpex (reported)", "log-ascii", ("detect", "mask"), FULL, 1, reported=True),
    EngineTarget("detect and mask, everyday prose (common words, one PII sentence per ~500 bytes), ASCII only, "
                 "every size: rust ÷ cpex (reported)", "chat-ascii", ("detect", "mask"), FULL, 1, reported=True),
    EngineTarget("detect and mask, a file in base64 (a tool result carrying an image), no PII, every size: "
                 "rust ÷ cpex (reported)", "blob-ascii", ("detect", "mask"), FULL, 1, reported=True),
    EngineTarget("detect and mask, a table of numbers (CSV, a phone, SSN or card in one row in ten), ASCII only, "
                 "every size: rust ÷ cpex (reported)", "digits-ascii", ("detect", "mask"), FULL, 1, reported=True),
]  # fmt: skip


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with the worst measured ratio over the rows it covers."""
    out: list[dict[str, Any]] = []
    cells = result.get("engines", {}).get("cells", [])
    if cells:
        out += [t.judge(cells) for t in ENGINE_TARGETS]
    cold = result.get("cold", {})
    if cold.get("status") == "ok":
        worst = min(cold["rows"], key=lambda r: r["cold_ratio"])
        ours, theirs = worst["rust-full"]["cold_us"], worst["cpex"]["cold_us"]
        out.append(
            {
                "target": "cold calls (caches evicted before each), mask: rust ÷ cpex (reported)",
                "measured": worst["cold_ratio"],
                "where": f"{worst['input']} ({ours:.1f} µs vs {theirs:.1f} µs)",
                "goal": "reported",
                "met": None,
            }
        )
    mcp = result.get("mcp", {})
    for r in mcp.get("rows", []) if mcp.get("status") == "ok" else []:
        if r["case"] == "mask_pii 10KB":
            x = r["ratio_p50"]
            out.append(
                {
                    "target": f"MCP {r['transport']}: mask_pii 10 KB p50 {X_LE} 1.5{X} ping",
                    "measured": x,
                    "where": f"{r['p50_ms']:.2f} ms" if r["p50_ms"] else r["error"],
                    "goal": f"{X_LE} 1.5{X}",
                    "met": None if x is None else x <= 1.5,
                }
            )
        if r["case"] == "mask_pii 100KB" and r.get("engine_ms"):
            x = r["p50_ms"] / r["engine_ms"] if r["p50_ms"] else None
            stdio = r["transport"] == "stdio"  # the target; HTTP is reported beside it
            floor = next(
                (f["p50_ms"] for f in mcp["rows"] if f["case"] == FLOOR_CASE and f["transport"] == r["transport"]),
                None,
            )
            where = f"{r['p50_ms']:.2f} ms vs {r['engine_ms']:.2f} ms" if x else r["error"]
            if x and floor:
                where += f"; floor {floor:.2f} ms"
            out.append(
                {
                    "target": f"MCP {r['transport']}: mask_pii 100 KB p50 {X_LE} 4{X} the engine's own time"
                    + ("" if stdio else " (reported)"),
                    "measured": x,
                    "where": where,
                    "goal": f"{X_LE} 4{X}" if stdio else "reported",
                    "met": None if x is None or not stdio else x <= 4,
                }
            )
    path = result.get("path", {})
    if path.get("status") == "ok":
        overhead = path["hook_overhead_p50_us"]
        out.append(
            {
                "target": "ContextForge in-process hook, 1 KB tool result: added to the engine's own time",
                "measured": None,
                "where": f"{overhead:.1f} µs (p50)",
                "goal": f"{X_LE} 100 µs",
                "met": overhead <= 100,
            }
        )
        out.append(
            {
                "target": "mcp-pii proxy, 1 KB tool result over stdio: added per call (reported; no peer)",
                "measured": None,
                "where": f"{path['proxy_added_p50_us'] / 1000:.2f} ms (p50)",
                "goal": "reported",
                "met": None,
            }
        )
    for r in result.get("memory", {}).get("rows", []):
        if "error" not in r:
            out.append(
                {
                    "target": f"memory, {r['engine']} engine: no RSS growth after warm-up",
                    "measured": None,
                    "where": f"{r['growth_kib']:+d} KiB over {r['calls'] - r['warmup_calls']:,} calls",
                    "goal": f"{X_LE} {r['tolerance_kib']} KiB",
                    "met": r["flat"],
                }
            )
    return out


# --- Markdown ---------------------------------------------------------------------------------


def _table(head: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    align = align or "l" * len(head)
    sep = ["---:" if a == "r" else "---" for a in align]
    return ["| " + " | ".join(head) + " |", "| " + " | ".join(sep) + " |"] + ["| " + " | ".join(r) + " |" for r in rows]


def _verdict(met: bool | None) -> str:
    return "n/a" if met is None else "yes" if met else "**no**"


def meta_md(meta: dict[str, Any]) -> list[str]:
    m = meta["machine"]
    v = meta["versions"]
    return [
        f"Run {meta['date']} with `{meta['command']}` (commit {meta['commit']}).",
        f"Machine: {m['cpu']}, {m['cpus_usable']} of {m['cpus']} CPUs usable, {m['memory_gib']} GiB, "
        f"{m['platform']}, load average {m['loadavg']} at start"
        + (f" and {meta['loadavg_end']} at the end" if meta.get("loadavg_end") else "")
        + f"; Python {m['python']}.",
        *(
            [
                "",
                "**Warning: the machine was busy during this run (a load above half its CPUs at the start, "
                "or above that and the benchmark's own at the end); ratios are noisier.**",
            ]
            if meta.get("busy")
            else []
        ),
        f"Versions: mcp-pii {v['mcp-pii']} (Rust extension {v['rust-extension']}), "
        f"cpex-pii-filter {v['cpex-pii-filter']}, mcp {v['mcp']}.",
    ]


def targets_md(ts: list[dict[str, Any]]) -> list[str]:
    rows = [
        [
            t["target"],
            fmt_ratio(t["measured"]) if t["measured"] is not None else "",
            t["where"],
            t["goal"],
            _verdict(t["met"]),
        ]
        for t in ts
    ]
    return _table(["target", "worst ratio", "where", "goal", "met"], rows, "lrllr")


def engines_md(section: dict[str, Any]) -> list[str]:
    names = [c for c in CONTENDERS if c in section["contenders"]]
    lines = [
        "MB/s (10^6 bytes of UTF-8 input per second of the process's CPU time: what the machine's other tenants "
        "took is left out), median of repeated runs after warm-up; higher is better. A ratio (here and in the "
        "targets) is the median over rounds of the two contenders' times in the same round (each round runs "
        "every contender back to back), not the quotient of the two medians: a slow stretch of the shared host "
        "then weighs on both sides of each ratio.",
        "`full`: our whole catalog; `peer`: our types that cpex also has (the comparison rows); "
        f"masking strategy `{section['strategy']}` everywhere. cpex's `mask` is `mask(text, detect(text))`; "
        "`scan` is our `Engine.scan` and cpex's `process_nested`. For nested inputs, `detect` and `mask` "
        "run on the serialised JSON text.",
        "",
    ]
    for name, info in section["contenders"].items():
        if info.get("unavailable"):
            lines.append(f"- `{name}`: unavailable ({info['unavailable']})")
        else:
            lines.append(f"- `{name}`: {info['description']}, version {info['version']}")
    lines.append("")
    head = ["input", "size", "op"] + [TITLES[n] for n in names] + RATIO_TITLES
    rows = []
    for (_, op), row in rows_by_cell(section["cells"]).items():
        first = next(iter(row.values()))
        cols = [KIND_TITLES.get(first["kind"], first["kind"]), first["size"], op]
        for n in names:
            c = row.get(n, {})
            cols.append(fmt_mbps(c.get("mbps")) if c.get("status") == "ok" else c.get("status", "n/a"))
        cols += [fmt_ratio(ratio(row, a, b)) for a, b in RATIOS]
        rows.append(cols)
    lines += _table(head, rows, "lll" + "r" * (len(names) + len(RATIOS)))
    errors = [c for c in section["cells"] if c["status"] == "error"]
    if errors:
        lines += ["", "Errors:"] + [f"- `{c['contender']}` on {c['input']} {c['op']}: {c['detail']}" for c in errors]
    return lines


def detections_md(section: dict[str, Any]) -> list[str]:
    names = [c for c in CONTENDERS if c in section["contenders"]]
    rows = []
    notes = []
    for inp, counts in section["detections"].items():
        rows.append([inp, str(counts["planted"])] + ["n/a" if counts.get(n) is None else str(counts[n]) for n in names])
        if inp.startswith("clean"):
            notes += [f"- {n} reports {counts[n]} detections in {inp}." for n in names if counts.get(n)]
        elif counts.get("python-full") not in (None, counts["planted"]):
            notes.append(f"- python-full finds {counts['python-full']} items in {inp}, {counts['planted']} planted.")
    lines = [
        "Detections per input (one call each): what the generator planted, and what each contender reports. "
        "cpex has no IBAN, AWS key, API key, GitHub token or JWT type, so it finds fewer items by design.",
        "",
    ]
    lines += _table(["input", "planted"] + [TITLES[n] for n in names], rows, "l" + "r" * (len(names) + 1))
    if notes:
        lines += ["", *notes]
    else:
        lines += ["", "No contender reports anything in the no-PII inputs."]
    return lines


def mcp_md(section: dict[str, Any]) -> list[str]:
    if section.get("status") != "ok":
        return [f"Not measured: {section.get('detail', 'skipped')}."]
    lines = [
        f"Server `{section['server']}` ({section['engine']} engine{', stand-in' if section['standin'] else ''}), "
        f"client {section['client']}; protocol {', '.join(f'{k}: {v}' for k, v in section['protocols'].items())}. "
        "Latency seen by the client, calls round-robin over the cases; `p50 ÷ ping` is the case's p50 over "
        "the no-op `ping` p50 on the same server and transport, `p50 ÷ engine` over `Engine.mask` on the same "
        f"arguments in the benchmark's process, warm (the last of {ENGINE_WARM + 1} calls in a row), timed after "
        "each of the case's calls so that both see the same stretches of a shared machine. `client check` is the "
        "part of a call the SDK client spends validating the result against the tool's output schema (`jsonschema`), "
        "measured apart. "
        "`spans` asks for every detection's span (`detections='spans'`), `counts` for the counts as the text "
        "content (`text_content='counts'`: the masked text travels once), `floor` for one type whose search "
        f"costs little (`types=['{FLOOR_TYPE}']`: the same 100 KB in and out, so its p50 is what the protocol "
        "and the transport cost with almost no engine work; the 100 KB target's row quotes it); the other "
        "calls, and the targets, use the tools' defaults.",
        "",
    ]
    rows = []
    for r in section["rows"]:
        if r["error"]:
            rows.append([r["transport"], r["case"], "error", "", "", "", "", r["error"][:120], ""])
            continue
        rows.append(
            [
                r["transport"],
                r["case"],
                f"{r['p50_ms']:.2f}",
                f"{r['p95_ms']:.2f}",
                f"{r['p99_ms']:.2f}",
                str(r["n"]),
                "n/a" if r.get("client_check_ms") is None else f"{r['client_check_ms']:.2f}",
                fmt_ratio(r["ratio_p50"]),
                fmt_ratio(r["p50_ms"] / r["engine_ms"]) if r.get("engine_ms") else "",
            ]
        )
    head = ["transport", "call", "p50 ms", "p95 ms", "p99 ms", "calls", "client check ms", "p50 ÷ ping", "p50 ÷ engine"]
    lines += _table(head, rows, "llrrrrrrr")
    pings = {r["transport"]: r["p50_ms"] for r in section["rows"] if r["case"] == "ping" and r["p50_ms"]}
    if pings.get("http", 0) >= 30 and pings.get("stdio", 99) < 10:
        lines += [
            "",
            f"Note: a no-op over HTTP takes {pings['http']:.0f} ms against {pings['stdio']:.1f} ms over stdio. A floor "
            "near 40 ms on small responses is the mark of Nagle's algorithm meeting delayed ACKs (a server socket "
            "without TCP_NODELAY); it hides the PII work in the HTTP ratios.",
        ]
    return lines


def cold_md(section: dict[str, Any]) -> list[str]:
    if section.get("status") != "ok":
        return [f"Not measured: {section.get('detail', 'skipped')}."]
    runs = section["runs"]
    lines = [
        f"`mask` of one text by `rust-full` and by cpex (`mask(text, detect(text))`): back to back (warm, best of "
        f"{runs['warm']}) and each call after {section['evict_bytes'] >> 20} MiB were read, more than "
        f"the last-level cache (cold, best of {runs['cold']}; see `bench/cold.py`). A server that gets a call now "
        "and then runs it cold.",
        "",
    ]
    rows = [
        [
            r["input"],
            f"{r['rust-full']['warm_us']:,.1f}",
            f"{r['cpex']['warm_us']:,.1f}",
            fmt_ratio(r["warm_ratio"]),
            f"{r['rust-full']['cold_us']:,.1f}",
            f"{r['cpex']['cold_us']:,.1f}",
            fmt_ratio(r["cold_ratio"]),
        ]
        for r in section["rows"]
    ]
    head = ["input", "rust warm µs", "cpex warm µs", "rust ÷ cpex", "rust cold µs", "cpex cold µs", "rust ÷ cpex"]
    return lines + _table(head, rows, "lrrrrrr")


def path_md(section: dict[str, Any]) -> list[str]:
    if section.get("status") != "ok":
        return [f"Not measured: {section.get('detail', 'skipped')}."]
    lines = [
        "Per call, on the same 1 KB PII prose, both plugins loaded with the built-in filter's default "
        "configuration (see `bench/path_latency.py`). The last column divides each row's p50 by the "
        "built-in plugin's (or, for the proxy, by the direct call's).",
        "",
    ]
    by_row: dict[str, dict[str, dict[str, Any]]] = {}
    for r in section["rows"]:
        by_row.setdefault(r["row"], {})[r["who"]] = r
    rows = []
    for name, entries in by_row.items():
        base = entries.get("cpex-pii-filter") or entries.get("upstream direct")
        for who, r in entries.items():
            share = fmt_ratio(r["p50_us"] / base["p50_us"]) if base and base["p50_us"] else "n/a"
            rows.append([name, who, f"{r['p50_us']:,.1f}", f"{r['p95_us']:,.1f}", str(r["n"]), share])
    lines += _table(["measurement", "who", "p50 µs", "p95 µs", "calls", "p50 ÷ peer"], rows, "llrrrr")
    lines += [
        "",
        f"The in-process hook adds {section['hook_overhead_p50_us']:.1f} µs (p50) to the engine's own time "
        f"(target: under 100 µs); the proxy adds {section['proxy_added_p50_us'] / 1000:.2f} ms per call over stdio. "
        "The built-in plugin has no proxy, so that row has no peer.",
    ]
    return lines


def memory_md(section: dict[str, Any]) -> list[str]:
    rows = []
    for r in section.get("rows", []):
        if "error" in r:
            rows.append([r["engine"], "error", "", "", "", "", r["error"][:120]])
            continue
        rows.append(
            [
                r["engine"],
                f"{r['calls']:,}",
                fmt_kib(r["rss_after_warmup_kib"]),
                fmt_kib(r["rss_end_kib"]),
                f"{r['growth_kib']:+,d} KiB",
                fmt_kib(r["peak_rss_kib"]),
                _verdict(r["flat"]),
            ]
        )
    lines = [
        "Mixed calls in one process per engine (detect, mask with every strategy, scan; 200 B to 100 KB; "
        f"first {section.get('warmup', '?'):,} calls are warm-up). RSS is `VmRSS` after a `gc.collect()`, "
        "peak is `VmHWM` (the JSON also has `ru_maxrss`, which Linux carries over from the parent "
        "process); growth is the end minus the end of warm-up.",
        "",
    ]
    return lines + _table(
        ["engine", "calls", "RSS after warm-up", "RSS at end", "growth", "peak RSS", "flat"], rows, "lrrrrrr"
    )


def to_markdown(result: dict[str, Any], level: int = 1, detections: bool = True) -> str:
    """The report; ``level`` is the heading level of its title (the README embeds it one level down,
    without the title and without the detections table)."""
    h = "#" * level
    lines = [f"{h} mcp-pii benchmark", ""] if level == 1 else []
    lines += [*meta_md(result["meta"]), ""]
    ts = result.get("targets", [])
    if ts:
        lines += [f"{h}# Targets", "", *targets_md(ts), ""]
    if "engines" in result:
        lines += [f"{h}# Engine throughput", "", *engines_md(result["engines"]), ""]
        if detections:
            lines += [f"{h}## Detections", "", *detections_md(result["engines"]), ""]
    if "cold" in result:
        lines += [f"{h}# Cold calls", "", *cold_md(result["cold"]), ""]
    if "mcp" in result:
        lines += [f"{h}# MCP tool-call latency", "", *mcp_md(result["mcp"]), ""]
    if "path" in result:
        lines += [f"{h}# Traffic path: plugin and proxy latency", "", *path_md(result["path"]), ""]
    if "memory" in result:
        lines += [f"{h}# Memory", "", *memory_md(result["memory"]), ""]
    return "\n".join(lines)
