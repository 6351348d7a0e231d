"""The errors that mean "the database did not answer" (a PostgreSQL restart, a dropped
connection, a pool with no connection to give), as opposed to a fault in Vigie. The pools
reconnect by themselves (issue 14), so the request that met one can simply be tried again."""

from __future__ import annotations

import asyncio

import asyncpg
import psycopg
import psycopg_pool
from eventsourcing.persistence import InterfaceError, OperationalError

DATABASE_UNREACHABLE: tuple[type[Exception], ...] = (
    # The event store's recorder (eventsourcing wraps psycopg's and sqlite3's errors).
    OperationalError,
    InterfaceError,
    # The key store and any direct use of psycopg (PoolTimeout is an OperationalError).
    psycopg.OperationalError,
    psycopg.InterfaceError,
    psycopg_pool.PoolTimeout,
)

# What "the database did not answer" looks like from asyncpg (refused, dropped, shutting
# down, starting up, full). Its users (the log's pages, the sessions' reads) raise it as the
# library's OperationalError above: the store retries it, the web answers « try again ».
ASYNCPG_UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncio.TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.TooManyConnectionsError,
)
