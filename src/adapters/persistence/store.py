"""The event store adapter: an eventsourcing Application with a process recorder.

The process recorder keeps reader positions (tracking) in the same database as the events,
so a policy's new events and its position are committed in one transaction: exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate, AggregateEvent
from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    Mapper,
    ProcessRecorder,
    Tracking,
)

from adapters.persistence.msgspec_mapper import MsgspecMapper, MsgspecTranscoder
from adapters.persistence.settings import eventsourcing_env
from app.ports.event_store import AggregateNotFound, ConcurrencyConflict, Recorded
from domain.candidate import Candidate
from domain.enrollment import Enrollment
from domain.exam_attempt import ExamAttempt
from domain.proctored_session import ProctoredSession
from domain.review import Review

A = TypeVar("A", bound=Aggregate)
AGGREGATE_CACHE_SIZE = 20_000

# Long streams (a session's flags, an attempt's answers) start from a snapshot.
SNAPSHOT_INTERVALS: dict[type[Any], int] = {
    ProctoredSession: 100,
    ExamAttempt: 100,
    Review: 50,
    Enrollment: 100,
    Candidate: 100,
}


class VigieApplication(Application[UUID]):
    """The eventsourcing application behind the store (persistence chosen by settings)."""

    name = "Vigie"
    snapshotting_intervals = SNAPSHOT_INTERVALS

    def construct_mapper(self) -> Mapper[UUID]:
        return MsgspecMapper(
            transcoder=MsgspecTranscoder(),
            compressor=self.factory.compressor(),
            cipher=self.factory.cipher(),
        )

    def construct_recorder(self) -> ApplicationRecorder:
        return self.factory.process_recorder()


class EventsourcingStore:
    """EventStore port on eventsourcing: `memory:`, `sqlite:///file` or `postgresql://…`."""

    def __init__(self, database_url: str, extra_env: dict[str, str] | None = None) -> None:
        env = eventsourcing_env(database_url)
        # Aggregates in use (an exam in progress is read at every heartbeat and answer) stay
        # in memory and are fast-forwarded from the store on each read: one small query
        # instead of a replay, and still correct with several processes writing.
        env.setdefault("AGGREGATE_CACHE_MAXSIZE", str(AGGREGATE_CACHE_SIZE))
        env.update(extra_env or {})
        self.database_url = database_url
        self.app = VigieApplication(env=env)
        recorder = self.app.recorder
        assert isinstance(recorder, ProcessRecorder)
        self._recorder: ProcessRecorder = recorder

    def get(self, aggregate_id: UUID, kind: type[A]) -> A:
        try:
            aggregate: Aggregate = self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise AggregateNotFound(aggregate_id, kind.__name__) from None
        if not isinstance(aggregate, kind):
            raise AggregateNotFound(aggregate_id, kind.__name__)
        return aggregate

    def save(self, *aggregates: Aggregate, tracking: tuple[str, int] | None = None) -> int:
        processing = ProcessingEvent[UUID](
            tracking=Tracking(tracking[0], tracking[1]) if tracking else None
        )
        processing.collect_events(*aggregates)
        if not processing.events and tracking is None:
            return 0
        try:
            recordings = self.app._record(processing)
        except IntegrityError as error:
            raise ConcurrencyConflict(str(error)) from error
        self.app._take_snapshots(processing)
        return max((r.notification.id for r in recordings), default=0)

    def history(self, aggregate_id: UUID) -> Sequence[AggregateEvent]:
        return [e for e in self.app.events.get(aggregate_id) if isinstance(e, AggregateEvent)]

    def read(self, after: int, limit: int) -> Sequence[Recorded]:
        notifications = self._recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False
        )
        mapper = self.app.mapper
        recorded = []
        for notification in notifications:
            event = mapper.to_domain_event(notification)
            assert isinstance(event, AggregateEvent)
            recorded.append(Recorded(notification.id, event))
        return recorded

    def head(self) -> int:
        return self._recorder.max_notification_id() or 0

    def position_of(self, reader: str) -> int:
        return self._recorder.max_tracking_id(reader) or 0

    def close(self) -> None:
        self.app.close()
