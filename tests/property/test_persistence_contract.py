"""The EventStore contract, one body run against every backend (memory, SQLite, PostgreSQL).

Whatever the backend, what is saved comes back equal and typed, no update is ever lost, the
notification log pages back in order, a reader's position moves only forward and atomically
with its events, and a snapshot never changes what an aggregate is.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from eventsourcing.domain import Aggregate, AggregateEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.persistence.store import SNAPSHOT_INTERVALS, EventsourcingStore
from app.ports.event_store import AggregateNotFound, ConcurrencyConflict, Recorded
from domain.candidate import Candidate, PortalProfile
from domain.enrollment import Enrollment
from domain.evidence import Evidence, FlagKind, MediaSpan, ReasonCode, Verdict
from domain.exam_attempt import ExamAttempt
from domain.proctored_session import EnvironmentPart, ProctoredSession
from domain.review import CitedReason, Review
from domain.rules import RULES_2025_03
from domain.scoring import Results, SectionResult

AssertSame = Callable[..., None]

PARIS = ZoneInfo("Europe/Paris")
# A Monday in winter time, far from a DST change: a non-UTC offset without fold surprises.
T0 = datetime(2025, 3, 3, 9, 30, tzinfo=PARIS)

# The store fixture lives for the whole test while hypothesis runs many examples in it: that
# is intended, every example works on aggregates with fresh ids.
PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


# --- aggregates with every kind of value in their state --------------------------------------


def _candidate() -> Candidate:
    candidate = Candidate.register(
        candidate_id=uuid4(),
        email="Camille.Martin@example.org",
        surname="Martin",
        first_name="Camille",
        at=T0,
    )
    candidate.accept_terms(at=_minutes(1))
    candidate.choose_language(at=_minutes(2), language="en")
    profile = PortalProfile("Mx", "Martin", "Camille", date(1990, 2, 28), "Lyon")
    candidate.save_portal_profile(
        at=_minutes(3), email="camille.martin@example.org", profile=profile, password_hash="h$1"
    )
    return candidate


def _enrollment() -> Enrollment:
    enrollment = Enrollment.enrol(
        enrollment_id=uuid4(),
        centre_id=uuid4(),
        candidate_id=uuid4(),
        certification_code="PCIE-BASE",
        exam_duration_minutes=90,
        rules=RULES_2025_03,
        at=T0,
    )
    enrollment.create_exam_session(exam_session_id=uuid4(), at=_minutes(5), live_supervision=True)
    slot = datetime(2025, 3, 5, 10, 0, tzinfo=PARIS)  # a Wednesday, in office hours
    enrollment.book_live_supervision_slot(slot=slot, booked_by=uuid4(), at=_minutes(10))
    enrollment.renew_exam_session(at=_minutes(20))
    return enrollment


def _entered_session(session_id: UUID | None = None) -> ProctoredSession:
    session = ProctoredSession.open(
        session_id=session_id or uuid4(),
        enrollment_id=uuid4(),
        candidate_id=uuid4(),
        certification_code="PCIE-BASE",
        exam_duration_minutes=90,
        rules=RULES_2025_03,
        live_supervision=False,
        at=T0,
    )
    session.enter(at=_minutes(1), terms_accepted=True)
    return session


def _session() -> ProctoredSession:
    session = _entered_session()
    at = _minutes(2)
    session.read_instructions(at=at)
    session.attest_designer_rules(at=at)
    session.acknowledge_secure_mode(at=at)
    session.attest_general_conditions(at=at)
    session.confirm_sound_heard(at=at)
    session.start_microphone_recording(at=at)
    session.stop_microphone_recording(at=at)
    session.check_camera(at=at, working=True)
    session.record_connection_test(at=at, round_trip_ms=42.5, upload_kbps=900.0, passed=True)
    session.take_face_photo(at=at, media_id="m-face", content_hash="sha256:f")
    session.confirm_face_photo(at=at)
    session.take_id_photo(at=at, media_id="m-id", content_hash="sha256:i")
    session.confirm_id_photo(at=at)
    for part in EnvironmentPart:
        session.start_environment_recording(at=at, part=part, media_id=f"m-{part.value}")
        session.stop_environment_recording(
            at=_minutes(3), part=part, content_hash=f"sha256:{part.value}", attempt_id=uuid4()
        )
    session.record_proctoring_tab_closed(at=_minutes(30), span=MediaSpan(1740.0, 1790.5))
    session.raise_flag(
        at=_minutes(31),
        flag_id="f-1",
        kind=FlagKind.VOICE,
        span=MediaSpan(1.5, 3.0),
        confidence=0.7,
    )
    session.record_technical_problem(
        at=_minutes(32), description="webcam froze", recorded_by=uuid4()
    )
    session.close(at=_minutes(100))
    return session


def _attempt_in_progress() -> ExamAttempt:
    attempt = ExamAttempt.open(
        attempt_id=uuid4(),
        session_id=uuid4(),
        candidate_id=uuid4(),
        certification_code="PCIE-BASE",
        duration_minutes=90,
        practice_offered=True,
        rules=RULES_2025_03,
        at=T0,
    )
    attempt.take_practice_questionnaire(at=_minutes(1), score_percent=62.5)
    attempt.select_tile(at=_minutes(2), certification_code="PCIE-BASE", profile_complete=True)
    attempt.start_now(at=_minutes(3))
    attempt.workspace_connected(at=_minutes(4), workspace_ref="vm-17")
    attempt.begin(at=_minutes(5))
    return attempt


def _finish(attempt: ExamAttempt, at: datetime) -> ExamAttempt:
    attempt.finish(at=at)
    results = Results(12, 20, True, (SectionResult("tableur", 7, 10), SectionResult("web", 5, 10)))
    attempt.show_results(at=at, results=results, validation_code="K7Q2")
    attempt.validate(at=at, typed_code="K7Q2")
    return attempt


def _attempt() -> ExamAttempt:
    attempt = _attempt_in_progress()
    attempt.answer(at=_minutes(10), question_id="q1", answer="SOMME(A1:A3)")
    attempt.answer(at=_minutes(11), question_id="q2", answer="Générer")
    attempt.answer(at=_minutes(12), question_id="q1", answer="=SOMME(A1:A3)")
    return _finish(attempt, _minutes(60))


def _review() -> Review:
    review = Review.open(
        review_id=uuid4(),
        session_id=uuid4(),
        attempt_id=uuid4(),
        candidate_id=uuid4(),
        certification_code="PCIE-BASE",
        rules=RULES_2025_03,
        at=T0,
    )
    examiner = uuid4()
    review.assign(at=_minutes(1), examiner_id=examiner)
    stream = uuid4()
    evidence = (
        Evidence(f"{stream}/1", "ExamLaunched", _minutes(-60)),
        Evidence(
            f"{stream}/2",
            "FlagRaised",
            _minutes(-30),
            span=MediaSpan(12.0, 15.25),
            flag=FlagKind.PHONE,
            confidence=0.93,
            during_exam=True,
            note="téléphone à gauche",
        ),
    )
    review.gather_evidence(at=_minutes(2), items=evidence)
    review.recommend(at=_minutes(3))
    review.decide(
        at=_minutes(4),
        examiner_id=examiner,
        verdict=Verdict.INVALIDATED,
        reasons=(CitedReason(ReasonCode.IDENTITY_NOT_VERIFIABLE, (f"{stream}/1",)),),
    )
    review.release_results(at=_minutes(5))
    return review


BUILDERS: dict[str, Callable[[], Aggregate]] = {
    "candidate": _candidate,
    "enrollment": _enrollment,
    "proctored_session": _session,
    "exam_attempt": _attempt,
    "review": _review,
}


def _state(aggregate: Aggregate) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def _pending(aggregate: Aggregate) -> list[AggregateEvent]:
    """The events a save is about to record (save() drains them from the aggregate)."""
    return list(typing.cast(list[AggregateEvent], aggregate._pending_events))


def _replay(events: Sequence[AggregateEvent]) -> Aggregate:
    """The aggregate as pure event sourcing defines it: a fold of its events."""
    aggregate: Any = None
    for event in events:
        aggregate = event.mutate(aggregate)
    assert isinstance(aggregate, Aggregate)
    return aggregate


def _raise_flags(session: ProctoredSession, count: int, *, first: int = 0) -> None:
    kinds = list(FlagKind)
    for n in range(first, first + count):
        session.raise_flag(
            at=_minutes(2 + n / 100),
            flag_id=f"flag-{n}",
            kind=kinds[n % len(kinds)],
            span=MediaSpan(float(n), n + 0.5),
            confidence=(n % 100) / 100,
        )


# --- save and load -----------------------------------------------------------------------------


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS.keys())
def test_a_saved_aggregate_loads_back_equal_with_the_same_types(
    store: EventsourcingStore, build: Callable[[], Aggregate], assert_same_value: AssertSame
) -> None:
    aggregate = build()
    expected = _state(aggregate)

    store.save(aggregate)
    loaded = store.get(aggregate.id, type(aggregate))

    assert type(loaded) is type(aggregate)
    assert_same_value(_state(loaded), expected, type(aggregate).__name__)


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS.keys())
def test_history_returns_every_event_of_one_aggregate_oldest_first(
    store: EventsourcingStore, build: Callable[[], Aggregate], assert_same_value: AssertSame
) -> None:
    aggregate, other = build(), build()
    events = _pending(aggregate)

    store.save(aggregate, other)
    history = store.history(aggregate.id)

    assert [e.originator_version for e in history] == list(range(1, len(events) + 1))
    assert_same_value(list(history), events, "history")
    assert store.history(uuid4()) == []


def test_loading_an_unknown_id_or_an_aggregate_of_another_type_raises_not_found(
    store: EventsourcingStore,
) -> None:
    candidate = _candidate()
    store.save(candidate)
    unknown = uuid4()

    with pytest.raises(AggregateNotFound) as missing:
        store.get(unknown, Candidate)
    with pytest.raises(AggregateNotFound) as wrong_type:
        store.get(candidate.id, Enrollment)

    assert missing.value.aggregate_id == unknown
    assert wrong_type.value.aggregate_id == candidate.id
    assert "Enrollment" in str(wrong_type.value)


# --- concurrency -------------------------------------------------------------------------------


def test_a_second_writer_of_the_same_version_conflicts_and_loses_nothing_after_retrying(
    store: EventsourcingStore,
) -> None:
    session = _entered_session()
    store.save(session)
    # A second store on the same database is another process; in memory it cannot be.
    other = store if store.database_url == "memory:" else EventsourcingStore(store.database_url)
    try:
        first = store.get(session.id, ProctoredSession)
        second = other.get(session.id, ProctoredSession)
        first.raise_flag(
            at=_minutes(5),
            flag_id="a",
            kind=FlagKind.PHONE,
            span=MediaSpan(1.0, 2.0),
            confidence=1.0,
        )
        second.raise_flag(
            at=_minutes(6),
            flag_id="b",
            kind=FlagKind.VOICE,
            span=MediaSpan(3.0, 4.0),
            confidence=0.0,
        )
        store.save(first)
        head = store.head()

        with pytest.raises(ConcurrencyConflict):
            other.save(second)
        assert store.head() == head

        retried = other.get(session.id, ProctoredSession)
        retried.raise_flag(
            at=_minutes(6),
            flag_id="b",
            kind=FlagKind.VOICE,
            span=MediaSpan(3.0, 4.0),
            confidence=0.0,
        )
        other.save(retried)
    finally:
        if other is not store:
            other.close()

    assert store.get(session.id, ProctoredSession).flag_ids == ("a", "b")
    flags = [e for e in store.history(session.id) if isinstance(e, ProctoredSession.FlagRaised)]
    assert [f.flag_id for f in flags] == ["a", "b"]


# --- the notification log ----------------------------------------------------------------------

_FLAG = st.tuples(
    st.sampled_from(FlagKind),
    st.floats(0, 10_000, allow_nan=False),
    st.floats(0, 60, allow_nan=False),
    st.floats(0, 1, allow_nan=False),
)


@PROPERTY
@given(
    batches=st.lists(st.lists(_FLAG, min_size=0, max_size=5), min_size=1, max_size=4),
    page_size=st.integers(1, 7),
)
def test_any_sequence_of_saved_flag_batches_pages_back_identically(
    store: EventsourcingStore,
    assert_same_value: AssertSame,
    batches: list[list[tuple[FlagKind, float, float, float]]],
    page_size: int,
) -> None:
    start = store.head()
    session = _entered_session()
    saved: list[AggregateEvent] = []
    returned: list[tuple[int, int]] = []  # (events in the save, position it answered)

    def save() -> None:
        pending = _pending(session)
        saved.extend(pending)
        returned.append((len(pending), store.save(session)))

    save()
    n = 0
    for batch in batches:
        for kind, begin, length, confidence in batch:
            session.raise_flag(
                at=_minutes(10 + n),
                flag_id=f"flag-{n}",
                kind=kind,
                span=MediaSpan(begin, begin + length),
                confidence=confidence,
            )
            n += 1
        save()

    paged: list[Recorded] = []
    after = start
    while page := store.read(after, page_size):
        assert len(page) <= page_size
        assert page[0].position > after, "a page starts after the position asked for"
        paged += page
        after = page[-1].position

    positions = [recorded.position for recorded in paged]
    assert positions == sorted(set(positions)), "positions must strictly increase"
    assert all(position > start for position in positions)
    assert store.head() == positions[-1]
    assert_same_value([recorded.event for recorded in paged], saved, "log")
    # save() answers the position of its last event, or 0 when it had nothing to record.
    written = 0
    for count, position in returned:
        written += count
        assert position == (positions[written - 1] if count else 0)


# --- reader positions (tracking) ---------------------------------------------------------------


def test_a_reader_position_is_recorded_atomically_with_the_events_and_never_moves_back(
    store: EventsourcingStore,
) -> None:
    assert store.position_of("never-seen") == 0

    first = _candidate()
    store.save(first, tracking=("mailer", 5))
    assert store.position_of("mailer") == 5
    assert store.get(first.id, Candidate).version == first.version
    head = store.head()

    for stale in (5, 3):
        late = _candidate()
        with pytest.raises(ConcurrencyConflict):
            store.save(late, tracking=("mailer", stale))
        with pytest.raises(AggregateNotFound):
            store.get(late.id, Candidate)
        assert store.head() == head
        assert store.position_of("mailer") == 5

    # A reader that handled an event needing no new one still moves on.
    assert store.save(tracking=("mailer", 9)) == 0
    assert store.position_of("mailer") == 9
    assert store.position_of("projector") == 0


@PROPERTY
@given(positions=st.lists(st.integers(1, 40), min_size=1, max_size=8))
def test_a_reader_position_is_accepted_only_when_it_moves_forward(
    store: EventsourcingStore, positions: list[int]
) -> None:
    reader = f"reader-{uuid4().hex}"
    current = 0
    for position in positions:
        candidate = _candidate()
        if position > current:
            store.save(candidate, tracking=(reader, position))
            current = position
            assert store.get(candidate.id, Candidate).version == candidate.version
        else:
            with pytest.raises(ConcurrencyConflict):
                store.save(candidate, tracking=(reader, position))
            assert store.history(candidate.id) == []
        assert store.position_of(reader) == current


# --- snapshots ---------------------------------------------------------------------------------


def _long_session() -> ProctoredSession:
    session = _entered_session()
    _raise_flags(session, 120)
    return session


def _long_attempt() -> ExamAttempt:
    attempt = _attempt_in_progress()
    for n in range(120):
        attempt.answer(at=_minutes(6 + n / 5), question_id=f"q{n % 70}", answer=f"réponse {n}")
    return _finish(attempt, _minutes(80))


LONG_STREAMS: dict[str, Callable[[], Aggregate]] = {
    "proctored_session": _long_session,
    "exam_attempt": _long_attempt,
}


@pytest.mark.parametrize("build", LONG_STREAMS.values(), ids=LONG_STREAMS.keys())
def test_a_stream_past_the_snapshot_interval_reloads_equal_to_a_pure_replay(
    store: EventsourcingStore, build: Callable[[], Aggregate], assert_same_value: AssertSame
) -> None:
    aggregate = build()
    interval = SNAPSHOT_INTERVALS[type(aggregate)]
    assert aggregate.version > interval, "the stream must pass the snapshot interval"

    store.save(aggregate)

    assert store.app.snapshots is not None
    snapshots = list(store.app.snapshots.get(aggregate.id))
    assert [s.originator_version for s in snapshots] == [interval]
    history = store.history(aggregate.id)
    # The snapshot alone must rebuild exactly what its events build.
    assert_same_value(
        _state(typing.cast(Aggregate, snapshots[0].mutate(None))),  # type: ignore[attr-defined]
        _state(_replay(history[:interval])),
        "snapshot",
    )
    loaded = store.get(aggregate.id, type(aggregate))
    assert_same_value(_state(loaded), _state(_replay(history)), "loaded")
    assert_same_value(_state(loaded), _state(aggregate), "original")


def test_a_session_snapshotted_twice_keeps_growing_from_its_latest_snapshot(
    store: EventsourcingStore, assert_same_value: AssertSame
) -> None:
    session = _long_session()
    store.save(session)
    reloaded = store.get(session.id, ProctoredSession)
    _raise_flags(reloaded, 90, first=120)
    store.save(reloaded)

    assert store.app.snapshots is not None
    assert [s.originator_version for s in store.app.snapshots.get(session.id)] == [100, 200]
    loaded = store.get(session.id, ProctoredSession)
    assert loaded.version == 212
    assert len(loaded.flag_ids) == 210
    assert_same_value(_state(loaded), _state(_replay(store.history(session.id))), "loaded")
