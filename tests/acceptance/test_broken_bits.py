"""Issue 13's broken bits, through the real app in Litestar's test client: the support page
the footer's « chat » opens (R26), the equipment test (R8), the icon, staff's home link, the
e-mail a refused log-in keeps, and no stray mail from the demo seed."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform, Settings
from adapters.mail.memory import MemoryMailer
from app.mail_rendering import SupportContact
from app.use_cases import appeals, enrolment
from domain.staff import Role
from tests.acceptance.test_appeals import contest, invalidated_and_sent
from tests.acceptance.web import form_token, log_in, platform_on, register_staff
from ui.journey import Journey
from ui.serve import (
    AUDITOR_EMAIL,
    DEMO_EMAIL,
    DEMO_PASSWORD,
    EXAMINER_EMAIL,
    OTHER_CANDIDATE_EMAIL,
    SECOND_EXAMINER_EMAIL,
    seed_demo,
)
from ui.web.app import create_app

SECRET = b"b" * 32
PASSWORD = "broken-pass-1"
STAFF = {
    Role.EXAMINER: ("eve@example.org", "/examiner/reviews"),
    Role.SUPPORT: ("sam@example.org", "/hotline"),
    Role.CENTRE: ("cat@example.org", "/operator"),
    Role.AUDITOR: ("ada@example.org", "/auditor"),
}
SUPPORT = SupportContact(
    email="hotline@centre.example", phone="01 23 45 67 89", chat_url="http://x.example/support"
)


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = platform_on(SECRET, 13)
    journey = Journey(platform, email="camille@example.org")
    journey.enrol()
    journey.set_password(PASSWORD)
    register_staff(platform, PASSWORD, {email: role for role, (email, _) in STAFF.items()})
    platform.projections.catch_up(platform.ctx.store)
    yield platform
    platform.close()


def client_of(platform: Platform, support: SupportContact = SUPPORT) -> TestClient[Any]:
    return TestClient(create_app(platform, secret=SECRET, support=support))


@pytest.mark.parametrize("language", ["fr", "en"])
def test_r26_the_footer_chat_link_opens_a_support_page_with_mail_phone_in_the_page_language(
    platform: Platform, language: str
) -> None:
    with client_of(platform) as client:
        client.get(f"/lang/{language}")
        login = html.unescape(client.get("/login").text)
        # No chat configured: the footer promises none and links our own page.
        label = "Assistance" if language == "fr" else "Support"
        assert f'<a href="/support">{label}</a>' in login
        assert "chat" not in login.split("<footer")[1]
        # The address once, as the sentence's own link (it was said, then linked beside it).
        footer = login.split("<footer")[1]
        assert footer.count("hotline@centre.example") == 2  # the link's target and text
        assert '<a href="mailto:hotline@centre.example">hotline@centre.example</a>' in footer
        page = client.get("/support")
        assert page.status_code == 200
        text = html.unescape(page.text)
        assert ("Par téléphone" if language == "fr" else "By phone") in text
        assert 'href="mailto:hotline@centre.example"' in text
        assert 'href="tel:0123456789"' in text
        assert "Ouvrir le chat" not in text and "Open the chat" not in text


def test_r26_a_configured_chat_is_linked_from_the_footer_and_the_support_page(
    platform: Platform,
) -> None:
    chat = SupportContact(chat_url="https://chat.centre.example/vigie")
    with client_of(platform, chat) as client:
        assert '<a href="https://chat.centre.example/vigie">Chat</a>' in client.get("/login").text
        assert (
            'href="https://chat.centre.example/vigie">Ouvrir le chat' in client.get("/support").text
        )


def test_r26_mails_link_the_platform_support_page_when_no_chat_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VIGIE_SUPPORT_CHAT_URL", raising=False)
    monkeypatch.setenv("VIGIE_BASE_URL", "https://vigie.centre.example/")
    assert Settings.from_env().support.chat_url == "https://vigie.centre.example/support"
    monkeypatch.setenv("VIGIE_SUPPORT_CHAT_URL", "https://chat.example/c")
    assert Settings.from_env().support.chat_url == "https://chat.example/c"


def test_r26_a_mail_without_a_chat_points_to_the_support_page_not_a_chat(
    platform: Platform,
) -> None:
    seed_demo(platform)
    platform.settle()
    mailer = platform.mailer
    assert isinstance(mailer, MemoryMailer)
    [invitation, *_] = mailer.to(DEMO_EMAIL)
    page = SupportContact().chat_url  # the platform was built without a chat of its own
    assert f"- page d'assistance : {page}" in invitation.text
    assert f'voyez la <a href="{page}" style="color: #0b3d91">page d' in invitation.html
    assert "chat" not in invitation.text


def test_r8_the_equipment_test_page_loads_for_a_logged_in_candidate(platform: Platform) -> None:
    with client_of(platform) as client:
        log_in(client, "/login", "camille@example.org", PASSWORD)
        page = client.get("/equipment")
        assert page.status_code == 200
        assert 'id="equipment-mic"' in page.text


def test_every_page_names_an_icon_and_the_icon_is_served_from_the_package(
    platform: Platform,
) -> None:
    with client_of(platform) as client:
        assert '<link rel="icon" href="/favicon.ico">' in client.get("/login").text
        icon = client.get("/favicon.ico")
        assert icon.status_code == 200
        assert icon.headers["content-type"].startswith("image/x-icon")
        assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file's header


@pytest.mark.parametrize("role", list(STAFF))
def test_staff_clicking_vigie_land_on_their_own_desk_not_the_candidate_log_in(
    platform: Platform, role: Role
) -> None:
    email, desk = STAFF[role]
    with client_of(platform) as client:
        log_in(client, "/staff/login", email, PASSWORD)
        home = client.get("/", follow_redirects=False)
        assert home.headers["location"] == desk
        assert client.get(desk).status_code == 200


def test_a_candidate_and_a_visitor_still_go_to_their_exams_or_the_log_in(
    platform: Platform,
) -> None:
    with client_of(platform) as client:
        assert client.get("/", follow_redirects=False).headers["location"] == "/login"
        log_in(client, "/login", "camille@example.org", PASSWORD)
        assert client.get("/", follow_redirects=False).headers["location"] == "/exams"


@pytest.mark.parametrize("path", ["/login", "/staff/login"])
def test_r24_a_refused_log_in_keeps_the_typed_e_mail_and_never_the_password(
    platform: Platform, path: str
) -> None:
    with client_of(platform) as client:
        typed = "Camille.Typo@example.org"
        reply = client.post(
            path,
            data={"email": typed, "password": "wrong-1", "_csrf_token": form_token(client, path)},
        )
        assert reply.status_code == 401
        assert f'value="{typed}"' in reply.text
        assert "wrong-1" not in reply.text
        assert 'value=""' in client.get(path).text  # a fresh form is empty


def test_a_typed_e_mail_is_escaped_when_shown_back(platform: Platform) -> None:
    with client_of(platform) as client:
        typed = '"><script>x</script>'
        reply = client.post(
            "/login",
            data={"email": typed, "password": "x", "_csrf_token": form_token(client, "/login")},
        )
        assert "<script>x</script>" not in reply.text


def test_the_demo_seed_mails_the_demo_candidate_no_reset_they_never_asked_for(
    platform: Platform,
) -> None:
    seed_demo(platform)
    platform.settle()
    mailer = platform.mailer
    assert isinstance(mailer, MemoryMailer)
    subjects = [m.subject for m in mailer.to(DEMO_EMAIL)]
    assert subjects  # the invitation is still sent
    assert not [s for s in subjects if "initialisation" in s or "reset" in s.lower()]


def test_a_demo_seed_stopped_half_way_is_completed_by_the_next_start(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C while `vigie serve` seeds the demo: the next start skipped the whole seed as
    soon as the demo candidate existed, and the examiner, the auditor and her password were
    missing for good, while the start printed their log-ins. Each step is now done once."""
    real = enrolment.enrol_candidate
    enrolled: list[Any] = []

    def stopped_at_the_second(*args: Any, **kwargs: Any) -> Any:
        if enrolled:
            raise KeyboardInterrupt  # after the demo candidate, before the rest
        enrolled.append(real(*args, **kwargs))
        return enrolled[-1]

    monkeypatch.setattr(enrolment, "enrol_candidate", stopped_at_the_second)
    with pytest.raises(KeyboardInterrupt):
        seed_demo(platform)
    monkeypatch.setattr(enrolment, "enrol_candidate", real)
    link = seed_demo(platform)  # the next start
    head = platform.ctx.store.head()
    assert seed_demo(platform) == link  # and the one after: nothing more to record
    assert platform.ctx.store.head() == head
    assert platform.projections.find_by_email(OTHER_CANDIDATE_EMAIL) is not None
    # The exam sent for review, seeded after them (tests/acceptance/test_demo_review.py).
    platform.projections.catch_up(platform.ctx.store)
    assert len(platform.projections.reviews_due(platform.ctx.now().date())) == 1
    with client_of(platform) as client:
        log_in(client, "/login", DEMO_EMAIL, DEMO_PASSWORD)
    for email in (EXAMINER_EMAIL, AUDITOR_EMAIL):
        with client_of(platform) as client:
            log_in(client, "/staff/login", email, DEMO_PASSWORD)


def test_the_demo_has_a_second_examiner_to_decide_an_appeal(platform: Platform) -> None:
    """An appeal is decided by a second examiner, never the first (R19): a demo with one
    examiner let a candidate lodge an appeal nobody could decide."""
    seed_demo(platform)
    platform.projections.catch_up(platform.ctx.store)
    first = platform.projections.staff_by_email[EXAMINER_EMAIL]
    second = platform.projections.staff_by_email[SECOND_EXAMINER_EMAIL]
    journey = Journey(platform)
    invalidated_and_sent(journey, first, forced=True)
    contest(journey)
    assert journey.review_id is not None
    assert appeals.take_appeal(journey.ctx, journey.review_id, second)
    with client_of(platform) as client:
        log_in(client, "/staff/login", SECOND_EXAMINER_EMAIL, DEMO_PASSWORD)
