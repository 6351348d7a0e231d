"""The audit trail's promises, for any journey: a decision replays to what was recorded, a
what-if study with the same rules finds nothing, and any single altered event — in an
evidence bundle or in the store's own rows — is found and named."""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.persistence.chain import HEADER_BYTES, is_chained
from adapters.persistence.settings import eventsourcing_env
from adapters.persistence.store import EventsourcingStore
from app.audit import what_if
from app.evidence_bundle import EVENTS, MEDIA, build_bundle, verify_bundle
from app.ports.event_store import UnreadableEvent
from app.privacy import erase_candidate
from app.read_models import Projections
from app.replay import replay_review, replay_reviews
from domain.evidence import FlagKind
from domain.proctored_session import ProctoredSession
from domain.review import Review
from domain.rules import CURRENT_RULES
from domain.verdict import _FLAG_REASON
from ui.journey import Plan, decided_journey, platform_with_examiner

JOURNEYS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TAMPERING = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

flags = st.lists(
    st.tuples(
        st.sampled_from([k for k in FlagKind if k in _FLAG_REASON]),
        st.floats(min_value=0.3, max_value=1.0, allow_nan=False).map(lambda c: round(c, 2)),
    ),
    max_size=4,
)


plans = st.builds(
    Plan,
    waive_id_photo=st.booleans(),
    flags=flags,
    tab_closed=st.booleans(),
    technical_problem=st.booleans(),
    invalidate_on_hint=st.booleans(),
)


# --- replay ---------------------------------------------------------------------------------


@JOURNEYS
@given(plan=plans)
def test_any_decided_journey_replays_to_its_recorded_recommendation(plan: Plan) -> None:
    with platform_with_examiner() as (platform, examiner):
        review_id = decided_journey(platform, plan, examiner)
        store = platform.store
        alone = replay_review(store, review_id)
        (batched,) = replay_reviews(store, [review_id])
        for report in (alone, batched):
            assert report.matches, report.differences
            assert report.replayed == report.recorded
            assert report.verdict is not None
            assert report.verdict_version == CURRENT_RULES.verdict_version
        head = store.head()
        study = what_if(store, CURRENT_RULES)
        assert study.reviews == 1 and study.differences == []
        assert store.head() == head, "a what-if study wrote to the log"
        # Erasing the person changes nothing the decision rests on: it still replays the
        # same, and the store's chain still verifies.
        candidate = platform.ctx.store.get(
            platform.ctx.store.get(review_id, Review).session_id, ProctoredSession
        ).candidate_id
        erase_candidate(
            platform.ctx,
            platform.keys,
            platform.projections,
            candidate,
            reason="request",
            by="a test",
            system_account="tests@127.0.0.1",
        )
        erased = replay_review(store, review_id)
        assert erased.matches, erased.differences
        assert erased.replayed == alone.replayed and erased.verdict == alone.verdict
        assert store.verify_chain().intact


# --- one journey, tampered with ----------------------------------------------------------------

PLAN = Plan(
    waive_id_photo=False,
    flags=[(FlagKind.SEVERAL_FACES, 0.9), (FlagKind.VOICE, 0.5)],
    tab_closed=False,
    technical_problem=True,
    invalidate_on_hint=True,
)


@pytest.fixture(scope="module")
def bundle() -> dict[str, bytes]:
    with platform_with_examiner() as (platform, examiner):
        review_id = decided_journey(platform, PLAN, examiner)
        files = build_bundle(platform.store, review_id)
    assert verify_bundle(files).intact
    return files


def _lines(files: dict[str, bytes]) -> list[bytes]:
    return files[EVENTS].split(b"\n")[:-1]


@TAMPERING
@given(data=st.data())
def test_any_altered_bundle_line_fails_verify_and_is_named_first(
    bundle: dict[str, bytes], data: st.DataObject
) -> None:
    lines = _lines(bundle)
    index = data.draw(st.integers(0, len(lines) - 1), label="line")
    line = msgspec.json.decode(lines[index])
    how = data.draw(st.sampled_from(["byte", "timestamp", "hash", "prev", "payload"]), label="how")
    if how == "byte":
        position = data.draw(st.integers(0, len(lines[index]) - 1), label="position")
        altered = bytearray(lines[index])
        altered[position] = (altered[position] + 1) % 128 or 1
        new_line = bytes(altered)
    else:
        if how == "timestamp":
            line["event"]["timestamp"] = "2020-01-01T00:00:00+00:00"
        elif how in ("hash", "prev"):
            line[how] = "0" * 64
        else:
            line["payload"] = line["payload"].replace('"', "'", 1)
        new_line = msgspec.json.encode(line, order="sorted")
    if new_line == lines[index]:
        return
    lines[index] = new_line
    check = verify_bundle({**bundle, EVENTS: b"".join(x + b"\n" for x in lines)})
    assert not check.intact
    assert check.first_altered is not None
    assert check.first_altered.startswith(f"{EVENTS} line {index + 1}"), check.problems


@TAMPERING
@given(data=st.data())
def test_any_altered_media_hash_fails_verify_and_is_named(
    bundle: dict[str, bytes], data: st.DataObject
) -> None:
    media: list[dict[str, Any]] = msgspec.json.decode(bundle[MEDIA])
    hashed = [i for i, ref in enumerate(media) if "content_hash" in ref]
    index = data.draw(st.sampled_from(hashed), label="entry")
    media[index]["content_hash"] = "sha256:" + "f" * 64
    check = verify_bundle({**bundle, MEDIA: msgspec.json.encode(media, order="sorted")})
    assert not check.intact
    assert check.first_altered == f"{MEDIA} entry {index + 1} ({media[index]['evidence']})"


# --- the store's own chain ----------------------------------------------------------------------


@pytest.fixture(scope="module", params=["memory", "sqlite"])
def chained_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[EventsourcingStore, str]]:
    url = "memory:"
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('chain') / 'store.sqlite'}"
    with platform_with_examiner(url) as (platform, examiner):
        decided_journey(platform, PLAN, examiner)
        report = platform.store.verify_chain()
        assert report.intact and report.unchained == 0 and report.chained == report.events
        yield platform.store, url


def _raw_rows(store: EventsourcingStore) -> list[Any]:
    return list(store._all_rows())


@contextlib.contextmanager
def _altered(store: EventsourcingStore, url: str, row: Any, state: bytes) -> Iterator[None]:
    """Overwrite one stored row's state behind the store's back, then put it back."""
    if url == "memory:":
        recorder: Any = store.app.recorder
        index = recorder._stored_events_index[str(row.originator_id)][row.originator_version]
        original = recorder._stored_events[index]
        recorder._stored_events[index] = dataclasses.replace(original, state=state)
        try:
            yield
        finally:
            recorder._stored_events[index] = original
        return
    path = eventsourcing_env(url)["SQLITE_DBNAME"]
    where = "WHERE originator_id = ? AND originator_version = ?"
    key = (UUID(str(row.originator_id)).hex, row.originator_version)
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute(f"UPDATE stored_events SET state = ? {where}", (state, *key))
        connection.commit()
        try:
            yield
        finally:
            connection.execute(f"UPDATE stored_events SET state = ? {where}", (row.state, *key))
            connection.commit()


@TAMPERING
@given(data=st.data())
def test_any_altered_stored_event_fails_verify_store_naming_its_stream_and_version(
    chained_store: tuple[EventsourcingStore, str], data: st.DataObject
) -> None:
    store, url = chained_store
    rows = _raw_rows(store)
    row = data.draw(st.sampled_from(rows), label="row")
    state = bytes(row.state)
    assert is_chained(state)
    position = data.draw(
        st.one_of(st.integers(4, HEADER_BYTES - 1), st.integers(HEADER_BYTES, len(state) - 1)),
        label="byte",
    )
    altered = bytearray(state)
    altered[position] ^= 0x01
    with _altered(store, url, row, bytes(altered)):
        report = store.verify_chain()
    assert not report.intact
    first = report.breaks[0]
    assert (first.stream, first.version) == (UUID(str(row.originator_id)), row.originator_version)
    assert store.verify_chain().intact


def test_events_stored_before_the_chain_still_decode_and_are_reported_unchained(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    with platform_with_examiner(url) as (platform, examiner):
        review_id = decided_journey(platform, PLAN, examiner)
    # Strip every header, as a store written before the chain existed would hold them.
    path = eventsourcing_env(url)["SQLITE_DBNAME"]
    with contextlib.closing(sqlite3.connect(path)) as connection:
        rows = connection.execute(
            "SELECT originator_id, originator_version, state FROM stored_events"
        ).fetchall()
        for originator, version, state in rows:
            connection.execute(
                "UPDATE stored_events SET state = ? WHERE originator_id = ? "
                "AND originator_version = ?",
                (state[HEADER_BYTES:], originator, version),
            )
        connection.commit()
    store = EventsourcingStore(url)
    try:
        report = store.verify_chain()
        assert report.intact and report.chained == 0 and report.unchained == report.events
        assert replay_review(store, review_id).matches
        # A new event on an old stream seals the unchained history before it.
        review = store.get(review_id, Review)
        review.release_results(
            at=review.decided_at or review.modified_on, released_by=review.examiner_id
        )
        store.save(review)
        after = store.verify_chain()
        assert after.intact and after.chained == 1
    finally:
        store.close()


def test_a_row_inserted_as_a_new_stream_after_the_chain_began_is_a_break(
    tmp_path: Path,
) -> None:
    """Issue 14: a garbage row written as a new stream at version 1 used to pass as pre-chain
    history (INTACT, exit 0). History before the chain comes first in the log; anything
    unchained after the first chained event is named."""
    url = f"sqlite:///{tmp_path / 'forged.sqlite'}"
    with platform_with_examiner(url) as (platform, examiner):
        decided_journey(platform, PLAN, examiner)
    forged = uuid4()
    path = eventsourcing_env(url)["SQLITE_DBNAME"]
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute(
            "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
            "VALUES (?, 1, ?, ?)",
            (forged.hex, "domain.review:Review.Created", b'{"garbage": true}'),
        )
        connection.commit()
    store = EventsourcingStore(url)
    try:
        report = store.verify_chain()
        assert not report.intact
        assert [(b.stream, b.version) for b in report.breaks] == [(forged, 1)]
        assert "after the chain began" in report.breaks[0].problem
        # The row no longer fails every page that catches up: readers step over it.
        unreadable = [
            r.event for r in store.read(0, 100_000) if isinstance(r.event, UnreadableEvent)
        ]
        assert [(e.originator_id, e.originator_version) for e in unreadable] == [(forged, 1)]
        projections = Projections()
        assert projections.catch_up(store) > 0
        assert projections.position == store.head()
    finally:
        store.close()
