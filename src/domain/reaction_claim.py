"""A claim on one policy's reaction to one stored event, taken before an effect that leaves
the database and cannot be rolled back with it (provisioning a workspace: a VM, up to 120 s).

Several workers follow the log; without a claim two of them could both call the launcher for
the same request, and only one of the results would be recorded. The claim is saved with
optimistic concurrency first: only the worker whose claim was stored reacts. A worker that
dies holding a claim leaves it to the next one once its lease has ended (issue 12), or as soon
as the others know it is gone: a worker whose presence lease ran out (domain.lease) is not
coming back, and waiting out the claim's five minutes would hold every candidate's workspace.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidArgument, require_aware
from domain.rules import utc

CLAIM_NAMESPACE = UUID("3f4e9b0c-7a61-4c2d-9e85-1d0b6a7c5e24")


def claim_id(policy: str, position: int) -> UUID:
    """One claim stream per policy and log position."""
    return uuid5(CLAIM_NAMESPACE, f"{policy}:{position}")


class ReactionClaim(Aggregate):
    """Who is carrying out a reaction, until when."""

    policy: str
    position: int
    runner: str
    lease_until: datetime

    class ReactionClaimed(Aggregate.Created):
        policy: str
        position: int
        runner: str
        lease_until: datetime

    class ClaimTakenOver(Aggregate.Event):
        runner: str
        lease_until: datetime

    @classmethod
    def claim(
        cls, *, policy: str, position: int, runner: str, at: datetime, lease_until: datetime
    ) -> ReactionClaim:
        """The first claim on the reaction (a second one is a conflict in the store)."""
        _check(runner, at, lease_until)
        if position < 1:
            raise InvalidArgument("position", "a log position starts at 1")
        return cls._create(
            cls.ReactionClaimed,
            id=claim_id(policy, position),
            timestamp=at,
            policy=policy,
            position=position,
            runner=runner,
            lease_until=lease_until,
        )

    @event(ReactionClaimed)
    def __init__(
        self, policy: str, position: int, runner: str, lease_until: datetime, timestamp: datetime
    ) -> None:
        self.policy = policy
        self.position = position
        self.runner = runner
        self.lease_until = lease_until

    def held(self, at: datetime) -> bool:
        """Its lease has not ended: the runner holding it may still be at work."""
        return utc(at) < utc(self.lease_until)

    def take_over(
        self, *, runner: str, at: datetime, lease_until: datetime, holder_gone: bool = False
    ) -> None:
        """Another runner takes a claim whose lease ended (its runner died or hung), or whose
        runner is known gone (`holder_gone`: a worker that stopped renewing its presence)."""
        _check(runner, at, lease_until)
        if self.held(at) and not holder_gone:
            raise InvalidArgument("runner", f"the claim is held by {self.runner} until its lease")
        self._taken_over(runner=runner, lease_until=lease_until, timestamp=at)

    @event(ClaimTakenOver)
    def _taken_over(self, runner: str, lease_until: datetime, timestamp: datetime) -> None:
        self.runner = runner
        self.lease_until = lease_until


def _check(runner: str, at: datetime, lease_until: datetime) -> None:
    require_aware("at", at)
    require_aware("lease_until", lease_until)
    if not runner:
        raise InvalidArgument("runner", "a claim names its runner")
    if utc(lease_until) <= utc(at):
        raise InvalidArgument("lease_until", "a lease ends after it starts")
