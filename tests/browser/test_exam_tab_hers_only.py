"""Sec-findings F6 in Chromium: the exam tab opened from the portal (« Commencer », a new tab
in the same browser) works there; after she logs out in the portal, the tab says so in view,
keeps what she typed (not saved, not lost) and will not finish the exam, and once she logs
in again it saves the answer by itself. Another browser with the link alone gets a page in
her language saying to log in and reopen the exam from « Mes examens ». Screenshots:
test-artifacts/browser/exam-hers-only-*.png (and VIGIE_EXAM_SHOTS when set)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.context import update
from app.use_cases import portal
from domain.candidate import Candidate
from domain.exam_attempt import AttemptStatus, ExamAttempt
from tests.browser.conftest import ARTIFACTS, Server, serious_violations
from tests.browser.test_portal_pages import PASSWORD, in_exam_checks_done, logged_in_page
from ui.journey import Journey

SHOTS = [ARTIFACTS, *(Path(p) for p in [os.environ.get("VIGIE_EXAM_SHOTS", "")] if p)]
DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 360, "height": 740}


def shot(page: Any, name: str) -> None:
    for folder in SHOTS:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"exam-hers-only-{name}.png"))


def wait_for(what: str, done: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.2)


def attempt(journey: Journey) -> ExamAttempt:
    assert journey.attempt_id is not None
    return journey.platform.ctx.store.get(journey.attempt_id, ExamAttempt)


def ready_to_begin(server: Server, email: str) -> Journey:
    """The checks passed and the workspace prepared: « Commencer » is next."""
    journey = in_exam_checks_done(server, email, "fr")
    journey.to_tile()
    assert journey.attempt_id is not None
    portal.start_now(server.platform.ctx, journey.attempt_id)
    server.platform.settle()
    return journey


def first_free_text(exam: Any, journey: Journey) -> str:
    order = attempt(journey).question_order
    return next(q for q in order if exam.locator(f"#q-{q}").get_attribute("data-kind") == "short")


def test_after_log_out_the_tab_says_so_keeps_the_typed_answer_and_saves_it_once_back(
    browser: Any, server: Server
) -> None:
    journey = ready_to_begin(server, "partie@example.org")
    context, page = logged_in_page(browser, server, journey.email)
    try:
        page.set_viewport_size(DESKTOP)
        page.goto(f"{server.url}/portal/{journey.attempt_id}")
        with context.expect_page() as opened:  # the exam tab, opened by « Commencer »
            page.get_by_role("button", name="Commencer", exact=True).click()
        exam = opened.value
        exam.set_viewport_size(DESKTOP)
        exam.wait_for_url("**/w/**")
        exam.locator("#remaining").wait_for()
        qid = first_free_text(exam, journey)
        field = exam.locator(f"#answer-{qid}")
        field.fill("Taille du champ")
        field.press("Enter")
        wait_for(
            "her answer is saved", lambda: attempt(journey).answers.get(qid) == "Taille du champ"
        )
        assert exam.locator("#session-lost").is_hidden()

        # She logs out in the portal (the proctoring tab), confirming it during the exam;
        # the exam tab stays open.
        page.get_by_role("button", name="Se déconnecter", exact=True).click()
        asked = page.get_by_role("dialog", name="Vous déconnecter pendant votre examen ?")
        asked.get_by_role("button", name="Me déconnecter quand même").click()
        page.wait_for_url("**/login**")
        field.fill("Taille de champ, en caractères")
        field.press("Enter")
        problem = exam.locator(f"#q-{qid}-problem")
        problem.filter(has_text="ce navigateur n'est plus connecté à Vigie").wait_for()
        assert "revenez à « Mes examens »" in problem.inner_text().replace("\xa0", " ")
        lost = exam.locator("#session-lost")  # in the bar, in view wherever she is
        lost.wait_for()
        assert "n'est plus connecté à Vigie à votre nom" in lost.inner_text()
        assert "ce que vous avez saisi reste ici" in lost.inner_text()
        assert lost.get_by_role("link", name="Se reconnecter (nouvel onglet)").is_visible()
        assert field.input_value() == "Taille de champ, en caractères"  # kept, not lost
        assert "non enregistrée : la raison est sous la question" in (
            exam.locator("#save-status").inner_text()
        )
        exam.wait_for_timeout(6_000)  # a beat and a resend later: still refused, still there
        assert field.input_value() == "Taille de champ, en caractères"
        assert attempt(journey).answers[qid] == "Taille du champ"  # nothing saved meanwhile
        exam.evaluate("window.scrollTo(0, 0)")
        shot(exam, "fr-logged-out-tab")
        exam.set_viewport_size(PHONE)
        field.scroll_into_view_if_needed()
        shot(exam, "fr-logged-out-tab-phone")  # the bar's sentence in view, the field too
        exam.set_viewport_size(DESKTOP)

        # Finishing is not sent: the page would be replaced by a refusal, the text with it.
        exam.locator("#finish-open").click()
        exam.locator("#finish-dialog[open]").wait_for()
        exam.locator("#finish-form button[type=submit]").click()
        said = exam.locator("#finish-dialog [data-session-lost]")
        said.wait_for()
        assert "L'examen ne peut pas être terminé depuis cet onglet" in said.inner_text()
        shot(exam, "fr-logged-out-finish")
        assert exam.locator("#finish-dialog[open]").count() == 1
        assert attempt(journey).status is AttemptStatus.IN_PROGRESS
        exam.keyboard.press("Escape")

        # Logged in again (the portal's tab): the tab saves what she typed, by itself.
        page.get_by_label("Adresse e-mail").fill(journey.email)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        wait_for(
            "the typed answer is saved once she is back",
            lambda: attempt(journey).answers.get(qid) == "Taille de champ, en caractères",
        )
        lost.wait_for(state="hidden")
        assert problem.is_hidden()
        assert field.input_value() == "Taille de champ, en caractères"
    finally:
        context.close()


def test_another_browser_with_the_link_gets_the_log_in_page_in_her_language(
    browser: Any, server: Server
) -> None:
    journey = ready_to_begin(server, "lien@example.org")
    assert journey.attempt_id is not None
    portal.begin_exam(server.platform.ctx, journey.attempt_id)
    url = attempt(journey).workspace_url
    assert url
    context = browser.new_context(locale="fr-FR", viewport=DESKTOP)  # nobody logged in
    try:
        page = context.new_page()
        for language, title, words in (
            ("fr", "Connectez-vous pour ouvrir votre examen", "revenez à « Mes examens »"),
            ("en", "Log in to open your exam", "go back to “My exams”"),
        ):
            assert journey.candidate_id is not None
            update(
                server.platform.ctx,
                journey.candidate_id,
                Candidate,
                lambda c, lang=language: c.choose_language(  # type: ignore[misc]
                    at=server.platform.ctx.now(), language=lang
                ),
            )
            reply = page.goto(url)
            assert reply is not None and reply.status == 401
            assert page.locator("html").get_attribute("lang") == language
            assert page.get_by_role("heading", level=1).inner_text() == title
            assert words in page.locator("#log-in-refusal").inner_text().replace("\xa0", " ")
            assert page.locator("#answers").count() == 0 and page.locator("#remaining").count() == 0
            assert serious_violations(page) == []
            shot(page, f"{language}-refused")
            page.locator("#log-in").click()  # the log-in page, back to « Mes examens »
            page.wait_for_url("**/login?next=/exams")
    finally:
        context.close()
