"""A replay decodes each page of events that decode in one typed step column by column, in C
(issue 15, `store._decoded_at_once`): a change that sent such pages the row-by-row way would
only show as a slower replay, so here it fails. And Python's collector is paused while a
replay goes on (app/collector.py), and on again after, whatever happens."""

from __future__ import annotations

import contextlib
import gc
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.utils import get_topic

from adapters.ids import SeededIds
from adapters.keys.memory import MemoryKeyStore
from adapters.keys.postgres import PostgresKeyStore
from adapters.persistence import log_pages
from adapters.persistence import store as store_module
from adapters.persistence.sealing import PageKeys
from adapters.persistence.store import EventsourcingStore
from app import collector
from app.read_models import Projections
from domain.candidate import ERASED, ERASED_PROFILE, Candidate, PortalProfile
from domain.proctored_session import ProctoredSession
from tests.acceptance.test_log_pages import AT, library_pages, replayed, save_sessions


@pytest.fixture(autouse=True)
def small_pages_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    """These logs are of a few dozen events: their full pages open a reader, as a replay's
    of 1000 do (`READ_AHEAD_MIN_ROWS`)."""
    monkeypatch.setattr(log_pages, "READ_AHEAD_MIN_ROWS", 1)


@pytest.fixture
def decoding(store: EventsourcingStore, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many pages went each way."""
    calls: Counter[str] = Counter()
    at_once, row_by_row = store_module._decoded_at_once, store._decoded_row_by_row

    def spy_at_once(*args: Any) -> Any:
        calls["at once"] += 1
        return at_once(*args)

    def spy_row_by_row(*args: Any) -> Any:
        calls["row by row"] += 1
        return row_by_row(*args)

    monkeypatch.setattr(store_module, "_decoded_at_once", spy_at_once)
    monkeypatch.setattr(store, "_decoded_row_by_row", spy_row_by_row)
    return calls


def test_pages_of_one_step_events_are_decoded_at_once_as_the_library_decodes_them(
    store: EventsourcingStore, decoding: Counter[str]
) -> None:
    save_sessions(store, SeededIds(3), 25)  # 50 events: 8 pages of 7, the last short
    pages = replayed(store, 7)
    assert decoding == {"at once": 8}, "a page of one-step events went the row-by-row way"
    assert pages == library_pages(store, 7)
    streams = {type(event.originator_id) for page in pages for _, event in page}
    assert streams == {UUID}  # a plain UUID, whatever the backend's row gave


def test_a_page_with_more_streams_than_a_store_keeps_ids_of_still_decodes_each_row(
    store: EventsourcingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store remembers so many stream ids (`STREAM_IDS_KEPT`), then forgets them all: a
    page with more streams than that still gives each row its own stream."""
    monkeypatch.setattr(store_module, "STREAM_IDS_KEPT", 3)
    save_sessions(store, SeededIds(14), 5)  # 10 events of 5 streams
    assert replayed(store, 10) == library_pages(store, 10)


def enrol(store: EventsourcingStore, ids: SeededIds, n: int) -> UUID:
    """The n-th candidate registered (an event whose personal fields are sealed); its id."""
    candidate = Candidate.register(
        candidate_id=ids.new_id(),
        email=f"candidate{n}@example.org",
        surname="Martin",
        first_name="Léa",
        at=AT + timedelta(hours=n),
    )
    store.save(candidate)
    return candidate.id


def test_a_page_with_a_few_rows_of_another_kind_still_decodes_its_one_step_rows_at_once(
    store: EventsourcingStore, decoding: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real log's pages mix in an enrolment's events now and then, whose personal fields
    are sealed and decoded the general way: the rest of such a page still goes at once, and
    every event comes back in its place, as the library decodes it."""
    ids = SeededIds(5)
    for n in range(4):
        save_sessions(store, ids, 3)  # 6 events of one step
        enrol(store, ids, n)  # 1 event with personal fields
    general: list[str] = []
    row_event = store._row_event

    def spy_row_event(*args: Any) -> Any:
        event = row_event(*args)
        general.append(type(event).__name__)
        return event

    monkeypatch.setattr(store, "_row_event", spy_row_event)
    pages = replayed(store, 10)  # 28 events: pages of 10, 10 and 8
    assert decoding == {"at once": 3}, "a mixed page went the row-by-row way"
    assert general == ["CandidateRegistered"] * 4
    assert pages == library_pages(store, 10)


class CountsLookUps:
    """Mixed in before a key store: each kind of look-up counted (`calls`), then made."""

    calls: Counter[str]

    def existing_key(self, owner: UUID) -> bytes | None:
        self.calls["one"] += 1
        key: bytes | None = super().existing_key(owner)  # type: ignore[misc]
        return key

    def existing_keys(self, owners: Collection[UUID]) -> Mapping[UUID, bytes]:
        self.calls["page"] += 1
        keys: Mapping[UUID, bytes] = super().existing_keys(owners)  # type: ignore[misc]
        return keys


class CountedKeys(CountsLookUps, MemoryKeyStore):
    """Keys in memory, each kind of look-up counted."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = Counter()


def enrolled_between_sessions(store: EventsourcingStore, ids: SeededIds, count: int) -> list[UUID]:
    """`count` times a session (2 events of one step), then a candidate enrolled; their ids."""
    candidates = []
    for n in range(count):
        save_sessions(store, ids, 1)
        candidates.append(enrol(store, ids, n))
    return candidates


def registered_emails(pages: Iterable[Iterable[tuple[int, object]]]) -> list[str]:
    """The e-mail address each enrolment on the pages reads with (ERASED once erased)."""
    registered = Candidate.CandidateRegistered
    return [e.email for page in pages for _, e in page if isinstance(e, registered)]


def test_a_page_s_sealed_rows_open_with_their_owners_keys_looked_up_once(store_url: str) -> None:
    """Each enrolment's personal fields are sealed with the candidate's key; a replay looks
    the keys of a page's enrolments up in one query, not one a row (on PostgreSQL a round
    trip each), and an erased candidate's fields read as erased all the same."""
    keys = CountedKeys()
    store = EventsourcingStore(store_url, keys=keys)
    try:
        candidates = enrolled_between_sessions(store, SeededIds(8), 6)
        keys.erase(candidates[1])
        keys.calls.clear()
        pages = replayed(store, 9)  # 18 events: two pages of 9, three enrolments in each
        assert keys.calls == {"page": 2}, "the page's keys were looked up row by row"
        assert registered_emails(pages) == [
            "candidate0@example.org",
            ERASED,
            *(f"candidate{n}@example.org" for n in range(2, 6)),
        ]
        keys.calls.clear()
        assert pages == library_pages(store, 9)  # the library's decoding, a key a row
        assert keys.calls == {"one": 6}
    finally:
        store.close()


def with_profile(store: EventsourcingStore, ids: SeededIds, n: int) -> UUID:
    """The n-th candidate enrolled, then their portal profile created and saved again: three
    events with sealed fields; their id."""
    candidate_id = enrol(store, ids, n)
    candidate = store.get(candidate_id, Candidate)
    at = AT + timedelta(hours=n, minutes=5)
    for version, password in ((1, "hash"), (2, None)):
        profile = PortalProfile("Madame", "Martin", f"Léa {version}", date(1990, 5, 17), "Lyon")
        candidate.save_portal_profile(
            at=at, email=f"candidate{n}@example.org", profile=profile, password_hash=password
        )
    store.save(candidate)
    return candidate_id


def test_a_load_asks_for_its_owner_s_key_once_and_a_load_of_many_once_for_all(
    store_url: str,
) -> None:
    """A candidate's enrolment, profile and profile saved again are each sealed with their
    key: loading them asks the key store once (on PostgreSQL, one round trip where it was
    three), and loading a roster of candidates asks once for all of them; an erased
    candidate loads with the placeholders all the same, and loading what has nothing sealed
    asks nothing."""
    if store_url == "memory:":
        pytest.skip("a second store on memory: starts empty; the loads need a fresh cache")
    keys = CountedKeys()
    writer = EventsourcingStore(store_url, keys=keys)
    try:
        ids = SeededIds(21)
        candidates = [with_profile(writer, ids, n) for n in range(4)]
        save_sessions(writer, ids, 2)
        sessions = [r.event.originator_id for r in writer.read(0, 100)[-4:]]
        keys.erase(candidates[2])
    finally:
        writer.close()
    store = EventsourcingStore(store_url, keys=keys)  # nothing in its cache
    try:
        keys.calls.clear()
        loaded = store.get(candidates[0], Candidate)
        assert keys.calls == {"one": 1}, "each sealed event asked for the key again"
        assert (loaded.email, loaded.profile.first_name) == ("candidate0@example.org", "Léa 2")
        keys.calls.clear()
        erased = store.get(candidates[2], Candidate)
        assert keys.calls == {"one": 1}
        assert (erased.email, erased.profile) == (ERASED, ERASED_PROFILE)
        keys.calls.clear()
        many = store.get_many(candidates, Candidate)
        assert keys.calls == {"page": 1}, "a load of many asked a key a candidate"
        assert [many[c].email for c in candidates] == [
            "candidate0@example.org",
            "candidate1@example.org",
            ERASED,
            "candidate3@example.org",
        ]
        assert many[candidates[3]].profile.first_name == "Léa 2"
        keys.calls.clear()
        assert set(store.get_many(sessions, ProctoredSession)) == set(sessions)
        assert keys.calls == {}
        keys.calls.clear()
        assert store.get(candidates[1], Candidate).email == "candidate1@example.org"
        store.get(candidates[1], Candidate)  # from the cache: nothing new to open
        assert keys.calls == {"one": 1}
    finally:
        store.close()


class CountedPostgresKeys(CountsLookUps, PostgresKeyStore):
    """Keys in PostgreSQL, each look-up through the port counted; `table`: where the
    pages are told the keys are (None: where they are)."""

    def __init__(self, conninfo: str, schema: str, table: str | None = None) -> None:
        super().__init__(conninfo, schema)
        self.calls = Counter()
        self.table = table

    def table_beside(self, conninfo: str) -> tuple[str, str] | None:
        where = super().table_beside(conninfo)
        return where if where is None or self.table is None else (where[0], self.table)


@contextlib.contextmanager
def sealed_store(
    postgres_url: str, table: str | None = None, env: dict[str, str] | None = None
) -> Iterator[tuple[EventsourcingStore, CountedPostgresKeys]]:
    """A PostgreSQL store sealing with counted keys in the schema's keys schema beside it."""
    schema = postgres_url.rsplit("schema=", 1)[1]
    keys = CountedPostgresKeys(postgres_url.split("?", 1)[0], f"{schema}_keys", table)
    store = EventsourcingStore(postgres_url, extra_env=env, keys=keys)
    try:
        yield store, keys
    finally:
        store.close()
        keys.close()


@pytest.mark.postgres
@pytest.mark.parametrize("table", [None, "no_such_table"], ids=["keys beside", "unreadable"])
def test_pages_read_ahead_bring_their_sealed_rows_keys_when_the_keys_are_in_the_log_s_database(
    postgres_url: str, table: str | None
) -> None:
    """On PostgreSQL, with the key store's table in the log's database, a page read ahead
    brings the keys of its enrolments' owners: the key store is asked only for the first
    page, which is read the library's way, and an erased candidate's fields read as erased.
    A keys' table the store cannot read (here, missing) costs nothing but the look-ups."""
    with sealed_store(postgres_url, table) as (store, keys):
        candidates = enrolled_between_sessions(store, SeededIds(10), 8)
        keys.erase(candidates[5])
        keys.calls.clear()
        pages = replayed(store, 6)  # 24 events: four pages of 6, two enrolments in each
        # The first page the library's way; the other three, and the empty fifth, ahead.
        assert store._pages is not None and store._pages.pages_read_ahead == 4
        assert keys.calls == ({"page": 1} if table is None else {"page": 4})
        assert registered_emails(pages) == [
            *(f"candidate{n}@example.org" for n in range(5)),
            ERASED,
            *(f"candidate{n}@example.org" for n in range(6, 8)),
        ]
        assert pages == library_pages(store, 6)


@pytest.mark.postgres
def test_an_erasure_made_after_a_page_was_read_ahead_holds_once_its_keys_are_old(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page read ahead brings keys as they were when its query went out; handed over
    later than a replay would (`KEYS_FRESH_S`), it drops them and its rows open with keys
    looked up then: a candidate erased in between reads as erased."""
    with sealed_store(postgres_url) as (store, keys):
        candidates = enrolled_between_sessions(store, SeededIds(15), 4)
        first = store.read(0, 6)  # full: the next page, and its two keys, asked for ahead
        assert len(first) == 6
        keys.erase(candidates[3])  # on the page read ahead
        monkeypatch.setattr(log_pages, "KEYS_FRESH_S", -1.0)  # as if handed over late
        keys.calls.clear()
        second = store.read(6, 6)
        assert store._pages is not None and store._pages.pages_read_ahead == 1
        assert keys.calls == {"page": 1}  # looked up when decoded
        assert registered_emails([[(r.position, r.event) for r in second]]) == [
            "candidate2@example.org",
            ERASED,
        ]


@pytest.mark.postgres
def test_a_compressed_log_s_pages_open_their_sealed_rows_with_their_keys(
    postgres_url: str,
) -> None:
    """A compressed (or enciphered) log sends no bare rows, so no topic is read whole
    either: its pages bring no keys, and the key store is asked as before."""
    compressed = {"COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor"}
    with sealed_store(postgres_url, env=compressed) as (store, _):
        enrolled_between_sessions(store, SeededIds(16), 6)
        pages = replayed(store, 6)  # 18 events: three pages, two enrolments in each
        assert store._pages is not None and store._pages.pages_read_ahead >= 2
        assert registered_emails(pages) == [f"candidate{n}@example.org" for n in range(6)]
        assert pages == library_pages(store, 6)


@pytest.mark.postgres
def test_an_owner_s_row_without_a_key_does_not_hide_the_key_its_sealed_row_brought(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page brings a key with each sealed row only; another row of the same candidate
    that goes the general way too (here its topic read as if it had a newer version) brings
    none, and must not make the candidate read as erased."""
    with sealed_store(postgres_url) as (store, _):
        ids = SeededIds(13)
        for n in range(6):
            save_sessions(store, ids, 1)
            candidate = store.get(enrol(store, ids, n), Candidate)
            candidate.choose_language(at=AT + timedelta(hours=n, minutes=1), language="en")
            store.save(candidate)  # after the sealed row, in the same page
        chosen = get_topic(Candidate.LanguageChosen)
        step = store._step
        monkeypatch.setattr(store, "_steps", {})
        monkeypatch.setattr(store, "_step", lambda topic: None if topic == chosen else step(topic))
        pages = replayed(store, 8)  # 24 events: three pages of 8, two candidates in each
        assert store._pages is not None and store._pages.pages_read_ahead >= 2
        assert registered_emails(pages) == [f"candidate{n}@example.org" for n in range(6)]


@pytest.fixture
def collector_on() -> Iterator[None]:
    assert gc.isenabled()
    yield
    gc.enable()  # a failing test must not leave the rest of the run without a collector


def test_a_pause_turns_the_collector_back_on_even_when_its_block_raises(
    collector_on: None,
) -> None:
    with pytest.raises(RuntimeError), collector.paused():
        assert not gc.isenabled()
        raise RuntimeError("a decoding error")
    assert gc.isenabled()


def test_a_pause_inside_a_pause_leaves_the_switch_to_the_outer_one(collector_on: None) -> None:
    with collector.paused():
        with collector.paused():
            pass
        assert not gc.isenabled(), "the inner pause turned the collector back on"
    assert gc.isenabled()


def test_a_catch_up_pauses_the_collector_only_from_its_first_full_page(
    collector_on: None,
) -> None:
    with collector.Replaying() as replay:
        replay.page(3, 1000)  # a few events, as a request catches up: nothing paused
        assert gc.isenabled()
        replay.page(1000, 1000)  # a replay: paused to its end
        assert not gc.isenabled()
        replay.page(1000, 1000)
        replay.page(10, 1000)
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_read_models_replay_with_the_collector_paused_and_turn_it_back_on(
    store: EventsourcingStore, collector_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_sessions(store, SeededIds(4), 10)  # 20 events
    seen: list[bool] = []
    apply = Projections.apply

    def spy(self: Projections, recorded: Any) -> None:
        seen.append(gc.isenabled())
        apply(self, recorded)

    monkeypatch.setattr(Projections, "apply", spy)
    assert Projections().catch_up(store, batch=5) == 20
    assert seen == [False] * 20, "a full page came back: the whole replay is paused"
    assert gc.isenabled()
    seen.clear()
    small = Projections()
    assert small.catch_up(store, batch=50) == 20  # one short page: a request's catch-up
    assert seen == [True] * 20


def test_a_load_inside_another_remembers_each_owner_s_key_apart() -> None:
    """`PageKeys.remembered` nests (no load runs inside another today): each owner's key
    is looked up once, and the outer load's still holds after the inner one ends."""
    keys = CountedKeys()
    first, second = UUID(int=1), UUID(int=2)
    key_one, key_two = keys.key_for(first), keys.key_for(second)
    page_keys = PageKeys(keys)
    keys.calls.clear()
    with page_keys.remembered(first):
        assert page_keys.existing_key(first) == key_one
        with page_keys.remembered(second):
            assert page_keys.existing_key(second) == key_two
            assert page_keys.existing_key(second) == key_two
        assert page_keys.existing_key(first) == key_one
    assert keys.calls == {"one": 2}
    assert page_keys.existing_key(first) == key_one  # no load: asked each time
    assert keys.calls == {"one": 3}
