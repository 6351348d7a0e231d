"""Sessions in a dict: for tests and `memory:` stores (one process; nothing survives it)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from app.ports.sessions import Claimed, Count, SecondFactor, StoredSession

FAILURES_KEPT = timedelta(days=1)


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """The data as the database adapters give it back (through JSON), so tests on memory
    see what production sees."""
    plain: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(data))
    return plain


class MemorySessionStore:
    """SessionStore in memory."""

    def __init__(self) -> None:
        self._sessions: dict[str, StoredSession] = {}
        self._failures: list[tuple[str, datetime]] = []
        self._factors: dict[UUID, SecondFactor] = {}
        self._lock = threading.Lock()

    def put(self, key: str, session: StoredSession) -> None:
        with self._lock:
            self._sessions[key] = replace(session, data=_plain(session.data))

    def get(self, key: str, now: datetime) -> StoredSession | None:
        with self._lock:
            found = self._sessions.get(key)
        if found is None or now >= found.idle_until or now >= found.expires_at:
            return None
        return found

    async def get_async(self, key: str, now: datetime) -> StoredSession | None:
        return self.get(key, now)  # in memory: nothing to wait for

    def refresh(self, key: str, idle_until: datetime, data: dict[str, Any] | None) -> None:
        with self._lock:
            found = self._sessions.get(key)
            if found is not None:
                until = min(idle_until, found.expires_at)
                kept = found.data if data is None else _plain(data)
                self._sessions[key] = replace(found, idle_until=until, data=kept)

    def extend(self, key: str, expires_at: datetime, now: datetime) -> None:
        with self._lock:
            found = self._sessions.get(key)
            if found is None or now >= found.idle_until or now >= found.expires_at:
                return
            if expires_at > found.expires_at:
                self._sessions[key] = replace(found, expires_at=expires_at)

    def delete(self, key: str) -> None:
        with self._lock:
            self._sessions.pop(key, None)

    def end_account(self, account: str) -> int:
        with self._lock:
            ended = [k for k, s in self._sessions.items() if s.account == account]
            for key in ended:
                del self._sessions[key]
            return len(ended)

    def purge(self, now: datetime) -> int:
        with self._lock:
            over = [
                k for k, s in self._sessions.items() if now >= s.idle_until or now >= s.expires_at
            ]
            for key in over:
                del self._sessions[key]
            self._failures = [(s, at) for s, at in self._failures if at > now - FAILURES_KEPT]
            return len(over)

    def claim_attempt(self, counts: Sequence[Count], at: datetime, since: datetime) -> Claimed:
        with self._lock:  # the count and the record in one step: no claim in between
            before = tuple(
                tuple(sorted(t for s, t in self._failures if s == count.subject and t > since))
                for count in counts
            )
            allowed = all(
                count.limit is None or len(found) < count.limit
                for count, found in zip(counts, before, strict=True)
            )
            if allowed:
                self._failures.extend((count.subject, at) for count in counts)
            return Claimed(allowed, before)

    def withdraw_attempt(self, subjects: Sequence[str], at: datetime) -> None:
        with self._lock:
            for subject in subjects:
                if (subject, at) in self._failures:
                    self._failures.remove((subject, at))

    def second_factor(self, staff_id: UUID) -> SecondFactor | None:
        with self._lock:
            return self._factors.get(staff_id)

    def set_second_factor(self, staff_id: UUID, factor: SecondFactor) -> None:
        with self._lock:
            self._factors[staff_id] = factor

    def use_step(self, staff_id: UUID, step: int) -> bool:
        with self._lock:
            found = self._factors.get(staff_id)
            if found is None or step <= found.last_step:
                return False
            self._factors[staff_id] = replace(found, last_step=step)
            return True

    def remove_second_factor(self, staff_id: UUID) -> bool:
        with self._lock:
            return self._factors.pop(staff_id, None) is not None
