"""Policies react to stored events exactly once, by following the notification log.

Each policy has its own position (tracking). The events a policy records are saved in the
same transaction as its new position, so a crash between the two is impossible: a restarted
runner starts after the last position it committed and nothing is done twice. Effects that leave
the database (mail) are decided here as events and carried out by the outbox sender.

A reaction that keeps failing for another reason than a conflict (an erased candidate, a bug)
is parked after a few tries (domain.parked_reaction): saved with the policy's position, so the
policy goes on with the next events; it is logged, listed for operators, and retried when one
of them asks (app.parked: RetryParkedReactions carries the retry out, once).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol
from uuid import uuid4

from eventsourcing.domain import Aggregate

from app.context import Context
from app.lti_scores import ScoreDecisions
from app.outbox import MailDecisions
from app.parked import RetryParkedReactions
from app.ports.event_store import AggregateNotFound, ConcurrencyConflict, Recorded
from app.use_cases.reviewing import open_review, review_id_for
from app.webhooks import WebhookDecisions
from app.workspaces import ProvisionWorkspaces, TearDownWorkspaces
from domain.exam_attempt import ExamAttempt
from domain.parked_reaction import ParkedReaction
from domain.reaction_claim import ReactionClaim, claim_id
from domain.review import Review

BATCH = 500
RETRIES = 5
PARK_AFTER = 3  # failed tries (other than conflicts) before a reaction is parked
# A claimed reaction (provisioning: up to 120 s) is left to its runner this long.
CLAIM_LEASE_S = 300.0
LOG = logging.getLogger("vigie.policies")


class Policy(Protocol):
    """Reacts to one kind of fact; returns the aggregates whose new events to save.

    A policy whose reaction has an effect outside the database (a launcher call) sets
    `claims_before_reacting = True`: the runner claims the reaction first (ReactionClaim)."""

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
        try:
            ctx.store.get(review_id_for(attempt.id), Review, to_read=True)
        except AggregateNotFound:
            return [open_review(ctx.store, attempt, recorded.event.timestamp)]
        # Opened already, by a reaction saved without this policy's position (the demo's
        # seed: ui.demo_review): opening it again conflicted at every try, for ever.
        return []


@dataclass
class PolicyRunner:
    """Catches every policy up with the log; safe to run again, or from another process."""

    ctx: Context
    policies: Sequence[Policy]
    name: str = field(default_factory=lambda: f"runner-{uuid4().hex[:12]}")
    claim_lease: timedelta = timedelta(seconds=CLAIM_LEASE_S)
    # Whether the runner named is known gone: a worker's runner is named after its holder
    # (app.leases), gone once its presence lease ran out. Without it a dead runner's claim
    # waits out its lease, and the policy holds every later request back until then.
    gone: Callable[[str], bool] = field(default=lambda runner: False, repr=False)

    def run(self) -> int:
        """Process everything recorded so far; returns how many reactions were saved.

        The log is read once for all the policies (each event is decoded once, not once per
        policy); each policy still keeps its own position."""
        store = self.ctx.store
        reactions = 0
        positions = {p.name: store.position_of(p.name) for p in self.policies}
        # A policy whose reaction another runner is carrying out stops here for this pass:
        # moving its position past that event would make the other runner's save fail.
        held_back: set[str] = set()
        start = min(positions.values(), default=0)
        while True:
            batch = store.read(start, BATCH)
            if not batch:
                return reactions
            for recorded in batch:
                for policy in self.policies:
                    if policy.name in held_back or positions[policy.name] >= recorded.position:
                        continue
                    if policy.wants(recorded):
                        try:
                            reactions += self._react(policy, recorded)
                        except HeldElsewhere:
                            held_back.add(policy.name)
                            continue
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
        loaded changed meanwhile (then decide again from fresh state). Any other failure is
        tried again, then parked with the policy's position so the policy goes on."""
        store = self.ctx.store
        if getattr(policy, "claims_before_reacting", False):
            if store.position_of(policy.name) >= recorded.position:
                return 0
            if not self._claim(policy, recorded):
                raise HeldElsewhere(f"{policy.name} at {recorded.position}")
        failures = 0
        for _ in range(RETRIES + PARK_AFTER):
            if store.position_of(policy.name) >= recorded.position:
                return 0
            try:
                aggregates = policy.react(self.ctx, recorded)
            except ConcurrencyConflict:
                continue
            except Exception as error:
                failures += 1
                LOG.warning(
                    "%s failed on %s (try %d of %d)",
                    policy.name,
                    _cause(recorded),
                    failures,
                    PARK_AFTER,
                    exc_info=True,
                )
                if failures < PARK_AFTER:
                    continue
                return self._park(policy, recorded, error, failures)
            try:
                store.save(*aggregates, tracking=(policy.name, recorded.position))
            except ConcurrencyConflict:
                continue
            return 1
        raise ConcurrencyConflict(f"{policy.name} could not record its reaction to {recorded}")

    def _claim(self, policy: Policy, recorded: Recorded) -> bool:
        """Take the reaction for this runner before its effect leaves the database; False
        when another runner's claim holds it (or was stored first)."""
        store = self.ctx.store
        at = self.ctx.now()
        lease_until = at + self.claim_lease
        try:
            claim = store.get(claim_id(policy.name, recorded.position), ReactionClaim)
        except AggregateNotFound:
            claim = ReactionClaim.claim(
                policy=policy.name,
                position=recorded.position,
                runner=self.name,
                at=at,
                lease_until=lease_until,
            )
        else:
            if claim.runner == self.name and claim.held(at):
                return True
            gone = claim.held(at) and self.gone(claim.runner)
            if claim.held(at) and not gone:
                return False
            if gone:
                LOG.warning(
                    "%s takes over the claim of %s on %s: that worker is gone",
                    self.name,
                    claim.runner,
                    _cause(recorded),
                )
            claim.take_over(runner=self.name, at=at, lease_until=lease_until, holder_gone=gone)
        try:
            store.save(claim)
        except ConcurrencyConflict:
            return False
        return True

    def _park(self, policy: Policy, recorded: Recorded, error: Exception, tries: int) -> int:
        parked = ParkedReaction.park(
            policy=policy.name,
            position=recorded.position,
            cause=_cause(recorded),
            event_type=type(recorded.event).__qualname__,
            error=f"{type(error).__name__}: {error}",
            tries=tries,
            at=self.ctx.now(),
        )
        try:
            self.ctx.store.save(parked, tracking=(policy.name, recorded.position))
        except ConcurrencyConflict:
            return 0  # another runner parked it, or reacted, first
        LOG.error(
            "%s parked its reaction to %s after %d tries: %s (retry: vigie policies retry %s)",
            policy.name,
            parked.cause,
            tries,
            parked.error,
            parked.id,
        )
        return 1


def split_by_claims(runner: PolicyRunner) -> tuple[PolicyRunner, PolicyRunner]:
    """(the policies whose reactions stay in the database, those that call out first):
    run apart, a workspace taking two minutes to start does not hold back the mails."""
    claiming = [p for p in runner.policies if getattr(p, "claims_before_reacting", False)]
    others = [p for p in runner.policies if p not in claiming]
    return (
        PolicyRunner(runner.ctx, others, name=runner.name, gone=runner.gone),
        PolicyRunner(runner.ctx, claiming, name=runner.name, gone=runner.gone),
    )


class HeldElsewhere(Exception):
    """Another runner holds the claim on this reaction."""


def _cause(recorded: Recorded) -> str:
    return f"{recorded.event.originator_id}/{recorded.event.originator_version}"


def default_policies() -> list[Policy]:
    """Every policy the platform runs, and the one that retries their parked reactions."""
    policies: list[Policy] = [
        OpenReviewOnSubmission(),
        MailDecisions(),
        WebhookDecisions(),
        ScoreDecisions(),
        ProvisionWorkspaces(),
        TearDownWorkspaces(),
    ]
    return [*policies, RetryParkedReactions(policies)]
