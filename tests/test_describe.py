"""What the engine says it detects: `mcp-pii types`, the README's type list, the tool descriptions."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from mcp_pii import Engine
from mcp_pii.catalog import builtin_type_ids
from mcp_pii.describe import END, START, catalog_types, labelled_only, markdown

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_type_list_is_generated_from_the_catalog() -> None:
    readme = README.read_text(encoding="utf-8")
    section = readme.split(START, 1)[1].split(END, 1)[0].strip()
    assert section == markdown(catalog_types()), "run: python -m mcp_pii.describe --readme README.md"


def test_every_type_and_rule_is_described() -> None:
    types = catalog_types()
    assert [t.id for t in types] == list(builtin_type_ids())
    for t in types:
        assert t.description, t.id
        assert t.example, t.id
        assert all(r.example for r in t.rules), t.id
    assert set(labelled_only()) == {
        "date_of_birth",
        "passport",
        "driver_license",
        "bank_account",
        "medical_record",
        "bsn",
    }


def test_types_command(tmp_path: Path) -> None:
    run = [sys.executable, "-m", "mcp_pii", "types"]
    listed = subprocess.run([*run, "--json"], capture_output=True, text=True, check=True, timeout=60)
    described = json.loads(listed.stdout)
    assert [t["id"] for t in described] == Engine().types
    passport = next(t for t in described if t["id"] == "passport")
    assert passport["needs_label"]
    assert "travel document" in passport["labels"]
    plain = subprocess.run([*run, "--rules"], capture_output=True, text=True, check=True, timeout=60).stdout
    assert "rule openai-api-key" in plain
    assert "label or key only" in plain
    config = tmp_path / "c.toml"
    config.write_text('enabled_types = ["email", "emp"]\n[[custom_patterns]]\nid = "emp"\npattern = "EMP-[0-9]{6}"\n')
    only = subprocess.run(
        [*run, "--json", "--config", str(config)], capture_output=True, text=True, check=True, timeout=60
    )
    assert [t["id"] for t in json.loads(only.stdout)] == ["email", "emp"]


def test_tool_descriptions_say_which_types_need_a_label() -> None:
    from mcp_pii.server import build_server

    tools = {t.name: t.description or "" for t in asyncio.run(build_server().list_tools())}
    for name in ("detect_pii", "mask_pii", "scan_nested"):
        assert "date_of_birth, passport, driver_license" in tools[name], name
        assert "under a key" in tools[name], name
