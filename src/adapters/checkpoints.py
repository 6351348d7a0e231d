"""Where long jobs keep their progress (issue 15): `vigie audit replay --all` resumes from a
checkpoint, and on a shared store any node may resume it, so the checkpoint lives in the
store's database — a `vigie_checkpoints` table in the SQLite file or the PostgreSQL schema —
rather than in one machine's vigie-data/. A file stays possible (`--checkpoint FILE`).

A checkpoint is a named text (the job's JSON state), replaced whole at each save."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import psycopg
from psycopg import sql


class Checkpoints(Protocol):
    """Named checkpoints, each replaced whole when saved."""

    where: str  # said to the operator ("resume with the same command; kept in …")

    def load(self, name: str) -> str | None:
        """The last saved text of `name`, or None if none was saved."""
        ...

    def save(self, name: str, text: str) -> None:
        """Replace `name`'s text (atomically: a crash leaves the old text or the new)."""
        ...

    def close(self) -> None:
        """Release what the checkpoints hold."""
        ...


class MemoryCheckpoints:
    """Checkpoints of a `memory:` store: they live as long as it does."""

    where = "memory"

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}

    def load(self, name: str) -> str | None:
        return self._texts.get(name)

    def save(self, name: str, text: str) -> None:
        self._texts[name] = text

    def close(self) -> None:
        pass


class FileCheckpoints:
    """Checkpoints as files in a folder (one machine's; `--checkpoint FILE`)."""

    def __init__(self, folder: Path, *, suffix: str = ".json") -> None:
        self.folder = folder
        self._suffix = suffix
        self.where = str(folder)

    def path(self, name: str) -> Path:
        return self.folder / f"{name}{self._suffix}"

    def load(self, name: str) -> str | None:
        try:
            # Bytes, not read_text(): universal newlines would turn a "\r" into "\n".
            return self.path(name).read_bytes().decode()
        except FileNotFoundError:
            return None

    def save(self, name: str, text: str) -> None:
        path = self.path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(path.suffix + ".tmp")  # written aside, then renamed
        partial.write_bytes(text.encode())
        partial.replace(path)

    def close(self) -> None:
        pass


class FileCheckpoint(FileCheckpoints):
    """One named file, whatever the checkpoint's name (`--checkpoint cp.json`)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path.parent)
        self._file = path
        self.where = str(path)

    def path(self, name: str) -> Path:
        return self._file


_CREATE = "CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY, state text NOT NULL)"


class SqliteCheckpoints:
    """Checkpoints in the SQLite store's file."""

    def __init__(self, database: Path) -> None:
        self._database = database
        self.where = f"{database} (table vigie_checkpoints)"
        with self._connect() as db:
            db.execute(_CREATE.format("vigie_checkpoints"))

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with contextlib.closing(sqlite3.connect(self._database, timeout=30)) as db, db:
            yield db

    def load(self, name: str) -> str | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT state FROM vigie_checkpoints WHERE name = ?", (name,)
            ).fetchone()
        return str(row[0]) if row else None

    def save(self, name: str, text: str) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO vigie_checkpoints VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET state = excluded.state",
                (name, text),
            )

    def close(self) -> None:
        pass


class PostgresCheckpoints:
    """Checkpoints in the PostgreSQL store's schema: any node resumes what another left."""

    def __init__(self, conninfo: str, schema: str = "public") -> None:
        self._connection = psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
        self._table = sql.Identifier(schema, "vigie_checkpoints")
        self.where = f"PostgreSQL schema {schema} (table vigie_checkpoints)"
        self._connection.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
        )
        self._connection.execute(sql.SQL(_CREATE).format(self._table))

    def load(self, name: str) -> str | None:
        row = self._connection.execute(
            sql.SQL("SELECT state FROM {} WHERE name = %s").format(self._table), (name,)
        ).fetchone()
        return str(row[0]) if row else None

    def save(self, name: str, text: str) -> None:
        self._connection.execute(
            sql.SQL(
                "INSERT INTO {} VALUES (%s, %s) "
                "ON CONFLICT (name) DO UPDATE SET state = excluded.state"
            ).format(self._table),
            (name, text),
        )

    def close(self) -> None:
        self._connection.close()
