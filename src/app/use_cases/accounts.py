"""Accounts: password resets by e-mailed link (R24) and staff registration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from app.claiming import Unit, in_one_transaction
from app.context import Context, update
from app.links import LinkSigner
from app.passwords import hash_password, verify_password
from app.sessions import candidate_account, staff_account
from app.use_cases.enrolment import CandidateDirectory, find_candidate
from domain.candidate import Account, Candidate
from domain.claims import Claim, ClaimKind, email_claim_id
from domain.errors import RuleBroken
from domain.staff import PasswordSetBy, Role, StaffMember

RESET_LINK_MINUTES = 60


def request_password_reset(
    ctx: Context,
    directory: CandidateDirectory,
    *,
    email: str,
    account: Account,
    language: str | None = None,
) -> None:
    """R24: e-mail a single-use link. An unknown address gets the same answer and no mail,
    so the form cannot tell who is registered. Asked from a page in `language` (R25), the
    candidate now reads that language: the mail comes in it, and so do the next ones."""
    candidate_id = find_candidate(ctx, directory, email)
    if candidate_id is None:
        return
    at = ctx.now()
    token_id = ctx.ids.new_id().hex

    def reset(candidate: Candidate) -> None:
        if language is not None:
            candidate.choose_language(at=at, language=language)
        candidate.request_password_reset(
            at=at,
            account=account,
            token_id=token_id,
            expires_at=at + timedelta(minutes=RESET_LINK_MINUTES),
            purpose="reset",
        )

    update(ctx, candidate_id, Candidate, reset)


def choose_language(ctx: Context, candidate_id: UUID, language: str) -> None:
    """R25: the language the candidate chose on a page becomes their account's, so the mails
    that follow speak it too (nothing is recorded when it is already theirs)."""
    at = ctx.now()
    update(ctx, candidate_id, Candidate, lambda c: c.choose_language(at=at, language=language))


def reset_password(
    ctx: Context,
    links: LinkSigner,
    *,
    signed_token: str,
    password: str,
    account: Account | None = None,
) -> UUID:
    """R24: the link's signature, then the candidate's own single-use and expiry rules. The
    account is the one the link was made for (checked again when given)."""
    value = links.verify("password-reset", signed_token)
    candidate_text, _, token_id = value.partition(":")
    try:
        candidate_id = UUID(candidate_text)
    except ValueError:
        raise RuleBroken("R24", "this reset link is not valid") from None
    password_hash = hash_password(password)
    at = ctx.now()

    def reset(candidate: Candidate) -> None:
        token = candidate.reset_tokens.get(token_id)
        chosen = account or (token.account if token else Account.PROCTORING)
        candidate.reset_password(
            at=at, account=chosen, token_id=token_id, password_hash=password_hash
        )

    update(ctx, candidate_id, Candidate, reset)
    end_sessions(ctx, candidate_account(candidate_id))
    return candidate_id


def reset_link_refusal(ctx: Context, links: LinkSigner, signed_token: str) -> RuleBroken | None:
    """R24: why this link would be refused now, None if it would work. A query: the page
    shows the form only for a link that works (a used one showed it, and said so only
    after a new password was typed; a reviewer's check)."""
    try:
        value = links.verify("password-reset", signed_token)
        candidate_text, _, token_id = value.partition(":")
        candidate = ctx.store.get(UUID(candidate_text), Candidate)
        candidate.check_reset_link(at=ctx.now(), token_id=token_id)
    except RuleBroken as refused:
        return refused
    except (ValueError, LookupError):
        return RuleBroken("R24", "this reset link is not valid")
    return None


def end_sessions(ctx: Context, account: str) -> int:
    """Issue 14: a new password ends every session of the account, on every worker (a
    stolen cookie dies with the old password)."""
    return ctx.sessions.end_account(account) if ctx.sessions is not None else 0


def staff_password_matches(ctx: Context, staff_id: UUID, password: str) -> bool:
    """Whether `password` is the member's current one (security finding F8: setting up a
    second factor asks for it, so a session left open is not enough to bind an app)."""
    return verify_password(password, ctx.store.get(staff_id, StaffMember).password_hash)


def change_staff_password(ctx: Context, staff_id: UUID, *, current: str, new: str) -> bool:
    """A member of staff replaces their password, giving the current one; every session of
    theirs ends (they log in again). False, and nothing recorded, when `current` is wrong."""
    staff = ctx.store.get(staff_id, StaffMember)
    if not verify_password(current, staff.password_hash):
        return False
    password_hash = hash_password(new)
    at = ctx.now()
    update(
        ctx,
        staff_id,
        StaffMember,
        lambda s: s.set_password(at=at, password_hash=password_hash, set_by=PasswordSetBy.MEMBER),
    )
    end_sessions(ctx, staff_account(staff_id))
    return True


def reset_staff_password(
    ctx: Context, staff_id: UUID, *, new: str, by: str, system_account: str
) -> int:
    """An administrator gives a member of staff who lost their password a new one (`vigie
    staff reset-password`): recorded as the administrator's act, naming them
    (StaffPasswordResetByAdministrator: `by` as they named themselves, the machine's
    `system_account`), never as the member's own change; every session of theirs ends. How
    many sessions ended."""
    password_hash = hash_password(new)
    at = ctx.now()
    update(
        ctx,
        staff_id,
        StaffMember,
        lambda s: s.reset_password_by_administrator(
            at=at, password_hash=password_hash, by=by, system_account=system_account
        ),
    )
    return end_sessions(ctx, staff_account(staff_id))


def reset_staff_second_factor(
    ctx: Context, staff_id: UUID, *, by: str, system_account: str
) -> int | None:
    """An administrator removes a member's lost second factor (`vigie staff
    reset-second-factor`): recorded first, naming them (StaffSecondFactorResetByAdministrator),
    then the factor removed and every session of the member ended (how many). None, and
    nothing recorded or changed, when she has none enabled (one being set up is left)."""
    sessions = ctx.sessions
    if sessions is None:
        raise RuntimeError("no session store: second factors are kept there")
    factor = sessions.second_factor(staff_id)
    if factor is None or not factor.confirmed:
        return None
    at = ctx.now()
    # The fact before the removal: removed and then not recorded (a database gone between
    # the two), a second run would find nothing to reset, and the log would never say it.
    update(
        ctx,
        staff_id,
        StaffMember,
        lambda s: s.reset_second_factor_by_administrator(
            at=at, by=by, system_account=system_account
        ),
    )
    sessions.remove_second_factor(staff_id)
    return end_sessions(ctx, staff_account(staff_id))


def record_second_factor_turned_on(ctx: Context, staff_id: UUID) -> None:
    """The member turned her second factor on at her security page (her first code right):
    recorded, so her page's history lists it."""
    at = ctx.now()
    update(ctx, staff_id, StaffMember, lambda member: member.turn_second_factor_on(at=at))


def record_second_factor_turned_off(ctx: Context, staff_id: UUID) -> None:
    """The member turned her second factor off at her security page (a current code right):
    recorded, so her page's history lists it."""
    at = ctx.now()
    update(ctx, staff_id, StaffMember, lambda member: member.turn_second_factor_off(at=at))


class SecurityFactKind(StrEnum):
    """What happened to a member's password or second factor, as the log tells it."""

    OWN_PASSWORD = "own-password"  # she changed it herself
    FIRST_PASSWORD = "first-password"  # given with her account
    PASSWORD_RESET = "password-reset"  # an administrator gave her a new one
    # Stored before the log told them apart: her change or an administrator's reset.
    PASSWORD_UNRECORDED = "password-unrecorded"
    SECOND_FACTOR_RESET = "second-factor-reset"  # an administrator removed it
    SECOND_FACTOR_ON = "second-factor-on"  # she turned it on
    SECOND_FACTOR_OFF = "second-factor-off"  # she turned it off


@dataclass(frozen=True)
class SecurityFact:
    """One fact of a member's account security: what, when, and which administrator (as
    they named themselves, or the machine's account they acted as) for a reset."""

    kind: SecurityFactKind
    at: datetime
    operator: str = ""


def staff_security_history(ctx: Context, staff_id: UUID, *, last: int = 10) -> list[SecurityFact]:
    """The member's password and second-factor facts, newest first (the `last` ones), read
    from her account's log."""
    created: datetime | None = None
    facts: list[SecurityFact] = []
    for fact in ctx.store.history(staff_id):
        if isinstance(fact, StaffMember.StaffRegistered):
            created = fact.timestamp
        elif isinstance(fact, StaffMember.StaffPasswordSet):
            if fact.set_by is PasswordSetBy.MEMBER:
                kind = SecurityFactKind.OWN_PASSWORD
            elif fact.set_by is PasswordSetBy.ACCOUNT_CREATION or fact.timestamp == created:
                # An old fact recorded with the account, in the same instant, is its first.
                kind = SecurityFactKind.FIRST_PASSWORD
            else:
                kind = SecurityFactKind.PASSWORD_UNRECORDED
            facts.append(SecurityFact(kind, fact.timestamp))
        elif isinstance(fact, StaffMember.StaffPasswordResetByAdministrator):
            facts.append(
                SecurityFact(
                    SecurityFactKind.PASSWORD_RESET,
                    fact.timestamp,
                    fact.by or fact.system_account,
                )
            )
        elif isinstance(fact, StaffMember.StaffSecondFactorResetByAdministrator):
            facts.append(
                SecurityFact(
                    SecurityFactKind.SECOND_FACTOR_RESET,
                    fact.timestamp,
                    fact.by or fact.system_account,
                )
            )
        elif isinstance(fact, StaffMember.StaffSecondFactorTurnedOn):
            facts.append(SecurityFact(SecurityFactKind.SECOND_FACTOR_ON, fact.timestamp))
        elif isinstance(fact, StaffMember.StaffSecondFactorTurnedOff):
            facts.append(SecurityFact(SecurityFactKind.SECOND_FACTOR_OFF, fact.timestamp))
    return facts[::-1][:last]


def authenticate(
    ctx: Context, directory: CandidateDirectory, *, email: str, password: str
) -> UUID | None:
    """The candidate whose proctoring password this is (None, without saying which part
    was wrong, otherwise)."""
    try:
        candidate_id = find_candidate(ctx, directory, email)
    except ValueError:
        return None
    if candidate_id is None:
        verify_password(password, None)
        return None
    candidate = ctx.store.get(candidate_id, Candidate)
    if verify_password(password, candidate.proctoring_password_hash):
        return candidate_id
    return None


def register_staff(
    ctx: Context,
    *,
    email: str,
    name: str,
    role: Role,
    language: str = "fr",
    password: str | None = None,
) -> UUID:
    """A new examiner, support agent, centre operator or auditor. One account per e-mail,
    guarded by a claim in the store: registering a claimed address (again, or twice at once)
    returns the account that holds it, unchanged (its password is not replaced)."""
    at = ctx.now()
    claim_id = email_claim_id(ClaimKind.STAFF_EMAIL, email)
    password_hash = hash_password(password) if password else None

    def decide(unit: Unit) -> UUID:
        claim = unit.find(claim_id, Claim)
        if claim is not None:
            return claim.holder_id
        staff = StaffMember.register(
            staff_id=ctx.ids.new_id(),
            email=email,
            name=name,
            role=role,
            language=language,
            at=at,
        )
        if password_hash:
            staff.set_password(
                at=at, password_hash=password_hash, set_by=PasswordSetBy.ACCOUNT_CREATION
            )
        claim = Claim.stake(
            claim_id=claim_id, kind=ClaimKind.STAFF_EMAIL, holder_id=staff.id, at=at
        )
        unit.add(staff, claim)
        return staff.id

    return in_one_transaction(ctx, decide)


def authenticate_staff(
    ctx: Context, staff_by_email: dict[str, UUID], *, email: str, password: str
) -> StaffMember | None:
    """The staff member whose password this is, or None. The address's claim names the
    account (the read model only for accounts older than their claim)."""
    try:
        claim_id = email_claim_id(ClaimKind.STAFF_EMAIL, email)
    except ValueError:
        staff_id = None
    else:
        claim = Unit(ctx.store).find(claim_id, Claim)
        staff_id = claim.holder_id if claim else staff_by_email.get(email.strip().lower())
    if staff_id is None:
        verify_password(password, None)
        return None
    staff = ctx.store.get(staff_id, StaffMember)
    return staff if verify_password(password, staff.password_hash) else None
