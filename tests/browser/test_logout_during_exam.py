"""« Se déconnecter » while her proctored session runs asks first and says what it does
(leaving.py). A reviewer's tour pressed it on the proctoring page (the checks' page, the
portal swapped into it) during the exam: it logged out at once, the proctoring tab stopped,
and the examiner's page read « proctoring tab closed during the exam » (R17). « Ne pas me
déconnecter » keeps her in the same page, nothing recorded; « Me déconnecter quand même »
logs out. Once the exam is sent it logs out at once. Chromium, fr and en, at 390 px."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.use_cases import portal
from domain.exam_attempt import ExamAttempt
from tests.browser.conftest import Server
from tests.browser.test_portal_pages import PASSWORD, in_exam_checks_done
from ui.journey import Journey

SHOTS = Path("/tmp/shots-cand")
WORDS = {
    "fr": {
        "log_out": "Se déconnecter",
        "title": "Vous déconnecter pendant votre examen ?",
        "stops": "l'onglet de l'examen ne peut plus enregistrer vos réponses",
        "examiner": "L'examinateur verra que l'onglet d'e-surveillance a été fermé",
        "blocked": "Si votre écran est bloqué, suivez plutôt le guide",
        "before_title": "Vous déconnecter pendant votre session surveillée\u00a0?",
        "defer": "Différer",
        "after_title": "Vous déconnecter avant d'envoyer votre examen\u00a0?",
        "stay": "Ne pas me déconnecter",
        "anyway": "Me déconnecter quand même",
    },
    "en": {
        "log_out": "Log out",
        "title": "Log out during your exam?",
        "stops": "the exam tab can no longer save your answers",
        "examiner": "The examiner will see that the proctoring tab was closed",
        "blocked": "If your screen is blocked, follow the guide instead",
        "before_title": "Log out during your proctored session?",
        "defer": "Defer",
        "after_title": "Log out before sending your exam?",
        "stay": "Do not log out",
        "anyway": "Log out anyway",
    },
}


def _logged_in(browser: Any, server: Server, email: str, language: str, **options: Any) -> Any:
    context = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844}, **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{server.url}/lang/{language}")
    page.goto(f"{server.url}/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def _at_the_last_check(server: Server, email: str, language: str) -> Journey:
    """Entered, the checks done but the environment's recordings: the checks' page is where
    the proctoring runs and the portal comes in place of the last step."""
    journey = Journey(server.platform, email=email, language=language)
    journey.enrol()
    journey.create_session()
    journey.enter()
    journey.pass_attestations()
    journey.pass_equipment()
    journey.take_photos()
    journey.set_password(PASSWORD)
    return journey


def _recorded(server: Server, journey: Journey) -> int:
    assert journey.session_id is not None and journey.attempt_id is not None
    store = server.platform.ctx.store
    return len(store.history(journey.session_id)) + len(store.history(journey.attempt_id))


@pytest.mark.parametrize("language", ["fr", "en"])
def test_log_out_on_the_proctoring_page_during_the_exam_asks_first(
    browser: Any, server: Server, language: str
) -> None:
    words = WORDS[language]
    journey = _at_the_last_check(server, f"controle.{language}@example.org", language)
    page = _logged_in(browser, server, journey.email, language)
    try:
        checks = f"{server.url}/exams/{journey.session_id}"
        page.goto(checks)
        page.locator("#journey").wait_for()
        # The last recording stopped and « Commencer » pressed: the page swaps the portal in
        # place, as it does after the third recording (journey.js), the proctoring still on.
        journey.record_environment()
        journey.start_exam()
        page.evaluate("window.vigieJourney.refresh()")
        page.locator("#portal[data-status='in_progress']").wait_for()
        page.evaluate("window.sameDocument = true")
        shown = page.url  # the portal's address, in the checks' document (journey.js)
        before = _recorded(server, journey)

        page.get_by_role("button", name=words["log_out"], exact=True).click()
        dialog = page.get_by_role("dialog", name=words["title"])
        dialog.wait_for()
        said = dialog.inner_text()
        assert words["stops"] in said and words["examiner"] in said and words["blocked"] in said
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"logout-checks-page-{language}-390.png"))
        dialog.get_by_role("button", name=words["stay"]).click()
        assert not dialog.is_visible()
        # Still logged in, on the same page (its proctoring never cut), nothing recorded.
        assert page.url == shown and page.evaluate("window.sameDocument === true")
        assert _recorded(server, journey) == before
        assert page.request.get(f"{server.url}/exams", max_redirects=0).status == 200

        page.get_by_role("button", name=words["log_out"], exact=True).click()
        dialog.get_by_role("button", name=words["anyway"]).click()
        page.wait_for_url("**/login")
        assert page.request.get(f"{server.url}/exams", max_redirects=0).status != 200
    finally:
        page.context.close()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_log_out_on_the_portal_during_the_exam_asks_first_and_says_why(
    browser: Any, server: Server, language: str
) -> None:
    words = WORDS[language]
    journey = in_exam_checks_done(server, f"sortie.{language}@example.org", language)
    journey.start_exam()
    aid = journey.attempt_id
    assert aid is not None
    page = _logged_in(browser, server, journey.email, language)
    try:
        page.goto(f"{server.url}/portal/{aid}")
        page.locator("#portal[data-status='in_progress']").wait_for()
        page.get_by_role("button", name=words["log_out"], exact=True).click()
        dialog = page.get_by_role("dialog", name=words["title"])
        dialog.wait_for()
        assert words["examiner"] in dialog.inner_text()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"logout-dialog-{language}-390.png"))
        dialog.get_by_role("button", name=words["stay"]).click()
        assert not dialog.is_visible()
        assert page.url.endswith(f"/portal/{aid}")  # still logged in, on the exam
        page.reload()
        page.locator("#portal[data-status='in_progress']").wait_for()

        page.get_by_role("button", name=words["log_out"], exact=True).click()
        page.get_by_role("button", name=words["anyway"]).click()
        page.wait_for_url("**/login")
        page.goto(f"{server.url}/portal/{aid}")
        assert "/login" in page.url  # logged out indeed
    finally:
        page.context.close()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_during_the_checks_it_asks_and_names_the_guides_pause(
    browser: Any, server: Server, language: str
) -> None:
    words = WORDS[language]
    journey = _at_the_last_check(server, f"verif.{language}@example.org", language)
    page = _logged_in(browser, server, journey.email, language)
    try:
        page.goto(f"{server.url}/exams/{journey.session_id}")
        page.get_by_role("button", name=words["log_out"], exact=True).click()
        dialog = page.get_by_role("dialog", name=words["before_title"])
        dialog.wait_for()
        assert words["defer"] in dialog.inner_text()
        assert words["examiner"] not in dialog.inner_text()
        page.screenshot(path=str(SHOTS / f"logout-before-{language}-390.png"))
        dialog.get_by_role("button", name=words["stay"]).click()
        assert not dialog.is_visible()
    finally:
        page.context.close()


def test_my_exams_in_another_tab_asks_too_during_the_exam(browser: Any, server: Server) -> None:
    """« Mes examens » opened beside the proctoring tab: logging out there stops it too."""
    journey = in_exam_checks_done(server, "autre.onglet@example.org", "fr")
    journey.start_exam()
    page = _logged_in(browser, server, journey.email, "fr")
    try:
        page.goto(f"{server.url}/exams")
        page.get_by_role("button", name="Se déconnecter", exact=True).click()
        page.get_by_role("dialog", name=WORDS["fr"]["title"]).wait_for()
    finally:
        page.context.close()


def test_without_the_script_log_out_still_logs_out(browser: Any, server: Server) -> None:
    journey = in_exam_checks_done(server, "sans.script@example.org", "fr")
    journey.start_exam()
    page = _logged_in(browser, server, journey.email, "fr", java_script_enabled=False)
    try:
        page.goto(f"{server.url}/portal/{journey.attempt_id}")
        page.get_by_role("button", name="Se déconnecter", exact=True).click()
        page.wait_for_url("**/login")
    finally:
        page.context.close()


def test_after_the_results_it_asks_and_once_sent_it_logs_out_at_once(
    browser: Any, server: Server
) -> None:
    journey = in_exam_checks_done(server, "fini@example.org", "fr")
    journey.start_exam()
    aid = journey.attempt_id
    assert aid is not None
    portal.finish_exam(server.platform.ctx, aid)
    page = _logged_in(browser, server, journey.email, "fr")
    try:
        page.goto(f"{server.url}/portal/{aid}")
        page.get_by_role("button", name="Se déconnecter", exact=True).click()
        dialog = page.get_by_role("dialog", name=WORDS["fr"]["after_title"])
        dialog.wait_for()
        assert "Oui, envoyer" in dialog.inner_text()
        dialog.get_by_role("button", name=WORDS["fr"]["stay"]).click()
        code = server.platform.ctx.store.get(aid, ExamAttempt).validation_code
        assert code is not None
        portal.validate_exam(server.platform.ctx, aid, typed_code=code)  # sent: closed
        page.goto(f"{server.url}/portal/{aid}")
        page.get_by_role("button", name="Se déconnecter", exact=True).click()
        page.wait_for_url("**/login")
    finally:
        page.context.close()
