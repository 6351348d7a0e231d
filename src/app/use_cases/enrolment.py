"""Use cases of the training centre and the hotline: enrol, create and renew sessions (R1–R3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from app import tenancy
from app.claiming import Unit, in_one_transaction
from app.context import Context, retrying, update
from app.ports.event_store import AggregateNotFound
from domain.access import OutOfReach
from domain.candidate import (
    Candidate,
    check_email,
    check_language,
    check_names,
    refuse_if_erased,
)
from domain.claims import Claim, ClaimKind, Handover, email_claim_id, enrolment_claim_id
from domain.enrollment import Enrollment, SessionCreationOutcome
from domain.errors import InvalidArgument
from domain.imports import CsvImport, import_id
from domain.proctored_session import ProctoredSession
from domain.rules import CURRENT_RULES, RuleSet


class CandidateDirectory(Protocol):
    """Finds a candidate's account by e-mail, and a centre's name (a read model: it answers
    questions, it never guards uniqueness; enrolment reads it only for accounts older than
    their claim)."""

    def find_by_email(self, email: str) -> UUID | None:
        """The candidate id registered with that e-mail, if any."""
        ...

    def centre_name(self, centre_id: UUID) -> str:
        """The centre's name as its account gives it ("" when unknown)."""
        ...


@dataclass(frozen=True)
class Enrolled:
    """What the centre sees after enrolling someone (`already_enrolled`: nothing changed, the
    enrolment shown is the one under way).

    Nothing here says whether the e-mail already had an account (security finding F1: a
    centre enrolling another centre's candidate learnt « new_candidate: false » and so that
    the address has an account): the answer is the same for a person new to the platform and
    for one another centre registered. The candidate id names the person's account; it opens
    nothing of another centre's (app.tenancy: every centre route takes an enrolment, checked
    against the centre)."""

    candidate_id: UUID
    enrollment_id: UUID
    last_day: date
    already_enrolled: bool = False
    re_enrolled: bool = False


@dataclass(frozen=True)
class Enrolment:
    """One person to enrol for one certification (a form, or a line of a CSV file)."""

    email: str
    surname: str
    first_name: str
    certification_code: str
    language: str = "fr"
    re_enrol: bool = False  # enrol again even if an enrolment is under way


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
    re_enrol: bool = False,
    rules: RuleSet = CURRENT_RULES,
) -> Enrolled:
    """A training centre enrols a candidate (registering the person on first enrolment). One
    account per e-mail and one enrolment per centre, candidate and certification, guarded by
    claims in the store: a repeat, or a concurrent twin, changes nothing and says so."""
    wanted = Enrolment(email, surname, first_name, certification_code, language, re_enrol)
    at = ctx.now()
    return in_one_transaction(
        ctx, lambda unit: enrol_in(unit, ctx, directory, wanted, centre_id, rules, at)
    )


def enrol_in(
    unit: Unit,
    ctx: Context,
    directory: CandidateDirectory,
    wanted: Enrolment,
    centre_id: UUID,
    rules: RuleSet,
    at: datetime,
) -> Enrolled:
    """Decide one enrolment inside a unit of work (a CSV import decides many in one).

    Every value is checked before the account is looked up, so a refusal is the same for an
    address with an account and one without (F1); the names typed are recorded with the
    enrolment on the person's own stream (Candidate.give_enrolment_names)."""
    certification = ctx.catalogue.get(wanted.certification_code.strip())
    check_email(wanted.email)
    surname, first_name = check_names(wanted.surname, wanted.first_name)
    check_language(wanted.language)
    candidate_id, new_candidate = _account(unit, ctx, directory, wanted, at)
    claim_id = enrolment_claim_id(centre_id, candidate_id, certification.code)
    claim = None if new_candidate else unit.find(claim_id, Claim)
    handover: Handover | None = None
    if claim is not None:
        current = unit.find(claim.holder_id, Enrollment)
        if current is not None:
            if wanted.re_enrol:
                handover = Handover.RE_ENROLLED
            elif current.expired or current.last_day < at.date():
                handover = Handover.ENROLMENT_EXPIRED
            else:
                return Enrolled(candidate_id, current.id, current.last_day, already_enrolled=True)
    enrollment = Enrollment.enrol(
        enrollment_id=ctx.ids.new_id(),
        centre_id=centre_id,
        candidate_id=candidate_id,
        certification_code=certification.code,
        exam_duration_minutes=certification.duration_minutes,
        rules=rules,
        at=at,
        centre_name=directory.centre_name(centre_id),
    )
    person = unit.find(candidate_id, Candidate)
    assert person is not None  # _account found or registered them in this unit
    if person.give_enrolment_names(
        enrollment_id=enrollment.id,
        centre_id=centre_id,
        surname=surname,
        first_name=first_name,
        at=at,
    ):
        unit.add(person)
    if claim is None:
        claim = Claim.stake(
            claim_id=claim_id, kind=ClaimKind.ENROLMENT, holder_id=enrollment.id, at=at
        )
    else:
        claim.hand_over(holder_id=enrollment.id, handover=handover or Handover.RE_ENROLLED, at=at)
    unit.add(enrollment, claim)
    return Enrolled(
        candidate_id, enrollment.id, enrollment.last_day, re_enrolled=handover is not None
    )


def find_candidate(ctx: Context, directory: CandidateDirectory, email: str) -> UUID | None:
    """The live account registered with that address: its claim's holder (read from the
    store, so a process whose read models lag still finds it), or for accounts older than
    their claim, the read model. An erased holder is nobody."""
    unit = Unit(ctx.store)
    claim = unit.find(email_claim_id(ClaimKind.CANDIDATE_EMAIL, email), Claim)
    if claim is None:
        return directory.find_by_email(check_email(email))
    holder = unit.find(claim.holder_id, Candidate)
    return holder.id if holder is not None and holder.erased_at is None else None


def _account(
    unit: Unit, ctx: Context, directory: CandidateDirectory, wanted: Enrolment, at: datetime
) -> tuple[UUID, bool]:
    """The candidate holding the address's claim, or a new one who claims it. An erased
    holder gave the address up (issue 8): the claim passes to the new account."""
    email = check_email(wanted.email)
    claim_id = email_claim_id(ClaimKind.CANDIDATE_EMAIL, email)
    claim = unit.find(claim_id, Claim)
    if claim is None:
        # Accounts registered before claims existed have none: the read model knows them,
        # and their claim is staked now.
        legacy = directory.find_by_email(email)
        known = None if legacy is None else unit.find(legacy, Candidate)
        if legacy is not None and known is not None and known.erased_at is None:
            unit.add(
                Claim.stake(
                    claim_id=claim_id, kind=ClaimKind.CANDIDATE_EMAIL, holder_id=legacy, at=at
                )
            )
            return legacy, False
    else:
        holder = unit.find(claim.holder_id, Candidate)
        if holder is not None and holder.erased_at is None:
            return holder.id, False
    candidate = Candidate.register(
        candidate_id=ctx.ids.new_id(),
        email=email,
        surname=wanted.surname,
        first_name=wanted.first_name,
        language=wanted.language,
        at=at,
    )
    if claim is None:
        claim = Claim.stake(
            claim_id=claim_id, kind=ClaimKind.CANDIDATE_EMAIL, holder_id=candidate.id, at=at
        )
    else:
        claim.hand_over(holder_id=candidate.id, handover=Handover.HOLDER_ERASED, at=at)
    unit.add(candidate, claim)
    return candidate.id, True


@dataclass(frozen=True)
class ImportOutcome:
    """A CSV import: each line's enrolment, or, for a file already imported, when it was
    (and nothing changed)."""

    imported_at: datetime
    lines: tuple[Enrolled, ...]
    already_imported: bool = False


def import_enrolments(
    ctx: Context,
    directory: CandidateDirectory,
    *,
    centre_id: UUID,
    imported_by: UUID,
    digest: str,
    lines: Sequence[Enrolment],
    rules: RuleSet = CURRENT_RULES,
) -> ImportOutcome:
    """A checked CSV file, enrolled whole in one transaction with its import record, or not
    at all. The same file again (or twice at once) finds its record and changes nothing."""
    at = ctx.now()
    return in_one_transaction(
        ctx,
        lambda unit: import_in(
            unit, ctx, directory, FileOfEnrolments(centre_id, imported_by, digest, lines), rules, at
        ),
    )


@dataclass(frozen=True)
class FileOfEnrolments:
    """A checked CSV file: who imports it for which centre, its digest and its lines."""

    centre_id: UUID
    imported_by: UUID
    digest: str
    lines: Sequence[Enrolment]


def import_in(
    unit: Unit,
    ctx: Context,
    directory: CandidateDirectory,
    file: FileOfEnrolments,
    rules: RuleSet,
    at: datetime,
) -> ImportOutcome:
    """Decide a whole file inside a unit of work: every line, then the import's record."""
    done = unit.find(import_id(file.centre_id, file.digest), CsvImport)
    if done is not None:
        return ImportOutcome(done.created_on, (), already_imported=True)
    _prefetch(unit, file.lines, file.centre_id)
    enrolled = tuple(
        enrol_in(unit, ctx, directory, wanted, file.centre_id, rules, at) for wanted in file.lines
    )
    already = sum(1 for e in enrolled if e.already_enrolled)
    unit.add(
        CsvImport.record(
            centre_id=file.centre_id,
            digest=file.digest,
            lines=len(enrolled),
            enrolled=len(enrolled) - already,
            already_enrolled=already,
            imported_by=file.imported_by,
            at=at,
        )
    )
    return ImportOutcome(at, enrolled)


def _prefetch(unit: Unit, lines: Sequence[Enrolment], centre_id: UUID) -> None:
    """Read the claims and holders a file's lines will look at in four queries, not four per
    line (a 300-line file stays fast)."""
    claim_of: dict[UUID, Enrolment] = {}
    for wanted in lines:
        try:
            claim_of[email_claim_id(ClaimKind.CANDIDATE_EMAIL, wanted.email)] = wanted
        except InvalidArgument:
            continue  # enrol_in refuses it, naming the field
    claims = unit.prefetch(claim_of, Claim)
    holders = {c.id: c.holder_id for c in claims}
    unit.prefetch(holders.values(), Candidate)
    enrolment_claims = [
        enrolment_claim_id(centre_id, holders[claim_id], wanted.certification_code)
        for claim_id, wanted in claim_of.items()
        if claim_id in holders and wanted.certification_code.strip()
    ]
    unit.prefetch((c.holder_id for c in unit.prefetch(enrolment_claims, Claim)), Enrollment)


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
        # An erased person's invitation link creates nothing, even a second time: it no
        # longer says « already exists » either (a tester's tour: a session, a promised mail
        # and a webhook for someone gone).
        refuse_if_holder_erased(ctx, enrollment)
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


def renew_exam_session(
    ctx: Context, enrollment_id: UUID, *, renewed_by: UUID | None = None, reason: str = ""
) -> date:
    """R3: the hotline renews the exam session's validity, never past day 90 (who and why
    are kept; a reason is required when a staff member is named)."""
    at = ctx.now()

    def renew(enrollment: Enrollment) -> date:
        refuse_if_holder_erased(ctx, enrollment)
        session_id = enrollment.exam_session_id
        closed = (
            session_id is not None
            and ctx.store.get(session_id, ProctoredSession).closed_at is not None
        )
        return enrollment.renew_exam_session(
            at=at, renewed_by=renewed_by, reason=reason, session_closed=closed
        )

    return update(ctx, enrollment_id, Enrollment, renew)


def book_live_supervision_slot(
    ctx: Context, enrollment_id: UUID, *, slot: datetime, booked_by: UUID, note: str = ""
) -> None:
    """R2: the hotline, or the enrolment's own centre, books the agreed live-supervision
    slot (issue 14: another centre's enrolment is out of reach, as if it did not exist),
    while it can still matter: not once the candidate entered the session or it is over."""
    at = ctx.now()

    def book(enrollment: Enrollment) -> None:
        tenancy.check_enrolment(ctx.store, booked_by, enrollment)
        refuse_if_holder_erased(ctx, enrollment)
        session_id = enrollment.exam_session_id
        session = None if session_id is None else ctx.store.get(session_id, ProctoredSession)
        enrollment.book_live_supervision_slot(
            slot=slot,
            booked_by=booked_by,
            at=at,
            note=note,
            session_closed=session is not None and session.closed_at is not None,
            session_entered=session is not None and session.entries > 0,
        )

    try:
        update(ctx, enrollment_id, Enrollment, book)
    except AggregateNotFound:
        raise OutOfReach("enrolment") from None


def expire_enrollment(ctx: Context, enrollment_id: UUID) -> None:
    """R1: record that an enrolment passed its last day."""
    at = ctx.now()
    update(ctx, enrollment_id, Enrollment, lambda e: e.expire(at=at))


def refuse_if_holder_erased(ctx: Context, enrollment: Enrollment) -> None:
    """The ERASED rule on an enrolment: once its candidate was erased, nothing new happens on
    it (no session, renewal, slot, mail, unblocking, accommodation): PersonErased."""
    refuse_if_erased(ctx.store.get(enrollment.candidate_id, Candidate))


def find_enrollment(ctx: Context, enrollment_id: UUID) -> Enrollment:
    """The enrolment, or AggregateNotFound naming it."""
    try:
        return ctx.store.get(enrollment_id, Enrollment)
    except AggregateNotFound:
        raise AggregateNotFound(enrollment_id, "enrolment") from None
