"""Sessions in the SQLite file of the event store (the embedded default), in tables of their
own. Every worker process opens the same file: a connection per operation, with a busy
timeout, so no state lives in one process and a logout holds on every worker."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
from anyio import to_thread

from app.ports.sessions import Claimed, Count, SecondFactor, StoredSession

FAILURES_KEPT = timedelta(days=1)


def _json(data: dict[str, Any]) -> str:
    """The session's data as JSON (ids and instants as text, as the pages read them back)."""
    return msgspec.json.encode(data).decode()


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS vigie_sessions (key TEXT PRIMARY KEY, account TEXT, "
    "data TEXT NOT NULL, expires_at REAL NOT NULL, idle_until REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS vigie_sessions_account ON vigie_sessions (account)",
    "CREATE TABLE IF NOT EXISTS vigie_login_failures (subject TEXT NOT NULL, at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS vigie_login_failures_subject ON vigie_login_failures (subject, at)",
    "CREATE TABLE IF NOT EXISTS vigie_second_factors (staff_id TEXT PRIMARY KEY, "
    "secret BLOB NOT NULL, confirmed INTEGER NOT NULL, last_step INTEGER NOT NULL)",
)


def _epoch(at: datetime) -> float:
    return at.timestamp()


def _instant(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class SqliteSessionStore:
    """SessionStore in a SQLite file (the event store's, by default)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        with self._connection() as db:
            for statement in _SCHEMA:
                db.execute(statement)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            yield db
        finally:
            db.close()

    def put(self, key: str, session: StoredSession) -> None:
        with self._connection() as db:
            db.execute(
                "INSERT OR REPLACE INTO vigie_sessions VALUES (?, ?, ?, ?, ?)",
                (
                    key,
                    session.account,
                    _json(session.data),
                    _epoch(session.expires_at),
                    _epoch(min(session.idle_until, session.expires_at)),
                ),
            )

    def get(self, key: str, now: datetime) -> StoredSession | None:
        with self._connection() as db:
            row = db.execute(
                "SELECT account, data, expires_at, idle_until FROM vigie_sessions "
                "WHERE key = ? AND expires_at > ? AND idle_until > ?",
                (key, _epoch(now), _epoch(now)),
            ).fetchone()
        if row is None:
            return None
        return StoredSession(
            data=msgspec.json.decode(row[1]),
            account=row[0],
            expires_at=_instant(row[2]),
            idle_until=_instant(row[3]),
        )

    async def get_async(self, key: str, now: datetime) -> StoredSession | None:
        # A file that another process may hold locked for a moment: never on the loop.
        return await to_thread.run_sync(self.get, key, now)

    def refresh(self, key: str, idle_until: datetime, data: dict[str, Any] | None) -> None:
        with self._connection() as db:
            db.execute(
                "UPDATE vigie_sessions SET idle_until = MIN(?, expires_at), "
                "data = COALESCE(?, data) WHERE key = ?",
                (_epoch(idle_until), None if data is None else _json(data), key),
            )

    def extend(self, key: str, expires_at: datetime, now: datetime) -> None:
        with self._connection() as db:
            db.execute(
                "UPDATE vigie_sessions SET expires_at = MAX(expires_at, ?) "
                "WHERE key = ? AND expires_at > ? AND idle_until > ?",
                (_epoch(expires_at), key, _epoch(now), _epoch(now)),
            )

    def delete(self, key: str) -> None:
        with self._connection() as db:
            db.execute("DELETE FROM vigie_sessions WHERE key = ?", (key,))

    def end_account(self, account: str) -> int:
        with self._connection() as db:
            return db.execute("DELETE FROM vigie_sessions WHERE account = ?", (account,)).rowcount

    def purge(self, now: datetime) -> int:
        with self._connection() as db:
            ended = db.execute(
                "DELETE FROM vigie_sessions WHERE expires_at <= ? OR idle_until <= ?",
                (_epoch(now), _epoch(now)),
            ).rowcount
            db.execute(
                "DELETE FROM vigie_login_failures WHERE at <= ?", (_epoch(now - FAILURES_KEPT),)
            )
            return ended

    def claim_attempt(self, counts: Sequence[Count], at: datetime, since: datetime) -> Claimed:
        # BEGIN IMMEDIATE takes the file's write lock before the count: another process's
        # claim waits (the busy timeout) until this one is recorded or refused.
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                before = tuple(
                    tuple(
                        _instant(row[0])
                        for row in db.execute(
                            "SELECT at FROM vigie_login_failures WHERE subject = ? AND at > ? "
                            "ORDER BY at",
                            (count.subject, _epoch(since)),
                        )
                    )
                    for count in counts
                )
                allowed = all(
                    count.limit is None or len(found) < count.limit
                    for count, found in zip(counts, before, strict=True)
                )
                if allowed:
                    db.executemany(
                        "INSERT INTO vigie_login_failures VALUES (?, ?)",
                        [(count.subject, _epoch(at)) for count in counts],
                    )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.rollback()
                raise
        return Claimed(allowed, before)

    def withdraw_attempt(self, subjects: Sequence[str], at: datetime) -> None:
        with self._connection() as db:
            for subject in subjects:
                db.execute(
                    "DELETE FROM vigie_login_failures WHERE rowid = (SELECT rowid FROM "
                    "vigie_login_failures WHERE subject = ? AND at = ? LIMIT 1)",
                    (subject, _epoch(at)),
                )

    def second_factor(self, staff_id: UUID) -> SecondFactor | None:
        with self._connection() as db:
            row = db.execute(
                "SELECT secret, confirmed, last_step FROM vigie_second_factors WHERE staff_id = ?",
                (str(staff_id),),
            ).fetchone()
        if row is None:
            return None
        return SecondFactor(sealed_secret=bytes(row[0]), confirmed=bool(row[1]), last_step=row[2])

    def set_second_factor(self, staff_id: UUID, factor: SecondFactor) -> None:
        with self._connection() as db:
            db.execute(
                "INSERT OR REPLACE INTO vigie_second_factors VALUES (?, ?, ?, ?)",
                (str(staff_id), factor.sealed_secret, int(factor.confirmed), factor.last_step),
            )

    def use_step(self, staff_id: UUID, step: int) -> bool:
        # One statement: two workers accepting the same code cannot both succeed.
        with self._connection() as db:
            return (
                db.execute(
                    "UPDATE vigie_second_factors SET last_step = ? "
                    "WHERE staff_id = ? AND last_step < ?",
                    (step, str(staff_id), step),
                ).rowcount
                == 1
            )

    def remove_second_factor(self, staff_id: UUID) -> bool:
        with self._connection() as db:
            return (
                db.execute(
                    "DELETE FROM vigie_second_factors WHERE staff_id = ?", (str(staff_id),)
                ).rowcount
                == 1
            )
