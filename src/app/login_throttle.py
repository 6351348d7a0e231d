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
The failures are rows in the sessions' database (app.ports.sessions), shared by every node.
An attempt claims its place in both counts before its password is checked, in one step of
the store that no other claim interleaves with (`SessionStore.claim_attempt`): a burst of
fifty wrong passwords sent at once gets ten checked, not fifty that all read « none so far »
(F7's follow-up, a reviewer's). The claim is a failure until the password proves right and
it is withdrawn (`succeeded`): a crash in between leaves one failure counted, never a guess
uncounted. The second factor's codes are claimed the same way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.ports.clock import Clock
from app.ports.sessions import Count, SessionStore

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


@dataclass(frozen=True)
class Attempt:
    """A log-in (or code) that took its place in the counts before its password (or code) is
    checked: a failure, unless `LoginThrottle.succeeded` withdraws it."""

    subjects: tuple[str, ...]
    at: datetime


@dataclass
class LoginThrottle:
    """Whether a log-in may be tried, claimed in the counts shared by every worker through the
    store before its password is checked."""

    store: SessionStore
    clock: Clock
    max_failures: int = MAX_FAILURES
    account_ceiling: int = ACCOUNT_CEILING
    window: timedelta = WINDOW

    def attempt(self, email: str, area: str, place: Place) -> Attempt | Refusal:
        """This place's try at the account's password, counted as a failure for the place and
        the account unless it `succeeded`; or, without counting it, why not and until when.
        Both counts are read and written whether the device is known or not, and whether the
        account exists or not (the same work each time)."""
        now = self.clock.now()
        here, everywhere = place_subject(email, area, place), subject_of(email, area)
        ceiling = None if place.device else self.account_ceiling  # a known browser passes it
        claimed = self.store.claim_attempt(
            (Count(here, self.max_failures), Count(everywhere, ceiling)), now, now - self.window
        )
        if claimed.allowed:
            return Attempt((here, everywhere), now)
        at_place, at_account = claimed.before
        if len(at_place) >= self.max_failures:
            return Refusal(at_place[-self.max_failures] + self.window, account_wide=False)
        return Refusal(at_account[-self.account_ceiling] + self.window, account_wide=True)

    def succeeded(self, attempt: Attempt) -> None:
        """The password (or code) was right: the attempt is no failure."""
        self.store.withdraw_attempt(attempt.subjects, attempt.at)

    # The second factor's codes: asked only after the right password, counted per member.

    def code_attempt(self, who: str, area: str) -> Attempt | None:
        """`who`'s try at a code, counted as a failure unless it `succeeded`; None, without
        counting it, when `who` had `max_failures` failures within the window."""
        now = self.clock.now()
        subject = subject_of(who, area)
        claimed = self.store.claim_attempt(
            (Count(subject, self.max_failures),), now, now - self.window
        )
        return Attempt((subject,), now) if claimed.allowed else None
