"""Use cases of the examiner: the review opened on submission, assigned, decided (R19, R20)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from uuid import UUID, uuid5

from app import tenancy
from app.context import Context, update
from app.evidence_gathering import gather
from app.ports.event_store import AggregateNotFound, EventStore
from domain.access import OutOfReach, check_centre
from domain.errors import InvalidArgument, RuleBroken
from domain.evidence import Verdict
from domain.exam_attempt import ExamAttempt
from domain.review import CitedReason, Override, Review
from domain.staff import Role, StaffMember
from domain.verdict import Recommendation


class NewEvidenceArrived(RuleBroken):
    """R19: facts arrived since the examiner loaded the review and changed the
    recommendation; deciding now would be deciding blind. Nothing was decided."""

    def __init__(self) -> None:
        super().__init__(
            "R19",
            "new evidence arrived and changed the recommendation since the review was "
            "loaded: look at it again before deciding",
        )


def recommendation_seal(recommendation: Recommendation | None) -> str:
    """A short fingerprint of what the examiner was shown (the page sends it back with the
    decision, so a decision is never taken on a recommendation that has changed since)."""
    return hashlib.sha256(repr(recommendation).encode()).hexdigest()[:20]


def review_id_for(attempt_id: UUID) -> UUID:
    """One review per attempt: derived, so a policy that runs twice opens it once."""
    return uuid5(attempt_id, "review")


def open_review(store: EventStore, attempt: ExamAttempt, at: datetime) -> Review:
    """R19: a review due 8 days later, with the evidence and the recommended verdict."""
    review = Review.open(
        review_id=review_id_for(attempt.id),
        session_id=attempt.session_id,
        attempt_id=attempt.id,
        candidate_id=attempt.candidate_id,
        certification_code=attempt.certification_code,
        rules=attempt.rules,
        at=at,
    )
    review.gather_evidence(at=at, items=gather(store, attempt.session_id, attempt.id))
    review.recommend(at=at)
    return review


def assign_examiner(ctx: Context, review_id: UUID, examiner_id: UUID) -> None:
    """R19: one examiner per review."""
    at = ctx.now()
    update(ctx, review_id, Review, lambda r: r.assign(at=at, examiner_id=examiner_id))


def refresh_evidence(ctx: Context, review_id: UUID) -> int:
    """Facts recorded after the review opened (a technical problem support recorded, a
    flag that raced the closing) join the evidence, with a fresh recommendation. Returns how
    many; nothing once decided."""
    at = ctx.now()

    def refresh(review: Review) -> int:
        if review.verdict is not None:
            return 0  # a decided review's evidence is what it was decided on
        added = review.gather_evidence(
            at=at, items=gather(ctx.store, review.session_id, review.attempt_id)
        )
        if added:
            review.recommend(at=at)
        return added

    return update(ctx, review_id, Review, refresh)


def decide_review(
    ctx: Context,
    review_id: UUID,
    *,
    examiner_id: UUID,
    verdict: Verdict,
    reasons: tuple[CitedReason, ...] = (),
    excused: tuple[CitedReason, ...] = (),
    overrides: tuple[Override, ...] = (),
    seen: str | None = None,
) -> None:
    """R19/R20: the examiner validates (against a ground only with its written override),
    or invalidates with reasons citing evidence. The facts recorded since the review opened
    join it first; when `seen` (the seal of the recommendation the examiner was shown) no
    longer matches, the decision is refused with `NewEvidenceArrived`, the fresh evidence
    kept for the page to show."""
    refresh_evidence(ctx, review_id)
    at = ctx.now()

    def decide(review: Review) -> None:
        if review.recommendation is None:
            review.recommend(at=at)
        if seen is not None and recommendation_seal(review.recommendation) != seen:
            raise NewEvidenceArrived()
        review.decide(
            at=at,
            examiner_id=examiner_id,
            verdict=verdict,
            reasons=reasons,
            excused=excused,
            overrides=overrides,
        )

    update(ctx, review_id, Review, decide)


def release_results(ctx: Context, review_id: UUID, *, released_by: UUID) -> None:
    """R19: the results are sent after the review, by the examiner who decided it (issue 14:
    anyone else is refused, R19)."""
    at = ctx.now()
    update(ctx, review_id, Review, lambda r: r.release_results(at=at, released_by=released_by))


def check_examiner(ctx: Context, staff_id: UUID) -> None:
    """The staff member exists and is an examiner (a review is never handed to anyone else)."""
    try:
        staff = ctx.store.get(staff_id, StaffMember)
    except AggregateNotFound:
        raise InvalidArgument("examiner", "no such staff member") from None
    if staff.role is not Role.EXAMINER:
        raise InvalidArgument("examiner", f"{staff.name} is not an examiner")


def reassign_review(
    ctx: Context, review_id: UUID, *, examiner_id: UUID, reassigned_by: UUID, reason: str
) -> bool:
    """R19: a lead (the hotline, or the centre of the reviewed enrolment) hands the review,
    or its open appeal, to another examiner, saying why; the due date stays. False when that
    examiner already has it. Another centre's review is out of reach (issue 14)."""
    try:
        review = ctx.store.get(review_id, Review)
    except AggregateNotFound:
        raise OutOfReach("review") from None
    lead = tenancy.actor(ctx.store, reassigned_by)
    check_centre(lead, tenancy.centre_of_session(ctx.store, review.session_id), "review")
    check_examiner(ctx, examiner_id)
    at = ctx.now()
    return update(
        ctx,
        review_id,
        Review,
        lambda r: r.reassign(
            at=at, examiner_id=examiner_id, reassigned_by=reassigned_by, reason=reason
        ),
    )
