"""Parked reactions (issue 12): an operator's retry, carried out once by a worker, and the
list operators read (the operator page, `vigie policies parked`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.domain import Aggregate

from app.context import Context, update
from app.ports.event_store import ConcurrencyConflict, EventStore, Recorded
from domain.parked_reaction import ParkedReaction, ParkedStatus

if TYPE_CHECKING:
    from app.policies import Policy

BATCH = 500
LOG = logging.getLogger("vigie.policies")


@dataclass
class RetryParkedReactions:
    """Carries out an operator's retry of a parked reaction: the original policy reacts to
    the original event again; its aggregates and 'resolved' are saved in one transaction (the
    parked stream's version makes it once), or the new failure parks it again."""

    policies: Sequence[Policy]
    name: str = "retry-parked-reactions"
    # The retried reaction may call a launcher: one runner carries each retry out.
    claims_before_reacting: bool = True

    def wants(self, recorded: Recorded) -> bool:
        return isinstance(recorded.event, ParkedReaction.RetryRequested)

    def react(self, ctx: Context, recorded: Recorded) -> Sequence[Aggregate]:
        parked = ctx.store.get(recorded.event.originator_id, ParkedReaction)
        if parked.status is not ParkedStatus.RETRY_REQUESTED:
            return []
        policy = next((p for p in self.policies if p.name == parked.policy), None)
        original = ctx.store.read(parked.position - 1, 1)
        try:
            if policy is None:
                raise LookupError(f"no policy named {parked.policy!r} runs here")
            if not original or original[0].position != parked.position:
                raise LookupError(f"no event at position {parked.position}")
            aggregates = list(policy.react(ctx, original[0]))
        except ConcurrencyConflict:
            raise
        except Exception as error:
            LOG.warning("retry of %s failed", parked.id, exc_info=True)
            parked.retry_failed(error=f"{type(error).__name__}: {error}", at=ctx.now())
            return [parked]
        parked.resolve(at=ctx.now())
        return [*aggregates, parked]


def request_retry(ctx: Context, parked_reaction_id: UUID, *, by: str) -> None:
    """An operator asks for a parked reaction to be tried again; a worker does it."""
    at = ctx.now()
    update(ctx, parked_reaction_id, ParkedReaction, lambda p: p.request_retry(by=by, at=at))


@dataclass(frozen=True)
class ParkedSummary:
    """A parked reaction as operators list it."""

    parked_id: UUID
    policy: str
    position: int
    cause: str
    event_type: str
    error: str
    tries: int
    status: ParkedStatus
    parked_at: datetime


@dataclass
class ParkedReactions:
    """The parked reactions, from the log (read when an operator asks, then kept up)."""

    position: int = 0
    by_id: dict[UUID, ParkedSummary] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def catch_up(self, store: EventStore) -> list[ParkedSummary]:
        """Everything not resolved, oldest first."""
        with self._lock:
            while page := store.read(self.position, BATCH):
                for recorded in page:
                    self._apply(recorded)
                self.position = page[-1].position
            waiting = [p for p in self.by_id.values() if p.status is not ParkedStatus.RESOLVED]
        return sorted(waiting, key=lambda p: p.position)

    def apply_page(self, page: Sequence[Recorded]) -> None:
        """Fold a page of the log read by someone else (the read models' keeper reads it
        once for both): those already applied are skipped."""
        with self._lock:
            for recorded in page:
                if recorded.position > self.position:
                    self._apply(recorded)
                    self.position = recorded.position

    def _apply(self, recorded: Recorded) -> None:
        event = recorded.event
        if not isinstance(event, ParkedReaction.Event):
            return
        if isinstance(event, ParkedReaction.ReactionParked):
            self.by_id[event.originator_id] = ParkedSummary(
                event.originator_id,
                event.policy,
                event.position,
                event.cause,
                event.event_type,
                event.error,
                event.tries,
                ParkedStatus.PARKED,
                event.timestamp,
            )
            return
        known = self.by_id.get(event.originator_id)
        if known is None:
            return
        if isinstance(event, ParkedReaction.RetryRequested):
            known = replace(known, status=ParkedStatus.RETRY_REQUESTED)
        elif isinstance(event, ParkedReaction.RetryFailed):
            known = replace(
                known, status=ParkedStatus.PARKED, error=event.error, tries=known.tries + 1
            )
        elif isinstance(event, ParkedReaction.ReactionResolved):
            known = replace(known, status=ParkedStatus.RESOLVED)
        self.by_id[event.originator_id] = known
