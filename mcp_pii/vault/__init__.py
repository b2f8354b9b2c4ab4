"""The vault of reversible masking: scopes that map tokens to the values they stand for.

A scope is minted by the vault (an unguessable id of 192 random bits, URL-safe) and handed to the
caller, who passes it back to mask more data consistently or to unmask. Within a scope the same
type and value always get the same token; scopes share nothing. The vault stores only keyed
hashes of scope ids and of values, and values encrypted with AES-GCM (:mod:`.crypto`), in one of
two backends behind :class:`~mcp_pii.vault.backend.Backend`: this process's memory (the default;
a random key unless one is given, so a restart forgets everything) or Redis (shared by replicas;
the key must be given, the same on every server).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mcp_pii.errors import ConfigError, ScopeError, VaultError
from mcp_pii.tokens import render, token_name
from mcp_pii.vault.backend import Backend, Item
from mcp_pii.vault.crypto import VaultKeys
from mcp_pii.vault.memory import MemoryBackend

if TYPE_CHECKING:
    from mcp_pii.config import Config

SCOPE_BYTES = 24
DEFAULT_TTL = 3600.0
DEFAULT_MAX_SCOPES = 10_000
DEFAULT_MAX_ENTRIES = 10_000
DEFAULT_MAX_MIB = 256

__all__ = ["Vault"]


def _unknown_scope() -> ScopeError:
    return ScopeError(
        "unknown or expired scope: scopes are minted by the server; call without a scope to start a new one"
    )


class Vault:
    """Scopes of tokens over a backend; see the module docstring."""

    __slots__ = ("_backend", "_keys")

    def __init__(self, backend: Backend, keys: VaultKeys) -> None:
        self._backend = backend
        self._keys = keys

    @classmethod
    def memory(
        cls,
        key: str | None = None,
        *,
        ttl_seconds: float = DEFAULT_TTL,
        max_scopes: int = DEFAULT_MAX_SCOPES,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_mib: int = DEFAULT_MAX_MIB,
    ) -> Vault:
        """A vault in this process's memory (a random key when ``key`` is None)."""
        return cls(MemoryBackend(ttl_seconds, max_scopes, max_entries, max_mib * 1024 * 1024), VaultKeys(key))

    @classmethod
    def redis(
        cls,
        url: str,
        key: str,
        *,
        ttl_seconds: float = DEFAULT_TTL,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        timeout_seconds: float = 2.0,
    ) -> Vault:
        """A vault in Redis at ``url``; every server sharing it needs the same ``key``."""
        from mcp_pii.vault.redis_backend import RedisBackend  # noqa: PLC0415

        return cls(RedisBackend(url, ttl_seconds, max_entries, timeout_seconds), VaultKeys(key))

    @classmethod
    def from_config(cls, config: Config) -> Vault:
        """The vault a configuration asks for: Redis when ``vault_url`` is set, memory otherwise."""
        key = config.vault_key.get_secret_value() if config.vault_key else None
        if config.vault_url is None:
            return cls.memory(
                key,
                ttl_seconds=config.vault_ttl_seconds,
                max_scopes=config.vault_max_scopes,
                max_entries=config.vault_max_entries,
                max_mib=config.vault_max_mib,
            )
        if key is None:
            raise ConfigError(
                "vault_url needs a vault key (MCP_PII_VAULT_KEY), the same on every server sharing the vault"
            )
        return cls.redis(
            config.vault_url.get_secret_value(),
            key,
            ttl_seconds=config.vault_ttl_seconds,
            max_entries=config.vault_max_entries,
            timeout_seconds=config.vault_timeout_seconds,
        )

    @property
    def kind(self) -> str:
        """``"memory"`` or ``"redis"``."""
        return self._backend.kind

    @property
    def where(self) -> str:
        """Where the vault is, for messages (a Redis URL without credentials)."""
        return self._backend.where

    def held(self) -> tuple[int, int, int] | None:
        """Scopes, entries and estimated bytes a memory vault holds; None for Redis (its own INFO says)."""
        held = getattr(self._backend, "held", None)
        return held() if held is not None else None

    async def new_scope(self) -> str:
        """Mint a new, empty scope and return its id."""
        for _ in range(3):
            scope = secrets.token_urlsafe(SCOPE_BYTES)
            if await self._backend.create(self._keys.scope_hash(scope)):
                return scope
        raise VaultError("could not mint a new scope")  # 192 random bits collided three times

    def tag(self, scope: str) -> str:
        """The tag that the tokens of ``scope`` carry."""
        return self._keys.tag(scope)

    async def assign(
        self, scope: str, values: Sequence[tuple[str, str]], reserve: Sequence[str] = ()
    ) -> dict[tuple[str, str], str]:
        """Return the token of each (type id, value) in ``scope``, numbering new ones in order.

        ``reserve`` holds token keys (``NAME_N``) that occur in the text being masked without
        standing for a value; they are reserved first, so they are never handed out.

        Raises:
            ScopeError: No such scope (never minted, expired or forgotten).
            VaultFullError: The scope would exceed ``vault_max_entries``.
            VaultUnavailableError: Redis cannot be reached.
        """
        sid = self._keys.scope_hash(scope)
        pairs = list(dict.fromkeys(values))
        items = []
        for type_id, value in pairs:
            name = token_name(type_id)
            items.append(Item(name, self._keys.value_index(sid, name, value), self._keys.seal(sid, name, value)))
        keys = await self._backend.assign(sid, list(dict.fromkeys(reserve)), items)
        if keys is None:
            raise _unknown_scope()
        tag = self.tag(scope)
        return {pair: render(key, tag) for pair, key in zip(pairs, keys, strict=True)}

    async def reveal(self, scope: str, keys: Sequence[str]) -> dict[str, str] | None:
        """Return the value of each key of ``scope`` that stands for one; None if there is no such scope.

        Reserved and unknown keys are left out of the result.
        """
        sid = self._keys.scope_hash(scope)
        wanted = list(dict.fromkeys(keys))
        sealed = await self._backend.fetch(sid, wanted)
        if sealed is None:
            return None
        return {
            key: self._keys.open(sid, key.rpartition("_")[0], blob)
            for key, blob in zip(wanted, sealed, strict=True)
            if blob
        }

    async def forget(self, scope: str) -> bool:
        """Delete ``scope`` and everything in it now; False if there was no such scope."""
        return await self._backend.delete(self._keys.scope_hash(scope))

    async def exists(self, scope: str) -> bool:
        """Return True if ``scope`` is a live scope (and count this as a use of it)."""
        return await self._backend.fetch(self._keys.scope_hash(scope), []) is not None

    async def ping(self) -> None:
        """Raise VaultUnavailableError unless the backend answers."""
        await self._backend.ping()

    async def aclose(self) -> None:
        """Release the backend's connections (it reconnects when used again)."""
        await self._backend.aclose()

    def __repr__(self) -> str:
        return f"Vault(kind={self.kind!r}, where={self.where!r})"
