"""« Se déconnecter » during the exam asks first and says what it stops (a user's tour: it
logged out at once, under a running exam); « Rester dans l'examen » keeps her logged in, « Me
déconnecter quand même » logs out. Once the exam is over it logs out at once, as on every
other page. Chromium, fr and en, at 390 px."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.use_cases import portal
from tests.browser.conftest import Server
from tests.browser.test_portal_pages import PASSWORD, in_exam_checks_done

SHOTS = Path("/tmp/shots-cand")
WORDS = {
    "fr": {
        "log_out": "Se déconnecter",
        "title": "Vous déconnecter pendant votre examen ?",
        "stops": "l'onglet de l'examen ne peut plus enregistrer vos réponses",
        "stay": "Rester dans l'examen",
        "anyway": "Me déconnecter quand même",
    },
    "en": {
        "log_out": "Log out",
        "title": "Log out during your exam?",
        "stops": "the exam tab can no longer save your answers",
        "stay": "Stay in the exam",
        "anyway": "Log out anyway",
    },
}


def _logged_in(browser: Any, server: Server, email: str, language: str) -> Any:
    context = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{server.url}/lang/{language}")
    page.goto(f"{server.url}/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)
    return page


@pytest.mark.parametrize("language", ["fr", "en"])
def test_log_out_during_the_exam_asks_first_and_says_why(
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
        assert words["stops"] in dialog.inner_text()
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


def test_once_the_exam_is_over_log_out_does_not_ask(browser: Any, server: Server) -> None:
    journey = in_exam_checks_done(server, "fini@example.org", "fr")
    journey.start_exam()
    aid = journey.attempt_id
    assert aid is not None
    portal.finish_exam(server.platform.ctx, aid)
    page = _logged_in(browser, server, journey.email, "fr")
    try:
        page.goto(f"{server.url}/portal/{aid}")
        page.get_by_role("button", name="Se déconnecter", exact=True).click()
        page.wait_for_url("**/login")
    finally:
        page.context.close()
