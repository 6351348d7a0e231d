"""Issue 12 at the use-case level: an honest candidate who leaves as the guide says is not
held to R17, and the examiner decides (R19), in writing when against a ground."""

from __future__ import annotations

import pytest

from app.context import update
from app.live_recording import record_live_event
from app.ports.live_media import TabClosed
from app.replay import replay_review
from app.use_cases import portal, proctoring, reviewing
from domain.errors import InvalidArgument, RuleBroken
from domain.evidence import EvidenceKind, FlagKind, MediaSpan, Verdict
from domain.exam_attempt import ExamAttempt
from domain.review import Review, override_of
from domain.rules import CURRENT_RULES
from domain.verdict import InterruptionKind, recommend_with
from ui.journey import TEN_WORDS, Journey

JUSTIFICATION = (
    "the candidate's connection dropped, the recording shows them alone and still at work"
)


def close_the_proctoring_tab(journey: Journey, *, grace_s: float = 20) -> None:
    """The candidate closes the proctoring window: its heartbeats stop, the recorder notices
    after the grace period and says so (as the live recorder does)."""
    assert journey.session_id is not None
    last = journey.ctx.now()
    noticed = journey.clock.advance(seconds=grace_s)
    assert record_live_event(journey.ctx, TabClosed(journey.session_id, last, noticed))


def close_the_exam_tab(journey: Journey) -> None:
    """The exam tab is closed (« Quitter »): the server records its workspace lost."""
    assert journey.attempt_id is not None
    at = journey.ctx.now()
    update(
        journey.ctx,
        journey.attempt_id,
        ExamAttempt,
        lambda a: a.workspace_lost(at=at, reason="the exam tab was closed"),
    )


def test_an_honest_journey_with_a_deferral_and_a_blocked_screen_is_recommended_validated(
    journey: Journey,
) -> None:
    """R14 then R23, as the guide says: interruptions shown to the examiner, no ground, and
    the examiner validates without having to justify anything (R17 inside the exam only)."""
    journey.enrol()
    journey.create_session()
    journey.through_checks()
    aid = journey.to_tile()
    portal.start_now(journey.ctx, aid)
    journey.platform.settle()
    # R14: not ready yet: defer, leave full screen, close both windows, come back later.
    portal.defer_exam(journey.ctx, aid)
    close_the_proctoring_tab(journey)
    journey.clock.advance(hours=1)
    journey.enter(resume_reason=TEN_WORDS)
    journey.start_exam()
    journey.clock.advance(minutes=10)
    # R23: the screen is blocked: exam tab first, then the proctoring window, then back in
    # from the welcome mail with a resume reason (R6), and the exam resumes.
    close_the_exam_tab(journey)
    journey.clock.advance(seconds=5)
    close_the_proctoring_tab(journey)
    journey.clock.advance(minutes=3)
    journey.enter(resume_reason=TEN_WORDS)
    portal.reopen_workspace(journey.ctx, aid)
    journey.platform.settle()
    journey.answer_and_send()

    review = journey.ctx.store.get(journey.review_id, Review)  # type: ignore[arg-type]
    assert review.rules.version == CURRENT_RULES.version == "rules-2026-12-flag-hint"
    assert review.rules.verdict_version == "verdict-2026-12"
    recommendation = review.recommendation
    assert recommendation is not None
    assert recommendation.verdict is Verdict.VALIDATED
    assert recommendation.grounds == ()
    assert sorted(i.kind for i in recommendation.interruptions) == sorted(
        [InterruptionKind.DEFERRAL, InterruptionKind.OUTSIDE_EXAM, InterruptionKind.BLOCKED_SCREEN]
    )
    # Under verdict-2025-03 (from the desk recording on) both closures were R17 grounds.
    closures = [e.id for e in review.evidence if e.kind is EvidenceKind.PROCTORING_TAB_CLOSED]
    (old_ground,) = recommend_with("verdict-2025-03", review.evidence, review.rules).grounds
    assert (old_ground.rule, len(closures)) == ("R17", 2)
    assert set(old_ground.evidence_ids) == set(closures)
    examiner = journey.ctx.ids.new_id()
    decided = journey.decided(examiner)
    assert decided.verdict is Verdict.VALIDATED and decided.overrides == ()
    report = replay_review(journey.ctx.store, decided.id)
    assert report.matches, report.differences


def test_an_examiner_validates_against_an_r17_ground_with_a_written_justification(
    journey: Journey,
) -> None:
    """R19: the recommendation advises, the examiner decides; a ground decided against needs
    at least 10 words, is recorded in the decision and replays with it."""
    journey.in_exam()
    journey.clock.advance(minutes=5)
    close_the_proctoring_tab(journey)  # the exam tab stays open: the R17 ground
    journey.answer_and_send()
    assert journey.review_id is not None
    review = journey.ctx.store.get(journey.review_id, Review)
    assert review.recommendation is not None
    (ground,) = review.recommendation.grounds
    assert ground.rule == "R17"
    examiner = journey.ctx.ids.new_id()
    reviewing.assign_examiner(journey.ctx, review.id, examiner)

    def validate(*overrides: object) -> None:
        reviewing.decide_review(
            journey.ctx,
            review.id,
            examiner_id=examiner,
            verdict=Verdict.VALIDATED,
            overrides=overrides,  # type: ignore[arg-type]
        )

    before = journey.ctx.store.head()
    with pytest.raises(RuleBroken) as unjustified:
        validate()
    assert unjustified.value.rule == "R17"
    with pytest.raises(InvalidArgument) as too_short:
        validate(override_of(ground, "vu, la candidate était seule, tout va bien"))
    assert too_short.value.field == "override"
    assert journey.ctx.store.head() == before  # nothing recorded
    validate(override_of(ground, JUSTIFICATION))

    decided = journey.ctx.store.get(review.id, Review)
    assert decided.verdict is Verdict.VALIDATED
    assert [(o.rule, o.evidence_ids, o.justification) for o in decided.overrides] == [
        ("R17", ground.evidence_ids, JUSTIFICATION)
    ]
    event = journey.ctx.store.history(review.id)[-1]
    assert isinstance(event, Review.ReviewDecided)
    assert event.overrides == decided.overrides
    report = replay_review(journey.ctx.store, review.id)
    assert report.matches, report.differences
    assert report.overrides == decided.overrides  # the replay returns the justification


def test_deciding_on_a_recommendation_changed_by_new_evidence_is_refused_r19(
    journey: Journey,
) -> None:
    """Facts recorded after the review opened reach it before the decision; when they
    changed the recommendation the examiner saw, the decision is refused, not taken blind."""
    journey.sent_with_a_phone_flag()
    assert journey.review_id is not None
    review_id = journey.review_id
    shown = journey.ctx.store.get(review_id, Review)
    seen = reviewing.recommendation_seal(shown.recommendation)
    examiner = journey.ctx.ids.new_id()
    reviewing.assign_examiner(journey.ctx, review_id, examiner)
    # Support records the technical problem the candidate reported (the phone exception).
    proctoring.record_technical_problem(
        journey.ctx,
        journey.session_id,
        description="la webcam a décroché, le candidat a appelé le support",
        recorded_by=journey.ctx.ids.new_id(),
    )
    with pytest.raises(reviewing.NewEvidenceArrived) as refused:
        reviewing.decide_review(
            journey.ctx, review_id, examiner_id=examiner, verdict=Verdict.VALIDATED, seen=seen
        )
    assert refused.value.rule == "R19"
    fresh = journey.ctx.store.get(review_id, Review)
    assert fresh.verdict is None
    assert any(e.kind is EvidenceKind.TECHNICAL_PROBLEM_RECORDED for e in fresh.evidence)
    assert fresh.recommendation != shown.recommendation
    reviewing.decide_review(
        journey.ctx,
        review_id,
        examiner_id=examiner,
        verdict=Verdict.VALIDATED,
        seen=reviewing.recommendation_seal(fresh.recommendation),
    )
    assert journey.ctx.store.get(review_id, Review).verdict is Verdict.VALIDATED


def test_a_flag_after_the_session_closed_is_refused_and_nothing_is_recorded_r18(
    journey: Journey,
) -> None:
    journey.sent_for_review()
    assert journey.session_id is not None
    before = journey.ctx.store.head()
    with pytest.raises(RuleBroken) as refused:
        proctoring.raise_flag(
            journey.ctx,
            journey.session_id,
            flag_id="late-voice",
            kind=FlagKind.VOICE,
            span=MediaSpan(100.0, 110.0),
            confidence=0.9,
        )
    assert refused.value.rule == "R18"
    assert journey.ctx.store.head() == before
