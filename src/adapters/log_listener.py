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
PING_EVERY_S = 5.0  # a connection that died quietly is noticed this fast
RETRY_EVERY_S = 1.0


def install_announcement(conninfo: str, schema: str) -> None:
    """The trigger that announces each commit's last position (once per schema; several
    nodes starting at once serialise on an advisory lock)."""
    function = sql.Identifier(schema, _FUNCTION)
    table = sql.Identifier(schema, EVENTS_TABLE)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s AND t.tgname = %s",
            (schema, EVENTS_TABLE, _TRIGGER),
        ).fetchone()
        if exists:
            return
        with connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (schema + _TRIGGER,))
            connection.execute(
                sql.SQL(
                    "CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                    "BEGIN PERFORM pg_notify({}, TG_TABLE_SCHEMA || ':' || "
                    "(SELECT max(notification_id) FROM appended)); RETURN NULL; END $$"
                ).format(function, sql.Literal(CHANNEL))
            )
            connection.execute(
                sql.SQL(
                    "CREATE OR REPLACE TRIGGER {} AFTER INSERT ON {} REFERENCING NEW TABLE AS "
                    "appended FOR EACH STATEMENT EXECUTE FUNCTION {}()"
                ).format(sql.Identifier(_TRIGGER), table, function)
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
                # Listening before reading the head: nothing committed in between is missed.
                head = await connection.fetchval(
                    f'SELECT max(notification_id) FROM "{self._schema}"."{EVENTS_TABLE}"'
                )
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

    def _hear(self, position: int, *, listening: bool | None = None) -> None:
        with self._lock:
            self._heard = max(self._heard, position)
            if listening is not None:
                self._listening = listening
