"""Keys in a PostgreSQL table (`vigie_keys`, in the store's schema), for servers whose only
disk state is the database. Erasing deletes the row, leaves a tombstone row without a key,
and vacuums the table so the key's bytes do not linger in dead tuples. Keep the table out of
the event log's backups (or erase again after restoring one)."""

from __future__ import annotations

import os
import threading
from uuid import UUID

import psycopg
from psycopg import sql

from app.ports.key_store import KEY_BYTES


class PostgresKeyStore:
    """KeyStore on PostgreSQL (psycopg, one connection guarded by a lock)."""

    def __init__(self, conninfo: str, schema: str = "public") -> None:
        self._connection = psycopg.connect(conninfo, autocommit=True)
        self._lock = threading.Lock()
        self._table = sql.Identifier(schema, "vigie_keys")
        self._connection.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (owner uuid PRIMARY KEY, key bytea, "
                "erased_at timestamptz)"
            ).format(self._table)
        )

    def key_for(self, owner: UUID) -> bytes | None:
        with self._lock:
            self._connection.execute(
                sql.SQL(
                    "INSERT INTO {} (owner, key) VALUES (%s, %s) ON CONFLICT DO NOTHING"
                ).format(self._table),
                (owner, os.urandom(KEY_BYTES)),
            )
            return self._select(owner)

    def existing_key(self, owner: UUID) -> bytes | None:
        with self._lock:
            return self._select(owner)

    def _select(self, owner: UUID) -> bytes | None:
        row = self._connection.execute(
            sql.SQL("SELECT key FROM {} WHERE owner = %s").format(self._table), (owner,)
        ).fetchone()
        return bytes(row[0]) if row and row[0] is not None else None

    def erase(self, owner: UUID) -> bool:
        with self._lock:
            destroyed = self._select(owner) is not None
            self._connection.execute(
                sql.SQL("DELETE FROM {} WHERE owner = %s").format(self._table), (owner,)
            )
            self._connection.execute(
                sql.SQL("INSERT INTO {} (owner, key, erased_at) VALUES (%s, NULL, now())").format(
                    self._table
                ),
                (owner,),
            )
            self._connection.execute(sql.SQL("VACUUM {}").format(self._table))
            return destroyed

    def erased(self, owner: UUID) -> bool:
        with self._lock:
            row = self._connection.execute(
                sql.SQL("SELECT erased_at FROM {} WHERE owner = %s").format(self._table), (owner,)
            ).fetchone()
            return bool(row and row[0] is not None)

    def close(self) -> None:
        self._connection.close()
