"""The candidate's language from the invitation to the pages and every mail (R25, issue 13),
what the welcome mail promises, and the portal's states in words."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from adapters.mail.memory import MemoryMailer
from app.mail_rendering import SupportContact
from app.use_cases import accommodations, portal, proctoring
from domain.bounds import LIMITS
from domain.candidate import Candidate
from domain.exam_attempt import ExamAttempt
from domain.proctored_session import EnvironmentPart
from tests.acceptance.web import form_token, log_in
from ui.journey import PROFILE, Journey, hotline_account, make_platform
from ui.web.app import create_app
from ui.web.i18n import catalogue
from vigie_contracts.samples import ebml_sample

SECRET = b"p" * 32
PASSWORD = "candidat-pass-1"


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = make_platform()
    yield platform
    platform.close()


def mails_to(platform: Platform, email: str) -> list[Any]:
    mailer = platform.mailer
    assert isinstance(mailer, MemoryMailer)
    return mailer.to(email)


def enrolled(platform: Platform, email: str, language: str) -> Journey:
    journey = Journey(platform, email=email, language=language)
    journey.enrol()
    return journey


def client_of(platform: Platform) -> TestClient[Any]:
    client = TestClient(create_app(platform, secret=SECRET, support=SupportContact()))
    client.__enter__()
    return client


def test_an_english_candidate_gets_english_mails_with_a_welcome_that_says_what_is_true(
    platform: Platform,
) -> None:
    journey = enrolled(platform, "en@example.org", "en")
    journey.create_session()
    subjects = [m.subject for m in mails_to(platform, "en@example.org")]
    assert subjects == [
        "Certification - Create your exam session",
        "Welcome to your certification space",
    ]
    welcome = mails_to(platform, "en@example.org")[-1]
    # The link sets the password once: the mail says so, and where to log in afterwards.
    assert "keep this e-mail" not in welcome.text.lower()
    assert "works once" in welcome.text
    assert f"{platform.links.base_url}/login" in welcome.text
    assert "/password/forgot" in welcome.text
    # The HTML is the designed layout, with the support contact (R26).
    assert "#0b3d91" in welcome.html and 'lang="en"' in welcome.html
    assert "hotline-certifications@vigie.example" in welcome.html
    assert "hotline-certifications@vigie.example" in welcome.text


def test_the_french_welcome_no_longer_promises_a_link_for_logging_in_again(
    platform: Platform,
) -> None:
    journey = enrolled(platform, "fr@example.org", "fr")
    journey.create_session()
    welcome = mails_to(platform, "fr@example.org")[-1]
    assert welcome.subject.startswith("Bienvenue")
    assert "Conservez cet e-mail" not in welcome.text
    assert "une seule fois" in welcome.text
    assert f"{platform.links.base_url}/login" in welcome.text


def test_the_pages_after_log_in_speak_the_account_language(platform: Platform) -> None:
    journey = enrolled(platform, "en@example.org", "en")
    journey.create_session()
    journey.set_password(PASSWORD)
    client = client_of(platform)
    try:
        assert 'lang="fr"' in client.get("/login").text  # before: the platform's default
        log_in(client, "/login", "en@example.org", PASSWORD)
        page = client.get("/terms", follow_redirects=True).text
        assert '<html lang="en"' in page
    finally:
        client.__exit__(None, None, None)


def invitation_path(platform: Platform, email: str) -> str:
    [invitation] = [m for m in mails_to(platform, email) if "/sessions/new?t=" in m.text]
    return "/sessions/new?t=" + invitation.text.split("/sessions/new?t=", 1)[1].split()[0]


def test_the_invitation_opens_in_the_enrolment_language_unless_one_was_chosen(
    platform: Platform,
) -> None:
    """An English candidate's invitation opened in French, and so did what « Create my
    session » answered and the welcome mail's password link (a reviewer's check): each page
    follows her enrolment's language, as its mail does, until one is chosen on the browser."""
    enrolled(platform, "en@example.org", "en")
    path = invitation_path(platform, "en@example.org")
    client = client_of(platform)
    try:
        page = client.get(path).text
        assert '<html lang="en"' in page and "Create my session" in page
        token = path.split("t=", 1)[1]
        created = client.post(
            "/sessions/new", data={"token": token, "_csrf_token": form_token(client, path)}
        )
        assert '<html lang="en"' in created.text and "Your exam session was created" in created.text
    finally:
        client.__exit__(None, None, None)
    platform.settle()  # the welcome mail: its link to choose a password opens in English too
    welcome = mails_to(platform, "en@example.org")[-1].text
    password_link = "/password/reset?t=" + welcome.split("/password/reset?t=", 1)[1].split()[0]
    elsewhere = client_of(platform)  # opened on another device
    try:
        assert '<html lang="en"' in elsewhere.get(password_link).text
    finally:
        elsewhere.__exit__(None, None, None)
    chosen = client_of(platform)  # a browser where French was chosen: the choice holds
    try:
        chosen.get("/lang/fr")
        assert "Créer ma session" in chosen.get(path).text
    finally:
        chosen.__exit__(None, None, None)
    broken = client_of(platform)  # a broken link still opens, in the default language
    try:
        assert '<html lang="fr"' in broken.get("/sessions/new?t=nothing").text
    finally:
        broken.__exit__(None, None, None)


def with_a_session(platform: Platform) -> Journey:
    """A French candidate enrolled, her exam session created and her password set."""
    journey = enrolled(platform, "fr@example.org", "fr")
    journey.create_session()
    journey.set_password(PASSWORD)
    return journey


def test_a_language_chosen_on_the_page_wins_and_becomes_the_account_language(
    platform: Platform,
) -> None:
    journey = with_a_session(platform)
    client = client_of(platform)
    try:
        client.get("/lang/en")
        log_in(client, "/login", "fr@example.org", PASSWORD)
        assert '<html lang="en"' in client.get("/exams").text
        assert journey.candidate_id is not None
        candidate = platform.ctx.store.get(journey.candidate_id, Candidate)
        assert candidate.language == "en"  # the next mails follow
    finally:
        client.__exit__(None, None, None)


@pytest.mark.parametrize(
    "headers",
    [{"sec-fetch-site": "cross-site"}, {"referer": "https://elsewhere.example/page"}],
    ids=["fetch-metadata", "referer"],
)
def test_a_link_on_another_site_changes_the_pages_language_never_her_mails(
    platform: Platform, headers: dict[str, str]
) -> None:
    """A security review's: « /lang/en » linked from any site set a logged-in candidate's
    account language, and so her mails'."""
    journey = with_a_session(platform)
    client = client_of(platform)
    try:
        log_in(client, "/login", "fr@example.org", PASSWORD)
        client.get("/lang/en", headers=headers)
        assert '<html lang="en"' in client.get("/exams").text  # the pages, as asked
        assert journey.candidate_id is not None
        assert platform.ctx.store.get(journey.candidate_id, Candidate).language == "fr"
        client.get("/lang/en", headers={"sec-fetch-site": "same-origin"})  # her own click
        assert platform.ctx.store.get(journey.candidate_id, Candidate).language == "en"
    finally:
        client.__exit__(None, None, None)


def test_a_reset_asked_from_the_english_page_arrives_in_english(platform: Platform) -> None:
    enrolled(platform, "fr@example.org", "fr")
    client = client_of(platform)
    try:
        client.get("/lang/en")
        reply = client.post(
            "/password/forgot",
            data={
                "email": "fr@example.org",
                "account": "proctoring",
                "_csrf_token": form_token(client, "/password/forgot"),
            },
        )
        assert reply.is_success and "Check your mailbox" in reply.text
        platform.settle()
        reset = mails_to(platform, "fr@example.org")[-1]
        assert reset.subject == "Resetting your password"
    finally:
        client.__exit__(None, None, None)


def test_a_refused_log_in_keeps_the_e_mail_and_says_what_to_do(platform: Platform) -> None:
    client = client_of(platform)
    try:
        reply = client.post(
            "/login",
            data={
                "email": "someone@example.org",
                "password": "wrong-password",
                "_csrf_token": form_token(client, "/login"),
            },
        )
        assert reply.status_code == 401
        assert 'value="someone@example.org"' in reply.text
        assert "ne correspondent pas" in reply.text and 'aria-invalid="true"' in reply.text
    finally:
        client.__exit__(None, None, None)


def test_a_used_reset_link_is_refused_in_place_with_what_to_do(platform: Platform) -> None:
    journey = enrolled(platform, "fr@example.org", "fr")
    journey.create_session()
    welcome = mails_to(platform, "fr@example.org")[-1]
    token = welcome.text.split("/password/reset?t=")[1].split()[0].replace("%3A", ":")
    client = client_of(platform)
    try:
        csrf_token = form_token(client, f"/password/reset?t={token}")
        replies = [
            client.post(
                "/password/reset",
                data={"token": token, "password": "un-mot-de-passe", "_csrf_token": csrf_token},
            )
            for _ in range(2)
        ]
        assert replies[0].is_success and "Votre mot de passe est enregistré" in replies[0].text
        reply = replies[1]  # the same link again: refused on the page, with what to do
        assert reply.status_code == 409
        assert "déjà servi" in reply.text and 'data-rule="R24"' in reply.text
        assert "règle R24" not in reply.text  # the guide's rule in words, never its code
        assert 'href="/password/forgot"' in reply.text
        # Opened again, the link says so at once, with no form to type a password into (it
        # showed the form, and said so only after a new password was typed).
        page = client.get(f"/password/reset?t={token}")
        assert page.status_code == 200 and "déjà servi" in page.text
        assert 'name="password"' not in page.text and 'href="/password/forgot"' in page.text
    finally:
        client.__exit__(None, None, None)


def test_the_exams_list_shows_states_in_words_never_codes(platform: Platform) -> None:
    with_a_session(platform)
    client = client_of(platform)
    try:
        log_in(client, "/login", "fr@example.org", PASSWORD)
        client.post("/terms", data={"_csrf_token": form_token(client, "/terms")})
        page = client.get("/exams").text
        assert "Examen à passer" in page and "badge" in page
        assert ">created<" not in page and "· created" not in page
        assert "Certification Bureautique Access" in page  # the title, not the code
        # « Examen » started the proctored session and its recording, nothing said of it.
        words = html.unescape(page)
        assert "« Examen » démarre votre session surveillée" in words
        assert "au plus 3 heures" in words and "pas un téléphone" in words
        assert '<a href="/equipment">Test du matériel</a>, qui ne démarre rien' in words
    finally:
        client.__exit__(None, None, None)


def test_every_state_word_has_its_french() -> None:
    from ui.web.candidate import SESSION_STATES

    french = catalogue("fr")
    for words, _tone in SESSION_STATES.values():
        assert french.gettext(words) != words, words


def test_a_result_mail_names_its_reasons_in_words_in_the_reader_language() -> None:
    from app.links import LinkSigner
    from app.mail_rendering import MailRenderer
    from domain.outbound_mail import MailKind

    renderer = MailRenderer(LinkSigner(SECRET, "http://vigie.test"), SupportContact())
    params = {
        "certification": "Certification Bureautique Access",
        "verdict": "invalidated",
        "score": "-",
        "reasons": "proctoring_tab_closed, phone_used",
    }
    english = renderer.render(MailKind.RESULTS, "en", params, "Camille", "c@example.org")
    french = renderer.render(MailKind.RESULTS, "fr", params, "Camille", "c@example.org")
    assert "proctoring tab closed, use of a phone" in english.text
    assert "onglet e-surveillance fermé, utilisation d'un téléphone" in french.text
    assert "proctoring_tab_closed" not in english.html + french.html


# The portal's profile form filled in but for the civility.
WITHOUT_CIVILITY = {
    "email": "fr@example.org",
    "password": "portail-pass-1",
    "surname": "Martin",
    "first_name": "Camille",
    "birth_date": "1990-05-17",
    "birth_place": "Nantes",
}


def at_the_portal_profile(platform: Platform) -> tuple[Journey, TestClient[Any], str]:
    """A French candidate logged in, through the checks: her journey, the client and her
    portal's page (its profile still to « Créer »)."""
    journey = with_a_session(platform)
    attempt_id = journey.through_checks()
    client = client_of(platform)
    log_in(client, "/login", "fr@example.org", PASSWORD)
    return journey, client, f"/portal/{attempt_id}"


def test_the_portal_profile_asks_for_a_civility_and_pre_selects_none_r11(
    platform: Platform,
) -> None:
    """« Madame » stood pre-selected: a candidate who did not look had it printed on her
    certificate (a reviewer's check). Nothing is chosen for her; sent without one, the form
    is refused naming the field, and nothing is recorded."""
    journey, client, page = at_the_portal_profile(platform)
    try:
        profile = client.get(page).text
        assert '<option value="" disabled selected>Choisir…</option>' in profile
        assert '<select id="civility" name="civility" required>' in profile
        refused = client.post(
            f"{page}/profile",
            data={"_csrf_token": form_token(client, page), **WITHOUT_CIVILITY},
        )
        assert refused.status_code == 409  # as every refusal of the domain's
        assert "« Civilité » : choisissez dans la liste." in html.unescape(refused.text)
        # The page's script asks for the refusal alone: it names the field, to be shown
        # beside it (journey.js), where it stood under « Créer ».
        fragment = client.post(
            f"{page}/profile",
            data={"_csrf_token": form_token(client, page), **WITHOUT_CIVILITY},
            headers={"x-vigie-fragment": "1"},
        )
        assert fragment.status_code == 409
        assert 'data-field="civility"' in fragment.text
        assert journey.candidate_id is not None
        assert not platform.ctx.store.get(journey.candidate_id, Candidate).profile_complete
    finally:
        client.__exit__(None, None, None)


def test_the_desk_recording_says_what_comes_after_it_r10_r11(platform: Platform) -> None:
    """« Votre examen démarre dès que vous arrêtez cet enregistrement », and then came a
    profile to fill in and a tile to click (a reviewer's first run): the step says so."""
    journey = with_a_session(platform)
    journey.enter()
    journey.pass_attestations()
    journey.pass_equipment()
    journey.take_photos()
    sid = journey.session_id
    assert sid is not None
    for part in (EnvironmentPart.EARS, EnvironmentPart.ROOM):
        proctoring.start_environment_recording(platform.ctx, sid, part)
        journey.clock.advance(seconds=20)
        proctoring.stop_environment_recording(
            platform.ctx, sid, part, ebml_sample(), duration_s=20.0
        )
    client = client_of(platform)
    try:
        log_in(client, "/login", "fr@example.org", PASSWORD)
        page = html.unescape(client.get(f"/exams/{sid}").text)
        assert "Votre examen démarre dès que vous arrêtez cet enregistrement : le portail" in page
        assert "remplissez votre profil la première fois, puis lancez l'examen" in page
    finally:
        client.__exit__(None, None, None)


def test_mes_examens_says_when_today_is_too_late_for_the_exam_r16(platform: Platform) -> None:
    """At 23:04 she went through every check and the three recordings, then read « Il est
    trop tard pour commencer l'examen aujourd'hui » (a reviewer's check): « Mes examens »
    says it before anything starts, and warns within the hour before the last start."""
    journey = with_a_session(platform)
    client = client_of(platform)
    try:
        log_in(client, "/login", "fr@example.org", PASSWORD)
        client.post("/terms", data={"_csrf_token": form_token(client, "/terms")})
        morning = html.unescape(client.get("/exams").text)
        assert "avant minuit" not in morning and 'action="/exams/' in morning
        journey.clock.advance(hours=13)  # 22:00 in Paris: the 1 h 30 exam must begin by 22:30
        evening = html.unescape(client.get("/exams").text)
        assert "commencez les vérifications à 22:10 au plus tard" in evening
        assert 'action="/exams/' in evening  # still possible
        journey.clock.advance(hours=1, minutes=4)  # 23:04
        night = html.unescape(client.get("/exams").text)
        assert "Il est trop tard aujourd'hui pour cet examen : il dure 1 h 30" in night
        assert "Revenez demain : votre session est valable jusqu'au" in night
        assert f'action="/exams/{journey.session_id}/enter"' not in night  # nothing to start
    finally:
        client.__exit__(None, None, None)


@pytest.mark.parametrize(
    ("language", "extra_percent", "said"),
    [
        ("fr", 0, "Prévoyez 20 minutes de plus que la durée de l'examen (1 h 30), seul(e)"),
        (
            "fr",
            33,
            "Prévoyez 20 minutes de plus que la durée de l'examen (2 h, dont 30 min de temps "
            "supplémentaire accordé par votre centre de formation), seul(e)",
        ),
        ("en", 0, "Plan 20 minutes more than the exam's duration (1 h 30 min), alone"),
        (
            "en",
            33,
            "Plan 20 minutes more than the exam's duration (2 h, of which 30 min of extra time "
            "granted by your training centre), alone",
        ),
    ],
)
def test_mes_examens_gives_the_exam_s_duration_it_tells_her_to_plan_beyond_r4(
    platform: Platform, language: str, extra_percent: int, said: str
) -> None:
    """A reviewer's tour: « Prévoyez 20 minutes de plus que la durée de l'examen » gave no
    duration, which first appeared after « Examen » had started the 3-hour session. It is
    the certification's, with the extra time her enrolment grants (+33 %: 90 → 120 min)."""
    journey = enrolled(platform, f"{language}@example.org", language)
    journey.create_session()
    journey.set_password(PASSWORD)
    if extra_percent:
        assert journey.enrollment_id is not None
        accommodations.grant_accommodation(
            platform.ctx,
            journey.enrollment_id,
            granted_by=hotline_account(platform.ctx),
            extra_time_percent=extra_percent,
            arrangements="",
        )
    client = client_of(platform)
    try:
        log_in(client, "/login", journey.email, PASSWORD)
        client.post("/terms", data={"_csrf_token": form_token(client, "/terms")})
        page = html.unescape(client.get("/exams").text)
        assert said in page
        assert 'action="/exams/' in page  # said before « Examen », which starts the 3 hours
    finally:
        client.__exit__(None, None, None)


def test_the_portal_profile_names_every_wrong_field_at_once_with_its_rule_r11(
    platform: Platform,
) -> None:
    """With the browser's checks bypassed, « Créer » said one field per try, in vague words:
    « Vérifiez le champ « Date de naissance » », then « Mot de passe » without its 8
    characters, then « Nom » (a reviewer's tour). Every wrong field is now named at once,
    each with what it must be, and beside it (data-field); the form carries each bound."""
    journey, client, page = at_the_portal_profile(platform)
    try:
        form = client.get(page).text
        for field in ("password", "surname", "first_name", "birth_place"):
            assert re.search(rf'id="{field}"[^>]*maxlength="{LIMITS[field]}"', form), field
        wrong = {
            "email": "fr@example.org",
            "password": "court",
            "surname": "  ",
            "first_name": "Camille",
            "birth_date": "17/05/1990",
            "birth_place": "N" * (LIMITS["birth_place"] + 1),
        }
        refused = client.post(
            f"{page}/profile", data={"_csrf_token": form_token(client, page), **wrong}
        )
        assert refused.status_code == 409
        said = html.unescape(refused.text)
        for sentence in (
            "« Mot de passe » : 8 caractères au moins.",
            "« Civilité » : choisissez dans la liste.",
            "« Nom » est à remplir.",
            "« Date de naissance » : indiquez le jour, le mois et l'année.",
            "« Lieu de naissance » est trop long : pas plus de 100 caractères (101 saisis).",
        ):
            assert sentence in said, sentence
        fragment = client.post(
            f"{page}/profile",
            data={"_csrf_token": form_token(client, page), **wrong},
            headers={"x-vigie-fragment": "1"},
        )
        fields = re.findall(r'data-field="(\w+)"', fragment.text)
        assert fields == ["password", "civility", "surname", "birth_date", "birth_place"]
        assert journey.candidate_id is not None
        assert not platform.ctx.store.get(journey.candidate_id, Candidate).profile_complete
    finally:
        client.__exit__(None, None, None)


def at_the_practice(platform: Platform, language: str) -> tuple[Journey, TestClient[Any], str]:
    """A candidate logged in at her portal, her profile made and the practice questionnaire
    offered (ENI-ACCESS, R12), the pages in `language`: her journey, the client, the page."""
    journey = enrolled(platform, "fr@example.org", "fr")
    journey.create_session()
    attempt_id = journey.through_checks()
    assert journey.candidate_id is not None
    portal.save_portal_profile(
        platform.ctx, journey.candidate_id, email=journey.email, profile=PROFILE, password=PASSWORD
    )
    journey.set_password(PASSWORD)
    client = client_of(platform)
    log_in(client, "/login", "fr@example.org", PASSWORD)
    client.get(f"/lang/{language}")
    return journey, client, f"/portal/{attempt_id}"


PRACTICE_TOO_LONG = {
    "fr": "Champ « Quel mot désigne l'affichage d'une partie seulement des enregistrements "
    "d'une feuille de données ? » : 10\u202f000 caractères au plus, et votre réponse en compte "
    "10\u202f001. Raccourcissez-la, puis appuyez à nouveau sur « Soumettre ». Rien n'a été "
    "enregistré.",
    "en": "Field “Quel mot désigne l'affichage d'une partie seulement des enregistrements "
    "d'une feuille de données ?”: 10,000 characters at most, and your answer has 10,001. "
    "Shorten it, then press “Submit” again. Nothing was recorded.",
}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_practice_answer_too_long_comes_back_beside_its_question_r12(
    platform: Platform, language: str
) -> None:
    """The practice questionnaire's answers had no bound and no maxlength (a user's tour):
    any length was read, normalised and scored. They are held to the exam's answer bound
    (LIMITS["answer"]): the fields' maxlength says it; one longer is refused beside its
    question, in the candidate's language, the answers as typed, nothing recorded."""
    journey, client, page = at_the_practice(platform, language)
    limit = LIMITS["answer"]
    filtre = "q-entrainement-filtre"  # the one question answered by typing (the others: choices)
    try:
        shown = client.get(page).text
        assert re.findall(rf'name="(q-[\w-]+)" maxlength="{limit}"', shown) == [filtre]
        sent = {filtre: "f" * (limit + 1)}
        refused = client.post(
            page + "/practice", data={"_csrf_token": form_token(client, page), **sent}
        )
        assert refused.status_code == 409
        said = html.unescape(refused.text)
        assert PRACTICE_TOO_LONG[language] in said
        # Beside its question, marked, and every answer as typed.
        field = re.search(rf'<input id="practice-2" name="{filtre}"[^>]*>', said)
        assert field is not None and 'aria-invalid="true"' in field.group(0)
        assert f'value="{"f" * (limit + 1)}"' in field.group(0)
        assert said.index(PRACTICE_TOO_LONG[language]) > said.index(field.group(0))
        # The page's script asks for the refusal alone, named for the field (journey.js).
        fragment = client.post(
            page + "/practice",
            data={"_csrf_token": form_token(client, page), **sent},
            headers={"x-vigie-fragment": "1"},
        )
        assert fragment.status_code == 409
        assert re.findall(r'data-field="([\w-]+)"', fragment.text) == [filtre]
        assert portal_attempt(journey).practice_scores == ()
    finally:
        client.__exit__(None, None, None)


def test_a_practice_answer_at_its_limit_is_scored_and_far_past_it_refused_at_the_edge_r12(
    platform: Platform,
) -> None:
    """At the bound an answer is scored as any other; past KEPT_TIMES it, it is no typing:
    refused before the handler with the field named, never echoed, nothing recorded."""
    journey, client, page = at_the_practice(platform, "fr")
    limit = LIMITS["answer"]
    try:
        far = client.post(
            page + "/practice",
            data={
                "_csrf_token": form_token(client, page),
                "q-entrainement-filtre": "f" * (4 * limit + 1),
            },
        )
        assert far.status_code == 400
        assert "f" * 1_000 not in far.text
        said = html.unescape(far.text)
        assert "« Votre réponse » est trop long : pas plus de 10\u202f000 caractères." in said
        assert portal_attempt(journey).practice_scores == ()
        kept = client.post(
            page + "/practice",
            data={"_csrf_token": form_token(client, page), "q-entrainement-filtre": "f" * limit},
            follow_redirects=False,
        )
        assert kept.status_code in (302, 303), kept.text[-400:]
        assert portal_attempt(journey).practice_scores == (0.0,)
    finally:
        client.__exit__(None, None, None)


def portal_attempt(journey: Journey) -> ExamAttempt:
    assert journey.attempt_id is not None
    return journey.platform.ctx.store.get(journey.attempt_id, ExamAttempt)


# The list's badge at each moment of the journey, in each language: « Examen en cours » only
# between « Commencer » (R15) and the end of the exam (R18). It said so from the launch (R10),
# while she was still at her profile, her tile or the instructions (a user's tour).
BADGES = {
    "fr": (
        "Examen à passer",
        "Vérifications en cours",
        "Vérifications terminées, examen pas encore commencé",
        "Examen en cours",
        "Examen terminé, pas encore envoyé au contrôle",
        "En cours de contrôle par un examinateur",
    ),
    "en": (
        "Exam to take",
        "Checks under way",
        "Checks done, exam not started yet",
        "Exam under way",
        "Exam finished, not sent for review yet",
        "Being checked by an examiner",
    ),
}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_exams_list_says_exam_under_way_only_once_the_exam_began(
    platform: Platform, language: str
) -> None:
    created, checks, checks_done, exam, finished, sent = BADGES[language]
    email = f"badge-{language}@example.org"
    journey = enrolled(platform, email, language)
    journey.create_session()
    journey.set_password(PASSWORD)
    client = client_of(platform)

    def badge() -> str:
        page = client.get("/exams").text
        [words] = re.findall(r'<span class="badge badge--\w+">([^<]*)</span>', page)
        return html.unescape(words)

    try:
        log_in(client, "/login", email, PASSWORD)
        client.post("/terms", data={"_csrf_token": form_token(client, "/terms")})
        assert badge() == created
        journey.enter()
        journey.pass_attestations()
        assert badge() == checks
        journey.pass_equipment()
        journey.take_photos()
        assert badge() == checks
        journey.record_environment()  # the exam launched (R10): the portal, not the exam
        assert badge() == checks_done
        attempt_id = journey.to_tile()
        assert badge() == checks_done
        portal.start_now(platform.ctx, attempt_id)  # « Je démarre maintenant »
        platform.settle()  # the workspace provisioned: the instructions, « Commencer »
        assert badge() == checks_done
        portal.begin_exam(platform.ctx, attempt_id)
        platform.settle()
        assert badge() == exam
        portal.finish_exam(platform.ctx, attempt_id)
        platform.settle()
        assert badge() == finished
        code = platform.ctx.store.get(attempt_id, ExamAttempt).validation_code
        assert code is not None
        portal.validate_exam(platform.ctx, attempt_id, typed_code=code)
        platform.settle()
        assert badge() == sent
    finally:
        client.__exit__(None, None, None)
