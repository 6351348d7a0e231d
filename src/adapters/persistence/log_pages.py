"""The log's pages on PostgreSQL, read with asyncpg, the next one read ahead (issue 15).

A replay (a read model rebuilt, a worker catching up) reads the log page after page. Read
through the library's psycopg connection, each page waited on PostgreSQL finding and sending
its rows (half of a raw read's time) and only then was decoded. Here a page comes from
asyncpg, which makes its rows in C, and when it comes back full the query for the page after
it is sent at once: PostgreSQL finds and sends those rows while this page is decoded.

No thread is involved: each reader is one asyncpg connection on an event loop of its own,
run by whichever thread asks for a page (one thread at a time), so a busy machine adds no
hand-over between threads. A thread that already runs an event loop, or that finds every
reader in use, reads its page the library's way (`fallback`).

A page read ahead is handed over only if it was full: the store commits positions in order
(the library's table lock), so nothing can join a full page after it was read. A short one
may have missed a later commit (read-your-writes): it is read again. Decoding, unsealing and
every check happen when the page is asked for, never ahead.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
from eventsourcing.persistence import OperationalError

Row = Sequence[Any]  # position, stream, version, topic, state (an asyncpg Record)
READERS = 2  # connections per store for pages; more threads at once read the library's way
CONNECT_TIMEOUT_S = 2.0  # as the recorder's (settings.py): a stopped server fails fast
CLOSE_TIMEOUT_S = 2.0

# What "the database did not answer" looks like from asyncpg (refused, dropped, shutting
# down, starting up, full): raised as the library's OperationalError, which the store retries
# and the web answers with « try again » (unavailable.py).
UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncio.TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.TooManyConnectionsError,
)


class _Reader:
    """One asyncpg connection on its own event loop; used by one thread at a time."""

    def __init__(self, connect: dict[str, Any], query: str) -> None:
        self.query = query
        self.loop = asyncio.new_event_loop()
        try:
            self.connection: Any = self.loop.run_until_complete(
                asyncpg.connect(
                    **connect,
                    timeout=CONNECT_TIMEOUT_S,
                    server_settings={"application_name": "vigie-log-pages"},
                )
            )
        except BaseException:
            self.loop.close()
            raise
        self.ahead: tuple[int, int] | None = None  # the page whose query was sent ahead
        self.task: asyncio.Task[list[Row]] | None = None

    def page(self, after: int, limit: int) -> list[Row]:
        rows: list[Row] | None = None
        task, ahead = self.task, self.ahead
        self.task = self.ahead = None
        if task is not None:
            # Another page read ahead is waited for too: the connection is free once it came.
            # A read ahead that failed is simply read again (a dead connection says so then).
            with contextlib.suppress(Exception):
                rows = self.loop.run_until_complete(task)
            if ahead != (after, limit) or (rows is not None and len(rows) < limit):
                rows = None  # not this page, or a short one that may have missed a commit
        if rows is None:
            rows = self.loop.run_until_complete(self._fetch(after, limit))
        if limit > 0 and len(rows) == limit:
            self.ahead = (rows[-1][0], limit)
            self.task = self.loop.create_task(self._fetch(*self.ahead))
            # One turn of the loop: the task sends its query, then waits on the socket.
            self.loop.run_until_complete(asyncio.sleep(0))
        return rows

    async def _fetch(self, after: int, limit: int) -> list[Row]:
        rows: list[Row] = await self.connection.fetch(self.query, after, limit)
        return rows

    def close(self) -> None:
        """Closed politely when this thread may run the loop, cut otherwise."""
        try:
            if self.task is not None:
                self.task.cancel()
                with contextlib.suppress(BaseException):
                    self.loop.run_until_complete(self.task)
            self.loop.run_until_complete(self.connection.close(timeout=CLOSE_TIMEOUT_S))
        except BaseException:
            self.connection.terminate()
        finally:
            self.loop.close()


class LogPages:
    """The log after a position, page by page, from one schema's events table."""

    def __init__(
        self,
        connect: dict[str, Any],
        schema: str,
        table: str,
        fallback: Callable[[int, int], Sequence[Row]],
    ) -> None:
        self._connect = connect
        self._query = (
            "SELECT notification_id, originator_id, originator_version, topic, state "
            f'FROM "{schema}"."{table}" WHERE notification_id > $1 '
            "ORDER BY notification_id LIMIT $2"
        )
        self._fallback = fallback
        self._lock = threading.Lock()
        self._idle: list[_Reader] = []
        self._made = 0  # readers in existence (idle or in use)
        self._closed = False

    def page(self, after: int, limit: int) -> Sequence[Row]:
        """Up to `limit` rows after position `after`, oldest first."""
        if _loop_running():
            return self._fallback(after, limit)
        reader = self._take(after, limit)
        if reader is None:
            return self._fallback(after, limit)
        try:
            rows = reader.page(after, limit)
        except UNREACHABLE as error:
            self._discard(reader)
            raise OperationalError(f"the log's page could not be read: {error}") from error
        except BaseException:
            self._discard(reader)
            raise
        self._give_back(reader)
        return rows

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for reader in idle:
            reader.close()

    # --- internals -----------------------------------------------------------------------

    def _take(self, after: int, limit: int) -> _Reader | None:
        """An idle reader (the one that read this page ahead, if any), a new one while
        there are fewer than READERS, or None."""
        with self._lock:
            if self._closed:
                raise OperationalError("the store is closed")
            for i, reader in enumerate(self._idle):
                if reader.ahead == (after, limit):
                    return self._idle.pop(i)
            if self._idle:
                return self._idle.pop()
            if self._made >= READERS:
                return None
            self._made += 1
        try:
            return _Reader(self._connect, self._query)
        except UNREACHABLE as error:
            with self._lock:
                self._made -= 1
            raise OperationalError(f"the log's page could not be read: {error}") from error
        except BaseException:
            with self._lock:
                self._made -= 1
            raise

    def _give_back(self, reader: _Reader) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(reader)
                return
            self._made -= 1
        reader.close()

    def _discard(self, reader: _Reader) -> None:
        with self._lock:
            self._made -= 1
        reader.close()


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
