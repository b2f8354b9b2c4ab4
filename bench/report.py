"""Turn a benchmark result (the dict ``run.py`` writes as JSON) into Markdown, and judge the targets."""

from __future__ import annotations

from typing import Any

from engines import CONTENDERS

# (contender, contender) ratios shown per row: the peer comparison, the twin, and the twin vs the peer.
RATIOS = [("rust-peer", "cpex"), ("rust-full", "python-full"), ("python-peer", "cpex")]
RATIO_TITLES = ["rust ÷ cpex", "rust ÷ python", "python ÷ cpex"]
TITLES = {
    "rust-full": "rust full",
    "rust-peer": "rust peer",
    "python-full": "python full",
    "python-peer": "python peer",
    "cpex": "cpex",
}
KIND_TITLES = {
    "pii": "PII prose",
    "clean": "no-PII prose",
    "pii-ascii": "PII prose, ASCII only",
    "clean-ascii": "no-PII prose, ASCII only",
    "nested": "nested JSON",
}


def fmt_mbps(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def fmt_ratio(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:.0f}×" if x >= 100 else f"{x:.1f}×" if x >= 10 else f"{x:.2f}×"


def fmt_kib(kib: int | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB"


def rows_by_cell(cells: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    """{(input, op): {contender: cell}}, in the order the cells were measured."""
    out: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for c in cells:
        out.setdefault((c["input"], c["op"]), {})[c["contender"]] = c
    return out


def ratio(row: dict[str, dict[str, Any]], a: str, b: str) -> float | None:
    x, y = row.get(a, {}).get("mbps"), row.get(b, {}).get("mbps")
    return x / y if x and y else None


# --- targets ----------------------------------------------------------------------------------


def _engine_target(
    cells: list[dict[str, Any]], title: str, kind: str, ops: tuple[str, ...], pair: tuple[str, str], goal: float, size: str | None = None
) -> dict[str, Any]:
    worst: tuple[float, str] | None = None
    missing = False
    for (name, op), row in rows_by_cell(cells).items():
        first = next(iter(row.values()))
        if first["kind"] != kind or op not in ops or (size is not None and first["size"] != size):
            continue
        r = ratio(row, *pair)
        if r is None:
            missing = True
        elif worst is None or r < worst[0]:
            worst = (r, f"{name} {op}")
    if worst is None or missing:
        return {"target": title, "measured": None, "where": "", "goal": f"≥ {goal:g}×", "met": None}
    return {"target": title, "measured": worst[0], "where": worst[1], "goal": f"≥ {goal:g}×", "met": worst[0] >= goal}


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with the worst measured ratio over the rows it covers."""
    out: list[dict[str, Any]] = []
    cells = result.get("engines", {}).get("cells", [])
    if cells:
        peer, twin = ("rust-peer", "cpex"), ("rust-full", "python-full")
        for suffix, note in (("", ""), ("-ascii", " (ASCII-only inputs, not a target: shown for cpex's fast path)")):
            out += [
                _engine_target(cells, f"mask, PII prose, every size: rust ≥ 10× cpex{note}", "pii" + suffix, ("mask",), peer, 10),
                _engine_target(
                    cells, f"mask, PII prose, 100 KB: rust ≥ 200× python twin{note}", "pii" + suffix, ("mask",), twin, 200, "100KB"
                ),
                _engine_target(
                    cells, f"detect and mask, no-PII prose: rust ≥ 20× cpex{note}", "clean" + suffix, ("detect", "mask"), peer, 20
                ),
            ]
        out.insert(3, _engine_target(cells, "scan, nested JSON: rust ≥ 10× cpex process_nested", "nested", ("scan",), peer, 10))
    mcp = result.get("mcp", {})
    if mcp.get("status") == "ok":
        for r in mcp["rows"]:
            if r["case"] == "mask_pii 10KB":
                x = r["ratio_p50"]
                out.append(
                    {
                        "target": f"MCP {r['transport']}: mask_pii 10 KB p50 ≤ 1.2× ping",
                        "measured": x,
                        "where": f"{r['p50_ms']:.2f} ms" if r["p50_ms"] else r["error"],
                        "goal": "≤ 1.2×",
                        "met": None if x is None else x <= 1.2,
                    }
                )
    mem = result.get("memory", {})
    for r in mem.get("rows", []):
        if "error" not in r:
            out.append(
                {
                    "target": f"memory, {r['engine']} engine: no RSS growth after warm-up",
                    "measured": None,
                    "where": f"{r['growth_kib']:+d} KiB over {r['calls'] - r['warmup_calls']:,} calls",
                    "goal": f"≤ {r['tolerance_kib']} KiB",
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
        f"{m['platform']}, load average {m['loadavg']} at start; Python {m['python']}.",
        f"Versions: mcp-pii {v['mcp-pii']} (Rust extension {v['rust-extension']}), "
        f"cpex-pii-filter {v['cpex-pii-filter']}, mcp {v['mcp']}.",
    ]


def targets_md(ts: list[dict[str, Any]]) -> list[str]:
    rows = [
        [t["target"], fmt_ratio(t["measured"]) if t["measured"] is not None else "", t["where"], t["goal"], _verdict(t["met"])]
        for t in ts
    ]
    return _table(["target", "worst ratio", "where", "goal", "met"], rows, "lrllr")


def engines_md(section: dict[str, Any]) -> list[str]:
    names = [c for c in CONTENDERS if c in section["contenders"]]
    lines = [
        "MB/s (10^6 bytes of UTF-8 input per second), median of repeated runs after warm-up; higher is better.",
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
    for (name, op), row in rows_by_cell(section["cells"]).items():
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
        "Latency seen by the client, calls round-robin over the cases; the last column is the case's p50 over "
        "the no-op `ping` p50 on the same server and transport.",
        "",
    ]
    rows = []
    for r in section["rows"]:
        if r["error"]:
            rows.append([r["transport"], r["case"], "error", "", "", "", r["error"][:120]])
            continue
        rows.append(
            [
                r["transport"],
                r["case"],
                f"{r['p50_ms']:.2f}",
                f"{r['p95_ms']:.2f}",
                f"{r['p99_ms']:.2f}",
                str(r["n"]),
                fmt_ratio(r["ratio_p50"]),
            ]
        )
    return lines + _table(["transport", "call", "p50 ms", "p95 ms", "p99 ms", "calls", "p50 ÷ ping"], rows, "llrrrrr")


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
                fmt_kib(max(r["peak_rss_kib"], r["max_sample_kib"])),
                _verdict(r["flat"]),
            ]
        )
    lines = [
        "Mixed calls in one process per engine (detect, mask with every strategy, scan; 200 B to 100 KB; "
        f"first {section.get('warmup', '?'):,} calls are warm-up). RSS is `VmRSS` after a `gc.collect()`, "
        "peak is the larger of `ru_maxrss` and the samples; growth is the end minus the end of warm-up.",
        "",
    ]
    return lines + _table(
        ["engine", "calls", "RSS after warm-up", "RSS at end", "growth", "peak RSS", "flat"], rows, "lrrrrrr"
    )


def to_markdown(result: dict[str, Any]) -> str:
    """The whole report."""
    lines = ["# mcp-pii benchmark", "", *meta_md(result["meta"]), ""]
    ts = result.get("targets", [])
    if ts:
        lines += ["## Targets", "", *targets_md(ts), ""]
    if "engines" in result:
        lines += ["## Engine throughput", "", *engines_md(result["engines"]), ""]
        lines += ["### Detections", "", *detections_md(result["engines"]), ""]
    if "mcp" in result:
        lines += ["## MCP tool-call latency", "", *mcp_md(result["mcp"]), ""]
    if "memory" in result:
        lines += ["## Memory", "", *memory_md(result["memory"]), ""]
    return "\n".join(lines)
