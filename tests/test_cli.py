"""The ``mcp-pii`` command: help, errors, and detect/mask/scan from the shell.

``run`` starts the real command in a subprocess (what a user sees: exit status, no traceback);
``cli`` calls ``mcp_pii.cli.main`` in this process with the same arguments, which is ten times
faster, for the many shell cases. ``serve`` always runs in a subprocess (it sets up logging).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from servers import PII, PII_PAYLOAD, PII_TEXT, PYTHON, server_env

from mcp_pii import Engine, __version__
from mcp_pii.cli import main

pytestmark = pytest.mark.timeout(60)

SCRIPT = Path(PYTHON).parent / "mcp-pii"
SERVE_OPTIONS = [
    "--config",
    "--force-python",
    "--log-level",
    "--transport",
    "--host",
    "--port",
    "--stateless",
    "--json-response",
    "--allowed-host",
    "--allowed-origin",
    "--auth-token",
    "--max-body-bytes",
]


def run(
    *args: str, stdin: str | bytes = "", env: dict[str, str] | None = None, script: bool = False
) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m mcp_pii ARGS`` (or the ``mcp-pii`` script) with ``stdin``; never raises on exit status."""
    cmd = [str(SCRIPT)] if script else [PYTHON, "-m", "mcp_pii"]
    return subprocess.run(
        [*cmd, *args],
        input=stdin.encode() if isinstance(stdin, str) else stdin,
        capture_output=True,
        env=server_env(env),
        timeout=30,
        check=False,
    )


Run = Callable[..., subprocess.CompletedProcess[bytes]]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Run:
    """Like ``run``, but calls ``main()`` in process (argv, stdin, stdout, stderr and environment swapped)."""

    def call(
        *args: str, stdin: str | bytes = "", env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        assert "serve" not in args
        for name in [k for k in os.environ if k.startswith("MCP_PII_")]:
            monkeypatch.delenv(name)
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        data = stdin.encode() if isinstance(stdin, str) else stdin
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse: --help, --version and usage errors
                code = exc.code if isinstance(exc.code, int) else 1
        return subprocess.CompletedProcess(list(args), code, out.getvalue().encode(), err.getvalue().encode())

    return call


def one_line_error(done: subprocess.CompletedProcess[bytes], *expected: str) -> str:
    """Exit status 2, nothing on stdout, one ``mcp-pii: error:`` line on stderr, no traceback."""
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert done.stdout == b""
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    assert err.startswith("mcp-pii: error: "), err
    for text in expected:
        assert text in err, err
    return err


# --- help and version --------------------------------------------------------------------------------


def test_help() -> None:
    done = run("--help", script=True)
    assert done.returncode == 0
    out = done.stdout.decode()
    for word in ("serve", "detect", "mask", "scan", "--version", "MCP_PII_FORCE_PYTHON", "MCP_PII_CONFIG"):
        assert word in out


def test_serve_help() -> None:
    done = run("serve", "--help")
    assert done.returncode == 0
    out = done.stdout.decode()
    for option in [*SERVE_OPTIONS, "stdio,http,sse"]:
        assert option in out, option


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("detect", ["--types", "--values", "--config", "--force-python"]),
        ("mask", ["--types", "--strategy", "redact,label,partial,hash,tokenize,remove"]),
        ("scan", ["--types", "--strategy", "--report"]),
    ],
)
def test_command_help(command: str, options: list[str]) -> None:
    done = run(command, "--help")
    assert done.returncode == 0
    for option in options:
        assert option in done.stdout.decode(), option


@pytest.mark.parametrize("script", [False, True])
def test_version(script: bool) -> None:
    done = run("--version", script=script)
    assert done.returncode == 0
    assert done.stdout.decode().strip() == f"mcp-pii {__version__}"


def test_no_command_prints_usage() -> None:
    done = run()
    assert done.returncode == 2
    assert "usage: mcp-pii" in done.stderr.decode()
    assert "Traceback" not in done.stderr.decode()


# --- bad usage -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["serve", "--bogus"], "unrecognized arguments: --bogus"),
        (["serve", "--transport", "carrier-pigeon"], "argument --transport: invalid choice"),
        (["serve", "--port", "abc"], "argument --port"),
        # Regression: an out-of-range port reached socket.bind() and crashed with an OverflowError traceback.
        (["serve", "--transport", "http", "--port", "99999"], "argument --port"),
        (["serve", "--transport", "http", "--port", "-1"], "argument --port"),
        (["serve", "--max-body-bytes", "0"], "argument --max-body-bytes"),
        (["serve", "--max-body-bytes", "lots"], "argument --max-body-bytes"),
        (["mask", "--strategy", "obfuscate"], "argument --strategy: invalid choice: 'obfuscate'"),
        (["detect", "--strategy", "label"], "unrecognized arguments: --strategy"),
        (["detect", "a", "b"], "unrecognized arguments: b"),
    ],
)
def test_bad_usage(args: list[str], expected: str) -> None:
    err = one_line_error(run(*args), expected)
    assert "--help" in err  # points to the help


def test_missing_input_file(cli: Run) -> None:
    one_line_error(cli("detect", "/nonexistent/input.txt"), "No such file or directory")


def test_unknown_type(cli: Run) -> None:
    err = one_line_error(cli("mask", "--types", "email,nope", stdin=PII_TEXT), "unknown PII type", "email, ")
    assert PII["email"] not in err


def test_invalid_utf8(cli: Run) -> None:
    one_line_error(cli("mask", stdin=b"caf\xe9 " + PII["ssn"].encode()), "not valid UTF-8")


def test_scan_invalid_json(cli: Run) -> None:
    err = one_line_error(cli("scan", stdin='{"ssn": "' + PII["ssn"]), "input is not JSON")
    assert PII["ssn"] not in err


def test_over_a_limit(cli: Run) -> None:
    err = one_line_error(cli("mask", stdin=PII_TEXT, env={"MCP_PII_MAX_TEXT_BYTES": "16"}), "max_text_bytes")
    assert PII["email"] not in err


# --- configuration errors --------------------------------------------------------------------------------


def test_missing_config_file(cli: Run) -> None:
    one_line_error(run("serve", "--config", "/nonexistent/mcp-pii.toml"), "cannot read config file")
    for command in ("mask", "scan", "detect"):
        one_line_error(cli(command, "--config", "/nonexistent/mcp-pii.toml"), "cannot read config file")


def test_config_from_env_missing(cli: Run) -> None:
    one_line_error(cli("mask", env={"MCP_PII_CONFIG": "/nonexistent/c.toml"}), "cannot read config file")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("default_strategy = [", "is not valid TOML"),
        ('default_strategy = "obfuscate"', "invalid configuration: default_strategy"),
        ('enabled_types = ["email", "shoe_size"]', "unknown PII type 'shoe_size' in enabled_types"),
        ("max_depth = 0", "max_depth"),
        ("colour = 1", "colour"),
        (f'redaction_text = "{PII["email"] * 20}"', "redaction_text"),  # too long; must not be echoed
        (f'allow_patterns = ["{PII["ssn"]}(?=x)"]', "(?="),
        ('[[custom_patterns]]\nid = "email"\npattern = "x"', "email"),
    ],
)
def test_invalid_config_file(cli: Run, tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "mcp-pii.toml"
    path.write_text(content, encoding="utf-8")
    err = one_line_error(cli("mask", "--config", str(path)), expected)
    if "redaction_text" in content:
        assert PII["email"] not in err


@pytest.mark.parametrize(
    ("content", "expected"),
    [("default_strategy = [", "is not valid TOML"), ("max_nodes = -5", "max_nodes")],
)
def test_serve_invalid_config_file(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "mcp-pii.toml"
    path.write_text(content, encoding="utf-8")
    one_line_error(run("serve", "--config", str(path)), expected)


def test_invalid_env_setting(cli: Run) -> None:
    one_line_error(cli("mask", env={"MCP_PII_MAX_DEPTH": "deep"}), "MCP_PII_MAX_DEPTH must be a whole number")


# --- detect / mask / scan ------------------------------------------------------------------------------


def test_mask_reads_stdin() -> None:
    done = run("mask", stdin=PII_TEXT, script=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == Engine().mask(PII_TEXT).text
    for value in PII.values():
        assert value.encode() not in done.stdout


@pytest.mark.parametrize("strategy", ["redact", "label", "partial", "hash", "tokenize", "remove"])
def test_mask_strategies(cli: Run, strategy: str) -> None:
    done = cli("mask", "--strategy", strategy, "-", stdin=PII_TEXT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == Engine().mask(PII_TEXT, strategy).text


def test_mask_types_and_engines(cli: Run) -> None:
    outputs = set()
    for extra in ([], ["--force-python"]):
        done = cli("mask", "--types", "email, ssn", *extra, stdin=PII_TEXT)
        assert done.returncode == 0, done.stderr
        outputs.add(done.stdout)
    assert len(outputs) == 1
    out = outputs.pop().decode()
    assert "[EMAIL]" in out
    assert "[SSN]" in out
    assert PII["credit_card"] in out


def test_mask_with_config_and_env(cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[mcp_pii]\ndefault_strategy = "redact"\nredaction_text = "<x>"\n', encoding="utf-8")
    done = cli("mask", "--config", str(path), stdin=f"a {PII['email']} b {PII['ssn']}")
    assert done.stdout.decode() == "a <x> b <x>"
    done = cli(
        "mask",
        "--config",
        str(path),
        stdin=f"a {PII['email']} b {PII['ssn']}",
        env={"MCP_PII_STRATEGIES": "ssn=partial"},
    )
    assert done.stdout.decode() == "a <x> b ***-**-6789"


def test_detect_file(cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_text(PII_TEXT, encoding="utf-8")
    done = run("detect", str(path))
    assert done.returncode == 0, done.stderr
    for value in PII.values():
        assert value.encode() not in done.stdout
    detections = json.loads(done.stdout)["detections"]
    assert {d["type"]: PII_TEXT[d["start"] : d["end"]] for d in detections} == PII
    assert all(set(d) == {"type", "start", "end"} for d in detections)

    with_values = json.loads(cli("detect", "--values", str(path)).stdout)["detections"]
    assert {d["type"]: d["value"] for d in with_values} == PII

    only = json.loads(cli("detect", "--types", "iban", str(path)).stdout)["detections"]
    assert [d["type"] for d in only] == ["iban"]


def test_scan_masks_json(cli: Run) -> None:
    done = cli("scan", stdin=json.dumps(PII_PAYLOAD))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == Engine().scan(PII_PAYLOAD).data
    for value in PII.values():
        assert value.encode() not in done.stdout


def test_scan_report_and_strategy(cli: Run) -> None:
    report = json.loads(cli("scan", "--report", stdin=json.dumps(PII_PAYLOAD)).stdout)["detections"]
    assert [(d["path"], d.get("embedded"), d["type"]) for d in report] == [
        ("/user/contact/0", None, "email"),
        ("/user/contact/1/phone", None, "phone"),
        ("/body", ["/ssn"], "ssn"),
        ("/body", ["/card"], "credit_card"),
        ("/keys/0", None, "aws_access_key"),
    ]
    assert all("value" not in d for d in report)
    redacted = json.loads(cli("scan", "--strategy", "redact", "--types", "email", stdin=json.dumps(PII_PAYLOAD)).stdout)
    assert redacted["user"]["contact"][0] == "[REDACTED]"
    assert redacted["keys"] == [PII["aws_access_key"]]
