"""The session store port: who is logged in, kept on the server (issue 14), beside the events.

A browser holds only an opaque random id; the store knows it by its hash (`app.sessions`),
with the session's data, the account it belongs to (so a password change ends every session
of that account) and two limits: the absolute end and the idle end. Every worker process
reads the same rows, so a logout or a revocation holds on every worker at once.

The same store counts failed log-ins per account (a hash of the e-mail), so the per-account
limit is shared by every worker too. An attempt claims its place in the counts before its
password is checked, in one step that no other worker's claim can interleave with
(`claim_attempt`): fifty attempts sent at once never all read « nine so far » and all go on
(a reviewer's burst, F7's follow-up). It also keeps staff members' second factors (TOTP),
a credential that must be replaceable and destroyable, never an event kept for ever.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID


@dataclass(frozen=True)
class StoredSession:
    """One session as kept: its data (JSON-able), whose it is, and when it ends."""

    data: dict[str, Any]
    account: str | None  # "candidate:<uuid>" or "staff:<uuid>"; None before log-in
    expires_at: datetime  # the absolute end, whatever the activity
    idle_until: datetime  # the end if nothing happens before (never after expires_at)


@dataclass(frozen=True)
class SecondFactor:
    """A staff member's TOTP secret (sealed by the application) and its state."""

    sealed_secret: bytes
    confirmed: bool  # False while the member has not typed a first code
    last_step: int  # the last time step a code was accepted for (no reuse within it)


@dataclass(frozen=True)
class Count:
    """One count an attempt takes its place in: `subject`'s attempts in the window, at most
    `limit` of them (None: counted, never refused on this count)."""

    subject: str
    limit: int | None


@dataclass(frozen=True)
class Claimed:
    """What a claim found: whether the attempt took its place (`allowed`: then it is counted
    in every count's subject), and per count, in the order given, the instants of the
    attempts that counted before it, oldest first (a refusal says when the oldest ages out)."""

    allowed: bool
    before: tuple[tuple[datetime, ...], ...]


class SessionStore(Protocol):
    """Server-side sessions, failed log-ins per account and second factors, shared by every
    worker process."""

    def put(self, key: str, session: StoredSession) -> None:
        """Keep a session under `key` (the hash of its id), replacing one there."""
        ...

    def get(self, key: str, now: datetime) -> StoredSession | None:
        """The session under `key` if it is still valid at `now` (None when absent, ended,
        or past its absolute or idle end)."""
        ...

    async def get_async(self, key: str, now: datetime) -> StoredSession | None:
        """`get` from an event loop without holding it up (the web reads a session before
        nearly every request: issue 15)."""
        ...

    def refresh(self, key: str, idle_until: datetime, data: dict[str, Any] | None) -> None:
        """Push a living session's idle end to `idle_until` (never past its absolute end)
        and replace its data when given; nothing if it was ended meanwhile (a request in
        flight on another worker never brings back a revoked session)."""
        ...

    def extend(self, key: str, expires_at: datetime, now: datetime) -> None:
        """Push a living session's absolute end to `expires_at` (never earlier): a candidate's
        exam tab keeps her logged in until her exam's end (ui.web.workspace). Nothing if the
        session is over at `now` or was ended meanwhile (never brought back)."""
        ...

    def delete(self, key: str) -> None:
        """End one session (nothing if it is not there)."""
        ...

    def end_account(self, account: str) -> int:
        """End every session of that account; how many were ended."""
        ...

    def purge(self, now: datetime) -> int:
        """Delete what is over at `now`: ended sessions, failures older than a day."""
        ...

    def claim_attempt(self, counts: Sequence[Count], at: datetime, since: datetime) -> Claimed:
        """Atomically, for every worker and node: when each count with a limit has fewer than
        `limit` attempts after `since`, one attempt at `at` is recorded for every count's
        subject (a failure until withdrawn); else nothing is recorded. Two claims at once never
        both take a count's last place."""
        ...

    def withdraw_attempt(self, subjects: Sequence[str], at: datetime) -> None:
        """Take back one attempt at `at` per subject (a claim whose password was right)."""
        ...

    def second_factor(self, staff_id: UUID) -> SecondFactor | None:
        """The staff member's second factor, confirmed or not (None without one)."""
        ...

    def set_second_factor(self, staff_id: UUID, factor: SecondFactor) -> None:
        """Keep (or replace) the staff member's second factor."""
        ...

    def use_step(self, staff_id: UUID, step: int) -> bool:
        """Mark a code's time step as used, atomically: False if that step or a later one was
        already used (a code is accepted once, on one worker)."""
        ...

    def remove_second_factor(self, staff_id: UUID) -> bool:
        """Forget the staff member's second factor; True if there was one."""
        ...
