"""Checking a pooled PostgreSQL connection as it is handed out, only when it has rested.

Every pool of the platform checks a connection before handing it out, so that the first
query after a PostgreSQL restart gets a fresh connection instead of a dead one (issue 14).
psycopg_pool's check is an empty query: one more round trip for every query the platform
makes. At a thousand candidates that was 5 of a save's 15 round trips and half of a
heartbeat's (issue 15, `bench_web --nodes 2`), and on a busy machine each round trip waits
for three processes to be scheduled.

A connection handed out again less than `rest_s` after its previous hand-out was working a
moment ago: a connection that fails while in use is closed by the pool when it comes back
(psycopg_pool discards a connection in a bad state), so what is handed out unchecked is one
that answered at most `rest_s` ago — unless the server spoke since, unasked. A server that
stops or restarts (even in less than `rest_s`: a throwaway cluster restarts in half a
second), or ends a backend, tells each client before closing its socket: a socket with
something to read while no query is running is checked too. That costs one `select` system
call, no round trip. What still goes out unchecked is a connection whose server vanished
without a word (a network cut) within `rest_s`: its query fails, the pool drops it.
"""

from __future__ import annotations

import select
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from psycopg import AsyncConnection, Connection
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool, ConnectionPool

REST_S = 1.0  # below any PostgreSQL restart (a stop and a start take seconds)


def check_when_rested(
    rest_s: float = REST_S, clock: Callable[[], float] = time.monotonic
) -> Callable[[Connection[TupleRow]], None]:
    """A pool's `check`: psycopg_pool's own check (an empty query), made only when the
    connection was last handed out `rest_s` or more ago."""
    handed_out: weakref.WeakKeyDictionary[Connection[TupleRow], float] = weakref.WeakKeyDictionary()

    def check(connection: Connection[TupleRow]) -> None:
        now = clock()
        last = handed_out.get(connection)
        if last is None or now - last >= rest_s or _server_spoke(connection):
            ConnectionPool.check_connection(connection)
        handed_out[connection] = now

    return check


def async_check_when_rested(
    rest_s: float = REST_S, clock: Callable[[], float] = time.monotonic
) -> Callable[[AsyncConnection[TupleRow]], Awaitable[None]]:
    """The same for an AsyncConnectionPool."""
    handed_out: weakref.WeakKeyDictionary[AsyncConnection[TupleRow], float] = (
        weakref.WeakKeyDictionary()
    )

    async def check(connection: AsyncConnection[TupleRow]) -> None:
        now = clock()
        last = handed_out.get(connection)
        if last is None or now - last >= rest_s or _server_spoke(connection):
            await AsyncConnectionPool.check_connection(connection)
        handed_out[connection] = now

    return check


def _server_spoke(connection: Connection[TupleRow] | AsyncConnection[TupleRow]) -> bool:
    """Something to read on an idle connection's socket: the server's goodbye (a shutdown or
    a terminated backend) or its closed end. Pool connections LISTEN to nothing, so a
    healthy idle one has nothing to say."""
    try:
        readable, _, _ = select.select([connection.fileno()], [], [], 0)
    except (OSError, ValueError):  # a closed socket: let the real check say so
        return True
    return bool(readable)


def check_rested_only(pool: ConnectionPool[Any]) -> None:
    """Make a pool built by a library (eventsourcing's, built with pre_ping) check its
    connections only when rested. psycopg_pool keeps its check in `_check` (pinned
    psycopg-pool 3.3.3; tests/property/test_pool_check.py fails if that changes)."""
    if getattr(pool, "_check", None) is None:
        raise RuntimeError("this pool checks nothing: build it with a check (pre_ping)")
    pool._check = check_when_rested()
