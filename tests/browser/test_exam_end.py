"""The end of an exam in Chromium, in French and English, on a desktop and a 360 px phone: the
portal waiting during the exam moves by itself to « the exam's time is over, your saved answers
are kept » when the server ends it (R4), and « Mes examens » leads an exam not sent yet to its
results and « Valider l'examen », with the code once the results are shown (R18), where it
offered « Reprendre l'examen » with a reason. Every screen is photographed for the tour."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import pytest

from app.use_cases import portal
from domain.exam_attempt import AttemptStatus, ExamAttempt
from tests.browser.conftest import Server
from tests.browser.test_portal_pages import PASSWORD, SIZES, in_exam_checks_done, shot

WORDS = {
    "fr": {
        "time_up": "Le temps de l'examen est écoulé.",
        "kept": "Les réponses que vous avez enregistrées avant la fin sont conservées",
        "see": "Voir les résultats",
        "next": "Voir les résultats et valider l'examen",
        "resume": "Reprendre l'examen",
        "code": "avec le code",
        "log_in": ("Adresse e-mail", "Mot de passe", "Se connecter"),
    },
    "en": {
        "time_up": "The exam's time is over.",
        "kept": "The answers you saved before the end are kept",
        "see": "See the results",
        "next": "See the results and validate the exam",
        "resume": "Resume the exam",
        "code": "with the code",
        "log_in": ("Adresse e-mail", "Mot de passe", "Se connecter"),  # the page before log-in
    },
}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("language", ["fr", "en"])
def test_time_up_is_said_and_my_exams_leads_to_the_results_and_the_code(
    browser: Any, server: Server, language: str, size: str
) -> None:
    words = WORDS[language]
    width, height = SIZES[size]
    tag = f"{language}-{size}"
    email = f"fin.{tag}@example.org"
    journey = in_exam_checks_done(server, email, language)
    journey.start_exam()
    aid = journey.attempt_id
    assert aid is not None
    store = server.platform.ctx.store
    portal.answer_question(
        server.platform.ctx, aid, question_id="tables-cle-primaire", choices=("b",)
    )
    context = browser.new_context(locale="fr-FR", viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        email_label, password_label, log_in = words["log_in"]
        page.goto(f"{server.url}/login")
        page.get_by_label(email_label).fill(email)
        page.get_by_label(password_label).fill(PASSWORD)
        page.get_by_role("button", name=log_in).click()
        page.goto(f"{server.url}/portal/{aid}")
        page.locator("#portal[data-status='in_progress']").wait_for()

        # The exam's end passes while the portal waits; the worker closes the exam (R4).
        ends_at = store.get(aid, ExamAttempt).ends_at
        assert ends_at is not None
        server.clock.set(ends_at + timedelta(seconds=30))
        deadline = time.monotonic() + 20
        while store.get(aid, ExamAttempt, to_read=True).status is not AttemptStatus.FINISHED:
            assert time.monotonic() < deadline, "the worker never closed the exam"
            time.sleep(0.2)
        # The candidate comes back to the tab: it asks for the phase and moves on by itself.
        page.evaluate("window.dispatchEvent(new Event('focus'))")
        note = page.locator("#time-up")
        note.wait_for()
        assert words["time_up"] in note.inner_text() and words["kept"] in note.inner_text()
        assert page.get_by_role("button", name=words["see"], exact=True).is_visible()
        shot(page, f"{tag}-20-time-up")

        # « Mes examens »: the results and the validation, no resumption (no code yet).
        page.goto(f"{server.url}/exams")
        assert page.get_by_role("button", name=words["resume"]).count() == 0
        assert page.locator("textarea[name=reason]").count() == 0
        link = page.get_by_role("button", name=words["next"])
        assert link.get_attribute("href") == f"/portal/{aid}"
        shot(page, f"{tag}-21-exams-time-up")
        link.click()
        page.get_by_role("button", name=words["see"], exact=True).click()
        code = page.locator("#validation-code").inner_text()
        assert re.fullmatch(r"\d+", code)

        # Left without sending: « Mes examens » gives the way back and the code.
        page.goto(f"{server.url}/exams")
        card = page.locator(".exam-card")
        assert f"{words['code']} {code}" in card.inner_text()
        assert page.get_by_role("button", name=words["resume"]).count() == 0
        shot(page, f"{tag}-22-exams-results-shown")
        page.get_by_role("button", name=words["next"]).click()
        assert page.locator("#validation-code").inner_text() == code
        results = store.get(aid, ExamAttempt).results
        assert results is not None and results.score > 0  # the saved answer counted
    finally:
        context.close()
