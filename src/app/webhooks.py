"""Webhooks (issue 16): a centre's machines are told when an exam session is created, an exam
is submitted, a decision is released and an appeal is decided.

As for mail (app.outbox), deciding is a policy's, exactly once: one delivery per event and
subscription, its id derived from both, saved with the policy's position. Delivering is the
worker's (`vigie worker`, its `webhooks` lease), never a web request's: a sender claims a due
delivery in the store, posts it signed, and records the answer; an error status or no answer
is retried with exponential back-off (30 s, 1 min, 2 min… up to an hour, 10 attempts), every
attempt a fact of the delivery (the centre's delivery log). An address leading into the
platform's own network is not posted to (the poster refuses it before connecting): that
attempt fails saying so and the delivery is given up, never retried. A crash after the receiver
answered but before the answer was recorded posts it again with the same `webhook-id`, which
a receiver uses to drop the repeat.

Signatures follow Standard Webhooks (standardwebhooks.com): `webhook-id`, `webhook-timestamp`
(Unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, so
receivers verify with that project's libraries in any language, or with ten lines of their
own (README, "Machine API")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID, uuid4, uuid5

import msgspec
from eventsourcing.domain import Aggregate
from standardwebhooks.webhooks import Webhook

from app.context import Context
from app.integrations import integrations_of, webhook_secret
from app.ports.clock import Clock
from app.ports.event_store import ConcurrencyConflict, Recorded
from app.ports.webhooks import AddressRefused, WebhookPoster, WebhookUnreachable
from app.tenancy import centre_of_session
from domain.enrollment import Enrollment
from domain.exam_attempt import ExamAttempt
from domain.integrations import WebhookEvent
from domain.proctored_session import ProctoredSession
from domain.review import Review
from domain.webhook_delivery import DeliveryStatus, WebhookDelivery

# Fixed for ever: a delivery's id is derived from its event and subscription with it.
DELIVERY_NAMESPACE = UUID("0d4e6b7a-2c51-4f3e-8a9d-6e1f2b3c4d5e")


def delivery_id(cause: str, subscription_id: UUID) -> UUID:
    return uuid5(DELIVERY_NAMESPACE, f"{cause}:{subscription_id}")


def _session_facts(ctx: Context, session_id: UUID) -> dict[str, str]:
    session = ctx.store.get(session_id, ProctoredSession)
    return {
        "enrollment_id": str(session.enrollment_id),
        "session_id": str(session_id),
        "candidate_id": str(session.candidate_id),
    }


def _what(ctx: Context, event: object) -> tuple[WebhookEvent, UUID, dict[str, str]] | None:
    """The webhook an event calls for: its type, the centre told, and its data (ids, codes,
    verdicts: never a person's name or address)."""
    if isinstance(event, Enrollment.ExamSessionCreated):
        enrollment = ctx.store.get(event.originator_id, Enrollment)
        return (
            WebhookEvent.SESSION_CREATED,
            enrollment.centre_id,
            {
                "enrollment_id": str(enrollment.id),
                "session_id": str(event.exam_session_id),
                "candidate_id": str(enrollment.candidate_id),
                "certification_code": enrollment.certification_code,
                "valid_until": event.valid_until.isoformat(),
            },
        )
    if isinstance(event, ExamAttempt.ExamValidated):
        attempt = ctx.store.get(event.originator_id, ExamAttempt)
        return (
            WebhookEvent.EXAM_SUBMITTED,
            centre_of_session(ctx.store, attempt.session_id),
            {
                **_session_facts(ctx, attempt.session_id),
                "attempt_id": str(attempt.id),
                "certification_code": attempt.certification_code,
            },
        )
    if isinstance(event, Review.ResultsReleased | Review.AppealDecided):
        review = ctx.store.get(event.originator_id, Review)
        data = {
            **_session_facts(ctx, review.session_id),
            "attempt_id": str(review.attempt_id),
            "review_id": str(review.id),
            "certification_code": review.certification_code,
            "verdict": event.verdict.value,
        }
        kind = WebhookEvent.DECISION_RELEASED
        if isinstance(event, Review.AppealDecided):
            kind = WebhookEvent.APPEAL_DECIDED
            data["appeal_outcome"] = event.outcome.value
        else:
            attempt = ctx.store.get(review.attempt_id, ExamAttempt)
            if attempt.results is not None:
                data["score"] = str(attempt.results.score)
                data["max_score"] = str(attempt.results.max_score)
        return kind, centre_of_session(ctx.store, review.session_id), data
    return None


class WebhookDecisions:
    """Decides the deliveries an event calls for, one per active subscriber of its centre."""

    name = "webhook-decisions"

    def wants(self, recorded: Recorded) -> bool:
        return isinstance(
            recorded.event,
            Enrollment.ExamSessionCreated
            | ExamAttempt.ExamValidated
            | Review.ResultsReleased
            | Review.AppealDecided,
        )

    def react(self, ctx: Context, recorded: Recorded) -> Sequence[Aggregate]:
        event = recorded.event
        what = _what(ctx, event)
        if what is None:
            return []
        kind, centre_id, data = what
        integrations = integrations_of(ctx, centre_id)
        if integrations is None:
            return []
        cause = f"{event.originator_id}/{event.originator_version}"
        decided: list[Aggregate] = []
        for subscription in integrations.subscribers(kind):
            the_id = delivery_id(cause, subscription.subscription_id)
            body = {
                "id": str(the_id),
                "type": kind.value,
                "event": cause,
                "occurred_at": event.timestamp.isoformat(),
                "centre_id": str(centre_id),
                "data": data,
            }
            decided.append(
                WebhookDelivery.decide(
                    delivery_id=the_id,
                    subscription_id=subscription.subscription_id,
                    centre_id=centre_id,
                    event_type=kind,
                    url=subscription.url,
                    body=msgspec.json.encode(body).decode(),
                    cause=cause,
                    at=event.timestamp,
                )
            )
        return decided


def signed_headers(secret: str, message_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt (signed at the moment it is sent)."""
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
    }


@dataclass
class DeliveryReport:
    """What one pass of the webhook sender did."""

    delivered: int = 0
    retried: int = 0
    given_up: int = 0


def _sender_name() -> str:
    return f"webhooks-{uuid4().hex[:12]}"


@dataclass
class WebhookSender:
    """Posts due deliveries; `lease` outlasts one post (the poster's timeouts are 10 s).

    Signatures carry the time of the machine's own clock (`wall_clock`, the system's), not
    the platform's: receivers check it against theirs to refuse replays, and a platform run
    on an offset or manual clock (a demo, a test) must still sign with the real time."""

    ctx: Context
    poster: WebhookPoster
    platform_key: bytes
    wall_clock: Clock
    max_attempts: int = 10
    first_delay: timedelta = timedelta(seconds=30)
    longest_delay: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(minutes=1)
    name: str = field(default_factory=_sender_name)

    def retry_delay(self, attempt: int) -> timedelta:
        """30 s, 1 min, 2 min, … capped at one hour."""
        factor: int = 1 << max(0, attempt - 1)
        return min(self.first_delay * factor, self.longest_delay)

    def send_due(self, delivery_ids: Sequence[UUID]) -> DeliveryReport:
        report = DeliveryReport()
        for the_id in delivery_ids:
            try:
                self._send_one(the_id, report)
            except ConcurrencyConflict:
                continue  # another sender claimed or recorded it first
        return report

    def _send_one(self, the_id: UUID, report: DeliveryReport) -> None:
        delivery = self.ctx.store.get(the_id, WebhookDelivery)
        at = self.ctx.now()
        if not delivery.is_due(at):
            return
        delivery.claim(sender=self.name, at=at, lease_until=at + self.lease)
        try:
            self.ctx.store.save(delivery)
        except ConcurrencyConflict:
            return  # another sender's claim was stored first
        body = delivery.body.encode()
        secret = webhook_secret(self.platform_key, delivery.subscription_id)
        sent_at = self.wall_clock.now()
        status: int | None = None
        refused: AddressRefused | None = None
        try:
            status = self.poster.post(
                delivery.url, body, signed_headers(secret, str(delivery.id), sent_at, body)
            )
            error = "" if 200 <= status < 300 else f"HTTP {status}"
        except WebhookUnreachable as unreachable:
            error = str(unreachable) or "no answer"
        except AddressRefused as refusal:  # nothing was sent
            refused, error = refusal, str(refusal)
        at = self.ctx.now()
        if refused is not None:  # given up at once, the centre's log saying why
            delivery.record_refused(host=refused.host, address=refused.address, at=at)
        elif status is not None and not error:
            delivery.record_delivered(status_code=status, at=at)
        else:
            delivery.record_failure(
                at=at,
                status_code=status,
                error=error,
                retry_at=at + self.retry_delay(delivery.attempts + 1),
                max_attempts=self.max_attempts,
            )
        self.ctx.store.save(delivery)
        if delivery.status is DeliveryStatus.DELIVERED:
            report.delivered += 1
        elif delivery.status is DeliveryStatus.FAILED:
            report.given_up += 1
        else:
            report.retried += 1
