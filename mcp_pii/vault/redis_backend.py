"""The Redis vault backend (redis-py's asyncio client): scopes shared by every server that uses it.

A scope is one Redis hash, ``mcp-pii:v1:scope:<sid>`` (``sid``: the keyed hash of the scope id),
that expires ``ttl`` after its last use (PEXPIRE on every use). Its fields:

- ``n``: the number of entries;
- ``t:<NAME_N>``: the sealed value of a token key, or empty when the key is reserved;
- ``v:<value hash>``: the token key of a value;
- ``c:<NAME>``: the highest number handed out for NAME.

Numbering and caps run in Lua scripts, so concurrent calls from several servers see one order.
Connection trouble becomes :class:`~mcp_pii.errors.VaultUnavailableError` within the configured
timeout, never a hang, and the client reconnects by itself once Redis is back.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

from mcp_pii.errors import ConfigError, VaultUnavailableError
from mcp_pii.vault.backend import Item, entries_error

logger = logging.getLogger("mcp_pii.vault")

T = TypeVar("T")
PREFIX = "mcp-pii:v1:scope:"

__all__ = ["PREFIX", "RedisBackend", "redact_url"]

# KEYS[1] scope; ARGV: ttl ms, cap, number of keys to reserve R, R keys, then (name, value hash, sealed) triples.
# Returns -1 for no such scope, -2 over the cap, else the key of each item.
_ASSIGN = """
local scope = KEYS[1]
if redis.call('EXISTS', scope) == 0 then return -1 end
local ttl, cap, r = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local first = 4 + r
local entries = tonumber(redis.call('HGET', scope, 'n') or '0')
local new = 0
for i = 4, first - 1 do
  if redis.call('HEXISTS', scope, 't:' .. ARGV[i]) == 0 then new = new + 1 end
end
for j = first, #ARGV, 3 do
  if redis.call('HEXISTS', scope, 'v:' .. ARGV[j + 1]) == 0 then new = new + 1 end
end
if entries + new > cap then return -2 end
for i = 4, first - 1 do
  entries = entries + redis.call('HSETNX', scope, 't:' .. ARGV[i], '')
end
local out = {}
for j = first, #ARGV, 3 do
  local name, index = ARGV[j], ARGV[j + 1]
  local key = redis.call('HGET', scope, 'v:' .. index)
  if not key then
    local n = tonumber(redis.call('HGET', scope, 'c:' .. name) or '0')
    repeat
      n = n + 1
      key = name .. '_' .. string.format('%d', n)
    until redis.call('HEXISTS', scope, 't:' .. key) == 0
    redis.call('HSET', scope, 'c:' .. name, string.format('%d', n), 't:' .. key, ARGV[j + 2], 'v:' .. index, key)
    entries = entries + 1
  end
  out[#out + 1] = key
end
redis.call('HSET', scope, 'n', entries)
redis.call('PEXPIRE', scope, ttl)
return out
"""

# KEYS[1] scope; ARGV: ttl ms, then token keys. Returns nil for no such scope, else each entry (nil when absent).
_FETCH = """
local scope = KEYS[1]
if redis.call('EXISTS', scope) == 0 then return nil end
redis.call('PEXPIRE', scope, ARGV[1])
local out = {}
for i = 2, #ARGV do
  out[i - 1] = redis.call('HGET', scope, 't:' .. ARGV[i])
end
return out
"""


def redact_url(url: str) -> str:
    """The URL without user name and password (for messages and logs)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "localhost"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "the configured vault_url"
    shown = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{shown}{port}{parts.path}"


class RedisBackend:
    """Scopes in Redis, shared by every mcp-pii process that uses the same Redis and vault key."""

    kind = "redis"

    def __init__(self, url: str, ttl: float, max_entries: int, timeout: float = 2.0) -> None:
        try:
            import redis.asyncio as aredis  # noqa: PLC0415
            from redis.asyncio.retry import Retry  # noqa: PLC0415
            from redis.backoff import ExponentialBackoff  # noqa: PLC0415
        except ImportError:
            raise ConfigError("vault_url needs the redis package: pip install 'mcp-pii[redis]'") from None
        if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
            raise ConfigError("vault_url must be a redis://, rediss:// or unix:// URL")
        self.where = redact_url(url)
        self._ttl_ms = max(1, round(ttl * 1000))
        self._max_entries = max_entries
        try:
            self._client: Any = aredis.Redis.from_url(
                url,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                retry=Retry(ExponentialBackoff(cap=0.25, base=0.05), retries=1),
                health_check_interval=15,
            )
        except ValueError:
            raise ConfigError(f"vault_url is not a valid Redis URL ({self.where})") from None
        self._assign = self._client.register_script(_ASSIGN)
        self._fetch = self._client.register_script(_FETCH)
        self._down = False

    async def _call(self, what: Callable[[], Awaitable[T]]) -> T:
        """Run one Redis operation; connection trouble becomes VaultUnavailableError."""
        from redis.exceptions import ConnectionError, RedisError, TimeoutError  # noqa: PLC0415

        try:
            out = await what()
        except (ConnectionError, TimeoutError, OSError) as exc:
            if not self._down:
                logger.warning("vault: Redis at %s is unreachable (%s)", self.where, type(exc).__name__)
                self._down = True
            raise VaultUnavailableError(
                f"the vault (Redis at {self.where}) is unreachable; try again shortly"
            ) from None
        except RedisError as exc:
            logger.error("vault: Redis at %s answered with an error (%s)", self.where, type(exc).__name__)
            raise VaultUnavailableError(f"the vault (Redis at {self.where}) answered with an error") from None
        if self._down:
            logger.warning("vault: Redis at %s is reachable again", self.where)
            self._down = False
        return out

    async def create(self, sid: str) -> bool:
        """Create an empty scope; False if ``sid`` is taken."""
        key = PREFIX + sid

        async def run() -> bool:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.hsetnx(key, "n", 0)
                pipe.pexpire(key, self._ttl_ms)
                created, _ = await pipe.execute()
            return bool(created)

        return await self._call(run)

    async def assign(self, sid: str, reserve: Sequence[str], items: Sequence[Item]) -> list[str] | None:
        """Reserve ``reserve`` keys and return the key of each item (in order); None if no such scope."""
        args: list[Any] = [self._ttl_ms, self._max_entries, len(reserve), *reserve]
        for item in items:
            args += item
        out = await self._call(lambda: self._assign(keys=[PREFIX + sid], args=args))
        if out == -1:
            return None
        if out == -2:
            raise entries_error(self._max_entries)
        return [key.decode("ascii") for key in out]

    async def fetch(self, sid: str, keys: Sequence[str]) -> list[bytes | None] | None:
        """Return the entry of each key (``b""`` when reserved, None when absent); None if no such scope."""
        out = await self._call(lambda: self._fetch(keys=[PREFIX + sid], args=[self._ttl_ms, *keys]))
        if out is None:
            return None
        # Lua turns a nil inside a table into false, which the client reads as None.
        return [None if entry is None else bytes(entry) for entry in out]

    async def delete(self, sid: str) -> bool:
        """Delete a scope now; False if there was none."""
        return bool(await self._call(lambda: self._client.delete(PREFIX + sid)))

    async def ping(self) -> None:
        """Raise VaultUnavailableError unless Redis answers."""
        await self._call(self._client.ping)

    async def aclose(self) -> None:
        """Close the connections; the client reconnects when used again."""
        await self._client.connection_pool.disconnect()
