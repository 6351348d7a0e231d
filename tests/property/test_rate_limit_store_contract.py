"""The rate-limit store contract (issue 15): one body run on every Litestar Store the platform
may count log-in and reset attempts in — memory, a folder, a PostgreSQL table, Redis — and
that two nodes' stores over the same backing count together."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore

from adapters.bootstrap import Settings, rate_limit_store
from adapters.rate_limit_store import PostgresStore
from tests.conftest import server_and_schema

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(not _redis_answers(), reason="no Redis on 127.0.0.1:6379")

# A factory rather than a store: an asyncio pool or client belongs to the event loop that
# opens it, and each scenario runs in a loop of its own.
Factory = Callable[[], Store]


@pytest.fixture(
    params=[
        "memory",
        "file",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("redis", marks=needs_redis),
    ]
)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    if request.param == "memory":
        memory = MemoryStore()
        yield lambda: memory
    elif request.param == "file":
        yield lambda: FileStore(tmp_path / "rate-limit", create_directories=True)
    elif request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        server, schema = server_and_schema(url)
        yield lambda: PostgresStore(server, schema)
    else:
        namespace = f"vigie-test-{uuid4().hex[:12]}"  # the shared server: our keys only
        yield lambda: RedisStore.with_client(url=REDIS_URL, namespace=namespace)
        asyncio.run(_empty(RedisStore.with_client(url=REDIS_URL, namespace=namespace)))


async def _empty(store: Store) -> None:
    await store.delete_all()
    await _close(store)


async def _close(store: Store) -> None:
    if isinstance(store, PostgresStore):
        await store.close()
    elif isinstance(store, RedisStore):
        await store._redis.aclose()


def run(make_store: Factory, scenario: Callable[[Store], Awaitable[None]]) -> None:
    async def main() -> None:
        store = make_store()
        try:
            await scenario(store)
        finally:
            await _close(store)

    asyncio.run(main())


def test_a_value_is_kept_replaced_and_deleted(make_store: Factory) -> None:
    async def scenario(store: Store) -> None:
        assert await store.get("10.0.0.1") is None and not await store.exists("10.0.0.1")
        await store.set("10.0.0.1", b"[1]", expires_in=60)
        await store.set("10.0.0.2", "text is kept as bytes", expires_in=60)
        assert await store.get("10.0.0.1") == b"[1]"
        assert await store.get("10.0.0.2") == b"text is kept as bytes"
        await store.set("10.0.0.1", b"[1,2]", expires_in=60)
        assert await store.get("10.0.0.1") == b"[1,2]" and await store.exists("10.0.0.1")
        await store.delete("10.0.0.1")
        await store.delete("never-set")  # deleting what is absent is no error
        assert await store.get("10.0.0.1") is None
        assert await store.get("10.0.0.2") == b"text is kept as bytes"  # others untouched
        await store.delete_all()
        assert await store.get("10.0.0.2") is None

    run(make_store, scenario)


def test_a_value_expires_and_a_renewal_pushes_its_end(make_store: Factory) -> None:
    async def scenario(store: Store) -> None:
        await store.set("short", b"x", expires_in=1)
        await store.set("renewed", b"y", expires_in=1)
        await store.set("forever", b"z")
        left = await store.expires_in("short")
        assert left is not None and 0 <= left <= 1
        assert await store.expires_in("forever") == -1  # no expiry, as Litestar's own stores
        assert await store.expires_in("absent") is None
        assert await store.get("renewed", renew_for=60) == b"y"
        await asyncio.sleep(1.2)
        assert await store.get("short") is None and not await store.exists("short")
        assert await store.expires_in("short") is None
        assert await store.get("renewed") == b"y"
        renewed = await store.expires_in("renewed")
        assert renewed is not None and 50 <= renewed <= 60
        assert await store.get("forever") == b"z"

    run(make_store, scenario)


def test_two_nodes_over_the_same_backing_count_together(make_store: Factory) -> None:
    """What issue 15 asks of a shared store: a bucket filled through one node's store object
    is seen, and emptied, through another's (for memory: the same object, one process)."""

    async def scenario(first: Store) -> None:
        second = make_store()
        try:
            await first.set("10.0.0.9", b"[1,2,3]", expires_in=60)
            assert await second.get("10.0.0.9") == b"[1,2,3]"
            await second.set("10.0.0.9", b"[1,2,3,4]", expires_in=60)
            assert await first.get("10.0.0.9") == b"[1,2,3,4]"
            await second.delete("10.0.0.9")
            assert await first.get("10.0.0.9") is None
        finally:
            if second is not first:
                await _close(second)

    run(make_store, scenario)


@pytest.mark.postgres
def test_the_settings_pick_the_store_every_node_shares(postgres_url: str) -> None:
    assert isinstance(rate_limit_store(Settings(database_url=postgres_url)), PostgresStore)
    redis = rate_limit_store(Settings(database_url=postgres_url, redis_url=REDIS_URL))
    assert isinstance(redis, RedisStore)
    asyncio.run(redis._redis.aclose())
    with pytest.raises(ValueError, match="VIGIE_REDIS_URL"):
        rate_limit_store(Settings(database_url=postgres_url, redis_url="127.0.0.1:6379"))
