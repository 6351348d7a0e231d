"""Sessions in the PostgreSQL database of the event store (in its schema), through a small
psycopg pool that checks its connections, so a PostgreSQL restart costs only the requests in
flight at that moment. Every worker process shares the rows.

The web's read of a session, made for nearly every request before its route, is made on the
request's own event loop through asyncpg (`get_async`, issue 15): in a thread it cost each
request a hand-over each way, a tenth of a web process's time at a thousand candidates."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
from anyio import to_thread
from eventsourcing.persistence import OperationalError
from psycopg import sql
from psycopg_pool import ConnectionPool

from adapters.keys_schema import default_keys_schema, ensure_keys_table
from adapters.persistence.unavailable import ASYNCPG_UNREACHABLE
from adapters.pool_check import check_when_rested
from app.ports.sessions import Claimed, Count, SecondFactor, StoredSession

FAILURES_KEPT = timedelta(days=1)
ASYNC_POOL_SIZE = 1  # per web process: a read takes a tenth of a millisecond; PostgreSQL has 100
CONNECT_TIMEOUT_S = 2.0  # as the store's: a stopped server fails fast, « try again »
# A connection that was open and is no more (not a server that refuses new ones).
_LOST = (asyncpg.ConnectionDoesNotExistError, asyncpg.InterfaceError, ConnectionError)


_DECODE = msgspec.json.Decoder(dict[str, Any]).decode  # jsonb comes from asyncpg as text


async def _nothing_to_reset(_connection: asyncpg.Connection) -> None:
    """The pool's connections only ever run one SELECT outside any transaction: nothing to
    undo when one is given back (asyncpg's default reset is a round trip at each release)."""


def _json(data: dict[str, Any]) -> str:
    """The session's data as JSON (ids and instants as text, as the pages read them back)."""
    return msgspec.json.encode(data).decode()


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS {sessions} (key text PRIMARY KEY, account text, "
    "data jsonb NOT NULL, expires_at timestamptz NOT NULL, idle_until timestamptz NOT NULL)",
    "CREATE INDEX IF NOT EXISTS vigie_sessions_account ON {sessions} (account)",
    "CREATE TABLE IF NOT EXISTS {failures} (subject text NOT NULL, at timestamptz NOT NULL)",
    "CREATE INDEX IF NOT EXISTS vigie_login_failures_subject ON {failures} (subject, at)",
)
# Staff's second-factor secrets sit with the other keys, out of the store's schema (issue 15).
_FACTORS = (
    "CREATE TABLE IF NOT EXISTS {} (staff_id uuid PRIMARY KEY, secret bytea NOT NULL, "
    "confirmed boolean NOT NULL, last_step bigint NOT NULL)"
)


class PostgresSessionStore:
    """SessionStore on PostgreSQL: sessions and failed log-ins in the store's schema, the
    second-factor secrets in the keys' schema (`keys_schema`, by default as
    adapters.keys_schema names it)."""

    def __init__(
        self,
        conninfo: str,
        schema: str = "public",
        *,
        keys_schema: str | None = None,
        max_size: int = 4,
        connect: dict[str, Any] | None = None,
    ) -> None:
        """`connect`: asyncpg's arguments for the same server (`get_async` through it; in a
        thread through the psycopg pool without)."""
        self._pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=max_size,
            kwargs={"autocommit": True},
            check=check_when_rested(),  # adapters/pool_check.py
            reconnect_timeout=60.0,
            open=True,
        )
        self._names = {
            "sessions": sql.Identifier(schema, "vigie_sessions"),
            "failures": sql.Identifier(schema, "vigie_login_failures"),
        }
        # The hot read, composed once (psycopg composes a query's names at each execute).
        select = (
            "SELECT account, data, expires_at, idle_until FROM {sessions} "
            "WHERE key = {key} AND expires_at > {now} AND idle_until > {now}"
        )
        self._get = self._sql(select.format(sessions="{sessions}", key="%s", now="%s"))
        quoted = '"' + schema.replace('"', '""') + '".vigie_sessions'
        self._get_async = select.format(sessions=quoted, key="$1", now="$2")
        self._schema = schema
        self._connect = connect
        self._async_pools: dict[asyncio.AbstractEventLoop, asyncio.Task[asyncpg.Pool]] = {}
        with self._pool.connection() as connection:
            connection.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
            )
            for statement in _SCHEMA:
                connection.execute(sql.SQL(statement).format(**self._names))
            self._names["factors"] = ensure_keys_table(
                connection,
                keys_schema or default_keys_schema(schema),
                "vigie_second_factors",
                _FACTORS,
                moved_from=schema,
            )

    def _sql(self, text: str) -> sql.Composed:
        return sql.SQL(text).format(**self._names)

    def put(self, key: str, session: StoredSession) -> None:
        with self._pool.connection() as connection:
            connection.execute(
                self._sql(
                    "INSERT INTO {sessions} VALUES (%s, %s, %s, %s, LEAST(%s, %s)) "
                    "ON CONFLICT (key) DO UPDATE SET account = excluded.account, "
                    "data = excluded.data, expires_at = excluded.expires_at, "
                    "idle_until = excluded.idle_until"
                ),
                (
                    key,
                    session.account,
                    _json(session.data),
                    session.expires_at,
                    session.idle_until,
                    session.expires_at,
                ),
            )

    def get(self, key: str, now: datetime) -> StoredSession | None:
        with self._pool.connection() as connection:
            row = connection.execute(self._get, (key, now, now)).fetchone()
        if row is None:
            return None
        return StoredSession(data=row[1], account=row[0], expires_at=row[2], idle_until=row[3])

    async def get_async(self, key: str, now: datetime) -> StoredSession | None:
        if self._connect is None:
            return await to_thread.run_sync(self.get, key, now)
        # A pooled connection that PostgreSQL ended (a restart) fails once and is replaced:
        # the read is asked again, as the psycopg pool's check would have spared it.
        for tries_left in range(ASYNC_POOL_SIZE, -1, -1):
            try:
                pool = await self._async_pool()
                row = await pool.fetchrow(self._get_async, key, now)
                break
            except _LOST as error:
                if tries_left == 0:
                    raise OperationalError(f"the session could not be read: {error}") from error
            except ASYNCPG_UNREACHABLE as error:
                raise OperationalError(f"the session could not be read: {error}") from error
        if row is None:
            return None
        return StoredSession(
            data=_DECODE(row[1]), account=row[0], expires_at=row[2], idle_until=row[3]
        )

    async def _made_pool(self) -> asyncpg.Pool:
        assert self._connect is not None
        pool: asyncpg.Pool = await asyncpg.create_pool(
            **self._connect,
            min_size=1,
            max_size=ASYNC_POOL_SIZE,
            timeout=CONNECT_TIMEOUT_S,
            server_settings={"application_name": "vigie-sessions"},
            reset=_nothing_to_reset,
        )
        return pool

    async def _async_pool(self) -> asyncpg.Pool:
        """This event loop's asyncpg pool (a web process has one loop; a test may run
        several), made at its first read; a pool that could not be made is tried again at
        the next read."""
        loop = asyncio.get_running_loop()
        making = self._async_pools.get(loop)
        if making is None:
            making = self._async_pools[loop] = loop.create_task(self._made_pool())
        try:
            return await asyncio.shield(making)
        except BaseException:
            if making.done() and self._async_pools.get(loop) is making:
                del self._async_pools[loop]
            raise

    def refresh(self, key: str, idle_until: datetime, data: dict[str, Any] | None) -> None:
        with self._pool.connection() as connection:
            connection.execute(
                self._sql(
                    "UPDATE {sessions} SET idle_until = LEAST(%s, expires_at), "
                    "data = COALESCE(%s::jsonb, data) WHERE key = %s"
                ),
                (idle_until, None if data is None else _json(data), key),
            )

    def extend(self, key: str, expires_at: datetime, now: datetime) -> None:
        with self._pool.connection() as connection:
            connection.execute(
                self._sql(
                    "UPDATE {sessions} SET expires_at = GREATEST(expires_at, %s) "
                    "WHERE key = %s AND expires_at > %s AND idle_until > %s"
                ),
                (expires_at, key, now, now),
            )

    def delete(self, key: str) -> None:
        with self._pool.connection() as connection:
            connection.execute(self._sql("DELETE FROM {sessions} WHERE key = %s"), (key,))

    def end_account(self, account: str) -> int:
        with self._pool.connection() as connection:
            return connection.execute(
                self._sql("DELETE FROM {sessions} WHERE account = %s"), (account,)
            ).rowcount

    def purge(self, now: datetime) -> int:
        with self._pool.connection() as connection:
            ended = connection.execute(
                self._sql("DELETE FROM {sessions} WHERE expires_at <= %s OR idle_until <= %s"),
                (now, now),
            ).rowcount
            connection.execute(
                self._sql("DELETE FROM {failures} WHERE at <= %s"), (now - FAILURES_KEPT,)
            )
            return ended

    def claim_attempt(self, counts: Sequence[Count], at: datetime, since: datetime) -> Claimed:
        # One transaction holding each subject's lock (in one order: two claims never wait on
        # each other's second lock): a claim on another worker or node waits until this one is
        # recorded or refused, then counts it. Read committed alone would let both count
        # « nine » and both insert a tenth.
        with self._pool.connection() as connection, connection.transaction():
            for subject in sorted({count.subject for count in counts}):
                connection.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                    (f"{self._schema}.vigie_login_failures:{subject}",),
                )
            before = tuple(
                tuple(
                    row[0]
                    for row in connection.execute(
                        self._sql(
                            "SELECT at FROM {failures} WHERE subject = %s AND at > %s ORDER BY at"
                        ),
                        (count.subject, since),
                    ).fetchall()
                )
                for count in counts
            )
            allowed = all(
                count.limit is None or len(found) < count.limit
                for count, found in zip(counts, before, strict=True)
            )
            if allowed:
                with connection.cursor() as cursor:
                    cursor.executemany(
                        self._sql("INSERT INTO {failures} VALUES (%s, %s)"),
                        [(count.subject, at) for count in counts],
                    )
        return Claimed(allowed, before)

    def withdraw_attempt(self, subjects: Sequence[str], at: datetime) -> None:
        with self._pool.connection() as connection:
            for subject in subjects:
                connection.execute(
                    self._sql(
                        "DELETE FROM {failures} WHERE ctid = (SELECT ctid FROM {failures} "
                        "WHERE subject = %s AND at = %s LIMIT 1)"
                    ),
                    (subject, at),
                )

    def second_factor(self, staff_id: UUID) -> SecondFactor | None:
        with self._pool.connection() as connection:
            row = connection.execute(
                self._sql("SELECT secret, confirmed, last_step FROM {factors} WHERE staff_id = %s"),
                (staff_id,),
            ).fetchone()
        if row is None:
            return None
        return SecondFactor(sealed_secret=bytes(row[0]), confirmed=row[1], last_step=row[2])

    def set_second_factor(self, staff_id: UUID, factor: SecondFactor) -> None:
        with self._pool.connection() as connection:
            connection.execute(
                self._sql(
                    "INSERT INTO {factors} VALUES (%s, %s, %s, %s) ON CONFLICT (staff_id) "
                    "DO UPDATE SET secret = excluded.secret, confirmed = excluded.confirmed, "
                    "last_step = excluded.last_step"
                ),
                (staff_id, factor.sealed_secret, factor.confirmed, factor.last_step),
            )

    def use_step(self, staff_id: UUID, step: int) -> bool:
        # One statement: two workers accepting the same code cannot both succeed.
        with self._pool.connection() as connection:
            updated = connection.execute(
                self._sql(
                    "UPDATE {factors} SET last_step = %s WHERE staff_id = %s AND last_step < %s"
                ),
                (step, staff_id, step),
            ).rowcount
        return updated == 1

    def remove_second_factor(self, staff_id: UUID) -> bool:
        with self._pool.connection() as connection:
            removed = connection.execute(
                self._sql("DELETE FROM {factors} WHERE staff_id = %s"), (staff_id,)
            ).rowcount
        return removed == 1

    def close(self) -> None:
        self._pool.close()
        pools, self._async_pools = self._async_pools, {}
        for making in pools.values():
            # Cut, not closed politely: its loop may be another thread's, or closed (then
            # its connections cannot be told and go with their sockets).
            if making.done() and not making.cancelled() and making.exception() is None:
                with contextlib.suppress(RuntimeError):
                    making.result().terminate()
