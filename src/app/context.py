"""What every use case needs: the ports, the catalogue and the local time zone."""

from __future__ import annotations

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
from app.time_format import TimeFormatter

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")

RETRIES = 3


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


def update(ctx: Context, aggregate_id: UUID, kind: type[A], command: Callable[[A], R]) -> R:
    """Load → decide → save, retried when another writer saved the aggregate first."""
    for attempt in range(RETRIES):
        aggregate = ctx.store.get(aggregate_id, kind)
        result = command(aggregate)
        try:
            ctx.store.save(aggregate)
        except ConcurrencyConflict:
            if attempt == RETRIES - 1:
                raise
            continue
        return result
    raise AssertionError("unreachable")
