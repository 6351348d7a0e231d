"""The lists each staff member reads, cut to what is theirs (issue 14): a centre's enrolments
and the reviews of its candidates; an examiner's own reviews and the queue; everything for the
hotline. Read from the read models (a list answers a question); every command on one record
checks it again from the store (app.tenancy)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from app.context import Context
from app.read_models import (
    AppealAgreement,
    AppealSummary,
    EnrollmentSummary,
    Projections,
    ReviewSummary,
)
from app.tenancy import actor
from domain.access import Actor, may_act_for_centre
from domain.staff import Role


def _centre_of(projections: Projections, session_id: UUID) -> UUID | None:
    session = projections.sessions.get(session_id)
    enrolment = projections.enrollments.get(session.enrollment_id) if session else None
    return enrolment.centre_id if enrolment else None


def _for_lead(who: Actor, projections: Projections, session_id: UUID) -> bool:
    centre = _centre_of(projections, session_id)
    return centre is not None and may_act_for_centre(who, centre)


def enrolments_for(ctx: Context, projections: Projections, staff_id: UUID) -> list[UUID]:
    """The enrolments the staff member's list shows: their centre's (every centre's for the
    hotline)."""
    who = actor(ctx.store, staff_id)
    return [
        e.enrollment_id
        for e in projections.enrollments.values()
        if e.centre_id is not None and may_act_for_centre(who, e.centre_id)
    ]


def enrolment_summaries_for(
    ctx: Context, projections: Projections, staff_id: UUID
) -> list[EnrollmentSummary]:
    """The same enrolments, as the read model summarises them."""
    return [projections.enrollments[e] for e in enrolments_for(ctx, projections, staff_id)]


def reviews_due_for(
    ctx: Context, projections: Projections, staff_id: UUID, today: date
) -> list[ReviewSummary]:
    """Undecided reviews, overdue first (R19): an examiner's own and the queue (nobody's yet);
    a centre's candidates' for the centre; all for the hotline."""
    who = actor(ctx.store, staff_id)
    return _reviews_in_reach(who, projections, projections.reviews_due(today), queue=True)


def results_to_send_for(
    ctx: Context, projections: Projections, staff_id: UUID
) -> list[ReviewSummary]:
    """Decided reviews whose result is still to send: an examiner's own; a centre's
    candidates' for the centre; all for the hotline."""
    who = actor(ctx.store, staff_id)
    return _reviews_in_reach(who, projections, projections.results_to_send(), queue=False)


def results_sent_for(
    ctx: Context, projections: Projections, staff_id: UUID, *, last: int = 20
) -> list[ReviewSummary]:
    """The `last` results sent, the latest first: an examiner's own; a centre's candidates'
    for the centre; all for the hotline."""
    who = actor(ctx.store, staff_id)
    return _reviews_in_reach(who, projections, projections.results_sent(), queue=False)[:last]


def _reviews_in_reach(
    who: Actor, projections: Projections, reviews: list[ReviewSummary], *, queue: bool
) -> list[ReviewSummary]:
    """An examiner's own reviews (and, with `queue`, those nobody has yet); a lead's
    candidates' (a centre's own, every centre's for the hotline)."""
    if who.role is Role.EXAMINER:
        mine = (None, who.staff_id) if queue else (who.staff_id,)
        return [r for r in reviews if r.examiner_id in mine]
    return [r for r in reviews if _for_lead(who, projections, r.session_id)]


def appeals_due_for(ctx: Context, projections: Projections, staff_id: UUID) -> list[AppealSummary]:
    """Appeals to decide: for an examiner, those they were given and those waiting for a
    second examiner; for a lead, as reviews. Not an appeal another second examiner has, nor
    one against the examiner's own decision: a second examiner decides it (product.md), and
    it stood in the first examiner's « Contestations à trancher », « à prendre » (a tester's
    tour)."""
    who = actor(ctx.store, staff_id)
    due = projections.appeals_due()
    if who.role is Role.EXAMINER:
        me = who.staff_id
        return [
            a
            for a in due
            if a.first_examiner_id != me and (a.examiner_id == me or not a.examiner_id)
        ]
    return [a for a in due if _for_lead(who, projections, a.session_id)]


def appeal_agreement_for(ctx: Context, projections: Projections, staff_id: UUID) -> AppealAgreement:
    """The agreement between first and second examiners over the appeals in a lead's reach: a
    centre's own candidates' (centre Lyon read a figure counting another centre's appeal: a
    tester's tour), every centre's for the hotline; every appeal for an examiner."""
    who = actor(ctx.store, staff_id)
    if who.role is Role.EXAMINER:
        return projections.appeal_agreement()
    return projections.appeal_agreement(lambda a: _for_lead(who, projections, a.session_id))
