"""R12: the practice questionnaire as a candidate uses it. A user's tour pressed « Soumettre »
with every field empty: « Votre score d'entraînement : 0 % », and the questionnaire was gone,
with no retry and nothing said of the answers. Its choice questions were text fields, where
no typed answer could ever be right. Now a choice question is answered by its choices, an
empty questionnaire is refused with nothing recorded, the score comes with each answer right
or not (and the right one), and the questionnaire can be taken again; it never counts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app.use_cases import portal
from domain.exam_attempt import AttemptStatus, ExamAttempt
from tests.acceptance.web import (
    CANDIDATE_PASSWORD,
    Browsers,
    candidate,
    form_token,
    log_in,
    plain,
)
from ui.journey import PROFILE, Journey

OBJECT, FILTER, MODES = "entrainement-objet", "entrainement-filtre", "entrainement-modes"


def at_the_practice(
    platform: Platform, browser: Browsers, language: str
) -> tuple[Journey, TestClient[Any], str]:
    """Through the checks, the profile created: the portal shows the practice and the tile."""
    journey = candidate(platform, f"{language}@example.org", language)
    attempt_id = journey.through_checks()
    assert journey.candidate_id is not None
    portal.save_portal_profile(
        platform.ctx,
        journey.candidate_id,
        email=journey.email,
        profile=PROFILE,
        password=CANDIDATE_PASSWORD,
    )
    return journey, browser.open(journey), f"/portal/{attempt_id}"


def attempt_of(platform: Platform, journey: Journey) -> ExamAttempt:
    assert journey.attempt_id is not None
    return platform.ctx.store.get(journey.attempt_id, ExamAttempt)


def send(client: TestClient[Any], page: str, answers: list[tuple[str, str]], **options: Any) -> Any:
    """The form as a browser sends it: one pair per field, a box's name once per ticked box."""
    body = [("_csrf_token", form_token(client, page)), ("practice", "submit"), *answers]
    return client.post(
        f"{page}/practice",
        content="&".join(f"{k}={v}" for k, v in body),
        headers={"content-type": "application/x-www-form-urlencoded", **options.pop("headers", {})},
        **options,
    )


def test_a_choice_question_is_answered_by_its_choices_r12(
    platform: Platform, browser: Browsers
) -> None:
    journey, client, page = at_the_practice(platform, browser, "fr")
    form = client.get(page).text
    assert re.search(rf'type="radio" name="q-{OBJECT}" value="a"', form)
    assert len(re.findall(rf'type="checkbox" name="q-{MODES}"', form)) == 3
    assert re.search(rf'<input id="practice-2" name="q-{FILTER}"', form)
    assert "La table" in form and "Mode Création" in form
    # Every answer right: 100 %, where the text fields could give no more than a third.
    right = [(f"q-{OBJECT}", "a"), (f"q-{FILTER}", "Filtre"), (f"q-{MODES}", "a")]
    reply = send(client, page, [*right, (f"q-{MODES}", "b")])
    assert reply.status_code == 200
    assert attempt_of(platform, journey).practice_scores == (100.0,)


def test_an_empty_questionnaire_is_refused_and_nothing_is_recorded_r12(
    platform: Platform, browser: Browsers
) -> None:
    journey, client, page = at_the_practice(platform, browser, "fr")
    form = client.get(page).text
    # The page points out the blanks itself before sending (journey.js): its marks and
    # its dialog are in the form, hidden until then.
    assert 'data-practice="practice-dialog"' in form
    assert form.count("data-practice-question") == 3
    assert plain(form).count("Sans réponse</small>") == 3
    said = (
        "Aucune question n'a de réponse : répondez au moins à une, puis appuyez sur « Soumettre »."
    )
    refused = send(client, page, [(f"q-{FILTER}", "   ")])
    assert refused.status_code == 409
    assert said in plain(refused.text)
    fragment = send(client, page, [], headers={"x-vigie-fragment": "1"})
    assert fragment.status_code == 409
    # Beside « Soumettre » (the button is named `practice`: journey.js puts it there).
    assert 'data-field="practice"' in fragment.text
    assert said in plain(fragment.text)
    attempt = attempt_of(platform, journey)
    assert attempt.practice_scores == ()
    assert "Votre score d'entraînement" not in plain(client.get(page).text)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "fr",
            {
                "score": "Votre score d'entraînement : 67 %.",
                "right": "Juste",
                "blank": "Sans réponse",
                "wrong": "Faux",
                "given": "Votre réponse : La table",
                "expected": "La bonne réponse : <strong>filtre</strong>",
                "again": "Refaire le questionnaire d'entraînement",
            },
        ),
        (
            "en",
            {
                "score": "Your practice score: 67%.",
                "right": "Right",
                "blank": "Not answered",
                "wrong": "Wrong",
                "given": "Your answer: La table",
                "expected": "The right answer: <strong>filtre</strong>",
                "again": "Take the practice questionnaire again",
            },
        ),
    ],
)
def test_the_score_says_which_answers_were_right_and_it_can_be_taken_again_r12(
    platform: Platform, browser: Browsers, language: str, words: dict[str, str]
) -> None:
    journey, client, page = at_the_practice(platform, browser, language)
    given = [(f"q-{OBJECT}", "a"), (f"q-{MODES}", "a"), (f"q-{MODES}", "b")]
    assert send(client, page, given).status_code == 200
    shown = plain(client.get(page).text)
    assert words["score"] in shown
    review = shown[shown.index('id="practice-review"') : shown.index('id="practice-again"')]
    badges = re.findall(r'class="badge badge--(\w+)">([^<]+)<', review)
    assert badges == [
        ("success", words["right"]),
        ("warning", words["blank"]),
        ("success", words["right"]),
    ]
    assert words["given"] in review
    assert words["expected"] in review  # the blank one's right answer
    assert "<form" not in shown[shown.index('id="practice"') : shown.index('id="practice-again"')]
    # Taken again: the questionnaire, empty, then scored anew.
    again = plain(client.get(f"{page}?practice=again").text)
    assert words["again"] in shown
    assert 'id="practice-form"' in again
    wrong = [(f"q-{OBJECT}", "b"), (f"q-{FILTER}", "tri"), (f"q-{MODES}", "c")]
    assert send(client, page, wrong).status_code == 200
    shown = plain(client.get(page).text)
    review = shown[shown.index('id="practice-review"') : shown.index('id="practice-again"')]
    assert re.findall(r'class="badge badge--(\w+)">', review) == ["error"] * 3
    # A practice: scored for her alone, the exam not started nor touched.
    attempt = attempt_of(platform, journey)
    assert attempt.practice_scores == (66.7, 0.0)
    assert attempt.status is AttemptStatus.TO_START and attempt.results is None


def test_the_review_is_the_browser_s_own_and_the_score_s_own_r12(
    platform: Platform, browser: Browsers
) -> None:
    """Another browser (the same candidate elsewhere) sees the score, and no review it did not
    send; the review goes with the score it was sent with."""
    journey, client, page = at_the_practice(platform, browser, "fr")
    other = browser.open()
    assert send(client, page, [(f"q-{OBJECT}", "a")]).status_code == 200
    log_in(other, "/login", "fr@example.org", CANDIDATE_PASSWORD)
    elsewhere = plain(other.get(page).text)
    assert "Votre score d'entraînement : 33 %." in elsewhere
    assert 'id="practice-review"' not in elsewhere
    assert send(other, page, [(f"q-{FILTER}", "filtre")]).status_code == 200
    # The first browser's review went with the first score: not shown beside the second.
    here = plain(client.get(page).text)
    assert "Votre score d'entraînement : 33 %." in here  # 1 of 3 either way
    assert 'id="practice-review"' not in here
    assert attempt_of(platform, journey).practice_scores == (33.3, 33.3)


def test_a_retake_refused_without_the_script_shows_the_form_its_refusal_and_the_ticks_r12(
    platform: Platform, browser: Browsers
) -> None:
    """A refusal on a retake (no `?practice=again` in the refused form's address) showed the
    last score and its review instead of the form: the refusal and the answers were lost (a
    reviewer's check). A choice that is not one of the question's is no answer at all."""
    journey, client, page = at_the_practice(platform, browser, "fr")
    assert send(client, page, [(f"q-{FILTER}", "Filtre")]).status_code == 200
    assert 'id="practice-form"' in client.get(f"{page}?practice=again").text
    made_up = send(client, page, [(f"q-{OBJECT}", "zzz"), (f"q-{MODES}", "x" * 100)])
    assert made_up.status_code == 409
    assert 'id="practice-form"' in made_up.text
    assert re.search(
        r'<p class="alert alert--warning" id="practice-empty" role="alert">', made_up.text
    )
    too_long = send(client, page, [(f"q-{OBJECT}", "a"), (f"q-{FILTER}", "f" * 10_001)])
    assert too_long.status_code == 409
    assert re.search(rf'name="q-{OBJECT}" value="a" checked', too_long.text)
    assert 'aria-invalid="true"' in too_long.text
    assert attempt_of(platform, journey).practice_scores == (33.3,)
