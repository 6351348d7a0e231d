"""Use cases of appeals: the candidate contests an invalidation once, within the period, with
a written reason; a second examiner, never the first, upholds or overturns it. The first
decision stays in the review's history; the candidate is told the appeal's verdict."""

from __future__ import annotations

from uuid import UUID

from app.context import Context, update
from app.use_cases.reviewing import check_examiner
from domain.review import AppealOutcome, CitedReason, Review


def lodge_appeal(ctx: Context, review_id: UUID, *, candidate_id: UUID, reason: str) -> None:
    """'Contester': the candidate's written reason (APPEAL-ONCE, APPEAL-PERIOD…)."""
    at = ctx.now()
    update(
        ctx,
        review_id,
        Review,
        lambda r: r.lodge_appeal(at=at, candidate_id=candidate_id, reason=reason),
    )


def take_appeal(ctx: Context, review_id: UUID, examiner_id: UUID) -> bool:
    """A second examiner takes the appeal (APPEAL-SECOND-EXAMINER: never the first)."""
    check_examiner(ctx, examiner_id)
    at = ctx.now()
    return update(ctx, review_id, Review, lambda r: r.take_appeal(at=at, examiner_id=examiner_id))


def decide_appeal(
    ctx: Context,
    review_id: UUID,
    *,
    examiner_id: UUID,
    outcome: AppealOutcome,
    answer: str,
    reasons: tuple[CitedReason, ...] = (),
    recording_viewed: bool | None = None,
) -> None:
    """The second examiner upholds (the invalidation stands) or overturns (validated);
    overturning needs them to have played the recording (APPEAL-VIEWED), which the caller
    reads from the media views (`app.media_views.played_recording`)."""
    at = ctx.now()
    update(
        ctx,
        review_id,
        Review,
        lambda r: r.decide_appeal(
            at=at,
            examiner_id=examiner_id,
            outcome=outcome,
            answer=answer,
            reasons=reasons,
            recording_viewed=recording_viewed,
        ),
    )
