"""R25 on the staff side: with no language chosen, the staff pages speak the browser's
(`Accept-Language`); an English examiner read the log-in page and her reviews in French until
she clicked « English » (a reviewer's tour). A language chosen on a page still wins, before
and after logging in, and outlives a log-out."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app.mail_rendering import SupportContact
from app.use_cases import accounts
from domain.staff import Role
from tests.acceptance.web import form_token, log_in
from ui.journey import make_platform
from ui.web.app import create_app

SECRET = b"s" * 32
EXAMINER, PASSWORD = "ines.examiner@example.org", "staff-pass-1"
LOG_IN = {"fr": "Espace examinateurs et équipe", "en": "Examiners and staff"}
REVIEWS = {"fr": "Contrôles à faire", "en": "Reviews due"}
BROWSERS = {
    "en-US,en;q=0.9": "en",
    "en-GB": "en",
    "de-DE,de;q=0.9,en;q=0.8,fr;q=0.7": "en",
    "fr-FR,fr;q=0.9,en;q=0.8": "fr",
    "en;q=0.5,fr;q=0.8": "fr",
    "de-DE": "fr",  # neither of ours: the centres' language
    "": "fr",
}


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = make_platform()
    accounts.register_staff(
        platform.ctx, email=EXAMINER, name="Inès Examiner", role=Role.EXAMINER, password=PASSWORD
    )
    yield platform
    platform.close()


def browser(platform: Platform, accept_language: str) -> TestClient[Any]:
    client = TestClient(create_app(platform, secret=SECRET, support=SupportContact()))
    client.__enter__()
    if accept_language:
        client.headers["accept-language"] = accept_language
    return client


def page(client: TestClient[Any], path: str) -> str:
    reply = client.get(path)
    assert reply.status_code == 200, reply.text[-300:]
    return html.unescape(reply.text)


@pytest.mark.parametrize(("accept_language", "language"), list(BROWSERS.items()))
def test_the_staff_pages_speak_the_browsers_language_when_none_was_chosen(
    platform: Platform, accept_language: str, language: str
) -> None:
    client = browser(platform, accept_language)
    try:
        shown = page(client, "/staff/login")
        assert f'<html lang="{language}"' in shown and LOG_IN[language] in shown
        log_in(client, "/staff/login", EXAMINER, PASSWORD)
        shown = page(client, "/examiner/reviews")
        assert f'<html lang="{language}"' in shown and REVIEWS[language] in shown
        # Logged out: the log-in page in the browser's language still.
        client.post("/logout", data={"_csrf_token": form_token(client, "/examiner/reviews")})
        assert LOG_IN[language] in page(client, "/staff/login")
    finally:
        client.__exit__(None, None, None)


@pytest.mark.parametrize(
    ("accept_language", "chosen"), [("en-US,en;q=0.9", "fr"), ("fr-FR,fr;q=0.9", "en")]
)
def test_a_language_chosen_on_a_staff_page_wins_over_the_browsers(
    platform: Platform, accept_language: str, chosen: str
) -> None:
    client = browser(platform, accept_language)
    try:
        client.get(f"/lang/{chosen}")
        assert LOG_IN[chosen] in page(client, "/staff/login")
        log_in(client, "/staff/login", EXAMINER, PASSWORD)
        assert REVIEWS[chosen] in page(client, "/examiner/reviews")
        client.post("/logout", data={"_csrf_token": form_token(client, "/examiner/reviews")})
        assert LOG_IN[chosen] in page(client, "/staff/login")
    finally:
        client.__exit__(None, None, None)


def test_a_candidates_page_keeps_the_centres_language_whatever_the_browser(
    platform: Platform,
) -> None:
    """Candidates read their enrolment's language (her mail's link, her account at log-in):
    before either, the log-in page stays in the centres' French."""
    client = browser(platform, "en-US,en;q=0.9")
    try:
        assert '<html lang="fr"' in page(client, "/login")
    finally:
        client.__exit__(None, None, None)
