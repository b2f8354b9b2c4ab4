"""The facade's fallback to the pure-Python engine when the Rust extension cannot be imported.

This is what a user of the pure wheel (``py3-none-any``) or of a broken platform build gets: the
twin runs, and one warning at engine start says so and names the ways to the fast engine.
``make dist`` checks the same on the real pure wheel; here the extension is hidden from the import
system (``sys.modules["mcp_pii._native"] = None`` makes ``import`` raise ImportError).
"""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
from servers import server_env

from mcp_pii import engine as engine_module
from mcp_pii.engine import Engine, native_available

EMAIL = "jane.doe@example.com"
HIDE_NATIVE = "import sys; sys.modules['mcp_pii._native'] = None; "


@pytest.fixture
def no_native(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``from mcp_pii import _native`` fail, and forget which engines were announced."""
    monkeypatch.setitem(sys.modules, "mcp_pii._native", None)
    monkeypatch.delattr("mcp_pii._native", raising=False)
    monkeypatch.setattr(engine_module, "_announced", set())
    monkeypatch.delenv("MCP_PII_FORCE_PYTHON", raising=False)


@pytest.mark.usefixtures("no_native")
def test_falls_back_to_python_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mcp_pii")
    assert not native_available()
    first, second = Engine(), Engine()
    assert first.implementation == second.implementation == "python"
    assert first.mask(f"mail {EMAIL}").text == "mail [EMAIL]"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "this is the pure-Python install" in message
    assert "https://rustup.rs" in message
    assert "pip install --no-binary mcp-pii mcp-pii" in message


@pytest.mark.usefixtures("no_native")
def test_a_broken_extension_says_it_did_not_load(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A platform build whose shared library is there but cannot load (wrong libc, wrong arch).
    monkeypatch.setattr(engine_module.importlib.util, "find_spec", lambda name: object())
    caplog.set_level(logging.WARNING, logger="mcp_pii")
    assert Engine().implementation == "python"
    assert "the Rust extension did not load on this platform" in caplog.records[0].getMessage()


@pytest.mark.usefixtures("no_native")
def test_asking_for_rust_without_the_extension_is_an_error() -> None:
    with pytest.raises(ImportError, match=r"the Rust extension mcp_pii\._native is not built"):
        Engine(implementation="rust")


@pytest.mark.usefixtures("no_native")
def test_forced_python_does_not_warn(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_PII_FORCE_PYTHON", "1")
    caplog.set_level(logging.INFO, logger="mcp_pii")
    assert Engine().implementation == "python"
    assert [r.levelno for r in caplog.records] == [logging.INFO]


def run_python(code: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter that cannot import the Rust extension."""
    return subprocess.run(
        [sys.executable, "-c", HIDE_NATIVE + code],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=server_env(),
    )


def test_the_warning_prints_once_on_stderr() -> None:
    # The bug this pins: the fallback went to both logging and warnings.warn, so it printed twice.
    done = run_python("from mcp_pii import Engine; print(Engine().implementation, Engine().implementation)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "python python"
    assert done.stderr.count("mcp-pii: ") == 1
    assert "the pure-Python engine runs" in done.stderr


def test_the_cli_masks_with_one_warning() -> None:
    done = run_python("from mcp_pii.cli import main; sys.exit(main(['mask']))", stdin=f"mail {EMAIL}\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "mail [EMAIL]\n"
    assert done.stderr.count("\n") == 1
    assert EMAIL not in done.stderr
