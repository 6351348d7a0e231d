"""The process recorder on PostgreSQL, with the library's insert made lean (issue 15).

eventsourcing 9.5.6 sends a save's rows as one array of a composite type, which psycopg writes
as text: each state's bytes in hex, escaped again by a regular expression for the composite,
then parsed back by the server. That cost more than the commit itself. Here the same
statement takes one array per column, sent in binary, and the whole save (its COMMIT too)
travels in one round trip instead of two. Everything else is the library's: the table lock
that keeps insert order equal to commit order, the notification, the tracking row in the
same transaction, the ids returned in the rows' order.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier


@contextlib.contextmanager
def one_at_a_time(datastore: PostgresDatastore) -> Iterator[None]:
    """The library's tables, types and functions created by one process at a time: the
    library creates them at every opening, and two opening at once (a CLI or a test beside
    a starting worker) failed in the catalogue with "tuple concurrently updated", or with a
    duplicate type for the snapshots' table. A session-level advisory lock, keyed by the
    schema, on one of the pool's connections (it holds two from the start: no connection
    more for it)."""
    key = zlib.crc32(f"vigie-store-tables:{datastore.schema}".encode())
    with datastore.get_connection() as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


class LeanPostgresProcessRecorder(PostgresProcessRecorder):
    """PostgresProcessRecorder whose rows travel as four binary arrays, one per column."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.insert_columns_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::{id_type}[], %b::int8[], %b::text[], %b::bytea[]) "
            "RETURNING notification_id"
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
            id_type=SQL(self.datastore.originator_id_type),
        )

    def create_table(self) -> None:
        with one_at_a_time(self.datastore):
            super().create_table()

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library's
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """As the library's, in one round trip instead of two: the library syncs its
        pipeline after the insert, then sends COMMIT and syncs again. Here BEGIN, the tracking
        row, the lock, the notification, the insert and COMMIT go together; a version taken
        meanwhile still fails the commit with the unique violation, which the datastore
        raises as the library's IntegrityError (a ConcurrencyConflict for the store)."""
        with self.datastore.get_connection() as conn:
            inserted = conn.cursor()
            with conn.pipeline(), conn.transaction():
                with conn.cursor() as curs:
                    self._insert_events(curs, stored_events, **kwargs)
                if stored_events:
                    self._insert_stored_events(inserted, stored_events, **kwargs)
            if not stored_events:
                return []
            return [row["notification_id"] for row in inserted.fetchall()]

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **_: Any
    ) -> None:
        # As PostgresApplicationRecorder._insert_stored_events, then the rows by column.
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(
            self.insert_columns_statement,
            (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
            prepare=True,
        )
