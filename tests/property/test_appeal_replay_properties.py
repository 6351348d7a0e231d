"""Replaying the final decision (issue 12, item 4): for any journey with an appeal, upheld or
overturned (or refused, and so still open), the replay reproduces the final verdict with both
examiners' reasons (R19, R20: the first examiner's decision, the second examiner's answer);
the evidence bundle carries the appeal in its hash chain and in its decision; a what-if study
with the same rules counts the final verdicts."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterator
from uuid import UUID, uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.bootstrap import Platform
from app.audit import what_if
from app.evidence_bundle import DECISION, EVENTS, build_bundle, verify_bundle
from app.replay import replay_review, replay_reviews
from app.use_cases import accounts, appeals, reviewing
from domain.errors import RuleBroken
from domain.evidence import FlagKind, ReasonCode, Verdict
from domain.review import AppealOutcome, CitedReason, Review
from domain.rules import CURRENT_RULES
from domain.staff import Role
from ui.journey import Journey, make_platform

APPEALS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
WORDS = st.sampled_from(
    ["l'enregistrement", "montre", "le", "candidat", "seul", "et", "silencieux", "bouchons"]
)


@dataclasses.dataclass(frozen=True)
class AppealPlan:
    """One generated appeal: how the first examiner invalidated, what the second decides."""

    forced: bool  # the evidence itself invalidates (no ID photo, R9): no overturn possible
    flags: tuple[FlagKind, ...]
    outcome: AppealOutcome
    new_reasons: bool  # upheld with reasons of the second examiner's own
    answer: str


appeal_plans = st.builds(
    AppealPlan,
    forced=st.booleans(),
    flags=st.lists(st.sampled_from([FlagKind.VOICE, FlagKind.FACE_ABSENT]), max_size=2).map(tuple),
    outcome=st.sampled_from(AppealOutcome),
    new_reasons=st.booleans(),
    answer=st.lists(WORDS, min_size=5, max_size=12).map(" ".join),
)


@contextlib.contextmanager
def two_examiners(url: str = "memory:") -> Iterator[tuple[Platform, UUID, UUID]]:
    platform = make_platform(url)
    first, second = (
        accounts.register_staff(
            platform.ctx, email=f"{name}@example.org", name=name, role=Role.EXAMINER
        )
        for name in ("first", "second")
    )
    try:
        yield platform, first, second
    finally:
        platform.close()


def appealed_journey(platform: Platform, plan: AppealPlan, first: UUID, second: UUID) -> UUID:
    """An exam invalidated by `first`, its result sent, contested by the candidate, and the
    appeal decided by `second` as the plan says (an overturn the evidence forbids is refused
    and leaves the appeal open)."""
    journey = Journey(platform, email=f"c{uuid4().hex[:10]}@example.org")
    review_id = journey.sent_for_review(waive_id_photo=plan.forced)
    ctx = platform.ctx
    review = ctx.store.get(review_id, Review)
    assert review.recommendation is not None
    launched = next(e for e in review.evidence if e.kind == "ExamLaunched")
    if plan.forced:
        ground = review.recommendation.grounds[0]
        reasons = (CitedReason(ground.reason, ground.evidence_ids),)
    else:
        reasons = (CitedReason(ReasonCode.HEADPHONES, (launched.id,)),)
    reviewing.assign_examiner(ctx, review_id, first)
    reviewing.decide_review(
        ctx, review_id, examiner_id=first, verdict=Verdict.INVALIDATED, reasons=reasons
    )
    reviewing.release_results(ctx, review_id, released_by=first)
    assert journey.candidate_id is not None
    appeals.lodge_appeal(
        ctx, review_id, candidate_id=journey.candidate_id, reason="je portais des bouchons"
    )
    appeals.take_appeal(ctx, review_id, second)
    own = (
        (
            CitedReason(
                ReasonCode.OTHER_RULE_BREACH,
                (launched.id,),
                justification="the candidate read notes from a paper on the desk",
            ),
        )
        if plan.new_reasons and plan.outcome is AppealOutcome.UPHELD
        else ()
    )
    try:
        appeals.decide_appeal(
            ctx,
            review_id,
            examiner_id=second,
            outcome=plan.outcome,
            answer=plan.answer,
            reasons=own,
        )
    except RuleBroken:
        assert plan.forced and plan.outcome is AppealOutcome.OVERTURNED
    return review_id


@APPEALS
@given(plan=appeal_plans)
def test_any_appealed_journey_replays_to_its_final_verdict_with_both_examiners_reasons(
    plan: AppealPlan,
) -> None:
    with two_examiners() as (platform, first, second):
        review_id = appealed_journey(platform, plan, first, second)
        store = platform.store
        live = platform.ctx.store.get(review_id, Review)
        assert live.appeal is not None
        (batched,) = replay_reviews(store, [review_id])
        for report in (replay_review(store, review_id), batched):
            assert report.matches, report.differences
            # The first decision replays too: its examiner, verdict and reasons.
            assert report.first_verdict is Verdict.INVALIDATED
            assert report.decision is not None and report.decision.examiner_id == first
            assert report.reasons == live.reasons
            # The final verdict is the appeal's once decided, the first decision's before.
            assert report.verdict is live.final_verdict
            appeal = report.appeal
            assert appeal is not None and appeal.examiner_id == second
            assert appeal.candidate_reason == live.appeal.reason
            assert appeal.outcome is live.appeal.outcome
            assert appeal.reasons == live.appeal.reasons
            assert appeal.answer == live.appeal.answer
            if appeal.decided:
                assert appeal.answer == plan.answer
                assert appeal.first_examiner_id == first
                assert appeal.agrees is (plan.outcome is AppealOutcome.UPHELD)
                assert report.overturned is (plan.outcome is AppealOutcome.OVERTURNED)
                if plan.outcome is AppealOutcome.UPHELD and plan.new_reasons:
                    # The second examiner's own reason, with its written justification.
                    (own,) = appeal.reasons
                    assert own.reason is ReasonCode.OTHER_RULE_BREACH and own.justification
                elif plan.outcome is AppealOutcome.UPHELD:
                    assert appeal.reasons == live.reasons  # the first examiner's, kept
                else:
                    assert appeal.reasons == ()
            else:
                assert report.verdict is Verdict.INVALIDATED

        files = build_bundle(store, review_id)
        assert verify_bundle(files).intact
        topics = [json.loads(line)["topic"] for line in files[EVENTS].splitlines()]
        assert any(t.endswith("Review.AppealLodged") for t in topics)
        assert any(t.endswith("Review.AppealDecided") for t in topics) is (
            live.appeal.outcome is not None
        )
        decision = json.loads(files[DECISION])
        assert decision["verdict"] == live.final_verdict.value  # type: ignore[union-attr]
        assert decision["first_verdict"] == "invalidated"
        assert decision["appeal"]["answer"] == live.appeal.answer
        assert decision["appeal"]["examiner_id"] == str(second)
        assert decision["matches"] is True

        study = what_if(store, CURRENT_RULES)
        assert study.reviews == 1 and study.differences == []
        (bucket,) = study.buckets.values()
        assert bucket.examiner_invalidations == (live.final_verdict is Verdict.INVALIDATED)
        assert bucket.overturned == (live.appeal.outcome is AppealOutcome.OVERTURNED)
