"""One unit of work: the aggregates a use case loads and makes, saved in one transaction, and
retried from scratch when another writer got there first (issue 12).

Uniqueness lives in claim streams (`domain.claims`): two writers staking the same claim both
write version 1 of one stream; the store keeps one, the other gets a conflict, starts again,
and this time finds the claim and uses its holder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from app.context import Context, retrying
from app.ports.event_store import AggregateNotFound, EventStore

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")


class Unit:
    """What one attempt read and changed; found aggregates are read once per attempt."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._seen: dict[UUID, Aggregate | None] = {}
        self._changed: dict[UUID, Aggregate] = {}

    def find(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        """The aggregate as this attempt knows it (its own changes included), or None."""
        if aggregate_id not in self._seen:
            try:
                self._seen[aggregate_id] = self._store.get(aggregate_id, kind)
            except AggregateNotFound:
                self._seen[aggregate_id] = None
        found = self._seen[aggregate_id]
        return found if isinstance(found, kind) else None

    def prefetch(self, aggregate_ids: Iterable[UUID], kind: type[A]) -> list[A]:
        """Read many aggregates at once (absent ones are remembered as absent); returns
        those found."""
        wanted = [i for i in dict.fromkeys(aggregate_ids) if i not in self._seen]
        found = self._store.get_many(wanted, kind) if wanted else {}
        for aggregate_id in wanted:
            self._seen[aggregate_id] = found.get(aggregate_id)
        return list(found.values())

    def add(self, *aggregates: Aggregate) -> None:
        """Aggregates made or changed by this attempt, to be saved with the others."""
        for aggregate in aggregates:
            self._seen[aggregate.id] = aggregate
            self._changed[aggregate.id] = aggregate

    def save(self) -> None:
        """Everything changed, in one transaction (nothing when nothing changed)."""
        if self._changed:
            self._store.save(*self._changed.values())


def in_one_transaction(ctx: Context, decide: Callable[[Unit], R]) -> R:
    """Run `decide` on a fresh unit and save what it changed; on a conflict, decide again
    from what the store holds now (`retrying`'s budget and back-off)."""

    def once() -> R:
        unit = Unit(ctx.store)
        result = decide(unit)
        unit.save()
        return result

    return retrying(once)
