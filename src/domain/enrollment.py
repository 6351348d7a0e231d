"""Enrollment (inscription): a candidate registered by a training centre for one certification.

It owns the 90-day window (R1) and the exam session's validity (R2, R3). Times are aware
datetimes in the training centre's time zone: the local day decides deadlines.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.accommodation import Accommodation, check_accommodation, closed_to_grants
from domain.errors import InvalidArgument, RuleBroken, require, require_aware
from domain.hotline import MailToResend, check_link, check_reason
from domain.rules import (
    RuleSet,
    check_exam_duration,
    check_office_hours,
    check_within_enrollment_window,
    enrollment_last_day,
    first_validity_end,
    renewed_validity_end,
)


class SessionCreationOutcome(StrEnum):
    """R2: the three messages shown when the candidate creates the exam session."""

    CREATED = "created"
    ALREADY_EXISTS = "already_exists"
    CREATED_WITH_LIVE_SUPERVISION = "created_with_live_supervision"


class SlotCanNoLongerMatter(RuleBroken):
    """R2: no live-supervision slot is booked now, whatever the slot: the enrolment expired
    (R1), the session is over (R18) or already entered (R2), or its validity ended (R3).
    A page says why in place of the booking form."""


class Enrollment(Aggregate):
    """A candidate's enrolment for one certification, with its exam code valid 90 days."""

    centre_id: UUID
    candidate_id: UUID
    certification_code: str
    exam_duration_minutes: int
    enrolled_on: date
    last_day: date
    rules: RuleSet
    exam_session_id: UUID | None
    session_valid_until: date | None
    live_supervision: bool
    supervision_slot: datetime | None
    renewals: int
    expired: bool
    reminded: tuple[int, ...]
    lapsed_until: date | None
    # Added with accommodations: a class default keeps older snapshots readable.
    accommodation: Accommodation | None = None
    # The enrolling centre's name, as its account gives it (security finding F1: the
    # invitation names the centre); "" in enrolments recorded before.
    centre_name: str = ""

    class Enrolled(Aggregate.Created):
        centre_id: UUID
        candidate_id: UUID
        certification_code: str
        exam_duration_minutes: int
        enrolled_on: date
        last_day: date
        rules: RuleSet
        centre_name: str = ""  # the centre's name for the invitation; "" in older events

    class ExamSessionCreated(Aggregate.Event):
        exam_session_id: UUID
        valid_until: date
        live_supervision: bool

    class LiveSupervisionSlotBooked(Aggregate.Event):
        slot: datetime
        booked_by: UUID
        note: str = ""  # the hotline's words (issue 13); "" in events before it

    class LiveSupervisionLinkSent(Aggregate.Event):
        """R2: the screen-sharing link for the booked slot, mailed to the candidate."""

        slot: datetime
        link: str
        sent_by: UUID

    class ExamSessionRenewed(Aggregate.Event):
        valid_until: date
        # Who renewed it and why (issue 13); None and "" in events recorded before.
        renewed_by: UUID | None = None
        reason: str = ""

    class MailResent(Aggregate.Event):
        """The hotline sends a mail again (the outbox decides it from this fact)."""

        mail: MailToResend
        sent_by: UUID
        reason: str

    class CandidateUnblocked(Aggregate.Event):
        """R23: a candidate stuck on a blocked screen gets a new log-in link; `session_left`
        says whether the session was recorded as left (interrupted) at the same time."""

        unblocked_by: UUID
        reason: str
        session_left: bool

    class EnrollmentExpired(Aggregate.Event):
        last_day: date

    class DeadlineReminderDue(Aggregate.Event):
        days_before: int
        last_day: date
        skipped: tuple[int, ...]

    class ExamSessionValidityLapsed(Aggregate.Event):
        valid_until: date

    class AccommodationGranted(Aggregate.Event):
        extra_time_percent: int
        arrangements: str
        granted_by: UUID

    @classmethod
    def enrol(
        cls,
        *,
        enrollment_id: UUID,
        centre_id: UUID,
        candidate_id: UUID,
        certification_code: str,
        exam_duration_minutes: int,
        rules: RuleSet,
        at: datetime,
        centre_name: str = "",
    ) -> Enrollment:
        """A training centre enrols a candidate today; the 90-day window starts
        (`centre_name`: how the invitation names the centre, "" when unknown)."""
        require_aware("at", at)
        if not certification_code.strip():
            raise InvalidArgument("certification_code", "a certification code is required")
        check_exam_duration(exam_duration_minutes, rules)
        enrolled_on = at.date()
        return cls._create(
            cls.Enrolled,
            id=enrollment_id,
            timestamp=at,
            centre_id=centre_id,
            candidate_id=candidate_id,
            certification_code=certification_code.strip(),
            exam_duration_minutes=exam_duration_minutes,
            enrolled_on=enrolled_on,
            last_day=enrollment_last_day(enrolled_on, rules),
            rules=rules,
            centre_name=centre_name.strip(),
        )

    @event(Enrolled)
    def __init__(
        self,
        centre_id: UUID,
        candidate_id: UUID,
        certification_code: str,
        exam_duration_minutes: int,
        enrolled_on: date,
        last_day: date,
        rules: RuleSet,
        centre_name: str = "",
    ) -> None:
        self.centre_id = centre_id
        self.candidate_id = candidate_id
        self.certification_code = certification_code
        self.exam_duration_minutes = exam_duration_minutes
        self.enrolled_on = enrolled_on
        self.last_day = last_day
        self.rules = rules
        self.exam_session_id = None
        self.session_valid_until = None
        self.live_supervision = False
        self.supervision_slot = None
        self.renewals = 0
        self.expired = False
        self.reminded = ()
        self.lapsed_until = None
        self.centre_name = centre_name

    # --- commands ------------------------------------------------------------------------

    def create_exam_session(
        self, *, exam_session_id: UUID, at: datetime, live_supervision: bool = False
    ) -> SessionCreationOutcome:
        """R1/R2: create the exam session once; a repeat records nothing and says so."""
        require_aware("at", at)
        if self.exam_session_id is not None:
            return SessionCreationOutcome.ALREADY_EXISTS
        require(not self.expired, "R1", "the enrolment has expired")
        check_within_enrollment_window(at.date(), self.last_day)
        self._exam_session_created(
            exam_session_id=exam_session_id,
            valid_until=first_validity_end(at.date(), self.last_day, self.rules),
            live_supervision=live_supervision,
            timestamp=at,
        )
        if live_supervision:
            return SessionCreationOutcome.CREATED_WITH_LIVE_SUPERVISION
        return SessionCreationOutcome.CREATED

    def book_live_supervision_slot(
        self,
        *,
        slot: datetime,
        booked_by: UUID,
        at: datetime,
        note: str = "",
        session_closed: bool = False,
        session_entered: bool = False,
    ) -> None:
        """R2: the hotline agrees a slot in office hours within the session's validity, while
        it can still matter (`slot_booking_refusal`; `session_closed` and `session_entered`
        are read from the session by the use case). A slot booked again replaces the last
        one: after a missed slot the hotline books another."""
        require_aware("at", at)
        note = check_reason("note", note, required=False)
        require_aware("slot", slot)
        refused = self.slot_booking_refusal(
            today=at.date(), session_closed=session_closed, session_entered=session_entered
        )
        if refused is not None:
            raise refused
        check_office_hours(slot, self.rules)
        require(slot > at, "R2", "a live-supervision slot must be in the future")
        assert self.session_valid_until is not None
        require(
            slot.date() <= self.session_valid_until,
            "R3",
            f"the slot must fall within the exam session's validity "
            f"(until {self.session_valid_until.isoformat()})",
        )
        self._slot_booked(slot=slot, booked_by=booked_by, note=note, timestamp=at)

    def slot_booking_refusal(
        self, *, today: date, session_closed: bool, session_entered: bool
    ) -> RuleBroken | None:
        """What booking a live-supervision slot would be refused for on `today` whatever the
        slot (R2, R1, R18, R3), or None while a slot can still matter: the command raises
        it, and the hotline's case file offers « Réserver le créneau » only when there is
        none, saying this refusal's sentence instead (a user's tour: offered for an exam
        already sent, a dead end). `session_entered`: the candidate entered the session,
        at her slot (R2) or, under a rule set of old, at any time: a slot changes nothing
        after it."""
        if self.exam_session_id is None or not self.live_supervision:
            return RuleBroken(
                "R2", "a slot is booked only for an exam session created with live supervision"
            )
        if self.expired:
            return SlotCanNoLongerMatter("R1", "the enrolment has expired")
        if session_closed:
            return SlotCanNoLongerMatter(
                "R18", "the exam was sent, or left for good: this session is over, no slot to book"
            )
        if session_entered:
            return SlotCanNoLongerMatter(
                "R2", "the candidate already entered the exam session: a slot changes nothing now"
            )
        assert self.session_valid_until is not None
        if today > self.session_valid_until:
            return SlotCanNoLongerMatter(
                "R3",
                f"the exam session's validity ended on {self.session_valid_until.isoformat()}: "
                f"renew it before booking a slot",
            )
        return None

    def send_live_supervision_link(self, *, link: str, sent_by: UUID, at: datetime) -> None:
        """R2: the screen-sharing link goes to the candidate once a slot is booked, before
        the slot (a link for a slot already past would help nobody)."""
        require_aware("at", at)
        address = check_link(link)
        require(
            self.supervision_slot is not None,
            "R2",
            "book the live-supervision slot before sending its link",
        )
        assert self.supervision_slot is not None
        require(self.supervision_slot > at, "R2", "the booked slot is already past")
        self._link_sent(slot=self.supervision_slot, link=address, sent_by=sent_by, timestamp=at)

    def resend_mail(self, *, mail: MailToResend, sent_by: UUID, reason: str, at: datetime) -> None:
        """The invitation while the enrolment runs; the log-in mail once a session exists."""
        require_aware("at", at)
        require(not self.expired, "R1", "the enrolment has expired")
        if mail is MailToResend.LOG_IN:
            require(
                self.exam_session_id is not None,
                "R2",
                "the candidate has not created the exam session yet: resend the invitation",
            )
        # Every hotline action keeps who acted and why (the desk says so): a resend with no
        # reason went through, its history line « Invitation renvoyée — par Hotline » alone.
        why = check_reason("reason", reason)
        self._mail_resent(mail=mail, sent_by=sent_by, reason=why, timestamp=at)

    def unblock(
        self,
        *,
        unblocked_by: UUID,
        reason: str,
        session_left: bool,
        at: datetime,
        session_entered: bool,
        session_closed: bool,
    ) -> None:
        """R23: after a blocked screen the candidate reconnects from the welcome mail, whose
        link works once: the hotline records why and a new log-in link is mailed.
        `session_entered`: the candidate entered the exam session at least once (the use case
        reads it from the session); before that no screen can be blocked (a tester's tour:
        « Débloqué » and an R23 fact for a session never opened).
        `session_closed`: the exam was sent and the session closed (R18); after that there is
        no screen left to unblock (a reviewer's tour: « Débloqué » after the exam was sent)."""
        require_aware("at", at)
        require(
            self.exam_session_id is not None,
            "R23",
            "the candidate has no exam session yet: there is nothing to reconnect to",
        )
        require(
            session_entered,
            "R23",
            "the candidate never entered the exam session: no screen can be blocked yet",
        )
        require(
            not session_closed,
            "R18",
            "the exam was sent and the session is closed: there is no screen left to unblock",
        )
        require(not self.expired, "R1", "the enrolment has expired")
        why = check_reason("reason", reason)
        self._unblocked(
            unblocked_by=unblocked_by, reason=why, session_left=session_left, timestamp=at
        )

    def renew_exam_session(
        self,
        *,
        at: datetime,
        renewed_by: UUID | None = None,
        reason: str = "",
        session_closed: bool = False,
    ) -> date:
        """R3: renew the exam session's validity, never past day 90. The hotline says who
        renews and why (`renewed_by` None: a script of old, kept for its callers).
        `session_closed`: the session was closed (its exam sent, or left for good; the use
        case reads it from the session): a renewal would give nothing to take, and mail the
        candidate that she may now take her exam."""
        require_aware("at", at)
        why = check_reason("reason", reason, required=renewed_by is not None)
        refused = self.renewal_refusal(today=at.date(), session_closed=session_closed)
        if refused is not None:
            raise refused
        assert self.session_valid_until is not None
        valid_until = renewed_validity_end(
            self.session_valid_until, at.date(), self.last_day, self.rules
        )
        self._renewed(valid_until=valid_until, renewed_by=renewed_by, reason=why, timestamp=at)
        return valid_until

    def renewal_refusal(self, *, today: date, session_closed: bool) -> RuleBroken | None:
        """What a renewal would be refused for on `today` (R3, R18), or None when it is
        possible: `renew_exam_session` raises it, and the hotline's case file offers the
        renewal only when there is none, saying this refusal's sentence instead."""
        if self.exam_session_id is None or self.session_valid_until is None:
            return RuleBroken("R3", "there is no exam session to renew yet")
        if session_closed:
            return RuleBroken(
                "R18", "the exam was sent, or left for good: this session is over, nothing to renew"
            )
        if self.expired:
            return RuleBroken("R3", "the enrolment has expired")
        try:
            renewed_validity_end(self.session_valid_until, today, self.last_day, self.rules)
        except RuleBroken as refused:
            return refused
        return None

    def grant_accommodation(
        self,
        *,
        at: datetime,
        granted_by: UUID,
        extra_time_percent: int,
        arrangements: str,
        exam_started_at: datetime | None,
    ) -> Accommodation:
        """The centre grants extra time and other arrangements, before the exam starts
        (`exam_started_at`: when the candidate first entered the exam session, if they did;
        the use case reads it from the session). A new grant replaces the previous one."""
        require_aware("at", at)
        closed = closed_to_grants(expired=self.expired, entered_at=exam_started_at)
        if closed is not None:
            raise closed
        text = check_accommodation(extra_time_percent, arrangements)
        self._accommodation_granted(
            extra_time_percent=extra_time_percent,
            arrangements=text,
            granted_by=granted_by,
            timestamp=at,
        )
        assert self.accommodation is not None
        return self.accommodation

    def expire(self, *, at: datetime) -> None:
        """R1: the enrolment expires once its last day has passed."""
        require_aware("at", at)
        require(not self.expired, "R1", "the enrolment has already expired")
        require(
            at.date() > self.last_day,
            "R1",
            f"the enrolment is valid until {self.last_day.isoformat()} inclusive",
        )
        self._expired(last_day=self.last_day, timestamp=at)

    # --- time-driven facts (recorded by the deadline process, each once) -----------------

    def due_reminder(self, today: date) -> tuple[int, tuple[int, ...]] | None:
        """The reminder due today, if any, and older ones it makes pointless (missed days)."""
        if self.expired or self.exam_session_id is not None or today > self.last_day:
            return None
        due = sorted(
            d
            for d in self.rules.reminder_days_before
            if d not in self.reminded and today >= self.last_day - timedelta(days=d)
        )
        if not due:
            return None
        return due[0], tuple(due[1:])

    def remind_of_deadline(self, *, at: datetime) -> int | None:
        """R1: remind the candidate 14 and 3 days before the last day, while no session
        exists; each reminder once. Returns the days before, or None when none is due."""
        require_aware("at", at)
        due = self.due_reminder(at.date())
        if due is None:
            return None
        days_before, skipped = due
        self._reminder_due(
            days_before=days_before, last_day=self.last_day, skipped=skipped, timestamp=at
        )
        return days_before

    def lapse_session_validity(self, *, at: datetime) -> bool:
        """R3: the exam session's validity has passed (recorded once per validity end)."""
        require_aware("at", at)
        end = self.session_valid_until
        if end is None or at.date() <= end or self.lapsed_until == end:
            return False
        self._validity_lapsed(valid_until=end, timestamp=at)
        return True

    @property
    def can_expire(self) -> bool:
        """Not expired yet (the deadline process asks before `expire`)."""
        return not self.expired

    # --- queries -------------------------------------------------------------------------

    def session_is_valid_on(self, day: date) -> bool:
        """Whether the exam session may be used on that local day."""
        return (
            not self.expired
            and self.session_valid_until is not None
            and day <= self.session_valid_until
        )

    # --- events --------------------------------------------------------------------------

    @event(ExamSessionCreated)
    def _exam_session_created(
        self, exam_session_id: UUID, valid_until: date, live_supervision: bool, timestamp: datetime
    ) -> None:
        self.exam_session_id = exam_session_id
        self.session_valid_until = valid_until
        self.live_supervision = live_supervision

    @event(LiveSupervisionSlotBooked)
    def _slot_booked(
        self, slot: datetime, booked_by: UUID, timestamp: datetime, note: str = ""
    ) -> None:
        self.supervision_slot = slot

    @event(LiveSupervisionLinkSent)
    def _link_sent(self, slot: datetime, link: str, sent_by: UUID, timestamp: datetime) -> None:
        pass  # a fact for the outbox and the history; the enrolment's state is unchanged

    @event(ExamSessionRenewed)
    def _renewed(
        self,
        valid_until: date,
        timestamp: datetime,
        renewed_by: UUID | None = None,
        reason: str = "",
    ) -> None:
        self.session_valid_until = valid_until
        self.renewals += 1

    @event(MailResent)
    def _mail_resent(
        self, mail: MailToResend, sent_by: UUID, reason: str, timestamp: datetime
    ) -> None:
        pass  # the outbox decides the mail from this fact

    @event(CandidateUnblocked)
    def _unblocked(
        self, unblocked_by: UUID, reason: str, session_left: bool, timestamp: datetime
    ) -> None:
        pass  # the outbox mails the new log-in link from this fact

    @event(EnrollmentExpired)
    def _expired(self, last_day: date, timestamp: datetime) -> None:
        self.expired = True

    @event(DeadlineReminderDue)
    def _reminder_due(
        self, days_before: int, last_day: date, skipped: tuple[int, ...], timestamp: datetime
    ) -> None:
        self.reminded = (*self.reminded, days_before, *skipped)

    @event(ExamSessionValidityLapsed)
    def _validity_lapsed(self, valid_until: date, timestamp: datetime) -> None:
        self.lapsed_until = valid_until

    @event(AccommodationGranted)
    def _accommodation_granted(
        self, extra_time_percent: int, arrangements: str, granted_by: UUID, timestamp: datetime
    ) -> None:
        self.accommodation = Accommodation(extra_time_percent, arrangements, granted_by, timestamp)
