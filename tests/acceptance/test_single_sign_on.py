"""Issue 16, staff single sign-on, at the use-case level: a member's first sign-in through
the provider creates or links their account as events (who, which issuer and subject, which
role from which group), a later sign-in with another group changes the role (recorded), and a
member in no listed group is refused with nothing recorded. The exchange itself (state,
nonce, PKCE, the JWKS) is tested against a real provider in test_single_sign_on_exchange.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.bootstrap import Platform, oidc_env, oidc_settings
from app import tenancy
from app.ports.sessions import StoredSession
from app.sessions import staff_account
from app.use_cases import accounts
from app.use_cases.single_sign_on import ProviderIdentity, Refusal, SignInRefused, sign_in
from domain.claims import Claim, ClaimKind, email_claim_id, provider_identity_claim_id
from domain.staff import Role, StaffMember
from domain.staff_groups import GroupRoles

ISSUER = "https://id.example.org/realms/centres"
GROUPS = GroupRoles.parse(
    "vigie-auditors=auditor; vigie-examiners=examiner; "
    "centre-lyon=centre:centre-lyon@example.org; vigie-support=support"
)


def _identity(subject: str = "u-1", *groups: str, **changes: object) -> ProviderIdentity:
    values: dict[str, object] = {
        "issuer": ISSUER,
        "subject": subject,
        "email": "eve@example.org",
        "email_verified": True,
        "name": "Eve Examinatrice",
        "groups": groups,
    }
    values.update(changes)
    return ProviderIdentity(**values)  # type: ignore[arg-type]


def _events(platform: Platform, staff_id: object) -> list[object]:
    return list(platform.ctx.store.history(staff_id))  # type: ignore[arg-type]


def test_a_first_sign_in_creates_the_account_linked_to_the_identity_with_the_groups_role(
    platform: Platform,
) -> None:
    signed = sign_in(platform.ctx, _identity("u-1", "staff", "vigie-examiners"), GROUPS)
    assert (signed.role, signed.created, signed.linked) == (Role.EXAMINER, True, False)
    history = _events(platform, signed.staff_id)
    assert [type(e).__name__ for e in history] == ["StaffRegistered", "StaffLinkedToProvider"]
    linked = history[1]
    assert isinstance(linked, StaffMember.StaffLinkedToProvider)
    assert (linked.issuer, linked.subject, linked.group, linked.role) == (
        ISSUER,
        "u-1",
        "vigie-examiners",
        Role.EXAMINER,
    )
    staff = platform.ctx.store.get(signed.staff_id, StaffMember)
    assert staff.password_hash is None  # it signs in through the provider only
    # The identity and the address are both claimed in the store.
    for claim_id in (
        provider_identity_claim_id(ISSUER, "u-1"),
        email_claim_id(ClaimKind.STAFF_EMAIL, "eve@example.org"),
    ):
        claim = platform.ctx.store.get(claim_id, Claim)
        assert claim.holder_id == signed.staff_id


def test_signing_in_again_with_the_same_group_records_nothing(platform: Platform) -> None:
    first = sign_in(platform.ctx, _identity("u-1", "vigie-examiners"), GROUPS)
    again = sign_in(platform.ctx, _identity("u-1", "vigie-examiners"), GROUPS)
    assert again.staff_id == first.staff_id and not (again.created or again.role_changed)
    assert len(_events(platform, first.staff_id)) == 2


def test_a_later_sign_in_with_another_group_changes_the_role_and_records_which_group(
    platform: Platform,
) -> None:
    first = sign_in(platform.ctx, _identity("u-1", "vigie-examiners"), GROUPS)
    later = sign_in(platform.ctx, _identity("u-1", "vigie-support"), GROUPS)
    assert (later.staff_id, later.role, later.role_changed) == (first.staff_id, Role.SUPPORT, True)
    changed = _events(platform, first.staff_id)[-1]
    assert isinstance(changed, StaffMember.StaffRoleChangedByProvider)
    assert (changed.group, changed.role, changed.previous_role) == (
        "vigie-support",
        Role.SUPPORT,
        Role.EXAMINER,
    )


def test_a_role_change_ends_the_members_other_sessions_which_carry_the_old_role(
    platform: Platform,
) -> None:
    first = sign_in(platform.ctx, _identity("u-1", "vigie-examiners"), GROUPS)
    now = platform.ctx.now()
    session = StoredSession(
        {"staff": str(first.staff_id), "role": "examiner"},
        staff_account(first.staff_id),
        now + timedelta(hours=8),
        now + timedelta(minutes=30),
    )
    platform.sessions.put("open-tab", session)
    sign_in(platform.ctx, _identity("u-1", "vigie-examiners"), GROUPS)
    assert platform.sessions.get("open-tab", now) is not None  # the same role: kept
    sign_in(platform.ctx, _identity("u-1", "vigie-support"), GROUPS)
    assert platform.sessions.get("open-tab", now) is None


def test_the_first_listed_group_decides_for_a_member_of_several(platform: Platform) -> None:
    signed = sign_in(platform.ctx, _identity("u-1", "vigie-support", "vigie-auditors"), GROUPS)
    assert signed.role is Role.AUDITOR


def test_a_member_in_no_listed_group_is_refused_and_nothing_is_recorded(
    platform: Platform,
) -> None:
    with pytest.raises(SignInRefused) as refused:
        sign_in(platform.ctx, _identity("u-1", "everyone", "interns"), GROUPS)
    assert refused.value.refusal is Refusal.NO_MAPPED_GROUP
    assert list(platform.ctx.store.history(provider_identity_claim_id(ISSUER, "u-1"))) == []
    platform.projections.catch_up(platform.ctx.store)
    assert "eve@example.org" not in platform.projections.staff_by_email


def test_a_local_account_is_linked_when_the_provider_verified_the_address(
    platform: Platform,
) -> None:
    local = accounts.register_staff(
        platform.ctx, email="eve@example.org", name="Eve", role=Role.EXAMINER, password="pw-123456"
    )
    signed = sign_in(platform.ctx, _identity("u-1", "vigie-auditors"), GROUPS)
    assert (signed.staff_id, signed.linked, signed.role) == (local, True, Role.AUDITOR)
    staff = platform.ctx.store.get(local, StaffMember)
    assert staff.identities == {ISSUER: "u-1"} and staff.password_hash  # the password stays


def test_an_unverified_address_of_a_local_account_is_refused(platform: Platform) -> None:
    accounts.register_staff(
        platform.ctx, email="eve@example.org", name="Eve", role=Role.EXAMINER, password="pw-123456"
    )
    with pytest.raises(SignInRefused) as refused:
        sign_in(platform.ctx, _identity("u-1", "vigie-examiners", email_verified=False), GROUPS)
    assert refused.value.refusal is Refusal.EMAIL_NOT_VERIFIED


def test_another_identity_with_the_address_of_a_linked_account_is_refused(
    platform: Platform,
) -> None:
    sign_in(platform.ctx, _identity("u-1", "vigie-examiners"), GROUPS)
    with pytest.raises(SignInRefused) as refused:
        sign_in(platform.ctx, _identity("u-2", "vigie-examiners"), GROUPS)
    assert refused.value.refusal is Refusal.OTHER_IDENTITY


def test_a_member_without_an_address_is_refused(platform: Platform) -> None:
    with pytest.raises(SignInRefused) as refused:
        sign_in(platform.ctx, _identity("u-1", "vigie-examiners", email=None), GROUPS)
    assert refused.value.refusal is Refusal.NO_EMAIL


def test_a_centre_group_makes_its_members_work_for_the_named_centre(platform: Platform) -> None:
    centre = accounts.register_staff(
        platform.ctx, email="centre-lyon@example.org", name="Lyon", role=Role.CENTRE
    )
    signed = sign_in(
        platform.ctx, _identity("u-9", "centre-lyon", email="paul@lyon.example"), GROUPS
    )
    assert signed.role is Role.CENTRE
    member = tenancy.actor(platform.ctx.store, signed.staff_id)
    assert member.centre_id == tenancy.centre_of_operator(centre)


def test_a_centre_group_naming_no_centre_account_is_refused(platform: Platform) -> None:
    with pytest.raises(SignInRefused) as refused:
        sign_in(platform.ctx, _identity("u-9", "centre-lyon"), GROUPS)
    assert refused.value.refusal is Refusal.UNKNOWN_CENTRE


def test_the_settings_name_what_is_wrong_and_travel_to_other_processes() -> None:
    env = {
        "VIGIE_OIDC_ISSUER": "https://id.example.org/realms/centres",
        "VIGIE_OIDC_CLIENT_ID": "vigie",
        "VIGIE_OIDC_CLIENT_SECRET": "secret",
        "VIGIE_OIDC_GROUPS": "vigie-examiners=examiner\ncentre-lyon=centre:centre@lyon.example",
        "VIGIE_OIDC_NAME": "Keycloak",
    }
    settings = oidc_settings(env)
    assert settings is not None and settings.display_name == "Keycloak"
    assert oidc_settings(oidc_env(settings)) == settings
    assert oidc_settings({}) is None
    for key, value, named in [
        ("VIGIE_OIDC_GROUPS", "vigie-examiners=boss", "VIGIE_OIDC_GROUPS"),
        ("VIGIE_OIDC_GROUPS", "", "VIGIE_OIDC_GROUPS"),
        ("VIGIE_OIDC_ISSUER", "http://id.example.org", "VIGIE_OIDC_ISSUER"),
        ("VIGIE_OIDC_CLIENT_SECRET", "", "VIGIE_OIDC_CLIENT_SECRET"),
    ]:
        with pytest.raises(ValueError, match=named):
            oidc_settings({**env, key: value})
