"""The EventStore contract: one body for every backend (ours: memory, SQLite, PostgreSQL).

Whatever the backend, what is saved comes back equal and typed, no update is ever lost, the
notification log pages back in order, and a reader's position moves only forward and
atomically with its events.

The `adapter` is an empty store. `second_writer` is another writer on the same store: by
default the adapter itself (two copies of one aggregate loaded from it still race); a test
module may give a store opened on the same database instead, as another process would.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import uuid4

import pytest
from eventsourcing.domain import Aggregate, AggregateEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.ports.event_store import (
    AggregateNotFound,
    ConcurrencyConflict,
    EventStore,
    Recorded,
    UnreadableEvent,
)
from domain.candidate import Candidate
from domain.enrollment import Enrollment
from domain.evidence import FlagKind, MediaSpan
from domain.exam_attempt import ExamAttempt
from domain.proctored_session import ProctoredSession
from vigie_contracts.checks import assert_same_value
from vigie_contracts.samples import (
    BUILDERS,
    WINDOW,
    a_candidate,
    an_attempt_in_progress,
    an_entered_session,
    minutes,
    pending_events,
    state_of,
)

__all__ = [
    "second_writer",
    "test_a_load_to_read_sees_every_writer_and_no_command_changes_it",
    "test_a_reader_position_is_accepted_only_when_it_moves_forward",
    "test_a_reader_position_is_recorded_atomically_with_the_events_and_never_moves_back",
    "test_a_saved_aggregate_loads_back_equal_with_the_same_types",
    "test_a_second_writer_of_the_same_version_conflicts_and_loses_nothing_after_retrying",
    "test_any_sequence_of_saved_flag_batches_pages_back_identically",
    "test_history_returns_every_event_of_one_aggregate_oldest_first",
    "test_loading_an_unknown_id_or_an_aggregate_of_another_type_raises_not_found",
    "test_what_the_store_wrote_itself_is_never_quarantined",
]

# The store fixture lives for the whole test while hypothesis runs many examples in it: that
# is intended, every example works on aggregates with fresh ids.
PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture
def second_writer(adapter: EventStore) -> EventStore:
    """Another writer on the adapter's store (overridable): the adapter itself by default."""
    return adapter


# --- save and load -----------------------------------------------------------------------------


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS.keys())
def test_a_saved_aggregate_loads_back_equal_with_the_same_types(
    adapter: EventStore, build: Callable[[], Aggregate]
) -> None:
    aggregate = build()
    expected = state_of(aggregate)

    adapter.save(aggregate)
    loaded = adapter.get(aggregate.id, type(aggregate))

    assert type(loaded) is type(aggregate)
    assert_same_value(state_of(loaded), expected, type(aggregate).__name__)


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS.keys())
def test_history_returns_every_event_of_one_aggregate_oldest_first(
    adapter: EventStore, build: Callable[[], Aggregate]
) -> None:
    aggregate, other = build(), build()
    events = pending_events(aggregate)

    adapter.save(aggregate, other)
    history = adapter.history(aggregate.id)

    assert [e.originator_version for e in history] == list(range(1, len(events) + 1))
    assert_same_value(list(history), events, "history")
    assert adapter.history(uuid4()) == []


def test_a_load_to_read_sees_every_writer_and_no_command_changes_it(
    adapter: EventStore, second_writer: EventStore
) -> None:
    """`get(..., to_read=True)` (the exam tab's heartbeat) sees what another writer saved,
    and what a command does to its own copy reaches no reader before it is saved."""
    attempt = an_attempt_in_progress()
    adapter.save(attempt)
    read = adapter.get(attempt.id, ExamAttempt, to_read=True)
    assert read.version == attempt.version

    elsewhere = second_writer.get(attempt.id, ExamAttempt)
    elsewhere.answer(at=minutes(6), window=WINDOW, question_id="q1", answer="42")
    second_writer.save(elsewhere)
    assert adapter.get(attempt.id, ExamAttempt, to_read=True).version == elsewhere.version

    command = adapter.get(attempt.id, ExamAttempt)
    command.answer(at=minutes(7), window=WINDOW, question_id="q2", answer="unsaved")
    seen = adapter.get(attempt.id, ExamAttempt, to_read=True)
    assert seen.version == elsewhere.version
    assert "q2" not in seen.answers


def test_loading_an_unknown_id_or_an_aggregate_of_another_type_raises_not_found(
    adapter: EventStore,
) -> None:
    candidate = a_candidate()
    adapter.save(candidate)
    unknown = uuid4()

    with pytest.raises(AggregateNotFound) as missing:
        adapter.get(unknown, Candidate)
    with pytest.raises(AggregateNotFound) as wrong_type:
        adapter.get(candidate.id, Enrollment)

    assert missing.value.aggregate_id == unknown
    assert wrong_type.value.aggregate_id == candidate.id
    assert "Enrollment" in str(wrong_type.value)


def test_what_the_store_wrote_itself_is_never_quarantined(adapter: EventStore) -> None:
    """Quarantine is for rows written behind the store's back (issue 14): everything saved
    through the port loads, reads back as itself, and leaves the list empty."""
    candidate = a_candidate()
    adapter.save(candidate)
    adapter.get(candidate.id, Candidate)
    read = [r.event for r in adapter.read(0, 10_000) if r.event.originator_id == candidate.id]
    assert read and not any(isinstance(e, UnreadableEvent) for e in read)
    assert list(adapter.quarantined()) == []


# --- concurrency -------------------------------------------------------------------------------


def test_a_second_writer_of_the_same_version_conflicts_and_loses_nothing_after_retrying(
    adapter: EventStore, second_writer: EventStore
) -> None:
    session = an_entered_session()
    adapter.save(session)
    other = second_writer
    first = adapter.get(session.id, ProctoredSession)
    second = other.get(session.id, ProctoredSession)
    first.raise_flag(
        at=minutes(5),
        flag_id="a",
        kind=FlagKind.PHONE,
        span=MediaSpan(1.0, 2.0),
        confidence=1.0,
    )
    second.raise_flag(
        at=minutes(6),
        flag_id="b",
        kind=FlagKind.VOICE,
        span=MediaSpan(3.0, 4.0),
        confidence=0.0,
    )
    adapter.save(first)
    head = adapter.head()

    with pytest.raises(ConcurrencyConflict):
        other.save(second)
    assert adapter.head() == head

    retried = other.get(session.id, ProctoredSession)
    retried.raise_flag(
        at=minutes(6),
        flag_id="b",
        kind=FlagKind.VOICE,
        span=MediaSpan(3.0, 4.0),
        confidence=0.0,
    )
    other.save(retried)

    assert adapter.get(session.id, ProctoredSession).flag_ids == ("a", "b")
    flags = [e for e in adapter.history(session.id) if isinstance(e, ProctoredSession.FlagRaised)]
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
    adapter: EventStore,
    batches: list[list[tuple[FlagKind, float, float, float]]],
    page_size: int,
) -> None:
    start = adapter.head()
    session = an_entered_session()
    saved: list[AggregateEvent] = []
    returned: list[tuple[int, int]] = []  # (events in the save, position it answered)

    def save() -> None:
        pending = pending_events(session)
        saved.extend(pending)
        returned.append((len(pending), adapter.save(session)))

    save()
    n = 0
    for batch in batches:
        for kind, begin, length, confidence in batch:
            session.raise_flag(
                at=minutes(10 + n),
                flag_id=f"flag-{n}",
                kind=kind,
                span=MediaSpan(begin, begin + length),
                confidence=confidence,
            )
            n += 1
        save()

    paged: list[Recorded] = []
    after = start
    while page := adapter.read(after, page_size):
        assert len(page) <= page_size
        assert page[0].position > after, "a page starts after the position asked for"
        paged += page
        after = page[-1].position

    positions = [recorded.position for recorded in paged]
    assert positions == sorted(set(positions)), "positions must strictly increase"
    assert all(position > start for position in positions)
    assert adapter.head() == positions[-1]
    assert_same_value([recorded.event for recorded in paged], saved, "log")
    # save() answers the position of its last event, or 0 when it had nothing to record.
    written = 0
    for count, position in returned:
        written += count
        assert position == (positions[written - 1] if count else 0)


# --- reader positions (tracking) ---------------------------------------------------------------


def test_a_reader_position_is_recorded_atomically_with_the_events_and_never_moves_back(
    adapter: EventStore,
) -> None:
    assert adapter.position_of("never-seen") == 0

    first = a_candidate()
    adapter.save(first, tracking=("mailer", 5))
    assert adapter.position_of("mailer") == 5
    assert adapter.get(first.id, Candidate).version == first.version
    head = adapter.head()

    for stale in (5, 3):
        late = a_candidate()
        with pytest.raises(ConcurrencyConflict):
            adapter.save(late, tracking=("mailer", stale))
        with pytest.raises(AggregateNotFound):
            adapter.get(late.id, Candidate)
        assert adapter.head() == head
        assert adapter.position_of("mailer") == 5

    # A reader that handled an event needing no new one still moves on.
    assert adapter.save(tracking=("mailer", 9)) == 0
    assert adapter.position_of("mailer") == 9
    assert adapter.position_of("projector") == 0


@PROPERTY
@given(positions=st.lists(st.integers(1, 40), min_size=1, max_size=8))
def test_a_reader_position_is_accepted_only_when_it_moves_forward(
    adapter: EventStore, positions: list[int]
) -> None:
    reader = f"reader-{uuid4().hex}"
    current = 0
    for position in positions:
        candidate = a_candidate()
        if position > current:
            adapter.save(candidate, tracking=(reader, position))
            current = position
            assert adapter.get(candidate.id, Candidate).version == candidate.version
        else:
            with pytest.raises(ConcurrencyConflict):
                adapter.save(candidate, tracking=(reader, position))
            assert adapter.history(candidate.id) == []
        assert adapter.position_of(reader) == current
