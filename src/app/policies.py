"""Policies react to stored events exactly once, by following the notification log.

Each policy has its own position (tracking). The events a policy records are saved in the
same transaction as its new position, so a crash between the two is impossible: a restarted
runner starts after the last position it committed and nothing is done twice. Policies whose
effect leaves the database (mail) record their position after the effect: at least once,
made exactly once by the receiving side's idempotency key (the mail id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from eventsourcing.domain import Aggregate

from app.context import Context
from app.ports.event_store import ConcurrencyConflict, Recorded
from app.ports.mailer import Mail
from app.use_cases.reviewing import open_review
from domain.candidate import Candidate
from domain.enrollment import Enrollment
from domain.exam_attempt import ExamAttempt
from domain.review import Review

BATCH = 500


class Policy(Protocol):
    """Reacts to one kind of fact; returns the aggregates whose new events to save."""

    name: str

    def wants(self, recorded: Recorded) -> bool:
        """Whether this event concerns the policy (others only move its position)."""
        ...

    def react(self, ctx: Context, recorded: Recorded) -> Sequence[Aggregate]:
        """Decide what follows from the event."""
        ...


class OpenReviewOnSubmission:
    """R19: an exam sent for review ('Oui, envoyer') opens its review, due in 8 days."""

    name = "open-review-on-submission"

    def wants(self, recorded: Recorded) -> bool:
        return isinstance(recorded.event, ExamAttempt.ExamValidated)

    def react(self, ctx: Context, recorded: Recorded) -> Sequence[Aggregate]:
        attempt = ctx.store.get(recorded.event.originator_id, ExamAttempt)
        return [open_review(ctx.store, attempt, recorded.event.timestamp)]


class MailCandidate:
    """The welcome mail after the exam session's creation (R2) and the results (R19).

    Issue 3 turns this into a transactional outbox with retries; the mail id is already the
    event's place in the log so a receiver can drop a duplicate.
    """

    name = "mail-candidate"

    def wants(self, recorded: Recorded) -> bool:
        return isinstance(recorded.event, Enrollment.ExamSessionCreated | Review.ResultsReleased)

    def react(self, ctx: Context, recorded: Recorded) -> Sequence[Aggregate]:
        event = recorded.event
        mail_id = f"{event.originator_id}/{event.originator_version}"
        if isinstance(event, Enrollment.ExamSessionCreated):
            enrollment = ctx.store.get(event.originator_id, Enrollment)
            candidate = ctx.store.get(enrollment.candidate_id, Candidate)
            subject = "Bienvenue sur votre espace de passage de certification"
            text = (
                f"Bonjour {candidate.first_name} {candidate.surname.upper()},\n\n"
                f"Votre session d'examen est créée. Vous avez jusqu'au "
                f"{event.valid_until:%d/%m/%Y} pour passer votre certification "
                f"{enrollment.certification_code}.\n"
            )
        else:
            assert isinstance(event, Review.ResultsReleased)
            review = ctx.store.get(event.originator_id, Review)
            candidate = ctx.store.get(review.candidate_id, Candidate)
            subject = "Résultat de votre certification"
            verdict = "validée" if event.verdict.value == "validated" else "invalidée"
            text = f"Bonjour,\n\nVotre session d'examen a été {verdict} après contrôle.\n"
        ctx.mailer.send(Mail(mail_id, candidate.email, subject, text, candidate.language))
        return []


@dataclass
class PolicyRunner:
    """Catches every policy up with the log; safe to run again, or from another process."""

    ctx: Context
    policies: Sequence[Policy]

    def run(self) -> int:
        """Process everything recorded so far; returns how many reactions were saved."""
        reactions = 0
        for policy in self.policies:
            reactions += self._catch_up(policy)
        return reactions

    def run_until_quiet(self, rounds: int = 10) -> int:
        """Run again while policies' own events wake other policies."""
        total = 0
        for _ in range(rounds):
            done = self.run()
            total += done
            if done == 0:
                break
        return total

    def _catch_up(self, policy: Policy) -> int:
        store = self.ctx.store
        reactions = 0
        position = store.position_of(policy.name)
        while True:
            batch = store.read(position, BATCH)
            if not batch:
                return reactions
            for recorded in batch:
                if policy.wants(recorded):
                    aggregates = policy.react(self.ctx, recorded)
                    try:
                        store.save(*aggregates, tracking=(policy.name, recorded.position))
                    except ConcurrencyConflict:
                        # Another runner got there first, or the derived aggregate exists:
                        # what this event asked for is already recorded.
                        if store.position_of(policy.name) < recorded.position:
                            store.save(tracking=(policy.name, recorded.position))
                    reactions += 1
                position = recorded.position
            if store.position_of(policy.name) < position:
                try:
                    store.save(tracking=(policy.name, position))
                except ConcurrencyConflict:
                    position = store.position_of(policy.name)  # another runner is ahead


def default_policies() -> list[Policy]:
    """Every policy the platform runs."""
    return [OpenReviewOnSubmission(), MailCandidate()]
