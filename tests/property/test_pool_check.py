"""A pooled PostgreSQL connection is checked as it is handed out only when it has rested
(adapters/pool_check.py, issue 15): a connection that answered a moment ago goes straight to
its query; one that rested, or whose server spoke unasked (a backend ended, a restart), is
checked, and a dead one is replaced before anyone uses it."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from adapters.persistence.store import EventsourcingStore
from adapters.pool_check import REST_S, async_check_when_rested, check_when_rested

pytestmark = [pytest.mark.postgres]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _terminate(server: str, pid: int) -> None:
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def _wait_gone(server: str, pid: int) -> None:
    """Until the ended backend has left (its goodbye sent, its socket closed)."""
    with psycopg.connect(server, autocommit=True) as admin:
        for _ in range(500):
            row = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)
            ).fetchone()
            if row is not None and row[0] == 0:
                return
            admin.execute("SELECT pg_sleep(0.01)")
    raise AssertionError(f"backend {pid} still there")


def _pid(pool: ConnectionPool) -> int:
    with pool.connection() as connection:
        row = connection.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        return int(row[0])


def test_a_rested_connection_is_checked_and_a_dead_one_replaced_a_busy_one_goes_straight(
    postgres_base_url: str,
) -> None:
    clock = Clock()
    check = check_when_rested(rest_s=REST_S, clock=clock)
    with ConnectionPool(
        postgres_base_url, min_size=1, max_size=1, check=check, kwargs={"autocommit": True}
    ) as pool:
        first = _pid(pool)
        # Rested: its backend was ended meanwhile, the check finds out and a new one serves.
        _terminate(postgres_base_url, first)
        clock.now += REST_S
        second = _pid(pool)
        assert second != first
        # Handed out again at once: no round trip, but its backend ended meanwhile said so
        # on the socket (as every backend does when the server stops or restarts, however
        # fast): the check finds out and a new one serves.
        _terminate(postgres_base_url, second)
        _wait_gone(postgres_base_url, second)
        clock.now += REST_S / 10
        third = _pid(pool)
        assert third not in (first, second)


def test_the_async_check_replaces_a_rested_dead_connection(postgres_base_url: str) -> None:
    async def scenario() -> None:
        clock = Clock()
        pool = AsyncConnectionPool(
            postgres_base_url,
            min_size=1,
            max_size=1,
            check=async_check_when_rested(rest_s=REST_S, clock=clock),
            kwargs={"autocommit": True},
            open=False,
        )
        await pool.open()
        try:
            async with pool.connection() as connection:
                first = connection.info.backend_pid
            _terminate(postgres_base_url, first)
            clock.now += REST_S
            async with pool.connection() as connection:
                assert connection.info.backend_pid != first
                await connection.execute("SELECT 1")
        finally:
            await pool.close()

    asyncio.run(scenario())


def test_the_event_stores_pool_checks_only_rested_connections(postgres_url: str) -> None:
    store = EventsourcingStore(postgres_url)
    try:
        pool = store._recorder.datastore.pool  # type: ignore[attr-defined]
        assert pool._check.__qualname__.startswith(check_when_rested.__name__)
    finally:
        store.close()
