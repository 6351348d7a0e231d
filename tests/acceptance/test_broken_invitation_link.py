"""An invitation link cut short or altered (a mis-copied mail) says so when it opens, in the
reader's language, without the form: it showed the form, then said « la date limite de votre
inscription est passée » to a candidate whose enrolment ran three months more, who believed
her exam lost (a reviewer's tour). R1's sentence is for an enrolment really past its last
day."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app.mail_rendering import SupportContact
from app.use_cases import enrolment
from domain.enrollment import Enrollment
from tests.acceptance.web import form_token
from ui.journey import Journey, make_platform
from ui.web.app import create_app

SECRET = b"l" * 32

BROKEN = {
    "fr": "Ce lien est incomplet ou abîmé : ouvrez-le de nouveau depuis votre e-mail d'invitation",
    "en": "This link is incomplete or damaged: open it again from your invitation mail",
}
EXPIRED = {
    "fr": "la date limite de votre inscription est passée",
    "en": "your enrolment's last day has passed",
}


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = make_platform()
    yield platform
    platform.close()


@pytest.fixture
def journey(platform: Platform) -> Journey:
    journey = Journey(platform, email="nora.petit@example.org")
    journey.enrol()
    return journey


def words(reply: Any) -> str:
    return html.unescape(reply.text)


def in_language(platform: Platform, language: str) -> TestClient[Any]:
    client = TestClient(create_app(platform, secret=SECRET, support=SupportContact()))
    client.__enter__()
    client.get(f"/lang/{language}")
    return client


def tampered(platform: Platform, journey: Journey) -> dict[str, str]:
    """The links a candidate may end up with: none, cut short, altered, or well signed for
    no enrolment at all."""
    token = platform.links.sign("create-session", str(journey.enrollment_id))
    return {
        "missing": "",
        "cut short": token[: len(token) // 2],
        "altered": token[:-1] + ("0" if token[-1] != "0" else "1"),
        "no enrolment": platform.links.sign("create-session", "not-an-enrolment"),
    }


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_broken_invitation_link_says_so_when_it_opens_not_that_the_deadline_passed(
    platform: Platform, journey: Journey, language: str
) -> None:
    client = in_language(platform, language)
    try:
        good = platform.links.sign("create-session", str(journey.enrollment_id))
        for how, token in tampered(platform, journey).items():
            opened = client.get(f"/sessions/new?t={token}")
            said = words(opened)
            assert opened.status_code == 200, how
            assert BROKEN[language] in said, how
            assert EXPIRED[language] not in said, how
            assert 'action="/sessions/new"' not in opened.text, how
            # A form opened before (another tab), sent with the broken link: the same words.
            csrf = form_token(client, f"/sessions/new?t={good}")
            sent = client.post("/sessions/new", data={"token": token, "_csrf_token": csrf})
            assert sent.status_code == 400, how
            assert BROKEN[language] in words(sent) and EXPIRED[language] not in words(sent), how
        enrollment = platform.ctx.store.get(journey.enrollment_id, Enrollment)
        assert enrollment.exam_session_id is None
    finally:
        client.__exit__(None, None, None)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_deadline_passed_is_said_only_once_it_has_passed(
    platform: Platform, journey: Journey, language: str
) -> None:
    token = platform.links.sign("create-session", str(journey.enrollment_id))
    client = in_language(platform, language)
    try:
        opened = client.get(f"/sessions/new?t={token}")
        assert 'action="/sessions/new"' in opened.text
        assert EXPIRED[language] not in words(opened) and BROKEN[language] not in words(opened)
        enrollment = platform.ctx.store.get(journey.enrollment_id, Enrollment)
        journey.clock.advance(days=91)
        assert platform.ctx.now().date() > enrollment.last_day
        enrolment.expire_enrollment(platform.ctx, journey.enrollment_id)
        expired = client.get(f"/sessions/new?t={token}")
        assert EXPIRED[language] in words(expired) and BROKEN[language] not in words(expired)
        assert 'action="/sessions/new"' not in expired.text
    finally:
        client.__exit__(None, None, None)
