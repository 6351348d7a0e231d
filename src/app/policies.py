"""Policies react to stored events exactly once, by following the notification log.

Each policy has its own position (tracking). The events a policy records are saved in the
same transaction as its new position, so a crash between the two is impossible: a restarted
runner starts after the last position it committed and nothing is done twice. Effects that leave
the database (mail) are decided here as events and carried out by the outbox sender.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from eventsourcing.domain import Aggregate

from app.context import Context
from app.outbox import MailDecisions
from app.ports.event_store import ConcurrencyConflict, Recorded
from app.use_cases.reviewing import open_review
from app.workspaces import ProvisionWorkspaces, TearDownWorkspaces
from domain.exam_attempt import ExamAttempt

BATCH = 500
RETRIES = 5


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


@dataclass
class PolicyRunner:
    """Catches every policy up with the log; safe to run again, or from another process."""

    ctx: Context
    policies: Sequence[Policy]

    def run(self) -> int:
        """Process everything recorded so far; returns how many reactions were saved.

        The log is read once for all the policies (each event is decoded once, not once per
        policy); each policy still keeps its own position."""
        store = self.ctx.store
        reactions = 0
        positions = {p.name: store.position_of(p.name) for p in self.policies}
        start = min(positions.values(), default=0)
        while True:
            batch = store.read(start, BATCH)
            if not batch:
                return reactions
            for recorded in batch:
                for policy in self.policies:
                    if positions[policy.name] >= recorded.position:
                        continue
                    if policy.wants(recorded):
                        reactions += self._react(policy, recorded)
                    positions[policy.name] = recorded.position
            start = batch[-1].position
            for policy in self.policies:
                if store.position_of(policy.name) < positions[policy.name]:
                    # A conflict: another runner is ahead, and its position stands.
                    with contextlib.suppress(ConcurrencyConflict):
                        store.save(tracking=(policy.name, positions[policy.name]))

    def run_until_quiet(self, rounds: int = 10) -> int:
        """Run again while policies' own events wake other policies."""
        total = 0
        for _ in range(rounds):
            done = self.run()
            total += done
            if done == 0:
                break
        return total

    def _react(self, policy: Policy, recorded: Recorded) -> int:
        """React once: a conflict means another runner did it, or an aggregate the policy
        loaded changed meanwhile (then decide again from fresh state)."""
        store = self.ctx.store
        for _ in range(RETRIES):
            if store.position_of(policy.name) >= recorded.position:
                return 0
            aggregates = policy.react(self.ctx, recorded)
            try:
                store.save(*aggregates, tracking=(policy.name, recorded.position))
            except ConcurrencyConflict:
                continue
            return 1
        raise ConcurrencyConflict(f"{policy.name} could not record its reaction to {recorded}")


def default_policies() -> list[Policy]:
    """Every policy the platform runs."""
    return [
        OpenReviewOnSubmission(),
        MailDecisions(),
        ProvisionWorkspaces(),
        TearDownWorkspaces(),
    ]
