"""The log's pages on PostgreSQL, read with asyncpg, the next one read ahead (issue 15).

A replay (a read model rebuilt, a worker catching up) reads the log page after page. Read
through the library's psycopg connection, each page waited on PostgreSQL finding and sending
its rows (half of a raw read's time) and only then was decoded. Here a page comes from
asyncpg, which makes its rows in C, and when it comes back full the query for the page after
it is sent at once: PostgreSQL finds and sends those rows while this page is decoded.

No thread is involved: a reader is one asyncpg connection on an event loop of its own, run
by whichever thread asks for a page (one thread at a time), so a busy machine adds no
hand-over between threads. The reader's connection is opened at a replay's first full page
(of READ_AHEAD_MIN_ROWS at least) and kept for a few seconds after its last
(`READER_IDLE_S`): the next replay (a worker catching up after a burst of writes, a read
model rebuilt) reads its pages after the first on it, where opening and closing a
connection each time took 14 ms, a tenth of a replay of 100,000 events. Past that time it
is closed when the log is next read, and PostgreSQL ends it by itself soon after
(`idle_session_timeout`), so a process that stopped replaying holds nothing for long. A
page that nothing read ahead (a replay's first, a catch-up's few events), or asked for by a
thread that already runs an event loop, is read the library's way (`fallback`).

A page read ahead is handed over only if it was full: the store commits positions in order
(the library's table lock), so nothing can join a full page after it was read. A short one
may have missed a later commit (read-your-writes): it is read again. Decoding, unsealing and
every check happen when the page is asked for, never ahead; only the keys of its sealed rows
may come with it, and are used only if it is handed over soon after (`KEYS_FRESH_S`).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Sequence
from time import monotonic
from typing import Any, NamedTuple, cast

import asyncpg
from eventsourcing.persistence import OperationalError

from adapters.persistence.unavailable import ASYNCPG_UNREACHABLE

Row = Sequence[Any]  # position, stream (16 bytes), version, topic, state (a page's rows)


class Columns(NamedTuple):
    """A page of the log as one list per column, oldest first (issue 15): PostgreSQL sends
    each column as one array, of which asyncpg makes a list in C, where it made a record of
    five values for each row. A row PostgreSQL marked `bare` (chained, of a topic not among
    those `LogPages` was told to send whole) comes as its payload alone, the chain's header
    (its mark and two hashes) left on the server: a replay decodes the payload and never
    reads those hashes."""

    positions: Sequence[int]
    streams: Sequence[Any]  # each stream id as its 16 bytes (PostgreSQL), text or a UUID
    versions: Sequence[int]
    topics: Sequence[str]
    states: Sequence[bytes]  # a whole stored state, or a bare row's payload alone
    bare: Sequence[bool] | None = None  # None: every state is whole
    # Each row's owner's key where the row is of a topic read whole (an enrolment's sealed
    # fields: `LogPages` was told where the keys are), None where it has none (erased);
    # None for the whole page: its keys are to be looked up (sealing.PageKeys).
    keys: Sequence[bytes | None] | None = None


NO_ROWS = Columns((), (), (), (), ())


def in_order(arrays: Sequence[Any] | None) -> Columns:
    """The page's arrays as columns in the log's order. The aggregates take the page's rows
    in its order: PostgreSQL does so for a plain aggregate over an ordered subquery, which
    SQL does not promise (`ORDER BY` in each aggregate would, at twice the server's time):
    checked here, in C, and put right if ever not."""
    if arrays is None or arrays[0] is None:  # no row: each aggregate is null
        return NO_ROWS
    positions = arrays[0]
    # (Positions are unique: sorted, they are in order. Sorting a sorted list of ints is
    # one pass of unboxed comparisons, four times quicker than `map(lt, …)` over it.)
    if sorted(positions) == positions:
        return Columns(*arrays)
    order = sorted(range(len(positions)), key=positions.__getitem__)
    return Columns(*(cast(Any, [column[i] for i in order]) for column in arrays))


def columns_of(rows: Sequence[Row]) -> Columns:
    """Rows (the library's way, SQLite's, the memory store's) as a page of columns."""
    if not rows:
        return NO_ROWS
    positions, streams, versions, topics, states = zip(*rows, strict=True)
    return Columns(positions, streams, versions, topics, states)


READERS = 1  # one connection per store for pages: a second thread at once reads the library's way
CONNECT_TIMEOUT_S = 2.0  # as the recorder's (settings.py): a stopped server fails fast
CLOSE_TIMEOUT_S = 2.0
# How long a reader waits, idle, for the next replay (seconds); PostgreSQL ends its session
# a little later (IDLE_SESSION_S) if nothing read the log again to close it first.
# (A second: a burst's replays follow each other closer than that, and the test suite's
# served processes peak near PostgreSQL's 100 connections, where readers kept 5 s or 20 s
# made a CI run fail with « too many clients already ».)
READER_IDLE_S = 1.0
IDLE_SESSION_S = 3
# A full page smaller than this is not a replay's (a deadline's scan of a few events, one
# event looked up): no reader is opened for it, where connecting one took 10 ms.
READ_AHEAD_MIN_ROWS = 100

UNREACHABLE = ASYNCPG_UNREACHABLE  # raised as the library's OperationalError
# How long the keys a page brought stay good after its query was sent ahead (seconds): a
# replay hands a page over within milliseconds; a page that waited longer is opened with
# keys looked up when it is decoded (sealing.PageKeys), so an erasure holds.
KEYS_FRESH_S = 0.2
KEYS_UNREADABLE = (asyncpg.InsufficientPrivilegeError, asyncpg.UndefinedTableError)


class _Reader:
    """One asyncpg connection on its own event loop; used by one thread at a time."""

    def __init__(self, connect: dict[str, Any], query: str, arguments: Sequence[Any]) -> None:
        self.arguments = arguments  # the query's after the page's two ($3…)
        self.loop = asyncio.new_event_loop()
        try:
            self.connection: Any = self.loop.run_until_complete(
                asyncpg.connect(
                    **connect,
                    timeout=CONNECT_TIMEOUT_S,
                    server_settings={"application_name": "vigie-log-pages"},
                )
            )
            # Prepared once, here: through `fetchrow(query)` a new reader's first page "read
            # ahead" sent only the statement's preparation, its execution waiting for the
            # page to be asked for (issue 15: a test peeks at what came ahead).
            self.statement: Any = self.loop.run_until_complete(self.connection.prepare(query))
            # PostgreSQL 14 and later end the session once idle that long (an older server
            # refuses the setting: the reader is then closed only when the log is next read).
            with contextlib.suppress(asyncpg.PostgresError):
                self.loop.run_until_complete(
                    self.connection.execute(f"SET idle_session_timeout = '{IDLE_SESSION_S}s'")
                )
        except BaseException:
            with contextlib.suppress(BaseException):
                if hasattr(self, "connection"):
                    self.connection.terminate()
                    # One turn: the transport closes its socket when told it was lost.
                    self.loop.run_until_complete(asyncio.sleep(0))
            self.loop.close()
            raise
        self.ahead: tuple[int, int] | None = None  # the page whose query was sent ahead
        self.sent_at = 0.0  # when (time.monotonic)
        self.task: asyncio.Task[Columns] | None = None
        self.idle_since = monotonic()  # when it was last given back

    def stale(self, now: float) -> bool:
        return now - self.idle_since > READER_IDLE_S

    def page(self, after: int, limit: int) -> Columns:
        rows: Columns | None = None
        task, ahead = self.task, self.ahead
        self.task = self.ahead = None
        if task is not None:
            # Another page read ahead is waited for too: the connection is free once it came.
            # A read ahead that failed is simply read again (a dead connection says so then).
            with contextlib.suppress(Exception):
                rows = self.loop.run_until_complete(task)
            if ahead != (after, limit) or (rows is not None and len(rows.positions) < limit):
                rows = None  # not this page, or a short one that may have missed a commit
            elif rows is not None and monotonic() - self.sent_at > KEYS_FRESH_S:
                # Keys read ahead: an erasure made since must hold, so keys read longer ago
                # than a replay takes for a page are dropped, and looked up now.
                rows = rows._replace(keys=None)
        if rows is None:
            rows = self.loop.run_until_complete(self._fetch(after, limit))
        if limit > 0 and len(rows.positions) == limit:
            self.send_ahead(rows.positions[-1], limit)
        return rows

    def send_ahead(self, after: int, limit: int) -> None:
        """Send the query for that page now; its rows are taken by `page`."""
        if self.task is not None:  # an earlier read ahead nobody asked for: let it come
            with contextlib.suppress(Exception):
                self.loop.run_until_complete(self.task)
        self.ahead = (after, limit)
        self.sent_at = monotonic()
        self.task = self.loop.create_task(self._fetch(after, limit))
        # One turn of the loop: the task sends its query, then waits on the socket.
        self.loop.run_until_complete(asyncio.sleep(0))

    async def _fetch(self, after: int, limit: int) -> Columns:
        arrays = await self.statement.fetchrow(after, limit, *self.arguments)
        page = in_order(arrays)
        # Without a mark no row is bare: say so as a page of whole rows does.
        return page if self.arguments[0] is not None else page._replace(bare=None)

    def close(self) -> None:
        """Closed politely when this thread may run the loop, cut otherwise."""
        if _loop_running():  # (a web request's thread: this loop cannot run in it)
            self.connection.terminate()
            self.loop.close()
            return
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
    """The log after a position, page by page, from one schema's events table.

    A page that nothing read ahead is read the library's way (`fallback`, its pooled
    psycopg connection). Only when it comes back full (READ_AHEAD_MIN_ROWS at least), a
    replay being under way, is the next page asked for ahead, on this store's asyncpg reader
    (READERS connections at most; the idle one, or a new one); the reader carries on while
    pages come back full, and after the replay's last page waits for the next replay,
    READER_IDLE_S at most (see the module's note).
    """

    def __init__(
        self,
        connect: dict[str, Any],
        schema: str,
        table: str,
        fallback: Callable[[int, int], Sequence[Row]],
        bare: tuple[bytes, int, Sequence[str]] | None = None,
        keys: tuple[str, str] | None = None,
    ) -> None:
        """`bare`: (the chain's mark, its header's length, the topics always read whole):
        a row that starts with the mark, of any other topic, comes as its payload alone.
        None: every row whole. `keys`: (schema, table) of the key store's table, in this
        database: a row of a topic read whole comes with its owner's key (`Columns.keys`)."""
        self._connect = connect
        # The stream id as its 16 bytes (`uuid_send`): asyncpg's own UUID hashes by
        # building a 128-bit int from its bytes, and the store looks each row's stream up by
        # it (`_stream_of`): 2,000 instructions a row. Bytes hash in C, and asyncpg makes
        # them faster than the 36 characters of its text (0.63 against 0.73 µs a row).
        # Each column as one array (`Columns`): a fifth of the client's time per row. The
        # server takes a row for chained on its mark alone (`is_chained` also wants the
        # header's length): a shorter row comes as empty bytes, fails to decode, and is
        # read again whole.
        self._where = (schema, table)
        # The keys come for the topics read whole, which only a page with bare rows names.
        self._query = _page_query(schema, table, keys if bare is not None else None)
        # Without a mark (None) no row is bare.
        mark, header, whole = bare if bare is not None else (None, 0, ())
        self._arguments = (mark, header + 1, list(whole))
        self._fallback = fallback
        self._lock = threading.Lock()
        self._idle: list[_Reader] = []
        self._made = 0  # readers in existence (idle or in use)
        self._closed = False
        self.pages_read_ahead = 0  # pages a reader served (tests read it)

    def page(self, after: int, limit: int) -> Columns:
        """Up to `limit` rows after position `after`, oldest first."""
        self._close_stale()
        if _loop_running():
            return columns_of(self._fallback(after, limit))
        # Only the page a reader read ahead: a catch-up's short pages, read every half second
        # by the worker, would otherwise keep the reader from ever being idle.
        reader = self._take((after, limit))
        if reader is None:
            return self._library_page(after, limit)
        try:
            rows = reader.page(after, limit)
        except KEYS_UNREADABLE:
            # The store's role may no longer read the keys' table: see `_new_reader`.
            self._discard(reader)
            self._without_keys()
            return self._library_page(after, limit)
        except asyncpg.InvalidCachedStatementError:  # the table changed under the statement
            self._discard(reader)
            return self._library_page(after, limit)
        except UNREACHABLE:
            # Its connection died (a restart, or PostgreSQL ended it idle): the library's way
            # reads the page, and says so if the server is down.
            self._discard(reader)
            return self._library_page(after, limit)
        except BaseException:
            self._discard(reader)
            raise
        self.pages_read_ahead += 1
        self._give_back(reader)  # a short page ends the replay: it waits for the next one
        return rows

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for reader in idle:
            reader.close()

    # --- internals -----------------------------------------------------------------------

    def _library_page(self, after: int, limit: int) -> Columns:
        """The page the library's way; the next one read ahead if it came full."""
        rows = columns_of(self._fallback(after, limit))
        if limit >= READ_AHEAD_MIN_ROWS and len(rows.positions) == limit:
            self._read_ahead(rows.positions[-1], limit)
        return rows

    def _read_ahead(self, after: int, limit: int) -> None:
        """Send the query for the page after a full one on a reader (an idle one, or a new
        one while there are fewer than READERS); nothing if none is to be had."""
        reader = self._take(None)
        if reader is None:
            return
        try:
            reader.send_ahead(after, limit)
        except Exception:  # the fallback answered: the next page will too, the library's way
            self._discard(reader)
            return
        self._give_back(reader)

    def _take(self, ahead: tuple[int, int] | None) -> _Reader | None:
        """The idle reader that read `ahead` ahead; with None, any idle reader or a new one
        while there are fewer than READERS. None when there is no such reader."""
        with self._lock:
            if self._closed:
                raise OperationalError("the store is closed")
            for i, reader in enumerate(self._idle):
                if ahead is None or reader.ahead == ahead:
                    return self._idle.pop(i)
            if ahead is not None or self._made >= READERS:
                return None
            self._made += 1
        try:
            return self._new_reader()
        except BaseException:
            with self._lock:
                self._made -= 1
            return None

    def _close_stale(self) -> None:
        """Close the readers idle for longer than READER_IDLE_S (PostgreSQL may have ended
        them already: their sockets are let go here)."""
        now = monotonic()
        with self._lock:
            stale = [reader for reader in self._idle if reader.stale(now)]
            if not stale:
                return
            self._idle = [reader for reader in self._idle if not reader.stale(now)]
            self._made -= len(stale)
        for reader in stale:
            reader.close()

    def _without_keys(self) -> None:
        """Pages from now on bring no keys: the key store is asked (sealing.PageKeys)."""
        self._query = _page_query(*self._where, None)

    def _new_reader(self) -> _Reader:
        try:
            return _Reader(self._connect, self._query, self._arguments)
        except KEYS_UNREADABLE:
            # The store's role may not read the keys' table: the key store is asked, as
            # before it was told where its table is (sealing.PageKeys).
            self._without_keys()
            return _Reader(self._connect, self._query, self._arguments)

    def _give_back(self, reader: _Reader) -> None:
        reader.idle_since = monotonic()
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


def _page_query(schema: str, table: str, keys: tuple[str, str] | None) -> str:
    """A page as one array per column (`Columns`); with `keys`, one more for the keys."""
    return (
        "SELECT array_agg(notification_id), array_agg(uuid_send(originator_id)), "
        "array_agg(originator_version), array_agg(topic), "
        "array_agg(CASE WHEN bare THEN substring(state FROM $4::int) ELSE state END), "
        "array_agg(bare)"
        + (
            # Only for the few rows of a topic read whole (an enrolment): the page brings
            # their owners' keys, where each page asked the key store once more (a round
            # trip, a quarter of a page's decoding). CASE looks up only for those rows.
            ", array_agg(CASE WHEN topic = ANY($5::text[]) THEN "
            f"(SELECT k.key FROM {_name(keys[0])}.{_name(keys[1])} AS k "
            "WHERE k.owner = page.originator_id) END) "
            if keys is not None
            else " "
        )
        + "FROM (SELECT notification_id, originator_id, originator_version, topic, state, "
        "coalesce(substring(state FOR octet_length($3::bytea)) = $3::bytea "
        "AND topic <> ALL($5::text[]), "
        "false) AS bare "
        f"FROM {_name(schema)}.{_name(table)} WHERE notification_id > $1 "
        "ORDER BY notification_id LIMIT $2) AS page"
    )


def _name(identifier: str) -> str:
    """An SQL identifier quoted (a settings' schema name may hold any character)."""
    return '"' + identifier.replace('"', '""') + '"'


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
