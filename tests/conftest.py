"""Shared fixtures: every engine test runs against the Rust extension and the pure-Python twin.

When ``mcp_pii._native`` cannot be imported, the "rust" variants FAIL, so that a missing build never
passes unnoticed. Set ``MCP_PII_ALLOW_NO_NATIVE=1`` to skip them instead (while the extension is
not built, or on a machine without a Rust toolchain).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mcp_pii import Config, Engine, native_available

IMPLEMENTATIONS = ("rust", "python")
CORPUS = Path(__file__).parent / "corpus" / "cases.toml"


def allow_no_native() -> bool:
    """Return True if a missing Rust extension should skip tests instead of failing them."""
    return os.environ.get("MCP_PII_ALLOW_NO_NATIVE", "").strip().lower() in ("1", "true", "yes", "on")


def require_impl(impl: str) -> None:
    """Fail (or skip, with MCP_PII_ALLOW_NO_NATIVE=1) when ``impl`` is "rust" and it is not built."""
    if impl != "rust" or native_available():
        return
    message = "the Rust extension mcp_pii._native is not importable (build it with `make setup`)"
    if allow_no_native():
        pytest.skip(message + "; skipped because MCP_PII_ALLOW_NO_NATIVE=1")
    pytest.fail(message + "; set MCP_PII_ALLOW_NO_NATIVE=1 to skip the Rust variants instead")


@pytest.fixture(params=IMPLEMENTATIONS)
def engine_impl(request: pytest.FixtureRequest) -> str:
    """The implementation under test: "rust" or "python"."""
    impl: str = request.param
    require_impl(impl)
    return impl


EngineFactory = Callable[..., Engine]


@pytest.fixture
def make_engine(engine_impl: str) -> EngineFactory:
    """Build an engine of the implementation under test: ``make_engine(config=None, **fields)``.

    Keyword fields are a shorthand for ``Config(**fields)``.
    """

    def make(config: Config | None = None, **fields: Any) -> Engine:
        if fields:
            if config is not None:
                raise TypeError("pass either a Config or Config fields, not both")
            config = Config(**fields)
        engine = Engine(config, implementation=engine_impl)  # type: ignore[arg-type]
        assert engine.implementation == engine_impl
        return engine

    return make


_DEFAULT_ENGINES: dict[str, Engine] = {}


@pytest.fixture
def engine(engine_impl: str) -> Engine:
    """The default engine (every type, label strategy) of the implementation under test.

    Built once per implementation: an engine holds no state between calls.
    """
    if engine_impl not in _DEFAULT_ENGINES:
        _DEFAULT_ENGINES[engine_impl] = Engine(implementation=engine_impl)  # type: ignore[arg-type]
    return _DEFAULT_ENGINES[engine_impl]


def make_both(config: Config | None = None) -> tuple[Engine, Engine]:
    """Return (rust, python) engines for ``config``; fails or skips like the "rust" param."""
    require_impl("rust")
    return Engine(config, implementation="rust"), Engine(config, implementation="python")


@pytest.fixture
def both_engines() -> Callable[[Config | None], tuple[Engine, Engine]]:
    """A factory ``both_engines(config=None)`` of (rust, python) engines for differential tests."""
    return make_both


def load_corpus() -> dict[str, Any]:
    """Return the parsed detection corpus (tests/corpus/cases.toml)."""
    with CORPUS.open("rb") as f:
        return tomllib.load(f)


@pytest.fixture(scope="session")
def redis_url() -> Any:
    """The URL of a real redis-server shared by the session's tests (tests/redis_server.py)."""
    from redis_server import redis_server

    with redis_server() as server:
        yield server.url
