"""What the engine detects, told from the catalog: for ``mcp-pii types``, the README's type list and
the tool descriptions a model reads.

Run ``python -m mcp_pii.describe --readme README.md`` to rewrite the README's generated type list
(between ``<!-- types:start -->`` and ``<!-- types:end -->``); a test fails when it is stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mcp_pii.catalog import catalog_data

START, END = "<!-- types:start -->", "<!-- types:end -->"


@dataclass(frozen=True)
class RuleInfo:
    """One named rule of a type (a vendor's token format, an unlabelled shape)."""

    id: str
    description: str
    example: str


@dataclass(frozen=True)
class TypeInfo:
    """One type: what it is, whether it needs a label or key, what names it, an example."""

    id: str
    category: str
    description: str
    needs_label: bool  # found only after a label or under a key that names it
    labels: list[str]  # the label phrases, as a person would write them
    rules: list[RuleInfo]
    example: str


def _example(case: Any) -> str:
    return case if isinstance(case, str) else case["text"]


def _rule_example(rule: dict[str, Any]) -> str:
    examples = rule.get("examples", [])
    return _example(examples[0]) if examples else ""


def catalog_types(type_ids: list[str] | None = None) -> list[TypeInfo]:
    """Describe the built-in types (those in ``type_ids`` only, when given), in catalog order."""
    data = catalog_data()
    vendor: dict[str, list[dict[str, Any]]] = {}
    for rule in data["rules"]:
        vendor.setdefault(rule["type"], []).append(rule)
    out = []
    for entry in data["types"]:
        if type_ids is not None and entry["id"] not in type_ids:
            continue
        rules = [*vendor.get(entry["id"], []), *entry.get("rules", [])]
        labels = entry.get("labels", {})
        out.append(
            TypeInfo(
                id=entry["id"],
                category=entry["category"],
                description=entry["description"],
                needs_label=bool(labels) and not entry.get("patterns") and entry["category"] == "personal",
                labels=list(labels.get("phrases", [])),
                rules=[RuleInfo(r["id"], r.get("description", ""), _rule_example(r)) for r in rules],
                example=_example(entry["examples"][0]) if entry.get("examples") else "",
            )
        )
    return out


def labelled_only(type_ids: list[str] | None = None) -> list[str]:
    """The ids of the types found only through a label or key."""
    return [t.id for t in catalog_types(type_ids) if t.needs_label]


def _how(t: TypeInfo) -> str:
    if t.needs_label:
        return "label or key only"
    if t.labels:
        return "shape; more forms after a label or key"
    return "shape"


def markdown(types: list[TypeInfo]) -> str:
    """The README's type list: one row per type, its rules and labels."""
    rows = [
        "| type | category | found by | labels (any case, snake/camel/kebab, with prefixes) | named rules |",
        "|---|---|---|---|---|",
    ]
    for t in types:
        labels = ", ".join(f"`{p}`" for p in t.labels[:6]) + (" …" if len(t.labels) > 6 else "")
        rules = len(t.rules)
        named = (
            "—" if not rules else f"{rules} ({', '.join(f'`{r.id}`' for r in t.rules[:3])}{' …' if rules > 3 else ''})"
        )
        rows.append(f"| `{t.id}` | {t.category} | {_how(t)} | {labels or '—'} | {named} |")
    total = sum(len(t.rules) for t in types)
    vendors = len({r.id.split("-")[0] for t in types for r in t.rules})
    rows.append("")
    rows.append(
        f"{len(types)} types, {total} named rules (about {vendors} vendors). `mcp-pii types` lists every rule "
        "with an example; the catalog files under `mcp_pii/catalog/` are the reference."
    )
    return "\n".join(rows)


def text(types: list[TypeInfo], rules: bool = False) -> str:
    """A plain listing for the terminal."""
    lines = []
    for t in types:
        lines.append(f"{t.id}  [{t.category}; {_how(t)}]  {t.description}")
        if t.labels:
            lines.append(f"    labels: {', '.join(t.labels)}")
        if t.example:
            lines.append(f"    example: {t.example!r}")
        if rules:
            lines.extend(f"    rule {r.id}: {r.description or 'format'}  e.g. {r.example!r}" for r in t.rules)
        elif t.rules:
            lines.append(f"    {len(t.rules)} named rules (--rules lists them)")
    return "\n".join(lines)


def as_json(types: list[TypeInfo]) -> str:
    """The description as JSON."""
    return json.dumps([asdict(t) for t in types], ensure_ascii=False, indent=2)


def update_readme(path: Path) -> bool:
    """Rewrite the generated type list of a README; return True if it changed."""
    readme = path.read_text(encoding="utf-8")
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    new = f"{head}{START}\n{markdown(catalog_types())}\n{END}{tail}"
    if new != readme:
        path.write_text(new, encoding="utf-8")
    return new != readme


def main(argv: list[str] | None = None) -> int:
    """``python -m mcp_pii.describe --readme README.md``: regenerate the README's type list."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--readme", type=Path, required=True)
    args = p.parse_args(argv)
    changed = update_readme(args.readme)
    print("README type list " + ("updated" if changed else "already current"), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
