"""The transactional outbox: mails are decided by a policy as facts, then sent by a worker.

Deciding is exactly once: the mail's id is derived from the event that caused it and is saved
with the policy's position in one transaction. Sending is retried with back-off until the
server accepts (recorded), refuses for good, or the attempts run out (given up, visible to
operators). Several senders (one per worker process) share the outbox: each claims a mail
before handing it to SMTP, and only the one whose claim was stored sends it (issue 12).
A crash between 'decided' and 'sent' leaves the mail pending: once the dead sender's lease has
ended, the next sender claims and sends it. A crash after the server accepted but before
'sent' was recorded sends it again with the same Message-ID, which is the most SMTP allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate

from app.context import Context
from app.mail_rendering import MailRenderer
from app.person_names import name_in_text
from app.ports.event_store import ConcurrencyConflict, Recorded
from app.ports.mailer import Mail, MailRefused, MailUnavailable
from domain.bounds import email_problem
from domain.candidate import Account, Candidate
from domain.enrollment import Enrollment
from domain.evidence import Verdict
from domain.exam_attempt import ExamAttempt
from domain.hotline import MailToResend
from domain.outbound_mail import MailKind, MailStatus, OutboundMail, RecipientKind
from domain.proctored_session import ProctoredSession
from domain.review import Review
from domain.scoring import Results, points_needed
from domain.staff import StaffMember

WELCOME_LINK_HOURS = 72
MAIL_NAMESPACE = UUID("6c0b8a43-1f0e-4a44-9a3f-3b1f6d2f0c11")
# Resets nobody asked for by mail: the welcome mail carries its own link, and the demo seed
# sets the demo candidate's password itself (a « Réinitialisation » would puzzle them).
SILENT_RESETS = frozenset({"welcome", "demo"})


# Days and instants go into a mail's parameters as ISO 8601; the renderer shows them in the
# centre's zone and the recipient's language (app.time_format), known only when it is sent.
def _day(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _moment(value: datetime) -> str:
    return value.isoformat()


def mail_id_of(cause: str, kind: MailKind) -> UUID:
    """A decided mail's id, derived from the event that called for it (`<stream>/<version>`):
    a second decision of the same mail is refused by the store, and a page can find it."""
    return uuid5(MAIL_NAMESPACE, f"{cause}:{kind.value}")


class MailDecisions:
    """Decides every mail the guide's journey needs, from the events that call for it."""

    name = "mail-decisions"

    def wants(self, recorded: Recorded) -> bool:
        return isinstance(
            recorded.event,
            Enrollment.Enrolled
            | Enrollment.ExamSessionCreated
            | Enrollment.ExamSessionRenewed
            | Enrollment.DeadlineReminderDue
            | Enrollment.LiveSupervisionLinkSent
            | Enrollment.MailResent
            | Enrollment.CandidateUnblocked
            | Candidate.PasswordResetRequested
            | ExamAttempt.ExamValidated
            | Review.ResultsReleased
            | Review.ReviewDueSoon
            | Review.AppealLodged
            | Review.AppealDecided,
        )

    def react(self, ctx: Context, recorded: Recorded) -> Sequence[Aggregate]:
        event = recorded.event
        cause = f"{event.originator_id}/{event.originator_version}"
        decided: list[Aggregate] = []

        def mail(kind: MailKind, to: RecipientKind, who: UUID, **params: str) -> None:
            decided.append(
                OutboundMail.decide(
                    mail_id=mail_id_of(cause, kind),
                    kind=kind,
                    recipient_kind=to,
                    recipient_id=who,
                    params=params,
                    cause=cause,
                    at=event.timestamp,
                )
            )

        candidate_kind = RecipientKind.CANDIDATE

        def welcome(candidate: Candidate, valid_until: date, exam_sent: bool = False) -> None:
            """The welcome mail carries a single-use link to choose the proctoring password;
            once the exam is sent, it says the results are there, not a last day to take it."""
            token_id = uuid5(MAIL_NAMESPACE, f"{cause}:welcome-token").hex
            expires_at = event.timestamp + timedelta(hours=WELCOME_LINK_HOURS)
            # An erased person gets no link (ERASED: nothing is recorded for them; asking
            # parked the reaction with a traceback, retried in vain): the mail is decided
            # like any other to them, and the sender settles it, unsent (NoRecipient).
            if candidate.erased_at is None and token_id not in candidate.reset_tokens:
                candidate.request_password_reset(
                    at=event.timestamp,
                    account=Account.PROCTORING,
                    token_id=token_id,
                    expires_at=expires_at,
                    purpose="welcome",
                )
                decided.append(candidate)
            mail(
                MailKind.WELCOME,
                candidate_kind,
                candidate.id,
                valid_until=_day(valid_until),
                reset=f"{candidate.id}:{token_id}",
                expires_at=_moment(expires_at),
                **({"exam_sent": "yes"} if exam_sent else {}),
            )

        def invitation(
            candidate_id: UUID, code: str, last_day: date, enrollment_id: UUID, centre: str
        ) -> None:
            """The centre's invitation, with its link to create the exam session; it names
            the centre (security finding F1: a person another centre registered is invited
            by a centre she may never have dealt with, and should know which)."""
            mail(
                MailKind.INVITATION,
                candidate_kind,
                candidate_id,
                certification=self._title(ctx, code),
                last_day=_day(last_day),
                enrollment_id=str(enrollment_id),
                centre=centre,
            )

        if isinstance(event, Enrollment.Enrolled):
            invitation(
                event.candidate_id,
                event.certification_code,
                event.last_day,
                event.originator_id,
                event.centre_name,
            )
        elif isinstance(event, Enrollment.ExamSessionCreated):
            enrollment = ctx.store.get(event.originator_id, Enrollment)
            candidate = ctx.store.get(enrollment.candidate_id, Candidate)
            if event.live_supervision:
                mail(
                    MailKind.LIVE_SUPERVISION,
                    candidate_kind,
                    candidate.id,
                    valid_until=_day(event.valid_until),
                )
            welcome(candidate, event.valid_until)
        elif isinstance(event, Enrollment.ExamSessionRenewed):
            # R3: the new last day (the event's: each renewal its own mail) and how to go
            # on; the hotline's reason is a note for staff, never sent to the candidate.
            enrollment = ctx.store.get(event.originator_id, Enrollment)
            mail(
                MailKind.EXAM_SESSION_RENEWED,
                candidate_kind,
                enrollment.candidate_id,
                certification=self._title(ctx, enrollment.certification_code),
                valid_until=_day(event.valid_until),
                **({"live_supervision": "yes"} if enrollment.live_supervision else {}),
            )
        elif isinstance(event, Enrollment.MailResent | Enrollment.CandidateUnblocked):
            # The hotline's resend (issue 13): the invitation again, or the welcome mail with
            # a new single-use link (the first one works once), as after a blocked screen.
            enrollment = ctx.store.get(event.originator_id, Enrollment)
            if getattr(event, "mail", None) is MailToResend.INVITATION:
                invitation(
                    enrollment.candidate_id,
                    enrollment.certification_code,
                    enrollment.last_day,
                    enrollment.id,
                    enrollment.centre_name,
                )
            else:
                candidate = ctx.store.get(enrollment.candidate_id, Candidate)
                # After the exam was sent, « you now have until … to take your
                # certification » was wrong (a user's tour): she logs in for her results.
                session_id = enrollment.exam_session_id
                exam_sent = (
                    session_id is not None
                    and ctx.store.get(session_id, ProctoredSession).closed_at is not None
                )
                welcome(candidate, enrollment.session_valid_until or enrollment.last_day, exam_sent)
        elif isinstance(event, Enrollment.LiveSupervisionLinkSent):
            enrollment = ctx.store.get(event.originator_id, Enrollment)
            mail(
                MailKind.LIVE_SUPERVISION_LINK,
                candidate_kind,
                enrollment.candidate_id,
                slot=_moment(event.slot),
                link=event.link,
            )
        elif isinstance(event, Enrollment.DeadlineReminderDue):
            enrollment = ctx.store.get(event.originator_id, Enrollment)
            mail(
                MailKind.DEADLINE_REMINDER,
                candidate_kind,
                enrollment.candidate_id,
                certification=self._title(ctx, enrollment.certification_code),
                days_before=str(event.days_before),
                last_day=_day(event.last_day),
                enrollment_id=str(enrollment.id),
            )
        elif isinstance(event, Candidate.PasswordResetRequested):
            if event.purpose in SILENT_RESETS:
                return []
            mail(
                MailKind.PASSWORD_RESET,
                candidate_kind,
                event.originator_id,
                account=event.account.value,
                reset=f"{event.originator_id}:{event.token_id}",
                expires_at=_moment(event.expires_at),
            )
        elif isinstance(event, ExamAttempt.ExamValidated):
            attempt = ctx.store.get(event.originator_id, ExamAttempt)
            mail(
                MailKind.SUBMISSION_RECEIPT,
                candidate_kind,
                attempt.candidate_id,
                certification=self._title(ctx, attempt.certification_code),
                sent_on=_moment(event.timestamp),
                review_days=str(attempt.rules.review_days),
                # The guide's « Félicitations ! » greets the sending, but not beside a score
                # below the pass mark, which the candidate has just read (a reviewer's check).
                **(
                    {"congratulate": "yes"}
                    if attempt.results is None or attempt.results.passed
                    else {}
                ),
            )
        elif isinstance(event, Review.ResultsReleased):
            review = ctx.store.get(event.originator_id, Review)
            attempt = ctx.store.get(review.attempt_id, ExamAttempt)
            results = attempt.results
            score = f"{results.score}/{results.max_score}" if results else "-"
            mail(
                MailKind.RESULTS,
                candidate_kind,
                review.candidate_id,
                certification=self._title(ctx, review.certification_code),
                verdict=event.verdict.value,
                score=score,
                reasons=", ".join(r.reason.value for r in review.reasons) or "-",
                **self._outcome(ctx, review.certification_code, results),
                **self._appeal(review),
            )
        elif isinstance(event, Review.AppealLodged):
            review = ctx.store.get(event.originator_id, Review)
            mail(
                MailKind.APPEAL_RECEIVED,
                candidate_kind,
                review.candidate_id,
                certification=self._title(ctx, review.certification_code),
                due_on=_day(event.due_on),
                session_id=str(review.session_id),
            )
        elif isinstance(event, Review.AppealDecided):
            review = ctx.store.get(event.originator_id, Review)
            # A session validated on appeal is not a pass either: its mail says the outcome,
            # the score and the pass mark, as the result mail does.
            results = (
                ctx.store.get(review.attempt_id, ExamAttempt).results
                if event.verdict is Verdict.VALIDATED
                else None
            )
            mail(
                MailKind.APPEAL_DECIDED,
                candidate_kind,
                review.candidate_id,
                certification=self._title(ctx, review.certification_code),
                verdict=event.verdict.value,
                answer=event.answer,
                **self._outcome(ctx, review.certification_code, results),
                **({"score": f"{results.score}/{results.max_score}"} if results else {}),
            )
        elif isinstance(event, Review.ReviewDueSoon) and event.examiner_id is not None:
            review = ctx.store.get(event.originator_id, Review)
            mail(
                MailKind.REVIEW_DUE_SOON,
                RecipientKind.STAFF,
                event.examiner_id,
                review_id=str(review.id),
                certification=self._title(ctx, review.certification_code),
                due_on=_day(event.due_on),
                hours=str(review.rules.review_warning_hours),
            )
        return decided

    @staticmethod
    def _outcome(ctx: Context, code: str, results: Results | None) -> dict[str, str]:
        """Passed or not, and the pass mark in points and percent, for the result mail: a
        validated session's score alone reads as a success (the portal's « Non réussi » was
        missing from it)."""
        if results is None or not results.max_score:
            return {}
        try:
            today: int | None = ctx.catalogue.get(code).pass_mark_percent
        except ValueError:
            today = None
        mark = results.pass_mark(today)  # the one they were scored against
        if mark is None:
            return {}
        return {
            "outcome": "passed" if results.passed else "not_passed",
            "pass_score": f"{points_needed(results.max_score, mark)}/{results.max_score}",
            "pass_mark_percent": str(mark),
        }

    @staticmethod
    def _appeal(review: Review) -> dict[str, str]:
        """An invalidation's mail says how to contest it and until when (R19: once, within
        the rule set's days): the mail gave the reasons alone, and a candidate found the
        appeal only by chance, behind « Voir le résultat » (a reviewer's finding)."""
        last_day = review.appeal_last_day()
        if review.verdict is not Verdict.INVALIDATED or last_day is None:
            return {}
        return {"appeal_last_day": _day(last_day), "session_id": str(review.session_id)}

    @staticmethod
    def _title(ctx: Context, code: str) -> str:
        try:
            return ctx.catalogue.get(code).title
        except ValueError:
            return code


@dataclass
class SendReport:
    """What one pass of the sender did."""

    sent: int = 0
    retried: int = 0
    given_up: int = 0
    errors: list[str] = field(default_factory=list)


class NoRecipient(Exception):
    """The mail's recipient is gone (erased, or not in the log): given up, never retried."""


def _sender_name() -> str:
    return f"sender-{uuid4().hex[:12]}"


@dataclass
class OutboxSender:
    """Sends due mails; retries transient failures with exponential back-off.

    `lease` bounds how long a claimed mail waits when its sender dies: it is longer than
    one SMTP exchange can last (the SMTP adapter's timeouts are 10-20 s)."""

    ctx: Context
    renderer: MailRenderer
    max_attempts: int = 8
    first_delay: timedelta = timedelta(seconds=30)
    longest_delay: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(minutes=2)
    name: str = field(default_factory=_sender_name)

    def retry_delay(self, attempt: int) -> timedelta:
        """30 s, 1 min, 2 min, … capped at one hour."""
        factor: int = 1 << max(0, attempt - 1)
        return min(self.first_delay * factor, self.longest_delay)

    def send_due(self, mail_ids: Sequence[UUID]) -> SendReport:
        """Try every given mail that is due now."""
        report = SendReport()
        for mail_id in mail_ids:
            try:
                self._send_one(mail_id, report)
            except ConcurrencyConflict:
                continue  # another sender recorded this attempt first
        return report

    def claim(self, outbound: OutboundMail) -> bool:
        """Take a loaded mail for this sender if it is due; False when it is not, or when
        another sender's claim was stored first (the store's ConcurrencyConflict is the
        verdict between senders that loaded the same version)."""
        at = self.ctx.now()
        if not outbound.is_due(at):
            return False
        outbound.claim(sender=self.name, at=at, lease_until=at + self.lease)
        try:
            self.ctx.store.save(outbound)
        except ConcurrencyConflict:
            return False
        return True

    def _send_one(self, mail_id: UUID, report: SendReport) -> None:
        outbound = self.ctx.store.get(mail_id, OutboundMail)
        if self.claim(outbound):
            self.deliver(outbound, report)

    def deliver(self, outbound: OutboundMail, report: SendReport) -> None:
        """Hand a mail this sender claimed to SMTP, then record the outcome. A claim whose
        lease ended before we got here (a paused process) may be another sender's by now:
        that mail is left to it, or to the next pass."""
        at = self.ctx.now()
        if outbound.claimed_by != self.name or not outbound.is_claimed(at):
            return
        try:
            name, email, language = self._recipient(outbound)
            rendered = self.renderer.render(outbound.kind, language, outbound.params, name, email)
            message = Mail(
                str(outbound.id), email, rendered.subject, rendered.text, rendered.html, language
            )
            self.ctx.mailer.send(message)
        except (MailRefused, NoRecipient) as refused:
            outbound.record_failure(
                at=at,
                error=str(refused),
                permanent=True,
                retry_at=None,
                max_attempts=self.max_attempts,
            )
        except MailUnavailable as unavailable:
            retry_at = at + self.retry_delay(outbound.attempts + 1)
            outbound.record_failure(
                at=at,
                error=str(unavailable),
                permanent=False,
                retry_at=retry_at,
                max_attempts=self.max_attempts,
            )
        else:
            outbound.record_sent(at=at)
        self.ctx.store.save(outbound)
        if outbound.status is MailStatus.SENT:
            report.sent += 1
        elif outbound.status is MailStatus.FAILED:
            report.given_up += 1
            report.errors.append(f"{outbound.id}: {outbound.last_error}")
        else:
            report.retried += 1

    def _recipient(self, outbound: OutboundMail) -> tuple[str, str, str]:
        name, email, language = self._recorded_recipient(outbound)
        problem = email_problem("email", email)
        if problem is not None:
            # An address recorded before the rule refused it (a NUL, a quote, a space): given
            # up here, in words, never handed to the mail server, where a NUL left the SMTP
            # transaction open for the next mail (a tester's tour). The address itself stays
            # out of the log: this stream is not sealed like the person's own.
            raise NoRecipient(
                f"the recipient's recorded address is no e-mail address ({problem.message}): "
                "no mail can reach it"
            )
        return name, email, language

    def _recorded_recipient(self, outbound: OutboundMail) -> tuple[str, str, str]:
        try:
            if outbound.recipient_kind is RecipientKind.STAFF:
                staff = self.ctx.store.get(outbound.recipient_id, StaffMember)
                return staff.name, staff.email, staff.language
            candidate = self.ctx.store.get(outbound.recipient_id, Candidate)
        except LookupError:
            raise NoRecipient(f"no recipient {outbound.recipient_id} in the log") from None
        if candidate.erased_at is not None:
            # Issue 8: nothing is sent to a person who asked to be forgotten.
            raise NoRecipient("the recipient's personal data was erased")
        # Her name as every page writes it in a sentence, « Bonjour Jean DUPONT » for one
        # enrolled as « jean » « dupont » (app.person_names); the stored name is unchanged.
        # A mail about one enrolment (the invitation, a reminder) greets her by the names
        # that enrolment was made under, the ones her ID will be compared with (R20): a
        # centre's typing error is seen before the exam (security finding F1).
        surname, first_name = candidate.surname, candidate.first_name
        enrolment = outbound.params.get("enrollment_id")
        if enrolment:
            surname, first_name = candidate.names_for(UUID(enrolment))
        return name_in_text(surname, first_name), candidate.email, candidate.language
