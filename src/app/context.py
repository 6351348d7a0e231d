"""What every use case needs: the ports, the catalogue, the local time zone, and the one
load → decide → save loop that retries when another writer saved first (issue 12)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate

from app.catalogue import Catalogue
from app.ports.clock import Clock
from app.ports.event_store import ConcurrencyConflict, EventStore
from app.ports.exam_launcher import ExamLauncher
from app.ports.ids import Ids
from app.ports.mailer import Mailer
from app.ports.media_capture import MediaCapture
from app.ports.sessions import SessionStore
from app.time_format import TimeFormatter
from domain.internal_network import NONE_ALLOWED, AllowedNetworks

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")

# Twelve tries with full-jitter back-off (at most ~1.6 s of waiting in all, ~0.8 s on
# average): writers on one aggregate (four tabs answering one exam, two clicks on « Créer ma
# session ») each get a turn even on a busy 2-core machine, where eight tries ran out once in
# a few hundred answers; a conflict that outlives the budget is reported (HTTP 409), never a
# 500.
RETRIES = 12
FIRST_WAIT_S = 0.005
LONGEST_WAIT_S = 0.25


class StillContended(ConcurrencyConflict):
    """Other writers saved first at every try: the person is asked to try again."""


@dataclass
class Context:
    """The ports a use case works with, wired by the composition root."""

    store: EventStore
    clock: Clock
    ids: Ids
    catalogue: Catalogue
    mailer: Mailer
    launcher: ExamLauncher
    media: MediaCapture
    time_zone: str = "Europe/Paris"
    # Where the web sessions are kept (issue 14), so a password change ends them; None where
    # no web session exists (a benchmark, a command-line tool without the web platform).
    sessions: SessionStore | None = None
    # The internal networks and hosts a centre's webhook may point at
    # (VIGIE_WEBHOOK_ALLOWED_NETWORKS): none by default.
    webhook_allowed: AllowedNetworks = NONE_ALLOWED

    def now(self) -> datetime:
        """Now, in the centre's and candidate's time zone: deadlines read the local day."""
        return self.local(self.clock.now())

    def local(self, instant: datetime) -> datetime:
        """An instant of the one clock, in the centre's zone: how every fact is stored, whether
        a use case read the clock or an adapter (the live recorder) did."""
        return instant.astimezone(ZoneInfo(self.time_zone))

    @property
    def times(self) -> TimeFormatter:
        """The one formatter of times for people (pages, mails, exports, the CLI)."""
        return TimeFormatter(self.time_zone)


def backoff(attempt: int, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before try `attempt + 1`: full jitter over a doubling cap, so writers
    that collided once do not collide again in step."""
    return rand() * min(LONGEST_WAIT_S, FIRST_WAIT_S * (1 << attempt))


def retrying(
    once: Callable[[], R], *, tries: int = RETRIES, sleep: Callable[[float], None] = time.sleep
) -> R:
    """Run `once` (load → decide → save) again while the store reports a conflict: each
    try decides from fresh state. StillContended after `tries` conflicts."""
    for attempt in range(tries):
        try:
            return once()
        except ConcurrencyConflict as conflict:
            if attempt == tries - 1:
                raise StillContended(f"still conflicting after {tries} tries: {conflict}") from None
        sleep(backoff(attempt))
    raise AssertionError("unreachable")


def update(ctx: Context, aggregate_id: UUID, kind: type[A], command: Callable[[A], R]) -> R:
    """Load → decide → save one aggregate, retried when another writer saved it first."""

    def once() -> R:
        aggregate = ctx.store.get(aggregate_id, kind)
        result = command(aggregate)
        ctx.store.save(aggregate)
        return result

    return retrying(once)
