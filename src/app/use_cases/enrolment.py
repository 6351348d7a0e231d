"""Use cases of the training centre and the hotline: enrol, create and renew sessions (R1–R3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from app.context import Context, retrying, update
from app.ports.event_store import AggregateNotFound
from domain.candidate import Candidate, check_email
from domain.enrollment import Enrollment, SessionCreationOutcome
from domain.proctored_session import ProctoredSession
from domain.rules import CURRENT_RULES, RuleSet


class CandidateDirectory(Protocol):
    """Finds a candidate's account by e-mail (a read model)."""

    def find_by_email(self, email: str) -> UUID | None:
        """The candidate id registered with that e-mail, if any."""
        ...


@dataclass(frozen=True)
class Enrolled:
    """What the centre sees after enrolling someone."""

    candidate_id: UUID
    enrollment_id: UUID
    last_day: date
    new_candidate: bool


def enrol_candidate(
    ctx: Context,
    directory: CandidateDirectory,
    *,
    centre_id: UUID,
    email: str,
    surname: str,
    first_name: str,
    certification_code: str,
    language: str = "fr",
    rules: RuleSet = CURRENT_RULES,
) -> Enrolled:
    """A training centre enrols a candidate (registering the person on first enrolment)."""
    at = ctx.now()
    certification = ctx.catalogue.get(certification_code)
    existing = directory.find_by_email(check_email(email))
    candidate: Candidate | None = None
    if existing is None:
        candidate = Candidate.register(
            candidate_id=ctx.ids.new_id(),
            email=email,
            surname=surname,
            first_name=first_name,
            language=language,
            at=at,
        )
        candidate_id = candidate.id
    else:
        candidate_id = existing
    enrollment = Enrollment.enrol(
        enrollment_id=ctx.ids.new_id(),
        centre_id=centre_id,
        candidate_id=candidate_id,
        certification_code=certification.code,
        exam_duration_minutes=certification.duration_minutes,
        rules=rules,
        at=at,
    )
    if candidate is not None:
        ctx.store.save(candidate, enrollment)
    else:
        ctx.store.save(enrollment)
    return Enrolled(candidate_id, enrollment.id, enrollment.last_day, candidate is not None)


@dataclass(frozen=True)
class SessionCreation:
    """R2: the outcome shown to the candidate and the exam session's id and validity."""

    outcome: SessionCreationOutcome
    session_id: UUID
    valid_until: date


def create_exam_session(
    ctx: Context, enrollment_id: UUID, *, live_supervision: bool = False
) -> SessionCreation:
    """R1/R2: the candidate creates the exam session when ready; a repeat changes nothing.
    Two overlapping clicks: one creates, the other (retried on fresh state) finds it exists."""

    def once() -> SessionCreation:
        at = ctx.now()
        enrollment = ctx.store.get(enrollment_id, Enrollment)
        session_id = ctx.ids.new_id()
        outcome = enrollment.create_exam_session(
            exam_session_id=session_id, at=at, live_supervision=live_supervision
        )
        assert enrollment.exam_session_id is not None
        assert enrollment.session_valid_until is not None
        if outcome is not SessionCreationOutcome.ALREADY_EXISTS:
            session = ProctoredSession.open(
                session_id=session_id,
                enrollment_id=enrollment.id,
                candidate_id=enrollment.candidate_id,
                certification_code=enrollment.certification_code,
                exam_duration_minutes=enrollment.exam_duration_minutes,
                rules=enrollment.rules,
                live_supervision=live_supervision,
                at=at,
            )
            accommodation = enrollment.accommodation
            if accommodation is not None and accommodation.extra_time_percent:
                # Extra time granted before the session existed lengthens its budget (R4).
                session.apply_accommodation(
                    at=at, extra_time_percent=accommodation.extra_time_percent
                )
            # One transaction: the enrolment never points to a session that was not stored.
            ctx.store.save(enrollment, session)
        return SessionCreation(outcome, enrollment.exam_session_id, enrollment.session_valid_until)

    return retrying(once)


def renew_exam_session(ctx: Context, enrollment_id: UUID) -> date:
    """R3: the hotline renews the exam session's validity, never past day 90."""
    at = ctx.now()
    return update(ctx, enrollment_id, Enrollment, lambda e: e.renew_exam_session(at=at))


def book_live_supervision_slot(
    ctx: Context, enrollment_id: UUID, *, slot: datetime, booked_by: UUID
) -> None:
    """R2: the hotline books the agreed live-supervision slot."""
    at = ctx.now()
    update(
        ctx,
        enrollment_id,
        Enrollment,
        lambda e: e.book_live_supervision_slot(slot=slot, booked_by=booked_by, at=at),
    )


def expire_enrollment(ctx: Context, enrollment_id: UUID) -> None:
    """R1: record that an enrolment passed its last day."""
    at = ctx.now()
    update(ctx, enrollment_id, Enrollment, lambda e: e.expire(at=at))


def find_enrollment(ctx: Context, enrollment_id: UUID) -> Enrollment:
    """The enrolment, or AggregateNotFound naming it."""
    try:
        return ctx.store.get(enrollment_id, Enrollment)
    except AggregateNotFound:
        raise AggregateNotFound(enrollment_id, "enrolment") from None
