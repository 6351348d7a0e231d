"""When the exam tab is lost (domain.exam_tab, R17/R23): a reload (F5) or a tab closed and
reopened within RELOAD_GRACE_S is no loss, a tab never opened is never lost, and « Quitter »
in the tab is the candidate's own act (WorkspaceLeft), never a lost tab (a user's tour: an
honest candidate's F5 was recorded « perdu » and shown to the examiner)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.exam_attempt import AttemptStatus, ExamAttempt, ExamWindow
from domain.exam_tab import RELOAD_GRACE_S, TabSighting, TabState, tab_lost
from domain.rules import CURRENT_RULES

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
SILENCE_GRACE_S = 30.0  # the built-in launcher's default
seconds = st.floats(min_value=0, max_value=6 * 3600, allow_nan=False)


def lost(state: TabState, quiet_s: float) -> bool:
    return tab_lost(
        TabSighting(state, T0), T0 + timedelta(seconds=quiet_s), silence_grace_s=SILENCE_GRACE_S
    )


@given(seconds)
def test_a_tab_never_opened_is_never_lost_r17(quiet_s: float) -> None:
    """Provisioned, not opened yet (she may press « Commencer » first): waiting, not lost."""
    assert not lost(TabState.NOT_OPENED, quiet_s)


@given(st.floats(min_value=0, max_value=RELOAD_GRACE_S))
def test_a_tab_closing_comes_back_within_the_grace_no_loss_r23(quiet_s: float) -> None:
    """F5 says « closing » and the new page beats again: judged at any moment of the grace,
    nothing is lost."""
    assert not lost(TabState.CLOSING, quiet_s)


@given(st.floats(min_value=RELOAD_GRACE_S + 0.001, max_value=6 * 3600))  # µs clocks
def test_a_tab_closed_and_not_back_within_the_grace_is_lost_r23(quiet_s: float) -> None:
    assert lost(TabState.CLOSING, quiet_s)


@given(seconds)
def test_an_open_tab_is_lost_only_after_its_silence_grace(quiet_s: float) -> None:
    if abs(quiet_s - SILENCE_GRACE_S) > 0.001:  # a timedelta counts microseconds
        assert lost(TabState.OPEN, quiet_s) is (quiet_s > SILENCE_GRACE_S)


@given(
    closing_s=seconds,
    back_after_s=st.floats(min_value=0, max_value=RELOAD_GRACE_S),
    judged_after_s=st.floats(min_value=0, max_value=SILENCE_GRACE_S),
)
def test_a_reload_judged_at_any_moment_is_no_loss(
    closing_s: float, back_after_s: float, judged_after_s: float
) -> None:
    """The closing word at `closing_s`, the new page's beat within the grace, and the
    deadline pass at any moment from the closing word to a silence grace after the beat."""
    closing = TabSighting(TabState.CLOSING, T0 + timedelta(seconds=closing_s))
    back = TabSighting(TabState.OPEN, closing.at + timedelta(seconds=back_after_s))
    for sighting, judged in (
        (closing, closing.at + timedelta(seconds=min(judged_after_s, back_after_s))),
        (back, back.at + timedelta(seconds=judged_after_s)),
    ):
        assert not tab_lost(sighting, judged, silence_grace_s=SILENCE_GRACE_S)


def test_the_reload_grace_is_shorter_than_the_silence_grace() -> None:
    """Closing the exam tab (R23's first step) is still noticed sooner than a silent tab."""
    assert 5 < RELOAD_GRACE_S < SILENCE_GRACE_S


def test_no_workspace_row_is_judged_lost_as_before() -> None:
    assert tab_lost(None, T0, silence_grace_s=SILENCE_GRACE_S)


# --- « Quitter »: the candidate's own act ----------------------------------------------------


def in_exam() -> ExamAttempt:
    attempt = ExamAttempt.open(
        attempt_id=uuid4(),
        session_id=uuid4(),
        candidate_id=uuid4(),
        certification_code="TOSA-EXCEL",
        duration_minutes=60,
        practice_offered=False,
        rules=CURRENT_RULES,
        at=T0,
    )
    attempt.select_tile(at=T0, certification_code="TOSA-EXCEL", profile_complete=True)
    attempt.start_now(at=T0)
    attempt.workspace_connected(at=T0, workspace_ref="ws-1", url="http://x/w/ws-1")
    attempt.begin(at=T0, window=ExamWindow(last_day=T0.date(), valid_until=T0.date()))
    return attempt


def test_quitter_records_the_candidates_leaving_not_a_lost_tab_r23() -> None:
    attempt = in_exam()
    assert attempt.leave_workspace(at=T0 + timedelta(minutes=5))
    events = attempt.collect_events()
    assert [type(e).__name__ for e in events][-1] == "WorkspaceLeft"
    assert not any(isinstance(e, ExamAttempt.WorkspaceLost) for e in events)
    assert attempt.workspace_ref is None  # it can be reopened, the time running (R23)
    attempt.reopen_workspace(at=T0 + timedelta(minutes=6))
    assert attempt.workspace_pending


@pytest.mark.parametrize("gone", ["left", "lost", "finished"])
def test_quitter_records_nothing_once_the_tab_is_gone_or_the_exam_over(gone: str) -> None:
    attempt = in_exam()
    at = T0 + timedelta(minutes=5)
    if gone == "left":
        attempt.leave_workspace(at=at)
    elif gone == "lost":
        attempt.workspace_lost(at=at, reason="the workspace stopped answering")
    else:
        attempt.finish(at=at)
    before = len(attempt.collect_events())
    assert not attempt.leave_workspace(at=at + timedelta(seconds=1))
    assert not attempt.collect_events()
    assert before > 0
    assert attempt.status in (AttemptStatus.IN_PROGRESS, AttemptStatus.FINISHED)
