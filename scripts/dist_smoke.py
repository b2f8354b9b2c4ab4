"""Install each artifact in ``dist/`` into fresh virtual environments and smoke-test it (``make dist``).

For every Python given (pyenv's 3.11, 3.12 and 3.13 by default):
- the abi3 wheel and the pure ``py3-none-any`` wheel, each in a fresh venv;
- the sdist built without Rust: cargo off PATH, ``MATURIN_NO_INSTALL_RUST=1`` and
  ``MCP_PII_PURE_PYTHON=1`` give the pure package; without the latter the install stops with the
  message naming both ways out, having downloaded nothing;
and once, the sdist built with cargo (the Rust engine), and pip's choice between the two wheels.

Each install is checked as a user would: ``mcp-pii --version``, a masking pipe, the SDK stdio client
of ``examples/client_stdio.py`` (tools/list and the three tools), the engine's implementation, and
the container's HEALTHCHECK command against ``serve --transport http`` on loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CLIENT = ROOT / "examples" / "client_stdio.py"
DOCKERFILE = ROOT / "Dockerfile"
TEXT = "Contact jane.doe@example.com or card 4111 1111 1111 1111.\n"
MASKED = "Contact [EMAIL] or card [CREDIT_CARD].\n"
TOOLS = {"detect_pii", "mask_pii", "scan_nested"}
HATCHLING = "hatchling>=1.27"
MATURIN = "maturin>=1.8,<2"
NO_CARGO_MESSAGE = "mcp-pii: cannot build the Rust engine: cargo, the Rust build tool, is not on PATH."
PURE_WARNING = "this is the pure-Python install (no Rust extension)"
ENGINE_FACTS = """
import importlib.util, json
import mcp_pii
from mcp_pii import Engine
native = importlib.util.find_spec("mcp_pii._native") is not None
facts = {"implementation": Engine().implementation, "version": mcp_pii.__version__, "native": native,
         "python_engine": Engine(implementation="python").mask("mail jane.doe@example.com").text}
if native:
    from mcp_pii import _native
    facts["native_version"] = _native.__version__
    facts["test_hooks"] = hasattr(_native, "_panic_for_tests")
print(json.dumps(facts))
"""


class SmokeError(Exception):
    """A check on an installed artifact failed."""


@dataclass(frozen=True)
class Artifacts:
    """The three files ``make dist`` puts in ``dist/``."""

    sdist: Path
    native: Path
    pure: Path

    @classmethod
    def find(cls, dist: Path) -> Artifacts:
        def one(pattern: str) -> Path:
            found = sorted(dist.glob(pattern))
            if len(found) != 1:
                raise SmokeError(f"expected one {pattern} in {dist}, found {[p.name for p in found]}")
            return found[0]

        return cls(one("mcp_pii-*.tar.gz"), one("mcp_pii-*-abi3-*.whl"), one("mcp_pii-*-py3-none-any.whl"))


def run(
    cmd: list[str], *, env: dict[str, str] | None = None, stdin: str = "", check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; on failure raise SmokeError with its output."""
    # Never from the source tree: `python -c` would import its mcp_pii instead of the installed one.
    cwd = tempfile.gettempdir()
    done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env, cwd=cwd, timeout=900, check=False)
    if check and done.returncode != 0:
        raise SmokeError(f"{' '.join(cmd)} exited {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


def find_python(version: str) -> Path:
    """The interpreter for ``version``: pyenv's latest install of it, this one, or ``pythonX.Y`` on PATH."""
    if shutil.which("pyenv"):
        latest = run(["pyenv", "latest", version], check=False).stdout.strip()
        if latest:
            prefix = run(["pyenv", "prefix", latest]).stdout.strip()
            return Path(prefix) / "bin" / "python"
    if version == f"{sys.version_info.major}.{sys.version_info.minor}":
        return Path(sys.executable)
    found = shutil.which(f"python{version}")
    if not found:
        raise SmokeError(f"no Python {version} (install it with pyenv, or put python{version} on PATH)")
    return Path(found)


def without_cargo(env: dict[str, str]) -> dict[str, str]:
    """``env`` with every PATH entry that holds cargo or rustc removed, and maturin told not to fetch Rust."""
    tools = ("cargo", "rustc", "cargo.exe", "rustc.exe")
    keep = [d for d in env["PATH"].split(os.pathsep) if not any((Path(d) / t).exists() for t in tools)]
    return {**env, "PATH": os.pathsep.join(keep), "MATURIN_NO_INSTALL_RUST": "1"}


class Venv:
    """A fresh virtual environment of one Python version, installing offline from a wheelhouse."""

    def __init__(self, python: Path, where: Path, wheelhouse: Path) -> None:
        self.path = where
        self.wheelhouse = wheelhouse
        run([str(python), "-m", "venv", str(where)])
        self.bin = where / ("Scripts" if os.name == "nt" else "bin")
        self.python = str(self.bin / "python")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("MCP_PII_", "VIRTUAL_ENV", "PYTHON"))}
        self.env["PATH"] = os.pathsep.join([str(self.bin), self.env.get("PATH", "")])

    def pip(
        self, *args: str, env: dict[str, str] | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run this venv's pip."""
        return run([self.python, "-m", "pip", "--disable-pip-version-check", *args], env=env or self.env, check=check)

    def fill_wheelhouse(self, artifacts: Artifacts) -> None:
        """Download the dependencies and build backends of mcp-pii for this Python (once per run)."""
        self.pip("download", "--quiet", "--dest", str(self.wheelhouse), str(artifacts.pure), HATCHLING, MATURIN)

    def install(
        self, target: Path, env: dict[str, str] | None = None, check: bool = True, offline: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """``pip install target``, its dependencies (and build backend) from the wheelhouse when ``offline``."""
        index = ["--no-index", "--find-links", str(self.wheelhouse)] if offline else []
        return self.pip("install", "--quiet", *index, str(target), env=env, check=check)

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """Run the installed ``mcp-pii`` console script."""
        return run([str(self.bin / "mcp-pii"), *args], env=self.env, stdin=stdin)


def check_installed(venv: Venv, expected: str, version: str) -> None:
    """The user's checks on one install whose engine should be ``expected`` ("rust" or "python")."""
    out = venv.cli("--version").stdout.strip()
    if out != f"mcp-pii {version}":
        raise SmokeError(f"--version printed {out!r}")
    masked = venv.cli("mask", stdin=TEXT)
    if masked.stdout != MASKED:
        raise SmokeError(f"mask printed {masked.stdout!r}")
    warnings = [line for line in masked.stderr.splitlines() if line.strip()]
    wanted = 1 if expected == "python" else 0
    if len(warnings) != wanted or (wanted and PURE_WARNING not in warnings[0]):
        raise SmokeError(f"expected {wanted} warning line(s) on stderr, got {masked.stderr!r}")
    client = run([venv.python, str(EXAMPLE_CLIENT)], env=venv.env).stdout
    listed = re.search(r"^tools: (.*)$", client, re.MULTILINE)
    if not listed or not set(listed.group(1).split(", ")) >= TOOLS or "(error)" in client:
        raise SmokeError(f"the stdio SDK client got:\n{client}")
    facts = json.loads(run([venv.python, "-c", ENGINE_FACTS], env=venv.env).stdout)
    if facts["implementation"] != expected or facts["version"] != version:
        raise SmokeError(f"engine facts {facts}, expected {expected} {version}")
    if facts["python_engine"] != "mail [EMAIL]":
        raise SmokeError(f"the Python engine (catalog data) gave {facts['python_engine']!r}")
    if expected == "rust" and (facts["native_version"] != version or facts["test_hooks"]):
        raise SmokeError(f"the extension is {facts['native_version']}, test hooks {facts['test_hooks']}")
    check_healthcheck(venv)


def healthcheck_command() -> list[str]:
    """The Dockerfile's HEALTHCHECK command (exec form)."""
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("HEALTHCHECK"):
            return list(json.loads(line.split(" CMD ", 1)[1]))
    raise SmokeError("the Dockerfile has no HEALTHCHECK ... CMD [...] line")


def check_healthcheck(venv: Venv) -> None:
    """Start ``serve --transport http`` on a free loopback port; the container's HEALTHCHECK must pass."""
    server = subprocess.Popen(
        [str(venv.bin / "mcp-pii"), "serve", "--transport", "http", "--port", "0"],
        env={**venv.env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tempfile.gettempdir(),
    )
    try:
        url = ""
        deadline = time.monotonic() + 30
        while not url and time.monotonic() < deadline and server.stderr is not None:
            line = server.stderr.readline()
            if not line:
                break
            found = re.search(r" at http://127\.0\.0\.1:(\d+)/", line)
            url = found.group(1) if found else ""
        if not url:
            raise SmokeError("the HTTP server did not print its URL")
        command = [part.replace("8765", url) for part in healthcheck_command()]
        command[0] = venv.python if command[0] == "python" else command[0]
        run(command, env=venv.env)
    finally:
        server.terminate()
        server.wait(timeout=30)


def check_pip_choice(venv: Venv, dist: Path, artifacts: Artifacts) -> None:
    """pip takes the abi3 wheel where it fits, and the pure wheel on a platform without one."""

    def chosen(*extra: str) -> str:
        report = run(
            [
                venv.python,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--dry-run",
                "--ignore-installed",
                "--no-deps",
                "--no-index",
                "--find-links",
                str(dist),
                "--report",
                "-",
                *extra,
                "mcp-pii",
            ],
            env=venv.env,
        ).stdout
        return Path(json.loads(report)["install"][0]["download_info"]["url"]).name

    here = chosen()
    if here != artifacts.native.name:
        raise SmokeError(f"pip chose {here} on this platform, not {artifacts.native.name}")
    with tempfile.TemporaryDirectory() as target:
        elsewhere = chosen("--only-binary", ":all:", "--platform", "linux_riscv64", "--target", target)
    if elsewhere != artifacts.pure.name:
        raise SmokeError(f"pip chose {elsewhere} on riscv64, not {artifacts.pure.name}")


def check_sdist_without_rust(venv: Venv, sdist: Path, version: str) -> None:
    """No cargo: a clear stop with both ways out, nothing downloaded; with MCP_PII_PURE_PYTHON=1, the pure package."""
    env = without_cargo(venv.env)
    if shutil.which("cargo", path=env["PATH"]):
        raise SmokeError("cargo is still on PATH")
    # With the package index reachable, so that a download of Rust would be tried (and seen).
    stopped = venv.install(sdist, env=env, check=False, offline=False)
    output = stopped.stdout + stopped.stderr
    if stopped.returncode == 0 or NO_CARGO_MESSAGE not in output or "MCP_PII_PURE_PYTHON=1" not in output:
        raise SmokeError(f"the sdist without cargo did not stop with the message:\n{output}")
    if re.search(r"puccinialin|rustup-init|Rust not found, installing", output, re.IGNORECASE):
        raise SmokeError(f"the sdist without cargo tried to fetch Rust:\n{output}")
    venv.install(sdist, env={**env, "MCP_PII_PURE_PYTHON": "1"})
    check_installed(venv, "python", version)


def smoke_python(wanted: str, first: bool, args: argparse.Namespace, artifacts: Artifacts, tmp: Path) -> int:
    """Every artifact on one Python version, each in a fresh venv; return how many installs passed."""
    python = find_python(wanted)
    wheelhouse = args.wheelhouse / wanted

    def fresh(name: str) -> Venv:
        return Venv(python, tmp / f"{wanted}-{name}", wheelhouse)

    def report(name: str, engine: str, since: float) -> None:
        print(f"ok  Python {wanted}  {name:<17} {engine:<7} {time.monotonic() - since:5.1f} s", flush=True)

    t0 = time.monotonic()
    venv = fresh("abi3")
    venv.fill_wheelhouse(artifacts)
    venv.install(artifacts.native)
    if first:
        check_pip_choice(venv, args.dist, artifacts)
    check_installed(venv, "rust", args.version)
    report("abi3 wheel", "rust", t0)

    t0 = time.monotonic()
    venv = fresh("pure")
    venv.install(artifacts.pure)
    check_installed(venv, "python", args.version)
    report("pure wheel", "python", t0)

    t0 = time.monotonic()
    check_sdist_without_rust(fresh("sdist-no-rust"), artifacts.sdist, args.version)
    report("sdist, no Rust", "python", t0)

    if first and args.sdist_with_cargo:
        t0 = time.monotonic()
        venv = fresh("sdist-rust")
        # Whether the sdist builds with cargo, not how fast its engine is: no LTO, a shorter build.
        quick = {"CARGO_PROFILE_RELEASE_LTO": "off", "CARGO_PROFILE_RELEASE_CODEGEN_UNITS": "16"}
        venv.install(artifacts.sdist, env={**venv.env, **quick})
        check_installed(venv, "rust", args.version)
        report("sdist, with Rust", "rust", t0)
        return 4
    return 3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dist", type=Path, help="folder with the sdist, the abi3 wheel and the pure wheel")
    parser.add_argument("--python", action="append", dest="pythons", help="X.Y (default: 3.11, 3.12, 3.13)")
    parser.add_argument("--sdist-with-cargo", action="store_true", help="also build the sdist with Rust, once")
    parser.add_argument(
        "--wheelhouse", type=Path, default=ROOT / "target" / "wheelhouse", help="cache of dependency wheels"
    )
    args = parser.parse_args()
    args.dist = args.dist.resolve()
    args.wheelhouse = args.wheelhouse.resolve()
    artifacts = Artifacts.find(args.dist)
    args.version = artifacts.pure.name.split("-")[1]
    pythons = args.pythons or ["3.11", "3.12", "3.13"]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mcp-pii-smoke-") as tmp:
        installs = sum(smoke_python(wanted, i == 0, args, artifacts, Path(tmp)) for i, wanted in enumerate(pythons))
    print(f"dist smoke: every artifact works on Python {', '.join(pythons)} ({time.monotonic() - started:.0f} s)")
    print(f"smoke: {installs} passed, 0 failed")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SmokeError as exc:
        print(f"dist smoke FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
