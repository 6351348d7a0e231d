"""The mail journeys read back from a real SMTP server on 127.0.0.1 (aiosmtpd capture)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage

import pytest

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from adapters.mail.capture import SmtpCapture
from adapters.mail.smtp import SmtpMailer
from app.use_cases import accounts, hotline
from domain import candidate as candidate_module
from domain.candidate import Account
from domain.errors import RuleBroken
from domain.outbound_mail import MailStatus
from ui.journey import PARIS, Journey, hotline_account


@pytest.fixture
def capture() -> Iterator[SmtpCapture]:
    with SmtpCapture(refuse_domains={"invalid.example"}) as server:
        yield server


@pytest.fixture
def platform(capture: SmtpCapture) -> Iterator[Platform]:
    mailer = SmtpMailer(capture.host, capture.port, timeout=2.0, local_hostname="vigie.test")
    platform = bootstrap(
        Settings(database_url="memory:", media_root=None, secret_key="s" * 32),
        clock=ManualClock(datetime(2025, 1, 27, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(5),
        mailer=mailer,
    )
    yield platform
    platform.close()


def to(capture: SmtpCapture, address: str) -> list[EmailMessage]:
    return [m for m in capture.messages() if m["To"] == address]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def clock(platform: Platform) -> ManualClock:
    assert isinstance(platform.ctx.clock, ManualClock)
    return platform.ctx.clock


def test_the_invitation_arrives_with_the_last_day_in_both_parts(
    platform: Platform, capture: SmtpCapture
) -> None:
    journey = Journey(platform)
    journey.enrol()
    [invitation] = to(capture, journey.email)
    assert invitation["Subject"] == "Certification - Créer votre session d'examen"
    assert "au-delà du 27/04/2025 inclus" in text_of(invitation)
    html = invitation.get_body(preferencelist=("html",))
    assert html is not None and "27/04/2025 inclus" in str(html.get_content())
    assert invitation["Message-ID"].startswith("<")


def test_repeated_session_creation_sends_one_welcome_over_smtp(
    platform: Platform, capture: SmtpCapture
) -> None:
    journey = Journey(platform)
    journey.enrol()
    for _ in range(3):
        journey.create_session()
    subjects = [m["Subject"] for m in to(capture, journey.email)]
    assert subjects.count("Bienvenue sur votre espace de passage de certification") == 1


def test_a_reset_link_read_from_the_mail_works_once_then_expires(
    platform: Platform, capture: SmtpCapture
) -> None:
    journey = Journey(platform)
    journey.enrol()
    for account in (Account.PORTAL, Account.PROCTORING):
        accounts.request_password_reset(
            platform.ctx, platform.projections, email=journey.email, account=account
        )
    platform.settle()
    resets = [m for m in to(capture, journey.email) if "Réinitialisation" in m["Subject"]]
    links = [
        text_of(m).split("/password/reset?t=")[1].split()[0].replace("%3A", ":") for m in resets
    ]
    portal_link, proctoring_link = links
    accounts.reset_password(
        platform.ctx,
        platform.links,
        signed_token=portal_link,
        account=Account.PORTAL,
        password="p4ssword!",
    )
    with pytest.raises(RuleBroken, match="already used"):
        accounts.reset_password(
            platform.ctx,
            platform.links,
            signed_token=portal_link,
            account=Account.PORTAL,
            password="p4ssword?",
        )
    clock(platform).advance(hours=2)
    with pytest.raises(RuleBroken, match="expired"):
        accounts.reset_password(
            platform.ctx,
            platform.links,
            signed_token=proctoring_link,
            account=Account.PROCTORING,
            password="p4ssword!",
        )


def test_a_renewal_arrives_once_with_its_new_last_day_in_both_parts(
    platform: Platform, capture: SmtpCapture
) -> None:
    """R3: the hotline's renewal reaches the candidate's mailbox, once, however many worker
    passes follow; the hotline's reason stays with staff."""
    journey = Journey(platform)
    journey.enrol()
    journey.create_session()
    assert journey.enrollment_id is not None
    agent = hotline_account(platform.ctx)
    hotline.renew(platform.ctx, journey.enrollment_id, by=agent, reason="ticket 88: flu")
    for _ in range(3):
        platform.settle()
    [renewal] = [
        m
        for m in to(capture, journey.email)
        if m["Subject"] == "Votre session d'examen est renouvelée"
    ]
    text = text_of(renewal)
    assert "jusqu'au 26/02/2025 inclus" in text and "/login" in text
    assert "hotline-certifications@vigie.example" in text  # R26
    assert "ticket 88" not in text
    html = renewal.get_body(preferencelist=("html",))
    assert html is not None and "26/02/2025 inclus" in str(html.get_content())


def test_reminders_arrive_once_on_their_day(platform: Platform, capture: SmtpCapture) -> None:
    journey = Journey(platform)
    journey.enrol()
    for day in (12, 13, 13, 14, 23, 24, 24, 25):
        clock(platform).set(datetime(2025, 4, day, 10, 0, tzinfo=PARIS))
        platform.tick()
    reminders = [
        m["Subject"] for m in to(capture, journey.email) if m["Subject"].startswith("Rappel")
    ]
    assert reminders == [
        "Rappel : plus que 14 jours pour créer votre session d'examen",
        "Rappel : plus que 3 jours pour créer votre session d'examen",
    ]


def test_an_smtp_outage_then_recovery_delivers_everything_once(
    platform: Platform, capture: SmtpCapture
) -> None:
    capture.stop()
    journeys = [Journey(platform, email=f"candidate{i}@example.org") for i in range(3)]
    for journey in journeys:
        journey.enrol()
        journey.create_session()
    for _ in range(4):
        clock(platform).advance(minutes=3)
        platform.settle()
    assert capture.messages() == []
    assert all(m.status is MailStatus.PENDING for m in platform.projections.mails.values())
    capture.start()
    for _ in range(3):
        clock(platform).advance(minutes=30)
        platform.settle()
    delivered = capture.messages()
    ids = [m["Message-ID"] for m in delivered]
    assert len(ids) == len(set(ids)) == 6  # an invitation and a welcome each, once
    assert all(m.status is MailStatus.SENT for m in platform.projections.mails.values())


def test_a_refused_address_is_reported_and_never_retried(
    platform: Platform, capture: SmtpCapture
) -> None:
    journey = Journey(platform, email="camille@invalid.example")
    journey.enrol()
    for _ in range(4):
        clock(platform).advance(hours=2)
        platform.settle()
    [failed] = platform.projections.failed_mails()
    assert failed.attempts == 1 and "550" in failed.last_error
    assert to(capture, journey.email) == []


def test_an_address_recorded_before_the_rule_is_given_up_in_words_and_the_next_mail_arrives(
    platform: Platform, capture: SmtpCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F5 (a tester's tour): an address with a NUL, enrolled before the rule refused it, was
    refused by aiosmtplib between MAIL FROM and RCPT TO; the transaction stayed open and the
    next mail of the platform, another person's, got « 503 nested MAIL command » and was
    given up. A store may still hold such an address: its mail is given up saying why, and
    the next one arrives."""

    def as_before(field: str, text: str) -> None:
        return None  # the rule as it was: a NUL passed

    with monkeypatch.context() as before:
        before.setattr(candidate_module, "email_problem", as_before, raising=False)
        poisoned = Journey(platform, email="poison\x00@example.org")
        poisoned.enrol()
    victim = Journey(platform, email="victim@example.org")
    victim.enrol()
    [invitation] = to(capture, "victim@example.org")
    assert invitation["Subject"] == "Certification - Créer votre session d'examen"
    [failed] = platform.projections.failed_mails()
    assert failed.attempts == 1
    assert "U+0000 cannot be in an e-mail address" in failed.last_error
    assert "\x00" not in failed.last_error and "poison" not in failed.last_error
    assert [d.rcpt_tos for d in capture.deliveries()] == [("victim@example.org",)]


def test_the_sender_is_the_one_the_smtp_url_names(capture: SmtpCapture) -> None:
    """An operator's review (issue 15): every mail came from no-reply@vigie.local, which a
    real relay refuses or flags, and nothing said how to change it. `?from=` names it."""
    sender = "Centre%20d%27examens%20%3Cexamens@centre.example%3E"
    url = f"smtp://{capture.host}:{capture.port}?from={sender}"
    platform = bootstrap(
        Settings(database_url="memory:", media_root=None, secret_key="s" * 32, smtp_url=url),
        clock=ManualClock(datetime(2025, 1, 27, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(6),
    )
    try:
        journey = Journey(platform)
        journey.enrol()
        [invitation] = capture.wait_for(1)
        assert invitation["From"] == "Centre d'examens <examens@centre.example>"
        assert capture.deliveries()[0].mail_from == "examens@centre.example"
    finally:
        platform.close()
    with pytest.raises(ValueError, match="from= must be an address"):
        bootstrap(
            Settings(
                database_url="memory:",
                media_root=None,
                smtp_url=f"smtp://{capture.host}:{capture.port}?from=nobody",
            )
        )
