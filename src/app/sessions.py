"""Server-side sessions (issue 14): how long they last, how they are named, and whose they
are. The web edge keeps one per browser in the SessionStore; this module decides.

- The browser holds a random id (256 bits); the store knows only its SHA-256, so a copy of
  the table (a backup, a read replica) logs nobody in.
- A session belongs to an account once someone logs in ("candidate:<id>", "staff:<id>"): a
  password change or reset ends every session of that account, on every worker.
- Staff sessions are short with an idle timeout (8 h, 30 min by default): staff pages show
  candidates' personal data. A candidate's last an exam day (12 h), with an idle timeout of
  4 h. An exam may last longer than that (3 h and up to 100 % extra time), and the built-in
  exam tab is served only to the candidate's own session (ui.web.workspace): its heartbeat
  (every 5 s) keeps the session from going idle, and opening it pushes the absolute end to
  the exam's end and `AFTER_EXAM` beyond (`kept_for_exam`), so a candidate who logged in
  early in the morning is not logged out in the middle of an evening exam.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

ID_BYTES = 32
# A session is written back when its idle end would move by more than this: a page load a
# second after another costs a read, not a write.
TOUCH_EVERY = timedelta(seconds=60)
# After her exam's end, a candidate still finishes and sends it from the proctoring tab and
# reads her results: her session lasts at least this long beyond the exam's end.
AFTER_EXAM = timedelta(minutes=30)


@dataclass(frozen=True)
class Lifetime:
    """How long a session lasts: `absolute` from log-in whatever happens, `idle` since the
    last request."""

    absolute: timedelta
    idle: timedelta


@dataclass(frozen=True)
class SessionPolicy:
    """The lifetimes per kind of session (settings, with these defaults)."""

    staff: Lifetime = Lifetime(timedelta(hours=8), timedelta(minutes=30))
    candidate: Lifetime = Lifetime(timedelta(hours=12), timedelta(hours=4))
    # Before log-in a session only holds the language chosen and one-time notices.
    visitor: Lifetime = Lifetime(timedelta(hours=12), timedelta(hours=2))

    def lifetime(self, account: str | None) -> Lifetime:
        if account is None:
            return self.visitor
        return self.staff if account.startswith("staff:") else self.candidate

    @classmethod
    def from_env(cls) -> SessionPolicy:
        """VIGIE_STAFF_SESSION_HOURS, VIGIE_STAFF_IDLE_MINUTES, VIGIE_CANDIDATE_SESSION_HOURS,
        VIGIE_CANDIDATE_IDLE_MINUTES (the defaults above when unset)."""
        default = cls()
        return cls(
            staff=Lifetime(
                _duration("VIGIE_STAFF_SESSION_HOURS", default.staff.absolute, hours=True),
                _duration("VIGIE_STAFF_IDLE_MINUTES", default.staff.idle, hours=False),
            ),
            candidate=Lifetime(
                _duration("VIGIE_CANDIDATE_SESSION_HOURS", default.candidate.absolute, hours=True),
                _duration("VIGIE_CANDIDATE_IDLE_MINUTES", default.candidate.idle, hours=False),
            ),
        )


def _duration(name: str, default: timedelta, *, hours: bool) -> timedelta:
    """A positive number of hours or minutes from the environment, or a clear error."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}: a number of {'hours' if hours else 'minutes'}") from None
    if not 0 < value <= 10_000_000:
        raise ValueError(f"{name}: a positive number, not {text!r}")
    return timedelta(hours=value) if hours else timedelta(minutes=value)


def kept_for_exam(expires_at: datetime, exam_ends_at: datetime | None) -> datetime | None:
    """The absolute end a candidate's session needs while her exam runs (the exam's end and
    `AFTER_EXAM`), when later than the one it has (`expires_at`); None otherwise."""
    if exam_ends_at is None:
        return None
    needed = exam_ends_at + AFTER_EXAM
    return needed if needed > expires_at else None


def new_session_id() -> str:
    """A fresh opaque id for the cookie (never derived from anything the browser sent)."""
    return secrets.token_urlsafe(ID_BYTES)


def session_key(session_id: str) -> str:
    """What the store knows a session by: the id's hash, never the id itself."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def account_of(data: dict[str, Any]) -> str | None:
    """Whose session this is, from what the pages keep in it: a member of staff (also while
    their second factor is awaited, so a new password ends that half-done log-in too) or a
    candidate; None before log-in."""
    if data.get("staff") or data.get("pending_staff"):
        return f"staff:{data.get('staff') or data['pending_staff']}"
    if data.get("candidate"):
        return f"candidate:{data['candidate']}"
    return None


def identity_of(data: dict[str, Any]) -> tuple[str | None, bool]:
    """Whose session it is and whether they are logged in: when it changes (a log-in, the
    second factor typed, a log-out) the session gets a new id."""
    return account_of(data), bool(data.get("staff") or data.get("candidate"))


def candidate_account(candidate_id: object) -> str:
    return f"candidate:{candidate_id}"


def staff_account(staff_id: object) -> str:
    return f"staff:{staff_id}"
