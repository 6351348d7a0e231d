"""Rows written behind the store's back, as someone with write access to the database would
(issue 14): a garbage row as a new stream, garbage appended to a stream, a row with a
well-formed header that does not decode, a real event copied without its header."""

from __future__ import annotations

import contextlib
import sqlite3
from urllib.parse import parse_qs, urlparse
from uuid import UUID

import psycopg
from psycopg import sql

from adapters.persistence.chain import seal
from adapters.persistence.settings import eventsourcing_env
from adapters.persistence.store import EventsourcingStore

GARBAGE = b'{"garbage": true}'
SESSION_TOPIC = "domain.proctored_session:ProctoredSession.InstructionsRead"


def insert_row(url: str, stream: UUID, version: int, topic: str, state: bytes) -> None:
    """One row straight into the events table of a SQLite or PostgreSQL store."""
    if url.startswith("sqlite:"):
        path = eventsourcing_env(url)["SQLITE_DBNAME"]
        with contextlib.closing(sqlite3.connect(path)) as connection:
            connection.execute(
                "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
                "VALUES (?, ?, ?, ?)",
                (stream.hex, version, topic, state),
            )
            connection.commit()
        return
    parsed = urlparse(url)
    schema = parse_qs(parsed.query).get("schema", ["public"])[0]
    base = url.split("?", 1)[0]
    with psycopg.connect(base, autocommit=True) as connection:
        connection.execute(
            sql.SQL(
                "INSERT INTO {}.vigie_events (originator_id, originator_version, topic, state) "
                "VALUES (%s, %s, %s, %s)"
            ).format(sql.Identifier(schema)),
            (stream, version, topic, state),
        )


def last_version(store: EventsourcingStore, stream: UUID) -> int:
    return max(e.originator_version for e in store.history(stream))


def append_garbage(url: str, store: EventsourcingStore, stream: UUID) -> int:
    """Garbage bytes as the stream's next version; returns that version."""
    version = last_version(store, stream) + 1
    insert_row(url, stream, version, SESSION_TOPIC, GARBAGE)
    return version


def append_sealed_garbage(url: str, store: EventsourcingStore, stream: UUID) -> int:
    """Garbage behind a header whose hashes are right (the hash function is public): only
    decoding can tell."""
    version = last_version(store, stream) + 1
    previous = store.records([stream])[stream][-1]
    assert previous.chain_hash is not None
    state = seal(bytes.fromhex(previous.chain_hash), stream, version, SESSION_TOPIC, GARBAGE)
    insert_row(url, stream, version, SESSION_TOPIC, state)
    return version


def append_copy_without_header(url: str, store: EventsourcingStore, stream: UUID) -> int:
    """A real event of the stream copied as its next version, without the chain's header:
    it decodes, so only the chain can tell."""
    version = last_version(store, stream) + 1
    record = store.records([stream])[stream][-1]
    insert_row(url, stream, version, record.topic, record.payload)
    return version
