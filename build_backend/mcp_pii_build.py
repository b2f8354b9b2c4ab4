"""The PEP 517 build backend of mcp-pii: the Rust extension with maturin, or the pure-Python package.

pip calls this module (``[build-system] backend-path``) when it builds mcp-pii from the source tree
or the sdist. It chooses one of three ways, before anything is downloaded:

- ``MCP_PII_PURE_PYTHON=1``: the pure-Python package (a ``py3-none-any`` wheel, built by hatchling),
  whose engine is the twin; this is how ``make dist`` builds the pure wheel;
- otherwise, with ``cargo`` on PATH: the Rust extension, built by maturin;
- otherwise: stop, with a message naming both ways out. maturin alone would download a whole Rust
  toolchain (about 840 MB) behind the user's back, or fail with a bare "Cargo is not installed".

Only the standard library is imported here: the chosen backend is installed by the frontend from
the requirement that ``get_requires_for_build_*`` returns.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from types import ModuleType
from typing import Any

PURE_ENV = "MCP_PII_PURE_PYTHON"
MATURIN = "maturin>=1.8,<2"
HATCHLING = "hatchling>=1.27"

NO_CARGO = f"""
mcp-pii: cannot build the Rust engine: cargo, the Rust build tool, is not on PATH.
Nothing was downloaded. Either way out gives a working mcp-pii:
  - install Rust (https://rustup.rs), check that `cargo --version` works, and install again;
  - or take the pure-Python package (same results, slower): the pure wheel, with
    `pip install --only-binary mcp-pii mcp-pii`, or this source built without Rust,
    with {PURE_ENV}=1 set.
"""

ConfigSettings = Mapping[str, Any] | None


def pure_requested() -> bool:
    """Return True if the environment asks for the pure-Python package."""
    return os.environ.get(PURE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _requirement() -> str:
    """The backend this build uses, as a requirement; stops the build when neither can run."""
    if pure_requested():
        return HATCHLING
    if shutil.which("cargo") is None:
        sys.stderr.write(NO_CARGO)
        raise SystemExit(1)
    return MATURIN


def _backend() -> ModuleType:
    """Import the chosen backend (installed by now from ``_requirement()``)."""
    if _requirement() == HATCHLING:
        import hatchling.build  # noqa: PLC0415

        return hatchling.build
    import maturin  # noqa: PLC0415

    return maturin


def get_requires_for_build_wheel(config_settings: ConfigSettings = None) -> list[str]:
    """The backend to install: hatchling for the pure package, maturin for the extension."""
    return [_requirement()]


def get_requires_for_build_sdist(config_settings: ConfigSettings = None) -> list[str]:
    """As for a wheel."""
    return [_requirement()]


def get_requires_for_build_editable(config_settings: ConfigSettings = None) -> list[str]:
    """As for a wheel."""
    return [_requirement()]


def build_wheel(
    wheel_directory: str, config_settings: ConfigSettings = None, metadata_directory: str | None = None
) -> str:
    """Build the wheel into ``wheel_directory`` and return its file name."""
    name: str = _backend().build_wheel(wheel_directory, config_settings, metadata_directory)
    return name


def build_sdist(sdist_directory: str, config_settings: ConfigSettings = None) -> str:
    """Build the sdist into ``sdist_directory`` and return its file name."""
    name: str = _backend().build_sdist(sdist_directory, config_settings)
    return name


def build_editable(
    wheel_directory: str, config_settings: ConfigSettings = None, metadata_directory: str | None = None
) -> str:
    """Build an editable wheel into ``wheel_directory`` and return its file name."""
    name: str = _backend().build_editable(wheel_directory, config_settings, metadata_directory)
    return name


def __getattr__(name: str) -> Any:
    """The optional ``prepare_metadata_for_build_*`` hooks, where the chosen backend has them."""
    if name.startswith("prepare_metadata_for_build_"):
        return getattr(_backend(), name)
    raise AttributeError(name)
