"""The built-in workspaces' live state (app.ports.workspace_heartbeats) in memory, in the
SQLite file of the event store, or in its PostgreSQL schema: two small tables,
`vigie_workspaces` (one row per open workspace, its last beat replaced in place) and
`vigie_workspace_marks` (one row per marked question)."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from psycopg import sql
from psycopg_pool import ConnectionPool

from adapters.pool_check import check_when_rested
from domain.exam_tab import TabSighting, TabState


@dataclass
class _Open:
    attempt_id: UUID
    last_beat: datetime
    state: TabState = TabState.NOT_OPENED


class MemoryWorkspaceHeartbeats:
    """For a `memory:` store: they live as long as it does."""

    def __init__(self) -> None:
        self._open: dict[str, _Open] = {}
        self._marks: dict[str, set[str]] = {}  # kept across a reopening, as in the tables
        self._lock = threading.Lock()

    def open(self, ref: str, attempt_id: UUID, at: datetime) -> None:
        with self._lock:
            self._open[ref] = _Open(attempt_id, at)

    def attempt_of(self, ref: str) -> UUID | None:
        with self._lock:
            found = self._open.get(ref)
            return None if found is None else found.attempt_id

    def beat(self, ref: str, at: datetime) -> UUID | None:
        with self._lock:
            found = self._open.get(ref)
            if found is None:
                return None
            found.last_beat, found.state = at, TabState.OPEN
            return found.attempt_id

    def closing(self, ref: str, at: datetime) -> None:
        with self._lock:
            found = self._open.get(ref)
            if found is not None:
                found.last_beat, found.state = at, TabState.CLOSING

    def last_beat(self, ref: str) -> datetime | None:
        with self._lock:
            found = self._open.get(ref)
            return None if found is None else found.last_beat

    def sighting(self, ref: str) -> TabSighting | None:
        with self._lock:
            found = self._open.get(ref)
            return None if found is None else TabSighting(found.state, found.last_beat)

    def marked(self, ref: str) -> frozenset[str]:
        with self._lock:
            return frozenset(self._marks.get(ref, ())) if ref in self._open else frozenset()

    def mark(self, ref: str, question_id: str, marked: bool) -> None:
        with self._lock:
            if ref in self._open:
                marks = self._marks.setdefault(ref, set())
                (marks.add if marked else marks.discard)(question_id)

    def replace_marks(self, ref: str, question_ids: frozenset[str]) -> None:
        with self._lock:
            if ref in self._open:
                self._marks[ref] = set(question_ids)

    def forget(self, ref: str) -> None:
        with self._lock:
            self._open.pop(ref, None)
            self._marks.pop(ref, None)

    def sightings(self) -> dict[str, TabSighting]:
        with self._lock:
            return {r: TabSighting(f.state, f.last_beat) for r, f in self._open.items()}

    def close(self) -> None:
        pass


_TABLES = (
    "CREATE TABLE IF NOT EXISTS {workspaces} (ref text PRIMARY KEY, attempt_id text NOT NULL, "
    "last_beat_at {instant} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {marks} (ref text NOT NULL, question_id text NOT NULL, "
    "PRIMARY KEY (ref, question_id))",
)
# What the tab last said of itself (domain.exam_tab.TabState), added to tables made before:
# their rows read « open », judged by their last beat as they were.
_TAB_STATE = "ALTER TABLE {workspaces} ADD COLUMN {if_missing}state text NOT NULL DEFAULT 'open'"


def _epoch(at: datetime) -> float:
    return at.timestamp()


def _instant(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class SqliteWorkspaceHeartbeats:
    """In the SQLite store's file: every process of the machine shares the rows. A beat
    comes every 5 s from each candidate's tab, so each thread keeps its own connection (a
    connection opened and closed per beat costs milliseconds: the WAL is checkpointed when
    the last one closes), and commits do not wait for the disk (see `_open`)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        with self._connection() as db:
            db.execute("PRAGMA journal_mode=WAL")  # as the event store sets its file
            for statement in _TABLES:
                db.execute(
                    statement.format(
                        workspaces="vigie_workspaces", marks="vigie_workspace_marks", instant="REAL"
                    )
                )
            with contextlib.suppress(sqlite3.OperationalError):  # « duplicate column »: added
                db.execute(_TAB_STATE.format(workspaces="vigie_workspaces", if_missing=""))

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        # In WAL mode (the event store's file is in it), NORMAL loses at most the last beats
        # on a power cut, never the file's consistency; a crash of the process loses nothing.
        db.execute("PRAGMA synchronous=NORMAL")
        with self._lock:
            self._all.append(db)
        return db

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._open()
        yield db

    def open(self, ref: str, attempt_id: UUID, at: datetime) -> None:
        with self._connection() as db:
            db.execute(
                "INSERT INTO vigie_workspaces (ref, attempt_id, last_beat_at, state) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (ref) DO UPDATE SET attempt_id = "
                "excluded.attempt_id, last_beat_at = excluded.last_beat_at, state = excluded.state",
                (ref, str(attempt_id), _epoch(at), TabState.NOT_OPENED.value),
            )

    def attempt_of(self, ref: str) -> UUID | None:
        with self._connection() as db:
            row = db.execute(
                "SELECT attempt_id FROM vigie_workspaces WHERE ref = ?", (ref,)
            ).fetchone()
        return None if row is None else UUID(row[0])

    def beat(self, ref: str, at: datetime) -> UUID | None:
        with self._connection() as db:
            row = db.execute(
                "UPDATE vigie_workspaces SET last_beat_at = ?, state = ? WHERE ref = ? "
                "RETURNING attempt_id",
                (_epoch(at), TabState.OPEN.value, ref),
            ).fetchone()
        return None if row is None else UUID(row[0])

    def closing(self, ref: str, at: datetime) -> None:
        with self._connection() as db:
            db.execute(
                "UPDATE vigie_workspaces SET last_beat_at = ?, state = ? WHERE ref = ?",
                (_epoch(at), TabState.CLOSING.value, ref),
            )

    def last_beat(self, ref: str) -> datetime | None:
        with self._connection() as db:
            row = db.execute(
                "SELECT last_beat_at FROM vigie_workspaces WHERE ref = ?", (ref,)
            ).fetchone()
        return None if row is None else datetime.fromtimestamp(row[0], UTC)

    def sighting(self, ref: str) -> TabSighting | None:
        with self._connection() as db:
            row = db.execute(
                "SELECT state, last_beat_at FROM vigie_workspaces WHERE ref = ?", (ref,)
            ).fetchone()
        return None if row is None else TabSighting(TabState(row[0]), _instant(row[1]))

    def marked(self, ref: str) -> frozenset[str]:
        with self._connection() as db:
            rows = db.execute(
                "SELECT m.question_id FROM vigie_workspace_marks m "
                "JOIN vigie_workspaces w ON w.ref = m.ref WHERE m.ref = ?",
                (ref,),
            ).fetchall()
        return frozenset(row[0] for row in rows)

    def mark(self, ref: str, question_id: str, marked: bool) -> None:
        with self._connection() as db:
            if marked:
                db.execute(
                    "INSERT OR IGNORE INTO vigie_workspace_marks SELECT ref, ? "
                    "FROM vigie_workspaces WHERE ref = ?",
                    (question_id, ref),
                )
            else:
                db.execute(
                    "DELETE FROM vigie_workspace_marks WHERE ref = ? AND question_id = ?",
                    (ref, question_id),
                )

    def replace_marks(self, ref: str, question_ids: frozenset[str]) -> None:
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                if db.execute("SELECT 1 FROM vigie_workspaces WHERE ref = ?", (ref,)).fetchone():
                    db.execute("DELETE FROM vigie_workspace_marks WHERE ref = ?", (ref,))
                    db.executemany(
                        "INSERT INTO vigie_workspace_marks VALUES (?, ?)",
                        [(ref, q) for q in sorted(question_ids)],
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def forget(self, ref: str) -> None:
        with self._connection() as db:
            db.execute("DELETE FROM vigie_workspaces WHERE ref = ?", (ref,))
            db.execute("DELETE FROM vigie_workspace_marks WHERE ref = ?", (ref,))

    def sightings(self) -> dict[str, TabSighting]:
        with self._connection() as db:
            rows = db.execute("SELECT ref, state, last_beat_at FROM vigie_workspaces").fetchall()
        return {ref: TabSighting(TabState(state), _instant(at)) for ref, state, at in rows}

    def close(self) -> None:
        with self._lock:
            connections, self._all = self._all, []
        for db in connections:
            db.close()
        self._local = threading.local()


class PostgresWorkspaceHeartbeats:
    """In the PostgreSQL store's schema, through a small pool that checks its connections
    (a PostgreSQL restart costs only the requests in flight): every node shares the rows.

    A beat comes every 5 s from each candidate's tab: its commit does not wait for the WAL
    to reach the disk (`synchronous_commit=off` on these connections only). A crash of the
    server may lose the last fraction of a second of beats and marks, never the tables'
    consistency; the events are written by the event store's own connections, unchanged."""

    def __init__(self, conninfo: str, schema: str = "public", *, max_size: int = 4) -> None:
        self._pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=max_size,
            kwargs={"autocommit": True, "options": "-c synchronous_commit=off"},
            check=check_when_rested(),  # adapters/pool_check.py
            reconnect_timeout=60.0,
            open=True,
        )
        self._names = {
            "workspaces": sql.Identifier(schema, "vigie_workspaces"),
            "marks": sql.Identifier(schema, "vigie_workspace_marks"),
            "instant": sql.SQL("timestamptz"),
        }
        with self._pool.connection() as connection:
            connection.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
            )
            for statement in _TABLES:
                connection.execute(self._sql(statement))
            connection.execute(
                sql.SQL(_TAB_STATE).format(
                    workspaces=self._names["workspaces"], if_missing=sql.SQL("IF NOT EXISTS ")
                )
            )

    def _sql(self, text: str) -> sql.Composed:
        return sql.SQL(text).format(**self._names)

    def _run(self, text: str, values: tuple[object, ...]) -> list[tuple[object, ...]]:
        with self._pool.connection() as connection:
            cursor = connection.execute(self._sql(text), values)
            return cursor.fetchall() if cursor.description else []

    def open(self, ref: str, attempt_id: UUID, at: datetime) -> None:
        self._run(
            "INSERT INTO {workspaces} (ref, attempt_id, last_beat_at, state) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (ref) DO UPDATE SET attempt_id = "
            "excluded.attempt_id, last_beat_at = excluded.last_beat_at, state = excluded.state",
            (ref, str(attempt_id), at, TabState.NOT_OPENED.value),
        )

    def attempt_of(self, ref: str) -> UUID | None:
        rows = self._run("SELECT attempt_id FROM {workspaces} WHERE ref = %s", (ref,))
        return UUID(str(rows[0][0])) if rows else None

    def beat(self, ref: str, at: datetime) -> UUID | None:
        rows = self._run(
            "UPDATE {workspaces} SET last_beat_at = %s, state = %s WHERE ref = %s "
            "RETURNING attempt_id",
            (at, TabState.OPEN.value, ref),
        )
        return UUID(str(rows[0][0])) if rows else None

    def closing(self, ref: str, at: datetime) -> None:
        self._run(
            "UPDATE {workspaces} SET last_beat_at = %s, state = %s WHERE ref = %s",
            (at, TabState.CLOSING.value, ref),
        )

    def last_beat(self, ref: str) -> datetime | None:
        rows = self._run("SELECT last_beat_at FROM {workspaces} WHERE ref = %s", (ref,))
        if not rows:
            return None
        at = rows[0][0]
        assert isinstance(at, datetime)
        return at

    def sighting(self, ref: str) -> TabSighting | None:
        rows = self._run("SELECT state, last_beat_at FROM {workspaces} WHERE ref = %s", (ref,))
        if not rows or not isinstance(rows[0][1], datetime):
            return None
        return TabSighting(TabState(str(rows[0][0])), rows[0][1])

    def marked(self, ref: str) -> frozenset[str]:
        rows = self._run(
            "SELECT m.question_id FROM {marks} m JOIN {workspaces} w ON w.ref = m.ref "
            "WHERE m.ref = %s",
            (ref,),
        )
        return frozenset(str(row[0]) for row in rows)

    def mark(self, ref: str, question_id: str, marked: bool) -> None:
        if marked:
            self._run(
                "INSERT INTO {marks} SELECT ref, %s FROM {workspaces} WHERE ref = %s "
                "ON CONFLICT DO NOTHING",
                (question_id, ref),
            )
        else:
            self._run("DELETE FROM {marks} WHERE ref = %s AND question_id = %s", (ref, question_id))

    def replace_marks(self, ref: str, question_ids: frozenset[str]) -> None:
        with self._pool.connection() as connection, connection.transaction():
            found = connection.execute(
                self._sql("SELECT 1 FROM {workspaces} WHERE ref = %s FOR UPDATE"), (ref,)
            ).fetchone()
            if found is None:
                return
            connection.execute(self._sql("DELETE FROM {marks} WHERE ref = %s"), (ref,))
            for question_id in sorted(question_ids):
                connection.execute(
                    self._sql("INSERT INTO {marks} VALUES (%s, %s)"), (ref, question_id)
                )

    def forget(self, ref: str) -> None:
        with self._pool.connection() as connection, connection.transaction():
            connection.execute(self._sql("DELETE FROM {workspaces} WHERE ref = %s"), (ref,))
            connection.execute(self._sql("DELETE FROM {marks} WHERE ref = %s"), (ref,))

    def sightings(self) -> dict[str, TabSighting]:
        rows = self._run("SELECT ref, state, last_beat_at FROM {workspaces}", ())
        return {
            str(ref): TabSighting(TabState(str(state)), at)
            for ref, state, at in rows
            if isinstance(at, datetime)
        }

    def close(self) -> None:
        self._pool.close()
