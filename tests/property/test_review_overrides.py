"""R19 in the review aggregate: the recommendation advises, the examiner decides; a ground
decided against is overridden in writing, once, and only a ground can be overridden."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domain.errors import InvalidArgument, RuleBroken
from domain.evidence import Evidence, EvidenceKind, MediaSpan, ReasonCode, Verdict
from domain.review import CitedReason, Override, Review, override_of
from domain.rules import RULES_2026_12

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
EXAMINER = uuid4()
WHY = "the recording shows the candidate alone; the tab was reopened within seconds"


def review_with_two_grounds() -> Review:
    """No ID photo (R9) and the proctoring tab closed during the exam (R17)."""
    review = Review.open(
        review_id=uuid4(),
        session_id=uuid4(),
        attempt_id=uuid4(),
        candidate_id=uuid4(),
        certification_code="PCIE",
        rules=RULES_2026_12,
        at=T0,
    )
    s, a = uuid4(), uuid4()
    minute = timedelta(minutes=1)
    review.gather_evidence(
        at=T0,
        items=(
            Evidence(f"{s}/2", EvidenceKind.SESSION_ENTERED, T0),
            Evidence(f"{s}/3", EvidenceKind.FACE_PHOTO_CONFIRMED, T0 + minute),
            Evidence(f"{a}/4", EvidenceKind.EXAM_BEGUN, T0 + 10 * minute),
            Evidence(
                f"{s}/5",
                EvidenceKind.PROCTORING_TAB_CLOSED,
                T0 + 21 * minute,
                span=MediaSpan(1200.0, 1260.0),
            ),
            Evidence(f"{a}/6", EvidenceKind.EXAM_VALIDATED, T0 + 70 * minute),
        ),
    )
    review.recommend(at=T0)
    review.assign(at=T0, examiner_id=EXAMINER)
    return review


def test_each_ground_must_be_overridden_before_validating_r19() -> None:
    review = review_with_two_grounds()
    assert review.recommendation is not None
    r9, r17 = review.recommendation.grounds
    assert (r9.rule, r17.rule) == ("R9", "R17")
    review.collect_events()
    with pytest.raises(RuleBroken) as refused:
        review.decide(
            at=T0,
            examiner_id=EXAMINER,
            verdict=Verdict.VALIDATED,
            overrides=(override_of(r9, WHY),),
        )
    assert refused.value.rule == "R17"
    assert review.collect_events() == [] and review.verdict is None
    review.decide(
        at=T0,
        examiner_id=EXAMINER,
        verdict=Verdict.VALIDATED,
        overrides=(override_of(r17, WHY), override_of(r9, WHY)),
    )
    (decided,) = review.collect_events()
    assert isinstance(decided, Review.ReviewDecided)
    assert [o.rule for o in decided.overrides] == ["R17", "R9"]


def test_only_a_ground_of_the_recommendation_can_be_overridden_and_once_r19() -> None:
    review = review_with_two_grounds()
    assert review.recommendation is not None
    r9, r17 = review.recommendation.grounds
    invented = Override("R21", ReasonCode.THIRD_PARTY_HELP, r17.evidence_ids, WHY)
    for overrides in (
        (override_of(r9, WHY), override_of(r17, WHY), invented),
        (override_of(r9, WHY), override_of(r17, WHY), override_of(r17, WHY + " again")),
    ):
        with pytest.raises(InvalidArgument) as refused:
            review.decide(
                at=T0, examiner_id=EXAMINER, verdict=Verdict.VALIDATED, overrides=overrides
            )
        assert refused.value.field == "overrides"


def test_an_invalidation_overrides_nothing_r19() -> None:
    review = review_with_two_grounds()
    assert review.recommendation is not None
    r9, r17 = review.recommendation.grounds
    with pytest.raises(InvalidArgument) as refused:
        review.decide(
            at=T0,
            examiner_id=EXAMINER,
            verdict=Verdict.INVALIDATED,
            reasons=(CitedReason(r17.reason, r17.evidence_ids),),
            overrides=(override_of(r9, WHY),),
        )
    assert refused.value.field == "overrides"
