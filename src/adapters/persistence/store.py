"""The event store adapter: an eventsourcing Application with a process recorder.

The process recorder keeps reader positions (tracking) in the same database as the events,
so a policy's new events and its position are committed in one transaction: exactly once.

Every event it stores carries the hash of the previous event of its stream
(`adapters.persistence.chain`, docs/audit.md): `save` opens a pending chain for the calling
thread, the mapper seals each new event, and the heads are remembered only once the
transaction committed. The audit reads (`AuditLog`) fetch many streams in one query.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from itertools import compress, repeat
from operator import getitem, is_, itemgetter, ne, setitem
from typing import Any, Protocol, TypedDict, TypeVar, cast
from uuid import UUID

import msgspec
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate, AggregateEvent
from eventsourcing.persistence import (
    ApplicationRecorder,
    EventStore,
    IntegrityError,
    InterfaceError,
    Mapper,
    OperationalError,
    ProcessRecorder,
    StoredEvent,
    Tracking,
)
from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import get_topic, retry

from adapters.keys.postgres import PostgresKeyStore
from adapters.persistence.chain import (
    HEADER_BYTES,
    MAGIC,
    HeadCache,
    check_streams,
    is_chained,
    own_hash_of,
    payload_of,
    prev_hash_of,
)
from adapters.persistence.log_pages import Columns, LogPages, columns_of
from adapters.persistence.msgspec_mapper import (
    MsgspecMapper,
    MsgspecTranscoder,
    OneStep,
    UndecodableRow,
)
from adapters.persistence.postgres_recorder import one_at_a_time
from adapters.persistence.quarantine import UNCHAINED_AFTER_CHAIN, ChainStart, QuarantineRegistry
from adapters.persistence.sealing import PageKeys, may_hold_personal, personal_classes
from adapters.persistence.settings import asyncpg_connect, conninfo, eventsourcing_env
from adapters.persistence.unavailable import DATABASE_UNREACHABLE
from adapters.pool_check import check_rested_only
from app import collector
from app.ports.audit_log import ChainReport, StoredRecord
from app.ports.event_store import (
    AggregateNotFound,
    ConcurrencyConflict,
    Quarantine,
    Recorded,
    StreamQuarantined,
    UnreadableEvent,
)
from app.ports.key_store import KeyStore
from app.read_models import SEEN
from domain.enrollment import Enrollment
from domain.exam_attempt import ExamAttempt
from domain.proctored_session import ProctoredSession
from domain.review import Review

A = TypeVar("A", bound=Aggregate)
# PostgreSQL's recorder (a topic: the module is imported only when PostgreSQL is used).
LEAN_RECORDER_TOPIC = "adapters.persistence.postgres_recorder:LeanPostgresProcessRecorder"
Row = tuple[int, UUID | str | bytes, int, str, bytes]  # position, stream, version, topic…
AGGREGATE_CACHE_SIZE = 20_000
STREAM_IDS_KEPT = 50_000  # stream ids remembered by the log's reads (then forgotten at once)
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


class StreamsHeard(Protocol):
    """What a listener heard of the streams' announcements (adapters/log_listener.py)."""

    def mark(self) -> tuple[int, int] | None: ...

    def unchanged_since(self, stream: str, mark: tuple[int, int], seen: int = 0) -> bool: ...


class VigieApplication(Application[UUID]):
    """The eventsourcing application behind the store (persistence chosen by settings)."""

    name = "Vigie"
    snapshotting_intervals = SNAPSHOT_INTERVALS

    def construct_snapshot_store(self) -> EventStore[UUID]:
        # The snapshots' table is created at each opening too: one process at a time.
        factory = self.factory
        if not isinstance(factory, PostgresFactory):
            return super().construct_snapshot_store()
        with one_at_a_time(factory.datastore):
            return super().construct_snapshot_store()

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
        if env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres":
            env.setdefault("PROCESS_RECORDER_TOPIC", LEAN_RECORDER_TOPIC)
        env.update(extra_env or {})
        self.database_url = database_url
        self.app = VigieApplication(env=env)
        recorder = self.app.recorder
        assert isinstance(recorder, ProcessRecorder)
        self._recorder: ProcessRecorder = recorder
        if _backend(recorder) == "eventsourcing.postgres":
            # Its pool pings each connection it hands out (POSTGRES_PRE_PING): only a rested
            # one, as every other pool of the platform (adapters/pool_check.py).
            check_rested_only(cast(Any, recorder).datastore.pool)
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
        # A page's sealed rows open with keys looked up once for the page, a load's with
        # its owner's looked up once for the load (sealing.PageKeys).
        self._page_keys = PageKeys(keys) if keys is not None else None
        mapper.keys = self._page_keys
        self._reader.keys = self._page_keys
        self._quarantine = QuarantineRegistry()
        self._chain_start = ChainStart(
            lambda after, limit: self._recorder.select_notifications(
                start=after, limit=limit, inclusive_of_start=False
            )
        )
        # Streams whose unchained rows were found to be history from before the chain (up to
        # that version): an old store's streams are checked once per process.
        self._pre_chain: dict[UUID, int] = {}
        self._pages = self._log_pages(env, keys)
        self._streams: dict[object, UUID] = {}  # a page's stream ids as plain UUIDs
        self._steps: dict[str, OneStep | None] = {}  # how each topic is read (`_step`)
        # Told after each committed save how many events of each aggregate type it appended
        # (issue 15: the metrics count them here, whichever use case or policy saved).
        self.on_saved: list[Callable[[Mapping[str, int]], None]] = []
        # The last position this process wrote: its own pages read it back at once (issue 15:
        # read-your-writes even before the store's announcement reaches the listener).
        self.last_saved = 0
        # Which streams moved, heard from the store's announcements (web processes on
        # PostgreSQL), and where they stood when each cached aggregate was last read.
        self._streams_heard: StreamsHeard | None = None
        self._fetched_at: dict[UUID, tuple[int, int]] = {}

    def _log_pages(self, env: Mapping[str, str], keys: KeyStore | None) -> LogPages | None:
        """The log's pages through asyncpg on PostgreSQL (None elsewhere: the library's)."""
        recorder: Any = self._recorder
        if _backend(recorder) != "eventsourcing.postgres":
            return None
        # The pages read stream ids with `uuid_send`, which takes a uuid column: the
        # library can keep them as text (ORIGINATOR_ID_TYPE), which Vigie never asks for.
        if recorder.datastore.originator_id_type != "uuid":
            return None
        # Rows the replay decodes in one step come bare (their payload alone); an
        # enrolment's, whose sealed fields go the general way, whole.
        bare = (MAGIC, HEADER_BYTES, sorted(map(get_topic, personal_classes())))
        # With the keys in this database, the enrolments' rows come with their keys.
        beside = keys if isinstance(keys, PostgresKeyStore) else None
        return LogPages(
            asyncpg_connect(env),
            recorder.datastore.schema,
            recorder.events_table_name,
            fallback=self._select_page,
            keys=beside.table_beside(conninfo(env)) if beside is not None else None,
            bare=bare if self._reader.reads_in_one_step() else None,
        )

    def _read_for_chain(self, originator_id: UUID, lte: int | None) -> Sequence[StoredEvent]:
        if lte is None:
            return self._recorder.select_events(originator_id)
        return self._recorder.select_events(originator_id, lte=lte, desc=True, limit=1)

    def watch_streams(self, streams: StreamsHeard) -> None:
        """Announcements of which streams each commit appended to (PostgreSQL's NOTIFY, a web
        process's listener): `held` can then vouch for an aggregate without a query."""
        self._streams_heard = streams

    def held(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        """The aggregate as this process holds it, if it is current as far as the streams'
        announcements tell (nothing appended to it since it was last read here, and every
        announcement up to what the reader wrote heard: `SEEN`); None otherwise. Never asks
        the database: what it gives is to read only, as `get(..., to_read=True)`."""
        streams = self._streams_heard
        fetched = self._fetched_at.get(aggregate_id)
        if streams is None or fetched is None or self._quarantine.get(aggregate_id) is not None:
            return None
        if not streams.unchanged_since(str(aggregate_id), fetched, SEEN.get()):
            return None
        try:
            aggregate = self.app.repository.cache.get(aggregate_id)  # type: ignore[union-attr]
        except (KeyError, AttributeError):
            return None
        return aggregate if isinstance(aggregate, kind) else None

    def get(self, aggregate_id: UUID, kind: type[A], *, to_read: bool = False) -> A:
        self._refuse_quarantined(aggregate_id)
        streams = self._streams_heard
        mark = streams.mark() if streams is not None else None  # before the store is asked
        noted = self._chain.watch_unchained()
        try:
            with self._keys_remembered(aggregate_id):
                aggregate: Aggregate = self.app.repository.get(
                    aggregate_id, deepcopy_from_cache=not to_read
                )
        except AggregateNotFoundError:
            raise AggregateNotFound(aggregate_id, kind.__name__) from None
        except UndecodableRow as error:
            raise self._quarantined(error.stream, error.version, error.problem) from None
        finally:
            self._chain.stop_watching()
        self._check_unchained(noted)
        if not isinstance(aggregate, kind):
            raise AggregateNotFound(aggregate_id, kind.__name__)
        if mark is not None:
            if len(self._fetched_at) >= AGGREGATE_CACHE_SIZE:
                self._fetched_at.clear()
            self._fetched_at[aggregate_id] = mark  # the cached aggregate: current as of then
        return aggregate

    def _keys_remembered(self, owner: UUID) -> contextlib.AbstractContextManager[None]:
        if self._page_keys is None:
            return contextlib.nullcontext()
        return self._page_keys.remembered(owner)

    def get_many(self, aggregate_ids: Sequence[UUID], kind: type[A]) -> dict[UUID, A]:
        for aggregate_id in aggregate_ids:
            self._refuse_quarantined(aggregate_id)
        found: dict[UUID, A] = {}
        current: Any = None
        to_event = self._mapper.to_domain_event  # notes the stream heads: a save may follow
        # Candidates' sealed events open with their keys asked for in one query, where each
        # asked again (a roster of 500 known candidates: over a thousand round trips).
        keys = (
            self._page_keys.prefetched(set(aggregate_ids))
            if self._page_keys is not None and aggregate_ids and may_hold_personal(kind)
            else contextlib.nullcontext()
        )
        with keys:
            for stored in self._stored(aggregate_ids):
                event = self._decoded(stored, to_event)
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
        appended: Counter[str] = Counter()
        for aggregate in aggregates:
            appended[type(aggregate).__name__] += len(aggregate.pending_events)
            # Its copy in the cache misses what is saved now: read from the store next time.
            self._fetched_at.pop(aggregate.id, None)
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
        last = max((r.notification.id for r in recordings), default=0)
        self.last_saved = max(self.last_saved, last)
        self.app._take_snapshots(processing)
        for observer in self.on_saved:
            observer(appended)
        return last

    def history(self, aggregate_id: UUID) -> Sequence[AggregateEvent]:
        self._refuse_quarantined(aggregate_id)
        noted = self._chain.watch_unchained()
        try:
            events = list(self.app.events.get(aggregate_id))
        except UndecodableRow as error:
            raise self._quarantined(error.stream, error.version, error.problem) from None
        finally:
            self._chain.stop_watching()
        self._check_unchained(noted)
        return [e for e in events if isinstance(e, AggregateEvent)]

    def read(self, after: int, limit: int) -> Sequence[Recorded]:
        page = self._page(after, limit)
        if not page.positions:
            return []
        # The collector off while the page is decoded (app/collector.py), not while it is
        # fetched: a wait on the database, or its retries, pauses no other thread's. (Only a
        # page with rows of another kind waits in it, briefly: for their keys, or for the
        # whole state of a row PostgreSQL sent bare.)
        with collector.paused():
            return self._page_decoded(page)

    def _page_decoded(self, page: Columns) -> Sequence[Recorded]:
        """A page of the log, each row decoded into its event (issue 15: a replay decodes
        millions). The rows that are chained and of event types that decode in one typed
        step (`MsgspecMapper.one_step`: a current class version, nothing sealed) are decoded
        column by column, in C (`_decoded_at_once`); the others (an enrolment's sealed
        fields, a row from before the chain) the general way (`_row_event`), each at its
        place; and the whole page row by row if a row does not decode."""
        positions, originator_ids, versions, topics, states, bare, _ = page
        streams = self._page_streams(originator_ids)
        steps = self._page_steps(topics)
        others = _set_apart(steps, states, bare)
        keys = self._keys_of(page.keys, streams, others)
        try:
            # The others' places held by an empty event, each replaced below (cheaper
            # than taking the one-step rows out of each column and putting them back).
            one_steps, payloads = _set_aside(others, steps, _payloads(states, bare))
            recorded = _decoded_at_once(positions, streams, versions, one_steps, payloads)
        except Exception:  # a row that does not decode: row by row, the general way
            whole = self._whole(positions, states, bare)  # names it and quarantines its stream
            with keys:
                return self._decoded_row_by_row(positions, streams, versions, topics, whole, steps)
        whole = self._whole(
            [positions[i] for i in others],
            [states[i] for i in others],
            None if bare is None else [bare[i] for i in others],
        )
        with keys:
            for i, state in zip(others, whole, strict=True):
                event = self._row_event(positions[i], streams[i], versions[i], topics[i], state)
                recorded[i] = Recorded(positions[i], event)
        return recorded

    def _page_streams(self, originator_ids: Sequence[object]) -> list[UUID]:
        """Each row's stream id as a plain UUID, looked up in C (`_stream_of` makes the
        ones new to this process, each once)."""
        try:
            return list(map(self._streams.__getitem__, originator_ids))
        except KeyError:  # streams new to this process (a first replay meets many)
            for originator_id in set(originator_ids).difference(self._streams):
                self._stream_of(originator_id)
        try:
            return list(map(self._streams.__getitem__, originator_ids))
        except KeyError:  # more streams in the page than are kept
            return list(map(self._stream_of, originator_ids))

    def _page_steps(self, topics: Sequence[str]) -> list[OneStep | None]:
        """How each row's topic decodes (`_step`), looked up in C."""
        try:
            return list(map(self._steps.__getitem__, topics))
        except KeyError:  # a topic new to this store
            return [self._steps[t] if t in self._steps else self._step(t) for t in topics]

    def _keys_of(
        self, page_keys: Sequence[bytes | None] | None, streams: Sequence[UUID], rows: list[int]
    ) -> contextlib.AbstractContextManager[None]:
        """The keys of the owners of the rows about to be decoded the general way
        (sealing.PageKeys): as the page brought them (`Columns.keys`), or looked up in one
        query, where each sealed row made its own."""
        if self._page_keys is None or not rows:
            return contextlib.nullcontext()
        owners = {streams[i] for i in rows}
        if page_keys is None:
            return self._page_keys.prefetched(owners)
        # A key comes with each sealed row (none: erased); an owner's other rows bring none.
        brought = {streams[i]: key for i in rows if (key := page_keys[i])}
        return self._page_keys.prefetched(owners, brought)

    def _whole(
        self, positions: Sequence[int], states: Sequence[bytes], bare: Sequence[bool] | None
    ) -> Sequence[bytes]:
        """The rows' whole stored states: a bare row's (its payload alone, log_pages.py) is
        read again whole, for the general way (a topic this process does not read in one
        step, though PostgreSQL sent it bare, or a row that did not decode)."""
        if bare is None or not any(bare):
            return states
        wanted = list(compress(positions, bare))
        again = self._whole_states(wanted)
        if len(again) != len(wanted):  # rows are never deleted: the table was changed by hand
            missing = sorted(set(wanted) - set(again))
            raise OperationalError(f"rows at positions {missing} vanished from the log")
        return [again[p] if b else s for p, s, b in zip(positions, states, bare, strict=True)]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as `_read_page`
    def _whole_states(self, positions: list[int]) -> dict[int, bytes]:
        from psycopg.sql import SQL

        recorder: Any = self._recorder
        statement = SQL(
            "SELECT notification_id, state FROM {} WHERE notification_id = ANY(%s)"
        ).format(self._events_table())
        with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, [positions], prepare=True)
            return {row["notification_id"]: bytes(row["state"]) for row in curs.fetchall()}

    def _events_table(self) -> Any:
        """The events table as a psycopg identifier, schema-qualified (PostgreSQL only)."""
        from psycopg.sql import Identifier

        recorder: Any = self._recorder
        return Identifier(recorder.datastore.schema, recorder.events_table_name)

    def _decoded_row_by_row(
        self,
        positions: Sequence[int],
        streams: Sequence[UUID],
        versions: Sequence[int],
        topics: Sequence[str],
        states: Sequence[bytes],
        steps: Sequence[OneStep | None],
    ) -> list[Recorded]:
        recorded: list[Recorded] = []
        for position, stream, version, topic, state, step in zip(
            positions, streams, versions, topics, states, steps, strict=True
        ):
            if step is not None and state[:MAGIC_BYTES] == MAGIC:
                try:
                    values = step.decoder.decode(state[HEADER_BYTES:])
                    values = _as_dict(values) if step.mirrored else values
                except Exception:  # the general way names the problem and quarantines
                    pass
                else:
                    values["originator_id"] = stream
                    values["originator_version"] = version
                    event = object.__new__(step[0])
                    object.__setattr__(event, "__dict__", values)
                    recorded.append(Recorded(position, event))
                    continue
            recorded.append(
                Recorded(position, self._row_event(position, stream, version, topic, state))
            )
        return recorded

    def _step(self, topic: str) -> OneStep | None:
        """How a topic's rows decode in one step (`MsgspecMapper.one_step`; None: not in
        one step), remembered in a plain dict: the page looks its topics up with `dict.get`,
        in C (issue 15)."""
        step = self._reader.one_step(topic) if self._reader.reads_in_one_step() else None
        self._steps[topic] = step
        return step

    def _stream_of(self, originator_id: object) -> UUID:
        """A row's stream id as a plain `uuid.UUID` (PostgreSQL pages give its 16 bytes,
        SQLite text, the memory store a UUID), remembered: a stream's events come in runs,
        and a UUID is slow to make."""
        known = self._streams.get(originator_id)
        if known is not None:  # an earlier row of this page (a first replay meets many)
            return known
        if len(self._streams) >= STREAM_IDS_KEPT:
            self._streams.clear()
        if isinstance(originator_id, bytes):
            stream = UUID(bytes=originator_id)
        elif type(originator_id) is UUID:
            stream = originator_id
        else:
            stream = UUID(str(originator_id))
        self._streams[originator_id] = stream
        return stream

    def _row_event(
        self, position: int, originator_id: UUID | str, version: int, topic: str, state: bytes
    ) -> AggregateEvent:
        """One row of the log the general way: upcast, unsealed, or unreadable if it does
        not decode or was written unchained after the chain began (never handed over as a
        fact)."""
        try:
            event = self._reader.decode(originator_id, version, topic, state)
        except UndecodableRow as error:
            event = self._unreadable(originator_id, version, error.problem)
        except DATABASE_UNREACHABLE:
            # The key store did not answer (a restart): the row is fine, the reader tries
            # again later; a quarantine would withhold a sound stream from this process.
            raise
        except Exception as error:
            problem = f"{type(error).__name__} decoding {topic!r}"
            event = self._unreadable(originator_id, version, problem)
        else:
            if not is_chained(state) and self._chain_start.written_after(position):
                event = self._unreadable(originator_id, version, UNCHAINED_AFTER_CHAIN)
        assert isinstance(event, AggregateEvent)
        return event

    def _page(self, after: int, limit: int) -> Columns:
        """The log after `after`, as columns: position, stream, version, topic, state. On
        PostgreSQL the next page read ahead through asyncpg (log_pages.py); on SQLite the
        library's query; in memory the library's page, taken out of its dataclasses."""
        if self._pages is not None:
            page: Columns = self._read_page(after, limit)
            return page
        recorder: Any = self._recorder
        if _backend(recorder) == "eventsourcing.sqlite":
            # The library's query, its rows kept as they come (no Notification dataclass).
            query = (
                "SELECT rowid, originator_id, originator_version, topic, state FROM "
                f"{recorder.events_table_name} WHERE rowid > ? ORDER BY rowid LIMIT ?"
            )
            with recorder.datastore.transaction(commit=False) as cursor:
                cursor.execute(query, (after, limit))
                return columns_of(cursor.fetchall())
        return columns_of(
            [
                (n.id, n.originator_id, n.originator_version, n.topic, n.state)
                for n in self._recorder.select_notifications(
                    start=after, limit=limit, inclusive_of_start=False
                )
            ]
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library's
    def _read_page(self, after: int, limit: int) -> Columns:
        assert self._pages is not None
        return self._pages.page(after, limit)

    def _select_page(self, after: int, limit: int) -> Sequence[Row]:
        """A page through the library's psycopg pool, as binary tuples: the first page of
        every read, and any page log_pages.py did not read ahead."""
        from psycopg.rows import tuple_row
        from psycopg.sql import SQL

        recorder: Any = self._recorder
        # The stream id as its 16 bytes, as log_pages.py reads it: bytes are cheaper to
        # look up in `_streams` than a UUID, whose hash is computed in Python.
        statement = SQL(
            "SELECT notification_id, uuid_send(originator_id), originator_version, topic, state "
            "FROM {} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        ).format(self._events_table())
        with (
            recorder.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row, binary=True) as curs,
        ):
            curs.execute(statement, (after, limit), prepare=True)
            rows: list[Row] = curs.fetchall()
            return rows

    def quarantined(self) -> Sequence[Quarantine]:
        return self._quarantine.all()

    def remember_quarantine(self, finding: Quarantine) -> None:
        """A finding read back from the saved read models (issue 15): a process that starts
        from them never reads those rows, yet withholds those streams all the same."""
        self._quarantine.add(finding)

    # --- quarantine (issue 14) -------------------------------------------------------------

    def _quarantined(self, stream: UUID, version: int, problem: str) -> StreamQuarantined:
        return StreamQuarantined(self._quarantine.add(Quarantine(stream, version, problem)))

    def _refuse_quarantined(self, stream: UUID) -> None:
        known = self._quarantine.get(stream)
        if known is not None:
            raise StreamQuarantined(known)

    def _decoded(self, stored: StoredEvent, to_event: Callable[[StoredEvent], Any]) -> Any:
        """One row of a bulk read, decoded; its stream quarantined if it is not a fact."""
        try:
            event = to_event(stored)
        except UndecodableRow as error:
            raise self._quarantined(error.stream, error.version, error.problem) from None
        if not is_chained(stored.state):
            self._check_unchained([(_uuid(stored.originator_id), stored.originator_version)])
        return event

    def _check_unchained(self, noted: Sequence[tuple[UUID, int]]) -> None:
        """Unchained rows just decoded: history from before the chain, or written after it
        began (quarantined). Costs nothing on a healthy store born chained (no such rows)."""
        for stream, version in noted:
            if self._pre_chain.get(stream, 0) >= version:
                continue
            began = self._chain_start.position()
            if began is None:
                return  # no chained event at all: everything is old history
            position = self._positions(stream).get(version)
            if position is not None and position > began:
                raise self._quarantined(stream, version, UNCHAINED_AFTER_CHAIN)
            self._pre_chain[stream] = max(version, self._pre_chain.get(stream, 0))

    def _unreadable(self, originator_id: UUID | str, version: int, problem: str) -> UnreadableEvent:
        """Stands in for a row that is not a fact (it does not decode, or was written
        unchained after the chain began): its stream is quarantined, logged once (the row's
        bytes stay out of the log: they may hold personal data)."""
        stream = _uuid(originator_id)
        self._quarantine.add(Quarantine(stream, version, problem))
        return UnreadableEvent(
            originator_id=stream,
            originator_version=version,
            timestamp=datetime.fromtimestamp(0, UTC),
            problem=problem,
        )

    def _positions(self, stream: UUID) -> dict[int, int]:
        """The log position of each version of one stream (rare: unchained rows only)."""
        recorder: Any = self._recorder
        datastore = getattr(recorder, "datastore", None)
        table = getattr(recorder, "events_table_name", "stored_events")
        module = _backend(recorder)
        if module == "eventsourcing.postgres" and datastore is not None:
            from psycopg.sql import SQL

            statement = SQL(
                "SELECT originator_version, notification_id FROM {} WHERE originator_id = %s"
            ).format(self._events_table())
            with datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(statement, [stream])
                return {
                    int(row["originator_version"]): int(row["notification_id"])
                    for row in curs.fetchall()
                }
        if module == "eventsourcing.sqlite" and datastore is not None:
            query = f"SELECT originator_version, rowid FROM {table} WHERE originator_id = ?"
            with datastore.transaction(commit=False) as cursor:
                cursor.execute(query, [stream.hex])
                return {int(row[0]): int(row[1]) for row in cursor.fetchall()}
        index = getattr(recorder, "_stored_events_index", {}).get(str(stream), {})
        return {int(version): int(i) + 1 for version, i in index.items()}

    def head(self) -> int:
        return self._recorder.max_notification_id() or 0

    def position_of(self, reader: str) -> int:
        return self._recorder.max_tracking_id(reader) or 0

    def close(self) -> None:
        if self._pages is not None:
            self._pages.close()
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
        for stream_id in stream_ids:
            self._refuse_quarantined(stream_id)
        to_event = self._reader.to_domain_event
        found: dict[UUID, list[AggregateEvent]] = {}
        for stored in self._stored(stream_ids):
            event = self._decoded(stored, to_event)
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
        return check_streams(self._all_rows(), progress, decode=self._reader.to_domain_event)

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
        module = _backend(recorder)
        if module == "eventsourcing.postgres" and datastore is not None:
            from psycopg.sql import SQL

            statement = SQL(
                "SELECT originator_id, originator_version, topic, state FROM {} "
                "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
            ).format(self._events_table())
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


def _backend(recorder: Any) -> str:
    """The library module whose recorder this is (`eventsourcing.postgres`, `.sqlite`…),
    whether the store uses it as it is or a subclass of it (postgres_recorder.py)."""
    for cls in type(recorder).__mro__:
        if cls.__module__.startswith("eventsourcing."):
            return cls.__module__
    return type(recorder).__module__


def _set_apart(
    steps: Sequence[OneStep | None], states: Sequence[bytes], bare: Sequence[bool] | None
) -> list[int]:
    """The rows of a page not decoded at once, worked out in C: a row of a topic without a
    step, or one not chained (PostgreSQL's pages send the chained rows bare but for the
    topics read whole)."""
    rows = range(len(states))
    if bare is not None:
        unchained: Iterable[int] = _places(bare, False)
        # Most often the rows without a step (an enrolment's) are among those sent whole.
        if all(steps) or all(compress(steps, bare)):
            return cast(list[int], unchained)
    else:
        # (a page of chained rows: their first bytes joined are the mark repeated, two
        # calls in C, where `bytes.startswith` made a call per row)
        marks = list(map(_cut, states, repeat(_MARK)))
        chained = b"".join(marks) == MAGIC * len(marks)
        unchained = () if chained else compress(rows, map(ne, marks, _MAGICS))
    if all(steps):
        return list(unchained)
    return sorted({*unchained, *compress(rows, map(is_, steps, _NONES))})


def _places(column: Sequence[object], value: object) -> list[int]:
    """Where `value` is in the column, found by `list.index` (in C: a page's few rows sent
    whole among a thousand sent bare, where `compress` made a call per row)."""
    places: list[int] = []
    start = 0
    with contextlib.suppress(ValueError):
        while True:
            start = column.index(value, start) + 1
            places.append(start - 1)
    return places


def _payloads(states: Iterable[bytes], bare: Sequence[bool] | None) -> Iterable[bytes]:
    """Chained rows' payloads: a bare page's states already are (log_pages.py)."""
    return states if bare is not None else map(_cut, states, repeat(_PAYLOAD))


def _set_aside(
    others: Sequence[int], steps: Sequence[OneStep | None], payloads: Iterable[bytes]
) -> tuple[Sequence[OneStep], Iterable[bytes]]:
    """The page's steps and payloads with the rows at `others` (not decoded in one step)
    made empty events, which decode at once with the rest and whose places the caller fills
    (`_page_decoded`)."""
    if not others:
        return cast(Sequence[OneStep], steps), payloads
    held, kept = list(steps), list(payloads)
    for i in others:
        held[i], kept[i] = _SET_ASIDE, b"{}"
    return cast(list[OneStep], held), kept


def _decoded_at_once(
    positions: Sequence[int],
    streams: Sequence[UUID],
    versions: Sequence[int],
    steps: Sequence[OneStep],
    payloads: Iterable[bytes],
) -> list[Recorded]:
    """Chained rows of one-step event types, decoded column by column with `map`, so no
    Python code runs per row (issue 15) but for the rows of a type decoded into a mirror;
    each event as `MsgspecMapper.decode` makes it: its typed values as its `__dict__`,
    then its stream and version. Raises if any row does not decode (the caller then goes
    row by row)."""
    values = list(map(_DECODE, map(_second, steps), payloads))
    for i in compress(range(len(values)), map(_third, steps)):  # mirrors: OneStep
        values[i] = _as_dict(values[i])
    # setitem answers None: any() runs the map to its end. (operator.setitem rather than
    # dict.__setitem__: a builtin function is called without building an argument tuple.)
    any(map(setitem, values, repeat("originator_id"), streams))
    any(map(setitem, values, repeat("originator_version"), versions))
    events = list(map(object.__new__, map(_first, steps)))
    any(map(_SET_DICT, events, values))
    return list(map(Recorded, positions, events))


_as_dict = msgspec.structs.asdict
_DECODE: Callable[[Any, Any], Any] = msgspec.json.Decoder.decode
_PAYLOAD = slice(HEADER_BYTES, None)
_MARK = slice(0, len(MAGIC))
_cut = cast(Callable[[bytes, slice], bytes], getitem)
_MAGICS, _NONES = repeat(MAGIC), repeat(None)


# A row set aside (`_set_aside`): an empty event, decoded from "{}", soon replaced.
class _SetAside(TypedDict):
    pass


_SET_ASIDE = OneStep(AggregateEvent, msgspec.json.Decoder(_SetAside), mirrored=False)
_first, _second, _third = itemgetter(0), itemgetter(1), itemgetter(2)


def _dict_setter(cls: type[Any]) -> Callable[[Any, dict[str, Any]], None]:
    """What `object.__setattr__(event, "__dict__", values)` calls in the end: the `__dict__`
    descriptor of the first class of the events' lineage that has one (eventsourcing's
    `AbstractDecision`), called directly, without looking the name up along each event's
    class lineage (a fifth less time for the object and its `__dict__`). An event that is
    not an instance of that class makes it raise: its page is then read row by row."""
    for klass in cls.__mro__:
        slot = vars(klass).get("__dict__")
        if slot is not None:
            return cast(Callable[[Any, dict[str, Any]], None], slot.__set__)
    raise TypeError(f"{cls.__name__} instances have no __dict__")


_SET_DICT = _dict_setter(AggregateEvent)
MAGIC_BYTES = len(MAGIC)


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))
