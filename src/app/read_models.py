"""Read models: projections of the log, rebuildable from scratch by replaying it.

"My sessions" for a candidate, "reviews due" for examiners, candidates by e-mail for the
centre, and a session's timeline. They live in each process's memory and catch up from their
position; their state is saved in the store with that position (`app.read_model_checkpoint`),
so a process starts from it and replays only the tail. On PostgreSQL a process hears the
log's head through LISTEN/NOTIFY (`LogHead`) and skips the read when it is already there.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import date, datetime, timedelta
from uuid import UUID

from eventsourcing.domain import AggregateEvent

from app import collector
from app.ports.event_store import EventStore, Recorded
from app.ports.read_model_store import LogHead
from app.tenancy import centre_of_operator
from app.use_cases.reviewing import review_id_for
from domain import accommodation
from domain.candidate import ERASED, Candidate
from domain.enrollment import Enrollment
from domain.errors import RuleBroken
from domain.evidence import MediaSpan, Verdict
from domain.exam_attempt import ExamAttempt
from domain.lti import LtiPlatform, ScoreReport, ScoreStatus
from domain.media_view import MediaView, ViewedMedia
from domain.outbound_mail import MailStatus, OutboundMail
from domain.proctored_session import RETENTION, ProctoredSession
from domain.review import Review
from domain.rules import utc
from domain.scoring import Results
from domain.staff import Role, StaffMember
from domain.webhook_delivery import DeliveryStatus, WebhookDelivery

# A position the reader has seen written (the web edge sets it from the browser's cookie after
# a command, whichever process saved it): a catch-up reads at least that far, even before
# the store's announcement of it reached this process (read-your-writes across processes).
SEEN: ContextVar[int] = ContextVar("seen_position", default=0)


@dataclass(frozen=True)
class SessionSummary:
    """A line of 'my sessions'."""

    session_id: UUID
    enrollment_id: UUID
    certification_code: str
    valid_until: date | None
    entries: int
    status: str
    attempt_id: UUID | None = None
    review_id: UUID | None = None
    verdict: Verdict | None = None
    # The exam's results as scored at its end (R18); the centre's list shows them only once
    # released (R19: results are sent after the review).
    results: Results | None = None
    live_supervision: bool = False  # created for a booked live-supervision slot (R2)
    # The status says « exam » from the launch (R10), before « Commencer » (R15) and until the
    # exam is sent (R18): the candidate's list read « Examen en cours » while she was still at
    # her profile or her tile (a user's tour). Whether the exam itself began, and ended.
    exam_begun: bool = False
    exam_finished: bool = False
    # The code shown with the results, to type back with « Valider l'examen » (R18): « Mes
    # examens » gives it beside the way to the results while the exam is not sent yet.
    validation_code: str = ""
    # The session closed (the exam sent or quit, R18, R22), whatever its status says after.
    closed: bool = False

    @property
    def entry_label(self) -> str:
        """R6: 'Examen' first, 'Reprendre l'examen' after."""
        return "Examen" if self.entries == 0 else "Reprendre l'examen"


@dataclass(frozen=True)
class ReviewSummary:
    """A line of 'reviews due'."""

    review_id: UUID
    session_id: UUID
    certification_code: str
    opened_at: datetime
    due_on: date
    examiner_id: UUID | None = None
    verdict: Verdict | None = None
    warning_hours: int = 48
    warned: bool = False
    marked_overdue: bool = False
    released: bool = False  # the result sent to the candidate (R19)
    released_at: datetime | None = None  # when it was sent (the hotline tells the candidate)

    def overdue(self, today: date) -> bool:
        """R19: the 8 days have passed without a decision."""
        return self.verdict is None and today > self.due_on


@dataclass(frozen=True)
class AppealSummary:
    """A line of 'appeals to decide': the contest of an invalidation, due 8 days later."""

    review_id: UUID
    session_id: UUID
    certification_code: str
    lodged_at: datetime
    due_on: date
    first_examiner_id: UUID | None
    examiner_id: UUID | None = None
    verdict: Verdict | None = None
    agrees: bool | None = None
    decided_at: datetime | None = None  # when the appeal's decision was sent to the candidate


@dataclass(frozen=True)
class AppealAgreement:
    """How often the second examiner agrees with the first (an appeal upheld)."""

    decided: int
    agreements: int

    @property
    def rate(self) -> float | None:
        """Agreements over decided appeals (None before the first decision)."""
        return self.agreements / self.decided if self.decided else None


@dataclass(frozen=True)
class EnrollmentSummary:
    """What the deadline process needs to know about an enrolment without loading it."""

    enrollment_id: UUID
    candidate_id: UUID
    last_day: date
    reminder_days: tuple[int, ...]
    has_session: bool = False
    valid_until: date | None = None
    expired: bool = False
    reminded: tuple[int, ...] = ()
    lapsed_until: date | None = None
    # The centre's list (issue 13): whose enrolment, for which certification, since when.
    centre_id: UUID | None = None
    certification_code: str = ""
    enrolled_on: date | None = None
    # Its candidate was erased (ERASED): nothing more happens on it, no reminder is due, and
    # the centre's list says so in words instead of a row with no name.
    holder_erased: bool = False


def closed_to_grants(
    enrollment: EnrollmentSummary, session: SessionSummary | None
) -> RuleBroken | None:
    """The domain's `closed_to_grants` on the facts the grant reads in the aggregates
    (app.use_cases.accommodations), as the read models hold them: the enrolment expired
    (R1), its session was entered or closed. The centre's list offers « Aménagements » where
    it is None, so the list and the grant cannot disagree."""
    return accommodation.closed_to_grants(
        expired=enrollment.expired,
        entered_at=None,
        entered=session is not None and session.entries > 0,
        closed=session is not None and session.closed,
    )


@dataclass(frozen=True)
class MediaViewSummary:
    """A recorded view of a session's media (issue 14): ids only, no personal data."""

    at: datetime
    viewer_id: UUID
    viewer_role: str
    what: ViewedMedia
    media: str


@dataclass(frozen=True)
class AttemptWatch:
    """What the deadline process needs to know about an exam in progress without loading
    it: when its time is up, and which workspace serves it."""

    attempt_id: UUID
    begun_at: datetime
    ends_at: datetime
    workspace_ref: str | None = None

    def time_may_be_up(self, now: datetime) -> bool:
        """A pre-selection only: the attempt itself decides (R4 time limit, R16 midnight)."""
        return utc(now) >= utc(self.ends_at) or now.date() != self.begun_at.date()


DEFAULT_RETENTION_DAYS = 365


@dataclass(frozen=True)
class RetentionSummary:
    """When a session's photos and recordings may go (issue 8): some days after its final
    decision, never while its appeal period runs or an appeal waits."""

    session_id: UUID
    certification_code: str
    appeal_days: int
    closed_on: date | None = None
    reviewed: bool = False
    released_on: date | None = None
    appeal_open: bool = False
    appeal_decided_on: date | None = None
    done: bool = False

    def due(self, today: date, retention_days: int) -> bool:
        """Whether the retention pass should run for this session today."""
        if self.done or self.appeal_open:
            return False
        if self.reviewed:
            if self.released_on is None:
                return False  # the decision is not final yet
            if today <= self.released_on + timedelta(days=self.appeal_days):
                return False  # the candidate may still appeal
            final = self.appeal_decided_on or self.released_on
        elif self.closed_on is not None:
            final = self.closed_on  # quit, or never sent for review: no decision comes
        else:
            return False
        return today > final + timedelta(days=retention_days)


@dataclass(frozen=True)
class MailSummary:
    """A line of the outbox, for the sender and for operators."""

    mail_id: UUID
    kind: str
    cause: str
    decided_at: datetime
    status: MailStatus = MailStatus.PENDING
    next_attempt_at: datetime | None = None
    attempts: int = 0
    last_error: str = ""


@dataclass(frozen=True)
class DeliveryAttempt:
    """One line of a centre's webhook delivery log: an attempt and what came of it."""

    at: datetime
    attempt: int
    status_code: int | None
    outcome: str  # "delivered", "failed" or "given up"
    error: str = ""


@dataclass(frozen=True)
class DeliverySummary:
    """A webhook delivery, for the sender (due ones) and the centre's page (its log)."""

    delivery_id: UUID
    centre_id: UUID
    event_type: str
    url: str
    decided_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    next_attempt_at: datetime | None = None
    attempts: tuple[DeliveryAttempt, ...] = ()
    # Whose delivery it is (the centre's log names the candidate): the body's enrolment.
    enrollment_id: UUID | None = None


def _subject_of(body: str) -> UUID | None:
    """The enrolment a webhook's body is about (`data.enrollment_id`), if it names one."""
    try:
        found = json.loads(body).get("data", {}).get("enrollment_id")
        return UUID(found) if isinstance(found, str) else None
    except (ValueError, AttributeError):
        return None


@dataclass(frozen=True)
class ScoreSummary:
    """A score report to an LMS (issue 16), for the worker and for operators."""

    report_id: UUID
    cause: str
    decided_at: datetime
    status: ScoreStatus = ScoreStatus.PENDING
    next_attempt_at: datetime | None = None
    attempts: int = 0
    last_error: str = ""


@dataclass(frozen=True)
class TimelineEntry:
    """One fact of a session, as the examiner and the auditor read it."""

    position_in_stream: str
    at: datetime
    stream: str
    what: str
    details: str
    # The fact itself, for a page that says its fields in words (`details` is the raw line).
    event: AggregateEvent | None = field(default=None, compare=False, repr=False)


class Projections:
    """Every in-memory read model, fed by the notification log."""

    def __init__(self, head: LogHead | None = None) -> None:
        self.lock = threading.RLock()
        # The log's head as this process heard it (None: ask the store at every catch-up).
        self.head = head
        self.clear()

    def clear(self) -> None:
        """Empty every read model (a rebuild from the log follows)."""
        self.position = 0
        self.erasures = 0
        self.candidates_by_email: dict[str, UUID] = {}
        # (surname, first name) of each candidate as registered; dropped on erasure.
        self.candidate_names: dict[UUID, tuple[str, str]] = {}
        # (surname, first name) a centre typed for its enrolment where they differ from the
        # registered ones (security finding F1), by enrolment; dropped on erasure.
        self.enrolment_names: dict[UUID, tuple[str, str]] = {}
        # Each centre's name, as its account gives it (the invitation names the centre).
        self.centre_names: dict[UUID, str] = {}
        self.staff_by_email: dict[str, UUID] = {}
        self.sessions: dict[UUID, SessionSummary] = {}
        self.sessions_by_candidate: dict[UUID, list[UUID]] = {}
        self.enrollment_valid_until: dict[UUID, date] = {}
        self.session_of_attempt: dict[UUID, UUID] = {}
        self.reviews: dict[UUID, ReviewSummary] = {}
        self.enrollments: dict[UUID, EnrollmentSummary] = {}
        self.attempts_in_progress: dict[UUID, AttemptWatch] = {}
        self.workspace_of_attempt: dict[UUID, str] = {}
        self.mails: dict[UUID, MailSummary] = {}
        self.scores: dict[UUID, ScoreSummary] = {}
        # The learning platforms registered (issue 16), by id: their issuer.
        self.lti_platforms: dict[UUID, str] = {}
        self.appeals: dict[UUID, AppealSummary] = {}
        self.retention: dict[UUID, RetentionSummary] = {}
        # Who looked at each session's media, oldest first (issue 14).
        self.media_views: dict[UUID, list[MediaViewSummary]] = {}
        # Webhook deliveries (issue 16): the sender's due list, each centre's delivery log.
        self.webhook_deliveries: dict[UUID, DeliverySummary] = {}

    # --- feeding ---------------------------------------------------------------------------

    def catch_up(self, store: EventStore, batch: int = 1000) -> int:
        """Apply everything recorded after this projection's position (one reader at a
        time: web requests and the worker share these read models)."""
        heard = self.head.known() if self.head is not None else None
        if heard is not None and self.position >= max(heard, SEEN.get()):
            return 0  # already at the head the store announced: no round trip
        applied = 0
        with self.lock, collector.Replaying() as replay:  # app/collector.py
            while True:
                page = store.read(self.position, batch)
                if not page:
                    return applied
                replay.page(len(page), batch)
                for recorded in page:
                    if recorded.position > self.position:
                        self.apply(recorded)
                        applied += 1

    def apply_page(self, page: Sequence[Recorded]) -> int:
        """Fold a page of the log read by someone else (those already applied are skipped);
        how many were applied."""
        applied = 0
        with self.lock:
            for recorded in page:
                if recorded.position > self.position:
                    self.apply(recorded)
                    applied += 1
        return applied

    def apply(self, recorded: Recorded) -> None:
        """Fold one event into the read models."""
        self.position = recorded.position
        event = recorded.event
        if isinstance(event, Candidate.CandidateRegistered):
            if event.email != ERASED:  # a replay after an erasure reads the placeholder
                self.candidates_by_email[event.email] = event.originator_id
                self.candidate_names[event.originator_id] = (event.surname, event.first_name)
        elif isinstance(event, Candidate.EnrolmentNamesGiven):
            if event.surname != ERASED:  # a replay after an erasure reads the placeholder
                self.enrolment_names[event.enrollment_id] = (event.surname, event.first_name)
        elif isinstance(event, Candidate.PersonalDataErased):
            self.erasures += 1  # the saved state's key changes: the old one is destroyed
            erased = event.originator_id
            self.candidate_names.pop(erased, None)
            self.candidates_by_email = {
                email: cid for email, cid in self.candidates_by_email.items() if cid != erased
            }
            for eid, summary in self.enrollments.items():
                if summary.candidate_id == erased:
                    self.enrollments[eid] = replace(summary, holder_erased=True)
                    self.enrolment_names.pop(eid, None)
        elif isinstance(event, StaffMember.StaffRegistered):
            self.staff_by_email[event.email] = event.originator_id
            if event.role is Role.CENTRE:  # a centre is named by its own account (app.tenancy)
                self.centre_names[centre_of_operator(event.originator_id)] = event.name
        elif isinstance(event, Enrollment.Event):
            self._apply_enrollment(event)
        elif isinstance(event, OutboundMail.Event):
            self._apply_mail(event)
        elif isinstance(event, WebhookDelivery.Event):
            self._apply_delivery(event)
        elif isinstance(event, ScoreReport.Event):
            self._apply_score(event)
        elif isinstance(event, LtiPlatform.Registered):
            self.lti_platforms[event.originator_id] = event.issuer
        elif isinstance(event, ProctoredSession.Event):
            self._apply_session(event)
        elif isinstance(event, ExamAttempt.Event):
            self._apply_attempt(event)
        elif isinstance(event, Review.Event):
            self._apply_review(event)
        elif isinstance(event, MediaView.MediaViewed):
            self.media_views.setdefault(event.session_id, []).append(
                MediaViewSummary(
                    event.timestamp, event.viewer_id, event.viewer_role, event.what, event.media
                )
            )

    def _apply_enrollment(self, event: AggregateEvent) -> None:
        eid = event.originator_id
        if isinstance(event, Enrollment.Enrolled):
            self.enrollments[eid] = EnrollmentSummary(
                eid,
                event.candidate_id,
                event.last_day,
                event.rules.reminder_days_before,
                centre_id=event.centre_id,
                certification_code=event.certification_code,
                enrolled_on=event.enrolled_on,
            )
            return
        summary = self.enrollments.get(eid)
        if summary is None:
            return
        if isinstance(event, Enrollment.ExamSessionCreated | Enrollment.ExamSessionRenewed):
            self.enrollment_valid_until[eid] = event.valid_until
            summary = replace(summary, has_session=True, valid_until=event.valid_until)
            for session_id, session in self.sessions.items():
                if session.enrollment_id == eid:
                    self.sessions[session_id] = replace(session, valid_until=event.valid_until)
        elif isinstance(event, Enrollment.EnrollmentExpired):
            summary = replace(summary, expired=True)
        elif isinstance(event, Enrollment.DeadlineReminderDue):
            reminded = (*summary.reminded, event.days_before, *event.skipped)
            summary = replace(summary, reminded=reminded)
        elif isinstance(event, Enrollment.ExamSessionValidityLapsed):
            summary = replace(summary, lapsed_until=event.valid_until)
        self.enrollments[eid] = summary

    def _apply_mail(self, event: AggregateEvent) -> None:
        mid = event.originator_id
        if isinstance(event, OutboundMail.MailDecided):
            self.mails[mid] = MailSummary(
                mid, event.kind.value, event.cause, event.timestamp, next_attempt_at=event.timestamp
            )
            return
        summary = self.mails.get(mid)
        if summary is None:
            return
        if isinstance(event, OutboundMail.DeliveryFailed):
            summary = replace(
                summary,
                attempts=event.attempt,
                last_error=event.error,
                next_attempt_at=event.retry_at or summary.next_attempt_at,
            )
        elif isinstance(event, OutboundMail.MailSent):
            summary = replace(summary, attempts=event.attempt, status=MailStatus.SENT)
        elif isinstance(event, OutboundMail.MailGivenUp):
            summary = replace(summary, status=MailStatus.FAILED)
        self.mails[mid] = summary

    def _apply_delivery(self, event: AggregateEvent) -> None:
        did = event.originator_id
        if isinstance(event, WebhookDelivery.DeliveryDecided):
            self.webhook_deliveries[did] = DeliverySummary(
                did,
                event.centre_id,
                event.event_type.value,
                event.url,
                event.timestamp,
                next_attempt_at=event.timestamp,
                enrollment_id=_subject_of(event.body),
            )
            return
        summary = self.webhook_deliveries.get(did)
        if summary is None:
            return
        if isinstance(event, WebhookDelivery.AttemptFailed):
            line = DeliveryAttempt(
                event.timestamp, event.attempt, event.status_code, "failed", event.error
            )
            summary = replace(
                summary,
                attempts=(*summary.attempts, line),
                next_attempt_at=event.retry_at or summary.next_attempt_at,
            )
        elif isinstance(event, WebhookDelivery.Delivered):
            line = DeliveryAttempt(event.timestamp, event.attempt, event.status_code, "delivered")
            summary = replace(
                summary, attempts=(*summary.attempts, line), status=DeliveryStatus.DELIVERED
            )
        elif isinstance(event, WebhookDelivery.DeliveryGivenUp):
            lines = summary.attempts
            if lines:  # the last failure was the last attempt: no retry follows
                lines = (*lines[:-1], replace(lines[-1], outcome="given up"))
            summary = replace(summary, status=DeliveryStatus.FAILED, attempts=lines)
        self.webhook_deliveries[did] = summary

    def _apply_score(self, event: AggregateEvent) -> None:
        rid = event.originator_id
        if isinstance(event, ScoreReport.Decided):
            self.scores[rid] = ScoreSummary(
                rid, event.cause, event.timestamp, next_attempt_at=event.timestamp
            )
            return
        summary = self.scores.get(rid)
        if summary is None:
            return
        if isinstance(event, ScoreReport.PostFailed):
            summary = replace(
                summary,
                attempts=event.attempt,
                last_error=event.error,
                next_attempt_at=event.retry_at or summary.next_attempt_at,
            )
        elif isinstance(event, ScoreReport.Posted):
            summary = replace(summary, attempts=event.attempt, status=ScoreStatus.POSTED)
        elif isinstance(event, ScoreReport.GivenUp):
            summary = replace(summary, status=ScoreStatus.FAILED)
        self.scores[rid] = summary

    def _apply_session(self, event: AggregateEvent) -> None:
        sid = event.originator_id
        if isinstance(event, ProctoredSession.SessionOpened):
            self.sessions[sid] = SessionSummary(
                session_id=sid,
                enrollment_id=event.enrollment_id,
                certification_code=event.certification_code,
                valid_until=self.enrollment_valid_until.get(event.enrollment_id),
                entries=0,
                status="created",
                live_supervision=event.live_supervision,
            )
            self.sessions_by_candidate.setdefault(event.candidate_id, []).append(sid)
            self.retention[sid] = RetentionSummary(
                sid, event.certification_code, event.rules.appeal_days
            )
        elif sid in self.sessions:
            self._retain(sid, event)
            summary = self.sessions[sid]
            if isinstance(event, ProctoredSession.SessionEntered):
                # A return after the launch (R6, R23) goes back to the exam, not the checks:
                # the hotline's badge read « aux vérifications » during a resumed exam.
                back = "exam" if summary.attempt_id is not None else "checks"
                summary = replace(summary, entries=event.entry_number, status=back)
            elif isinstance(event, ProctoredSession.ExamLaunched):
                summary = replace(summary, status="exam", attempt_id=event.attempt_id)
                self.session_of_attempt[event.attempt_id] = sid
            elif isinstance(event, ProctoredSession.SessionClosed):
                # A quit or sent exam keeps its status (« quit », « under review »).
                status = "closed" if summary.status in ("created", "checks", "exam") else None
                summary = replace(summary, closed=True, status=status or summary.status)
            self.sessions[sid] = summary

    def _retain(self, session_id: UUID, event: AggregateEvent) -> None:
        """Feed the retention read model from the session's and its review's events."""
        summary = self.retention.get(session_id)
        if summary is None:
            return
        day = event.timestamp.date()
        if isinstance(event, ProctoredSession.SessionClosed):
            summary = replace(summary, closed_on=day)
        elif (
            isinstance(event, ProctoredSession.MediaDeleted)
            and event.reason.startswith(RETENTION)
            and not event.left
        ):
            summary = replace(summary, done=True)
        elif isinstance(event, Review.ReviewOpened):
            summary = replace(summary, reviewed=True)
        elif isinstance(event, Review.ResultsReleased):
            summary = replace(summary, released_on=day)
        elif isinstance(event, Review.AppealLodged):
            summary = replace(summary, appeal_open=True)
        elif isinstance(event, Review.AppealDecided):
            summary = replace(summary, appeal_open=False, appeal_decided_on=day)
        self.retention[session_id] = summary

    def _apply_attempt(self, event: AggregateEvent) -> None:
        aid = event.originator_id
        if isinstance(event, ExamAttempt.WorkspaceConnected):
            self.workspace_of_attempt[aid] = event.workspace_ref
            self._rewatch(aid)
        elif isinstance(
            event,
            ExamAttempt.WorkspaceLost | ExamAttempt.WorkspaceLeft | ExamAttempt.WorkspaceTornDown,
        ):
            self.workspace_of_attempt.pop(aid, None)
            self._rewatch(aid)
        elif isinstance(event, ExamAttempt.ExamBegun):
            self.attempts_in_progress[aid] = AttemptWatch(
                aid, event.timestamp, event.ends_at, self.workspace_of_attempt.get(aid)
            )
        elif isinstance(event, ExamAttempt.ExamFinished | ExamAttempt.ExamQuit):
            self.attempts_in_progress.pop(aid, None)
            self.workspace_of_attempt.pop(aid, None)
        sid = self.session_of_attempt.get(event.originator_id)
        if sid is None or sid not in self.sessions:
            return
        if isinstance(event, ExamAttempt.ExamBegun):
            self.sessions[sid] = replace(self.sessions[sid], exam_begun=True)
        elif isinstance(event, ExamAttempt.ExamFinished):
            self.sessions[sid] = replace(self.sessions[sid], exam_finished=True)
        elif isinstance(event, ExamAttempt.ResultsShown):
            self.sessions[sid] = replace(
                self.sessions[sid], results=event.results, validation_code=event.validation_code
            )
        elif isinstance(event, ExamAttempt.ExamQuit):
            self.sessions[sid] = replace(self.sessions[sid], status="quit")
        elif isinstance(event, ExamAttempt.ExamValidated):
            self.sessions[sid] = replace(self.sessions[sid], status="under review")

    def _rewatch(self, attempt_id: UUID) -> None:
        watched = self.attempts_in_progress.get(attempt_id)
        if watched is not None:
            ref = self.workspace_of_attempt.get(attempt_id)
            self.attempts_in_progress[attempt_id] = replace(watched, workspace_ref=ref)

    def _apply_review(self, event: AggregateEvent) -> None:
        rid = event.originator_id
        if isinstance(event, Review.ReviewOpened):
            self._retain(event.session_id, event)
        elif rid in self.reviews:
            self._retain(self.reviews[rid].session_id, event)
        if isinstance(event, Review.ReviewOpened):
            self.reviews[rid] = ReviewSummary(
                review_id=rid,
                session_id=event.session_id,
                certification_code=event.certification_code,
                opened_at=event.timestamp,
                due_on=event.due_on,
                warning_hours=event.rules.review_warning_hours,
            )
            if event.session_id in self.sessions:
                self.sessions[event.session_id] = replace(
                    self.sessions[event.session_id], review_id=rid
                )
        elif rid in self.reviews:
            summary = self.reviews[rid]
            if isinstance(event, Review.ExaminerAssigned):
                self.reviews[rid] = replace(summary, examiner_id=event.examiner_id)
            elif isinstance(event, Review.ReviewDecided):
                self.reviews[rid] = replace(summary, verdict=event.verdict)
            elif isinstance(event, Review.ReviewDueSoon):
                self.reviews[rid] = replace(summary, warned=True)
            elif isinstance(event, Review.ReviewOverdue):
                self.reviews[rid] = replace(summary, marked_overdue=True)
            elif isinstance(event, Review.ExaminerReassigned):
                self.reviews[rid] = replace(summary, examiner_id=event.examiner_id)
            elif isinstance(
                event, Review.AppealLodged | Review.AppealExaminerAssigned | Review.AppealDecided
            ):
                self._apply_appeal(summary, event)
            elif isinstance(event, Review.ResultsReleased):
                self.reviews[rid] = replace(summary, released=True, released_at=event.timestamp)
                sid = summary.session_id
                if sid in self.sessions:
                    self.sessions[sid] = replace(
                        self.sessions[sid], status=f"{event.verdict.value}", verdict=event.verdict
                    )

    def _apply_appeal(self, review: ReviewSummary, event: AggregateEvent) -> None:
        rid, sid = review.review_id, review.session_id
        if isinstance(event, Review.AppealLodged):
            self.appeals[rid] = AppealSummary(
                rid, sid, review.certification_code, event.timestamp, event.due_on,
                review.examiner_id,
            )  # fmt: skip
            if sid in self.sessions:
                self.sessions[sid] = replace(self.sessions[sid], status="under appeal")
            return
        appeal = self.appeals.get(rid)
        if appeal is None:
            return
        if isinstance(event, Review.AppealExaminerAssigned):
            self.appeals[rid] = replace(appeal, examiner_id=event.examiner_id)
        elif isinstance(event, Review.AppealDecided):
            self.appeals[rid] = replace(
                appeal, verdict=event.verdict, agrees=event.agrees, decided_at=event.timestamp
            )
            if sid in self.sessions:
                self.sessions[sid] = replace(
                    self.sessions[sid], status=event.verdict.value, verdict=event.verdict
                )

    # --- queries ---------------------------------------------------------------------------

    def find_by_email(self, email: str) -> UUID | None:
        """The candidate registered with that e-mail (lower-cased), if any."""
        return self.candidates_by_email.get(email.strip().lower())

    def centre_name(self, centre_id: UUID) -> str:
        """The centre's name as its account gives it ("" when unknown)."""
        return self.centre_names.get(centre_id, "")

    def names_of_enrolment(self, enrollment_id: UUID) -> tuple[str, str]:
        """(surname, first name) an enrolment was made under, as its centre reads them: the
        names that centre typed, never another centre's (security finding F1), else the
        registered ones (domain.candidate.Candidate.names_for says why); ("", "") for an
        unknown enrolment or an erased person."""
        typed = self.enrolment_names.get(enrollment_id)
        if typed is not None:
            return typed
        summary = self.enrollments.get(enrollment_id)
        if summary is None:
            return ("", "")
        return self.candidate_names.get(summary.candidate_id, ("", ""))

    def sessions_of_enrollment(self, enrollment_id: UUID) -> list[SessionSummary]:
        """The exam session(s) of one enrolment (one, once created)."""
        return [s for s in self.sessions.values() if s.enrollment_id == enrollment_id]

    def my_sessions(self, candidate_id: UUID) -> list[SessionSummary]:
        """The candidate's exam sessions, newest last."""
        return [self.sessions[s] for s in self.sessions_by_candidate.get(candidate_id, [])]

    def mails_due(self, now: datetime) -> list[UUID]:
        """Pending mails whose next attempt has come, oldest first."""
        due = [
            m
            for m in self.mails.values()
            if m.status is MailStatus.PENDING
            and (m.next_attempt_at is None or utc(m.next_attempt_at) <= utc(now))
        ]
        return [m.mail_id for m in sorted(due, key=lambda m: utc(m.decided_at))]

    def webhooks_due(self, now: datetime) -> list[UUID]:
        """Pending webhook deliveries whose next attempt has come, oldest first."""
        due = [
            d
            for d in self.webhook_deliveries.values()
            if d.status is DeliveryStatus.PENDING
            and (d.next_attempt_at is None or utc(d.next_attempt_at) <= utc(now))
        ]
        return [d.delivery_id for d in sorted(due, key=lambda d: utc(d.decided_at))]

    def deliveries_of_centre(self, centre_id: UUID, limit: int = 100) -> list[DeliverySummary]:
        """A centre's webhook deliveries, newest first (its delivery log)."""
        mine = [d for d in self.webhook_deliveries.values() if d.centre_id == centre_id]
        return sorted(mine, key=lambda d: utc(d.decided_at), reverse=True)[:limit]

    def scores_due(self, now: datetime) -> list[UUID]:
        """Pending score reports whose next attempt has come, oldest first (issue 16)."""
        due = [
            s
            for s in self.scores.values()
            if s.status is ScoreStatus.PENDING
            and (s.next_attempt_at is None or utc(s.next_attempt_at) <= utc(now))
        ]
        return [s.report_id for s in sorted(due, key=lambda s: utc(s.decided_at))]

    def failed_mails(self) -> list[MailSummary]:
        """Mails given up on: what an operator must look at."""
        return [m for m in self.mails.values() if m.status is MailStatus.FAILED]

    def reviews_due(self, today: date) -> list[ReviewSummary]:
        """Undecided reviews, overdue first, then by due date (R19)."""
        pending = [r for r in self.reviews.values() if r.verdict is None]
        return sorted(pending, key=lambda r: (not r.overdue(today), r.due_on, r.opened_at))

    def results_to_send(self) -> list[ReviewSummary]:
        """Decided reviews whose result was not sent yet, the oldest due first: a decided
        review left the list of reviews due, and a result nobody sent was seen nowhere (a
        reviewer's finding)."""
        waiting = [r for r in self.reviews.values() if r.verdict is not None and not r.released]
        return sorted(waiting, key=lambda r: (r.due_on, r.opened_at))

    def results_sent(self) -> list[ReviewSummary]:
        """Decided reviews whose result was sent, the latest sent first: once sent, a review
        was listed nowhere for its examiner (a reviewer's tour)."""
        sent = [r for r in self.reviews.values() if r.released]
        return sorted(sent, key=lambda r: r.released_at or r.opened_at, reverse=True)

    def retention_due(self, today: date, retention_days: dict[str, int]) -> list[UUID]:
        """Sessions whose media the retention pass should delete today (days by
        certification; a certification no longer in the catalogue keeps the default)."""
        return [
            r.session_id
            for r in self.retention.values()
            if r.due(today, retention_days.get(r.certification_code, DEFAULT_RETENTION_DAYS))
        ]

    def appeals_due(self) -> list[AppealSummary]:
        """Appeals not decided yet, the soonest due first."""
        pending = [a for a in self.appeals.values() if a.verdict is None]
        return sorted(pending, key=lambda a: (a.due_on, a.lodged_at))

    def appeal_agreement(
        self, within: Callable[[AppealSummary], bool] | None = None
    ) -> AppealAgreement:
        """Agreement between first and second examiners over every decided appeal (those
        `within` says, when given: a centre's own)."""
        decided = [
            a
            for a in self.appeals.values()
            if a.verdict is not None and (within is None or within(a))
        ]
        return AppealAgreement(len(decided), sum(1 for a in decided if a.agrees))


def timeline(store: EventStore, session_id: UUID) -> list[TimelineEntry]:
    """Every fact of a session, its attempt and its review, in time order."""
    streams: list[tuple[str, UUID]] = [("session", session_id)]
    for event in store.history(session_id):
        if isinstance(event, ProctoredSession.ExamLaunched):
            streams.append(("attempt", event.attempt_id))
            streams.append(("review", review_id_for(event.attempt_id)))
    entries = [
        TimelineEntry(
            position_in_stream=f"{event.originator_id}/{event.originator_version}",
            at=event.timestamp,
            stream=name,
            what=type(event).__name__,
            details=describe(event),
            event=event,
        )
        for name, stream_id in streams
        for event in store.history(stream_id)
    ]
    return sorted(entries, key=lambda e: (e.at, e.stream != "session"))


_HIDDEN = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "rules"}
)
# Values an operator's screen, terminal log or ticket must never hold: a password's hash
# lets anyone who copies it guess offline, a token's digest ties a secret to its id. The
# timeline says such a value was recorded, never which.
_SECRET = frozenset({"password_hash", "proctoring_password_hash", "secret_digest"})


def describe(event: AggregateEvent) -> str:
    """The event's own fields in one line (the rule set is long: only its version)."""
    parts = []
    for name, value in vars(event).items():
        if name in _HIDDEN:
            continue
        shown = "(hidden)" if name in _SECRET and value else _short(value)
        parts.append(f"{name}={shown}")
    rules = getattr(event, "rules", None)
    if rules is not None:
        parts.append(f"rules={rules.version}")
    return ", ".join(parts)


def _short(value: object) -> str:
    """A field as a reader of the timeline sees it: never a Python object's repr (issue 13)."""
    text = _plain(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _plain(value: object) -> str:
    if isinstance(value, MediaSpan):
        # A span of the recording reads as seconds (to the tenth, as the review page shows
        # it), never as the Python object.
        return f"{_tenths(value.start_s)} s – {_tenths(value.end_s)} s"
    if hasattr(value, "value") and isinstance(value.value, str):
        return str(value.value)
    if isinstance(value, tuple | list) and value and _is_record(value[0]):
        # Evidence, grounds, sections: how many, by kind (the page cites them one by one).
        return f"{len(value)} × {type(value[0]).__name__}"
    if _is_record(value):
        return ", ".join(f"{name}={_plain(getattr(value, name))}" for name in _fields(value))
    return str(value)


def _tenths(seconds: float) -> str:
    """« 11.9 », « 400 »: seconds to the tenth, a whole second without its « .0 »."""
    return f"{seconds:.1f}".removesuffix(".0")


def _is_record(value: object) -> bool:
    return is_dataclass(value) or hasattr(value, "__struct_fields__")


def _fields(value: object) -> tuple[str, ...]:
    if is_dataclass(value):
        return tuple(f.name for f in fields(value))
    return tuple(getattr(value, "__struct_fields__", ()))
