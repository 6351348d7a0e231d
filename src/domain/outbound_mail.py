"""Outbound mail: the outbox. A mail is decided as a fact, then sent, retried or given up.

Deciding a mail and sending it are two steps so that a crash in between loses nothing: the
decision is in the log, and a sender finds it pending after a restart. Between them, a sender
claims the mail (issue 12): the claim is an event saved with optimistic concurrency, so of
several senders only the one whose claim was stored hands the mail to SMTP. A claim holds
until its lease ends; a sender that died holding one leaves the mail to the next after it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidArgument, require_aware
from domain.rules import utc


class MailKind(StrEnum):
    """Every message the platform sends (support contact in each, R26)."""

    INVITATION = "invitation"
    WELCOME = "welcome"
    LIVE_SUPERVISION = "live_supervision"
    LIVE_SUPERVISION_LINK = "live_supervision_link"  # R2: the slot and its screen-sharing link
    PASSWORD_RESET = "password_reset"
    SUBMISSION_RECEIPT = "submission_receipt"
    RESULTS = "results"
    DEADLINE_REMINDER = "deadline_reminder"
    REVIEW_DUE_SOON = "review_due_soon"
    APPEAL_DECIDED = "appeal_decided"
    # The candidate's appeal received, with the day a second examiner answers by: lodged
    # with no word back, a candidate could not tell it had gone through (a reviewer's finding).
    APPEAL_RECEIVED = "appeal_received"
    # R3: the hotline renewed the exam session; its new last day and how to go on. The
    # validity moved in silence, and a candidate who had called did not learn she could go on.
    EXAM_SESSION_RENEWED = "exam_session_renewed"


class RecipientKind(StrEnum):
    """Whose address to look up when sending (addresses live with the person's data)."""

    CANDIDATE = "candidate"
    STAFF = "staff"


class MailStatus(StrEnum):
    """Where a mail stands."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboundMail(Aggregate):
    """One message to one person, with its delivery attempts."""

    kind: MailKind
    recipient_kind: RecipientKind
    recipient_id: UUID
    params: dict[str, str]
    cause: str
    status: MailStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str
    # Class defaults: mails (and snapshots) from before claims existed have none.
    claimed_by: str = ""
    lease_until: datetime | None = None

    class MailDecided(Aggregate.Created):
        kind: MailKind
        recipient_kind: RecipientKind
        recipient_id: UUID
        params: dict[str, str]
        cause: str

    class DeliveryFailed(Aggregate.Event):
        attempt: int
        error: str
        permanent: bool
        retry_at: datetime | None

    class MailSent(Aggregate.Event):
        attempt: int

    class MailGivenUp(Aggregate.Event):
        reason: str

    class SendClaimed(Aggregate.Event):
        sender: str
        lease_until: datetime

    @classmethod
    def decide(
        cls,
        *,
        mail_id: UUID,
        kind: MailKind,
        recipient_kind: RecipientKind,
        recipient_id: UUID,
        params: dict[str, str],
        cause: str,
        at: datetime,
    ) -> OutboundMail:
        """A policy decides a mail because of an event (`cause` names it)."""
        require_aware("at", at)
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in params.items()):
            raise InvalidArgument("params", "mail parameters are strings")
        return cls._create(
            cls.MailDecided,
            id=mail_id,
            timestamp=at,
            kind=kind,
            recipient_kind=recipient_kind,
            recipient_id=recipient_id,
            params=dict(params),
            cause=cause,
        )

    @event(MailDecided)
    def __init__(
        self,
        kind: MailKind,
        recipient_kind: RecipientKind,
        recipient_id: UUID,
        params: dict[str, str],
        cause: str,
        timestamp: datetime,
    ) -> None:
        self.kind = kind
        self.recipient_kind = recipient_kind
        self.recipient_id = recipient_id
        self.params = params
        self.cause = cause
        self.status = MailStatus.PENDING
        self.attempts = 0
        self.next_attempt_at = timestamp
        self.last_error = ""

    def is_due(self, at: datetime) -> bool:
        """Pending, its next attempt time has come, and no sender's claim holds it."""
        return (
            self.status is MailStatus.PENDING
            and utc(at) >= utc(self.next_attempt_at)
            and not self.is_claimed(at)
        )

    def is_claimed(self, at: datetime) -> bool:
        """A sender holds the mail: its lease has not ended."""
        return self.lease_until is not None and utc(at) < utc(self.lease_until)

    def claim(self, *, sender: str, at: datetime, lease_until: datetime) -> None:
        """A sender takes the mail before handing it to SMTP. Saving this event is what
        decides between senders: the store refuses a second claim of the same version."""
        require_aware("at", at)
        require_aware("lease_until", lease_until)
        if not sender:
            raise InvalidArgument("sender", "a claim names its sender")
        if utc(lease_until) <= utc(at):
            raise InvalidArgument("lease_until", "a lease ends after it starts")
        if not self.is_due(at):
            raise InvalidArgument("mail", "only a pending, due and unclaimed mail is claimed")
        self._claimed(sender=sender, lease_until=lease_until, timestamp=at)

    def record_sent(self, *, at: datetime) -> None:
        """The server accepted the message (recorded once)."""
        require_aware("at", at)
        if self.status is MailStatus.PENDING:
            self._sent(attempt=self.attempts + 1, timestamp=at)

    def record_failure(
        self,
        *,
        at: datetime,
        error: str,
        permanent: bool,
        retry_at: datetime | None,
        max_attempts: int,
    ) -> None:
        """A failed attempt: retried at `retry_at`, or given up when permanent or exhausted."""
        require_aware("at", at)
        if self.status is not MailStatus.PENDING:
            return
        attempt = self.attempts + 1
        give_up = permanent or retry_at is None or attempt >= max_attempts
        self._failed(
            attempt=attempt,
            error=error[:500],
            permanent=permanent,
            retry_at=None if give_up else retry_at,
            timestamp=at,
        )
        if give_up:
            reason = "refused by the server" if permanent else f"{attempt} attempts failed"
            self._given_up(reason=reason, timestamp=at)

    @event(DeliveryFailed)
    def _failed(
        self,
        attempt: int,
        error: str,
        permanent: bool,
        retry_at: datetime | None,
        timestamp: datetime,
    ) -> None:
        self.attempts = attempt
        self.last_error = error
        self.lease_until = None  # the attempt is over: the next one claims again
        if retry_at is not None:
            self.next_attempt_at = retry_at

    @event(MailSent)
    def _sent(self, attempt: int, timestamp: datetime) -> None:
        self.attempts = attempt
        self.status = MailStatus.SENT
        self.lease_until = None

    @event(SendClaimed)
    def _claimed(self, sender: str, lease_until: datetime, timestamp: datetime) -> None:
        self.claimed_by = sender
        self.lease_until = lease_until

    @event(MailGivenUp)
    def _given_up(self, reason: str, timestamp: datetime) -> None:
        self.status = MailStatus.FAILED
