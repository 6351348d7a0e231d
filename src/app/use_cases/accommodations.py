"""Use cases of accommodations: the centre grants extra time and other arrangements on an
enrolment before the exam starts; the exam session's 3-hour budget follows at once and the
exam's duration when it opens; the examiner reads them beside the recording."""

from __future__ import annotations

from uuid import UUID

from app import tenancy
from app.context import Context, retrying
from app.use_cases.enrolment import refuse_if_holder_erased
from domain import accommodation
from domain.accommodation import Accommodation
from domain.candidate import PersonErased
from domain.enrollment import Enrollment
from domain.errors import RuleBroken
from domain.proctored_session import ProctoredSession


def grant_accommodation(
    ctx: Context,
    enrollment_id: UUID,
    *,
    granted_by: UUID,
    extra_time_percent: int,
    arrangements: str,
) -> Accommodation:
    """Recorded on the enrolment with who granted it; refused once the candidate entered
    the exam session (ACCOMMODATION-BEFORE-START); only by the enrolment's centre (or the
    hotline: issue 14, another centre's enrolment is out of reach). Enrolment and session are
    saved together, so the budget never disagrees with the enrolment."""

    def once() -> Accommodation:
        at = ctx.now()
        enrollment = tenancy.enrolment_for(ctx, granted_by, enrollment_id)
        refuse_if_holder_erased(ctx, enrollment)
        session = (
            ctx.store.get(enrollment.exam_session_id, ProctoredSession)
            if enrollment.exam_session_id is not None
            else None
        )
        granted = enrollment.grant_accommodation(
            at=at,
            granted_by=granted_by,
            extra_time_percent=extra_time_percent,
            arrangements=arrangements,
            exam_started_at=session.started_at if session is not None else None,
        )
        if session is not None:
            session.apply_accommodation(at=at, extra_time_percent=extra_time_percent)
            ctx.store.save(enrollment, session)
        else:
            ctx.store.save(enrollment)
        return granted

    return retrying(once)


def closed_to_grants(ctx: Context, enrollment: Enrollment) -> RuleBroken | None:
    """Why the enrolment takes no grant any more (the rule that would refuse one), if it does
    not: the page then shows what was granted without the form. An erased holder closes it
    first (PersonErased: the grant refuses it too)."""
    try:
        refuse_if_holder_erased(ctx, enrollment)
    except PersonErased as erased:
        return erased
    session = (
        ctx.store.get(enrollment.exam_session_id, ProctoredSession)
        if enrollment.exam_session_id is not None
        else None
    )
    return accommodation.closed_to_grants(
        expired=enrollment.expired,
        entered_at=session.started_at if session is not None else None,
        closed=session is not None and session.closed_at is not None,
    )


def accommodation_of_enrollment(ctx: Context, enrollment_id: UUID) -> Accommodation | None:
    """What was granted on the enrolment, if anything."""
    return ctx.store.get(enrollment_id, Enrollment).accommodation


def accommodation_of_session(ctx: Context, session_id: UUID) -> Accommodation | None:
    """What was granted on the session's enrolment (shown to the examiner so that
    accommodated behaviour is not read as a breach)."""
    session = ctx.store.get(session_id, ProctoredSession)
    return accommodation_of_enrollment(ctx, session.enrollment_id)
