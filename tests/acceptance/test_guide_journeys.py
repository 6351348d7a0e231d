"""The guide's journeys at the application level, named as behaviour sentences."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from adapters.bootstrap import Platform
from app.replay import replay_review
from app.use_cases import enrolment, portal, proctoring, reviewing
from domain.enrollment import SessionCreationOutcome
from domain.errors import RuleBroken
from domain.evidence import FlagKind, MediaSpan, ReasonCode, Verdict
from domain.exam_attempt import AttemptStatus, ExamAttempt
from domain.proctored_session import ProctoredSession
from domain.review import CitedReason, Review
from domain.rules import CURRENT_RULES
from ui.journey import (
    NINE_WORDS,
    PARIS,
    PROFILE,
    TEN_WORDS,
    Journey,
    hotline_account,
    make_platform,
)


def history_length(platform: Platform) -> int:
    return platform.ctx.store.head()


def test_the_happy_path_goes_from_enrolment_to_released_results(journey: Journey) -> None:
    enrolled = journey.enrol()
    assert enrolled.last_day == date(2025, 4, 27)  # R1: the guide's own example
    journey.clock.advance(days=10)
    created = journey.create_session()
    assert created.outcome is SessionCreationOutcome.CREATED
    assert created.valid_until == date(2025, 2, 21)  # R3: 15 days
    mails = journey.platform.mailer.to(journey.email)
    [welcome] = [m for m in mails if m.subject.startswith("Bienvenue")]
    assert "21/02/2025" in welcome.text

    assert journey.enter() == "Examen"
    journey.pass_attestations()
    journey.pass_equipment()
    journey.take_photos()
    attempt_id = journey.record_environment()
    session = journey.ctx.store.get(journey.session_id, ProctoredSession)  # type: ignore[arg-type]
    assert session.attempt_id == attempt_id and session.exam_launched_at is not None

    journey.start_exam()
    journey.answer_and_send()
    attempt = journey.ctx.store.get(attempt_id, ExamAttempt)
    assert attempt.status is AttemptStatus.VALIDATED
    assert attempt.results is not None and attempt.results.score == 2

    review = journey.ctx.store.get(journey.review_id, Review)  # type: ignore[arg-type]
    assert review.due_on == date(2025, 2, 14)  # R19: 8 days after sending
    assert review.recommendation is not None
    assert review.recommendation.verdict is Verdict.VALIDATED
    [due] = journey.platform.projections.reviews_due(date(2025, 2, 6))
    assert due.review_id == review.id

    examiner = journey.ctx.ids.new_id()
    reviewing.assign_examiner(journey.ctx, review.id, examiner)
    reviewing.decide_review(journey.ctx, review.id, examiner_id=examiner, verdict=Verdict.VALIDATED)
    reviewing.release_results(journey.ctx, review.id, released_by=examiner)
    journey.platform.settle()
    assert [m.subject for m in journey.platform.mailer.to(journey.email)][-1].startswith("Résultat")
    [summary] = journey.platform.projections.my_sessions(journey.candidate_id)  # type: ignore[arg-type]
    assert summary.verdict is Verdict.VALIDATED


def test_creating_the_session_again_says_it_already_exists_and_sends_no_second_mail(
    journey: Journey,
) -> None:
    journey.enrol()
    first = journey.create_session()
    events_before = history_length(journey.platform)
    again = journey.create_session()
    assert again.outcome is SessionCreationOutcome.ALREADY_EXISTS
    assert again.session_id == first.session_id
    assert history_length(journey.platform) == events_before
    welcomes = [m for m in journey.platform.mailer.to(journey.email) if "Bienvenue" in m.subject]
    assert len(welcomes) == 1


def test_live_supervision_is_created_and_a_slot_is_booked_in_office_hours(
    journey: Journey,
) -> None:
    journey.enrol()
    created = journey.create_session(live_supervision=True)
    assert created.outcome is SessionCreationOutcome.CREATED_WITH_LIVE_SUPERVISION
    hotline = hotline_account(journey.ctx)
    saturday = datetime(2025, 2, 1, 10, 0, tzinfo=PARIS)
    with pytest.raises(RuleBroken) as refused:
        enrolment.book_live_supervision_slot(
            journey.ctx, journey.enrollment_id, slot=saturday, booked_by=hotline
        )
    assert refused.value.rule == "R2"
    tuesday = datetime(2025, 1, 28, 14, 0, tzinfo=PARIS)
    enrolment.book_live_supervision_slot(
        journey.ctx, journey.enrollment_id, slot=tuesday, booked_by=hotline
    )
    enrollment = enrolment.find_enrollment(journey.ctx, journey.enrollment_id)  # type: ignore[arg-type]
    assert enrollment.supervision_slot == tuesday


def test_renewals_reach_day_90_and_the_next_one_is_refused(journey: Journey) -> None:
    journey.enrol()
    journey.clock.advance(days=50)
    assert journey.create_session().valid_until == date(2025, 4, 2)
    ends = [enrolment.renew_exam_session(journey.ctx, journey.enrollment_id) for _ in range(2)]
    assert ends == [date(2025, 4, 17), date(2025, 4, 27)]  # R3: capped at day 90
    before = history_length(journey.platform)
    with pytest.raises(RuleBroken) as refused:
        enrolment.renew_exam_session(journey.ctx, journey.enrollment_id)  # type: ignore[arg-type]
    assert refused.value.rule == "R3"
    assert history_length(journey.platform) == before


def test_the_exam_session_cannot_be_created_after_day_90(journey: Journey) -> None:
    late = Journey(journey.platform, email="late@example.org")
    journey.enrol()
    late.enrol()
    journey.clock.set(datetime(2025, 4, 27, 23, 30, tzinfo=PARIS))  # last day, inclusive
    journey.create_session()
    late.clock.set(datetime(2025, 4, 28, 0, 30, tzinfo=PARIS))
    with pytest.raises(RuleBroken) as refused:
        late.create_session()
    assert refused.value.rule == "R1"


def test_a_resume_reason_of_nine_words_is_refused_and_ten_words_are_accepted(
    journey: Journey,
) -> None:
    journey.enrol()
    journey.create_session()
    journey.enter()
    journey.pass_attestations()
    proctoring.leave_session(journey.ctx, journey.session_id, cause="écran bloqué (R23)")  # type: ignore[arg-type]
    before = history_length(journey.platform)
    with pytest.raises(RuleBroken) as refused:
        journey.enter(resume_reason=NINE_WORDS)
    assert refused.value.rule == "R6"
    assert history_length(journey.platform) == before
    assert journey.enter(resume_reason=TEN_WORDS) == "Reprendre l'examen"
    # R6: the attestations stay ticked; the candidate goes on with the equipment.
    journey.pass_equipment()


def test_an_exam_that_would_cross_midnight_is_refused(journey: Journey) -> None:
    journey.enrol()
    journey.clock.set(datetime(2025, 1, 27, 22, 0, tzinfo=PARIS))
    journey.create_session()
    journey.through_checks()
    journey.clock.set(datetime(2025, 1, 27, 22, 45, tzinfo=PARIS))  # 90 minutes → 00:15
    with pytest.raises(RuleBroken) as refused:
        journey.start_exam()
    assert refused.value.rule == "R16"
    attempt = journey.ctx.store.get(journey.attempt_id, ExamAttempt)  # type: ignore[arg-type]
    assert attempt.status is AttemptStatus.WORKSPACE_READY


def test_deferring_before_commencer_returns_to_the_tile(journey: Journey) -> None:
    journey.enrol()
    journey.create_session()
    journey.through_checks()
    portal.save_portal_profile(
        journey.ctx,
        journey.candidate_id,
        email=journey.email,
        profile=PROFILE,
        password="p4ssword!",
    )  # type: ignore[arg-type]
    aid = journey.attempt_id
    portal.select_tile(journey.ctx, aid, certification_code="ENI-ACCESS")  # type: ignore[arg-type]
    portal.start_now(journey.ctx, aid)  # type: ignore[arg-type]
    portal.defer_exam(journey.ctx, aid)  # type: ignore[arg-type]
    assert journey.ctx.store.get(aid, ExamAttempt).status is AttemptStatus.TO_START  # type: ignore[arg-type]


def test_quitting_the_certification_is_final(journey: Journey) -> None:
    journey.in_exam()
    portal.quit_certification(journey.ctx, journey.attempt_id)  # type: ignore[arg-type]
    before = history_length(journey.platform)
    with pytest.raises(RuleBroken) as refused:
        portal.answer_question(journey.ctx, journey.attempt_id, question_id="q1", answer="x")  # type: ignore[arg-type]
    assert refused.value.rule == "R22"
    assert history_length(journey.platform) == before
    session = journey.ctx.store.get(journey.session_id, ProctoredSession)  # type: ignore[arg-type]
    assert session.closed_at is not None


def test_a_missing_id_photo_leads_to_a_recommended_invalidation(journey: Journey) -> None:
    journey.enrol()
    journey.create_session()
    journey.through_checks(waive_id_photo=True)
    journey.start_exam()
    journey.answer_and_send()
    review = journey.ctx.store.get(journey.review_id, Review)  # type: ignore[arg-type]
    assert review.recommendation is not None
    assert review.recommendation.verdict is Verdict.INVALIDATED
    [ground] = review.recommendation.grounds
    assert (ground.reason, ground.rule) == (ReasonCode.IDENTITY_NOT_VERIFIABLE, "R9")
    waived = [e for e in review.evidence if e.kind == "PhotoWaived"]
    assert ground.evidence_ids == (waived[0].id,)
    examiner = journey.ctx.ids.new_id()
    reviewing.assign_examiner(journey.ctx, review.id, examiner)
    with pytest.raises(RuleBroken) as refused:
        reviewing.decide_review(
            journey.ctx, review.id, examiner_id=examiner, verdict=Verdict.VALIDATED
        )
    assert refused.value.rule == "R9"


def test_the_examiners_decision_replays_to_the_same_verdict_under_the_frozen_rule_set(
    journey: Journey,
) -> None:
    journey.in_exam()
    proctoring.raise_flag(
        journey.ctx,
        journey.session_id,  # type: ignore[arg-type]
        flag_id="voice-1",
        kind=FlagKind.VOICE,
        span=MediaSpan(600.0, 640.0),
        confidence=0.8,
    )
    proctoring.record_proctoring_tab_closed(
        journey.ctx,
        journey.session_id,
        span=MediaSpan(900.0, 960.0),  # type: ignore[arg-type]
    )
    journey.answer_and_send()
    review = journey.ctx.store.get(journey.review_id, Review)  # type: ignore[arg-type]
    assert review.recommendation is not None
    assert review.recommendation.verdict is Verdict.INVALIDATED
    tab = next(e for e in review.evidence if e.kind == "ProctoringTabClosed")
    voice = next(e for e in review.evidence if e.kind == "FlagRaised")
    examiner = journey.ctx.ids.new_id()
    reviewing.assign_examiner(journey.ctx, review.id, examiner)
    reasons = (
        CitedReason(ReasonCode.PROCTORING_TAB_CLOSED, (tab.id,)),
        CitedReason(ReasonCode.THIRD_PARTY_HELP, (voice.id,)),
    )
    reviewing.decide_review(
        journey.ctx, review.id, examiner_id=examiner, verdict=Verdict.INVALIDATED, reasons=reasons
    )
    report = replay_review(journey.ctx.store, review.id)
    assert report.matches, report.differences
    assert report.verdict is Verdict.INVALIDATED
    assert report.reasons == reasons
    assert report.rules_version == CURRENT_RULES.version  # frozen when the session was created
    assert report.replayed == report.recorded


def test_a_decision_citing_unknown_evidence_is_refused_and_records_nothing(
    journey: Journey,
) -> None:
    journey.in_exam()
    journey.answer_and_send()
    examiner = journey.ctx.ids.new_id()
    reviewing.assign_examiner(journey.ctx, journey.review_id, examiner)  # type: ignore[arg-type]
    before = history_length(journey.platform)
    with pytest.raises(RuleBroken) as refused:
        reviewing.decide_review(
            journey.ctx,
            journey.review_id,  # type: ignore[arg-type]
            examiner_id=examiner,
            verdict=Verdict.INVALIDATED,
            reasons=(CitedReason(ReasonCode.PHONE_USED, ("nowhere/1",)),),
        )
    assert refused.value.rule == "R20"
    assert history_length(journey.platform) == before


def test_the_whole_journey_persists_and_replays_on_every_store(store_url: str) -> None:
    platform = make_platform(store_url)
    try:
        journey = Journey(platform)
        journey.in_exam()
        journey.answer_and_send()
        assert journey.review_id is not None
        examiner = platform.ctx.ids.new_id()
        reviewing.assign_examiner(platform.ctx, journey.review_id, examiner)
        reviewing.decide_review(
            platform.ctx, journey.review_id, examiner_id=examiner, verdict=Verdict.VALIDATED
        )
    finally:
        platform.close()
    # A new process on the same store: the log alone explains the decision.
    reopened = make_platform(store_url)
    try:
        if store_url != "memory:":
            report = replay_review(reopened.ctx.store, journey.review_id)
            assert report.matches, report.differences
            assert report.verdict is Verdict.VALIDATED
            assert reopened.projections.reviews_due(date(2025, 2, 1)) == []  # decided
            assert len(reopened.projections.sessions) == 1
    finally:
        reopened.close()
