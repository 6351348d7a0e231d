"""Issue 14, integrity: a row written behind the store's back is named by `verify-store`, its
stream is quarantined (loading it raises `StreamQuarantined`), and every other stream still
loads — on SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from adapters.persistence.chain import HEADER_BYTES
from adapters.persistence.settings import eventsourcing_env
from adapters.persistence.store import EventsourcingStore
from app.ports.event_store import StreamQuarantined, UnreadableEvent
from domain.candidate import Candidate
from domain.enrollment import Enrollment
from domain.proctored_session import ProctoredSession
from tests.acceptance.quarantine_rows import (
    GARBAGE,
    append_copy_without_header,
    append_garbage,
    append_sealed_garbage,
    insert_row,
)
from ui.cli import main
from ui.journey import Journey, make_platform

Forgery = Callable[[str, EventsourcingStore, UUID], int]
FORGERIES: dict[str, Forgery] = {
    "garbage appended": append_garbage,
    "garbage behind a right header": append_sealed_garbage,
    "a real event copied without its header": append_copy_without_header,
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vigie.sqlite'}"
    postgres_url: str = request.getfixturevalue("postgres_url")
    return postgres_url


@pytest.fixture
def journey(url: str) -> Iterator[Journey]:
    """A candidate enrolled with an exam session, in a store on disk."""
    platform = make_platform(url)
    journey = Journey(platform)
    journey.enrol()
    journey.create_session()
    journey.enter()
    journey.pass_attestations()
    yield journey
    platform.close()


def verify_store(url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["--database-url", url, "audit", "verify-store"])
    return code, capsys.readouterr().out


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_forged_row_in_a_stream_quarantines_that_stream_only(
    url: str, journey: Journey, forge: Forgery, capsys: pytest.CaptureFixture[str]
) -> None:
    session_id, store = journey.session_id, journey.platform.store
    assert session_id is not None and journey.candidate_id and journey.enrollment_id
    version = forge(url, store, session_id)

    code, out = verify_store(url, capsys)
    assert code == 1
    assert f"QUARANTINED: stream {session_id} version {version}" in out

    fresh = EventsourcingStore(url)  # another process: nothing cached
    try:
        with pytest.raises(StreamQuarantined) as refused:
            fresh.get(session_id, ProctoredSession)
        assert (refused.value.quarantine.stream, refused.value.quarantine.version) == (
            session_id,
            version,
        )
        assert [q.stream for q in fresh.quarantined()] == [session_id]
        with pytest.raises(StreamQuarantined):  # known now: refused at once
            fresh.get(session_id, ProctoredSession)
        with pytest.raises(StreamQuarantined):
            fresh.history(session_id)
        # The rest of the store is as it was.
        assert fresh.get(journey.candidate_id, Candidate).id == journey.candidate_id
        assert fresh.get(journey.enrollment_id, Enrollment).id == journey.enrollment_id
    finally:
        fresh.close()
    # The process that had the session in memory finds out at its next load.
    with pytest.raises(StreamQuarantined):
        store.get(session_id, ProctoredSession)
    # The command line names it, without a traceback.
    assert main(["--database-url", url, "history", str(session_id)]) == 1
    assert f"stream {session_id} is quarantined" in capsys.readouterr().err


def test_a_garbage_row_as_a_new_stream_is_named_quarantined_and_stepped_over(
    url: str, journey: Journey, capsys: pytest.CaptureFixture[str]
) -> None:
    forged = uuid4()
    insert_row(url, forged, 1, "domain.review:Review.Created", GARBAGE)

    code, out = verify_store(url, capsys)
    assert code == 1
    assert f"QUARANTINED: stream {forged} version 1" in out
    assert "ALTERED: 1 stream(s) quarantined" in out

    fresh = EventsourcingStore(url)
    try:
        # Reading the log (every read model does) finds it, hands it over as unreadable.
        unreadable = [
            r.event for r in fresh.read(0, 10_000) if isinstance(r.event, UnreadableEvent)
        ]
        assert [(e.originator_id, e.originator_version) for e in unreadable] == [(forged, 1)]
        assert [q.stream for q in fresh.quarantined()] == [forged]
        with pytest.raises(StreamQuarantined):
            fresh.get(forged, ProctoredSession)
    finally:
        fresh.close()
    # The candidate's journey goes on.
    journey.platform.projections.catch_up(journey.platform.store)
    journey.pass_equipment()


def test_a_decodable_row_without_header_as_a_new_stream_is_never_handed_over_as_a_fact(
    url: str, journey: Journey, capsys: pytest.CaptureFixture[str]
) -> None:
    """A copy of a real event under a new id, without the header: it decodes, but it was
    written after the chain began, so readers (policies, read models) never act on it."""
    store = journey.platform.store
    assert journey.session_id is not None
    record = store.records([journey.session_id])[journey.session_id][0]
    forged = uuid4()
    insert_row(url, forged, 1, record.topic, record.payload)

    code, out = verify_store(url, capsys)
    assert code == 1 and f"QUARANTINED: stream {forged} version 1" in out
    fresh = EventsourcingStore(url)
    try:
        with pytest.raises(StreamQuarantined):
            fresh.get(forged, ProctoredSession)
        read = [r.event for r in fresh.read(0, 10_000) if r.event.originator_id == forged]
        assert len(read) == 1 and isinstance(read[0], UnreadableEvent)
    finally:
        fresh.close()


def test_a_healthy_store_has_nothing_quarantined(
    url: str, journey: Journey, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = verify_store(url, capsys)
    assert code == 0 and "INTACT" in out and "QUARANTINED" not in out
    assert journey.platform.store.quarantined() == []


def test_a_quarantined_enrolment_does_not_hold_back_the_other_deadlines(url: str) -> None:
    """The deadline process skips a quarantined stream and records everyone else's facts."""
    platform = make_platform(url)
    try:
        first, second = Journey(platform, email="a@example.org"), Journey(platform)
        first.enrol()
        second.enrol()
        assert first.enrollment_id and second.enrollment_id
        append_garbage(url, platform.store, first.enrollment_id)
        first.clock.advance(days=80)  # reminders due for both
        report = platform.tick()
        assert report.count >= 1
        reminded = [
            e
            for e in platform.store.history(second.enrollment_id)
            if isinstance(e, Enrollment.DeadlineReminderDue)
        ]
        assert reminded
        with pytest.raises(StreamQuarantined):
            platform.store.get(first.enrollment_id, Enrollment)
    finally:
        platform.close()


def test_history_from_before_the_chain_still_loads_and_a_row_forged_after_it_does_not(
    tmp_path: Path,
) -> None:
    """An old store: rows written before the chain are history (they load); the chain begins
    with the first sealed row; an unchained row written after that is quarantined."""
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    platform = make_platform(url)
    journey = Journey(platform)
    journey.enrol()
    journey.create_session()
    platform.close()
    path = eventsourcing_env(url)["SQLITE_DBNAME"]
    with contextlib.closing(sqlite3.connect(path)) as connection:  # as before the chain
        for originator, version, state in connection.execute(
            "SELECT originator_id, originator_version, state FROM stored_events"
        ).fetchall():
            connection.execute(
                "UPDATE stored_events SET state = ? WHERE originator_id = ? "
                "AND originator_version = ?",
                (state[HEADER_BYTES:], originator, version),
            )
        connection.commit()
    platform = make_platform(url)
    try:
        journey.platform = platform
        journey.enter()  # the chain begins: sealed rows from here on
        assert journey.session_id and journey.enrollment_id and journey.candidate_id
        forged_at = append_copy_without_header(url, platform.store, journey.enrollment_id)
    finally:
        platform.close()
    fresh = EventsourcingStore(url)
    try:
        fresh.get(journey.session_id, ProctoredSession)  # old rows, then sealed ones
        fresh.get(journey.candidate_id, Candidate)
        with pytest.raises(StreamQuarantined) as refused:
            fresh.get(journey.enrollment_id, Enrollment)
        assert refused.value.quarantine.version == forged_at
        assert [q.stream for q in fresh.quarantined()] == [journey.enrollment_id]
    finally:
        fresh.close()
