"""Keys in a PostgreSQL table (`vigie_keys`, in the keys' own schema, out of the store's:
adapters.keys_schema), for servers whose only disk state is the database. Erasing deletes the
row, leaves a tombstone row without a key, and vacuums the table so the key's bytes do not
linger in dead tuples. Keep the schema out of the event log's backups (or erase again after
restoring one)."""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from adapters.keys_schema import ensure_keys_table
from adapters.pool_check import check_when_rested
from app.ports.key_store import KEY_BYTES

TABLE = "vigie_keys"


class PostgresKeyStore:
    """KeyStore on PostgreSQL through a small psycopg pool. Each use borrows a connection the
    pool has checked, so a PostgreSQL restart costs the requests in flight at that moment,
    never every request until Vigie restarts (issue 14: one connection, never reopened)."""

    def __init__(
        self,
        conninfo: str,
        schema: str = "vigie_keys",
        *,
        store_schema: str | None = None,
        max_size: int = 4,
    ) -> None:
        self._pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=max_size,
            kwargs={"autocommit": True},
            check=check_when_rested(),  # adapters/pool_check.py
            # While PostgreSQL is down, a request waits this long for a connection, then the
            # page says to try again (503) rather than hang for psycopg_pool's 30 s.
            timeout=5.0,
            reconnect_timeout=60.0,
            open=True,
        )
        self._conninfo = conninfo
        self._where = (schema, TABLE)
        with self._pool.connection() as connection:
            # `store_schema`: where a version before issue 15 kept the table (moved once).
            self._table = ensure_keys_table(
                connection,
                schema,
                TABLE,
                "CREATE TABLE IF NOT EXISTS {} (owner uuid PRIMARY KEY, key bytea, "
                "erased_at timestamptz)",
                moved_from=store_schema,
            )

    def table_beside(self, conninfo: str) -> tuple[str, str] | None:
        """The keys' table as (schema, table) if it is in the database `conninfo` names
        (the log's pages then bring each sealed row's key: log_pages.py); None otherwise."""
        database = ("host", "port", "dbname")
        mine, theirs = conninfo_to_dict(self._conninfo), conninfo_to_dict(conninfo)
        if [mine.get(k) for k in database] != [theirs.get(k) for k in database]:
            return None
        return self._where

    def key_for(self, owner: UUID) -> bytes | None:
        with self._pool.connection() as connection:
            connection.execute(
                sql.SQL(
                    "INSERT INTO {} (owner, key) VALUES (%s, %s) ON CONFLICT DO NOTHING"
                ).format(self._table),
                (owner, os.urandom(KEY_BYTES)),
            )
            return self._select(connection, owner)

    def existing_key(self, owner: UUID) -> bytes | None:
        with self._pool.connection() as connection:
            return self._select(connection, owner)

    def existing_keys(self, owners: Collection[UUID]) -> Mapping[UUID, bytes]:
        with self._pool.connection() as connection:
            query = sql.SQL("SELECT owner, key FROM {} WHERE owner = ANY(%s) AND key IS NOT NULL")
            rows = connection.execute(query.format(self._table), (list(owners),)).fetchall()
        return {row[0]: bytes(row[1]) for row in rows}

    def _select(self, connection: psycopg.Connection[Any], owner: UUID) -> bytes | None:
        row = connection.execute(
            sql.SQL("SELECT key FROM {} WHERE owner = %s").format(self._table), (owner,)
        ).fetchone()
        return bytes(row[0]) if row and row[0] is not None else None

    def erase(self, owner: UUID) -> bool:
        with self._pool.connection() as connection:
            with connection.transaction():  # the key and its tombstone change together
                destroyed = self._select(connection, owner) is not None
                connection.execute(
                    sql.SQL("DELETE FROM {} WHERE owner = %s").format(self._table), (owner,)
                )
                connection.execute(
                    sql.SQL(
                        "INSERT INTO {} (owner, key, erased_at) VALUES (%s, NULL, now())"
                    ).format(self._table),
                    (owner,),
                )
            connection.execute(sql.SQL("VACUUM {}").format(self._table))  # outside: VACUUM
            return destroyed

    def adopt(self, keys: Mapping[UUID, bytes]) -> None:
        """Keys made elsewhere, kept as they are (a log copied in from another store brings
        its owners' keys); an owner this table already knows keeps its own."""
        with self._pool.connection() as connection, connection.cursor() as cursor:
            cursor.executemany(
                sql.SQL(
                    "INSERT INTO {} (owner, key) VALUES (%s, %s) ON CONFLICT DO NOTHING"
                ).format(self._table),
                list(keys.items()),
            )

    def erased(self, owner: UUID) -> bool:
        with self._pool.connection() as connection:
            row = connection.execute(
                sql.SQL("SELECT erased_at FROM {} WHERE owner = %s").format(self._table), (owner,)
            ).fetchone()
            return bool(row and row[0] is not None)

    def close(self) -> None:
        self._pool.close()
