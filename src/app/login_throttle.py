"""Failed log-ins counted per account and place, with a ceiling per account (security finding
F7: ten failures from anywhere used to shut an account for everyone, its owner included, so
anyone could lock a candidate out of her exam by failing on purpose).

Two counts, both sliding windows of fifteen minutes, never a lock for ever:

- per account and place: ten failures from one client address (one guesser) refuse that
  address, for that account only. A browser the person logged in from before (a known
  device, app.known_devices) is its own place, whatever address it shares (a school's NAT, a
  phone operator's): a guesser behind the same address does not shut it.
- per account: a hundred failures from every place (guessers spread over many addresses)
  refuse the places the account was never used from; a known device still logs in, and a
  reset link used in a browser makes it known (R24), so the person always has a way in.

The account is named by the e-mail typed, hashed: an address nobody registered is counted and
refused exactly like a registered one, and the same queries run for both, so the counts tell
nothing about who has an account; the e-mail and the client address are never written down.
The failures are rows in the sessions' database (app.ports.sessions), shared by every node:
each failure is an insert, so two nodes failing at once never lose a count (a rate-limit
bucket is read, changed and written back).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.ports.clock import Clock
from app.ports.sessions import SessionStore

MAX_FAILURES = 10  # per account and place
ACCOUNT_CEILING = 100  # per account, every place together
WINDOW = timedelta(minutes=15)


def subject_of(email: str, area: str) -> str:
    """The account's name in the counts: the normalised e-mail, hashed, per log-in form
    (a candidate and a staff member may share an address)."""
    return hashlib.sha256(f"{area}:{email.strip().lower()}".encode()).hexdigest()


@dataclass(frozen=True)
class Place:
    """Where a log-in comes from: the client address, and the browser's id when the account
    logged in from it before (app.known_devices), else None."""

    address: str
    device: str | None = None


def place_subject(email: str, area: str, place: Place) -> str:
    """The account at one place: a known device (its id) wherever it is, else the client
    address."""
    where = f"device:{place.device}" if place.device else f"address:{place.address}"
    return hashlib.sha256(f"{subject_of(email, area)}|{where}".encode()).hexdigest()


@dataclass(frozen=True)
class Refusal:
    """A log-in refused before its password is checked: when the oldest failure that counts
    ages out (`retry_at`), and whether the whole account reached its ceiling
    (`account_wide`) rather than this place its own limit."""

    retry_at: datetime
    account_wide: bool


@dataclass
class LoginThrottle:
    """Whether a log-in may be tried, and the record of a failure; shared by every worker
    through the store."""

    store: SessionStore
    clock: Clock
    max_failures: int = MAX_FAILURES
    account_ceiling: int = ACCOUNT_CEILING
    window: timedelta = WINDOW

    def refusal(self, email: str, area: str, place: Place) -> Refusal | None:
        """None when this place may try the account's password; else why not and until when.
        Both counts are read whether the device is known or not (the same work each time)."""
        since = self.clock.now() - self.window
        here = self.store.failure_times(place_subject(email, area, place), since)
        everywhere = self.store.failure_times(subject_of(email, area), since)
        if len(here) >= self.max_failures:
            return Refusal(here[-self.max_failures] + self.window, account_wide=False)
        if place.device is None and len(everywhere) >= self.account_ceiling:
            return Refusal(everywhere[-self.account_ceiling] + self.window, account_wide=True)
        return None

    def log_in_failed(self, email: str, area: str, place: Place) -> None:
        """A wrong password for this account at this place: counted for both."""
        now = self.clock.now()
        self.store.record_failure(place_subject(email, area, place), now)
        self.store.record_failure(subject_of(email, area), now)

    # The second factor's codes: asked only after the right password, counted per member.

    def allows(self, who: str, area: str) -> bool:
        """False when `who` had `max_failures` failures within the window."""
        since = self.clock.now() - self.window
        return self.store.failures_since(subject_of(who, area), since) < self.max_failures

    def failed(self, who: str, area: str) -> None:
        self.store.record_failure(subject_of(who, area), self.clock.now())
