"""R25: a candidate who chose English on the invitation page gets English mails (a user's
tour: she chose English on « Créer ma session », then her welcome mail came in French)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from adapters.mail.memory import MemoryMailer
from app.mail_rendering import SupportContact
from domain.candidate import Candidate
from tests.acceptance.web import form_token
from ui.journey import Journey, make_platform
from ui.web.app import create_app

SECRET = b"p" * 32


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = make_platform()
    yield platform
    platform.close()


def _mails(platform: Platform, email: str) -> list[Any]:
    mailer = platform.mailer
    assert isinstance(mailer, MemoryMailer)
    return mailer.to(email)


def _invitation_token(platform: Platform, email: str) -> str:
    [invitation] = [m for m in _mails(platform, email) if "/sessions/new?t=" in m.text]
    return invitation.text.split("/sessions/new?t=", 1)[1].split()[0]


@pytest.mark.parametrize(
    ("enrolled_in", "chosen", "welcome_starts"),
    [("fr", "en", "Welcome"), ("en", "fr", "Bienvenue")],
)
def test_the_language_chosen_on_the_invitation_page_is_the_mails_language(
    platform: Platform, enrolled_in: str, chosen: str, welcome_starts: str
) -> None:
    journey = Journey(platform, email="camille@example.org", language=enrolled_in)
    journey.enrol()
    token = _invitation_token(platform, "camille@example.org")
    path = f"/sessions/new?t={token}"
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        client.get(path)
        client.get(f"/lang/{chosen}", headers={"referer": f"http://testserver.local{path}"})
        reply = client.post(
            "/sessions/new", data={"token": token, "_csrf_token": form_token(client, path)}
        )
        assert reply.is_success and f'<html lang="{chosen}"' in reply.text
    platform.settle()
    welcome = _mails(platform, "camille@example.org")[-1]
    assert welcome.subject.startswith(welcome_starts)
    assert journey.candidate_id is not None
    # Her account keeps the choice: the mails after this one (results…) follow it too.
    assert platform.ctx.store.get(journey.candidate_id, Candidate).language == chosen


def test_without_a_choice_the_mails_keep_the_enrolment_language(platform: Platform) -> None:
    journey = Journey(platform, email="camille@example.org", language="en")
    journey.enrol()
    token = _invitation_token(platform, "camille@example.org")
    path = f"/sessions/new?t={token}"
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        client.post("/sessions/new", data={"token": token, "_csrf_token": form_token(client, path)})
    platform.settle()
    assert _mails(platform, "camille@example.org")[-1].subject.startswith("Welcome")
