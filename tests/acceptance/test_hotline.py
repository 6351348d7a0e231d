"""The hotline's desk (issue 13, point 7): find a candidate, act for them from the page or
the command line, each action kept with who and why, and the mails it calls for sent in the
candidate's language."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.ids import SeededIds
from app.mail_rendering import SupportContact
from app.use_cases import accounts, appeals, hotline, portal, reviewing
from domain.enrollment import Enrollment
from domain.evidence import ReasonCode, Verdict
from domain.proctored_session import ProctoredSession
from domain.review import AppealOutcome, CitedReason, Review
from domain.staff import Role
from tests.acceptance.web import form_token, log_in
from ui import hotline_cli
from ui.cli import _parser
from ui.journey import PARIS, Journey, make_platform
from ui.web.app import create_app

SECRET = b"h" * 32
AGENT = "agent@hotline.example.org"


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = make_platform()
    for email, name, role in (
        (AGENT, "Sacha Hotline", Role.SUPPORT),
        ("centre@example.org", "Centre", Role.CENTRE),
    ):
        accounts.register_staff(
            platform.ctx, email=email, name=name, role=role, password="staff-pass-1"
        )
    platform.projections.catch_up(platform.ctx.store)
    yield platform
    platform.close()


@pytest.fixture
def journey(platform: Platform) -> Journey:
    journey = Journey(platform, email="helene.leclerc@example.org")
    journey.enrol()
    return journey


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/staff/login", AGENT, "staff-pass-1")
        yield client


def text(reply: Any) -> str:
    return html.unescape(reply.text)


def act(client: TestClient[Any], journey: Journey, action: str, **form: str) -> Any:
    """Post one of the case file's forms, as the page does."""
    page = f"/hotline/candidates/{journey.candidate_id}"
    data = {**form, "_csrf_token": form_token(client, page)}
    return client.post(f"/hotline/enrolments/{journey.enrollment_id}/{action}", data=data)


def history(platform: Platform, aggregate_id: UUID | None) -> list[Any]:
    assert aggregate_id is not None
    return list(platform.ctx.store.history(aggregate_id))


def test_the_support_role_lands_on_the_desk_and_finds_a_candidate_by_name_or_email(
    client: TestClient[Any], journey: Journey
) -> None:
    assert client.get("/", follow_redirects=False).headers["location"] == "/hotline"
    by_name = text(client.get("/hotline/", params={"q": "leclerc"}))
    assert "MARTIN Camille" in by_name and "helene.leclerc@example.org" in by_name
    assert "Candidats trouvés : 1" in by_name
    nobody = text(client.get("/hotline/", params={"q": "dupont"}))
    assert "Personne ne correspond" in nobody
    page = text(client.get(f"/hotline/candidates/{journey.candidate_id}"))
    assert "invité, pas encore de session" in page  # a state in words, never a code
    assert "Access" in page  # the certification's title


def test_other_roles_and_strangers_are_kept_out(platform: Platform, journey: Journey) -> None:
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as other:
        first = other.get("/hotline/", follow_redirects=False)
        assert (
            first.status_code in (302, 303)
            and first.headers["location"] == "/staff/login?next=/hotline/"
        )
        log_in(other, "/staff/login", "centre@example.org", "staff-pass-1")
        assert other.get(f"/hotline/candidates/{journey.candidate_id}").status_code == 403


def test_renewing_keeps_who_and_why_and_shows_the_new_validity(
    client: TestClient[Any], platform: Platform, journey: Journey
) -> None:
    journey.create_session()
    refused = act(client, journey, "renew", reason="  ")
    assert refused.status_code == 409
    assert "Dites pourquoi" in text(refused)
    assert not any(
        isinstance(e, Enrollment.ExamSessionRenewed)
        for e in history(platform, journey.enrollment_id)
    )

    done = act(client, journey, "renew", reason="ticket 4411: hospital stay")
    page = text(done)
    assert "Session renouvelée : elle est valable jusqu'au 26/02/2025." in page
    renewed = [
        e
        for e in history(platform, journey.enrollment_id)
        if isinstance(e, Enrollment.ExamSessionRenewed)
    ]
    assert [(e.valid_until, e.reason) for e in renewed] == [
        (date(2025, 2, 26), "ticket 4411: hospital stay")
    ]
    # Their name and words isolated from the page's (F9: a U+202E reordered the line).
    assert "par <bdi>Sacha Hotline</bdi>" in page and "&lt;bdi" not in done.text
    assert "<bdi>ticket 4411: hospital stay</bdi>" in page


def test_the_case_file_says_the_renewal_is_mailed_then_that_the_mail_went(
    client: TestClient[Any], platform: Platform, journey: Journey
) -> None:
    """R3: the renewal's mail is the worker's. The page says a mail tells the candidate, as
    it says of the hotline's other mails; the renewal's line in the history then says where
    that mail stands: decided and still to send, then sent."""
    journey.create_session()
    page = text(act(client, journey, "renew", reason="ticket 4411: hospital stay"))
    assert "Un e-mail part vers le candidat, dans sa langue." in page
    platform.runner.run_until_quiet()  # the worker decided the mail, not yet sent
    page = text(client.get(f"/hotline/candidates/{journey.candidate_id}"))
    assert "e-mail au candidat en route" in page
    platform.settle()
    page = text(client.get(f"/hotline/candidates/{journey.candidate_id}"))
    assert "e-mail envoyé au candidat" in page and "en route" not in page
    [mail] = [m for m in platform.mailer.sent if "renouvelée" in m.subject]  # type: ignore[attr-defined]
    assert mail.to == "helene.leclerc@example.org" and "26/02/2025 inclus" in mail.text


def test_a_renewal_past_day_90_is_refused_with_a_sentence_and_the_reason_kept(
    client: TestClient[Any], platform: Platform, journey: Journey
) -> None:
    journey.create_session()
    for n in range(5):  # 15 days each: the fifth reaches the last day (day 90)
        assert act(client, journey, "renew", reason=f"renewal {n}").status_code == 200
    client.get("/lang/en")
    refused = act(client, journey, "renew", reason="one more please")
    page = text(refused)
    assert refused.status_code == 409
    assert "This session cannot be renewed" in page
    # The guide's rule after it in words, its code only a reference in the title.
    assert "The guide: The first exam session is valid 15 days" in page
    assert 'data-rule="R3" title="The guide\'s rule R3"' in page
    assert ">one more please</textarea>" in page  # the input is kept
    assert "R3:" not in page


def test_a_session_whose_exam_was_sent_offers_no_renewal_waiver_or_unblocking_r18(
    client: TestClient[Any], platform: Platform, journey: Journey
) -> None:
    """A renewal of a session already over (its exam sent) was recorded, and mailed the
    candidate that she could now take her exam (a reviewer's check): it is refused, nothing
    recorded, and the case file offers no renewal but says why."""
    journey.create_session()
    journey.through_checks()
    journey.start_exam()
    journey.answer_and_send()
    before = history(platform, journey.enrollment_id)
    page = text(client.get(f"/hotline/candidates/{journey.candidate_id}"))
    assert "cette session est terminée et ne peut pas être renouvelée" in page
    assert f'action="/hotline/enrolments/{journey.enrollment_id}/renew"' not in page
    # Nothing left to waive or unblock either; a technical problem may still be told.
    for action in ("waive-photo", "unblock"):
        assert f'action="/hotline/enrolments/{journey.enrollment_id}/{action}"' not in page
    assert f'action="/hotline/enrolments/{journey.enrollment_id}/technical-problem"' in page
    refused = act(client, journey, "renew", reason="she asks for more time")
    assert refused.status_code == 409
    assert "cette session est terminée et ne peut pas être renouvelée" in text(refused)
    assert "R18:" not in text(refused)
    assert history(platform, journey.enrollment_id) == before  # nothing recorded


def test_waiving_the_photo_the_candidate_is_stuck_at(
    client: TestClient[Any], platform: Platform, journey: Journey
) -> None:
    journey.create_session()
    journey.enter()
    journey.pass_attestations()
    journey.pass_equipment()
    page = text(client.get(f"/hotline/candidates/{journey.candidate_id}"))
    assert "bloqué à la photo du visage ?" in page
    act(client, journey, "waive-photo", step="face_photo", reason="the webcam shows only black")
    waived = [
        e
        for e in history(platform, journey.session_id)
        if isinstance(e, ProctoredSession.PhotoWaived)
    ]
    assert len(waived) == 1 and waived[0].reason == "the webcam shows only black"
    wrong = act(client, journey, "waive-photo", step="face_photo", reason="again")
    assert wrong.status_code == 409 and "pas à cette photo" in text(wrong)


def test_a_technical_problem_is_recorded_with_its_description(
    client: TestClient[Any], platform: Platform, journey: Journey
) -> None:
    journey.create_session()
    long = act(client, journey, "technical-problem", description="x" * 501)
    assert long.status_code == 409 and "500" in text(long)
    act(client, journey, "technical-problem", description="network down: called from a phone")
    [problem] = [
        e
        for e in history(platform, journey.session_id)
        if isinstance(e, ProctoredSession.TechnicalProblemRecorded)
    ]
    assert problem.description == "network down: called from a phone"


def test_a_refused_technical_problem_says_its_own_sentence_and_a_reload_posts_nothing(
    client: TestClient[Any], platform: Platform, journey: Journey
) -> None:
    """A tester's tour: spaces only in « Ce qui s'est passé » showed the examiner's
    invalidation rule (R20) above the field, and the address stayed the post's, so a reload
    posted the form again. The refusal is the form's own sentence, on the case file's address
    (post/redirect/get), the input kept; a reload shows the case file, nothing posted."""
    journey.create_session()
    case_file = f"/hotline/candidates/{journey.candidate_id}"
    refused = act(client, journey, "technical-problem", description="   ")
    assert refused.status_code == 409
    assert [r.status_code for r in refused.history] == [302]
    assert refused.url.path == case_file
    page = text(refused)
    assert "Décrivez le problème technique en quelques mots" in page
    assert "Une invalidation cite des motifs" not in page
    reloaded = client.get(case_file)
    assert reloaded.status_code == 200 and 'id="refusal"' not in reloaded.text


def test_booking_live_supervision_then_mailing_its_link_in_the_candidates_language(
    client: TestClient[Any], platform: Platform, journey: Journey
) -> None:
    journey.create_session(live_supervision=True)
    early = act(client, journey, "send-live-link", link="https://share.example.org/r/42")
    assert early.status_code == 409 and "Réservez d'abord un créneau" in text(early)
    evening = act(client, journey, "book-live", slot="2025-01-29T20:00")
    assert evening.status_code == 409 and "heures de bureau" in text(evening)
    assert 'value="2025-01-29T20:00"' in evening.text
    page = text(act(client, journey, "book-live", slot="2025-01-29T14:00", note="agreed by phone"))
    assert "Créneau de surveillance en direct réservé pour le 29/01/2025 14:00" in page
    act(client, journey, "send-live-link", link="https://share.example.org/r/42")
    platform.settle()
    [mail] = [m for m in platform.mailer.sent if "partage" in m.text and "share.example" in m.text]  # type: ignore[attr-defined]
    assert mail.to == "helene.leclerc@example.org" and "29/01/2025 14:00" in mail.text


def test_resending_the_invitation_and_the_log_in_mail(
    client: TestClient[Any], platform: Platform, journey: Journey
) -> None:
    sent = platform.mailer.sent  # type: ignore[attr-defined]
    before = len(sent)
    refused = act(client, journey, "resend", mail="log_in")
    assert refused.status_code == 409 and "envoyez plutôt l'invitation" in text(refused)
    act(client, journey, "resend", mail="invitation", reason="lost in spam")
    platform.settle()
    assert len(sent) == before + 1 and "/sessions/new" in sent[-1].text
    journey.create_session()
    count = len(sent)
    act(client, journey, "resend", mail="log_in", reason="ticket 9")
    platform.settle()
    [again] = sent[count:]
    first = next(m for m in reversed(sent[:count]) if "/password/reset" in m.text)
    assert "/password/reset" in again.text
    assert again.text.split("/password/reset")[1] != first.text.split("/password/reset")[1]


# « Renvoyer un e-mail » went through with no reason, though the desk promises « chaque
# action garde votre nom et votre raison »: the history said « Invitation renvoyée — par
# Hotline » alone (a reviewer's tour). Refused naming the field, the form kept; then the
# reason is on the history's line.
@pytest.mark.parametrize(
    ("language", "refusal", "line"),
    [
        ("fr", "Dites pourquoi dans le champ « Pourquoi »", "Invitation renvoyée"),
        ("en", "Say why in the field “Why”", "Invitation sent again"),
    ],
)
def test_a_mail_is_resent_only_with_a_reason_kept_in_the_history(
    client: TestClient[Any],
    platform: Platform,
    journey: Journey,
    language: str,
    refusal: str,
    line: str,
) -> None:
    client.get(f"/lang/{language}")
    sent = platform.mailer.sent  # type: ignore[attr-defined]
    before = len(sent)
    refused = act(client, journey, "resend", mail="invitation", reason="  ")
    page = text(refused)
    assert refused.status_code == 409 and refusal in page
    assert 'id="refusal"' in page and 'name="mail" value="invitation" checked' in page
    platform.settle()
    assert len(sent) == before
    assert not any(
        isinstance(e, Enrollment.MailResent) for e in history(platform, journey.enrollment_id)
    )

    page = text(act(client, journey, "resend", mail="invitation", reason="ticket 12: lost mail"))
    [entry] = re.findall(r"<li><time.*?</li>", page, re.S)
    assert line in entry and "ticket 12: lost mail" in entry


def test_the_log_in_mail_resent_after_the_exam_was_sent_leads_to_the_results(
    client: TestClient[Any], platform: Platform, journey: Journey
) -> None:
    """A user's tour: resent after the exam was sent, the log-in mail said « Vous avez
    désormais jusqu'au … pour passer votre certification »."""
    journey.create_session()
    platform.settle()
    count = len(platform.mailer.sent)  # type: ignore[attr-defined]
    act(client, journey, "resend", mail="log_in", reason="ticket 9")
    platform.settle()
    [before] = platform.mailer.sent[count:]  # type: ignore[attr-defined]
    assert "pour passer votre certification" in before.text
    journey.sent_for_review()
    platform.settle()
    count = len(platform.mailer.sent)  # type: ignore[attr-defined]
    act(client, journey, "resend", mail="log_in", reason="ticket 9")
    platform.settle()
    [after] = platform.mailer.sent[count:]  # type: ignore[attr-defined]
    assert "/password/reset" in after.text
    for part in (after.text, after.html):
        assert "pour passer votre certification" not in part
        assert "Votre examen est envoyé : connectez-vous pour suivre son contrôle" in part


def test_unblocking_a_blocked_screen_records_the_interruption_and_mails_a_new_link(
    client: TestClient[Any], platform: Platform, journey: Journey
) -> None:
    journey.create_session()
    platform.settle()
    journey.enter()
    count = len(platform.mailer.sent)  # type: ignore[attr-defined]
    act(client, journey, "unblock", reason="frozen screen, candidate on the phone")
    platform.settle()
    [left] = [
        e
        for e in history(platform, journey.session_id)
        if isinstance(e, ProctoredSession.SessionLeft)
    ]
    assert "R23" in left.cause and "frozen screen" in left.cause
    assert len(platform.mailer.sent) == count + 1  # type: ignore[attr-defined]
    page = text(client.get(f"/hotline/candidates/{journey.candidate_id}"))
    assert "session notée comme quittée" in page and "par <bdi>Sacha Hotline</bdi>" in page


def test_a_screen_is_not_unblocked_in_a_session_never_entered_r23(
    client: TestClient[Any], platform: Platform, journey: Journey
) -> None:
    """A tester's tour: « Débloqué : un nouveau lien de connexion part vers le candidat » and
    an R23 fact for a session created, never opened. The domain refuses it (R23), the page
    says why and what to do instead, and offers no unblocking until she is in."""
    journey.create_session()
    platform.settle()
    unblock = f'action="/hotline/enrolments/{journey.enrollment_id}/unblock"'
    assert unblock not in client.get(f"/hotline/candidates/{journey.candidate_id}").text
    before = history(platform, journey.enrollment_id)
    refused = act(client, journey, "unblock", reason="she says her screen is frozen")
    assert refused.status_code == 409
    page = text(refused)
    assert (
        "Le candidat n'est pas encore entré dans sa session d'examen : aucun écran ne peut "
        "être bloqué. Renvoyez plutôt l'invitation ou l'e-mail de connexion." in page
    )
    assert 'data-rule="R23"' in page and "R23:" not in page
    assert ">she says her screen is frozen</textarea>" in page  # the input is kept
    assert history(platform, journey.enrollment_id) == before  # nothing recorded
    journey.enter()
    assert unblock in client.get(f"/hotline/candidates/{journey.candidate_id}").text


def test_a_screen_is_not_unblocked_once_the_exam_was_sent_r23(
    client: TestClient[Any], platform: Platform, journey: Journey
) -> None:
    """A reviewer's tour: « Débloquer » was accepted after the exam was sent, mailing a new
    log-in link for a closed session. The domain refuses it, the page says why in words
    (French and English), and nothing is recorded."""
    journey.sent_for_review()
    platform.settle()
    unblock = f'action="/hotline/enrolments/{journey.enrollment_id}/unblock"'
    assert unblock not in client.get(f"/hotline/candidates/{journey.candidate_id}").text
    before = history(platform, journey.enrollment_id)
    mails = len(platform.mailer.sent)  # type: ignore[attr-defined]
    refused = act(client, journey, "unblock", reason="she says her screen is frozen")
    assert refused.status_code == 409
    page = text(refused)
    assert "L'examen est déjà envoyé : il n'y a plus d'écran à débloquer." in page
    assert 'data-rule="R18"' in page and "R18:" not in page
    assert ">she says her screen is frozen</textarea>" in page  # the input is kept
    client.get("/lang/en")
    english = text(act(client, journey, "unblock", reason="frozen"))
    assert "The exam was already sent: there is no screen left to unblock." in english
    assert history(platform, journey.enrollment_id) == before  # nothing recorded
    platform.settle()
    assert len(platform.mailer.sent) == mails  # type: ignore[attr-defined]


def cli(platform: Platform, *words: str) -> tuple[int, str]:
    out = io.StringIO()
    code = hotline_cli._run(platform, _parser().parse_args(["hotline", *words]), out)
    return code, out.getvalue()


def test_every_action_from_the_command_line(platform: Platform, journey: Journey) -> None:
    journey.create_session(live_supervision=True)
    eid = str(journey.enrollment_id)
    code, found = cli(platform, "find", "Helene")
    assert code == 0 and str(journey.candidate_id) in found
    renewed = cli(platform, "renew", eid, "--by", AGENT, "--reason", "ticket 7")[1]
    assert renewed.startswith("renewed: the exam session is valid until 26/02/2025")
    assert "a worker mails the candidate" in renewed
    cli(platform, "book-live", eid, "--by", AGENT, "--slot", "2025-01-29T10:00")
    cli(platform, "send-live-link", eid, "--by", AGENT, "--link", "https://share.example.org/x")
    cli(platform, "resend", eid, "--by", AGENT, "--mail", "invitation", "--reason", "lost")
    cli(platform, "technical-problem", eid, "--by", AGENT, "--description", "no network")
    journey.clock.set(datetime(2025, 1, 29, 9, 55, tzinfo=PARIS))  # R2: at the booked slot
    journey.enter()
    journey.pass_attestations()
    journey.pass_equipment()
    cli(platform, "waive-photo", eid, "--by", AGENT, "--photo", "face", "--reason", "black")
    cli(platform, "unblock", eid, "--by", AGENT, "--reason", "frozen")
    code, shown = cli(platform, "show", str(journey.candidate_id))
    assert "7 hotline action(s)" in shown and "by Sacha Hotline — 'ticket 7'" in shown
    platform.settle()
    shown = cli(platform, "show", str(journey.candidate_id))[1]
    assert "by Sacha Hotline — 'ticket 7'; mail sent to the candidate" in shown
    with pytest.raises(ValueError, match="not a support"):
        cli(platform, "renew", eid, "--by", "centre@example.org", "--reason", "x")


@pytest.mark.postgres
def test_the_case_file_shows_what_another_node_did_since_this_one_last_looked(
    postgres_url: str,
) -> None:
    """Issue 15, seen by an operator with two nodes: support's page for a candidate showed
    « créée, pas encore ouverte » on one node, reload after reload, while the candidate was
    at the checks through the other. The case file now brings this process's read models
    up to the log's head first, as the search does."""
    writer = make_platform(postgres_url)
    reader = bootstrap(
        Settings(database_url=postgres_url, media_root=None, launcher="memory"),
        clock=writer.ctx.clock,
        ids=SeededIds(8),
    )
    try:
        journey = Journey(writer, email="helene.leclerc@example.org")
        journey.enrol()
        journey.create_session()
        assert journey.candidate_id is not None and journey.session_id is not None
        reader.projections.catch_up(reader.ctx.store)  # support's search found her
        before = hotline.case_file(reader.ctx, reader.projections, journey.candidate_id)
        [created] = before.enrolments
        journey.enter()  # on the other node
        journey.pass_attestations()
        writer.projections.catch_up(writer.ctx.store)
        after = hotline.case_file(reader.ctx, reader.projections, journey.candidate_id)
        [entered] = after.enrolments
        assert entered.summary is not None and created.summary is not None
        assert entered.summary.status == writer.projections.sessions[journey.session_id].status
        assert entered.summary.status != created.summary.status
    finally:
        reader.close()
        writer.close()


def test_an_unknown_candidate_is_not_found(client: TestClient[Any]) -> None:
    """An operator's review: support opening an id that exists nowhere got 403 « this page is
    not for you », where every unknown id is 404 (README)."""
    page = client.get("/hotline/candidates/00000000-0000-4000-8000-000000000000")
    assert page.status_code == 404


def test_a_session_under_way_is_one_click_from_its_live_view(
    client: TestClient[Any], journey: Journey
) -> None:
    """An operator's review: support may watch a session live (R2) but the candidate's page
    had no way there; the address had to be typed."""
    journey.create_session()
    page = client.get(f"/hotline/candidates/{journey.candidate_id}").text
    assert "/staff/live/" not in page  # created, not yet under way
    journey.enter()
    journey.pass_attestations()
    page = client.get(f"/hotline/candidates/{journey.candidate_id}").text
    assert f'href="/staff/live/{journey.session_id}"' in page and "Regarder en direct" in page
    assert client.get(f"/staff/live/{journey.session_id}").status_code == 200


def test_the_live_page_of_a_closed_session_says_so_and_offers_nothing_to_watch(
    client: TestClient[Any], journey: Journey
) -> None:
    """A user's tour: a closed session's live page said it was closed, but its script still
    offered to watch it (409 and an error in the browser's console)."""
    journey.sent_for_review()
    page = client.get(f"/staff/live/{journey.session_id}")
    assert page.status_code == 200
    assert "Cette session est close" in page.text
    assert "watch.js" not in page.text and "<video" not in page.text


def fact(client: TestClient[Any], journey: Journey, name: str) -> str:
    """One line of the enrolment's facts on the case file (`step` or `outcome`), as read:
    tags dropped, spaces joined; "" when the page has no such line."""
    page = client.get(f"/hotline/candidates/{journey.candidate_id}").text
    found = re.search(rf'<dd id="{name}-{journey.enrollment_id}">(.*?)</dd>', page, re.S)
    if found is None:
        return ""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def test_the_case_file_says_where_the_candidate_is_and_what_came_of_her_exam(
    client: TestClient[Any], platform: Platform, journey: Journey
) -> None:
    """A candidate calls the hotline: the agent reads her step in the words of her own
    screen (R7–R10), then the exam under way and sent, and once decided the verdict and the
    day its result was sent to her (R19). The page said only « aux vérifications »."""
    examiner = accounts.register_staff(
        platform.ctx, email="eve@example.org", name="Eve", role=Role.EXAMINER
    )
    journey.create_session()
    assert fact(client, journey, "step") == "Session d'examen créée, pas encore ouverte"
    journey.enter()
    journey.pass_attestations()
    assert fact(client, journey, "step") == (
        "Étape 2 sur 4 — Vérifications de l'équipement Test du son — écran 1 sur 4 de cette étape"
    )
    journey.pass_equipment()
    assert fact(client, journey, "step").startswith("Étape 3 sur 4 — Identification")
    journey.take_photos()
    journey.record_environment()
    journey.start_exam()
    assert fact(client, journey, "step") == "Examen en cours"
    assert fact(client, journey, "outcome") == ""  # nothing to tell yet

    journey.answer_and_send()
    assert fact(client, journey, "step") == "Examen envoyé au contrôle"
    assert fact(client, journey, "outcome") == (
        "En cours de contrôle par un examinateur, qui décide au plus tard le 04/02/2025"
    )
    journey.decided(examiner, Verdict.VALIDATED)
    assert fact(client, journey, "outcome") == (
        "Session validée — le résultat n'est pas encore envoyé au candidat"
    )
    journey.clock.advance(days=1)
    assert journey.review_id is not None
    reviewing.release_results(platform.ctx, journey.review_id, released_by=examiner)
    assert fact(client, journey, "outcome") == "Session validée — résultat envoyé le 28/01/2025"
    client.get("/lang/en")
    assert fact(client, journey, "step") == "Result sent to the candidate: session validated"
    assert fact(client, journey, "outcome") == "Session validated — result sent on 28/01/2025"


def test_an_invalidated_then_contested_exam_reads_so_on_the_case_file(
    client: TestClient[Any], platform: Platform, journey: Journey
) -> None:
    """An invalidation read « envoyée » in a green badge; a contested one gave no sign of
    the appeal the candidate calls about (R19)."""
    first, second = (
        accounts.register_staff(platform.ctx, email=f"{n}@example.org", name=n, role=Role.EXAMINER)
        for n in ("first", "second")
    )
    journey.create_session()
    journey.through_checks()
    journey.start_exam()
    journey.answer_and_send()
    assert journey.review_id is not None and journey.candidate_id is not None
    review = platform.ctx.store.get(journey.review_id, Review)
    launched = next(e for e in review.evidence if e.kind == "ExamLaunched")
    reviewing.assign_examiner(platform.ctx, review.id, first)
    reviewing.decide_review(
        platform.ctx,
        review.id,
        examiner_id=first,
        verdict=Verdict.INVALIDATED,
        reasons=(CitedReason(ReasonCode.HEADPHONES, (launched.id,)),),
    )
    reviewing.release_results(platform.ctx, review.id, released_by=first)
    assert badge(client, journey) == "error: invalidée"
    assert fact(client, journey, "outcome") == "Session invalidée — résultat envoyé le 27/01/2025"
    appeals.lodge_appeal(
        platform.ctx,
        review.id,
        candidate_id=journey.candidate_id,
        reason="je portais des bouchons d'oreille prescrits par mon médecin",
    )
    assert fact(client, journey, "outcome") == (
        "Session invalidée — résultat envoyé le 27/01/2025 Contestation en cours d'examen"
    )
    journey.clock.advance(days=2)
    appeals.take_appeal(platform.ctx, review.id, second)
    appeals.decide_appeal(
        platform.ctx,
        review.id,
        examiner_id=second,
        outcome=AppealOutcome.OVERTURNED,
        answer="the recording shows the candidate alone and silent throughout",
    )
    assert fact(client, journey, "outcome") == (
        "Session validée après contestation — décision envoyée le 29/01/2025"
    )


def badge(client: TestClient[Any], journey: Journey) -> str:
    """The first badge beside the enrolment's title on the case file (its state), as read:
    its colour and words, `"error: invalidée"`."""
    page = client.get(f"/hotline/candidates/{journey.candidate_id}").text
    card = page.split(f'id="e-{journey.enrollment_id}"', 1)[1].split("</header>", 1)[0]
    found = re.search(r'<span class="badge badge--(\w+)"[^>]*>(.*?)</span>', card, re.S)
    assert found is not None
    return f"{found.group(1)}: {html.unescape(found.group(2))}"


def test_before_commencer_the_case_file_says_the_checks_are_done_not_the_exam_under_way(
    client: TestClient[Any], platform: Platform, journey: Journey
) -> None:
    """A reviewer's check: the case file read « Examen en cours » (and its badge « examen en
    cours ») from the launch of the exam (R10), while the candidate still stood at her tile
    and had not pressed « Commencer » (R14, R15). It says the checks are done, the exam not
    started, and the portal's screen she is at; then the exam under way; then finished and
    not sent yet (R18)."""
    journey.create_session()
    aid = journey.through_checks()
    not_started = "Vérifications terminées, examen pas encore commencé"
    assert fact(client, journey, "step") == (
        f"{not_started} Portail d'examen : l'examen « À démarrer » pas encore ouvert (le profil "
        "d'abord, la première fois)"
    )
    assert badge(client, journey) == "info: vérifications terminées, examen pas commencé"
    journey.to_tile()
    assert fact(client, journey, "step") == (
        f"{not_started} Examen ouvert : « Je démarre maintenant » pas encore cliqué"
    )
    portal.start_now(platform.ctx, aid)
    platform.settle()  # a worker provisions the workspace
    assert fact(client, journey, "step") == (
        f"{not_started} Consignes de l'examen affichées : « Commencer » pas encore cliqué"
    )
    portal.defer_exam(platform.ctx, aid)  # R14: she may leave and come back
    assert fact(client, journey, "step") == (
        f"{not_started} Examen reporté : le candidat peut revenir avant « Commencer »"
    )
    journey.clock.advance(minutes=30)
    journey.enter("je reviens passer mon examen après avoir différé le démarrage ce matin")
    assert "Portail d'examen" in fact(client, journey, "step")  # back: no longer away
    journey.start_exam()  # « Commencer »
    assert fact(client, journey, "step") == "Examen en cours"
    assert badge(client, journey) == "warning: examen en cours"
    portal.finish_exam(platform.ctx, aid)
    assert fact(client, journey, "step") == (
        "Examen terminé, pas encore envoyé au contrôle Résultats détaillés affichés : le code "
        "à recopier, puis « Oui, envoyer »"
    )
    assert badge(client, journey) == "warning: examen terminé, pas encore envoyé"


def test_back_in_a_launched_exam_the_badge_says_the_exam_not_the_checks(
    client: TestClient[Any], journey: Journey
) -> None:
    """A blocked screen during the exam (R23): the hotline unblocks, the candidate comes
    back (R6). The badge read « aux vérifications » beside « Examen en cours »: her return
    put the session back in the checks, done long before."""
    journey.create_session()
    journey.through_checks()
    journey.start_exam()
    act(client, journey, "unblock", reason="her screen froze during the exam")
    journey.clock.advance(minutes=5)
    journey.enter("mon écran s'est figé pendant l'examen et la hotline m'a débloquée")
    assert fact(client, journey, "step") == "Examen en cours"
    assert badge(client, journey) == "warning: examen en cours"


def sent_for_review(platform: Platform, journey: Journey) -> UUID:
    """Her exam taken and sent; the examiner (Eve) who will decide it."""
    examiner = accounts.register_staff(
        platform.ctx, email="eve@example.org", name="Eve", role=Role.EXAMINER
    )
    journey.create_session()
    journey.through_checks()
    journey.start_exam()
    journey.answer_and_send()
    return examiner


def test_once_the_result_is_sent_the_step_says_so_and_which_result(
    client: TestClient[Any], platform: Platform, journey: Journey
) -> None:
    """A reviewer's check: with the result sent to the candidate (R19), the step still read
    « Examen envoyé au contrôle » beside « Session invalidée — résultat envoyé le … »."""
    examiner = sent_for_review(platform, journey)
    assert fact(client, journey, "step") == "Examen envoyé au contrôle"
    assert journey.review_id is not None
    review = platform.ctx.store.get(journey.review_id, Review)
    launched = next(e for e in review.evidence if e.kind == "ExamLaunched")
    headphones = CitedReason(ReasonCode.HEADPHONES, (launched.id,))
    journey.decided(examiner, Verdict.INVALIDATED, (headphones,))
    assert fact(client, journey, "step") == "Examen envoyé au contrôle"  # she still waits
    assert journey.review_id is not None
    reviewing.release_results(platform.ctx, journey.review_id, released_by=examiner)
    assert fact(client, journey, "step") == "Résultat envoyé au candidat : session invalidée"
    assert fact(client, journey, "outcome") == "Session invalidée — résultat envoyé le 27/01/2025"


def test_no_photo_waiver_is_offered_before_or_after_the_photos(
    client: TestClient[Any], journey: Journey
) -> None:
    """A reviewer's check: the case file offered « Dispenser d'une photo » with both photos
    taken, where the domain refuses any waiver but of the photo the candidate is at (R9).
    It is offered at that photo only, for that photo."""
    waiver = f'action="/hotline/enrolments/{journey.enrollment_id}/waive-photo"'
    journey.create_session()
    journey.enter()
    journey.pass_attestations()
    assert waiver not in text(client.get(f"/hotline/candidates/{journey.candidate_id}"))
    journey.pass_equipment()
    page = text(client.get(f"/hotline/candidates/{journey.candidate_id}"))
    assert waiver in page
    assert "Photo à laquelle le candidat est arrivé : photo du visage" in page
    assert 'value="id_photo"' not in page  # the ID photo's waiver would be refused here
    journey.take_photos()
    page = text(client.get(f"/hotline/candidates/{journey.candidate_id}"))
    assert waiver not in page and "Dispenser d'une photo" not in page
    # A waiver posted all the same is refused, the refusal shown in place.
    refused = act(client, journey, "waive-photo", step="id_photo", reason="camera broke")
    assert refused.status_code == 409 and "pas à cette photo" in text(refused)


def test_the_badge_says_a_decided_result_is_not_sent_yet_as_the_outcome_does(
    client: TestClient[Any], platform: Platform, journey: Journey
) -> None:
    """A reviewer's check: the badge read « en cours de contrôle » beside « Session validée —
    le résultat n'est pas encore envoyé au candidat » (R19)."""
    examiner = sent_for_review(platform, journey)
    assert badge(client, journey) == "info: en cours de contrôle"
    journey.decided(examiner, Verdict.VALIDATED)
    assert badge(client, journey) == "success: validée, résultat pas encore envoyé"
    assert fact(client, journey, "outcome") == (
        "Session validée — le résultat n'est pas encore envoyé au candidat"
    )
    assert journey.review_id is not None
    reviewing.release_results(platform.ctx, journey.review_id, released_by=examiner)
    assert badge(client, journey) == "success: validée"


def test_the_command_line_shows_the_step_and_outcome_the_page_shows(
    client: TestClient[Any], platform: Platform, journey: Journey
) -> None:
    """`vigie hotline show` listed the enrolment's raw state without the step and the
    outcome the case file shows: it prints the page's lines, in English."""
    examiner = accounts.register_staff(
        platform.ctx, email="eve@example.org", name="Eve", role=Role.EXAMINER
    )
    client.get("/lang/en")

    def shown() -> str:
        return cli(platform, "show", str(journey.candidate_id))[1]

    journey.create_session()
    journey.enter()
    journey.pass_attestations()
    step = fact(client, journey, "step")
    assert step.startswith("Step 2 of 4 — Equipment checks")
    assert (
        "  step: Step 2 of 4 — Equipment checks (Sound test — screen 1 of 4 of this step)\n"
        in shown()
    )
    assert ": in the checks; last day" in shown()
    journey.pass_equipment()
    journey.take_photos()
    journey.record_environment()
    assert "  step: Checks done, exam not started yet (Exam portal:" in shown()
    journey.start_exam()
    journey.answer_and_send()
    journey.decided(examiner, Verdict.VALIDATED)
    assert "  step: Exam submitted for review\n" in shown()
    assert ": validated, result not sent yet; last day" in shown()
    assert "  outcome: Session validated — the result is not sent to the candidate yet\n" in shown()
    assert journey.review_id is not None
    reviewing.release_results(platform.ctx, journey.review_id, released_by=examiner)
    lines = shown()
    assert f"  step: {fact(client, journey, 'step')}\n" in lines
    assert f"  outcome: {fact(client, journey, 'outcome')}\n" in lines
    assert "  step: Result sent to the candidate: session validated\n" in lines


def renew_offered(client: TestClient[Any], journey: Journey) -> tuple[bool, str]:
    """Whether the case file offers « Renouveler la session », and the line saying why not
    (its words, "" when it is offered)."""
    page = client.get(f"/hotline/candidates/{journey.candidate_id}").text
    offered = f'action="/hotline/enrolments/{journey.enrollment_id}/renew"' in page
    found = re.search(rf'id="no-renewal-{journey.enrollment_id}">(.*?)</p>', page, re.S)
    why = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", found[1]))) if found else ""
    return offered, why


def test_renewal_is_offered_only_when_possible_and_otherwise_says_why_r3_r18(
    client: TestClient[Any], platform: Platform, journey: Journey
) -> None:
    """« Renouveler la session » stood on a final, post-appeal invalidation and said no only
    once opened (a user's tour): it is offered by the test the renewal runs (R3, R18), and
    in its place otherwise stands the refusal's own sentence."""
    journey.create_session()
    assert renew_offered(client, journey) == (True, "")
    for n in range(5):  # 15 days each: the fifth reaches the last day (day 90)
        assert act(client, journey, "renew", reason=f"renewal {n}").status_code == 200
    assert renew_offered(client, journey) == (
        False,
        "Renouveler la session — Cette session ne peut pas être renouvelée : elle court déjà "
        "jusqu'au dernier jour de l'inscription (jour 90), ou ce jour est passé. Le centre "
        "peut inscrire à nouveau le candidat.",
    )

    # An exam sent, invalidated, contested, the invalidation upheld: over, for good.
    other = Journey(platform, email="noor.haddad@example.org")
    other.sent_for_review()
    assert other.review_id is not None and other.candidate_id is not None
    first, second = (
        accounts.register_staff(platform.ctx, email=f"{n}@example.org", name=n, role=Role.EXAMINER)
        for n in ("first", "second")
    )
    review = platform.ctx.store.get(other.review_id, Review)
    launched = next(e for e in review.evidence if e.kind == "ExamLaunched")
    other.decided(first, Verdict.INVALIDATED, (CitedReason(ReasonCode.HEADPHONES, (launched.id,)),))
    reviewing.release_results(platform.ctx, review.id, released_by=first)
    appeals.lodge_appeal(
        platform.ctx, review.id, candidate_id=other.candidate_id, reason="des bouchons"
    )
    appeals.take_appeal(platform.ctx, review.id, second)
    appeals.decide_appeal(
        platform.ctx,
        review.id,
        examiner_id=second,
        outcome=AppealOutcome.UPHELD,
        answer="les écouteurs se voient bien sur l'enregistrement",
    )
    client.get("/lang/en")
    assert renew_offered(client, other) == (
        False,
        "Renew the session — The candidate's exam was sent, or they left it for good: this "
        "session is over and cannot be renewed.",
    )
    page = client.get(f"/hotline/candidates/{other.candidate_id}").text
    assert "<summary>Renew the session</summary>" not in page


def test_the_case_file_says_what_its_entries_count_r6(
    client: TestClient[Any], platform: Platform, journey: Journey
) -> None:
    """« Entrées 1 » meant nothing to a support agent (a user's tour): the entries into the
    exam session, the first and then each resumption with its reason (R6)."""
    journey.create_session()

    def entries() -> str:
        page = client.get(f"/hotline/candidates/{journey.candidate_id}").text
        row = page.split("<dt>Entrées dans la session d'examen</dt>", 1)[1]
        found = re.search(r"<dd[^>]*>(.*?)</dd>", row, re.S)
        assert found is not None
        return html.unescape(re.sub(r"<[^>]+>", "", found[1])).replace("\N{NO-BREAK SPACE}", " ")

    assert entries() == "aucune pour l'instant"
    journey.enter()
    assert entries().startswith("une fois (aucune reprise)")  # then « · Regarder en direct »
    journey.clock.advance(minutes=5)
    journey.enter(resume_reason="suite à plantage, je dois reprendre mon examen en me reconnectant")
    assert entries().startswith(
        "2 fois : la première, puis 1 reprise avec un motif (« Reprendre l'examen »)"
    )
