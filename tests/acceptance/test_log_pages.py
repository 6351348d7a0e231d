"""The log's pages on PostgreSQL read ahead through asyncpg (issue 15, log_pages.py): a replay
gets exactly the pages the library would give, a page read ahead before a commit still shows
that commit (read-your-writes), and nothing holds a connection once the replay is over."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from adapters.ids import SeededIds
from adapters.persistence.store import EventsourcingStore
from domain.proctored_session import ProctoredSession
from domain.rules import CURRENT_RULES

pytestmark = pytest.mark.postgres

AT = datetime(2025, 3, 17, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))


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
    store: EventsourcingStore,
) -> None:
    save_sessions(store, SeededIds(1), 25)  # 50 events: pages of 7 are full but the last
    pages = store._pages
    assert pages is not None
    assert replayed(store, 7) == library_pages(store, 7)
    assert pages.pages_read_ahead == 7  # all but the first of the 8 pages
    assert pages._made == 0, "the reader's connection outlived the replay"


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
