"""A policy's reaction that kept failing, parked so that the policy goes on (issue 12).

A policy follows the log in order; one event it cannot react to (an erased candidate, a bug)
must not stop every reaction after it. After a few failed tries the reaction is parked: this
stream, keyed by policy and position, is saved with the policy's position, so the policy
moves on and the failure stays visible to operators until one of them asks for a retry. The
retry is itself a fact; a worker carries it out and records the outcome here.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidArgument, require_aware

PARKED_NAMESPACE = UUID("9d7a3c52-5e1b-4f0a-8a47-2b6f1d9e3c70")
MAX_ERROR_CHARS = 2000


class ParkedStatus(StrEnum):
    """Where a parked reaction stands."""

    PARKED = "parked"
    RETRY_REQUESTED = "retry_requested"
    RESOLVED = "resolved"


def parked_id(policy: str, position: int) -> UUID:
    """One stream per policy and log position: parking twice is a conflict, not a copy."""
    return uuid5(PARKED_NAMESPACE, f"{policy}:{position}")


class ParkedReaction(Aggregate):
    """One policy's reaction to one stored event, which failed and waits for an operator."""

    policy: str
    position: int
    cause: str
    event_type: str
    error: str
    tries: int
    status: ParkedStatus
    retried_by: str

    class ReactionParked(Aggregate.Created):
        policy: str
        position: int
        cause: str
        event_type: str
        error: str
        tries: int

    class RetryRequested(Aggregate.Event):
        requested_by: str

    class RetryFailed(Aggregate.Event):
        error: str

    class ReactionResolved(Aggregate.Event):
        pass

    @classmethod
    def park(
        cls,
        *,
        policy: str,
        position: int,
        cause: str,
        event_type: str,
        error: str,
        tries: int,
        at: datetime,
    ) -> ParkedReaction:
        """Record that `policy` failed `tries` times to react to the event at `position`
        (`cause` names it as evidence does: `<stream id>/<version>`)."""
        require_aware("at", at)
        if not policy:
            raise InvalidArgument("policy", "a parked reaction names its policy")
        if position < 1:
            raise InvalidArgument("position", "a log position starts at 1")
        if tries < 1:
            raise InvalidArgument("tries", "a reaction is parked after at least one try")
        return cls._create(
            cls.ReactionParked,
            id=parked_id(policy, position),
            timestamp=at,
            policy=policy,
            position=position,
            cause=cause,
            event_type=event_type,
            error=error[:MAX_ERROR_CHARS],
            tries=tries,
        )

    @event(ReactionParked)
    def __init__(
        self,
        policy: str,
        position: int,
        cause: str,
        event_type: str,
        error: str,
        tries: int,
        timestamp: datetime,
    ) -> None:
        self.policy = policy
        self.position = position
        self.cause = cause
        self.event_type = event_type
        self.error = error
        self.tries = tries
        self.status = ParkedStatus.PARKED
        self.retried_by = ""

    def request_retry(self, *, by: str, at: datetime) -> None:
        """An operator asks for the reaction to be tried again (after fixing its cause)."""
        require_aware("at", at)
        if not by:
            raise InvalidArgument("by", "say who asks for the retry")
        if self.status is not ParkedStatus.PARKED:
            raise InvalidArgument("status", f"only a parked reaction is retried, not {self.status}")
        self._retry_requested(requested_by=by, timestamp=at)

    def retry_failed(self, *, error: str, at: datetime) -> None:
        """The retry failed too: parked again, with the new error."""
        require_aware("at", at)
        if self.status is ParkedStatus.RETRY_REQUESTED:
            self._retry_failed(error=error[:MAX_ERROR_CHARS], timestamp=at)

    def resolve(self, *, at: datetime) -> None:
        """The retry's reaction was saved (in the same transaction as this event)."""
        require_aware("at", at)
        if self.status is ParkedStatus.RETRY_REQUESTED:
            self._resolved(timestamp=at)

    @event(RetryRequested)
    def _retry_requested(self, requested_by: str, timestamp: datetime) -> None:
        self.status = ParkedStatus.RETRY_REQUESTED
        self.retried_by = requested_by

    @event(RetryFailed)
    def _retry_failed(self, error: str, timestamp: datetime) -> None:
        self.status = ParkedStatus.PARKED
        self.error = error
        self.tries += 1

    @event(ReactionResolved)
    def _resolved(self, timestamp: datetime) -> None:
        self.status = ParkedStatus.RESOLVED
