"""The one small interface behind the vault, and the rule both backends number tokens by.

A backend stores scopes under the keyed hash of their id (``sid``). A scope holds entries keyed
by token key (``NAME_N``): a sealed value, or ``b""`` for a *reserved* key (text that looked like
a token of the scope before it was masked, which must never be handed out nor resolved); an
index from value hash to key; and per NAME the highest number handed out. Every use of a scope
moves its expiry to ``ttl`` seconds later.

Numbering (identical in every backend, so that the tokens depend only on the vault's contents):
:meth:`Backend.assign` first reserves the given keys, then for each item in order returns the key
already indexed for its value hash or hands out the next number of its NAME after the highest one
handed out, skipping reserved keys. The call is all or nothing: if the new entries would take the
scope past its cap, nothing is written and :class:`~mcp_pii.errors.VaultFullError` is raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

from mcp_pii.errors import VaultFullError

__all__ = ["Backend", "Item", "bytes_error", "entries_error", "scopes_error"]


class Item(NamedTuple):
    """A value to number: its token NAME, its value hash (index field) and its sealed value."""

    name: str
    value_hash: str
    sealed: bytes


class Backend(Protocol):
    """Storage of scopes; see the module docstring for the rules every backend follows."""

    kind: str  # "memory" or "redis"
    where: str  # where the scopes are, for messages (never a credential)

    async def create(self, sid: str) -> bool:
        """Create an empty scope; False if ``sid`` is taken. Raises VaultFullError at the scope cap."""
        ...

    async def assign(self, sid: str, reserve: Sequence[str], items: Sequence[Item]) -> list[str] | None:
        """Reserve ``reserve`` keys and return the key of each item (in order); None if no such scope.

        ``reserve`` and the items' value hashes hold no repeats.
        """
        ...

    async def fetch(self, sid: str, keys: Sequence[str]) -> list[bytes | None] | None:
        """Return the entry of each key (``b""`` when reserved, None when absent); None if no such scope."""
        ...

    async def delete(self, sid: str) -> bool:
        """Delete a scope now; False if there was none."""
        ...

    async def ping(self) -> None:
        """Raise VaultUnavailableError unless the backend answers."""
        ...

    async def aclose(self) -> None:
        """Release connections (the backend stays usable and reconnects when used again)."""
        ...


def scopes_error(cap: int) -> VaultFullError:
    """The error when the vault holds ``cap`` scopes already."""
    return VaultFullError(
        f"the vault holds its maximum of {cap} scopes (vault_max_scopes); forget scopes that are no longer "
        "needed (forget_scope) or try again when older ones expire"
    )


def bytes_error(cap: int) -> VaultFullError:
    """The error when a memory vault would hold more than ``cap`` bytes."""
    return VaultFullError(
        f"the vault holds its maximum of {cap // (1024 * 1024)} MiB (vault_max_mib); forget scopes that are no "
        "longer needed (forget_scope) or try again when older ones expire"
    )


def entries_error(cap: int) -> VaultFullError:
    """The error when a scope would hold more than ``cap`` entries."""
    return VaultFullError(
        f"the scope would hold more than {cap} entries (vault_max_entries); start a new scope "
        "(call without a scope) for further data"
    )
