"""The log's head, heard through PostgreSQL's LISTEN/NOTIFY with asyncpg (issue 15).

A statement trigger on the events table announces, at each commit that appended events, the
schema and the last position on the `vigie_log` channel, whoever wrote them (a web process,
a worker, another node). Each web process keeps one asyncpg connection listening there, on a
thread of its own, and reconnects when it drops; `known()` is then the head this process can
vouch for, and a page's catch-up skips the database when its read models are already there.

Read-your-writes: a request that saved something reads it back even before the announcement
arrives, because `known()` is at least the last position this process saved. While the
connection is down `known()` is None: every catch-up asks the store, as on SQLite (which
has no NOTIFY; its readers read the file, a cheap query, at every catch-up).

A second trigger announces on `vigie_streams` which streams each commit appended to (their
ids, or `*` past `STREAMS_NAMED` of them), so that an aggregate this process holds can be
known current without a query (`unchanged_since`: the exam tab's heartbeat, issue 15). A
separate channel and trigger leave the first announcement as nodes of the last version read
it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

import asyncpg
import psycopg
from psycopg import sql

LOG = logging.getLogger("vigie.log_listener")
CHANNEL = "vigie_log"
EVENTS_TABLE = "vigie_events"  # eventsourcing's table for the application named Vigie
_FUNCTION = "vigie_announce_log_v1"
_TRIGGER = "vigie_announce_log"
STREAMS_CHANNEL = "vigie_streams"
STREAMS_NAMED = 40  # at most this many ids in one announcement (NOTIFY takes 8,000 bytes)
_STREAMS_FUNCTION = "vigie_announce_streams_v1"
_STREAMS_TRIGGER = "vigie_announce_streams"
STREAMS_REMEMBERED = 200_000  # past this many, forgotten at once: every stream is asked again
PING_EVERY_S = 5.0  # a connection that died quietly is noticed this fast
RETRY_EVERY_S = 1.0


def install_announcement(conninfo: str, schema: str) -> None:
    """The triggers that announce each commit's last position, and its streams (once per
    schema; several nodes starting at once serialise on an advisory lock)."""
    table = sql.Identifier(schema, EVENTS_TABLE)
    head = sql.SQL("(SELECT max(notification_id) FROM appended)")
    streams = sql.SQL(
        "(SELECT CASE WHEN count(DISTINCT originator_id) <= {} "
        "THEN string_agg(DISTINCT originator_id::text, ',') ELSE '*' END FROM appended)"
    ).format(sql.Literal(STREAMS_NAMED))
    announcements = (
        (_TRIGGER, _FUNCTION, CHANNEL, head),
        (
            _STREAMS_TRIGGER,
            _STREAMS_FUNCTION,
            STREAMS_CHANNEL,
            head + sql.SQL(" || ':' || ") + streams,
        ),
    )
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as connection:
        for trigger, function_name, channel, payload in announcements:
            exists = connection.execute(
                "SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relname = %s AND t.tgname = %s",
                (schema, EVENTS_TABLE, trigger),
            ).fetchone()
            if exists:
                continue
            function = sql.Identifier(schema, function_name)
            with connection.transaction():
                connection.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))", (schema + trigger,)
                )
                connection.execute(
                    sql.SQL(
                        "CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                        "BEGIN PERFORM pg_notify({}, TG_TABLE_SCHEMA || ':' || {}); "
                        "RETURN NULL; END $$"
                    ).format(function, sql.Literal(channel), payload)
                )
                connection.execute(
                    sql.SQL(
                        "CREATE OR REPLACE TRIGGER {} AFTER INSERT ON {} REFERENCING NEW TABLE "
                        "AS appended FOR EACH STATEMENT EXECUTE FUNCTION {}()"
                    ).format(sql.Identifier(trigger), table, function)
                )


class PostgresLogHead:
    """LogHead on one asyncpg listening connection, on a thread with its own event loop."""

    def __init__(
        self,
        connect: dict[str, Any],
        schema: str,
        saved_here: Callable[[], int] = lambda: 0,
        *,
        wait_s: float = 0.0,
    ) -> None:
        self._connect = connect
        self._schema = schema
        self._saved_here = saved_here
        self._heard = 0
        self._listening = False
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self.announcements = 0  # heard for this schema (tests and metrics read it)
        # Streams: the last position each was announced at, since `_floor` (before it, any
        # stream may have changed); all of it valid for one connection (`_generation`).
        self._changed: dict[str, int] = {}
        self._floor = 0
        self._streams_heard = 0
        self._generation = 0
        self.backend_pid: int | None = None  # the listening connection's server process
        self._thread = threading.Thread(target=self._run, name="vigie-log-listener", daemon=True)
        self._thread.start()
        # Never held up by the listener (uvicorn kills a worker that is slow to start): until
        # it listens, known() is None and catch-ups ask the store.
        if wait_s:
            self._ready.wait(wait_s)

    def known(self) -> int | None:
        with self._lock:
            if not self._listening:
                return None
            return max(self._heard, self._saved_here())

    def mark(self) -> tuple[int, int] | None:
        """Where this process stands in the streams' announcements, to note before reading
        an aggregate from the store (None while not listening)."""
        with self._lock:
            if not self._listening:
                return None
            return (self._generation, self._streams_heard)

    def unchanged_since(self, stream: str, mark: tuple[int, int], seen: int = 0) -> bool:
        """Whether nothing was appended to `stream` after `mark` as far as this process can
        vouch: still the connection the mark was taken on, every announcement up to `seen`
        (what the reader itself wrote) heard, none naming the stream after the mark."""
        generation, at = mark
        with self._lock:
            return (
                self._listening
                and generation == self._generation
                and self._streams_heard >= seen
                and at >= self._floor
                and self._changed.get(stream, 0) <= at
            )

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=PING_EVERY_S + 2)

    # --- the listening thread --------------------------------------------------------------

    def _run(self) -> None:
        asyncio.run(self._listen())

    async def _listen(self) -> None:
        while not self._stopping.is_set():
            connection: Any = None
            try:
                connection = await asyncpg.connect(
                    **self._connect,
                    timeout=5,
                    server_settings={"application_name": "vigie-log-listener"},
                )
                self.backend_pid = connection.get_server_pid()
                await connection.add_listener(CHANNEL, self._announced)
                await connection.add_listener(STREAMS_CHANNEL, self._streams_announced)
                # Listening before reading the head: nothing committed in between is missed.
                head = await connection.fetchval(
                    f'SELECT max(notification_id) FROM "{self._schema}"."{EVENTS_TABLE}"'
                )
                with self._lock:
                    # A new connection: what the last one heard of the streams is not enough
                    # (announcements may have been missed while it was down).
                    self._generation += 1
                    self._changed.clear()
                    self._floor = self._streams_heard = int(head or 0)
                self._hear(int(head or 0), listening=True)
                self._ready.set()
                await self._stay(connection)
            except Exception as error:
                if not self._stopping.is_set():
                    LOG.warning("log listener: %s; catch-ups ask the store until it is back", error)
            finally:
                with self._lock:
                    self._listening = False
                self._ready.set()
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=2)
            if not self._stopping.is_set():
                await asyncio.sleep(RETRY_EVERY_S)

    async def _stay(self, connection: Any) -> None:
        """Until asked to stop; a ping now and then notices a connection that died."""
        waited = 0.0
        while not self._stopping.is_set():
            await asyncio.sleep(0.2)
            waited += 0.2
            if connection.is_closed():
                raise ConnectionError("the listening connection closed")
            if waited >= PING_EVERY_S:
                waited = 0.0
                await connection.fetchval("SELECT 1", timeout=5)

    def _announced(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        schema, _, position = payload.rpartition(":")
        if schema == self._schema and position.isdigit():
            self.announcements += 1
            self._hear(int(position))

    def _streams_announced(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        schema, _, rest = payload.partition(":")
        position, _, streams = rest.partition(":")
        if schema != self._schema or not position.isdigit():
            return
        at = int(position)
        with self._lock:
            if streams == "*" or len(self._changed) >= STREAMS_REMEMBERED:
                self._changed.clear()
                self._floor = max(self._floor, at)
            else:
                for stream in streams.split(","):
                    if self._changed.get(stream, 0) < at:
                        self._changed[stream] = at
            self._streams_heard = max(self._streams_heard, at)

    def _hear(self, position: int, *, listening: bool | None = None) -> None:
        with self._lock:
            self._heard = max(self._heard, position)
            if listening is not None:
                self._listening = listening
