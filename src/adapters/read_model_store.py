"""The read models' saved state (issue 15), in the store's own database: a
`vigie_read_models` table in the SQLite file or the PostgreSQL schema, beside the events, so
that every process and every node starts from the newest one.

One row per name and projection code (fingerprint): state and position are written in one
statement, and an upsert that keeps the row when it already reflects a later position, so a
slow writer never replaces a newer state with an older one. A new projection code finds no
row of its own and rebuilds from the log; saving drops the rows of older codes.

Not the eventsourcing library's `ProjectionRunner`: it keeps a read model as rows of its own
tables, on PostgreSQL only, and Vigie's read models are in-memory dictionaries that must also
start fast on SQLite. The guarantee is the same (state and position committed together).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql

from app.ports.read_model_store import SavedReadModels

TABLE = "vigie_read_models"


class MemoryReadModelStore:
    """Saved states of a `memory:` store: they live as long as the process."""

    where = "memory"

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], SavedReadModels] = {}
        self._lock = threading.Lock()

    def load(self, name: str, fingerprint: str) -> SavedReadModels | None:
        return self._rows.get((name, fingerprint))

    def save(self, saved: SavedReadModels) -> bool:
        with self._lock:
            kept = self._rows.get((saved.name, saved.fingerprint))
            if kept is not None and kept.position >= saved.position:
                return False
            for key in [k for k in self._rows if k[0] == saved.name and k[1] != saved.fingerprint]:
                del self._rows[key]
            self._rows[(saved.name, saved.fingerprint)] = saved
            return True

    def clear(self, name: str) -> int:
        with self._lock:
            keys = [k for k in self._rows if k[0] == name]
            for key in keys:
                del self._rows[key]
            return len(keys)

    def close(self) -> None:
        pass


_SQLITE_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (name TEXT NOT NULL, fingerprint TEXT NOT NULL, "
    "position INTEGER NOT NULL, state BLOB NOT NULL, PRIMARY KEY (name, fingerprint))"
)


class SqliteReadModelStore:
    """Saved states in the SQLite store's file (its processes share them)."""

    def __init__(self, database: Path) -> None:
        self._database = database
        self.where = f"{database} (table {TABLE})"
        with self._connect() as db:
            db.execute(_SQLITE_CREATE)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with contextlib.closing(sqlite3.connect(self._database, timeout=30)) as db, db:
            yield db

    def load(self, name: str, fingerprint: str) -> SavedReadModels | None:
        with self._connect() as db:
            row = db.execute(
                f"SELECT position, state FROM {TABLE} WHERE name = ? AND fingerprint = ?",
                (name, fingerprint),
            ).fetchone()
        return SavedReadModels(name, fingerprint, int(row[0]), bytes(row[1])) if row else None

    def save(self, saved: SavedReadModels) -> bool:
        with self._connect() as db:
            kept = db.execute(
                f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?) ON CONFLICT (name, fingerprint) "
                "DO UPDATE SET position = excluded.position, state = excluded.state "
                f"WHERE excluded.position > {TABLE}.position",
                (saved.name, saved.fingerprint, saved.position, saved.state),
            ).rowcount
            if kept:
                db.execute(
                    f"DELETE FROM {TABLE} WHERE name = ? AND fingerprint <> ?",
                    (saved.name, saved.fingerprint),
                )
        return bool(kept)

    def clear(self, name: str) -> int:
        with self._connect() as db:
            return db.execute(f"DELETE FROM {TABLE} WHERE name = ?", (name,)).rowcount

    def close(self) -> None:
        pass


class PostgresReadModelStore:
    """Saved states in the PostgreSQL store's schema: every node starts from the newest.
    A connection per call: a start reads once, a worker saves every few seconds at most."""

    def __init__(self, conninfo: str, schema: str = "public") -> None:
        self._conninfo = conninfo
        self._table = sql.Identifier(schema, TABLE)
        self.where = f"PostgreSQL schema {schema} (table {TABLE})"
        with self._connect() as connection:
            connection.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (name text NOT NULL, fingerprint text NOT "
                    "NULL, position bigint NOT NULL, state bytea NOT NULL, "
                    "saved_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (name, fingerprint))"
                ).format(self._table)
            )

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5)

    def load(self, name: str, fingerprint: str) -> SavedReadModels | None:
        with self._connect() as connection:
            row = connection.execute(
                sql.SQL("SELECT position, state FROM {} WHERE name = %s AND fingerprint = %s")
                .format(self._table),
                (name, fingerprint),
            ).fetchone()
        if row is None:
            return None
        position, state = row
        assert isinstance(position, int) and isinstance(state, bytes)
        return SavedReadModels(name, fingerprint, position, state)

    def save(self, saved: SavedReadModels) -> bool:
        with self._connect() as connection, connection.transaction():
            kept = connection.execute(
                sql.SQL(
                    "INSERT INTO {0} AS t (name, fingerprint, position, state) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (name, fingerprint) DO UPDATE SET "
                    "position = excluded.position, state = excluded.state, saved_at = now() "
                    "WHERE t.position < excluded.position"
                ).format(self._table),
                (saved.name, saved.fingerprint, saved.position, saved.state),
            ).rowcount
            if kept:
                connection.execute(
                    sql.SQL("DELETE FROM {} WHERE name = %s AND fingerprint <> %s").format(
                        self._table
                    ),
                    (saved.name, saved.fingerprint),
                )
        return bool(kept)

    def clear(self, name: str) -> int:
        with self._connect() as connection:
            return connection.execute(
                sql.SQL("DELETE FROM {} WHERE name = %s").format(self._table), (name,)
            ).rowcount

    def close(self) -> None:
        pass
