"""Staff single sign-on (issue 16): a member of staff signs in through their organisation's
OpenID provider, and the provider's groups give their role (domain.staff_groups).

The web edge and the provider's adapter have checked the exchange (state, PKCE, the ID
token's signature, issuer, audience, expiry and nonce); this use case receives the verified
identity and decides, in one transaction:

- an identity seen before signs in to its account; a group that now maps to another role (or
  centre) changes it, recorded (`StaffRoleChangedByProvider`, naming the group), and ends
  every other session of the member (they carry the old role);
- a new identity whose e-mail already has a local account is linked to it, if the provider
  vouches for the address (`email_verified`): otherwise anyone able to set an address at the
  provider would take over the local account;
- a new identity with a new address gets a new account (no password: it signs in through
  the provider only), linked at once (`StaffLinkedToProvider`: issuer, subject, group, role);
- a member in no listed group, or without an e-mail address, is refused, and nothing is
  recorded.

Uniqueness lives in the store: a claim on the identity (issuer + subject) and the usual claim
on the e-mail address, staked in the same transaction as the account."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from app import tenancy
from app.claiming import Unit, in_one_transaction
from app.context import Context
from app.sessions import staff_account
from domain.claims import Claim, ClaimKind, email_claim_id, provider_identity_claim_id
from domain.errors import DomainError, InvalidArgument
from domain.staff import Role, StaffMember
from domain.staff_groups import GroupGrant, GroupRoles


@dataclass(frozen=True)
class ProviderIdentity:
    """Who the provider says signed in, from a verified ID token (and its userinfo)."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str
    groups: tuple[str, ...]


class Refusal(StrEnum):
    """Why a sign-in through the provider was refused (the page says it in words)."""

    NO_MAPPED_GROUP = "no-mapped-group"
    NO_EMAIL = "no-email"
    EMAIL_NOT_VERIFIED = "email-not-verified"
    OTHER_IDENTITY = "other-identity"
    UNKNOWN_CENTRE = "unknown-centre"


class SignInRefused(DomainError):
    """The provider's member may not work on Vigie (yet); nothing was recorded."""

    def __init__(self, refusal: Refusal, detail: str = "") -> None:
        super().__init__(f"{refusal.value}: {detail}" if detail else refusal.value)
        self.refusal = refusal


@dataclass(frozen=True)
class SignedIn:
    """The account that signed in, its role now, and what this sign-in recorded."""

    staff_id: UUID
    role: Role
    created: bool = False
    linked: bool = False
    role_changed: bool = False


def sign_in(
    ctx: Context, identity: ProviderIdentity, groups: GroupRoles, *, language: str = "fr"
) -> SignedIn:
    """The member's account, created or linked on their first sign-in, its role following
    the provider's groups (see the module's docstring)."""
    grant = groups.grant_for(identity.groups)
    if grant is None:
        raise SignInRefused(Refusal.NO_MAPPED_GROUP, ", ".join(identity.groups))
    if not identity.email:
        raise SignInRefused(Refusal.NO_EMAIL)
    try:
        email_claim = email_claim_id(ClaimKind.STAFF_EMAIL, identity.email)
    except InvalidArgument:
        raise SignInRefused(Refusal.NO_EMAIL, identity.email) from None
    centre_id = _centre(ctx, grant)
    identity_claim = provider_identity_claim_id(identity.issuer, identity.subject)
    at = ctx.now()

    def decide(unit: Unit) -> SignedIn:
        claim = unit.find(identity_claim, Claim)
        if claim is not None:
            staff = ctx.store.get(claim.holder_id, StaffMember)
            changed = staff.take_role_from_provider(
                issuer=identity.issuer,
                group=grant.group,
                role=grant.role,
                centre_id=centre_id,
                at=at,
            )
            if changed:
                unit.add(staff)
            return SignedIn(staff.id, staff.role, role_changed=changed)
        holder = unit.find(email_claim, Claim)
        created = holder is None
        if holder is None:
            staff = StaffMember.register(
                staff_id=ctx.ids.new_id(),
                email=identity.email or "",
                name=identity.name.strip() or (identity.email or "").partition("@")[0],
                role=grant.role,
                language=language,
                at=at,
            )
            unit.add(
                Claim.stake(
                    claim_id=email_claim, kind=ClaimKind.STAFF_EMAIL, holder_id=staff.id, at=at
                )
            )
        elif not identity.email_verified:
            raise SignInRefused(Refusal.EMAIL_NOT_VERIFIED, identity.email or "")
        else:
            staff = ctx.store.get(holder.holder_id, StaffMember)
        try:
            staff.link_to_provider(
                issuer=identity.issuer,
                subject=identity.subject,
                group=grant.group,
                role=grant.role,
                centre_id=centre_id,
                at=at,
            )
        except InvalidArgument:  # the account answers to another subject of this issuer
            raise SignInRefused(Refusal.OTHER_IDENTITY, identity.subject) from None
        unit.add(
            staff,
            Claim.stake(
                claim_id=identity_claim,
                kind=ClaimKind.PROVIDER_IDENTITY,
                holder_id=staff.id,
                at=at,
            ),
        )
        return SignedIn(staff.id, staff.role, created=created, linked=not created)

    signed_in = in_one_transaction(ctx, decide)
    if signed_in.role_changed and ctx.sessions is not None:
        ctx.sessions.end_account(staff_account(signed_in.staff_id))
    return signed_in


def _centre(ctx: Context, grant: GroupGrant) -> UUID | None:
    """The centre a group names by its local account's e-mail (None: the member's own)."""
    if grant.centre_email is None:
        return None
    claim = Unit(ctx.store).find(email_claim_id(ClaimKind.STAFF_EMAIL, grant.centre_email), Claim)
    centre = ctx.store.get(claim.holder_id, StaffMember) if claim else None
    if centre is None or centre.role is not Role.CENTRE:
        raise SignInRefused(Refusal.UNKNOWN_CENTRE, grant.centre_email)
    return tenancy.centre_of(centre)
