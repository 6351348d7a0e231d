"""The EventStore contract (vigie_contracts.event_store), run against every backend (memory, SQLite,
PostgreSQL), and what only our eventsourcing store does: a snapshot never changes what an
aggregate is.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterator

import pytest
from eventsourcing.domain import Aggregate

from adapters.persistence.store import SNAPSHOT_INTERVALS, EventsourcingStore
from domain.exam_attempt import ExamAttempt
from domain.proctored_session import ProctoredSession
from vigie_contracts.event_store import *  # noqa: F403 (the packaged contract bodies, collected here)
from vigie_contracts.samples import (
    WINDOW,
    an_attempt_in_progress,
    an_entered_session,
    finish,
    minutes,
    raise_flags,
    replay,
    state_of,
)

AssertSame = Callable[..., None]


@pytest.fixture
def adapter(store: EventsourcingStore) -> EventsourcingStore:
    """The contract's store: one per backend (the `store_url` parameters of tests/conftest)."""
    return store


@pytest.fixture
def second_writer(store: EventsourcingStore) -> Iterator[EventsourcingStore]:
    """A second store on the same database is another process; in memory it cannot be."""
    if store.database_url == "memory:":
        yield store
        return
    other = EventsourcingStore(store.database_url)
    yield other
    other.close()


# --- snapshots ---------------------------------------------------------------------------------


def _long_session() -> ProctoredSession:
    session = an_entered_session()
    raise_flags(session, 120)
    return session


def _long_attempt() -> ExamAttempt:
    attempt = an_attempt_in_progress()
    for n in range(120):
        attempt.answer(
            at=minutes(6 + n / 5), window=WINDOW, question_id=f"q{n % 70}", answer=f"réponse {n}"
        )
    return finish(attempt, minutes(80))


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
        state_of(typing.cast(Aggregate, snapshots[0].mutate(None))),  # type: ignore[attr-defined]
        state_of(replay(history[:interval])),
        "snapshot",
    )
    loaded = store.get(aggregate.id, type(aggregate))
    assert_same_value(state_of(loaded), state_of(replay(history)), "loaded")
    assert_same_value(state_of(loaded), state_of(aggregate), "original")


def test_a_session_snapshotted_twice_keeps_growing_from_its_latest_snapshot(
    store: EventsourcingStore, assert_same_value: AssertSame
) -> None:
    session = _long_session()
    store.save(session)
    reloaded = store.get(session.id, ProctoredSession)
    raise_flags(reloaded, 90, first=120)
    store.save(reloaded)

    assert store.app.snapshots is not None
    assert [s.originator_version for s in store.app.snapshots.get(session.id)] == [100, 200]
    loaded = store.get(session.id, ProctoredSession)
    assert loaded.version == 212
    assert len(loaded.flag_ids) == 210
    assert_same_value(state_of(loaded), state_of(replay(store.history(session.id))), "loaded")
