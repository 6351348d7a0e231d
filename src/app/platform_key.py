"""One secret key per platform (an operator's review): the first node to start records the
fingerprint of its key in the store, as a claim (`domain.claims`), and every later node
compares its own; a node given another key would sign links the others refuse (« this link
is not valid » for one click in N behind a load balancer) and would refuse theirs. The
fingerprint is computed by the caller from the key (an HMAC of a fixed label): the store never
holds the key, nor anything that opens what it signs."""

from __future__ import annotations

from uuid import UUID

from app.claiming import Unit, in_one_transaction
from app.context import Context
from domain.claims import Claim, ClaimKind, Handover, platform_key_claim_id


def recorded_key(ctx: Context, fingerprint: UUID) -> UUID:
    """The fingerprint the platform's nodes share: the one recorded, or `fingerprint` when
    none was (recorded now; of two nodes starting together, the store keeps one)."""

    def decide(unit: Unit) -> UUID:
        claim = unit.find(platform_key_claim_id(), Claim)
        if claim is not None:
            return claim.holder_id
        unit.add(_stake(ctx, fingerprint))
        return fingerprint

    return in_one_transaction(ctx, decide)


def _stake(ctx: Context, fingerprint: UUID) -> Claim:
    return Claim.stake(
        claim_id=platform_key_claim_id(),
        kind=ClaimKind.PLATFORM_KEY,
        holder_id=fingerprint,
        at=ctx.now(),
    )


def adopt_key(ctx: Context, fingerprint: UUID) -> bool:
    """The operator changed the key on every node on purpose: `fingerprint` becomes the
    platform's. False when it already was."""

    def decide(unit: Unit) -> bool:
        claim = unit.find(platform_key_claim_id(), Claim)
        if claim is None:
            unit.add(_stake(ctx, fingerprint))
            return True
        if claim.holder_id == fingerprint:
            return False
        claim.hand_over(holder_id=fingerprint, handover=Handover.KEY_REPLACED, at=ctx.now())
        unit.add(claim)
        return True

    return in_one_transaction(ctx, decide)
