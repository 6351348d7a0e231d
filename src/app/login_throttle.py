"""Failed log-ins counted per account as well as per address (issue 14: 25 wrong passwords
for one account from 25 addresses were all tried).

The account is named by the e-mail typed, hashed: an address nobody registered is counted
and refused exactly like a registered one, so the limit tells nothing about who has an
account; and the e-mail itself is never written down. The limit is a sliding window, never a
lock: ten failures in fifteen minutes, and the account opens again as they age.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from app.ports.clock import Clock
from app.ports.sessions import SessionStore

MAX_FAILURES = 10
WINDOW = timedelta(minutes=15)


def subject_of(email: str, area: str) -> str:
    """The account's name in the counts: the normalised e-mail, hashed, per log-in form
    (a candidate and a staff member may share an address)."""
    return hashlib.sha256(f"{area}:{email.strip().lower()}".encode()).hexdigest()


@dataclass
class LoginThrottle:
    """Whether an account may try again, and the record of a failure; shared by every worker
    through the store."""

    store: SessionStore
    clock: Clock
    max_failures: int = MAX_FAILURES
    window: timedelta = WINDOW

    def allows(self, email: str, area: str) -> bool:
        """False when the account had `max_failures` failed log-ins within the window."""
        since = self.clock.now() - self.window
        return self.store.failures_since(subject_of(email, area), since) < self.max_failures

    def failed(self, email: str, area: str) -> None:
        self.store.record_failure(subject_of(email, area), self.clock.now())
