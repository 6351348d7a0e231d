"""What a candidate meets once her exam is over and not sent yet (R18, the guide's steps 8–10:
the results shown, then « Valider l'examen » with the value asked).

« Mes examens » offered « Reprendre l'examen » with a 10-word reason for an exam that could not
go on: it now leads to the results and the validation, with the code to type back once the
results are shown. When the server ends the exam at its time (R4), the portal said nothing
above « Voir les résultats »: it now says the time is over and the answers saved are kept
(they are: every answer saved before the end is scored)."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app.use_cases import portal
from domain.exam_attempt import AttemptStatus, ExamAttempt
from tests.acceptance.web import Browsers, candidate, form_token
from ui.journey import Journey
from ui.web.edge import FRAGMENT_HEADER

WORDS = {
    "fr": {
        "next": "Voir les résultats et valider l'examen",
        "with_code": "Pour l'envoyer au contrôle, ouvrez vos résultats et validez l'examen avec "
        "le code <strong>{code}</strong>.",
        "without_code": "Pour l'envoyer au contrôle, affichez vos résultats, puis validez "
        "l'examen.",
        "resume": "Reprendre l'examen",
        "time_up": "Le temps de l'examen est écoulé.",
        "kept": "Les réponses que vous avez enregistrées avant la fin sont conservées et "
        "comptent dans vos résultats.",
        "see": "Voir les résultats",
    },
    "en": {
        "next": "See the results and validate the exam",
        "with_code": "To send it for review, open your results and validate the exam with the "
        "code <strong>{code}</strong>.",
        "without_code": "To send it for review, see your results, then validate the exam.",
        "resume": "Resume the exam",
        "time_up": "The exam's time is over.",
        "kept": "The answers you saved before the end are kept and count in your results.",
        "see": "See the results",
    },
}


def in_exam(
    platform: Platform, browser: Browsers, language: str
) -> tuple[Journey, TestClient[Any]]:
    """Enrolled in `language`, the exam begun (« Commencer »), logged in to the pages."""
    journey = candidate(platform, f"fin-{language}@example.org", language)
    journey.through_checks()
    journey.start_exam()
    platform.settle()
    client = browser.open(journey)
    client.post("/terms", data={"_csrf_token": form_token(client, "/terms")})
    return journey, client


def attempt_of(journey: Journey) -> ExamAttempt:
    assert journey.attempt_id is not None
    return journey.platform.ctx.store.get(journey.attempt_id, ExamAttempt)


def said(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", page))


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_finished_exam_not_sent_leads_to_its_results_and_code_not_to_a_resumption(
    platform: Platform, browser: Browsers, language: str
) -> None:
    words = WORDS[language]
    journey, client = in_exam(platform, browser, language)
    assert journey.attempt_id is not None
    portal.finish_exam(platform.ctx, journey.attempt_id)  # the results shown (R18)
    platform.settle()
    code = attempt_of(journey).validation_code
    assert code
    page = client.get("/exams")
    assert page.status_code == 200
    text = said(page.text)
    # No resumption of an exam that cannot go on: no reason asked, no « Reprendre ».
    assert words["resume"] not in text
    assert 'name="reason"' not in page.text
    assert "/enter" not in page.text
    # The next step: the results and the validation, with the code to type back.
    assert words["with_code"].format(code=code) in text
    link = re.search(r'<a href="(/portal/[^"]+)" role="button">([^<]+)</a>', page.text)
    assert link is not None, page.text[-2000:]
    assert link.group(1) == f"/portal/{journey.attempt_id}"
    assert said(link.group(2)) == words["next"]
    # The link leads to the results and « Valider l'examen », the same code there.
    results = client.get(link.group(1))
    assert results.status_code == 200
    assert f'<strong id="validation-code">{code}</strong>' in results.text


@pytest.mark.parametrize("language", ["fr", "en"])
def test_at_the_time_limit_the_portal_says_the_time_is_over_and_the_saved_answers_kept(
    platform: Platform, browser: Browsers, language: str
) -> None:
    words = WORDS[language]
    journey, client = in_exam(platform, browser, language)
    assert journey.attempt_id is not None
    aid = journey.attempt_id
    # One right answer saved during the exam (the key: the primary key, « b »).
    portal.answer_question(platform.ctx, aid, question_id="tables-cle-primaire", choices=("b",))
    ends_at = attempt_of(journey).ends_at
    assert ends_at is not None
    journey.clock.set(ends_at + timedelta(minutes=1))
    platform.tick()  # the deadlines' process closes the exam at its end (R4)
    assert attempt_of(journey).status is AttemptStatus.FINISHED
    assert attempt_of(journey).results is None

    page = client.get(f"/portal/{aid}")
    assert page.status_code == 200
    text = said(page.text)
    assert 'id="time-up"' in page.text
    assert words["time_up"] in text and words["kept"] in text
    assert f">{words['see']}</button>" in page.text
    # The fragment the page swaps in when its poll sees the exam ended says it too.
    fragment = said(client.get(f"/portal/{aid}", headers={FRAGMENT_HEADER: "1"}).text)
    assert words["time_up"] in fragment

    # « Mes examens » leads there too: no results yet, so no code yet.
    exams = said(client.get("/exams").text)
    assert words["resume"] not in exams
    assert words["without_code"] in exams and words["next"] in exams

    # What the sentence promises: the answer saved before the end counts.
    client.post(f"/portal/{aid}/finish", data={"_csrf_token": form_token(client, f"/portal/{aid}")})
    results = attempt_of(journey).results
    assert results is not None and results.score > 0
    assert words["time_up"] not in said(client.get(f"/portal/{aid}").text)
