"""Rules that bound the exam (issue 12, item 3): R4's budget ends the exam, R1/R3 bound
'Commencer', the answers and 'Oui, envoyer'. A refused command records nothing.

Given / when / then on the attempt alone (its budget frozen at opening, the enrolment's
window passed in), then the same through the use cases with the real composition root.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import TestClient

from app.exam_desk import desk_view
from app.mail_rendering import SupportContact
from app.use_cases import accommodations, enrolment, portal
from domain.errors import RuleBroken
from domain.exam_attempt import AttemptStatus, ExamAttempt, ExamWindow
from domain.proctored_session import ProctoredSession
from domain.rules import CURRENT_RULES
from domain.scoring import Results
from tests.acceptance.web import csrf, log_in
from ui.journey import Journey, hotline_account, make_platform
from ui.web.app import create_app

PARIS = ZoneInfo("Europe/Paris")
ENTERED = datetime(2025, 3, 3, 9, 0, tzinfo=PARIS)  # the proctored session's first entry
BUDGET_END = ENTERED + timedelta(hours=3)  # R4: 12:00
WINDOW = ExamWindow(last_day=date(2025, 5, 30), valid_until=date(2025, 3, 15))
SECRET = b"b" * 32
PASSWORD = "candidat-pass-1"


def _attempt_ready(
    *, duration: int = 90, budget_ends_at: datetime | None = BUDGET_END, extra: int = 0
) -> ExamAttempt:
    """An attempt opened after the checks, its workspace connected: 'Commencer' is next."""
    opened = ENTERED + timedelta(minutes=20)
    attempt = ExamAttempt.open(
        attempt_id=uuid4(),
        session_id=uuid4(),
        candidate_id=uuid4(),
        certification_code="ENI-ACCESS",
        duration_minutes=duration,
        practice_offered=False,
        rules=CURRENT_RULES,
        at=opened,
        extra_minutes=extra,
        budget_ends_at=budget_ends_at,
        enrollment_id=uuid4(),
    )
    attempt.select_tile(at=opened, certification_code="ENI-ACCESS", profile_complete=True)
    attempt.start_now(at=opened)
    attempt.workspace_connected(at=opened, workspace_ref="vm-1")
    attempt.collect_events()
    return attempt


def _refused(command: object, attempt: ExamAttempt, rule: str) -> RuleBroken:
    """The command raises the rule and the attempt records nothing."""
    assert callable(command)
    with pytest.raises(RuleBroken) as refusal:
        command()
    assert refusal.value.rule == rule
    assert attempt.collect_events() == []
    return refusal.value


# --- R4: the 3-hour budget ends the exam -------------------------------------------------


def test_an_exam_begun_at_1h51_ends_at_the_budgets_end_not_after_its_90_minutes_r4() -> None:
    attempt = _attempt_ready()
    begun = ENTERED + timedelta(hours=1, minutes=51)

    ends_at = attempt.begin(at=begun, window=WINDOW)

    assert ends_at == BUDGET_END  # not 12:21
    assert attempt.ended_by_budget
    assert attempt.remaining_seconds(ENTERED + timedelta(hours=2, minutes=50)) == 600.0
    assert attempt.close_at_time_limit(at=BUDGET_END)
    finished = attempt.collect_events()[-1]
    assert isinstance(finished, ExamAttempt.ExamFinished)
    assert finished.ended_by == "budget" and finished.finished_at == BUDGET_END


def test_an_answer_at_the_budgets_end_counts_and_one_second_later_is_refused_r4() -> None:
    attempt = _attempt_ready()
    attempt.begin(at=ENTERED + timedelta(hours=1, minutes=51), window=WINDOW)
    attempt.collect_events()

    attempt.answer(at=BUDGET_END, window=WINDOW, question_id="q1", answer="jointure")
    assert len(attempt.collect_events()) == 1
    refusal = _refused(
        lambda: attempt.answer(
            at=BUDGET_END + timedelta(seconds=1), window=WINDOW, question_id="q1", answer="x"
        ),
        attempt,
        "R4",
    )
    assert "3 hours" in refusal.message and "12:00" in refusal.message
    assert attempt.answers == {"q1": "jointure"}


def test_answering_at_3h11_as_in_the_issue_is_refused_and_finishing_stops_at_3h_r4() -> None:
    attempt = _attempt_ready()
    attempt.begin(at=ENTERED + timedelta(hours=1, minutes=51), window=WINDOW)
    attempt.collect_events()
    late = ENTERED + timedelta(hours=3, minutes=11)

    _refused(
        lambda: attempt.answer(at=late, window=WINDOW, question_id="q1", answer="x"),
        attempt,
        "R4",
    )
    attempt.finish(at=late)

    assert attempt.finished_at == BUDGET_END
    assert attempt.remaining_seconds(late) == 0.0


def test_commencer_after_the_budgets_end_is_refused_r4() -> None:
    attempt = _attempt_ready()

    _refused(lambda: attempt.begin(at=BUDGET_END, window=WINDOW), attempt, "R4")
    assert attempt.status is AttemptStatus.WORKSPACE_READY


def test_an_exam_begun_early_keeps_its_own_end_before_the_budgets_r4() -> None:
    attempt = _attempt_ready()
    begun = ENTERED + timedelta(minutes=30)

    assert attempt.begin(at=begun, window=WINDOW) == begun + timedelta(minutes=90)
    assert not attempt.ended_by_budget


def test_an_attempt_opened_before_the_budget_was_frozen_keeps_its_own_end_r4() -> None:
    attempt = _attempt_ready(budget_ends_at=None)
    begun = ENTERED + timedelta(hours=1, minutes=51)

    assert attempt.begin(at=begun, window=WINDOW) == begun + timedelta(minutes=90)


# --- R1 / R3: the enrolment's last day and the exam session's validity -------------------


def _at_9(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=PARIS)


def test_commencer_on_the_enrolments_last_day_is_accepted_r1() -> None:
    window = ExamWindow(last_day=date(2025, 3, 3), valid_until=date(2025, 3, 3))
    attempt = _attempt_ready(budget_ends_at=None)

    attempt.begin(at=_at_9(date(2025, 3, 3)), window=window)

    assert attempt.status is AttemptStatus.IN_PROGRESS


def test_commencer_the_day_after_the_enrolments_last_day_is_refused_r1() -> None:
    window = ExamWindow(last_day=date(2025, 3, 2), valid_until=date(2025, 3, 2))
    attempt = _attempt_ready(budget_ends_at=None)

    refusal = _refused(lambda: attempt.begin(at=ENTERED, window=window), attempt, "R1")
    assert "02/03/2025" in refusal.message


def test_commencer_the_day_after_the_sessions_validity_is_refused_r3() -> None:
    window = ExamWindow(last_day=date(2025, 5, 30), valid_until=date(2025, 3, 2))
    attempt = _attempt_ready(budget_ends_at=None)

    refusal = _refused(lambda: attempt.begin(at=ENTERED, window=window), attempt, "R3")
    assert "renewal" in refusal.message


def test_a_renewed_session_accepts_commencer_again_r3() -> None:
    attempt = _attempt_ready(budget_ends_at=None)
    lapsed = ExamWindow(last_day=date(2025, 5, 30), valid_until=date(2025, 3, 2))
    _refused(lambda: attempt.begin(at=ENTERED, window=lapsed), attempt, "R3")

    renewed = ExamWindow(last_day=date(2025, 5, 30), valid_until=date(2025, 3, 17))
    attempt.begin(at=ENTERED, window=renewed)

    assert attempt.status is AttemptStatus.IN_PROGRESS


def test_an_answer_after_the_enrolments_last_day_is_refused_r1() -> None:
    # Begun at 23:00 on the last day for one hour: at midnight R16 speaks first, so the
    # answer is given at 23:30 under a window that ended the day before (an expired read).
    attempt = _attempt_ready(duration=60, budget_ends_at=None)
    begun = datetime(2025, 3, 3, 22, 0, tzinfo=PARIS)
    attempt.begin(at=begun, window=WINDOW)
    attempt.collect_events()
    ended = ExamWindow(last_day=date(2025, 3, 2), valid_until=date(2025, 3, 2))

    _refused(
        lambda: attempt.answer(
            at=begun + timedelta(minutes=30), window=ended, question_id="q1", answer="x"
        ),
        attempt,
        "R1",
    )


def test_the_exam_is_not_sent_outside_the_sessions_validity_r3() -> None:
    attempt = _attempt_ready(budget_ends_at=None)
    attempt.begin(at=ENTERED + timedelta(minutes=30), window=WINDOW)
    done = ENTERED + timedelta(minutes=60)
    attempt.finish(at=done)
    attempt.show_results(at=done, results=Results(1, 2, False, ()), validation_code="K7Q2")
    attempt.collect_events()
    lapsed = ExamWindow(last_day=date(2025, 5, 30), valid_until=date(2025, 3, 2))

    _refused(lambda: attempt.validate(at=done, window=lapsed, typed_code="K7Q2"), attempt, "R3")
    attempt.validate(at=done, window=WINDOW, typed_code="K7Q2")
    assert attempt.status is AttemptStatus.VALIDATED


# --- through the use cases ----------------------------------------------------------------


def _launched(journey: Journey) -> UUID:
    journey.enrol()
    journey.create_session()
    return journey.through_checks()


def test_the_use_cases_end_an_exam_begun_late_at_the_budgets_end_r4(journey: Journey) -> None:
    attempt_id = _launched(journey)
    assert journey.session_id is not None
    session = journey.ctx.store.get(journey.session_id, ProctoredSession)
    budget_end = session.budget_ends_at()
    assert budget_end is not None
    assert journey.ctx.store.get(attempt_id, ExamAttempt).budget_ends_at == budget_end
    journey.to_tile()
    portal.start_now(journey.ctx, attempt_id)
    journey.platform.settle()
    started = session.started_at
    assert started is not None
    journey.clock.set(started + timedelta(hours=1, minutes=51))

    assert portal.begin_exam(journey.ctx, attempt_id) == budget_end
    # The exam tab's timer counts down to the budget's end, not to the exam's own end.
    journey.clock.set(started + timedelta(hours=2, minutes=50))
    view = desk_view(journey.ctx, attempt_id)
    assert (view.ends_at, view.remaining_seconds) == (budget_end, 600.0)
    journey.clock.set(started + timedelta(hours=3, minutes=11))
    with pytest.raises(RuleBroken) as refusal:
        portal.answer_question(journey.ctx, attempt_id, question_id="tables-taille", answer="x")
    assert refusal.value.rule == "R4"
    assert journey.ctx.store.get(attempt_id, ExamAttempt).answers == {}


def test_extra_time_lengthens_the_budget_that_ends_the_exam_r4(journey: Journey) -> None:
    journey.enrol()
    journey.create_session()
    assert journey.enrollment_id is not None
    accommodations.grant_accommodation(
        journey.ctx,
        journey.enrollment_id,
        granted_by=hotline_account(journey.ctx),
        extra_time_percent=33,
        arrangements="",
    )
    attempt_id = journey.through_checks()
    assert journey.session_id is not None
    started = journey.ctx.store.get(journey.session_id, ProctoredSession).started_at
    assert started is not None
    journey.to_tile()
    portal.start_now(journey.ctx, attempt_id)
    journey.platform.settle()
    journey.clock.set(started + timedelta(hours=1, minutes=51))

    ends_at = portal.begin_exam(journey.ctx, attempt_id)

    # 90 minutes + 30 (33 %, rounded up) of the exam; 3 h + 30 min of the budget: 3 h 30.
    assert ends_at == started + timedelta(hours=3, minutes=30)


def test_the_use_cases_read_a_renewal_at_command_time_r3(journey: Journey) -> None:
    attempt_id = _launched(journey)
    assert journey.enrollment_id is not None
    journey.to_tile()
    portal.start_now(journey.ctx, attempt_id)
    journey.platform.settle()
    portal.defer_exam(journey.ctx, attempt_id)  # R14: deferred, the session then lapses
    valid_until = enrolment.find_enrollment(journey.ctx, journey.enrollment_id).session_valid_until
    assert valid_until is not None
    journey.clock.set(datetime.combine(valid_until + timedelta(days=1), datetime.min.time(), PARIS))
    journey.clock.advance(hours=9)
    portal.select_tile(journey.ctx, attempt_id, certification_code="ENI-ACCESS")
    portal.start_now(journey.ctx, attempt_id)
    journey.platform.settle()

    with pytest.raises(RuleBroken) as refusal:
        portal.begin_exam(journey.ctx, attempt_id)
    assert refusal.value.rule == "R3"
    enrolment.renew_exam_session(journey.ctx, journey.enrollment_id)
    # Renewed, the window holds; the budget of the session entered days ago does not.
    with pytest.raises(RuleBroken) as refusal:
        portal.begin_exam(journey.ctx, attempt_id)
    assert refusal.value.rule == "R4"


def test_the_api_refuses_an_answer_after_the_budget_with_problem_details_and_stores_none_r4(
    journey: Journey,
) -> None:
    """As the exam tab does it: the candidate logged in, answering through the JSON API."""
    attempt_id = _launched(journey)
    assert journey.session_id is not None
    started = journey.ctx.store.get(journey.session_id, ProctoredSession).started_at
    assert started is not None
    journey.to_tile()
    portal.start_now(journey.ctx, attempt_id)
    journey.platform.settle()
    journey.clock.set(started + timedelta(hours=1, minutes=51))
    portal.begin_exam(journey.ctx, attempt_id)
    journey.set_password(PASSWORD)
    platform = journey.platform
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/login", journey.email, PASSWORD)
        journey.clock.set(started + timedelta(hours=2, minutes=50))
        assert client.get(f"/api/attempts/{attempt_id}").json()["remaining_seconds"] == 600
        journey.clock.set(started + timedelta(hours=3, seconds=1))
        late = client.post(
            f"/api/attempts/{attempt_id}/answers",
            json={"question_id": "tables-taille", "answer": "Taille du champ"},
            headers=csrf(client),
        )
        assert client.get(f"/api/attempts/{attempt_id}").json()["remaining_seconds"] == 0

    assert late.status_code == 409
    assert late.headers["content-type"].startswith("application/problem+json")
    assert late.json()["rule"] == "R4" and "ran out" in late.json()["detail"]
    assert journey.ctx.store.get(attempt_id, ExamAttempt).answers == {}


@pytest.mark.parametrize(("hour", "too_late"), [(9, False), (23, True)])
def test_the_portal_says_it_is_too_late_today_in_place_of_commencer_r16(
    hour: int, too_late: bool
) -> None:
    """An operator's review (issue 15): at 22:35 the page offered « Commencer » with « Fin au
    plus tard 00:05 »; the click opened a blank tab, then refused (R16). The page now says so
    in place of the button, as the domain would decide a start now."""
    platform = make_platform(start=datetime(2025, 1, 27, hour, 0, tzinfo=PARIS))
    try:
        journey = Journey(platform)
        attempt_id = _launched(journey)
        journey.to_tile()
        portal.start_now(journey.ctx, attempt_id)
        platform.settle()
        journey.set_password(PASSWORD)
        with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
            log_in(client, "/login", journey.email, PASSWORD)
            page = client.get(f"/portal/{attempt_id}").text
        assert ('id="too-late-today"' in page) is too_late
        assert (f"/portal/{attempt_id}/begin" in page) is not too_late
        if too_late:
            assert "trop tard pour commencer l'examen aujourd'hui" in page
            with pytest.raises(RuleBroken) as refusal:
                portal.begin_exam(journey.ctx, attempt_id)
            assert refusal.value.rule == "R16"
    finally:
        platform.close()
