"""Where the workers' leases are kept (issue 15): a `vigie_worker_leases` table in the store's
database (the SQLite file or the PostgreSQL schema), in memory for a `memory:` store.

One row per kind: holder, expiry, version. A write is a compare-and-set on the version (an
INSERT that a row already there refuses, or an UPDATE of the version read), so of two workers
writing over the same row one wins and the other is told. An operator reads who holds what
with `SELECT * FROM vigie_worker_leases`."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from domain.lease import Lease

TABLE = "vigie_worker_leases"


class MemoryLeases:
    """Leases of a `memory:` store: one process's, shared by its threads."""

    where = "memory"

    def __init__(self) -> None:
        self._rows: dict[str, Lease] = {}
        self._lock = threading.Lock()

    def leases(self) -> Sequence[Lease]:
        with self._lock:
            return list(self._rows.values())

    def put(self, lease: Lease, replacing: Lease | None) -> bool:
        with self._lock:
            current = self._rows.get(lease.kind)
            if (current is None) != (replacing is None) or (
                current is not None
                and replacing is not None
                and current.version != replacing.version
            ):
                return False
            self._rows[lease.kind] = lease
            return True

    def remove(self, lease: Lease) -> bool:
        with self._lock:
            current = self._rows.get(lease.kind)
            if current is None or current.version != lease.version:
                return False
            del self._rows[lease.kind]
            return True

    def close(self) -> None:
        pass


class SqliteLeases:
    """Leases in the SQLite store's file (the workers of one machine)."""

    def __init__(self, database: Path) -> None:
        self._database = database
        self.where = f"{database} (table {TABLE})"
        with self._connect() as db:
            db.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (kind text PRIMARY KEY, holder text NOT NULL,"
                " expires_at text NOT NULL, version integer NOT NULL)"
            )

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with contextlib.closing(sqlite3.connect(self._database, timeout=30)) as db, db:
            yield db

    def leases(self) -> Sequence[Lease]:
        with self._connect() as db:
            rows = db.execute(f"SELECT kind, holder, expires_at, version FROM {TABLE}").fetchall()
        return [Lease(k, h, datetime.fromisoformat(e), int(v)) for k, h, e, v in rows]

    def put(self, lease: Lease, replacing: Lease | None) -> bool:
        expires = lease.expires_at.astimezone(UTC).isoformat()
        with self._connect() as db:
            if replacing is None:
                cursor = db.execute(
                    f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?) ON CONFLICT (kind) DO NOTHING",
                    (lease.kind, lease.holder, expires, lease.version),
                )
            else:
                cursor = db.execute(
                    f"UPDATE {TABLE} SET holder = ?, expires_at = ?, version = ?"
                    " WHERE kind = ? AND version = ?",
                    (lease.holder, expires, lease.version, lease.kind, replacing.version),
                )
            return cursor.rowcount == 1

    def remove(self, lease: Lease) -> bool:
        with self._connect() as db:
            cursor = db.execute(
                f"DELETE FROM {TABLE} WHERE kind = ? AND version = ?", (lease.kind, lease.version)
            )
            return cursor.rowcount == 1

    def close(self) -> None:
        pass


class PostgresLeases:
    """Leases in the PostgreSQL store's schema: the workers of every machine sharing it.

    One connection of its own (autocommit), opened at first use (web processes never use
    it) and again after the database went away."""

    def __init__(self, conninfo: str, schema: str = "public") -> None:
        self._conninfo = conninfo
        self._schema = schema
        self._table = sql.Identifier(schema, TABLE)
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None
        self.where = f"PostgreSQL schema {schema} (table {TABLE})"

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._connection is not None and not (
            self._connection.closed or self._connection.broken
        ):
            return self._connection
        if self._connection is not None:
            self._connection.close()
        connection = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5)
        with contextlib.suppress(psycopg.errors.UniqueViolation):  # two workers starting
            connection.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self._schema))
            )
            connection.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (kind text PRIMARY KEY, holder text NOT NULL,"
                    " expires_at timestamptz NOT NULL, version bigint NOT NULL)"
                ).format(self._table)
            )
        self._connection = connection
        return connection

    def leases(self) -> Sequence[Lease]:
        rows = (
            self._connect()
            .execute(
                sql.SQL("SELECT kind, holder, expires_at, version FROM {}").format(self._table)
            )
            .fetchall()
        )
        return [Lease(str(k), str(h), e, int(v)) for k, h, e, v in rows]  # type: ignore[arg-type, call-overload]

    def put(self, lease: Lease, replacing: Lease | None) -> bool:
        connection = self._connect()
        if replacing is None:
            cursor = connection.execute(
                sql.SQL(
                    "INSERT INTO {} VALUES (%s, %s, %s, %s) ON CONFLICT (kind) DO NOTHING"
                ).format(self._table),
                (lease.kind, lease.holder, lease.expires_at, lease.version),
            )
        else:
            cursor = connection.execute(
                sql.SQL(
                    "UPDATE {} SET holder = %s, expires_at = %s, version = %s"
                    " WHERE kind = %s AND version = %s"
                ).format(self._table),
                (lease.holder, lease.expires_at, lease.version, lease.kind, replacing.version),
            )
        return cursor.rowcount == 1

    def remove(self, lease: Lease) -> bool:
        cursor = self._connect().execute(
            sql.SQL("DELETE FROM {} WHERE kind = %s AND version = %s").format(self._table),
            (lease.kind, lease.version),
        )
        return cursor.rowcount == 1

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
