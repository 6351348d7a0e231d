"""R3: a renewal tells the candidate. The hotline renews her exam session; one mail, in her
language, says it is renewed, its new last valid day and how to go on, decided once from
the renewal however many workers run, and never carrying the hotline's own reason."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from uuid import UUID

import pytest

from adapters.bootstrap import Platform
from adapters.mail.memory import MemoryMailer
from app.outbox import MailDecisions
from app.policies import PolicyRunner, default_policies
from app.ports.event_store import ConcurrencyConflict
from app.ports.mailer import Mail
from app.use_cases import hotline
from domain.enrollment import Enrollment
from domain.outbound_mail import MailKind
from ui.journey import Journey, hotline_account, make_platform

REASON = "ticket 4411: hospital stay, certificate seen"


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = make_platform()
    yield platform
    platform.close()


def with_a_session(platform: Platform, email: str, language: str = "fr") -> Journey:
    journey = Journey(platform, email=email, language=language)
    journey.enrol()
    journey.create_session()  # 27/01/2025: valid until 11/02/2025
    return journey


@pytest.fixture
def agent(platform: Platform) -> UUID:
    return hotline_account(platform.ctx)


def renew(platform: Platform, journey: Journey, agent: UUID) -> date:
    """The hotline's renewal (R3), with its internal reason."""
    assert journey.enrollment_id is not None
    return hotline.renew(platform.ctx, journey.enrollment_id, by=agent, reason=REASON)


def mails_to(platform: Platform, email: str) -> list[Mail]:
    mailer = platform.mailer
    assert isinstance(mailer, MemoryMailer)
    return mailer.to(email)


def renewal_mails_decided(platform: Platform) -> int:
    platform.projections.catch_up(platform.ctx.store)
    kind = MailKind.EXAM_SESSION_RENEWED.value
    return sum(m.kind == kind for m in platform.projections.mails.values())


def test_a_renewal_mails_the_candidate_once_with_her_new_last_day_and_how_to_go_on(
    platform: Platform, agent: UUID
) -> None:
    journey = with_a_session(platform, "helene.leclerc@example.org")
    before = len(mails_to(platform, journey.email))
    assert renew(platform, journey, agent) == date(2025, 2, 26)
    platform.settle()
    platform.settle()  # a second worker pass sends nothing more
    [mail] = mails_to(platform, journey.email)[before:]
    assert mail.subject == "Votre session d'examen est renouvelée"
    assert "jusqu'au 26/02/2025 inclus" in mail.text
    assert "26/02/2025 inclus</strong>" in mail.html
    assert (
        "Certification Bureautique Access" in mail.text
    )  # which certification, as the reminder says
    assert f"{platform.links.base_url}/login" in mail.text  # how to go on, as the welcome
    assert journey.email in mail.text and "/password/forgot" in mail.text
    assert "hotline-certifications@vigie.example" in mail.text  # R26
    assert "hotline-certifications@vigie.example" in mail.html
    assert "ticket 4411" not in mail.text + mail.html  # the hotline's note stays with staff
    assert 'lang="fr"' in mail.html
    assert renewal_mails_decided(platform) == 1


def test_an_english_candidate_reads_her_renewal_in_english(platform: Platform, agent: UUID) -> None:
    journey = with_a_session(platform, "en@example.org", language="en")
    renew(platform, journey, agent)
    platform.settle()
    mail = mails_to(platform, journey.email)[-1]
    assert mail.subject == "Your exam session is renewed"
    assert "until 26/02/2025 (inclusive)" in mail.text
    assert "log in with your e-mail address" in mail.text.lower()
    assert "hotline-certifications@vigie.example" in mail.text  # R26
    assert 'lang="en"' in mail.html and "Bonjour" not in mail.text


def test_each_renewal_has_its_own_mail_with_its_own_day(platform: Platform, agent: UUID) -> None:
    journey = with_a_session(platform, "twice@example.org")
    renew(platform, journey, agent)
    platform.settle()
    renew(platform, journey, agent)
    platform.settle()
    renewals = [m for m in mails_to(platform, journey.email) if "renouvelée" in m.subject]
    assert ["26/02/2025" in m.text for m in renewals] == [True, False]
    assert "13/03/2025 inclus" in renewals[1].text
    assert renewal_mails_decided(platform) == 2


def test_a_renewal_decided_again_by_another_worker_is_still_one_mail(
    platform: Platform, agent: UUID
) -> None:
    """Two workers react to the same renewal at once: the mail's id is derived from the
    renewal, so the second decision is refused by the store (its position aside), and one
    mail goes out."""
    journey = with_a_session(platform, "race@example.org")
    renew(platform, journey, agent)  # recorded, not yet reacted to
    store = platform.ctx.store
    [renewed] = [
        r
        for r in store.read(0, store.head() + 1)
        if isinstance(r.event, Enrollment.ExamSessionRenewed)
    ]
    first = MailDecisions().react(platform.ctx, renewed)
    second = MailDecisions().react(platform.ctx, renewed)
    assert [m.id for m in first] == [m.id for m in second] and len(first) == 1
    position = (MailDecisions.name, renewed.position)
    store.save(*first, tracking=position)
    with pytest.raises(ConcurrencyConflict):
        store.save(*second)
    # Then every runner catches up: the platform's, a restarted one, a second one.
    platform.settle()
    assert PolicyRunner(platform.ctx, default_policies()).run_until_quiet() == 0
    assert PolicyRunner(platform.ctx, default_policies()).run_until_quiet() == 0
    platform.settle()
    assert renewal_mails_decided(platform) == 1
    assert sum("renouvelée" in m.subject for m in mails_to(platform, journey.email)) == 1


def test_a_live_supervised_session_renewed_reminds_her_to_agree_a_slot_in_time(
    platform: Platform, agent: UUID
) -> None:
    """R2: a session supervised live needs a slot within its validity: the renewal's mail
    says so, with the day; a session without live supervision is not told of slots."""
    journey = Journey(platform, email="live@example.org")
    journey.enrol()
    journey.create_session(live_supervision=True)
    renew(platform, journey, agent)
    platform.settle()
    mail = mails_to(platform, journey.email)[-1]
    assert "surveillé en direct" in mail.text and "créneau au plus tard le 26/02/2025" in mail.text
    plain = with_a_session(platform, "plain@example.org")
    renew(platform, plain, agent)
    platform.settle()
    assert "surveillé en direct" not in mails_to(platform, plain.email)[-1].text
