"""The WorkspaceHeartbeats contract: an open workspace answers for its attempt, its last beat
is the latest given (or its opening), it says what the tab last said of itself (never opened,
open, closing: domain.exam_tab), marks are kept across a
reopening and go with the workspace; two adapters on the same place see the same rows."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from app.ports.workspace_heartbeats import WorkspaceHeartbeats
from domain.exam_tab import TabSighting, TabState

__all__ = [
    "test_a_workspace_is_open_beats_and_is_forgotten",
    "test_marks_are_kept_across_a_reopening_and_go_with_the_workspace",
]

T0 = datetime(2025, 1, 27, 8, 0, tzinfo=UTC)


def test_a_workspace_is_open_beats_and_is_forgotten(adapter: WorkspaceHeartbeats) -> None:
    attempt, other = uuid4(), uuid4()
    assert adapter.attempt_of("ws-a") is None and adapter.last_beat("ws-a") is None
    assert adapter.beat("ws-a", T0) is None  # not open: nothing
    assert adapter.last_beat("ws-a") is None and adapter.sightings() == {}
    assert adapter.sighting("ws-a") is None

    adapter.open("ws-a", attempt, T0)
    adapter.open("ws-b", other, T0)
    assert adapter.attempt_of("ws-a") == attempt and adapter.attempt_of("ws-b") == other
    assert adapter.last_beat("ws-a") == T0  # silence counts from the opening
    assert adapter.sighting("ws-a") == TabSighting(TabState.NOT_OPENED, T0)
    assert adapter.beat("ws-a", T0 + timedelta(seconds=12.5)) == attempt
    assert adapter.last_beat("ws-a") == T0 + timedelta(seconds=12.5)
    assert adapter.sighting("ws-a") == TabSighting(TabState.OPEN, T0 + timedelta(seconds=12.5))
    assert adapter.last_beat("ws-b") == T0  # only its own row

    adapter.closing("ws-a", T0 + timedelta(seconds=20))  # the tab said it is going away
    assert adapter.sighting("ws-a") == TabSighting(TabState.CLOSING, T0 + timedelta(seconds=20))
    adapter.closing("ws-z", T0)  # not open: nothing
    assert adapter.sighting("ws-z") is None
    adapter.beat("ws-a", T0 + timedelta(minutes=1))  # a living tab again (a reload)
    assert adapter.sighting("ws-a") == TabSighting(TabState.OPEN, T0 + timedelta(minutes=1))
    adapter.beat("ws-b", T0 + timedelta(minutes=1))
    adapter.open("ws-b", other, T0 + timedelta(minutes=2))  # reopened (R23): not opened yet
    assert adapter.last_beat("ws-b") == T0 + timedelta(minutes=2)
    assert adapter.sighting("ws-b") == TabSighting(TabState.NOT_OPENED, T0 + timedelta(minutes=2))

    # Many beats at once (every tab of a room): each row ends with a beat that was given.
    beats = [T0 + timedelta(seconds=s) for s in range(40)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda at: adapter.beat("ws-a", at), beats))
    assert adapter.last_beat("ws-a") in beats
    assert set(adapter.sightings()) == {"ws-a", "ws-b"}
    assert adapter.sightings()["ws-b"] == TabSighting(
        TabState.NOT_OPENED, T0 + timedelta(minutes=2)
    )

    adapter.forget("ws-a")
    adapter.forget("ws-a")  # idempotent
    adapter.forget("never-opened")
    assert adapter.attempt_of("ws-a") is None and adapter.last_beat("ws-a") is None
    assert set(adapter.sightings()) == {"ws-b"}


def test_marks_are_kept_across_a_reopening_and_go_with_the_workspace(
    adapter: WorkspaceHeartbeats,
) -> None:
    adapter.mark("ws-m", "q1", True)  # not open: nothing
    assert adapter.marked("ws-m") == frozenset()
    attempt = uuid4()
    adapter.open("ws-m", attempt, T0)
    adapter.mark("ws-m", "q1", True)
    adapter.mark("ws-m", "q1", True)  # twice is once
    adapter.mark("ws-m", "q2", True)
    adapter.mark("ws-m", "q3", False)  # never marked: nothing
    assert adapter.marked("ws-m") == frozenset({"q1", "q2"})
    adapter.mark("ws-m", "q1", False)
    assert adapter.marked("ws-m") == frozenset({"q2"})
    adapter.replace_marks("ws-m", frozenset({"q3", "q4"}))
    assert adapter.marked("ws-m") == frozenset({"q3", "q4"})
    adapter.open("ws-m", attempt, T0 + timedelta(minutes=5))  # lost, then reopened (R23)
    assert adapter.marked("ws-m") == frozenset({"q3", "q4"})
    adapter.open("ws-n", uuid4(), T0)
    assert adapter.marked("ws-n") == frozenset()  # marks are per workspace
    adapter.forget("ws-m")
    assert adapter.marked("ws-m") == frozenset()
    adapter.replace_marks("ws-m", frozenset({"q9"}))  # not open: nothing
    adapter.open("ws-m", attempt, T0 + timedelta(minutes=9))
    assert adapter.marked("ws-m") == frozenset()  # a new workspace starts unmarked
