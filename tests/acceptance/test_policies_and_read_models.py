"""Policies react exactly once; read models rebuild from the log to the same answers."""

from __future__ import annotations

from datetime import date

from adapters.bootstrap import Platform
from app.policies import OpenReviewOnSubmission, PolicyRunner, default_policies
from app.read_models import Projections, timeline
from app.use_cases import portal
from app.use_cases.reviewing import open_review
from domain.exam_attempt import ExamAttempt
from domain.review import Review
from ui.journey import Journey


def submitted(journey: Journey) -> Journey:
    journey.in_exam()
    journey.answer_and_send()
    return journey


def reviews_opened(platform: Platform) -> int:
    store = platform.ctx.store
    return sum(isinstance(r.event, Review.ReviewOpened) for r in store.read(0, store.head() + 1))


def test_a_submission_opens_exactly_one_review_even_when_runners_restart(
    journey: Journey,
) -> None:
    platform = submitted(journey).platform
    assert reviews_opened(platform) == 1
    # A restarted worker starts from the recorded position: nothing happens twice.
    restarted = PolicyRunner(platform.ctx, default_policies())
    assert restarted.run_until_quiet() == 0
    assert reviews_opened(platform) == 1


def test_two_runners_racing_over_the_same_log_open_one_review(platform: Platform) -> None:
    journey = Journey(platform)
    journey.in_exam()
    # Send without letting the platform's own runner react, then race two fresh runners.
    first = PolicyRunner(platform.ctx, default_policies())
    second = PolicyRunner(platform.ctx, default_policies())
    assert journey.attempt_id is not None
    portal.finish_exam(platform.ctx, journey.attempt_id)
    code = platform.ctx.store.get(journey.attempt_id, ExamAttempt).validation_code
    portal.validate_exam(platform.ctx, journey.attempt_id, typed_code=code or "")
    first.run()
    second.run()
    assert reviews_opened(platform) == 1
    subjects = [m.subject for m in platform.mailer.to(journey.email)]
    assert sum(s.startswith("Bienvenue") for s in subjects) == 1  # the welcome, once


def test_r19_an_exam_whose_review_is_open_already_is_not_opened_again_by_the_policy(
    platform: Platform,
) -> None:
    """The demo's seed opens its candidate's review itself, without moving the policy's
    position (ui.demo_review): the worker's pass then met a review it could not open again,
    tried for ever and held every reaction behind it."""
    journey = Journey(platform)
    journey.enrol()
    journey.create_session()
    journey.through_checks()
    journey.start_exam()
    runner = PolicyRunner(platform.ctx, default_policies())
    assert journey.attempt_id is not None
    portal.finish_exam(platform.ctx, journey.attempt_id)
    code = platform.ctx.store.get(journey.attempt_id, ExamAttempt).validation_code
    portal.validate_exam(platform.ctx, journey.attempt_id, typed_code=code or "")
    attempt = platform.ctx.store.get(journey.attempt_id, ExamAttempt)
    platform.ctx.store.save(open_review(platform.ctx.store, attempt, platform.ctx.now()))
    runner.run_until_quiet()
    assert reviews_opened(platform) == 1
    assert platform.parked.catch_up(platform.ctx.store) == []
    assert platform.ctx.store.position_of(OpenReviewOnSubmission.name) == platform.ctx.store.head()


def test_read_models_rebuilt_from_scratch_equal_the_live_ones(journey: Journey) -> None:
    platform = submitted(journey).platform
    rebuilt = Projections()
    rebuilt.catch_up(platform.ctx.store)
    live = platform.projections
    assert rebuilt.position == live.position == platform.ctx.store.head()
    assert rebuilt.sessions == live.sessions
    assert rebuilt.reviews == live.reviews
    assert rebuilt.candidates_by_email == live.candidates_by_email
    assert journey.candidate_id is not None
    [mine] = rebuilt.my_sessions(journey.candidate_id)
    assert mine.status == "under review" and mine.entry_label == "Reprendre l'examen"


def test_reviews_due_put_the_overdue_ones_first(platform: Platform) -> None:
    early = submitted(Journey(platform, email="early@example.org"))
    early.clock.advance(days=3)
    submitted(Journey(platform, email="late@example.org"))
    due = platform.projections.reviews_due(date(2025, 2, 5))
    assert [r.review_id for r in due] == [early.review_id, due[1].review_id]
    assert due[0].overdue(date(2025, 2, 5)) and not due[1].overdue(date(2025, 2, 5))


def test_a_sessions_timeline_lists_session_attempt_and_review_facts_in_time_order(
    journey: Journey,
) -> None:
    submitted(journey)
    assert journey.session_id is not None
    entries = timeline(journey.platform.ctx.store, journey.session_id)
    kinds = [e.what for e in entries]
    assert kinds[0] == "SessionOpened" and "ExamLaunched" in kinds and "ReviewOpened" in kinds
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    assert {e.stream for e in entries} == {"session", "attempt", "review"}
