"""A webhook delivery: one event told to one subscriber, with its attempts (issue 16).

As an outbound mail (domain.outbound_mail): decided by a policy as a fact (its id derived from
the event and the subscription, so exactly once), claimed by one sender before the HTTP call
(saving the claim decides between senders), then delivered, retried with back-off, or given
up. Each attempt is an event: the centre's delivery log is read from them. The body is fixed
when the delivery is decided, so every attempt sends the same bytes under the same id and a
receiver can drop a repeat.

An address that leads into the platform's own network (domain.internal_network) is not
posted to: that attempt fails with the reason (`refusal`), and the delivery is given up at
once. The refusal is the platform's rule, not the receiver's trouble: nine more tries an
hour apart would only ask the resolver again, and the centre's log says why."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidArgument, require_aware
from domain.integrations import WebhookEvent
from domain.rules import utc

# How a refused attempt's error reads in the log (in English, as every attempt's error); the
# centre's page says it in the reader's language (`refused_address`).
_REFUSED = "not sent: {host} leads to {address}, in the platform's internal network"
_REFUSED_TEXT = re.compile(
    r"^not sent: (?P<host>\S+) leads to (?P<address>\S+), in the platform's internal network$"
)
REFUSED_REASON = "the address leads into the platform's internal network"


def refusal(host: str, address: str) -> str:
    """A refused attempt's error: `host` (as the URL has it) led to `address`."""
    return _REFUSED.format(host=host, address=address)


def refused_address(error: str) -> tuple[str, str] | None:
    """The host and address of a refused attempt's error (`refusal`); None for another."""
    found = _REFUSED_TEXT.match(error)
    return (found["host"], found["address"]) if found else None


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # given up


class WebhookDelivery(Aggregate):
    """One event for one subscription, and its attempts."""

    subscription_id: UUID
    centre_id: UUID
    event_type: WebhookEvent
    url: str
    body: str
    cause: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str
    claimed_by: str = ""
    lease_until: datetime | None = None

    class DeliveryDecided(Aggregate.Created):
        subscription_id: UUID
        centre_id: UUID
        event_type: WebhookEvent
        url: str
        body: str
        cause: str

    class DeliveryClaimed(Aggregate.Event):
        sender: str
        lease_until: datetime

    class AttemptFailed(Aggregate.Event):
        attempt: int
        status_code: int | None
        error: str
        retry_at: datetime | None

    class Delivered(Aggregate.Event):
        attempt: int
        status_code: int

    class DeliveryGivenUp(Aggregate.Event):
        reason: str

    @classmethod
    def decide(
        cls,
        *,
        delivery_id: UUID,
        subscription_id: UUID,
        centre_id: UUID,
        event_type: WebhookEvent,
        url: str,
        body: str,
        cause: str,
        at: datetime,
    ) -> WebhookDelivery:
        """A policy decides to tell a subscriber about an event (`cause` names it)."""
        require_aware("at", at)
        return cls._create(
            cls.DeliveryDecided,
            id=delivery_id,
            timestamp=at,
            subscription_id=subscription_id,
            centre_id=centre_id,
            event_type=event_type,
            url=url,
            body=body,
            cause=cause,
        )

    @event(DeliveryDecided)
    def __init__(
        self,
        subscription_id: UUID,
        centre_id: UUID,
        event_type: WebhookEvent,
        url: str,
        body: str,
        cause: str,
        timestamp: datetime,
    ) -> None:
        self.subscription_id = subscription_id
        self.centre_id = centre_id
        self.event_type = event_type
        self.url = url
        self.body = body
        self.cause = cause
        self.status = DeliveryStatus.PENDING
        self.attempts = 0
        self.next_attempt_at = timestamp
        self.last_error = ""

    def is_due(self, at: datetime) -> bool:
        """Pending, its time has come, and no sender's claim holds it."""
        return (
            self.status is DeliveryStatus.PENDING
            and utc(at) >= utc(self.next_attempt_at)
            and not self.is_claimed(at)
        )

    def is_claimed(self, at: datetime) -> bool:
        return self.lease_until is not None and utc(at) < utc(self.lease_until)

    def claim(self, *, sender: str, at: datetime, lease_until: datetime) -> None:
        """A sender takes the delivery before the HTTP call (the store refuses a second
        claim of the same version)."""
        require_aware("at", at)
        require_aware("lease_until", lease_until)
        if not sender:
            raise InvalidArgument("sender", "a claim names its sender")
        if utc(lease_until) <= utc(at):
            raise InvalidArgument("lease_until", "a lease ends after it starts")
        if not self.is_due(at):
            raise InvalidArgument("delivery", "only a pending, due, unclaimed delivery is claimed")
        self._claimed(sender=sender, lease_until=lease_until, timestamp=at)

    def record_delivered(self, *, status_code: int, at: datetime) -> None:
        """The receiver answered 2xx (recorded once: a repeat changes nothing)."""
        require_aware("at", at)
        if self.status is DeliveryStatus.PENDING:
            self._delivered(attempt=self.attempts + 1, status_code=status_code, timestamp=at)

    def record_failure(
        self,
        *,
        at: datetime,
        status_code: int | None,
        error: str,
        retry_at: datetime,
        max_attempts: int,
    ) -> None:
        """A failed attempt (an error status, a timeout, no answer): retried at `retry_at`,
        or given up after `max_attempts`."""
        require_aware("at", at)
        if self.status is not DeliveryStatus.PENDING:
            return
        attempt = self.attempts + 1
        give_up = attempt >= max_attempts
        self._failed(
            attempt=attempt,
            status_code=status_code,
            error=error[:500],
            retry_at=None if give_up else retry_at,
            timestamp=at,
        )
        if give_up:
            self._given_up(reason=f"{attempt} attempts failed", timestamp=at)

    def record_refused(self, *, host: str, address: str, at: datetime) -> None:
        """Nothing was sent: `host` led to `address`, in the platform's internal network,
        where the operator lets no webhook go. A failed attempt saying so, then given up
        (no retry: the platform's rule, not the receiver's trouble)."""
        require_aware("at", at)
        if self.status is not DeliveryStatus.PENDING:
            return
        self._failed(
            attempt=self.attempts + 1,
            status_code=None,
            error=refusal(host, address)[:500],
            retry_at=None,
            timestamp=at,
        )
        self._given_up(reason=REFUSED_REASON, timestamp=at)

    @event(DeliveryClaimed)
    def _claimed(self, sender: str, lease_until: datetime, timestamp: datetime) -> None:
        self.claimed_by = sender
        self.lease_until = lease_until

    @event(AttemptFailed)
    def _failed(
        self,
        attempt: int,
        status_code: int | None,
        error: str,
        retry_at: datetime | None,
        timestamp: datetime,
    ) -> None:
        self.attempts = attempt
        self.last_error = error
        self.lease_until = None
        if retry_at is not None:
            self.next_attempt_at = retry_at

    @event(Delivered)
    def _delivered(self, attempt: int, status_code: int, timestamp: datetime) -> None:
        self.attempts = attempt
        self.status = DeliveryStatus.DELIVERED
        self.lease_until = None

    @event(DeliveryGivenUp)
    def _given_up(self, reason: str, timestamp: datetime) -> None:
        self.status = DeliveryStatus.FAILED
