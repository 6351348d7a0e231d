"""Issue 14: every response carries the security headers — a CSP without inline script,
no framing, no MIME sniffing, a same-origin referrer — and the camera and microphone are
allowed only on the candidate's proctored pages; HSTS only behind HTTPS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform, Settings, bootstrap
from app.mail_rendering import SupportContact
from tests.acceptance.web import log_in, platform_on
from ui.journey import Journey
from ui.web.app import create_app

SECRET = b"h" * 32
PASSWORD = "headers-pass-1"
PAGES = ["/login", "/staff/login", "/support", "/static/vigie.css", "/favicon.ico", "/nowhere"]


@pytest.fixture
def journey() -> Iterator[Journey]:
    platform = platform_on(SECRET, 14)
    journey = Journey(platform, email="camille@example.org")
    journey.enrol()
    journey.set_password(PASSWORD)
    journey.create_session()
    platform.projections.catch_up(platform.ctx.store)
    yield journey
    platform.close()


def client_of(platform: Platform, *, secure: bool = False) -> TestClient[Any]:
    app = create_app(platform, secret=SECRET, support=SupportContact(), secure=secure)
    return TestClient(
        app, base_url="https://testserver.local" if secure else "http://testserver.local"
    )


@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_the_security_headers(journey: Journey, path: str) -> None:
    with client_of(journey.platform) as client:
        reply = client.get(path)
    csp = reply.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert reply.headers["x-frame-options"] == "DENY"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["referrer-policy"] == "same-origin"
    assert "camera=()" in reply.headers["permissions-policy"]
    assert "strict-transport-security" not in reply.headers


def test_the_camera_is_allowed_only_on_the_candidate_proctored_pages(journey: Journey) -> None:
    with client_of(journey.platform) as client:
        log_in(client, "/login", "camille@example.org", PASSWORD)
        for path in ("/equipment", f"/exams/{journey.session_id}"):
            reply = client.get(path)
            assert reply.status_code == 200, path
            assert "camera=(self)" in reply.headers["permissions-policy"], path
            assert "microphone=(self)" in reply.headers["permissions-policy"], path
        assert "camera=()" in client.get("/support").headers["permissions-policy"]


def test_hsts_is_sent_when_served_over_https(journey: Journey) -> None:
    with client_of(journey.platform, secure=True) as client:
        reply = client.get("/login")
    assert reply.headers["strict-transport-security"].startswith("max-age=31536000")


def test_an_unknown_address_answers_in_the_language_the_browser_chose(journey: Journey) -> None:
    """A 404 is served without a session: it used to be all French for an English reader."""
    with client_of(journey.platform) as client:
        client.get("/lang/en")
        reply = client.get("/no/such/page")
    assert reply.status_code == 404
    assert "This page does not exist" in reply.text
    assert "Cette page" not in reply.text and "Not Found" not in reply.text


def test_a_staff_page_without_a_log_in_leads_to_the_staff_log_in() -> None:
    """The auditor's and the examiners' pages send a visitor to the staff log-in page, the
    candidates' pages to theirs."""
    platform = bootstrap(Settings(database_url="memory:", media_root=None, secret_key="s" * 32))
    app = create_app(platform, secret=b"s" * 32, support=SupportContact())
    with TestClient(app) as client:
        for path, login in (
            ("/auditor", "/staff/login?next=/auditor"),
            ("/examiner/reviews", "/staff/login?next=/examiner/reviews"),
            ("/operator", "/staff/login?next=/operator"),
            ("/hotline", "/staff/login?next=/hotline"),
            ("/exams", "/login?next=/exams"),
        ):
            reply = client.get(path, follow_redirects=False)
            assert reply.headers["location"] == login, path
    platform.close()


@pytest.mark.parametrize(
    ("language", "heading"), [("fr", "Page introuvable"), ("en", "Page not found")]
)
def test_an_unknown_address_is_headed_page_not_found(
    journey: Journey, language: str, heading: str
) -> None:
    """Its heading read « Cette action n'a pas pu être faite » over an address typed wrong
    (a user's tour): it says what happened."""
    with client_of(journey.platform) as client:
        client.get(f"/lang/{language}")
        reply = client.get("/no/such/page")
    assert reply.status_code == 404
    assert f"<h1>{heading}</h1>" in reply.text
