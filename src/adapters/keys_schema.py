"""Where secrets live on PostgreSQL (issue 15): in a schema of their own, beside the store's
but apart from it, so the event log's backups (`pg_dump --schema=<store>`) never carry them.
The candidates' sealing keys, staff's second-factor secrets and the evidence signing key go
there; the schema is created on first use, and a table an older version kept in the store's
schema is moved across once."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql


def default_keys_schema(store_schema: str) -> str:
    """`vigie_keys` beside the default schema; `<schema>_keys` beside any other, so two
    platforms in one database (a rehearsal, the tests) never share their secrets."""
    return "vigie_keys" if store_schema == "public" else f"{store_schema}_keys"


def ensure_keys_table(
    connection: psycopg.Connection[Any],
    keys_schema: str,
    table: str,
    create: str,
    *,
    moved_from: str | None = None,
) -> sql.Identifier:
    """The table `keys_schema.table`, created (with `create`, a statement whose `{}` is the
    table) or moved from the store's schema `moved_from` where an older version kept it."""
    target = sql.Identifier(keys_schema, table)
    with connection.transaction():
        # Serialised: processes starting together create the schema and move a table once
        # (CREATE SCHEMA IF NOT EXISTS alone races into a unique violation).
        connection.execute("SELECT pg_advisory_xact_lock(hashtext('vigie_keys_schema'))")
        connection.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(keys_schema))
        )
        if moved_from is not None and moved_from != keys_schema:
            found = connection.execute(
                "SELECT to_regclass(%s), to_regclass(%s)",
                (
                    sql.Identifier(moved_from, table).as_string(connection),
                    target.as_string(connection),
                ),
            ).fetchone()
            if found is not None and found[0] is not None and found[1] is None:
                connection.execute(
                    sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(
                        sql.Identifier(moved_from, table), sql.Identifier(keys_schema)
                    )
                )
        connection.execute(sql.SQL(create).format(target))
    return target
