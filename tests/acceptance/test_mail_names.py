"""A candidate's name in her mails is written as every page writes it in a sentence
(app.person_names.name_in_text): a centre that typed « jean » « dupont » gave her mails
greeting « Bonjour jean DUPONT » while her pages read « Jean DUPONT ». The stored name stays
as typed (the certificate prints it)."""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest

from adapters.bootstrap import Platform
from adapters.mail.memory import MemoryMailer
from app.ports.mailer import Mail
from app.use_cases import accounts, enrolment
from domain.candidate import Account, Candidate
from ui.journey import Journey, make_platform


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = make_platform()
    yield platform
    platform.close()


def enrolled_in_lower_case(platform: Platform, email: str, language: str) -> Journey:
    journey = Journey(platform, email=email, language=language)
    found = enrolment.enrol_candidate(
        platform.ctx,
        platform.projections,
        centre_id=journey.centre_id,
        email=email,
        surname="dupont",
        first_name="jean",
        certification_code="ENI-ACCESS",
        language=language,
    )
    platform.settle()
    journey.candidate_id, journey.enrollment_id = found.candidate_id, found.enrollment_id
    return journey


def mails_to(platform: Platform, email: str) -> list[Mail]:
    mailer = platform.mailer
    assert isinstance(mailer, MemoryMailer)
    return mailer.to(email)


@pytest.mark.parametrize(("language", "hello"), [("fr", "Bonjour"), ("en", "Hello")])
def test_every_mail_greets_a_name_typed_in_lower_case_as_the_pages_write_it(
    platform: Platform, language: str, hello: str
) -> None:
    email = f"jean.dupont.{language}@example.org"
    journey = enrolled_in_lower_case(platform, email, language)
    journey.create_session()  # the invitation
    accounts.request_password_reset(
        platform.ctx, platform.projections, email=email, account=Account.PORTAL
    )
    platform.settle()
    mails = mails_to(platform, email)
    assert len(mails) >= 3  # welcome, invitation, password reset
    for mail in mails:
        assert mail.text.startswith(f"{hello} Jean DUPONT,\n"), mail.subject
        assert f">{hello} Jean DUPONT,</p>" in html.unescape(mail.html), mail.subject
        for part in (mail.subject, mail.text, mail.html):
            assert "jean DUPONT" not in part and "jean dupont" not in part
    # Only what is shown changes: the name stays as the centre typed it.
    assert journey.candidate_id is not None
    candidate = platform.ctx.store.get(journey.candidate_id, Candidate)
    assert (candidate.first_name, candidate.surname) == ("jean", "dupont")
