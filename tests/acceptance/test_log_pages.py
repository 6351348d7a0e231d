"""The log's pages on PostgreSQL read ahead through asyncpg (issue 15, log_pages.py): a replay
gets exactly the pages the library would give, a page read ahead before a commit still shows
that commit (read-your-writes), and nothing holds a connection long once the replay is over."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from eventsourcing.utils import get_topic

from adapters.ids import SeededIds
from adapters.persistence import log_pages
from adapters.persistence.chain import MAGIC
from adapters.persistence.log_pages import NO_ROWS, Columns, in_order
from adapters.persistence.store import EventsourcingStore
from app.ports.event_store import UnreadableEvent
from domain.proctored_session import ProctoredSession
from domain.rules import CURRENT_RULES
from tests.acceptance.quarantine_rows import append_copy_without_header, append_sealed_garbage

pytestmark = pytest.mark.postgres

AT = datetime(2025, 3, 17, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture(autouse=True)
def small_pages_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    """These logs are of a few dozen events: their full pages of 5 or 7 open a reader, as a
    replay's of 1000 do (`READ_AHEAD_MIN_ROWS`)."""
    monkeypatch.setattr(log_pages, "READ_AHEAD_MIN_ROWS", 1)


@pytest.fixture
def store(postgres_url: str) -> Iterator[EventsourcingStore]:
    opened = EventsourcingStore(postgres_url)
    yield opened
    opened.close()


def save_sessions(store: EventsourcingStore, ids: SeededIds, count: int) -> None:
    """`count` sessions, each an opening and an entry (two events)."""
    for n in range(count):
        session = ProctoredSession.open(
            session_id=ids.new_id(),
            enrollment_id=ids.new_id(),
            candidate_id=ids.new_id(),
            certification_code="ENI-ACCESS",
            exam_duration_minutes=90,
            rules=CURRENT_RULES,
            live_supervision=False,
            at=AT + timedelta(minutes=n),
        )
        session.enter(at=AT + timedelta(minutes=n, seconds=1), terms_accepted=True)
        store.save(session)


def library_pages(store: EventsourcingStore, page_size: int) -> list[list[tuple[int, object]]]:
    """The same log read through the library's own page and decoder, for comparison."""
    recorder = store.app.recorder
    pages, after = [], 0
    while rows := recorder.select_notifications(
        start=after, limit=page_size, inclusive_of_start=False
    ):
        pages.append([(n.id, store.app.mapper.to_domain_event(n)) for n in rows])
        after = rows[-1].id
    return pages


def replayed(store: EventsourcingStore, page_size: int) -> list[list[tuple[int, object]]]:
    pages, after = [], 0
    while page := store.read(after, page_size):
        pages.append([(r.position, r.event) for r in page])
        after = page[-1].position
    return pages


def test_a_replay_read_ahead_gives_the_library_s_pages_and_then_lets_its_connection_go(
    store: EventsourcingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_sessions(store, SeededIds(1), 25)  # 50 events: pages of 7 are full but the last
    pages = store._pages
    assert pages is not None
    assert replayed(store, 7) == library_pages(store, 7)
    assert pages.pages_read_ahead == 7  # all but the first of the 8 pages
    assert pages._made == 1 and len(pages._idle) == 1, "the reader waits for the next replay"
    reader = pages._idle[0]
    assert (
        reader.loop.run_until_complete(reader.connection.fetchval("SHOW idle_session_timeout"))
        == f"{log_pages.IDLE_SESSION_S}s"
    ), "PostgreSQL ends it if nothing else does"
    backend = reader.connection.get_server_pid()
    # The next replay reads its pages after the first on it: no new connection.
    assert replayed(store, 7) == library_pages(store, 7)
    assert pages.pages_read_ahead == 7 + 7
    assert [r.connection.get_server_pid() for r in pages._idle] == [backend]
    # Idle for longer than READER_IDLE_S: the next read closes it, and reads the library's way.
    monkeypatch.setattr(log_pages, "READER_IDLE_S", 0.0)
    assert [r.position for r in store.read(49, 7)] == [50]
    assert pages._made == 0, "the reader's connection outlived its idle time"
    assert pages.pages_read_ahead == 7 + 7


def test_a_catch_up_s_short_reads_do_not_keep_the_reader(
    store: EventsourcingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker reads the log every half second, a few events at a time: those pages are
    read the library's way, so the reader a replay left goes once idle for READER_IDLE_S
    (a review: served on the reader, they kept it in use for as long as the worker ran)."""
    save_sessions(store, SeededIds(8), 10)  # 20 events
    assert len(replayed(store, 5)) == 4
    pages = store._pages
    assert pages is not None and pages._made == 1
    read_ahead = pages.pages_read_ahead
    monkeypatch.setattr(log_pages, "READER_IDLE_S", 0.3)
    deadline = time.monotonic() + 10
    while pages._made and time.monotonic() < deadline:
        assert store.read(20, 500) == []  # a catch-up finding nothing new
        time.sleep(0.05)
    assert pages._made == 0, "the catch-up's reads kept the reader"
    assert pages.pages_read_ahead == read_ahead


def test_a_reader_gone_stale_is_let_go_by_a_read_from_a_web_request(
    store: EventsourcingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A web request reads in a thread that runs an event loop (the library's way): its
    read still closes a reader idle too long, cutting it (its loop cannot run there)."""
    save_sessions(store, SeededIds(9), 10)
    assert len(replayed(store, 5)) == 4
    pages = store._pages
    assert pages is not None and pages._made == 1
    monkeypatch.setattr(log_pages, "READER_IDLE_S", 0.0)

    async def in_a_request() -> int:
        return len(store.read(0, 5))

    assert asyncio.run(in_a_request()) == 5
    assert pages._made == 0 and pages._idle == []


def test_a_replay_after_postgresql_ended_the_idle_reader_goes_on_the_library_s_way(
    store: EventsourcingStore, postgres_url: str
) -> None:
    """The reader waiting for the next replay may be gone by then (`idle_session_timeout`,
    a restart): that replay reads its pages all the same."""
    save_sessions(store, SeededIds(5), 10)  # 20 events
    assert len(replayed(store, 5)) == 4
    pages = store._pages
    assert pages is not None and len(pages._idle) == 1
    backend = pages._idle[0].connection.get_server_pid()
    with psycopg.connect(postgres_url.split("?", maxsplit=1)[0], autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
    assert replayed(store, 5) == library_pages(store, 5)
    assert backend not in [r.connection.get_server_pid() for r in pages._idle]


def test_a_replay_whose_reader_s_connection_dies_goes_on_the_library_s_way(
    store: EventsourcingStore, postgres_url: str
) -> None:
    save_sessions(store, SeededIds(4), 10)  # 20 events
    first = store.read(0, 5)  # full: a reader now holds the next page's query
    pages = store._pages
    assert pages is not None and len(pages._idle) == 1
    backend = pages._idle[0].connection.get_server_pid()
    with psycopg.connect(postgres_url.split("?", maxsplit=1)[0], autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
    rest = replayed_after(store, first[-1].position, 5)
    assert [r for page in rest for r, _ in page] == list(range(6, 21))


def replayed_after(
    store: EventsourcingStore, after: int, page_size: int
) -> list[list[tuple[int, object]]]:
    pages = []
    while page := store.read(after, page_size):
        pages.append([(r.position, r.event) for r in page])
        after = page[-1].position
    return pages


def test_the_page_after_a_full_one_is_sent_by_postgresql_before_it_is_asked_for(
    store: EventsourcingStore,
) -> None:
    """Reading ahead means PostgreSQL works the next page out while this one is decoded: its
    rows are on their way before the replay asks for them (issue 15: sent through
    `fetchrow(query)`, only the statement's preparation went ahead, its execution waited
    for the next page to be asked for)."""
    save_sessions(store, SeededIds(12), 60)  # 120 events
    assert len(store.read(0, 50)) == 50  # full: the page after position 50 is asked for
    pages = store._pages
    assert pages is not None and len(pages._idle) == 1
    reader = pages._idle[0]
    assert reader.ahead == (50, 50) and reader.task is not None, "the query went out"
    socket_ = reader.connection._transport.get_extra_info("socket")
    waiting = 0
    # Up to 30 s: on a loaded CI machine PostgreSQL once took over 2 s to answer (0 bytes
    # came); on a quiet one the rows are there at the first look. On a loaded one they may
    # even have come within the loop's turn that sent the query, and been made a page
    # already (the task is done): that is a page read ahead too.
    deadline = time.monotonic() + 30
    with socket.socket(fileno=os.dup(socket_.fileno())) as peek:
        while time.monotonic() < deadline and not reader.task.done():
            with contextlib.suppress(BlockingIOError):
                waiting = len(peek.recv(1 << 20, socket.MSG_PEEK | socket.MSG_DONTWAIT))
            if waiting > 5000:  # 50 rows, where a statement's description is 300 bytes
                break
            time.sleep(0.02)
    if reader.task.done():
        assert len(reader.task.result().positions) == 50, "the page read ahead is whole"
    else:
        assert waiting > 5000, f"{waiting} bytes came ahead: the page was not worked out"
    assert [r.position for r in store.read(50, 50)] == list(range(51, 101))


def test_a_page_read_ahead_before_a_commit_still_shows_that_commit(
    store: EventsourcingStore,
) -> None:
    ids = SeededIds(2)
    save_sessions(store, ids, 8)  # 16 events
    first = store.read(0, 10)  # full: the page after position 10 is asked for at once
    assert len(first) == 10
    save_sessions(store, ids, 2)  # committed after the read ahead went out
    second = store.read(first[-1].position, 10)
    assert [r.position for r in second] == list(range(11, 21))


def test_a_thread_running_an_event_loop_reads_its_pages_the_library_s_way(
    store: EventsourcingStore,
) -> None:
    save_sessions(store, SeededIds(3), 6)

    async def from_a_coroutine() -> list[int]:
        return [r.position for r in store.read(0, 5)] + [r.position for r in store.read(5, 5)]

    assert asyncio.run(from_a_coroutine()) == list(range(1, 11))
    assert store._pages is not None and store._pages._made == 0


def test_rows_read_in_one_step_come_bare_and_a_topic_this_process_reads_otherwise_comes_whole(
    store: EventsourcingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL sends a page's chained rows as their payloads alone (log_pages.py); a row
    of a topic this process does not read in one step after all (here, as if its event class
    had a newer version to upcast to) is read again whole and decoded the general way."""
    save_sessions(store, SeededIds(6), 10)  # 20 events
    seen: list[Columns] = []
    pages = store._pages
    assert pages is not None
    page = pages.page

    def spy(after: int, limit: int) -> Columns:
        columns = page(after, limit)
        seen.append(columns)
        return columns

    monkeypatch.setattr(pages, "page", spy)
    assert replayed(store, 5) == library_pages(store, 5)
    read_ahead = [columns for columns in seen if columns.bare is not None]
    assert len(read_ahead) == 3, "all but the first page read ahead, as columns"
    assert all(columns.bare is not None and all(columns.bare) for columns in read_ahead)
    assert all(not s.startswith(MAGIC) for columns in read_ahead for s in columns.states)

    entered = get_topic(ProctoredSession.SessionEntered)
    step = store._step
    monkeypatch.setattr(store, "_steps", {})
    monkeypatch.setattr(store, "_step", lambda topic: None if topic == entered else step(topic))
    whole: list[list[int]] = []
    whole_states = store._whole_states

    def spy_whole(positions: list[int]) -> dict[int, bytes]:
        whole.append(positions)
        return whole_states(positions)

    monkeypatch.setattr(store, "_whole_states", spy_whole)
    assert replayed(store, 5) == library_pages(store, 5)
    # Each session's second event, on the pages read ahead (positions 6 to 20).
    assert sorted(p for positions in whole for p in positions) == list(range(6, 21, 2))


def test_a_page_whose_aggregates_came_out_of_order_is_put_back_in_order() -> None:
    arrays = (
        [3, 1, 2],
        [b"c", b"a", b"b"],
        [30, 10, 20],
        ["t3", "t1", "t2"],
        [b"s3", b"s1", b"s2"],
    )
    page = in_order([*arrays, [True, False, True]])
    assert page == Columns(
        [1, 2, 3],
        [b"a", b"b", b"c"],
        [10, 20, 30],
        ["t1", "t2", "t3"],
        [b"s1", b"s2", b"s3"],
        [False, True, True],
    )
    assert in_order(None) == in_order([None] * 6) == NO_ROWS


def test_a_row_that_does_not_decode_on_a_page_read_ahead_is_named_with_the_rest_in_place(
    store: EventsourcingStore, postgres_url: str
) -> None:
    """A page read ahead comes bare: when a row of it does not decode, the page is read
    again whole and row by row, and that row, and it alone, handed over as unreadable."""
    ids = SeededIds(7)
    save_sessions(store, ids, 6)  # 12 events
    stream = store.read(6, 1)[0].event.originator_id  # a session on the second page of 5
    version = append_sealed_garbage(postgres_url, store, stream)
    save_sessions(store, ids, 3)  # 6 more, after the garbage
    pages = replayed(store, 5)
    events = [event for page in pages for _, event in page]
    assert [position for page in pages for position, _ in page] == list(range(1, 20))
    unreadable = [e for e in events if isinstance(e, UnreadableEvent)]
    assert [(e.originator_id, e.originator_version) for e in unreadable] == [(stream, version)]
    assert [q.stream for q in store.quarantined()] == [stream]
    readable = [(p, e) for page in pages for p, e in page if not isinstance(e, UnreadableEvent)]
    rows = store.app.recorder.select_notifications(start=0, limit=100)
    decode = store.app.mapper.to_domain_event
    assert readable == [(n.id, decode(n)) for n in rows if n.id != 13]  # 13: the garbage


def test_a_row_written_without_the_chain_s_header_on_a_page_read_ahead_is_never_a_fact(
    store: EventsourcingStore, postgres_url: str
) -> None:
    """A real event copied as a stream's next version without the chain's header decodes
    well: only its missing header tells. On a page read ahead PostgreSQL sends it whole (it
    is not bare), and it is handed over as unreadable, the rest in place."""
    ids = SeededIds(9)
    save_sessions(store, ids, 6)  # 12 events
    stream = store.read(6, 1)[0].event.originator_id
    version = append_copy_without_header(postgres_url, store, stream)  # position 13
    save_sessions(store, ids, 3)
    pages = replayed(store, 5)
    assert [position for page in pages for position, _ in page] == list(range(1, 20))
    unreadable = [(p, e) for page in pages for p, e in page if isinstance(e, UnreadableEvent)]
    assert [(p, e.originator_id, e.originator_version) for p, e in unreadable] == [
        (13, stream, version)
    ]


def test_a_full_page_of_a_few_rows_opens_no_reader(
    store: EventsourcingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deadline's scan of the few events since the last one, one event looked up: full
    pages, but no replay; opening a reader for them (10 ms) bought nothing."""
    monkeypatch.setattr(log_pages, "READ_AHEAD_MIN_ROWS", 100)
    save_sessions(store, SeededIds(7), 10)  # 20 events
    assert len(store.read(0, 20)) == 20 and len(store.read(3, 1)) == 1
    assert store._pages is not None and store._pages._made == 0
    assert replayed(store, 99) == library_pages(store, 99)
    assert store._pages._made == 0
