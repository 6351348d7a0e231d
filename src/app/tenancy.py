"""Tenancy in the use cases (issue 14): every centre-side command and query names the acting
staff member; this module loads who they are and the record they name, and refuses
(`OutOfReach`) a record of another centre, or another examiner's review, exactly as it
refuses one that does not exist. Pages, the JSON API and the CLI all come through here.

A centre operator's centre is derived from their account (one centre per operator account
for now, as the enrolments made so far record it); the hotline (support) works for every
centre; the CLI acts as an operator of the whole platform (it holds the store itself)."""

from __future__ import annotations

from uuid import UUID, uuid5

from app.context import Context
from app.outbox import MAIL_NAMESPACE
from app.ports.event_store import EventStore
from domain.access import Actor, OutOfReach, check_centre, examiner_may_see, may_see_review
from domain.enrollment import Enrollment
from domain.proctored_session import ProctoredSession
from domain.review import Review
from domain.staff import Role, StaffMember


def centre_of_operator(staff_id: UUID) -> UUID:
    """The centre a centre operator's account works for (derived: the enrolments already
    recorded name it)."""
    return uuid5(MAIL_NAMESPACE, f"centre:{staff_id}")


def centre_of(staff: StaffMember) -> UUID:
    """The centre a centre operator works for: the one their provider's group names (issue
    16), else the one derived from their own account."""
    return staff.centre_id or centre_of_operator(staff.id)


def actor(store: EventStore, staff_id: UUID) -> Actor:
    """The staff member as the rules of access see them (OutOfReach if there is none)."""
    try:
        staff = store.get(staff_id, StaffMember)
    except LookupError:
        raise OutOfReach("staff account") from None
    centre = centre_of(staff) if staff.role is Role.CENTRE else None
    return Actor(staff.id, staff.role, centre)


def _get(store: EventStore, record_id: UUID, kind: type, what: str) -> object:
    try:
        return store.get(record_id, kind)
    except LookupError:
        raise OutOfReach(what) from None


def enrolment_for(ctx: Context, staff_id: UUID, enrollment_id: UUID) -> Enrollment:
    """The enrolment, if the staff member's centre made it (or they are the hotline)."""
    found = _get(ctx.store, enrollment_id, Enrollment, "enrolment")
    assert isinstance(found, Enrollment)
    check_enrolment(ctx.store, staff_id, found)
    return found


def check_enrolment(store: EventStore, staff_id: UUID, enrollment: Enrollment) -> None:
    """OutOfReach unless the staff member may act on this (already loaded) enrolment."""
    check_centre(actor(store, staff_id), enrollment.centre_id, "enrolment")


def centre_of_session(store: EventStore, session_id: UUID) -> UUID:
    """The centre whose enrolment the exam session belongs to."""
    session = _get(store, session_id, ProctoredSession, "exam session")
    assert isinstance(session, ProctoredSession)
    enrollment = _get(store, session.enrollment_id, Enrollment, "exam session")
    assert isinstance(enrollment, Enrollment)
    return enrollment.centre_id


def session_for(ctx: Context, staff_id: UUID, session_id: UUID) -> ProctoredSession:
    """An exam session, for the hotline or the centre of its enrolment (live supervision)."""
    centre = centre_of_session(ctx.store, session_id)
    check_centre(actor(ctx.store, staff_id), centre, "exam session")
    session = ctx.store.get(session_id, ProctoredSession)
    return session


def review_for(ctx: Context, staff_id: UUID, review_id: UUID) -> Review:
    """A review the staff member may see (`domain.access.may_see_review`)."""
    review = _get(ctx.store, review_id, Review, "review")
    assert isinstance(review, Review)
    check_review(ctx.store, staff_id, review)
    return review


def check_review(store: EventStore, staff_id: UUID, review: Review) -> None:
    """OutOfReach unless the staff member may see this (already loaded) review."""
    who = actor(store, staff_id)
    if who.role is Role.EXAMINER:  # no need to know the centre
        allowed = examiner_may_see(who.staff_id, review)
    else:
        allowed = may_see_review(who, review, centre_of_session(store, review.session_id))
    if not allowed:
        raise OutOfReach("review")


def review_of_session(store: EventStore, session_id: UUID) -> Review | None:
    """The review of the session's exam, once it was sent."""
    from app.use_cases.reviewing import review_id_for  # reviewing checks through here

    session = _get(store, session_id, ProctoredSession, "exam session")
    assert isinstance(session, ProctoredSession)
    if session.attempt_id is None:
        return None
    try:
        return store.get(review_id_for(session.attempt_id), Review)
    except LookupError:
        return None


def media_viewer(store: EventStore, staff_id: UUID, session_id: UUID, *, live: bool) -> Actor:
    """Who may look at a session's media (photos, recordings, segments, stills, or live):
    the hotline and auditors; an examiner who may see its review (live: also before there is
    one, R2); never a centre (it follows progress, not images). OutOfReach otherwise."""
    who = actor(store, staff_id)
    if who.role in (Role.SUPPORT, Role.AUDITOR):
        _get(store, session_id, ProctoredSession, "exam session")
        return who
    if who.role is Role.EXAMINER:
        review = review_of_session(store, session_id)
        if review is None and live:
            return who
        if review is not None and examiner_may_see(who.staff_id, review):
            return who
    raise OutOfReach("exam session")
