"""Claims: what must be unique is guarded by the store, not by a read model (issue 12).

A claim is a stream whose id is derived from the thing that must be unique: an e-mail address
(one candidate account, one staff account), or a centre + candidate + certification (one
enrolment). Two writers who stake the same claim both try to write version 1 of the same
stream: the store accepts one and refuses the other (optimistic concurrency), and the loser,
reading the claim again, uses the winner's account or enrolment.

The id is a digest of the normalised key, so the address never appears in clear in an id or
an event; a claim's events hold only ids. A claim passes to a new holder, as a new generation
of the same stream (the same concurrency check), when its holder is gone for good: the
person was erased (their address may be enrolled again), the enrolment expired, or the
centre chose to re-enrol.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.candidate import check_email
from domain.errors import InvalidArgument, require_aware

# Fixed for ever: changing it would forget every claim already staked.
CLAIMS_NAMESPACE = UUID("7b0f5a52-3c1e-4d8e-9a57-5f3c2b6e9d10")


class ClaimKind(StrEnum):
    """What a claim keeps unique."""

    CANDIDATE_EMAIL = "candidate-email"
    STAFF_EMAIL = "staff-email"
    ENROLMENT = "enrolment"
    # Issue 16: one staff account per identity at an OpenID provider (issuer + subject).
    PROVIDER_IDENTITY = "provider-identity"
    LTI_NONCE = "lti-nonce"  # issue 16: a launch's nonce is used once, across processes
    # Issue 16: a platform's user is one Vigie account, and a Vigie account one user of a
    # platform (a learner who changes their e-mail on the platform gets no one else's account).
    LTI_USER = "lti-user"
    LTI_ACCOUNT = "lti-account"
    # The key every node of a platform signs links with: one per platform, its holder id a
    # fingerprint of the key (an HMAC of a fixed label, never the key), so a node given
    # another key is told at start (an operator's review).
    PLATFORM_KEY = "platform-key"


class Handover(StrEnum):
    """Why a claim passed from its holder to a new one."""

    HOLDER_ERASED = "holder-erased"  # issue 8: the address is free again after erasure
    ENROLMENT_EXPIRED = "enrolment-expired"  # R1: the 90 days are over, a new enrolment
    RE_ENROLLED = "re-enrolled"  # the centre chose to enrol the candidate again
    KEY_REPLACED = "key-replaced"  # the operator gave every node a new secret key


def claim_id(kind: ClaimKind, key: str) -> UUID:
    """The claim's stream id: a digest of the kind and the normalised key, never the key."""
    digest = hashlib.sha256(f"{kind.value}\x00{key}".encode()).hexdigest()
    return uuid5(CLAIMS_NAMESPACE, digest)


def email_claim_id(kind: ClaimKind, email: str) -> UUID:
    """The claim on an e-mail address (trimmed and lower-cased, as accounts store it)."""
    return claim_id(kind, check_email(email))


def provider_identity_claim_id(issuer: str, subject: str) -> UUID:
    """The claim on an identity at an OpenID provider: its issuer and subject, as given (the
    subject is case-sensitive and never reassigned by the provider, OpenID Connect 2)."""
    if not issuer or not subject:
        raise InvalidArgument("subject", "the provider's issuer and subject are required")
    return claim_id(ClaimKind.PROVIDER_IDENTITY, f"{issuer}\x00{subject}")


def platform_key_claim_id() -> UUID:
    """The one claim on the platform's secret key."""
    return claim_id(ClaimKind.PLATFORM_KEY, "platform")


def enrolment_claim_id(centre_id: UUID, candidate_id: UUID, certification_code: str) -> UUID:
    """The claim on one enrolment of a candidate for a certification by a centre."""
    code = certification_code.strip()
    if not code:
        raise InvalidArgument("certification_code", "a certification code is required")
    return claim_id(ClaimKind.ENROLMENT, f"{centre_id}/{candidate_id}/{code}")


class Claim(Aggregate):
    """Who holds a unique thing now (an account id or an enrolment id), and since which
    generation."""

    kind: ClaimKind
    holder_id: UUID
    generation: int

    class Staked(Aggregate.Created):
        kind: ClaimKind
        holder_id: UUID

    class HandedOver(Aggregate.Event):
        previous_holder_id: UUID
        holder_id: UUID
        generation: int
        handover: Handover

    @classmethod
    def stake(cls, *, claim_id: UUID, kind: ClaimKind, holder_id: UUID, at: datetime) -> Claim:
        """The first holder claims the thing; a second stake of the same id is refused by
        the store."""
        require_aware("at", at)
        return cls._create(cls.Staked, id=claim_id, timestamp=at, kind=kind, holder_id=holder_id)

    @event(Staked)
    def __init__(self, kind: ClaimKind, holder_id: UUID) -> None:
        self.kind = kind
        self.holder_id = holder_id
        self.generation = 1

    def hand_over(self, *, holder_id: UUID, handover: Handover, at: datetime) -> None:
        """The claim passes to a new holder (the caller checked the old one is gone)."""
        require_aware("at", at)
        if holder_id == self.holder_id:
            raise InvalidArgument("holder_id", "the claim is already held by this holder")
        self._handed_over(
            previous_holder_id=self.holder_id,
            holder_id=holder_id,
            generation=self.generation + 1,
            handover=handover,
            timestamp=at,
        )

    @event(HandedOver)
    def _handed_over(
        self,
        previous_holder_id: UUID,
        holder_id: UUID,
        generation: int,
        handover: Handover,
        timestamp: datetime,
    ) -> None:
        self.holder_id = holder_id
        self.generation = generation
