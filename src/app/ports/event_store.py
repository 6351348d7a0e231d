"""The event store port: load, save with optimistic concurrency, read the notification log."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate, AggregateEvent

A = TypeVar("A", bound=Aggregate)


class AggregateNotFound(LookupError):
    """No aggregate with that id (of that type) is in the store."""

    def __init__(self, aggregate_id: UUID, kind: str = "aggregate") -> None:
        super().__init__(f"no {kind} with id {aggregate_id}")
        self.aggregate_id = aggregate_id
        self.kind = kind


class ConcurrencyConflict(RuntimeError):
    """Another writer saved the same aggregate first; load again and retry."""


@dataclass(frozen=True)
class Quarantine:
    """A stream the store no longer trusts (issue 14): one of its rows does not decode, or
    was written without the hash chain after the chain began (inserted behind the store's
    back, or its header stripped). `version` is the first such row."""

    stream: UUID
    version: int
    problem: str


class StreamQuarantined(RuntimeError):
    """The aggregate's stream is quarantined: it is not loaded (its pages say so, the rest of
    the platform works); `vigie audit verify-store` names it for the operator."""

    def __init__(self, quarantine: Quarantine) -> None:
        super().__init__(
            f"stream {quarantine.stream} is quarantined from version {quarantine.version}: "
            f"{quarantine.problem}"
        )
        self.quarantine = quarantine


@dataclass(frozen=True)
class UnreadableEvent(AggregateEvent):
    """A stored row that does not decode: corrupt, or forged behind the store's back (issue
    14). `read` hands it over in its place so that readers (read models, policies) step over
    it instead of failing every page that catches up; `vigie audit verify-store` names it."""

    problem: str = ""


class Recorded(msgspec.Struct, frozen=True, gc=False):
    """An event at its place in the application's notification log.

    A replay makes one per event (issue 15): a struct is made in C in less than half the
    time of a named tuple, and `gc=False` keeps it out of the cyclic collector's walks (it
    holds an event, which never refers back to it, so it is never part of a cycle). It
    unpacks as `position, event`, as the named tuple it replaces did."""

    position: int
    event: AggregateEvent

    def __iter__(self) -> Iterator[int | AggregateEvent]:
        return iter((self.position, self.event))


class EventStore(Protocol):
    """Where every fact is kept, in order, for ever."""

    def get(self, aggregate_id: UUID, kind: type[A], *, to_read: bool = False) -> A:
        """The aggregate rebuilt from its events (or snapshot); AggregateNotFound if absent,
        StreamQuarantined if one of its rows does not decode or breaks the chain.
        `to_read`: the caller only reads a few of its fields and changes nothing, so the
        aggregate kept in memory may be handed over as it is, without a copy (the exam
        tab's heartbeat, issue 15); a command always gets its own copy."""
        ...

    def held(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        """The aggregate as this process holds it, without asking the database, if the
        store can vouch that nothing was appended to it since (on PostgreSQL, the commits'
        announcements; a reader's own writes, `SEEN`, heard too); None otherwise, and then
        `get` asks. To read only, as `get(..., to_read=True)` (the exam tab's heartbeat,
        issue 15: three hundred a second at a thousand candidates, answered on the event
        loop)."""
        ...

    def save(self, *aggregates: Aggregate, tracking: tuple[str, int] | None = None) -> int:
        """Record the pending events of all aggregates atomically, with an optional reader
        position (reader name, notification id); returns the last position written, or 0.
        ConcurrencyConflict if a version was taken, or the reader already passed that
        position."""
        ...

    def get_many(self, aggregate_ids: Sequence[UUID], kind: type[A]) -> dict[UUID, A]:
        """The aggregates of that type found among these ids, read in as few queries as the
        store allows (a CSV import looks up thousands of claims); absent ids are left out."""
        ...

    def history(self, aggregate_id: UUID) -> Sequence[AggregateEvent]:
        """Every event of one aggregate, oldest first (empty if unknown)."""
        ...

    def read(self, after: int, limit: int) -> Sequence[Recorded]:
        """Events recorded after that position, oldest first, at most `limit`. A row that
        does not decode comes as an `UnreadableEvent` at its position (never an exception)."""
        ...

    def head(self) -> int:
        """The position of the last recorded event (0 when empty)."""
        ...

    def position_of(self, reader: str) -> int:
        """The last position a reader (policy) recorded (0 when none)."""
        ...

    def quarantined(self) -> Sequence[Quarantine]:
        """The streams this process found quarantined, by loading them or reading the log
        (every process reads the whole log for its read models, so each one knows every row
        that does not decode); oldest finding first."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
