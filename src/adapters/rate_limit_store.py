"""Litestar stores for what must be shared by every node of a platform (issue 15): the
log-in and reset forms' rate-limit buckets. On one machine a folder is enough (every worker
process of the machine reads it); on PostgreSQL, several machines share the store, so the
buckets go to a table of its own in the store's schema (`vigie_rate_limits`), or to Redis when
VIGIE_REDIS_URL names one (Litestar's own RedisStore).

The PostgreSQL store borrows connections from a small psycopg pool that checks them, as the
sessions' and keys' stores do: a PostgreSQL restart costs only the requests in flight. Its
clock is the database's (`now()`), the same for every node."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from litestar.stores.base import Store
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from adapters.pool_check import async_check_when_rested

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS {table} (key text PRIMARY KEY, value bytea NOT NULL, "
    "expires_at timestamptz)",
    "CREATE INDEX IF NOT EXISTS vigie_rate_limits_expiry ON {table} (expires_at)",
)


def _seconds(duration: int | timedelta | None) -> float | None:
    if duration is None:
        return None
    return duration.total_seconds() if isinstance(duration, timedelta) else float(duration)


class PostgresStore(Store):
    """A Litestar Store over one table in the event store's PostgreSQL schema."""

    def __init__(
        self, conninfo: str, schema: str = "public", *, table: str = "vigie_rate_limits"
    ) -> None:
        self._conninfo = conninfo
        self._schema = schema
        self._names = {"table": sql.Identifier(schema, table)}
        # Opened in the event loop that first uses it (an asyncio pool belongs to one loop).
        self._pool: AsyncConnectionPool | None = None
        self._opening = asyncio.Lock()

    async def _ready(self) -> AsyncConnectionPool:
        if self._pool is not None:
            return self._pool
        async with self._opening:  # two first requests at once open one pool
            if self._pool is not None:
                return self._pool
            pool = AsyncConnectionPool(
                self._conninfo,
                min_size=1,
                max_size=4,
                kwargs={"autocommit": True},
                check=async_check_when_rested(),  # adapters/pool_check.py
                timeout=5.0,
                reconnect_timeout=60.0,
                open=False,
            )
            await pool.open()
            async with pool.connection() as connection, connection.transaction():
                # Nodes starting together: one creates the table, the others wait for it.
                await connection.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))", (self._schema,)
                )
                await connection.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self._schema))
                )
                for statement in _SCHEMA:
                    await connection.execute(sql.SQL(statement).format(**self._names))
            self._pool = pool
            return pool

    async def _run(self, text: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        pool = await self._ready()
        async with pool.connection() as connection:
            cursor = await connection.execute(sql.SQL(text).format(**self._names), params)
            return await cursor.fetchall() if cursor.description else []

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        data = value.encode() if isinstance(value, str) else value
        seconds = _seconds(expires_in)
        await self._run(
            "INSERT INTO {table} VALUES (%s, %s, now() + make_interval(secs => %s)) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
            "expires_at = excluded.expires_at",
            (key, data, seconds),
        )
        # Buckets of addresses that went quiet: dropped as the table is written.
        await self._run("DELETE FROM {table} WHERE expires_at <= now()")

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        if renew_for:
            await self._run(
                "UPDATE {table} SET expires_at = now() + make_interval(secs => %s) "
                "WHERE key = %s AND expires_at > now()",
                (_seconds(renew_for), key),
            )
        rows = await self._run(
            "SELECT value FROM {table} WHERE key = %s "
            "AND (expires_at IS NULL OR expires_at > now())",
            (key,),
        )
        return bytes(rows[0][0]) if rows else None

    async def delete(self, key: str) -> None:
        await self._run("DELETE FROM {table} WHERE key = %s", (key,))

    async def delete_all(self) -> None:
        await self._run("DELETE FROM {table}")

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        """Seconds left, -1 without an expiry (as Litestar's own stores), None if absent."""
        rows = await self._run(
            "SELECT floor(extract(epoch FROM expires_at - now()))::int FROM {table} "
            "WHERE key = %s AND (expires_at IS NULL OR expires_at > now())",
            (key,),
        )
        if not rows:
            return None
        left = rows[0][0]
        return -1 if left is None else int(left)

    async def close(self) -> None:
        """Give the pool's connections back (the app's shutdown)."""
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
