"""Accommodations' extra time, for any exam length and percentage: rounded up in the
candidate's favour, added alike to the exam (R4's duration) and to the 3-hour budget, fixed
before the first entry (ACCOMMODATION-BEFORE-START), and rebuilt the same by replay."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.accommodation import extra_minutes
from domain.exam_attempt import ExamAttempt, ExamWindow
from domain.proctored_session import ProctoredSession
from domain.rules import CURRENT_RULES
from tests.property.aggregate_checks import expect_refusal, expect_success, replay, state_of

START = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)
WINDOW = ExamWindow(last_day=date(2025, 6, 2), valid_until=date(2025, 3, 19))  # R1/R3


def _session(duration: int) -> ProctoredSession:
    return ProctoredSession.open(
        session_id=UUID(int=1),
        enrollment_id=UUID(int=2),
        candidate_id=UUID(int=3),
        certification_code="ENI-ACCESS",
        exam_duration_minutes=duration,
        rules=CURRENT_RULES,
        live_supervision=False,
        at=START,
    )


@settings(max_examples=60, deadline=None)
@given(duration=st.integers(60, 150), percent=st.integers(0, 100))
def test_extra_time_is_the_percentage_of_the_exam_rounded_up(duration: int, percent: int) -> None:
    extra = extra_minutes(duration, percent)
    assert extra >= duration * percent / 100 > extra - 1
    assert extra_minutes(duration, 0) == 0


@settings(max_examples=60, deadline=None)
@given(
    duration=st.integers(60, 150),
    percents=st.lists(st.integers(0, 100), min_size=1, max_size=4),
)
def test_the_budget_grows_by_the_exams_extra_minutes_and_is_fixed_at_the_first_entry(
    duration: int, percents: list[int]
) -> None:
    session = _session(duration)
    log: list[Any] = list(session.collect_events())
    for percent in percents:
        changes = extra_minutes(duration, percent) != session.extra_minutes
        minutes = expect_success(
            session,
            lambda p=percent: session.apply_accommodation(at=START, extra_time_percent=p),
            log,
            events=1 if changes else 0,
        )
        assert minutes == session.extra_minutes == extra_minutes(duration, percent)
    assert state_of(replay(log)) == state_of(session)

    entered = START + timedelta(minutes=5)
    session.enter(at=entered, terms_accepted=True)
    log.extend(session.collect_events())
    assert session.budget_ends_at() == entered + timedelta(
        minutes=CURRENT_RULES.session_budget_minutes + extra_minutes(duration, percents[-1])
    )
    expect_refusal(
        session,
        lambda: session.apply_accommodation(at=entered, extra_time_percent=50),
        "ACCOMMODATION-BEFORE-START",
    )
    assert state_of(replay(log)) == state_of(session)


@settings(max_examples=30, deadline=None)
@given(duration=st.integers(60, 150), percent=st.integers(0, 100))
def test_the_exam_ends_after_its_duration_plus_the_same_extra_minutes(
    duration: int, percent: int
) -> None:
    extra = extra_minutes(duration, percent)
    attempt = ExamAttempt.open(
        attempt_id=UUID(int=4),
        session_id=UUID(int=1),
        candidate_id=UUID(int=3),
        certification_code="ENI-ACCESS",
        duration_minutes=duration,
        practice_offered=False,
        rules=CURRENT_RULES,
        at=START,
        extra_minutes=extra,
    )
    attempt.select_tile(at=START, certification_code="ENI-ACCESS", profile_complete=True)
    attempt.start_now(at=START)
    attempt.workspace_connected(at=START, workspace_ref="vm-1")
    ends_at = attempt.begin(at=START, window=WINDOW)
    assert ends_at - START == timedelta(minutes=duration + extra)
    assert state_of(replay(attempt.collect_events())) == state_of(attempt)
