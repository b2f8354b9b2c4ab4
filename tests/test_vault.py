"""The vault on its own: keys, scopes, numbering, reserved keys, caps, expiry, and both backends.

Every test that takes ``vault`` runs against the memory backend and against a real redis-server
(conftest's ``redis_url``); Redis-only tests (outages, restarts, what Redis holds) follow.
"""

from __future__ import annotations

import re
import threading
from collections.abc import AsyncIterator

import anyio
import pytest
from redis_server import free_port, redis_server, vault_data

from mcp_pii.errors import ConfigError, ScopeError, VaultError, VaultFullError, VaultUnavailableError
from mcp_pii.vault import Vault
from mcp_pii.vault.crypto import VaultKeys
from mcp_pii.vault.memory import MemoryBackend
from mcp_pii.vault.redis_backend import redact_url

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

KEY = "test-vault-key-0123456789abcdefghijklmnop"
SCOPE_ID = re.compile(r"^[A-Za-z0-9_-]{32}$")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Clock:
    """A clock the memory backend reads, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def memory_vault(clock: Clock | None = None, ttl: float = 60.0, max_scopes: int = 100, max_entries: int = 100) -> Vault:
    return Vault(MemoryBackend(ttl, max_scopes, max_entries, clock=clock or Clock()), VaultKeys(KEY))


@pytest.fixture(params=["memory", "redis"])
async def vault(request: pytest.FixtureRequest) -> AsyncIterator[Vault]:
    if request.param == "memory":
        yield memory_vault()
        return
    v = Vault.redis(request.getfixturevalue("redis_url"), KEY, max_entries=100)
    try:
        yield v
    finally:
        await v.aclose()


# --- keys ---------------------------------------------------------------------------------------


def test_keys_are_derived_and_values_sealed() -> None:
    keys, other = VaultKeys(KEY), VaultKeys(KEY[::-1])
    assert keys.scope_hash("s") == VaultKeys(KEY).scope_hash("s") != other.scope_hash("s")
    assert re.fullmatch(r"[a-z2-7]{6}", keys.tag("s"))
    assert keys.tag("s") != keys.tag("t")
    sealed = keys.seal("sid", "EMAIL", "jane@example.com")
    assert b"jane" not in sealed
    assert keys.seal("sid", "EMAIL", "jane@example.com") != sealed  # a fresh nonce each time
    assert keys.open("sid", "EMAIL", sealed) == "jane@example.com"
    for sid, name, key in (("other", "EMAIL", keys), ("sid", "PHONE", keys), ("sid", "EMAIL", other)):
        with pytest.raises(VaultError, match="MCP_PII_VAULT_KEY"):
            key.open(sid, name, sealed)
    assert keys.value_index("a", "EMAIL", "x") != keys.value_index("b", "EMAIL", "x")


def test_short_keys_are_refused() -> None:
    with pytest.raises(ConfigError, match="at least 32 characters"):
        VaultKeys("too short")
    assert VaultKeys(None).tag("s") != VaultKeys(None).tag("s")  # random per process


# --- scopes and numbering (both backends) -------------------------------------------------------


async def test_scopes_are_minted_unguessable(vault: Vault) -> None:
    scopes = {await vault.new_scope() for _ in range(20)}
    assert len(scopes) == 20
    assert all(SCOPE_ID.match(s) for s in scopes)  # 24 random bytes, URL-safe base64
    assert [await vault.exists(s) for s in scopes] == [True] * 20
    assert not await vault.exists("A" * 32)


async def test_numbering_is_per_type_in_order_and_stable(vault: Vault) -> None:
    scope = await vault.new_scope()
    tag = vault.tag(scope)
    first = await vault.assign(scope, [("email", "a@x.io"), ("phone", "555-0100"), ("email", "b@x.io")])
    assert first == {
        ("email", "a@x.io"): f"[EMAIL_1#{tag}]",
        ("phone", "555-0100"): f"[PHONE_1#{tag}]",
        ("email", "b@x.io"): f"[EMAIL_2#{tag}]",
    }
    again = await vault.assign(scope, [("email", "c@x.io"), ("email", "b@x.io"), ("email", "a@x.io")])
    assert again[("email", "b@x.io")] == f"[EMAIL_2#{tag}]"
    assert again[("email", "a@x.io")] == f"[EMAIL_1#{tag}]"
    assert again[("email", "c@x.io")] == f"[EMAIL_3#{tag}]"
    assert await vault.reveal(scope, ["EMAIL_1", "EMAIL_3", "PHONE_1", "PHONE_2"]) == {
        "EMAIL_1": "a@x.io",
        "EMAIL_3": "c@x.io",
        "PHONE_1": "555-0100",
    }


async def test_reserved_keys_are_skipped_and_never_revealed(vault: Vault) -> None:
    scope = await vault.new_scope()
    tag = vault.tag(scope)
    out = await vault.assign(scope, [("email", "a@x.io"), ("email", "b@x.io")], reserve=["EMAIL_1", "EMAIL_3"])
    assert out == {("email", "a@x.io"): f"[EMAIL_2#{tag}]", ("email", "b@x.io"): f"[EMAIL_4#{tag}]"}
    # A reserved key stays reserved; reserving an assigned key changes nothing.
    out = await vault.assign(scope, [("email", "c@x.io")], reserve=["EMAIL_2", "EMAIL_5"])
    assert out == {("email", "c@x.io"): f"[EMAIL_6#{tag}]"}
    assert await vault.reveal(scope, ["EMAIL_1", "EMAIL_2", "EMAIL_3", "EMAIL_5"]) == {"EMAIL_2": "a@x.io"}


async def test_scopes_share_nothing(vault: Vault) -> None:
    one, two = await vault.new_scope(), await vault.new_scope()
    assert vault.tag(one) != vault.tag(two)
    await vault.assign(one, [("email", "a@x.io")])
    out = await vault.assign(two, [("email", "b@x.io"), ("email", "a@x.io")])
    assert out[("email", "b@x.io")] == f"[EMAIL_1#{vault.tag(two)}]"
    assert out[("email", "a@x.io")] == f"[EMAIL_2#{vault.tag(two)}]"
    assert await vault.reveal(one, ["EMAIL_1", "EMAIL_2"]) == {"EMAIL_1": "a@x.io"}


async def test_unknown_and_forgotten_scopes(vault: Vault) -> None:
    with pytest.raises(ScopeError, match="unknown or expired scope"):
        await vault.assign("not-a-scope-the-vault-minted", [("email", "a@x.io")])
    assert await vault.reveal("not-a-scope-the-vault-minted", ["EMAIL_1"]) is None
    scope = await vault.new_scope()
    await vault.assign(scope, [("email", "a@x.io")])
    assert await vault.forget(scope) is True
    assert await vault.forget(scope) is False
    assert await vault.reveal(scope, ["EMAIL_1"]) is None
    with pytest.raises(ScopeError):
        await vault.assign(scope, [])


async def test_entry_cap_is_all_or_nothing(vault: Vault) -> None:
    scope = await vault.new_scope()
    await vault.assign(scope, [("email", f"{i}@x.io") for i in range(98)], reserve=["EMAIL_200"])
    with pytest.raises(VaultFullError, match=r"more than 100 entries \(vault_max_entries\); start a new scope"):
        await vault.assign(scope, [("email", "new1@x.io"), ("email", "0@x.io"), ("email", "new2@x.io")])
    assert await vault.reveal(scope, ["EMAIL_99"]) == {}  # nothing of the refused call was kept
    out = await vault.assign(scope, [("email", "new1@x.io"), ("email", "0@x.io")])  # one new entry fits
    assert out[("email", "new1@x.io")] == f"[EMAIL_99#{vault.tag(scope)}]"


# --- memory backend -----------------------------------------------------------------------------


async def test_memory_scopes_expire_after_their_last_use() -> None:
    clock = Clock()
    vault = memory_vault(clock, ttl=10)
    scope, idle = await vault.new_scope(), await vault.new_scope()
    await vault.assign(scope, [("email", "a@x.io")])
    clock.now += 8
    assert await vault.reveal(scope, ["EMAIL_1"]) == {"EMAIL_1": "a@x.io"}  # a use: 10 s more
    clock.now += 8
    assert await vault.exists(scope)
    assert not await vault.exists(idle)
    clock.now += 10.5
    assert await vault.reveal(scope, ["EMAIL_1"]) is None
    assert len(vault._backend) == 0  # type: ignore[arg-type]


async def test_memory_scope_cap_and_no_threads() -> None:
    clock = Clock()
    vault = memory_vault(clock, ttl=5, max_scopes=3)
    threads = threading.active_count()
    for _ in range(3):
        await vault.new_scope()
    with pytest.raises(VaultFullError, match=r"maximum of 3 scopes \(vault_max_scopes\)"):
        await vault.new_scope()
    clock.now += 6  # the three expire: room again, without any timer or thread
    for _ in range(100):
        await vault.new_scope()
        clock.now += 6
    assert threading.active_count() == threads
    assert len(vault._backend) == 0  # type: ignore[arg-type]  # every one expired, and was dropped


async def test_memory_bytes_cap() -> None:
    vault = Vault.memory(KEY, max_entries=1_000_000, max_mib=1)
    scope = await vault.new_scope()
    with pytest.raises(VaultFullError, match=r"maximum of 1 MiB \(vault_max_mib\)"):
        await vault.assign(scope, [("email", f"user{i:06d}@example.com") for i in range(10_000)])
    await vault.assign(scope, [("email", f"user{i:06d}@example.com") for i in range(2_000)])
    other = await vault.new_scope()
    with pytest.raises(VaultFullError, match="vault_max_mib"):
        await vault.assign(other, [("email", f"other{i:06d}@example.com") for i in range(2_000)])
    assert await vault.forget(scope)
    await vault.assign(other, [("email", f"other{i:06d}@example.com") for i in range(2_000)])  # room again


# --- Redis backend ------------------------------------------------------------------------------


async def test_redis_holds_no_value_and_no_scope_id(redis_url: str) -> None:
    vault = Vault.redis(redis_url, KEY)
    values = ["jane.doe@example.com", "123-45-6789", "Zoë Müller"]
    scope = await vault.new_scope()
    await vault.assign(scope, [("email", values[0]), ("ssn", values[1]), ("person", values[2])])
    await vault.aclose()
    raw = vault_data(redis_url)
    assert raw  # the scope is there
    for secret in (*values, scope, scope[:16], scope[-16:]):
        assert secret.encode() not in raw
    assert b"jane" not in raw.lower()


async def test_redis_survives_a_restart_of_the_client_and_expires(redis_url: str) -> None:
    first = Vault.redis(redis_url, KEY, ttl_seconds=0.5)
    scope = await first.new_scope()
    tokens = await first.assign(scope, [("email", "a@x.io")])
    await first.aclose()
    second = Vault.redis(redis_url, KEY, ttl_seconds=0.5)  # another process would do the same
    assert await second.assign(scope, [("email", "a@x.io")]) == tokens
    assert await second.reveal(scope, ["EMAIL_1"]) == {"EMAIL_1": "a@x.io"}
    other_key = Vault.redis(redis_url, KEY + "x")
    assert await other_key.reveal(scope, ["EMAIL_1"]) is None  # another key sees no scope at all
    await anyio.sleep(0.8)
    assert await second.reveal(scope, ["EMAIL_1"]) is None
    await second.aclose()
    await other_key.aclose()


async def test_redis_numbering_is_atomic_across_clients(redis_url: str) -> None:
    vaults = [Vault.redis(redis_url, KEY) for _ in range(4)]
    scope = await vaults[0].new_scope()
    values = [("email", f"{i}@x.io") for i in range(30)]
    results: list[dict[tuple[str, str], str]] = []

    async def assign(v: Vault, order: list[tuple[str, str]]) -> None:
        results.append(await v.assign(scope, order))

    async with anyio.create_task_group() as tg:
        for i, v in enumerate(vaults):
            tg.start_soon(assign, v, values[i:] + values[:i])
    assert all(r == results[0] for r in results)
    assert sorted(results[0].values()) == sorted({*results[0].values()})  # 30 distinct tokens
    for v in vaults:
        await v.aclose()


async def test_unreachable_redis_is_an_error_not_a_hang() -> None:
    vault = Vault.redis(f"redis://127.0.0.1:{free_port()}/0", KEY, timeout_seconds=1)
    with anyio.fail_after(10):
        with pytest.raises(VaultUnavailableError, match=r"Redis at redis://127\.0\.0\.1:\d+/0\) is unreachable"):
            await vault.ping()
        with pytest.raises(VaultUnavailableError):
            await vault.new_scope()


async def test_redis_going_away_and_coming_back() -> None:
    with redis_server() as server:
        vault = Vault.redis(server.url, KEY, timeout_seconds=1)
        scope = await vault.new_scope()
        await vault.assign(scope, [("email", "a@x.io")])
        server.stop()
        with anyio.fail_after(10), pytest.raises(VaultUnavailableError):
            await vault.assign(scope, [("email", "b@x.io")])
        server.start()  # an empty Redis (it keeps nothing on disk): the old scope is gone
        with pytest.raises(ScopeError):
            await vault.assign(scope, [("email", "b@x.io")])
        fresh = await vault.new_scope()
        assert await vault.assign(fresh, [("email", "b@x.io")]) == {
            ("email", "b@x.io"): f"[EMAIL_1#{vault.tag(fresh)}]"
        }
        await vault.aclose()


def test_urls_are_shown_without_credentials() -> None:
    assert redact_url("redis://user:s3cret@cache.internal:6380/2") == "redis://cache.internal:6380/2"
    assert redact_url("rediss://:pw@[::1]:6379") == "rediss://[::1]:6379"
    with pytest.raises(ConfigError, match="redis://"):
        Vault.redis("http://127.0.0.1:6379", KEY)


def test_vault_from_config() -> None:
    from mcp_pii import Config

    assert Vault.from_config(Config()).kind == "memory"
    with pytest.raises(ConfigError, match="MCP_PII_VAULT_KEY"):
        Vault.from_config(Config(vault_url="redis://127.0.0.1:1/0"))
    vault = Vault.from_config(Config(vault_url="redis://u:pw@127.0.0.1:1/0", vault_key=KEY))
    assert (vault.kind, vault.where) == ("redis", "redis://127.0.0.1:1/0")
    assert "pw" not in repr(vault)


def test_vault_settings_from_the_environment() -> None:
    from mcp_pii import Config

    env = {
        "MCP_PII_ALLOW_UNMASK": "yes",
        "MCP_PII_VAULT_URL": "redis://127.0.0.1:6379/1",
        "MCP_PII_VAULT_KEY": KEY,
        "MCP_PII_VAULT_TTL_SECONDS": "90.5",
        "MCP_PII_VAULT_MAX_SCOPES": "7",
        "MCP_PII_VAULT_MAX_ENTRIES": "8",
        "MCP_PII_VAULT_TIMEOUT_SECONDS": "0.5",
    }
    config = Config.load(env=env)
    assert config.allow_unmask is True
    assert config.vault_url is not None
    assert config.vault_url.get_secret_value() == "redis://127.0.0.1:6379/1"
    assert (config.vault_ttl_seconds, config.vault_max_scopes, config.vault_max_entries) == (90.5, 7, 8)
    assert config.vault_timeout_seconds == 0.5
    assert KEY not in repr(config)
    assert "vault" not in config.to_engine_json()  # the engines never see the vault settings
    assert Config.load(env={"MCP_PII_ALLOW_UNMASK": "off"}).allow_unmask is False
    for name, value, message in (
        ("MCP_PII_ALLOW_UNMASK", "maybe", "allow_unmask: Input should be a valid boolean"),
        ("MCP_PII_VAULT_TTL_SECONDS", "soon", "vault_ttl_seconds: Input should be a valid number"),
        ("MCP_PII_VAULT_TTL_SECONDS", "0", "vault_ttl_seconds"),
        ("MCP_PII_VAULT_MAX_ENTRIES", "0", "vault_max_entries"),
    ):
        with pytest.raises(ConfigError, match=message):
            Config.load(env={name: value})
