"""Turn a database URL into the eventsourcing library's settings (persistence by settings)."""

from __future__ import annotations

import contextlib
import re
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

DEFAULT_DATABASE_URL = "sqlite:///vigie-data/vigie.sqlite"


class DatabaseUrlError(ValueError):
    """The database URL is not one Vigie understands (names the setting)."""


def eventsourcing_env(database_url: str) -> dict[str, str]:
    """`memory:`, `sqlite:///path` or `postgresql://user:password@host:port/dbname[?schema=s]`."""
    url = database_url.strip()
    if url in ("memory:", "memory://"):
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if parsed.netloc:  # sqlite://relative/path
            path = parsed.netloc + path
        elif path.startswith("/"):
            path = path[1:]  # sqlite:///relative → relative; sqlite:////abs → /abs
        if not path:
            raise DatabaseUrlError("VIGIE_DATABASE_URL: a SQLite URL needs a file path")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path}
    if parsed.scheme in ("postgres", "postgresql"):
        dbname = parsed.path.lstrip("/")
        if not dbname:
            raise DatabaseUrlError("VIGIE_DATABASE_URL: a PostgreSQL URL needs a database name")
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(dbname),
            "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": unquote(parsed.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parsed.password or ""),
            "POSTGRES_POOL_SIZE": "2",
            "POSTGRES_MAX_OVERFLOW": "4",
            # A pooled connection is checked as it is handed out, so the first query after a
            # PostgreSQL restart gets a fresh one instead of a dead one: the recorder retries
            # its own queries, but the store's bulk reads (audit, histories) do not (issue 14).
            "POSTGRES_PRE_PING": "y",
            # How long a query waits for a pooled connection. The recorder tries 10 times, so
            # while PostgreSQL is down a request gives up (a 503, « try again ») after about
            # 22 s instead of 52 s with the library's 5 s; under load, 10 waits of 2 s each.
            "POSTGRES_CONNECT_TIMEOUT": "2",
            # ?schema=name keeps several stores (or test runs) apart in one database.
            "POSTGRES_SCHEMA": _schema(parse_qs(parsed.query).get("schema", ["public"])[0]),
        }
    raise DatabaseUrlError(
        f"VIGIE_DATABASE_URL: unsupported database URL {database_url!r} "
        "(use memory:, sqlite:///path or postgresql://user@host:port/dbname)"
    )


# A schema name as PostgreSQL takes it unquoted (lower case: the tables' names are quoted by
# some drivers and not by others). `?schema=Bad-Name` went as far as creating the schemas
# `Bad-Name` and `Bad-Name_keys`, then ended in a 68-line traceback (an operator's review).
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,50}")


def _schema(name: str) -> str:
    if not _SCHEMA_NAME.fullmatch(name):
        raise DatabaseUrlError(
            f"VIGIE_DATABASE_URL: ?schema={name!r} is not a schema name Vigie can use: "
            "lower-case letters, digits and _ , starting with a letter or _ (at most 51)"
        )
    return name


def asyncpg_connect(env: Mapping[str, str]) -> dict[str, Any]:
    """asyncpg's connection arguments for the server these PostgreSQL settings name."""
    return {
        "host": env["POSTGRES_HOST"],
        "port": int(env["POSTGRES_PORT"]),
        "user": env["POSTGRES_USER"],
        "password": env["POSTGRES_PASSWORD"] or None,
        "database": env["POSTGRES_DBNAME"],
    }


def conninfo(env: Mapping[str, str]) -> str:
    """libpq's connection string for the store's PostgreSQL server (psycopg)."""
    return (
        f"host={env['POSTGRES_HOST']} port={env['POSTGRES_PORT']} "
        f"dbname={env['POSTGRES_DBNAME']} user={env['POSTGRES_USER']}"
        + (f" password={env['POSTGRES_PASSWORD']}" if env["POSTGRES_PASSWORD"] else "")
    )


@contextlib.contextmanager
def catalogue_lock(env: Mapping[str, str], purpose: str) -> Iterator[None]:
    """On PostgreSQL, one process at a time does `purpose` in the store's schema: two that
    create the same tables and functions at once race in the catalogue, and the library's
    `CREATE OR REPLACE FUNCTION` fails with "tuple concurrently updated". A session-level
    advisory lock, keyed by the purpose and the schema, on a connection of its own (gone
    with it, if the process dies). Elsewhere, nothing to do."""
    if env.get("PERSISTENCE_MODULE") != "eventsourcing.postgres":
        yield
        return
    import psycopg

    key = zlib.crc32(f"{purpose}:{env['POSTGRES_SCHEMA']}".encode())
    with psycopg.connect(conninfo(env), autocommit=True, connect_timeout=5) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            yield
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (key,))
