"""Reversible masking: detect, assign tokens through the vault, mask with those tokens; and unmask.

Masking runs in three steps, so that the engines never wait on the vault (which may be Redis):

1. the engine detects (for a payload: scans without masking), which also checks the input;
2. the vault gives each detected (type, value) its token in the scope, numbering new values in
   order of appearance; text of the input that already looks like a token of the scope and is
   not one is *reserved* (see :mod:`mcp_pii.tokens`), so that unmasking gives the input back;
3. the engine masks with that token map (both engines render it identically).

Unmasking is one pure-Python implementation over the token grammar, used with either engine:
every token of the scope that stands for a value is replaced by it; tokens of other scopes,
unknown, expired or reserved ones are left as they are and counted. In a payload, strings are
unmasked like text, and strings holding JSON are parsed, unmasked inside and written back
compactly when something changed (as the engines do when they mask), so a value is escaped as
JSON where it lands inside JSON. Object keys are left as they are, as in masking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from mcp_pii import tokens
from mcp_pii.errors import InputError
from mcp_pii.offload import EngineRunner, payload_size, run_engine
from mcp_pii.traverse import RawNumber, dump, parse_embedded
from mcp_pii.vault import Vault

if TYPE_CHECKING:
    from mcp_pii.detection import Detection, NestedDetection
    from mcp_pii.engine import _Backend


_BLANK = " \t\n\r"

__all__ = ["Tally", "check_strategy", "map_strings", "mask_nested", "mask_text", "unmask_nested", "unmask_text"]


def check_strategy(strategy: str | None) -> None:
    """Reversible masking writes tokens: only no strategy or ``tokenize`` make sense with it."""
    if strategy not in (None, "tokenize"):
        raise InputError("reversible masking replaces every detection by a token: leave strategy unset or 'tokenize'")


def _by_type(assigned: dict[tuple[str, str], str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for (type_id, value), token in assigned.items():
        out.setdefault(type_id, {})[value] = token
    return out


def _scope_keys(texts: Iterable[str], tag: str) -> list[str]:
    """Keys of the strings shaped like tokens of the scope (its tag) in ``texts``, first occurrence first."""
    return list(dict.fromkeys(t.key for s in texts for t in tokens.find(s) if t.tag == tag))


async def _scope(vault: Vault, scope: str | None) -> str:
    return await vault.new_scope() if scope is None else scope


async def mask_text(
    core: _Backend,
    vault: Vault,
    text: str,
    types: list[str] | None,
    scope: str | None,
    *,
    run: EngineRunner = run_engine,
) -> tuple[str, list[Detection], str]:
    """Mask ``text`` reversibly in ``scope`` (a new one when None); return masked text, hits, scope.

    ``run`` runs the engine steps (by default inline for small texts, in a worker thread otherwise).
    """
    size = len(text) if isinstance(text, str) else 0
    hits = await run(size, partial(core.detect, text, types))
    scope = await _scope(vault, scope)
    values = [(d.type, d.value) for d in hits]
    reserve = await run(size, partial(_scope_keys, [text], vault.tag(scope)))
    assigned = await vault.assign(scope, values, reserve)
    masked, hits = await run(size, partial(core.mask, text, None, types, _by_type(assigned)))
    return masked, hits, scope


async def mask_nested(
    core: _Backend,
    vault: Vault,
    data: Any,
    types: list[str] | None,
    scope: str | None,
    *,
    run: EngineRunner = run_engine,
) -> tuple[Any, list[NestedDetection], str, int]:
    """Mask every string of ``data`` reversibly in ``scope`` (a new one when None); return data,
    detections, scope and the UTF-8 bytes of its strings."""
    size = payload_size(data)
    _, found, _ = await run(size, partial(core.scan, data, None, types, False))
    scope = await _scope(vault, scope)
    values = [(d.type, d.value) for d in found]
    reserve = await run(size, lambda: _scope_keys(_strings(data), vault.tag(scope)))
    assigned = await vault.assign(scope, values, reserve)
    out, found, nbytes = await run(size, partial(core.scan, data, None, types, True, _by_type(assigned)))
    return out, found, scope, nbytes


@dataclass(slots=True)
class Tally:
    """What unmasking did with the tokens it found."""

    restored: int = 0  # tokens of the scope replaced by their values
    unknown: int = 0  # tokens with the scope's tag that stand for no value (unknown, expired, reserved)
    foreign: int = 0  # tokens of other scopes


async def _reveal(vault: Vault, scope: str, keys: list[str]) -> dict[str, str]:
    """The values of the keys that stand for one in ``scope`` (none when the scope is unknown)."""
    return (await vault.reveal(scope, keys) or {}) if keys else {}


def _unmask(text: str, values: dict[str, str], tag: str, tally: Tally) -> str:
    out = []
    pos = 0
    for t in tokens.find(text):
        if t.tag != tag:
            tally.foreign += 1
            continue
        value = values.get(t.key)
        if value is None:
            tally.unknown += 1
            continue
        tally.restored += 1
        out.append(text[pos : t.start])
        out.append(value)
        pos = t.end
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


async def unmask_text(
    core: _Backend, vault: Vault, text: str, scope: str, *, run: EngineRunner = run_engine
) -> tuple[str, Tally]:
    """Put back the values of ``scope``'s tokens in ``text``; count what was left."""
    size = len(text) if isinstance(text, str) else 0
    # The engine's input checks (type, lone surrogates, size), detecting nothing.
    await run(size, partial(core.detect, text, []))
    tag = vault.tag(scope)
    values = await _reveal(vault, scope, await run(size, partial(_scope_keys, [text], tag)))
    tally = Tally()
    return await run(size, partial(_unmask, text, values, tag, tally)), tally


async def unmask_nested(
    core: _Backend, vault: Vault, data: Any, scope: str, *, run: EngineRunner = run_engine
) -> tuple[Any, Tally]:
    """Put back the values of ``scope``'s tokens in every string of ``data``; count what was left."""
    size = payload_size(data)
    # The engine's payload checks (types, limits, lone surrogates, embedded JSON), detecting nothing.
    await run(size, partial(core.scan, data, None, [], False))
    tag = vault.tag(scope)
    values = await _reveal(vault, scope, await run(size, lambda: _scope_keys(_strings(data), tag)))
    tally = Tally()
    return await run(size, lambda: map_strings(data, lambda s: _unmask(s, values, tag, tally))), tally


def _strings(data: Any) -> list[str]:
    """Every string of ``data`` that the engines scan (see :func:`map_strings`)."""
    out: list[str] = []

    def keep(s: str) -> str:
        out.append(s)
        return s

    map_strings(data, keep)
    return out


def map_strings(data: Any, fn: Callable[[str], str]) -> Any:
    """Return ``data`` with ``fn`` applied to every string the engines scan.

    Object keys, numbers, booleans and null are kept. A string holding a JSON object or array (as
    the engines parse it) is mapped inside and written back compactly only if something changed.
    """
    if isinstance(data, str) and not isinstance(data, RawNumber):
        if data.lstrip(_BLANK)[:1] in ("{", "["):
            inner = parse_embedded(data)
            if inner is not None:
                out = map_strings(inner, fn)
                return data if out == inner else dump(out)
        return fn(data)
    if isinstance(data, dict):
        return {k: map_strings(v, fn) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [map_strings(v, fn) for v in data]
    return data
