"""The result says whether the certification is obtained (R18, R19): a validated session is a
session that followed the rules, not a pass. The candidate's result mail and the centre's list
give the outcome, the score and the pass mark; the centre sees them once the result is
released, as the candidate does, never before."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from adapters.mail.memory import MemoryMailer
from app import tenancy
from app.catalogue import Catalogue
from app.links import LinkSigner
from app.mail_rendering import MailRenderer, SupportContact
from app.use_cases import accounts, reviewing
from domain.exam_paper import Question, QuestionKind
from domain.outbound_mail import MailKind
from domain.scoring import GivenAnswer, Results, points_needed, score
from domain.staff import Role
from tests.acceptance.test_appeals import contest, examiner, invalidated_and_sent, overturned
from tests.acceptance.web import log_in
from ui.journey import Journey, make_platform
from ui.web.app import create_app

SECRET = b"r" * 32
CENTRE_PASSWORD = "centre-pass-1"


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = make_platform()
    yield platform
    platform.close()


def centre_account(platform: Platform) -> Any:
    return accounts.register_staff(
        platform.ctx,
        email="centre@example.org",
        name="Centre",
        role=Role.CENTRE,
        password=CENTRE_PASSWORD,
    )


def sent_for_review(platform: Platform, language: str = "fr", centre: Any = None) -> Journey:
    """Enrolled in this language, the exam taken and sent: the journey's answers score 2/10
    on the Access certification, whose pass mark is 70 %."""
    journey = Journey(platform, language=language)
    if centre is not None:
        journey.centre_id = tenancy.centre_of_operator(centre)
    journey.sent_for_review()
    return journey


def validated_and_released(journey: Journey) -> None:
    examiner = journey.ctx.ids.new_id()
    journey.decided(examiner)
    assert journey.review_id is not None
    reviewing.release_results(journey.ctx, journey.review_id, released_by=examiner)
    journey.platform.settle()


def last_mail(platform: Platform, email: str) -> Any:
    mailer = platform.mailer
    assert isinstance(mailer, MemoryMailer)
    return mailer.to(email)[-1]


def words(text: str) -> str:
    """The text as read, tags dropped; a number's non-breaking space is kept."""
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(re.sub(r"<[^>]+>", "", text))).strip()


# --- the candidate's mail --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "subject", "outcome", "score_line"),
    [
        (
            "fr",
            "Résultat de votre certification : non réussie",
            "Certification Bureautique Access : non réussie.",
            "Votre score : 2/10 ; il fallait 7/10 (70\xa0%) pour l'obtenir.",
        ),
        (
            "en",
            "Your certification result: not passed",
            "Certification Bureautique Access: not passed.",
            "Your score: 2/10; 7/10 (70%) was needed to pass.",
        ),
    ],
)
def test_a_validated_session_below_the_pass_mark_is_mailed_as_not_passed_with_the_mark(
    platform: Platform, language: str, subject: str, outcome: str, score_line: str
) -> None:
    """The reviewer's case: 2/10 against 70 %, the session validated; « validée » beside a
    bare score read as a pass."""
    journey = sent_for_review(platform, language)
    validated_and_released(journey)
    mail = last_mail(platform, journey.email)
    assert mail.subject == subject
    assert outcome in mail.text and score_line in mail.text
    assert outcome in words(mail.html) and score_line in words(mail.html)
    assert ("validée" if language == "fr" else "validated") in mail.text  # why it is final
    assert ("réussie." if language == "fr" else ": passed") not in mail.text.replace(
        "non réussie.", ""
    )


RENDERER = MailRenderer(LinkSigner(SECRET, "http://vigie.test"), SupportContact())
PASSED = {
    "certification": "Certification Bureautique Access",
    "verdict": "validated",
    "score": "8/10",
    "reasons": "-",
    "outcome": "passed",
    "pass_score": "7/10",
    "pass_mark_percent": "70",
}


@pytest.mark.parametrize(
    ("language", "subject", "lines"),
    [
        (
            "fr",
            "Résultat de votre certification : réussie",
            (
                "Certification Bureautique Access : réussie. Félicitations !",
                "Votre score : 8/10 ; il fallait 7/10 (70\xa0%) pour l'obtenir.",
            ),
        ),
        (
            "en",
            "Your certification result: passed",
            (
                "Certification Bureautique Access: passed. Congratulations!",
                "Your score: 8/10; 7/10 (70%) was needed to pass.",
            ),
        ),
    ],
)
def test_a_passed_certification_is_mailed_as_passed_in_the_reader_language(
    language: str, subject: str, lines: tuple[str, ...]
) -> None:
    mail = RENDERER.render(MailKind.RESULTS, language, PASSED, "Camille", "c@example.org")
    assert mail.subject == subject
    for line in lines:
        assert line in mail.text
    assert "non réussie" not in mail.text and "not passed" not in mail.text


@pytest.mark.parametrize("language", ["fr", "en"])
def test_an_invalidated_session_s_mail_keeps_its_words(language: str) -> None:
    """An invalidation gives its reasons, no score and no outcome, as before."""
    params = {**PASSED, "verdict": "invalidated", "score": "-", "reasons": "phone_used"}
    params = {k: v for k, v in params.items() if k not in ("outcome", "pass_score")}
    params.pop("pass_mark_percent")
    mail = RENDERER.render(MailKind.RESULTS, language, params, "Camille", "c@example.org")
    if language == "fr":
        assert mail.subject == "Résultat de votre certification"
        assert (
            "votre session d'examen pour la Certification Bureautique Access a été invalidée.\n"
            "Motif(s) : utilisation d'un téléphone." in mail.text
        )
    else:
        assert mail.subject == "Your certification result"
        assert (
            "your exam session for the Certification Bureautique Access was invalidated.\n"
            "Reason(s): use of a phone." in mail.text
        )


def test_a_result_mail_decided_before_the_outcome_was_passed_to_it_still_goes_out() -> None:
    """A mail in the log from before (no outcome among its parameters), resent by the
    hotline, renders with its score rather than failing on a missing parameter."""
    older = {k: v for k, v in PASSED.items() if k not in ("outcome", "pass_score")}
    older.pop("pass_mark_percent")
    mail = RENDERER.render(MailKind.RESULTS, "fr", older, "Camille", "c@example.org")
    assert "Votre score : 8/10." in mail.text


@given(st.integers(0, 40), st.integers(1, 40), st.integers(1, 100))
def test_the_points_needed_are_those_the_scoring_counts_as_a_pass(
    won: int, most: int, mark: int
) -> None:
    """The mail's « il fallait 7/10 » agrees with the rule that decided the pass."""
    won = min(won, most)
    questions = [
        Question(f"q{n}", "s", expected=("x",), kind=QuestionKind.SHORT) for n in range(most)
    ]
    answers = {f"q{n}": GivenAnswer(text="x") for n in range(won)}
    assert score(answers, questions, mark).passed == (won >= points_needed(most, mark))


# --- the centre's list -----------------------------------------------------------------------


def centre_line(client: TestClient[Any]) -> str:
    page = client.get("/operator").text
    [row] = re.findall(r"<tr data-enrollment[^>]*>(.*?)</tr>", page, re.S)
    state = re.search(r'<td data-label="[^"]*">(?:(?!<td).)*?data-state=.*?</td>', row, re.S)
    assert state is not None
    return words(state.group(0))


def test_the_centre_sees_the_outcome_and_the_score_once_the_result_is_released(
    platform: Platform,
) -> None:
    """« Validé » alone read as a pass; before the release the centre sees « En contrôle »
    and no score (R19: the results are sent after the review, the candidate first told)."""
    centre = centre_account(platform)
    journey = sent_for_review(platform, centre=centre)
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/staff/login", "centre@example.org", CENTRE_PASSWORD)
        assert centre_line(client) == "En contrôle"
        examiner = journey.ctx.ids.new_id()
        journey.decided(examiner)
        platform.settle()
        assert centre_line(client) == "En contrôle"  # decided, not yet released
        assert journey.review_id is not None
        reviewing.release_results(journey.ctx, journey.review_id, released_by=examiner)
        platform.settle()
        # The score never broken at « / » on a phone (non-breaking spaces).
        assert centre_line(client) == (
            "Session validée Non réussi 2\xa0/\xa010 (20\xa0%), seuil de réussite 70\xa0%"
        )
        client.get("/lang/en")
        assert (
            centre_line(client) == "Session validated Not passed 2\xa0/\xa010 (20%), pass mark 70%"
        )


# --- the mark the results were scored against --------------------------------------------


def with_pass_mark(platform: Platform, code: str, percent: int) -> None:
    """The catalogue as after a centre lowered the certification's pass mark."""
    platform.ctx.catalogue = Catalogue(
        *(
            replace(c, pass_mark_percent=percent) if c.code == code else c
            for c in platform.ctx.catalogue
        )
    )


def test_a_pass_mark_changed_after_the_exam_changes_neither_the_mail_nor_the_centre_s_line(
    platform: Platform,
) -> None:
    """The results were scored against 70 %: a mail or a page read later gives that mark,
    the one that decided « non réussi », not the catalogue's new 10 % (beside which 2/10
    would read as a pass refused for no reason)."""
    centre = centre_account(platform)
    journey = sent_for_review(platform, centre=centre)
    with_pass_mark(platform, "ENI-ACCESS", 10)
    validated_and_released(journey)
    mail = last_mail(platform, journey.email)
    assert "Votre score : 2/10 ; il fallait 7/10 (70\xa0%) pour l'obtenir." in mail.text
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/staff/login", "centre@example.org", CENTRE_PASSWORD)
        assert centre_line(client).endswith("seuil de réussite 70\xa0%")


def test_results_recorded_before_they_kept_their_mark_fall_back_on_the_catalogue() -> None:
    """A log from before the mark was recorded with the results: its events decode with no
    mark, and only the catalogue can tell it."""
    older = Results(score=2, max_score=10, passed=False, sections=())
    assert older.pass_mark_percent is None and older.pass_mark(70) == 70
    assert replace(older, pass_mark_percent=60).pass_mark(70) == 60


def test_the_centre_reads_that_a_state_was_decided_on_appeal(platform: Platform) -> None:
    """An invalidation overturned by a second examiner (R19): the centre read « Session
    validée » where it had read « Session invalidée », with nothing to say why it changed."""
    centre = centre_account(platform)
    journey = Journey(platform)
    journey.centre_id = tenancy.centre_of_operator(centre)
    first, second = examiner(platform, "first"), examiner(platform, "second")
    review = invalidated_and_sent(journey, first, forced=False)
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/staff/login", "centre@example.org", CENTRE_PASSWORD)
        assert centre_line(client) == "Session invalidée"
        contest(journey)
        platform.settle()
        assert centre_line(client) == "En contestation"
        overturned(journey, review.id, second)
        platform.settle()
        assert centre_line(client).startswith("Session validée après contestation Non réussi")
    # The candidate's result page says who found the session regular: not « the examiner »,
    # who had invalidated it.
    journey.set_password("camille-pass-1")
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as candidate:
        log_in(candidate, "/login", journey.email, "camille-pass-1")
        result = words(candidate.get(f"/results/{journey.session_id}").text)
    assert "Après contestation, un second examinateur a constaté que votre session" in result
    assert "L'examinateur a constaté" not in result


def test_an_invalidation_s_mail_says_how_to_contest_it_and_until_when(platform: Platform) -> None:
    """The mail gave the reasons alone: a candidate found the appeal only by chance, behind
    « Voir le résultat » (a reviewer's finding). It says the certification is not obtained,
    the last day to contest (R19: 14 days after the result) and where."""
    journey = Journey(platform)
    first = examiner(platform, "first")
    review = invalidated_and_sent(journey, first, forced=False)
    last_day = review.appeal_last_day()
    assert last_day is not None
    mail = last_mail(platform, journey.email)
    assert "La certification n'est pas obtenue avec cette session." in mail.text
    assert f"jusqu'au {last_day:%d/%m/%Y} inclus" in mail.text
    assert f"/results/{journey.session_id}" in mail.text
    assert f'href="http://127.0.0.1:8000/results/{journey.session_id}"' in mail.html


# --- the candidate's pages -------------------------------------------------------------------


def test_the_candidate_s_pages_say_the_certification_is_not_obtained_once_the_result_is_out(
    platform: Platform,
) -> None:
    """A 2/10 below the 70 % mark: the exam list showed a green « Examen validé », the
    result page led with it, and the portal kept saying an examiner would check the
    recording (a reviewer's finding). Each says the outcome once the result is out."""
    journey = sent_for_review(platform)
    journey.set_password("camille-pass-1")
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/login", journey.email, "camille-pass-1")
        portal_page = f"/portal/{journey.attempt_id}"
        assert "sous 8 jours" in words(client.get(portal_page).text)  # not decided yet
        validated_and_released(journey)
        exams = words(client.get("/exams").text)
        assert "Session validée, certification non obtenue" in exams
        assert "Examen validé" not in exams
        assert "Valable jusqu" not in exams  # the last day to take it, said under a result
        result = client.get(f"/results/{journey.session_id}").text
        assert 'data-outcome="not_passed"' in result
        assert "Certification non obtenue" in words(result)
        assert "sous le seuil de réussite" in words(result)
        portal = words(client.get(portal_page).text)
        assert "Votre résultat est disponible : voir le résultat" in portal
        assert "sous 8 jours" not in portal
        # The result page says the outcome; the portal no longer shows a score « définitif
        # une fois qu'un examinateur a vérifié » beside it (a reviewer's tour).
        assert "Définitif une fois" not in portal
        assert 'id="outcome-summary"' not in client.get(portal_page).text
        # The guide's congratulations greet the exam just sent, not a result below the mark.
        assert "Votre copie a été envoyée." in portal and "Félicitations" not in portal


def test_no_congratulations_beside_a_score_below_the_mark_as_the_exam_is_sent(
    platform: Platform,
) -> None:
    """« Félicitations ! Votre copie a bien été envoyée. » stood beside « Non réussi 2/10 »
    on the screen after « Oui, envoyer », and opened the receipt mail (a reviewer's check):
    the sending is said plainly, the score speaks for itself."""
    journey = sent_for_review(platform)
    journey.set_password("camille-pass-1")
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/login", journey.email, "camille-pass-1")
        portal = words(client.get(f"/portal/{journey.attempt_id}").text)
    assert "Votre copie a été envoyée." in portal and "Félicitations" not in portal
    assert "Non réussi" in portal
    mailer = platform.mailer
    assert isinstance(mailer, MemoryMailer)
    [receipt] = [m for m in mailer.to(journey.email) if "bien été envoyée" in m.subject]
    assert "\n\nVotre copie pour la Certification Bureautique Access" in receipt.text
    assert "Félicitations" not in receipt.text and "Félicitations" not in receipt.html


@pytest.mark.parametrize(
    ("language", "greeting"), [("fr", "Félicitations !"), ("en", "Congratulations!")]
)
def test_a_score_that_passes_or_none_shown_keeps_the_guide_s_congratulations(
    language: str, greeting: str
) -> None:
    renderer = RENDERER
    params = {"certification": "Certification Bureautique Access", "review_days": "8"}
    params["sent_on"] = "2025-01-27T10:30:00+01:00"
    greeted = renderer.render(
        MailKind.SUBMISSION_RECEIPT, language, {**params, "congratulate": "yes"}, "C M", "c@x.org"
    )
    plain = renderer.render(MailKind.SUBMISSION_RECEIPT, language, params, "C M", "c@x.org")
    assert greeting in greeted.text and greeting in greeted.html
    assert greeting not in plain.text and greeting not in plain.html
