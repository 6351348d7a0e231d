"""The event store adapter: an eventsourcing Application with a process recorder.

The process recorder keeps reader positions (tracking) in the same database as the events,
so a policy's new events and its position are committed in one transaction: exactly once.

Every event it stores carries the hash of the previous event of its stream
(`adapters.persistence.chain`, docs/audit.md): `save` opens a pending chain for the calling
thread, the mapper seals each new event, and the heads are remembered only once the
transaction committed. The audit reads (`AuditLog`) fetch many streams in one query.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate, AggregateEvent
from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    Mapper,
    ProcessRecorder,
    StoredEvent,
    Tracking,
)

from adapters.persistence.chain import (
    HeadCache,
    check_streams,
    is_chained,
    own_hash_of,
    payload_of,
    prev_hash_of,
)
from adapters.persistence.msgspec_mapper import MsgspecMapper, MsgspecTranscoder
from adapters.persistence.settings import eventsourcing_env
from app.ports.audit_log import ChainReport, StoredRecord
from app.ports.event_store import (
    AggregateNotFound,
    ConcurrencyConflict,
    Recorded,
    UnreadableEvent,
)
from app.ports.key_store import KeyStore
from domain.enrollment import Enrollment
from domain.exam_attempt import ExamAttempt
from domain.proctored_session import ProctoredSession
from domain.review import Review

_log = logging.getLogger("vigie.store")

A = TypeVar("A", bound=Aggregate)
AGGREGATE_CACHE_SIZE = 20_000
STREAMS_PER_QUERY = 500  # SQLite binds at most 32,766 parameters; keep queries small anyway
DECIDED_TOPIC = f"{Review.__module__}:{Review.ReviewDecided.__qualname__}"
# An appeal's decision changes the final verdict: a resumed audit replays the review again.
APPEAL_DECIDED_TOPIC = f"{Review.__module__}:{Review.AppealDecided.__qualname__}"

# Long streams (a session's flags, an attempt's answers) start from a snapshot.
SNAPSHOT_INTERVALS: dict[type[Any], int] = {
    ProctoredSession: 100,
    ExamAttempt: 100,
    Review: 50,
    Enrollment: 100,
    # Not Candidate: a snapshot would hold its personal data outside the sealed fields, and its
    # stream is short (sealing.py).
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

    def __init__(
        self,
        database_url: str,
        extra_env: dict[str, str] | None = None,
        keys: KeyStore | None = None,
    ) -> None:
        """With `keys`, personal fields are sealed with their owner's key (erasure, issue 8);
        without, they are stored as given (tools and tests that never see personal data)."""
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
        mapper = self.app.mapper
        assert isinstance(mapper, MsgspecMapper)
        self._mapper = mapper
        self._chain = HeadCache(self._read_for_chain)
        mapper.chain = self._chain
        # Bulk reads (the log, the audit) decode without noting stream heads: only loads are
        # followed by saves.
        self._reader = MsgspecMapper(
            transcoder=mapper.transcoder, compressor=mapper.compressor, cipher=mapper.cipher
        )
        mapper.keys = self._reader.keys = keys

    def _read_for_chain(self, originator_id: UUID, lte: int | None) -> Sequence[StoredEvent]:
        if lte is None:
            return self._recorder.select_events(originator_id)
        return self._recorder.select_events(originator_id, lte=lte, desc=True, limit=1)

    def get(self, aggregate_id: UUID, kind: type[A]) -> A:
        try:
            aggregate: Aggregate = self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise AggregateNotFound(aggregate_id, kind.__name__) from None
        if not isinstance(aggregate, kind):
            raise AggregateNotFound(aggregate_id, kind.__name__)
        return aggregate

    def get_many(self, aggregate_ids: Sequence[UUID], kind: type[A]) -> dict[UUID, A]:
        found: dict[UUID, A] = {}
        current: Any = None
        to_event = self._mapper.to_domain_event  # notes the stream heads: a save may follow
        for stored in self._stored(aggregate_ids):
            event = to_event(stored)
            assert isinstance(event, AggregateEvent)
            if event.originator_version == 1:
                current = None
            current = event.mutate(current)
            if isinstance(current, kind):
                found[current.id] = current
        return found

    def save(self, *aggregates: Aggregate, tracking: tuple[str, int] | None = None) -> int:
        processing = ProcessingEvent[UUID](
            tracking=Tracking(tracking[0], tracking[1]) if tracking else None
        )
        processing.collect_events(*aggregates)
        if not processing.events and tracking is None:
            return 0
        self._chain.begin()
        try:
            recordings = self.app._record(processing)
        except IntegrityError as error:
            self._chain.abort()
            raise ConcurrencyConflict(str(error)) from error
        except BaseException:
            self._chain.abort()
            raise
        self._chain.commit()
        self.app._take_snapshots(processing)
        return max((r.notification.id for r in recordings), default=0)

    def history(self, aggregate_id: UUID) -> Sequence[AggregateEvent]:
        return [e for e in self.app.events.get(aggregate_id) if isinstance(e, AggregateEvent)]

    def read(self, after: int, limit: int) -> Sequence[Recorded]:
        notifications = self._recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False
        )
        mapper = self._reader
        recorded = []
        for notification in notifications:
            try:
                event = mapper.to_domain_event(notification)
            except Exception as error:
                event = _unreadable(notification, error)
            assert isinstance(event, AggregateEvent)
            recorded.append(Recorded(notification.id, event))
        return recorded

    def head(self) -> int:
        return self._recorder.max_notification_id() or 0

    def position_of(self, reader: str) -> int:
        return self._recorder.max_tracking_id(reader) or 0

    def close(self) -> None:
        self.app.close()

    # --- AuditLog --------------------------------------------------------------------------

    def decided_reviews(self, after: int, limit: int) -> Sequence[tuple[int, UUID]]:
        rows = self._recorder.select_notifications(
            start=after,
            limit=limit,
            topics=[DECIDED_TOPIC, APPEAL_DECIDED_TOPIC],
            inclusive_of_start=False,
        )
        return [(row.id, _uuid(row.originator_id)) for row in rows]

    def histories(self, stream_ids: Sequence[UUID]) -> Mapping[UUID, Sequence[AggregateEvent]]:
        to_event = self._reader.to_domain_event
        found: dict[UUID, list[AggregateEvent]] = {}
        for stored in self._stored(stream_ids):
            event = to_event(stored)
            assert isinstance(event, AggregateEvent)
            found.setdefault(event.originator_id, []).append(event)
        return found

    def records(self, stream_ids: Sequence[UUID]) -> Mapping[UUID, Sequence[StoredRecord]]:
        found: dict[UUID, list[StoredRecord]] = {}
        for stored in self._stored(stream_ids):
            state = bytes(stored.state)
            chained = is_chained(state)
            stream = _uuid(stored.originator_id)
            found.setdefault(stream, []).append(
                StoredRecord(
                    stream=stream,
                    version=stored.originator_version,
                    topic=stored.topic,
                    payload=bytes(payload_of(state)),
                    chain_hash=own_hash_of(state).hex() if chained else None,
                    prev_hash=prev_hash_of(state).hex() if chained else None,
                )
            )
        return found

    def verify_chain(self, progress: Callable[[int], None] | None = None) -> ChainReport:
        return check_streams(self._all_rows(), progress)

    def _all_rows(self, page: int = 5000) -> Iterator[StoredEvent]:
        after = 0
        while rows := self._recorder.select_notifications(
            start=after, limit=page, inclusive_of_start=False
        ):
            yield from rows
            after = rows[-1].id

    def _stored(self, stream_ids: Sequence[UUID]) -> Iterator[StoredEvent]:
        """The streams' stored events, grouped by stream, each oldest first."""
        ids = list(dict.fromkeys(stream_ids))
        for start in range(0, len(ids), STREAMS_PER_QUERY):
            yield from self._select_streams(ids[start : start + STREAMS_PER_QUERY])

    def _select_streams(self, ids: list[UUID]) -> Sequence[StoredEvent]:
        recorder: Any = self._recorder
        datastore = getattr(recorder, "datastore", None)
        table = getattr(recorder, "events_table_name", "stored_events")
        module = type(recorder).__module__
        if module == "eventsourcing.postgres" and datastore is not None:
            from psycopg.sql import SQL, Identifier

            statement = SQL(
                "SELECT originator_id, originator_version, topic, state FROM {schema}.{table} "
                "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
            ).format(schema=Identifier(datastore.schema), table=Identifier(table))
            with datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(statement, [ids], prepare=True)
                return [
                    StoredEvent(
                        originator_id=row["originator_id"],
                        originator_version=row["originator_version"],
                        topic=row["topic"],
                        state=bytes(row["state"]),
                    )
                    for row in curs.fetchall()
                ]
        if module == "eventsourcing.sqlite" and datastore is not None:
            query = (
                "SELECT originator_id, originator_version, topic, state FROM "
                f"{table} WHERE originator_id IN ({','.join('?' * len(ids))}) "
                "ORDER BY originator_id, originator_version"
            )
            by_hex = {i.hex: i for i in ids}
            with datastore.transaction(commit=False) as cursor:
                cursor.execute(query, list(by_hex))
                return [
                    StoredEvent(by_hex[row[0]], row[1], row[2], row[3]) for row in cursor.fetchall()
                ]
        return [stored for i in ids for stored in self._recorder.select_events(i)]


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _unreadable(stored: StoredEvent, error: Exception) -> UnreadableEvent:
    """Stands in for a row that does not decode, logged once per read with where it is (the
    row's bytes stay out of the log: they may hold personal data)."""
    problem = f"{type(error).__name__} decoding {stored.topic!r}"
    _log.error(
        "unreadable stored event %s v%s: %s (run `vigie audit verify-store`)",
        stored.originator_id,
        stored.originator_version,
        problem,
    )
    return UnreadableEvent(
        originator_id=_uuid(stored.originator_id),
        originator_version=stored.originator_version,
        timestamp=datetime.fromtimestamp(0, UTC),
        problem=problem,
    )
