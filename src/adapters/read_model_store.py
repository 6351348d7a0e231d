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
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg import sql

from app.ports.key_store import KeyStore
from app.ports.read_model_store import ReadModelStore, SavedReadModels

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
    "position INTEGER NOT NULL, state BLOB NOT NULL, generation INTEGER NOT NULL, "
    "PRIMARY KEY (name, fingerprint))"
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
                f"SELECT position, state, generation FROM {TABLE} "
                "WHERE name = ? AND fingerprint = ?",
                (name, fingerprint),
            ).fetchone()
        if row is None:
            return None
        return SavedReadModels(name, fingerprint, int(row[0]), bytes(row[1]), int(row[2]))

    def save(self, saved: SavedReadModels) -> bool:
        with self._connect() as db:
            kept = db.execute(
                f"INSERT INTO {TABLE} (name, fingerprint, position, state, generation) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (name, fingerprint) DO UPDATE SET "
                "position = excluded.position, state = excluded.state, "
                f"generation = excluded.generation WHERE excluded.position > {TABLE}.position",
                (saved.name, saved.fingerprint, saved.position, saved.state, saved.generation),
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
                    "NULL, position bigint NOT NULL, state bytea NOT NULL, generation bigint NOT "
                    "NULL, "
                    "saved_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (name, fingerprint))"
                ).format(self._table)
            )

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5)

    def load(self, name: str, fingerprint: str) -> SavedReadModels | None:
        with self._connect() as connection:
            row = connection.execute(
                sql.SQL(
                    "SELECT position, state, generation FROM {} "
                    "WHERE name = %s AND fingerprint = %s"
                ).format(self._table),
                (name, fingerprint),
            ).fetchone()
        if row is None:
            return None
        position, state, generation = row
        assert isinstance(position, int) and isinstance(state, bytes)
        assert isinstance(generation, int)
        return SavedReadModels(name, fingerprint, position, state, generation)

    def save(self, saved: SavedReadModels) -> bool:
        with self._connect() as connection, connection.transaction():
            kept = connection.execute(
                sql.SQL(
                    "INSERT INTO {0} AS t (name, fingerprint, position, state, generation) "
                    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (name, fingerprint) DO UPDATE SET "
                    "position = excluded.position, state = excluded.state, "
                    "generation = excluded.generation, saved_at = now() "
                    "WHERE t.position < excluded.position"
                ).format(self._table),
                (saved.name, saved.fingerprint, saved.position, saved.state, saved.generation),
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


# Owners of the read models' keys in the KeyStore: one per generation (erasures applied).
_KEY_NAMESPACE = uuid.UUID("7f1d7a52-3c1e-4d59-9a53-2b0c8d0e5a11")
_NONCE = 12


def generation_owner(generation: int) -> uuid.UUID:
    """The KeyStore owner whose key seals the states of that generation."""
    return uuid.uuid5(_KEY_NAMESPACE, f"read-models/{generation}")


class SealedStateUnreadable(ValueError):
    """A saved state whose key was destroyed (an erasure since) or that does not open."""


class SealedReadModelStore:
    """The saved states encrypted (AES-256-GCM) with a key of the KeyStore, one key per
    generation, i.e. per number of erasures the state reflects (issue 8 and 15). The states
    hold the candidates' e-mails and names in clear once opened; when a state of a later
    generation is saved, the keys of the earlier ones are destroyed, so the copies an
    erasure leaves behind (PostgreSQL's dead rows, SQLite's free pages, backups) no longer
    open, as the sealed fields of the log do not."""

    def __init__(self, inner: ReadModelStore, keys: KeyStore) -> None:
        self._inner = inner
        self._keys = keys
        self.where = inner.where

    def load(self, name: str, fingerprint: str) -> SavedReadModels | None:
        kept = self._inner.load(name, fingerprint)
        if kept is None:
            return None
        key = self._keys.existing_key(generation_owner(kept.generation))
        if key is None:
            raise SealedStateUnreadable(f"generation {kept.generation}: its key was destroyed")
        try:
            state = AESGCM(key).decrypt(kept.state[:_NONCE], kept.state[_NONCE:], _aad(kept))
        except (InvalidTag, ValueError) as error:
            raise SealedStateUnreadable(f"does not open ({type(error).__name__})") from None
        return SavedReadModels(name, fingerprint, kept.position, state, kept.generation)

    def save(self, saved: SavedReadModels) -> bool:
        key = self._keys.key_for(generation_owner(saved.generation))
        if key is None:
            return False  # a later generation was saved already (its key destroyed this one)
        nonce = os.urandom(_NONCE)
        sealed = nonce + AESGCM(key).encrypt(nonce, saved.state, _aad(saved))
        kept = self._inner.save(
            SavedReadModels(saved.name, saved.fingerprint, saved.position, sealed, saved.generation)
        )
        if kept:
            # Every earlier generation's key goes (they were destroyed in order: stop at the
            # first already gone).
            for older in range(saved.generation - 1, -1, -1):
                owner = generation_owner(older)
                if self._keys.erased(owner):
                    break
                self._keys.erase(owner)
        return kept

    def clear(self, name: str) -> int:
        return self._inner.clear(name)

    def close(self) -> None:
        self._inner.close()


def _aad(saved: SavedReadModels) -> bytes:
    # Bound to its row: a state copied under another position or generation does not open.
    return f"{saved.name}/{saved.fingerprint}/{saved.position}/{saved.generation}".encode()
