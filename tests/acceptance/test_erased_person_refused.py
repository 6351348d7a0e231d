"""An erased person (ERASED, issue 8) gets nothing new: her old invitation link, her log-in
and her enrolments refuse every command in the domain's words, and a refused command records
nothing, stores nothing, mails nothing and calls no webhook (a tester's tour: the link created
an exam session, promised a mail, parked the mail's reaction with tracebacks and sent a
`session.created` webhook; the centre's list showed a blank row)."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app import integrations
from app.mail_rendering import SupportContact
from app.privacy import erase_candidate
from app.tenancy import centre_of_operator
from app.use_cases import accommodations, accounts, enrolment, hotline, proctoring
from domain.candidate import Candidate, PersonErased
from domain.guide import Step
from domain.hotline import MailToResend
from domain.integrations import WebhookEvent
from domain.staff import Role
from tests.acceptance.web import form_token, log_in
from ui.journey import Journey, make_platform
from ui.web.app import create_app

SECRET = b"e" * 32
PASSWORD = "centre-pass-1"


@pytest.fixture
def platform() -> Iterator[Platform]:
    # The centre's webhook points where nothing listens, on this machine: allowed here.
    platform = make_platform(webhook_allowed_networks="127.0.0.0/8")
    yield platform
    platform.close()


@pytest.fixture
def centre(platform: Platform) -> UUID:
    staff_id = accounts.register_staff(
        platform.ctx,
        email="centre@example.org",
        name="Centre",
        role=Role.CENTRE,
        password=PASSWORD,
    )
    # The centre is told of every exam session created: none may be for an erased person.
    integrations.subscribe_webhook(
        platform.ctx,
        staff_id,
        platform.webhook_key,
        url="http://127.0.0.1:9/nobody",
        events=(WebhookEvent.SESSION_CREATED,),
    )
    return staff_id


@pytest.fixture
def support(platform: Platform) -> UUID:
    return accounts.register_staff(
        platform.ctx,
        email="hotline@example.org",
        name="Hotline",
        role=Role.SUPPORT,
        password="hotline-pass-1",
    )


def erased(platform: Platform, centre: UUID, email: str, *, with_session: bool) -> Journey:
    """A person enrolled (with her exam session created, or only invited), then erased."""
    journey = Journey(platform, email=email, centre_id=centre_of_operator(centre))
    journey.enrol()
    if with_session:
        journey.create_session()
    assert journey.candidate_id is not None
    erase_candidate(
        platform.ctx,
        platform.keys,
        platform.projections,
        journey.candidate_id,
        reason="RGPD",
        by="a test",
        system_account="tests@127.0.0.1",
    )
    platform.settle()
    platform.deliver_webhooks()  # the earlier session's, tried once (the next try is later)
    platform.settle()
    return journey


Command = Callable[[Platform, Journey, UUID], object]


def _slot(platform: Platform) -> datetime:
    return platform.ctx.now() + timedelta(days=1)


# Every command an erased person's enrolment, link or session could be given, by whom.
COMMANDS: dict[str, tuple[bool, Command]] = {
    "create the session (the invitation link)": (
        False,
        lambda p, j, by: enrolment.create_exam_session(p.ctx, _id(j.enrollment_id)),
    ),
    "create the session again (the link, once created)": (
        True,
        lambda p, j, by: enrolment.create_exam_session(p.ctx, _id(j.enrollment_id)),
    ),
    "hotline: renew": (
        True,
        lambda p, j, by: hotline.renew(p.ctx, _id(j.enrollment_id), by=by, reason="ticket 1"),
    ),
    "hotline: resend the invitation": (
        False,
        lambda p, j, by: hotline.resend(
            p.ctx, _id(j.enrollment_id), mail=MailToResend.INVITATION, by=by, reason="lost"
        ),
    ),
    "hotline: resend the log-in mail": (
        True,
        lambda p, j, by: hotline.resend(
            p.ctx, _id(j.enrollment_id), mail=MailToResend.LOG_IN, by=by, reason="lost"
        ),
    ),
    "hotline: unblock": (
        True,
        lambda p, j, by: hotline.unblock(p.ctx, _id(j.enrollment_id), by=by, reason="blocked"),
    ),
    "hotline: technical problem": (
        True,
        lambda p, j, by: hotline.record_technical_problem(
            p.ctx, _id(j.enrollment_id), by=by, description="webcam died"
        ),
    ),
    "hotline: waive the photo": (
        True,
        lambda p, j, by: hotline.waive_photo(
            p.ctx, _id(j.enrollment_id), step=Step.FACE_PHOTO, by=by, reason="no camera"
        ),
    ),
    "hotline: book a live slot": (
        True,
        lambda p, j, by: hotline.book_live(p.ctx, _id(j.enrollment_id), slot=_slot(p), by=by),
    ),
    "hotline: send the live link": (
        True,
        lambda p, j, by: hotline.send_live_link(
            p.ctx, _id(j.enrollment_id), link="https://meet.example.org/x", by=by
        ),
    ),
    "grant an accommodation": (
        False,
        lambda p, j, by: accommodations.grant_accommodation(
            p.ctx, _id(j.enrollment_id), granted_by=by, extra_time_percent=33, arrangements=""
        ),
    ),
    "enter the exam session": (
        True,
        lambda p, j, by: proctoring.enter_session(p.ctx, _id(j.session_id)),
    ),
    "accept the terms": (
        True,
        lambda p, j, by: proctoring.accept_terms(p.ctx, _id(j.candidate_id)),
    ),
}


def _id(value: UUID | None) -> UUID:
    assert value is not None
    return value


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_command_for_an_erased_person_is_refused_and_records_sends_nothing(
    platform: Platform, centre: UUID, support: UUID, name: str
) -> None:
    with_session, command = COMMANDS[name]
    journey = erased(platform, centre, "zoe.durand@example.org", with_session=with_session)
    head = platform.ctx.store.head()
    mails = len(platform.mailer.sent)  # type: ignore[attr-defined]
    deliveries = platform.projections.deliveries_of_centre(centre_of_operator(centre))
    with pytest.raises(PersonErased) as refused:
        command(platform, journey, support)
    assert refused.value.rule == "ERASED"
    # Nothing recorded, so nothing follows from it: no reaction, mail, webhook or parking.
    assert platform.ctx.store.head() == head
    platform.settle()
    platform.deliver_webhooks()
    assert platform.ctx.store.head() == head
    assert len(platform.mailer.sent) == mails  # type: ignore[attr-defined]
    assert platform.projections.deliveries_of_centre(centre_of_operator(centre)) == deliveries
    assert platform.parked.catch_up(platform.ctx.store) == []


def test_an_erased_person_cannot_log_in(platform: Platform, centre: UUID) -> None:
    journey = Journey(platform, email="zoe.durand@example.org", centre_id=centre)
    journey.enrol()
    journey.set_password("zoe-pass-1234")
    found = accounts.authenticate(
        platform.ctx, platform.projections, email=journey.email, password="zoe-pass-1234"
    )
    assert found == journey.candidate_id
    erase_candidate(
        platform.ctx,
        platform.keys,
        platform.projections,
        found,
        reason="RGPD",
        by="a test",
        system_account="tests@127.0.0.1",
    )
    assert (
        accounts.authenticate(
            platform.ctx, platform.projections, email=journey.email, password="zoe-pass-1234"
        )
        is None
    )


def test_a_session_created_just_before_the_erasure_settles_its_mail_without_parking(
    platform: Platform, centre: UUID
) -> None:
    """The worker meets the session's creation after the erasure: the welcome mail is given
    up at once (nobody to send it to), never retried, no link recorded for her, and the
    reaction is not parked with a traceback."""
    journey = Journey(platform, email="zoe.durand@example.org", centre_id=centre)
    journey.enrol()
    assert journey.enrollment_id is not None and journey.candidate_id is not None
    enrolment.create_exam_session(platform.ctx, journey.enrollment_id)  # the worker not yet
    erase_candidate(
        platform.ctx,
        platform.keys,
        platform.projections,
        journey.candidate_id,
        reason="RGPD",
        by="a test",
        system_account="tests@127.0.0.1",
    )
    mails = len(platform.mailer.sent)  # type: ignore[attr-defined]
    platform.settle()
    assert platform.parked.catch_up(platform.ctx.store) == []
    assert len(platform.mailer.sent) == mails  # type: ignore[attr-defined]
    [welcome] = [m for m in platform.projections.mails.values() if m.kind == "welcome"]
    assert welcome.status.value == "failed" and welcome.attempts == 1
    assert "erased" in welcome.last_error
    candidate = platform.ctx.store.get(journey.candidate_id, Candidate)
    assert candidate.reset_tokens == {}
    [*_, last] = platform.ctx.store.history(journey.candidate_id)
    assert isinstance(last, Candidate.PersonalDataErased)


# --- as people see it ----------------------------------------------------------------------


def page_text(reply: Any) -> str:
    return html.unescape(reply.text)


def test_the_old_invitation_link_says_it_no_longer_works_and_creates_nothing(
    platform: Platform, centre: UUID
) -> None:
    journey = Journey(
        platform, email="zoe.durand@example.org", centre_id=centre_of_operator(centre)
    )
    journey.enrol()
    token = platform.links.sign("create-session", str(journey.enrollment_id))
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        csrf = form_token(client, f"/sessions/new?t={token}")  # the form, opened before
        assert journey.candidate_id is not None
        erase_candidate(
            platform.ctx,
            platform.keys,
            platform.projections,
            journey.candidate_id,
            reason="x",
            by="a test",
            system_account="tests@127.0.0.1",
        )
        head = platform.ctx.store.head()
        sent = client.post("/sessions/new", data={"token": token, "_csrf_token": csrf})
        said = page_text(sent)
        assert sent.status_code == 409
        assert "Ce lien n'est plus valable" in said and "Rien n'a été créé." in said
        assert "créée avec succès" not in said and "recevoir un e-mail" not in said
        assert "ERASED" not in said and "R1" not in said
        # Opened again: the sentence at once, and no form to send.
        opened = client.get(f"/sessions/new?t={token}")
        assert opened.status_code == 200
        assert "Ce lien n'est plus valable" in page_text(opened)
        assert 'action="/sessions/new"' not in opened.text
        client.get("/lang/en")
        english = page_text(client.get(f"/sessions/new?t={token}"))
        assert "This link is no longer valid: the account it was sent for was erased" in english
    platform.settle()
    assert platform.ctx.store.head() == head


def test_the_centres_list_names_an_erased_person_in_words_not_a_blank_row(
    platform: Platform, centre: UUID
) -> None:
    erased(platform, centre, "zoe.durand@example.org", with_session=False)
    kept = Journey(platform, email="lea.petit@example.org", centre_id=centre_of_operator(centre))
    kept.enrol()
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/staff/login", "centre@example.org", PASSWORD)
        page = page_text(client.get("/operator/"))
        row = page.split("<tbody>", 1)[1].split("</tr>")
        [gone] = [r for r in row if "personne effacée" in r]
        assert 'data-state="erased"' in gone and "Données personnelles effacées" in gone
        assert "/accommodation" not in gone  # nothing more can be granted to her
        assert "lea.petit@example.org" in page
        client.get("/lang/en")
        english = page_text(client.get("/operator/", params={"state": "erased"}))
        assert "erased person" in english and "Personal data erased" in english
        assert "lea.petit@example.org" not in english


def test_the_hotline_page_refuses_an_erased_persons_enrolment_in_words(
    platform: Platform, centre: UUID, support: UUID
) -> None:
    journey = erased(platform, centre, "zoe.durand@example.org", with_session=True)
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/staff/login", "hotline@example.org", "hotline-pass-1")
        page = f"/hotline/candidates/{journey.candidate_id}"
        data = {"reason": "ticket 4", "_csrf_token": form_token(client, page)}
        reply = client.post(f"/hotline/enrolments/{journey.enrollment_id}/renew", data=data)
        said = page_text(reply)
        assert "Plus rien ne peut être fait pour cette personne" in said
        assert "erased on request" not in said and "ERASED:" not in said


def test_the_accommodation_page_of_an_erased_person_is_read_only_and_says_why(
    platform: Platform, centre: UUID
) -> None:
    """A reviewer's tour: the page offered the whole form for an erased person, then refused
    « Accorder » with « Rien n'a été accordé : vérifiez le formulaire ». Now it opens with
    the reason, in words, and offers no form."""
    journey = erased(platform, centre, "zoe.durand@example.org", with_session=False)
    page = f"/operator/enrolments/{journey.enrollment_id}/accommodation"
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/staff/login", "centre@example.org", PASSWORD)
        opened = client.get(page)
        assert opened.status_code == 200
        said = page_text(opened)
        notice = said.split('id="notice"', 1)[1].split("</div>")[0]
        assert "Les données personnelles de cette personne ont été effacées" in notice
        assert "personne effacée" in said and "vérifiez le formulaire" not in said
        assert "Adresse e-mail" not in said  # an empty line, the address being gone
        assert 'name="extra_time_percent"' not in opened.text
        assert "<form" not in opened.text.split("<main", 1)[-1].split("</main>")[0]
        # A grant posted anyway (an old tab) says the same, not « check the form ».
        sent = client.post(
            f"{page}/grant",
            data={"extra_time_percent": "33", "_csrf_token": form_token(client, "/operator/")},
        )
        assert sent.status_code == 409
        refused = page_text(sent)
        assert "Les données personnelles de cette personne ont été effacées" in refused
        assert "vérifiez le formulaire" not in refused and "ERASED:" not in refused
        client.get("/lang/en")
        english = page_text(client.get(page))
        assert "This person's personal data was erased" in english
        assert "erased person" in english and "[" not in english.split("<main", 1)[-1]


def test_the_hotline_case_file_names_an_erased_person_in_words_and_offers_no_action(
    platform: Platform, centre: UUID, support: UUID
) -> None:
    """A reviewer's tour: the case file read « [effacé] [EFFACÉ] », on English pages too,
    with every action form still offered. Now « personne effacée » / "erased person", the
    reason in words, and no form."""
    journey = erased(platform, centre, "zoe.durand@example.org", with_session=True)
    page = f"/hotline/candidates/{journey.candidate_id}"
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/staff/login", "hotline@example.org", "hotline-pass-1")
        opened = client.get(page)
        assert opened.status_code == 200
        said = page_text(opened)
        assert "effacé]" not in said.lower() and "[EFFACÉ]" not in said
        assert "<title>personne effacée — " in said and ">personne effacée</h1>" in said
        assert "Plus rien ne peut être fait pour cette personne" in said
        main = opened.text.split("<main", 1)[-1].split("</main>")[0]
        assert "/hotline/enrolments/" not in main and "<textarea" not in main
        client.get("/lang/en")
        english = page_text(client.get(page))
        assert "effacé" not in english.lower()
        assert "<title>erased person — " in english and ">erased person</h1>" in english
        assert "Nothing more can be done for this person" in english
