"""« Terminer l'examen ? » in the proctoring tab says how many questions are still
unanswered, as the exam tab counts them, and the count follows the answers given in the exam
tab after the page was loaded (a user's tour: the dialog said nothing of them and she
finished by mistake with questions left). Chromium, fr and en, at 390 px."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.use_cases import portal
from domain.exam_attempt import AttemptStatus, ExamAttempt
from tests.browser.conftest import Server
from tests.browser.test_portal_pages import PASSWORD, in_exam_checks_done

SHOTS = Path("/tmp/shots-cand")
WORDS = {
    "fr": {
        "finish": "Terminer l'examen",
        "back": "Revenir à l'examen",
        "some": "Questions sans réponse : {n} sur {total}.",
        "none": "Toutes les questions ont une réponse",
    },
    "en": {
        "finish": "Finish the exam",
        "back": "Go back to the exam",
        "some": "Questions not answered: {n} of {total}.",
        "none": "All the questions are answered",
    },
}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_finish_dialog_counts_the_questions_left_unanswered(
    browser: Any, server: Server, language: str
) -> None:
    words = WORDS[language]
    journey = in_exam_checks_done(server, f"fin.{language}@example.org", language)
    journey.start_exam()
    aid = journey.attempt_id
    assert aid is not None
    ctx = server.platform.ctx
    order = ctx.store.get(aid, ExamAttempt).question_order
    total = len(order)
    portal.answer_question(ctx, aid, question_id="tables-cle-primaire", choices=("b",))
    context = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{server.url}/lang/{language}")
        page.goto(f"{server.url}/login")
        page.locator("input[name=email]").fill(journey.email)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("form[action='/login'] button[type=submit]").click()
        page.goto(f"{server.url}/portal/{aid}")
        page.locator("#portal[data-status='in_progress']").wait_for()
        # Answered in the exam tab after this page was loaded: the dialog counts it.
        portal.answer_question(ctx, aid, question_id=order[-1], answer="x", choices=("a",))
        page.get_by_role("button", name=words["finish"]).click()
        dialog = page.locator("#finish-dialog")
        expected = words["some"].format(n=total - 2, total=total)
        page.locator("#finish-unanswered", has_text=expected).wait_for()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"finish-dialog-{language}-390.png"))
        assert dialog.is_visible() and not page.locator("#finish-all-answered").is_visible()
        page.get_by_role("button", name=words["back"]).click()
        # Nothing was finished: the dialog asked, she went back.
        assert ctx.store.get(aid, ExamAttempt).status is AttemptStatus.IN_PROGRESS
        for qid in order:  # every question answered, then the dialog says so
            portal.answer_question(ctx, aid, question_id=qid, answer="x", choices=("a",))
        page.get_by_role("button", name=words["finish"]).click()
        page.locator("#finish-all-answered", has_text=words["none"]).wait_for()
        assert not page.locator("#finish-unanswered").is_visible()
    finally:
        context.close()
