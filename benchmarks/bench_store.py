"""Event store benchmark: Vigie's store on SQLite and PostgreSQL against raw drivers, one run.

Run: .venv/bin/python -m benchmarks.bench_store [--events N] [--quick] [--profile]

Phases, on each backend (a temp SQLite file, then a throwaway PostgreSQL schema):
  1. write a log of --events events through `EventsourcingStore.save`, ~10 events per save
     (only the saves are timed), and in turns with those saves; each session's candidate is
     registered first (untimed), so that, as in a real log, one row in 51 has personal
     fields and is decoded the general way
  2. the raw reference: a plain table with rows of the store's average event size (that of
     the log's first tenth, written alone first), inserted in the same batches of 10 rows
     per transaction (asyncpg / stdlib sqlite3), one batch every few saves until
     20,000 rows are in (the rest of the table is then bulk-loaded for the reads);
  3. the whole log read back in pages of 1000 and 5000, three times each, in turns: the raw
     table's rows (asyncpg / sqlite3), then `store.read(after, limit)` decoding every event
     into its domain event; the best of each (a busy machine only ever adds time), by the
     clock (the figures) and by this process's CPU time (how much of a busy machine each
     asks for: both read in this one thread). The store replays with Python's garbage
     collector paused, as the product replays its log (`app.collector.paused`, in
     `Projections.catch_up` and the read models' rebuild); the raw table is read both as
     issue 15 defines its reference (a plain asyncpg paged read, the collector as Python
     leaves it) and, stricter, with the collector paused too;
  4. load–decide–save commands through `app.context.update` on --sessions sessions.
The figures are printed as a table and written to benchmarks/results/store-<timestamp>.json.
Nothing is asserted: the replay target is reported as PASS or BELOW.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import hashlib
import io
import os
import pstats
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import psycopg
from psycopg import sql

from adapters.clock import ManualClock
from adapters.ids import SeededIds
from adapters.keys.files import FileKeyStore
from adapters.keys.postgres import PostgresKeyStore
from adapters.launcher.memory import MemoryLauncher
from adapters.mail.memory import MemoryMailer
from adapters.media.memory import MemoryMedia
from adapters.persistence.store import EventsourcingStore
from app import collector
from app.catalogue import default_catalogue
from app.context import Context, update
from app.ports.key_store import KeyStore
from benchmarks.harness import (
    POSTGRES_SERVER,
    Progress,
    arguments,
    command_line,
    figure_line,
    finish_facts,
    machine_facts,
    packages_text,
    percentile,
    postgres_settings,
    postgres_text,
    print_machine,
    settle_disk,
    sqlite_text,
    thousands,
    throwaway_schema,
    verdict,
    write_summary,
)
from domain.candidate import Candidate
from domain.evidence import FlagKind, MediaSpan
from domain.proctored_session import EnvironmentPart, ProctoredSession
from domain.rules import CURRENT_RULES

RAW_TABLE = "bench_raw"
BATCH = 10
PAGE_SIZES = (1000, 5000)
REPEATS = 5  # best of five: at three, a run on a noisy machine saw its two raw reads 40 % apart
REPLAY_TARGET = 30_000  # events/s
RATIO_TARGET = 0.5  # issue 15: replay and writes at least half their raw reference
TIME_ZONE = ZoneInfo("Europe/Paris")
START = datetime(2025, 3, 17, 9, 0, tzinfo=TIME_ZONE)
FLAG_KINDS = tuple(FlagKind)


# --- small helpers -----------------------------------------------------------------------


def media(session_id: uuid.UUID, kind: str) -> tuple[str, str]:
    """A media id and content hash shaped like the media adapter's."""
    digest = hashlib.sha256(session_id.bytes + kind.encode()).hexdigest()
    return f"{session_id}/{kind}-{digest[:16]}", f"sha256:{digest}"


# --- the domain workload -----------------------------------------------------------------

SessionCommand = Callable[[ProctoredSession, datetime, SeededIds], object]


def _take_face(s: ProctoredSession, at: datetime, _: SeededIds) -> None:
    media_id, content_hash = media(s.id, "face-photo")
    s.take_face_photo(at=at, media_id=media_id, content_hash=content_hash)


def _take_id(s: ProctoredSession, at: datetime, _: SeededIds) -> None:
    media_id, content_hash = media(s.id, "id-photo")
    s.take_id_photo(at=at, media_id=media_id, content_hash=content_hash)


def _start_part(part: EnvironmentPart) -> SessionCommand:
    def command(s: ProctoredSession, at: datetime, _: SeededIds) -> None:
        s.start_environment_recording(at=at, part=part, media_id=f"{s.id}/environment-{part}")

    return command


def _stop_part(part: EnvironmentPart) -> SessionCommand:
    def command(s: ProctoredSession, at: datetime, ids: SeededIds) -> None:
        _, content_hash = media(s.id, f"environment-{part}")
        attempt_id = ids.new_id() if part is EnvironmentPart.DESK else None
        s.stop_environment_recording(
            at=at,
            part=part,
            content_hash=content_hash,
            duration_s=30.0,
            attempt_id=attempt_id,
        )

    return command


# The guide's journey, one command per candidate action (the desk stop also launches the exam).
JOURNEY: tuple[SessionCommand, ...] = (
    lambda s, at, _: s.enter(at=at, terms_accepted=True),
    lambda s, at, _: s.read_instructions(at=at),
    lambda s, at, _: s.attest_designer_rules(at=at),
    lambda s, at, _: s.acknowledge_secure_mode(at=at),
    lambda s, at, _: s.attest_general_conditions(at=at),
    lambda s, at, _: s.confirm_sound_heard(at=at),
    lambda s, at, _: s.start_microphone_recording(at=at),
    lambda s, at, _: s.stop_microphone_recording(at=at),
    lambda s, at, _: s.check_camera(at=at, working=True),
    lambda s, at, _: s.record_connection_test(
        at=at, round_trip_ms=42.5, upload_kbps=2350.0, passed=True
    ),
    _take_face,
    lambda s, at, _: s.confirm_face_photo(at=at),
    _take_id,
    lambda s, at, _: s.confirm_id_photo(at=at),
    _start_part(EnvironmentPart.EARS),
    _stop_part(EnvironmentPart.EARS),
    _start_part(EnvironmentPart.ROOM),
    _stop_part(EnvironmentPart.ROOM),
    _start_part(EnvironmentPart.DESK),
    _stop_part(EnvironmentPart.DESK),
)


def raise_flag(s: ProctoredSession, at: datetime, ids: SeededIds) -> None:
    """A detector's flag once the exam runs: the bulk of a long session's stream."""
    n = len(s.flag_ids)
    start = s.media_offset(at)
    s.raise_flag(
        at=at,
        flag_id=f"{FLAG_KINDS[n % len(FLAG_KINDS)]}-{ids.new_id().hex[:12]}",
        kind=FLAG_KINDS[n % len(FLAG_KINDS)],
        span=MediaSpan(start, start + 4.5),
        confidence=0.5 + (n % 50) / 100,
    )


def decision(
    command: SessionCommand, at: datetime, ids: SeededIds
) -> Callable[[ProctoredSession], object]:
    """The `decide` step that `update()` runs on the freshly loaded session."""
    return lambda session: command(session, at, ids)


def command_number(k: int) -> SessionCommand:
    """The k-th command a session receives: the journey, then flags."""
    return JOURNEY[k] if k < len(JOURNEY) else raise_flag


def register_candidate(ids: SeededIds, at: datetime) -> Candidate:
    """The session's candidate, enrolled first: a real log's pages mix in such events, whose
    personal fields are decoded the general way (one row in 51 here)."""
    return Candidate.register(
        candidate_id=ids.new_id(),
        email=f"candidate-{at:%Y%m%d%H%M%S}@example.org",
        surname="Martin",
        first_name="Léa",
        at=at,
    )


def open_session(ids: SeededIds, at: datetime, candidate_id: uuid.UUID) -> ProctoredSession:
    return ProctoredSession.open(
        session_id=ids.new_id(),
        enrollment_id=ids.new_id(),
        candidate_id=candidate_id,
        certification_code="ENI-ACCESS",
        exam_duration_minutes=90,
        rules=CURRENT_RULES,
        live_supervision=False,
        at=at,
    )


# --- phases on the Vigie store -----------------------------------------------------------


@dataclass
class WriteResult:
    events: int
    saves: int
    seconds: float

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds


@dataclass
class ReplayResult:
    page_size: int
    events: int
    seconds: float  # the best of the runs: other load on the machine only ever adds time
    runs: list[float]
    cpu_seconds: float  # this process's CPU time, best of the runs (steadier under load)

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds

    @property
    def cpu_us_per_event(self) -> float:
        return self.cpu_seconds / self.events * 1e6


@dataclass
class CommandResult:
    sessions: int
    commands: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float

    @property
    def commands_per_s(self) -> float:
        return self.commands / self.seconds


EVENTS_PER_SESSION = 50  # the journey's 22 events, then flags


def write_log(
    store: EventsourcingStore,
    total: int,
    label: str,
    after_save: Callable[[int], None] = lambda _written: None,
) -> WriteResult:
    """Sessions of 50 events kept in memory and saved every ~10 new events (one transaction
    each), so the timing is the store's write path rather than loading. `after_save(written)`
    runs after each save, untimed here (the raw reference's inserts, in turns). Each session's
    candidate is registered first, in a save of its own that is not timed (the figure is
    of saves of 10 events, as the raw reference commits 10 rows)."""
    ids = SeededIds(7)
    settle_disk()
    progress = Progress(f"{label} write log", total)
    written = saves = timed = 0
    elapsed = 0.0
    at = START
    while written < total:
        candidate = register_candidate(ids, at)
        store.save(candidate)
        written += 1
        session = open_session(ids, at, candidate.id)
        saved_version = 0
        k = 0
        while written + session.version - saved_version < total:
            if session.version >= EVENTS_PER_SESSION:
                break
            at += timedelta(seconds=1)
            command_number(k)(session, at, ids)
            k += 1
            if session.version - saved_version >= BATCH:
                elapsed += _timed_save(store, session)
                written += session.version - saved_version
                timed += session.version - saved_version
                saved_version = session.version
                saves += 1
                progress.update(written)
                after_save(written)
        if session.version > saved_version:
            elapsed += _timed_save(store, session)
            written += session.version - saved_version
            timed += session.version - saved_version
            saves += 1
            progress.update(written)
            after_save(written)
    return WriteResult(timed, saves, elapsed)


def _timed_save(store: EventsourcingStore, session: ProctoredSession) -> float:
    started = time.perf_counter()
    store.save(session)
    return time.perf_counter() - started


def replay_once(store: EventsourcingStore, page_size: int, label: str) -> tuple[int, float, float]:
    """The whole log, page by page, each event decoded (what a projection rebuild costs):
    (events, seconds, CPU seconds of this process)."""
    total = store.head()
    progress = Progress(label, total)
    after = count = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    with collector.Replaying() as replay:  # as Projections.catch_up replays
        while page := store.read(after, page_size):
            replay.page(len(page), page_size)
            count += len(page)
            after = page[-1].position
            progress.update(count)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if count != total:
        raise RuntimeError(f"replay read {count} events, the log holds {total}")
    return count, seconds, cpu


def run_commands(
    store: EventsourcingStore, sessions: int, commands: int, label: str
) -> CommandResult:
    """Round-robin over the sessions, so each load rebuilds a stream that keeps growing
    (22 journey events, then one flag per command) as it would in a real exam."""
    ids = SeededIds(11)
    clock = ManualClock(START)
    ctx = Context(
        store=store,
        clock=clock,
        ids=ids,
        catalogue=default_catalogue(),
        mailer=MemoryMailer(),
        launcher=MemoryLauncher(),
        media=MemoryMedia(),
    )
    session_ids = []
    for _ in range(sessions):
        session = open_session(ids, ctx.now(), ids.new_id())
        store.save(session)
        session_ids.append(session.id)

    progress = Progress(f"{label} commands", commands)
    latencies: list[float] = []
    issued = [0] * sessions
    started = time.perf_counter()
    for n in range(commands):
        i = n % sessions
        command = command_number(issued[i])
        # A tenth of a second per command keeps every journey inside the 3-hour budget (R4).
        clock.advance(seconds=0.1)
        at = ctx.now()
        t0 = time.perf_counter()
        update(ctx, session_ids[i], ProctoredSession, decision(command, at, ids))
        latencies.append(time.perf_counter() - t0)
        issued[i] += 1
        progress.update(n + 1)
    seconds = time.perf_counter() - started
    latencies.sort()
    return CommandResult(
        sessions=sessions,
        commands=commands,
        seconds=seconds,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        max_ms=latencies[-1] * 1000,
    )


# --- raw references ----------------------------------------------------------------------


@dataclass
class RawResult:
    rows: int
    row_bytes: int
    timed_insert_rows: int
    insert_seconds: float
    read_seconds: dict[int, float]  # best of REPEATS per page size (the collector on)
    read_cpu_seconds: dict[int, float]  # this process's CPU time, best of REPEATS
    paused_read_seconds: dict[int, float]  # the same with the collector paused
    paused_read_cpu_seconds: dict[int, float]

    @property
    def insert_rows_per_s(self) -> float:
        return self.timed_insert_rows / self.insert_seconds

    def read_rows_per_s(self, page_size: int) -> float:
        return self.rows / self.read_seconds[page_size]

    def read_cpu_us_per_row(self, page_size: int) -> float:
        return self.read_cpu_seconds[page_size] / self.rows * 1e6

    def paused_read_rows_per_s(self, page_size: int) -> float:
        return self.rows / self.paused_read_seconds[page_size]

    def paused_read_cpu_us_per_row(self, page_size: int) -> float:
        return self.paused_read_cpu_seconds[page_size] / self.rows * 1e6


class RawReads:
    """The raw reads' best times (wall and CPU), per page size, with the collector on (the
    issue's reference) and paused (stricter)."""

    def __init__(self) -> None:
        self.seconds: dict[bool, dict[int, float]] = {False: {}, True: {}}
        self.cpu: dict[bool, dict[int, float]] = {False: {}, True: {}}

    @staticmethod
    def turns(repeat: int) -> tuple[bool, bool]:
        """Whether each of a repeat's two reads is paused: first one then the other in turns,
        since what comes right after the store's replay may find the caches in another state."""
        return (False, True) if repeat % 2 == 0 else (True, False)

    @contextlib.contextmanager
    def timed(self, paused: bool, page_size: int) -> Iterator[None]:
        """The block's wall and CPU time kept, the collector paused for it or not."""
        with collector.paused() if paused else contextlib.nullcontext():
            started, cpu_started = time.perf_counter(), time.process_time()
            yield
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        self.keep(paused, page_size, seconds, cpu)

    def keep(self, paused: bool, page_size: int, seconds: float, cpu: float) -> None:
        best = self.seconds[paused].get(page_size)
        if best is None or seconds < best:
            self.seconds[paused][page_size] = seconds
        self.cpu[paused][page_size] = min(cpu, self.cpu[paused].get(page_size, cpu))

    def result(self, rows: int, inserted: RawInserts) -> RawResult:
        return RawResult(
            rows,
            inserted.row_bytes,
            inserted.rows,
            inserted.seconds,
            self.seconds[False],
            self.cpu[False],
            self.seconds[True],
            self.cpu[True],
        )


RAW_TOPIC = "domain.proctored_session:ProctoredSession.FlagRaised"

RawRow = tuple[uuid.UUID, int, str, bytes]
# Called after each raw read with its page size: the store's replay of the same pages runs
# right after it, so both see the same load on the machine (a busy neighbour comes and goes
# over the minutes a full run takes).
Between = Callable[[int], None]


def raw_batches(first: int, stop: int, row_bytes: int) -> Iterator[list[RawRow]]:
    """Rows shaped like the store's: one originator per batch, consecutive versions."""
    payload = os.urandom(row_bytes)  # random, so no layer can compress it below the real size
    for start in range(first, stop, BATCH):
        originator = uuid.uuid4()
        yield [(originator, v + 1, RAW_TOPIC, payload) for v in range(min(BATCH, stop - start))]


@dataclass
class RawInserts:
    """The raw reference's timed inserts, BATCH rows per transaction, made in turns with
    the store's saves (`turn`), so both meet the same load on the machine."""

    insert: Callable[[list[RawRow]], None]  # one committed batch
    row_bytes: int
    rows: int = 0
    seconds: float = 0.0
    _batches: Iterator[list[RawRow]] | None = None

    def turn(self) -> None:
        if self._batches is None:
            self._batches = raw_batches(0, 1 << 40, self.row_bytes)
        batch = next(self._batches)
        started = time.perf_counter()
        self.insert(batch)
        self.seconds += time.perf_counter() - started
        self.rows += len(batch)


RAW_COLUMNS = ("originator", "version", "topic", "state")


@contextlib.contextmanager
def postgres_raw_inserts(schema: str, row_bytes: int) -> Iterator[RawInserts]:
    """The raw table, and its inserts through asyncpg on an event loop of their own."""
    loop = asyncio.new_event_loop()
    connection = loop.run_until_complete(asyncpg.connect(POSTGRES_SERVER))
    table = f'"{schema}".{RAW_TABLE}'
    try:
        loop.run_until_complete(
            connection.execute(
                f"CREATE TABLE {table} (id bigserial PRIMARY KEY, originator uuid NOT NULL, "
                "version int NOT NULL, topic text NOT NULL, state bytea NOT NULL)"
            )
        )
        statement = loop.run_until_complete(
            connection.prepare(
                f"INSERT INTO {table} ({', '.join(RAW_COLUMNS)}) VALUES ($1, $2, $3, $4)"
            )
        )

        async def insert(batch: list[RawRow]) -> None:
            async with connection.transaction():
                await statement.executemany(batch)

        yield RawInserts(lambda batch: loop.run_until_complete(insert(batch)), row_bytes)
    finally:
        loop.run_until_complete(connection.close())
        loop.close()


@contextlib.contextmanager
def sqlite_raw_inserts(path: Path, row_bytes: int) -> Iterator[RawInserts]:
    # Autocommit plus explicit BEGIN/COMMIT and WAL: the store's SQLite datastore settings.
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(
            f"CREATE TABLE {RAW_TABLE} (id INTEGER PRIMARY KEY, originator TEXT NOT NULL, "
            "version INTEGER NOT NULL, topic TEXT NOT NULL, state BLOB NOT NULL)"
        )
        statement = (
            f"INSERT INTO {RAW_TABLE} (originator, version, topic, state) VALUES (?, ?, ?, ?)"
        )

        def insert(batch: list[RawRow]) -> None:
            connection.execute("BEGIN")
            connection.executemany(statement, [(o.hex, v, t, s) for o, v, t, s in batch])
            connection.execute("COMMIT")

        yield RawInserts(insert, row_bytes)
    finally:
        connection.close()


async def raw_postgres(schema: str, rows: int, inserted: RawInserts, between: Between) -> RawResult:
    """The rest of the raw table bulk-loaded, then its reads in turns with the store's."""
    connection = await asyncpg.connect(POSTGRES_SERVER)
    table = f'"{schema}".{RAW_TABLE}'
    columns = RAW_COLUMNS
    row_bytes, timed = inserted.row_bytes, inserted.rows
    try:
        # Streamed to COPY, not kept: a list of the 80,000 rows stayed alive through every
        # timed read below, and each full collection of Python's garbage collector, in the
        # raw reads and the store's replays alike, walked its 160,000 objects.
        await connection.copy_records_to_table(
            RAW_TABLE,
            records=(row for batch in raw_batches(timed, rows, row_bytes) for row in batch),
            columns=columns,
            schema_name=schema,
        )
        # Same warm-up as the store's table got from the size query: hint bits set, pages cached.
        await connection.fetchval(f"SELECT count(*) FROM {table}")
        select = await connection.prepare(
            f"SELECT id, {', '.join(columns)} FROM {table} WHERE id > $1 ORDER BY id LIMIT $2"
        )

        async def read_all(page_size: int) -> int:
            after = count = 0
            while page := await select.fetch(after, page_size):
                count += len(page)
                after = page[-1]["id"]
            return count

        reads = RawReads()
        for page_size in PAGE_SIZES:
            for repeat in range(REPEATS):
                for paused in RawReads.turns(repeat):
                    with reads.timed(paused, page_size):
                        count = await read_all(page_size)
                    if count != rows:
                        raise RuntimeError(f"raw PostgreSQL read {count} rows of {rows}")
                # The store's replay on a thread without a running event loop, as the product
                # runs it (the worker, `sync_to_thread` handlers): called from this coroutine,
                # log_pages.py would see the loop and read every page the library's way.
                await asyncio.to_thread(between, page_size)
        return reads.result(rows, inserted)
    finally:
        await connection.close()


def raw_sqlite(path: Path, rows: int, inserted: RawInserts, between: Between) -> RawResult:
    """The rest of the raw table bulk-loaded, then its reads in turns with the store's."""
    connection = sqlite3.connect(path, isolation_level=None)
    row_bytes, timed = inserted.row_bytes, inserted.rows
    insert = f"INSERT INTO {RAW_TABLE} (originator, version, topic, state) VALUES (?, ?, ?, ?)"
    try:
        connection.execute("BEGIN")
        for batch in raw_batches(timed, rows, row_bytes):
            connection.executemany(insert, [(o.hex, v, t, s) for o, v, t, s in batch])
        connection.execute("COMMIT")
        select = (
            f"SELECT id, originator, version, topic, state FROM {RAW_TABLE} "
            "WHERE id > ? ORDER BY id LIMIT ?"
        )

        def read_all(page_size: int) -> int:
            after = count = 0
            while page := connection.execute(select, (after, page_size)).fetchall():
                count += len(page)
                after = page[-1][0]
            return count

        reads = RawReads()
        for page_size in PAGE_SIZES:
            for repeat in range(REPEATS):
                for paused in RawReads.turns(repeat):
                    with reads.timed(paused, page_size):
                        count = read_all(page_size)
                    if count != rows:
                        raise RuntimeError(f"raw SQLite read {count} rows of {rows}")
                between(page_size)
        return reads.result(rows, inserted)
    finally:
        connection.close()


# --- backends ----------------------------------------------------------------------------


def postgres_event_size(schema: str, table: str) -> int:
    # This full scan also sets hint bits, so the replays that follow read settled pages.
    with psycopg.connect(POSTGRES_SERVER, connect_timeout=5) as connection:
        query = sql.SQL("SELECT avg(length(state)) FROM {}.{}").format(
            sql.Identifier(schema), sql.Identifier(table)
        )
        row = connection.execute(query).fetchone()
    assert row is not None and row[0] is not None
    return round(float(row[0]))


def sqlite_event_size(path: Path, table: str) -> int:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        (size,) = connection.execute(f"SELECT avg(length(state)) FROM {table}").fetchone()
    return round(float(size))


@dataclass
class BackendResult:
    name: str
    write: WriteResult
    event_bytes: int
    replays: list[ReplayResult]
    commands: CommandResult
    raw: RawResult
    profile_top: list[str] = field(default_factory=list)


@dataclass
class Config:
    events: int
    sessions: int
    commands: int
    # Committing row batches one by one is fsync-bound and flat: a sample gives the rate,
    # and the rest is bulk-loaded so the raw reads cover as many rows as the store's log.
    raw_insert_rows: int
    profile: bool
    only: str | None = None


def bench_store(
    name: str,
    url: str,
    keys: contextlib.AbstractContextManager[KeyStore],
    config: Config,
    event_size: Callable[[str], int],
    raw_inserts: Callable[[int], contextlib.AbstractContextManager[RawInserts]],
    raw_reads: Callable[[RawInserts, Between], RawResult],
) -> BackendResult:
    print(f"== {name}: {url}", file=sys.stderr, flush=True)
    with keys as key_store:
        store = EventsourcingStore(url, keys=key_store)
        return _bench_store(name, store, config, event_size, raw_inserts, raw_reads)


def _bench_store(
    name: str,
    store: EventsourcingStore,
    config: Config,
    event_size: Callable[[str], int],
    raw_inserts: Callable[[int], contextlib.AbstractContextManager[RawInserts]],
    raw_reads: Callable[[RawInserts, Between], RawResult],
) -> BackendResult:
    try:
        # The table's name depends on the backend (vigie_events, stored_events): ask it.
        recorder: Any = store.app.recorder
        table = recorder.events_table_name
        with contextlib.ExitStack() as stack:
            inserted = write_in_turns(
                store, config, name, lambda: stack.enter_context(raw_inserts(event_size(table)))
            )
            event_bytes = event_size(table)
            write = inserted.write
        # The raw reads and the store's replays in turns.
        runs: dict[int, list[float]] = {size: [] for size in PAGE_SIZES}
        cpu_runs: dict[int, list[float]] = {size: [] for size in PAGE_SIZES}
        counts: dict[int, int] = {}

        def replay_between(page_size: int) -> None:
            run = len(runs[page_size]) + 1
            label = f"{name} replay page {page_size} #{run}"
            counts[page_size], seconds, cpu = replay_once(store, page_size, label)
            runs[page_size].append(seconds)
            cpu_runs[page_size].append(cpu)

        raw_result = raw_reads(inserted.raw, replay_between)
        replays = [
            ReplayResult(size, counts[size], min(runs[size]), runs[size], min(cpu_runs[size]))
            for size in PAGE_SIZES
        ]
        profile_top = profile_replay(store, name) if config.profile else []
        commands = run_commands(store, config.sessions, config.commands, name)
    finally:
        store.close()
    return BackendResult(name, write, event_bytes, replays, commands, raw_result, profile_top)


@dataclass
class WriteTurns:
    write: WriteResult
    raw: RawInserts


def write_in_turns(
    store: EventsourcingStore,
    config: Config,
    label: str,
    start_raw: Callable[[], RawInserts],
) -> WriteTurns:
    """The store's log written, with the raw reference's timed inserts in turns: the first
    tenth of the log alone (its average event is the raw rows' size), then one raw batch
    every so many events, so that both meet the same load (writes are fsync-bound, and a
    busy neighbour comes and goes over the minutes a run takes)."""
    first = max(1, config.events // 10)
    batches = max(1, config.raw_insert_rows // BATCH)
    step = max(1.0, (config.events - first) / batches)
    raw: list[RawInserts] = []
    next_turn = float(first)

    def after_save(written: int) -> None:
        nonlocal next_turn
        if written < first:
            return
        if not raw:
            raw.append(start_raw())
        while written >= next_turn and raw[0].rows < batches * BATCH:
            raw[0].turn()
            next_turn += step

    write = write_log(store, config.events, label, after_save)
    if not raw:
        raw.append(start_raw())
    if raw[0].rows == 0:
        raw[0].turn()
    return WriteTurns(write, raw[0])


def profile_replay(store: EventsourcingStore, label: str) -> list[str]:
    """cProfile one more replay (page 1000): where the time goes, by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    replay_once(store, 1000, f"{label} profiled replay")
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    return out.getvalue().splitlines()


def bench_sqlite(config: Config) -> BackendResult:
    with tempfile.TemporaryDirectory(prefix="vigie-bench-") as directory:
        path = Path(directory) / "store.sqlite"
        return bench_store(
            "SQLite",
            f"sqlite:///{path}",  # path is absolute, so this is the sqlite:////abs form
            # The enrolments' personal fields sealed with keys in files, as `make run` keeps them.
            contextlib.nullcontext(FileKeyStore(Path(directory) / "keys")),
            config,
            lambda table: sqlite_event_size(path, table),
            lambda size: sqlite_raw_inserts(Path(directory) / "raw.sqlite", size),
            lambda inserted, between: raw_sqlite(
                Path(directory) / "raw.sqlite", config.events, inserted, between
            ),
        )


def bench_postgres(config: Config) -> BackendResult:
    with throwaway_schema(POSTGRES_SERVER) as schema, throwaway_schema(POSTGRES_SERVER) as keys:
        return bench_store(
            "PostgreSQL",
            f"{POSTGRES_SERVER}?schema={schema}",
            # The enrolments' personal fields sealed with keys in PostgreSQL, as a shared
            # platform keeps them (a schema of their own).
            contextlib.closing(PostgresKeyStore(POSTGRES_SERVER, schema=keys)),
            config,
            lambda table: postgres_event_size(schema, table),
            lambda size: postgres_raw_inserts(schema, size),
            lambda inserted, between: asyncio.run(
                raw_postgres(schema, config.events, inserted, between)
            ),
        )


# --- report ------------------------------------------------------------------------------


def store_machine_facts() -> dict[str, Any]:
    facts = machine_facts(("eventsourcing", "msgspec", "psycopg", "psycopg-binary", "asyncpg"))
    facts["postgresql"] = postgres_settings(
        POSTGRES_SERVER, ("server_version", "fsync", "synchronous_commit", "wal_sync_method")
    )
    facts["psycopg_impl"] = psycopg.pq.__impl__
    return facts


def print_report(facts: dict[str, Any], command: str, results: list[BackendResult]) -> None:
    print_machine(facts, command)
    print(f"packages: {packages_text(facts)} (psycopg {facts['psycopg_impl']})")
    print(f"servers : {sqlite_text(facts)}; {postgres_text(facts['postgresql'])}")
    print()
    header = f"{'store':<11} {'measure':<44} {'vigie':>11} {'raw':>11} {'vigie/raw':>9}  note"
    print(header)
    print("-" * (len(header) + 20))
    for r in results:
        rows: list[tuple[str, str, str, str, str]] = []
        c = r.commands
        rows.append(
            (
                f"commands/s, load-decide-save ({c.sessions} sessions)",
                thousands(c.commands_per_s),
                "—",
                "—",
                f"{c.commands:,} commands",
            )
        )
        rows.append(
            (
                "  latency per command p50 / p99 (ms)",
                f"{c.p50_ms:.2f}/{c.p99_ms:.2f}",
                "—",
                "—",
                f"max {c.max_ms:.1f} ms",
            )
        )
        rows.append(
            (
                f"write, events/s ({BATCH}/save; raw {BATCH}/txn)",
                thousands(r.write.events_per_s),
                thousands(r.raw.insert_rows_per_s),
                f"{r.write.events_per_s / r.raw.insert_rows_per_s:.2f}",
                f"{verdict(r.write.events_per_s / r.raw.insert_rows_per_s, RATIO_TARGET)} "
                f"(≥ {RATIO_TARGET}); {r.write.events:,} events in {r.write.saves:,} saves, "
                f"{r.event_bytes} B avg (raw rows {r.raw.row_bytes} B)",
            )
        )
        for rep in r.replays:
            raw = r.raw.read_rows_per_s(rep.page_size)
            raw_cpu = r.raw.read_cpu_us_per_row(rep.page_size)
            rows.append(
                (
                    f"replay+decode, events/s (page {rep.page_size})",
                    thousands(rep.events_per_s),
                    thousands(raw),
                    f"{rep.events_per_s / raw:.2f}",
                    f"{verdict(rep.events_per_s / raw, RATIO_TARGET)} (≥ {RATIO_TARGET}); "
                    f"≥ {REPLAY_TARGET:,}/s: {verdict(rep.events_per_s, REPLAY_TARGET)}",
                )
            )
            rows.append(
                (
                    "  client CPU per event, µs",
                    f"{rep.cpu_us_per_event:.2f}",
                    f"{raw_cpu:.2f}",
                    f"{raw_cpu / rep.cpu_us_per_event:.2f}",
                    "this process's CPU time (best run): what a busy machine shares out",
                )
            )
            paused = r.raw.paused_read_rows_per_s(rep.page_size)
            paused_cpu = r.raw.paused_read_cpu_us_per_row(rep.page_size)
            rows.append(
                (
                    "  raw with the collector paused too",
                    thousands(rep.events_per_s),
                    thousands(paused),
                    f"{rep.events_per_s / paused:.2f}",
                    f"{verdict(rep.events_per_s / paused, RATIO_TARGET)} (≥ {RATIO_TARGET}); "
                    f"raw client CPU {paused_cpu:.2f} µs a row",
                )
            )
        for i, (measure, vigie, raw_figure, ratio, note) in enumerate(rows):
            name = r.name if i == 0 else ""
            print(f"{name:<11} {measure:<44} {vigie:>11} {raw_figure:>11} {ratio:>9}  {note}")
        print()
    print("issue 15's figures, each against its reference in this run:")
    for r in results:
        for rep in r.replays:
            print(
                "  "
                + figure_line(
                    f"{r.name} replay with decoding (page {rep.page_size})",
                    rep.events_per_s,
                    r.raw.read_rows_per_s(rep.page_size),
                    RATIO_TARGET,
                    "events/s",
                )
            )
            print(
                "  "
                + figure_line(
                    "  the same, against the raw read with the collector paused too",
                    rep.events_per_s,
                    r.raw.paused_read_rows_per_s(rep.page_size),
                    RATIO_TARGET,
                    "events/s",
                )
            )
        print(
            "  "
            + figure_line(
                f"{r.name} write ({BATCH} events per save)",
                r.write.events_per_s,
                r.raw.insert_rows_per_s,
                RATIO_TARGET,
                "events/s",
            )
        )
    print()
    print(
        "raw = the same rows (size = the store's average event) in a plain table, through\n"
        "      asyncpg (PostgreSQL) or stdlib sqlite3 (SQLite); raw inserts commit every "
        f"{BATCH} rows,\n      rate from {results[0].raw.timed_insert_rows:,} rows "
        "inserted in turns with the store's saves.\n      "
        f"Replays and raw reads: best of {REPEATS} runs, in turns; the store replays\n"
        "      with the collector paused, as the product does (app/collector.py), the raw\n"
        "      reads are timed both as issue 15 defines them (collector on) and paused.\n"
        "      Ratios are of wall-clock rates; under other load the client CPU per event "
        "(this\n      process's, best run) says how much of the machine each one asks for."
    )
    print()
    for r in results:
        if r.profile_top:
            print(f"cProfile of one {r.name} replay (page 1000), by own time:")
            print("\n".join(line for line in r.profile_top if line.strip()))
            print()


def write_json(
    facts: dict[str, Any], command: str, config: Config, results: list[BackendResult]
) -> Path:
    summary = {
        "command": command,
        "machine": facts,
        "config": asdict(config) | {"batch": BATCH, "page_sizes": list(PAGE_SIZES)},
        "target_replay_events_per_s": REPLAY_TARGET,
        "stores": {
            r.name: {
                "event_bytes_avg": r.event_bytes,
                "commands": asdict(r.commands) | {"per_s": r.commands.commands_per_s},
                "write": asdict(r.write) | {"events_per_s": r.write.events_per_s},
                "replay": [
                    asdict(rep)
                    | {
                        "events_per_s": rep.events_per_s,
                        "raw_rows_per_s": r.raw.read_rows_per_s(rep.page_size),
                        "ratio": rep.events_per_s / r.raw.read_rows_per_s(rep.page_size),
                        "cpu_us_per_event": rep.cpu_us_per_event,
                        "raw_cpu_us_per_row": r.raw.read_cpu_us_per_row(rep.page_size),
                        "paused_raw_rows_per_s": r.raw.paused_read_rows_per_s(rep.page_size),
                        "paused_ratio": rep.events_per_s
                        / r.raw.paused_read_rows_per_s(rep.page_size),
                        "paused_raw_cpu_us_per_row": r.raw.paused_read_cpu_us_per_row(
                            rep.page_size
                        ),
                        "meets_target": rep.events_per_s >= REPLAY_TARGET,
                    }
                    for rep in r.replays
                ],
                "raw": {
                    "rows": r.raw.rows,
                    "timed_insert_rows": r.raw.timed_insert_rows,
                    "row_bytes": r.raw.row_bytes,
                    "insert_rows_per_s": r.raw.insert_rows_per_s,
                    "read_rows_per_s": {
                        str(p): r.raw.read_rows_per_s(p) for p in r.raw.read_seconds
                    },
                    "paused_read_rows_per_s": {
                        str(p): r.raw.paused_read_rows_per_s(p) for p in r.raw.paused_read_seconds
                    },
                },
            }
            for r in results
        },
    }
    return write_summary("store", summary)


# --- main --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> Config:
    parser = arguments(__doc__)
    parser.add_argument(
        "--events", type=int, help="events in the replayed log (100,000; quick 500)"
    )
    parser.add_argument("--sessions", type=int, help="sessions the commands go to (100; quick 5)")
    parser.add_argument(
        "--commands", type=int, help="timed load-decide-save commands (2,500; quick 50)"
    )
    parser.add_argument("--only", choices=["sqlite", "postgres"], help="one backend only")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile one extra replay per store"
    )
    args = parser.parse_args(argv)
    quick = args.quick
    return Config(
        events=args.events or (500 if quick else 100_000),
        sessions=args.sessions or (5 if quick else 100),
        commands=args.commands or (50 if quick else 2_500),
        raw_insert_rows=200 if quick else 20_000,
        profile=args.profile,
        only=args.only,
    )


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    command = command_line()
    facts = store_machine_facts()
    started = time.perf_counter()
    results = []
    if config.only in (None, "sqlite"):
        results.append(bench_sqlite(config))
    if config.only in (None, "postgres"):
        results.append(bench_postgres(config))
    # Other work on the machine moves every figure here, fsync latency above all.
    finish_facts(facts, started)
    print_report(facts, command, results)
    path = write_json(facts, command, config, results)
    print(f"JSON summary: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
