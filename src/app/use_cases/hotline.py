"""The hotline's (support role) actions for one candidate, each kept with who and why (R2,
R3, R9, R20, R23), and the case file it reads first: the person, their enrolments and
sessions, and what the hotline already did."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from app.context import Context, retrying, update
from app.outbox import mail_id_of
from app.person_names import folded_for_search, name_in_list
from app.read_models import AppealSummary, Projections, ReviewSummary, SessionSummary
from app.use_cases import enrolment, proctoring
from domain.candidate import Candidate
from domain.enrollment import Enrollment
from domain.errors import InvalidArgument, RuleBroken
from domain.exam_attempt import ExamAttempt
from domain.guide import Step
from domain.hotline import MailToResend, check_reason
from domain.outbound_mail import MailKind
from domain.proctored_session import ProctoredSession
from domain.staff import StaffMember

_Who = Callable[[UUID | None], str]  # a staff member's id to their name
MOST_FOUND = 50  # a search that finds more asks for a closer query


@dataclass(frozen=True)
class Found:
    """A candidate a search found."""

    candidate_id: UUID
    name: str
    email: str
    # The other names centres enrolled her under (F1: each centre keeps the names it
    # typed), which the search also looked in: shown, so support sees why she was found.
    enrolled_as: tuple[str, ...] = ()


def find_candidates(ctx: Context, projections: Projections, query: str) -> list[Found]:
    """Candidates whose e-mail, surname or first name contains every word of the query:
    the account's names or those any centre enrolled her under (a caller gives the names
    her centre knows her by; a user's tour found nobody for them). Names are read from each
    account (they are personal data, sealed in the log, and the read models keep only
    addresses): fine for a centre's few thousand candidates."""
    words = folded_for_search(query).split()
    if not words:
        return []
    found: list[Found] = []
    for email, candidate_id in sorted(projections.candidates_by_email.items()):
        candidate = ctx.store.get(candidate_id, Candidate)
        if candidate.erased_at is not None:
            continue
        name = name_in_list(candidate.surname, candidate.first_name)
        enrolled_as = tuple(
            dict.fromkeys(  # each other name once, in the order the centres gave them
                other
                for given in candidate.enrolment_names
                if (other := name_in_list(given.surname, given.first_name)) != name
            )
        )
        haystack = folded_for_search(" ".join((email, candidate.first_name, candidate.surname)))
        others = [folded_for_search(other) for other in enrolled_as]
        # Every word in the account's names and address, or every word in one centre's
        # names: « Martin Autre » mixes two people's sets, and finds nobody.
        if all(word in haystack for word in words) or any(
            all(word in f"{folded_for_search(email)} {other}" for word in words) for other in others
        ):
            found.append(Found(candidate_id, name, email, enrolled_as))
            if len(found) == MOST_FOUND:
                break
    return found


@dataclass(frozen=True)
class EnrolmentFile:
    """One enrolment as the hotline sees it, with its exam session if there is one, its exam
    attempt once the checks launched it (R10: where she is in the portal, before or after
    « Commencer »), and its review and appeal once the exam was sent (what the candidate
    calls about afterwards)."""

    enrollment: Enrollment
    session: ProctoredSession | None
    summary: SessionSummary | None
    review: ReviewSummary | None = None
    appeal: AppealSummary | None = None
    attempt: ExamAttempt | None = None
    today: date | None = None  # the centre's day the file was read on (`case_file`)

    @property
    def renewal_refusal(self) -> RuleBroken | None:
        """What « Renouveler la session » would be refused for now (R3, R18), by the test
        the renewal itself runs; None when it is possible. A file read without its day is
        judged as on the enrolment's last day (the day's own test then passes)."""
        e = self.enrollment
        today = self.today if self.today is not None else e.last_day
        return e.renewal_refusal(today=today, session_closed=self.session_over)

    @property
    def renewal_possible(self) -> bool:
        """R3: a session exists, still open, its validity not reaching day 90 yet (R18: not
        a session that is over)."""
        return self.renewal_refusal is None

    @property
    def booking_refusal(self) -> RuleBroken | None:
        """What « Réserver le créneau » would be refused for now whatever the slot (R2, R1,
        R18, R3), by the test the booking itself runs; None while a slot can still matter
        (a user's tour: offered for an exam already sent, a dead end)."""
        e, session = self.enrollment, self.session
        today = self.today if self.today is not None else (e.session_valid_until or e.last_day)
        return e.slot_booking_refusal(
            today=today,
            session_closed=self.session_over,
            session_entered=session is not None and session.entries > 0,
        )

    @property
    def session_over(self) -> bool:
        """R18, R22: the session closed, its exam sent or left for good."""
        return self.session is not None and self.session.closed_at is not None

    @property
    def photo_to_waive(self) -> Step | None:
        """R9: the photo step the candidate is stuck on, if they are at one: the only photo
        a waiver is accepted for (the session's next step), so the only one offered."""
        session = self.session
        if session is None or session.closed_at is not None or session.entries == 0:
            return None
        step = session.next_step
        return step if step in (Step.FACE_PHOTO, Step.ID_PHOTO) else None


@dataclass(frozen=True)
class HotlineAction:
    """A line of the candidate's history: what the hotline did, who, and why."""

    at: datetime
    kind: str  # a key of ui.web.hotline's words
    by: str
    why: str
    detail: str = ""
    day: date | None = None
    moment: datetime | None = None
    # Where the mail this action called for stands (a MailStatus value: pending, sent,
    # failed), so the hotline can tell a caller whether it went; "" when none was decided
    # (a renewal recorded before renewals were mailed).
    mail: str = ""


@dataclass(frozen=True)
class CaseFile:
    candidate: Candidate
    enrolments: tuple[EnrolmentFile, ...]
    history: tuple[HotlineAction, ...]


def case_file(ctx: Context, projections: Projections, candidate_id: UUID) -> CaseFile:
    """Everything the hotline needs on the phone, read from the log (never stale): the
    read models it lists enrolments and sessions' states from are brought up to the log's
    head first (with two nodes, a page on one showed the session's state of its own last
    catch-up, reload after reload, while the candidate went on through the other)."""
    projections.catch_up(ctx.store)
    candidate = ctx.store.get(candidate_id, Candidate)
    today = ctx.now().date()
    files: list[EnrolmentFile] = []
    history: list[HotlineAction] = []
    names: dict[UUID, str] = {}

    def who(staff_id: UUID | None) -> str:
        if staff_id is None:
            return ""
        if staff_id not in names:
            try:
                names[staff_id] = ctx.store.get(staff_id, StaffMember).name
            except LookupError:
                names[staff_id] = str(staff_id)
        return names[staff_id]

    ids = [
        s.enrollment_id for s in projections.enrollments.values() if s.candidate_id == candidate_id
    ]
    for enrollment_id in ids:
        enrollment = ctx.store.get(enrollment_id, Enrollment)
        session = attempt = None
        if enrollment.exam_session_id is not None:
            session = ctx.store.get(enrollment.exam_session_id, ProctoredSession)
            history.extend(_session_actions(ctx, session.id, who))
            if session.attempt_id is not None:
                attempt = ctx.store.get(session.attempt_id, ExamAttempt)
        summary = projections.sessions.get(session.id) if session else None
        review_id = summary.review_id if summary else None
        review = projections.reviews.get(review_id) if review_id else None
        appeal = projections.appeals.get(review_id) if review_id else None
        files.append(
            EnrolmentFile(enrollment, session, summary, review, appeal, attempt, today=today)
        )
        history.extend(_enrolment_actions(ctx, projections, enrollment_id, who))
    files.sort(key=lambda f: f.enrollment.enrolled_on, reverse=True)
    history.sort(key=lambda a: a.at, reverse=True)
    return CaseFile(candidate, tuple(files), tuple(history))


def _enrolment_actions(
    ctx: Context, projections: Projections, enrollment_id: UUID, who: _Who
) -> list[HotlineAction]:
    actions = []
    for event in ctx.store.history(enrollment_id):
        at = event.timestamp
        if isinstance(event, Enrollment.ExamSessionRenewed):
            cause = f"{event.originator_id}/{event.originator_version}"
            mailed = projections.mails.get(mail_id_of(cause, MailKind.EXAM_SESSION_RENEWED))
            actions.append(
                HotlineAction(
                    at,
                    "renewed",
                    who(event.renewed_by),
                    event.reason,
                    day=event.valid_until,
                    mail=mailed.status.value if mailed else "",
                )
            )
        elif isinstance(event, Enrollment.LiveSupervisionSlotBooked):
            actions.append(
                HotlineAction(
                    at, "slot_booked", who(event.booked_by), event.note, moment=event.slot
                )
            )
        elif isinstance(event, Enrollment.LiveSupervisionLinkSent):
            actions.append(
                HotlineAction(
                    at, "link_sent", who(event.sent_by), "", event.link, moment=event.slot
                )
            )
        elif isinstance(event, Enrollment.MailResent):
            actions.append(
                HotlineAction(at, f"resent_{event.mail.value}", who(event.sent_by), event.reason)
            )
        elif isinstance(event, Enrollment.CandidateUnblocked):
            kind = "unblocked_left" if event.session_left else "unblocked"
            actions.append(HotlineAction(at, kind, who(event.unblocked_by), event.reason))
    return actions


def _session_actions(ctx: Context, session_id: UUID, who: _Who) -> list[HotlineAction]:
    actions = []
    for event in ctx.store.history(session_id):
        if isinstance(event, ProctoredSession.PhotoWaived):
            actions.append(
                HotlineAction(
                    event.timestamp,
                    f"waived_{event.step.value}",
                    who(event.waived_by),
                    event.reason,
                )
            )
        elif isinstance(event, ProctoredSession.TechnicalProblemRecorded):
            actions.append(
                HotlineAction(
                    event.timestamp, "technical_problem", who(event.recorded_by), event.description
                )
            )
    return actions


# --- the actions -----------------------------------------------------------------------------


def renew(ctx: Context, enrollment_id: UUID, *, by: UUID, reason: str) -> date:
    """R3: a new validity, never past day 90; returns the new last valid day. The worker
    mails the candidate that day (app.outbox)."""
    return enrolment.renew_exam_session(ctx, enrollment_id, renewed_by=by, reason=reason)


def _session_of(ctx: Context, enrollment_id: UUID) -> UUID:
    enrollment = ctx.store.get(enrollment_id, Enrollment)
    enrolment.refuse_if_holder_erased(ctx, enrollment)
    session_id = enrollment.exam_session_id
    if session_id is None:
        raise RuleBroken("R2", "the candidate has not created the exam session yet")
    return session_id


def waive_photo(ctx: Context, enrollment_id: UUID, *, step: Step, by: UUID, reason: str) -> None:
    """R9: the candidate goes on without that photo; the review sees it missing."""
    proctoring.waive_photo(
        ctx, _session_of(ctx, enrollment_id), step=step, reason=reason, waived_by=by
    )


def record_technical_problem(
    ctx: Context, enrollment_id: UUID, *, by: UUID, description: str
) -> None:
    """R20: the proven technical problem that makes a phone acceptable. An empty description
    is said first, before whether a session exists (it was answered « R2 » for spaces)."""
    check_reason("description", description)
    proctoring.record_technical_problem(
        ctx, _session_of(ctx, enrollment_id), description=description, recorded_by=by
    )


def local_slot(text: str, zone: ZoneInfo) -> datetime:
    """A slot as typed (an <input type="datetime-local"> value, or `YYYY-MM-DDTHH:MM` on the
    command line), read in the centre's time zone."""
    try:
        naive = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidArgument("slot", "give a date and time, e.g. 2025-03-04T14:00") from None
    if naive.tzinfo is not None:
        return naive.astimezone(zone)
    return naive.replace(tzinfo=zone)


def book_live(
    ctx: Context, enrollment_id: UUID, *, slot: datetime, by: UUID, note: str = ""
) -> None:
    """R2: the slot agreed with the candidate, in office hours, within the validity."""
    enrolment.book_live_supervision_slot(ctx, enrollment_id, slot=slot, booked_by=by, note=note)


def send_live_link(ctx: Context, enrollment_id: UUID, *, link: str, by: UUID) -> None:
    """R2: the screen-sharing link for the booked slot; the outbox mails it."""
    at = ctx.now()

    def send(enrollment: Enrollment) -> None:
        enrolment.refuse_if_holder_erased(ctx, enrollment)
        enrollment.send_live_supervision_link(link=link, sent_by=by, at=at)

    update(ctx, enrollment_id, Enrollment, send)


def resend(ctx: Context, enrollment_id: UUID, *, mail: MailToResend, by: UUID, reason: str) -> None:
    """The invitation, or the log-in mail with a new single-use link; the outbox sends it."""
    at = ctx.now()

    def send_again(enrollment: Enrollment) -> None:
        enrolment.refuse_if_holder_erased(ctx, enrollment)
        enrollment.resend_mail(mail=mail, sent_by=by, reason=reason, at=at)

    update(ctx, enrollment_id, Enrollment, send_again)


UNBLOCK_CAUSE = "blocked screen (R23): reconnecting with the hotline's new log-in link"


def unblock(ctx: Context, enrollment_id: UUID, *, by: UUID, reason: str) -> bool:
    """R23: the candidate's screen is blocked. If they are inside the session, it is recorded
    as left (the examiner sees the interruption, and going back in asks for a reason, R6);
    then a new log-in link is mailed. Both in one transaction. Returns whether the session
    was left."""
    why = check_reason("reason", reason)
    at = ctx.now()

    def once() -> bool:
        enrollment = ctx.store.get(enrollment_id, Enrollment)
        enrolment.refuse_if_holder_erased(ctx, enrollment)
        session = None
        if enrollment.exam_session_id is not None:
            session = ctx.store.get(enrollment.exam_session_id, ProctoredSession)
        entered = session is not None and session.entries > 0
        closed = session is not None and session.closed_at is not None
        inside = entered and not closed
        enrollment.unblock(
            unblocked_by=by,
            reason=why,
            session_left=inside,
            at=at,
            session_entered=entered,
            session_closed=closed,
        )
        if inside:
            assert session is not None
            session.leave(at=at, cause=f"{UNBLOCK_CAUSE} — {why}")
            ctx.store.save(enrollment, session)
        else:
            ctx.store.save(enrollment)
        return inside

    return retrying(once)
