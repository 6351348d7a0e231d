"""Issue 16 in Chromium: a member of staff signs in through their organisation's OpenID
provider (node-oidc-provider, started by the test on 127.0.0.1, with its development login
and consent pages) and lands on the desk of the role their group gives; a member in no listed
group is refused with a page in their language. The log-in page with its « Sign in with »
button and the refusal pass axe."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from adapters.oidc import OidcSettings
from domain.claims import Claim, provider_identity_claim_id
from domain.staff import Role, StaffMember
from domain.staff_groups import GroupRoles
from tests.browser.conftest import ARTIFACTS, SECRET, Server, _free_port, serious_violations, serve
from tests.oidc_server import running_provider
from ui.journey import PARIS

ACCOUNTS = {
    "eve": {"email": "eve@example.org", "name": "Eve Examinatrice", "groups": ["vigie-examiners"]},
    "ada": {"email": "ada@example.org", "name": "Ada Auditrice", "groups": ["vigie-auditors"]},
    "sam": {"email": "sam@example.org", "name": "Sam Stagiaire", "groups": ["interns"]},
}


@pytest.fixture
def sso_server(tmp_path: Path) -> Iterator[tuple[Server, str]]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with running_provider(
        redirect_uris=[f"{base}/staff/sso/callback"],
        accounts=ACCOUNTS,
        log=tmp_path / "provider.log",
    ) as provider:
        oidc = OidcSettings(
            issuer=provider.issuer,
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            groups=GroupRoles.parse("vigie-auditors=auditor; vigie-examiners=examiner"),
            name="Test IdP",
        )
        platform = bootstrap(
            Settings(
                database_url=f"sqlite:///{tmp_path}/vigie.sqlite",
                media_root=str(tmp_path / "media"),
                secret_key=SECRET.decode(),
                base_url=base,
                oidc=oidc,
            ),
            clock=ManualClock(datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)),
            ids=SeededIds(16),
        )
        yield from ((server, provider.issuer) for server in serve(platform, port))
        platform.close()


def _at_the_provider(page: Any, login: str) -> None:
    """What the person does on the provider's pages: their login, a password, then consent."""
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("their own password")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()


def test_staff_sign_in_through_the_provider_and_land_on_their_roles_desk(
    page: Any, sso_server: tuple[Server, str]
) -> None:
    server, issuer = sso_server
    page.goto(f"{server.url}/staff/login")
    button = page.get_by_role("button", name="Se connecter avec Test IdP")
    assert button.is_visible()
    assert serious_violations(page) == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sso-staff-login.png"), full_page=True)
    button.click()
    page.wait_for_url(f"{issuer}/**")
    _at_the_provider(page, "eve")
    page.wait_for_url("**/examiner/reviews")
    assert page.get_by_role("button", name="Se déconnecter").is_visible()

    # Recorded: the account, linked to the provider's identity with the group's role.
    claim = server.platform.ctx.store.get(provider_identity_claim_id(issuer, "eve"), Claim)
    staff = server.platform.ctx.store.get(claim.holder_id, StaffMember)
    assert (staff.email, staff.role, staff.identities) == (
        "eve@example.org",
        Role.EXAMINER,
        {issuer: "eve"},
    )
    linked = list(server.platform.ctx.store.history(staff.id))[-1]
    assert isinstance(linked, StaffMember.StaffLinkedToProvider)
    assert linked.group == "vigie-examiners"

    # Their security page says the provider's MFA protects them; no Vigie password to change.
    page.get_by_role("link", name="Sécurité").click()
    page.wait_for_url("**/staff/security")
    assert "Vous vous connectez avec Test IdP" in page.get_by_role("main").inner_text()
    assert page.get_by_label("Mot de passe actuel").count() == 0


def test_a_member_in_no_listed_group_is_refused_in_english(
    page: Any, sso_server: tuple[Server, str]
) -> None:
    server, issuer = sso_server
    page.goto(f"{server.url}/staff/login")
    page.get_by_role("link", name="English").click()
    page.get_by_role("button", name="Sign in with Test IdP").click()
    page.wait_for_url(f"{issuer}/**")
    _at_the_provider(page, "sam")
    page.wait_for_url("**/staff/sso/callback**")
    assert page.get_by_role("heading", level=1).inner_text() == "Sign-in refused"
    assert "in none of the groups that open Vigie" in page.get_by_role("alert").inner_text()
    assert serious_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "sso-refused.png"), full_page=True)
    page.get_by_role("button", name="Try again").click()
    page.wait_for_url("**/staff/login")
