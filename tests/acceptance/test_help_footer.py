"""R26: the candidates' help (« Besoin d'aide ? Écrivez à hotline-certifications@… (en cas
d'urgence) ») on every page a candidate sees, and on no staff page. A user's tour found it
under the examiner's, the centre's, the auditor's pages and the hotline's own page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app.mail_rendering import SupportContact
from domain.staff import Role
from tests.acceptance.web import candidate, log_in, platform_on, register_staff
from ui.web.app import create_app

SECRET = b"f" * 32
PASSWORD = "footer-pass-1"
SUPPORT = SupportContact(email="hotline@centre.example", phone="01 23 45 67 89")
STAFF = {
    Role.EXAMINER: ("eve@example.org", ["/examiner/reviews", "/staff/security"]),
    Role.SUPPORT: ("sam@example.org", ["/hotline", "/hotline?q=camille"]),
    Role.CENTRE: ("cat@example.org", ["/operator", "/operator/reviews"]),
    Role.AUDITOR: ("ada@example.org", ["/auditor"]),
}


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = platform_on(SECRET, 26)
    candidate(platform, "camille@example.org", password=PASSWORD)
    register_staff(platform, PASSWORD, {email: role for role, (email, _) in STAFF.items()})
    platform.projections.catch_up(platform.ctx.store)
    yield platform
    platform.close()


def client_of(platform: Platform) -> TestClient[Any]:
    return TestClient(create_app(platform, secret=SECRET, support=SUPPORT))


def has_the_candidates_help(page: str) -> bool:
    return 'class="site-footer"' in page or "hotline@centre.example" in page


@pytest.mark.parametrize("role", list(STAFF), ids=[r.value for r in STAFF])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_no_staff_page_shows_the_candidates_help_r26(
    platform: Platform, role: Role, language: str
) -> None:
    email, pages = STAFF[role]
    with client_of(platform) as client:
        client.get(f"/lang/{language}")
        assert not has_the_candidates_help(client.get("/staff/login").text)
        log_in(client, "/staff/login", email, PASSWORD)
        for path in pages:
            shown = client.get(path)
            assert shown.status_code == 200, path
            assert "<main" in shown.text, path
            assert not has_the_candidates_help(shown.text), path


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_page_a_candidate_sees_keeps_it_r26(platform: Platform, language: str) -> None:
    with client_of(platform) as client:
        client.get(f"/lang/{language}")
        for path in ("/login", "/password/forgot", "/support", "/no-such-page"):
            assert has_the_candidates_help(client.get(path).text), path
        log_in(client, "/login", "camille@example.org", PASSWORD)
        for path in ("/terms", "/exams", "/equipment", "/support"):
            shown = client.get(path)
            assert shown.status_code == 200, path
            assert 'class="site-footer"' in shown.text, path
            footer = shown.text.split('class="site-footer"')[1]
            assert footer.count("hotline@centre.example") == 2, path  # the link and its text
