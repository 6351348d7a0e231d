"""Issue 15: the exam tab's heartbeat is answered without a query when the web process holds
the attempt and PostgreSQL's announcements say nothing was appended to it since
(`EventStore.held`, adapters/log_listener.py's `vigie_streams`). Never a stale attempt: any
other writer's append, this process's own save, a reader's write not yet heard, a commit of
many streams, or a dropped listening connection sends the read back to the store."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.log_listener import STREAMS_NAMED, PostgresLogHead
from app.read_models import SEEN
from domain.exam_attempt import ExamAttempt
from vigie_contracts.samples import WINDOW, an_attempt_in_progress, minutes

pytestmark = pytest.mark.postgres


@pytest.fixture
def two(postgres_url: str) -> Iterator[tuple[Platform, Platform]]:
    """A listening web process and another writer on the same store."""
    settings = Settings(database_url=postgres_url, media_root=None, launcher="memory")
    web = bootstrap(settings, listen=True)
    other = bootstrap(settings)
    yield web, other
    web.close()
    other.close()


def until(condition: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def heard_up_to(web: Platform, position: int) -> Callable[[], bool]:
    head = web.projections.head
    assert isinstance(head, PostgresLogHead)
    return lambda: (mark := head.mark()) is not None and mark[1] >= position


def test_a_held_attempt_is_the_current_one_or_none(two: tuple[Platform, Platform]) -> None:
    web, other = two
    store = web.ctx.store
    attempt = an_attempt_in_progress()
    other.ctx.store.save(attempt)
    assert until(heard_up_to(web, other.store.head()))
    assert store.held(attempt.id, ExamAttempt) is None  # never read here yet

    read = store.get(attempt.id, ExamAttempt, to_read=True)
    held = store.held(attempt.id, ExamAttempt)
    assert held is not None and held.version == read.version == attempt.version

    # Another writer appends: once announced, the held copy is refused, the store asked.
    elsewhere = other.ctx.store.get(attempt.id, ExamAttempt)
    elsewhere.answer(at=minutes(6), window=WINDOW, question_id="q1", answer="42")
    position = other.ctx.store.save(elsewhere)
    assert until(heard_up_to(web, position))
    assert store.held(attempt.id, ExamAttempt) is None
    assert store.get(attempt.id, ExamAttempt, to_read=True).version == elsewhere.version
    again = store.held(attempt.id, ExamAttempt)
    assert again is not None and again.version == elsewhere.version

    # A reader who wrote further than this process heard: the store is asked.
    token = SEEN.set(position + 1)
    try:
        assert store.held(attempt.id, ExamAttempt) is None
    finally:
        SEEN.reset(token)

    # This process's own save: the copy it holds misses it until read again.
    mine = store.get(attempt.id, ExamAttempt)
    mine.answer(at=minutes(7), window=WINDOW, question_id="q2", answer="7")
    store.save(mine)
    assert store.held(attempt.id, ExamAttempt) is None
    assert store.get(attempt.id, ExamAttempt, to_read=True).version == mine.version


def test_a_commit_of_many_streams_or_a_lost_connection_vouches_for_none(
    two: tuple[Platform, Platform], postgres_url: str
) -> None:
    import psycopg

    web, other = two
    store = web.ctx.store
    attempt = an_attempt_in_progress()
    other.ctx.store.save(attempt)
    assert until(heard_up_to(web, other.store.head()))
    store.get(attempt.id, ExamAttempt, to_read=True)
    assert store.held(attempt.id, ExamAttempt) is not None

    # More streams than one announcement names: every stream counts as moved.
    many = [an_attempt_in_progress() for _ in range(STREAMS_NAMED + 1)]
    position = other.ctx.store.save(*many)
    assert until(heard_up_to(web, position))
    assert store.held(attempt.id, ExamAttempt) is None
    store.get(attempt.id, ExamAttempt, to_read=True)
    assert store.held(attempt.id, ExamAttempt) is not None

    # The listening connection drops: what it heard before vouches for nothing after.
    head = web.projections.head
    assert isinstance(head, PostgresLogHead) and head.backend_pid is not None
    pid = head.backend_pid
    with psycopg.connect(postgres_url.split("?", maxsplit=1)[0], autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert until(lambda: head.backend_pid != pid and head.mark() is not None)
    assert store.held(attempt.id, ExamAttempt) is None
