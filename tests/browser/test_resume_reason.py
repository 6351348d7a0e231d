"""« Reprendre l'examen » in Chromium (R6): a reason refused for being short comes back in the
field with its words counted (the counter read « 0 mots / 10 » under three words, and the
field's two described-by ids left it dead: a reviewer's check)."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Server
from tests.browser.test_checks_screens import logged_in


def test_a_refused_resume_reason_comes_back_counted(page: Any, server: Server) -> None:
    journey = logged_in(page, server, "fr")  # entered once: « Mes examens » asks a reason
    page.goto(f"{server.url}/exams")
    page.locator("textarea[name=reason]").fill("Caméra en panne")
    page.locator("form.resume button[type=submit]").click()
    page.locator("[id^=resume-error-]").wait_for()
    page.wait_for_url("**/enter")  # loaded: the counter says « 0 » until checks.js has run
    assert page.locator("textarea[name=reason]").input_value() == "Caméra en panne"
    counter = page.locator(".word-count")
    assert counter.inner_text().startswith("3 "), counter.inner_text()
    page.locator("textarea[name=reason]").fill("Caméra en panne hier soir")
    assert counter.inner_text().startswith("5 "), counter.inner_text()
    assert journey.session_id is not None
