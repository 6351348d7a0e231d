"""The exam tab in Chromium (issue 13, point 4): each answer saved as it is given without a
reload (a tick on Q2 survives typing in Q5, the scroll position stays), the navigator and
the "saved" sign follow, marks for later, the finish dialog used with the keyboard alone,
French and English, desktop and phone. Screenshots: test-artifacts/browser/exam-*.png."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.context import update
from domain.bounds import LIMITS
from domain.candidate import Candidate
from domain.exam_attempt import AttemptStatus, ExamAttempt
from tests.browser.conftest import (
    ARTIFACTS,
    Server,
    open_exam_tab,
    serious_violations,
    wait_until,
)
from ui.journey import Journey

SHOTS = Path(os.environ.get("VIGIE_EXAM_SHOTS", str(ARTIFACTS)))
DESKTOP, PHONE = {"width": 1440, "height": 900}, {"width": 360, "height": 740}


def shot(page: Any, name: str) -> None:
    """What the candidate sees (the viewport), and the whole page beside it."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"exam-{name}.png"))
    page.screenshot(path=str(SHOTS / f"exam-{name}-full.png"), full_page=True)


def wait_for(what: str, done: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.2)


def in_exam(server: Server, language: str = "fr") -> tuple[Journey, str]:
    """A candidate (her pages in `language`) in her exam; its tab's address."""
    journey = Journey(server.platform, language=language)
    journey.in_exam()
    assert journey.attempt_id is not None
    url = attempt(server, journey).workspace_url
    assert url
    return journey, url


def attempt(server: Server, journey: Journey) -> ExamAttempt:
    assert journey.attempt_id is not None
    return server.platform.ctx.store.get(journey.attempt_id, ExamAttempt)


class Problems(list[str]):
    """Console errors and failed assets: every one fails the test. Not while axe-core runs:
    it reads the platform's stylesheets by XHR, which a cross-origin page may not (the
    browser itself loads them as stylesheets, without CORS)."""

    auditing = False

    def audit(self, page: Any) -> list[str]:
        self.auditing = True
        try:
            return serious_violations(page)
        finally:
            page.wait_for_timeout(200)
            self.auditing = False


def answer_the_first(page: Any, order: Sequence[str], label: str) -> None:
    """The first question answered as its kind asks: words typed, or its first choice."""
    article = page.locator(f"#q-{order[0]}")
    if article.get_attribute("data-kind") == "short":
        article.get_by_label(label).fill("A free answer")
    else:
        article.locator("input[name^=choice-]").first.check()


def watch_problems(page: Any) -> Problems:
    problems = Problems()

    def seen(problem: str) -> None:
        if not problems.auditing:
            problems.append(problem)

    page.on("console", lambda m: seen(m.text) if m.type == "error" else None)
    page.on("response", lambda r: seen(f"{r.status} {r.url}") if r.status >= 400 else None)
    return problems


def test_answers_are_saved_as_given_and_the_exam_is_finished_with_the_keyboard(
    server: Server, page: Any
) -> None:
    problems = watch_problems(page)
    journey, url = in_exam(server)
    order = attempt(server, journey).question_order
    page.set_viewport_size(DESKTOP)
    open_exam_tab(page, journey, url)
    shot(page, "fr-desktop-start")
    second, fifth = order[1], order[4]
    kinds = {qid: page.locator(f"#q-{qid}").get_attribute("data-kind") for qid in (second, fifth)}

    def give(qid: str) -> None:
        article = page.locator(f"#q-{qid}")
        if kinds[qid] == "short":
            article.get_by_label("Votre réponse").fill("Réponse libre")
        else:
            article.locator("input[name^=choice-]").first.check()

    # A tick (or words) on Q2, then Q5 further down: both are saved, no reload, no jump.
    page.evaluate("window.vigieLoaded = true")
    give(second)
    page.locator(f"#q-{fifth}").scroll_into_view_if_needed()
    scrolled = page.evaluate("window.scrollY")
    give(fifth)
    page.locator("#save-status").filter(has_text=re.compile("enregistrée à")).wait_for()
    wait_for(
        "both answers are saved",
        lambda: {second, fifth} <= set(attempt(server, journey).given_answers()),
    )
    # The server holds both; the page marks a tile once it has heard its own save back (the
    # status above may be the other question's).
    for qid in (second, fifth):
        page.locator(f"#nav-{qid}.is-answered").wait_for()
    assert page.evaluate("window.vigieLoaded") is True  # the same page: nothing reloaded
    assert page.evaluate("window.scrollY") == scrolled
    given = attempt(server, journey).given_answers()
    assert given[second].text or given[second].choices
    assert given[fifth].text or given[fifth].choices
    for qid in (second, fifth):
        assert "is-answered" in (page.locator(f"#nav-{qid}").get_attribute("class") or "")
    assert "2 sur 10 répondues" in page.locator("#progress").inner_text()

    # Marked for later, with the keyboard; the navigator shows it.
    page.locator(f"#q-{order[6]} input[name=mark]").focus()
    page.keyboard.press("Space")
    wait_for(
        "the mark is kept by the workspace",
        lambda: order[6] in server.platform.launcher.marked(f"ws-{journey.attempt_id}"),  # type: ignore[attr-defined]
    )
    assert "is-marked" in (page.locator(f"#nav-{order[6]}").get_attribute("class") or "")

    # Jump to a question from the navigator: the keyboard is there.
    page.locator(f"#nav-{order[8]}").focus()
    page.keyboard.press("Enter")
    wait_for(
        "the question has the focus",
        lambda: page.evaluate("document.activeElement.id") == f"q-{order[8]}",
    )
    shot(page, "fr-desktop-answered")

    # Finish: Enter opens the dialog, Escape closes it and gives the focus back.
    page.locator("#finish-open").focus()
    page.keyboard.press("Enter")
    page.locator("#finish-dialog[open]").wait_for()
    assert page.locator("#finish-dialog [data-count=unanswered]").inner_text() == "8"
    shot(page, "fr-desktop-finish-dialog")
    page.keyboard.press("Escape")
    wait_for("the dialog closes", lambda: page.locator("#finish-dialog[open]").count() == 0)
    assert page.evaluate("document.activeElement.id") == "finish-open"
    assert attempt(server, journey).status is AttemptStatus.IN_PROGRESS
    page.keyboard.press("Enter")
    page.locator("#finish-dialog[open]").wait_for()
    page.keyboard.press("Tab")  # from « Revenir aux questions » to « Terminer l'examen »
    assert page.evaluate("document.activeElement.textContent").strip() == "Terminer l'examen"
    page.keyboard.press("Enter")
    page.locator("#finished").wait_for()
    shot(page, "fr-desktop-finished")
    assert attempt(server, journey).status is AttemptStatus.RESULTS_SHOWN
    assert not problems, problems


def test_the_exam_tab_in_english_and_on_a_phone(server: Server, page: Any) -> None:
    problems = watch_problems(page)
    journey, url = in_exam(server)
    assert journey.candidate_id is not None
    for language in ("fr", "en"):
        update(
            server.platform.ctx,
            journey.candidate_id,
            Candidate,
            lambda c, lang=language: c.choose_language(at=server.platform.ctx.now(), language=lang),  # type: ignore[misc]
        )
        for width, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            open_exam_tab(page, journey, url)
            page.locator("#remaining").wait_for()
            assert page.evaluate("document.documentElement.lang") == language
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{language} {width}: {overflow}px of horizontal overflow"
            assert not problems.audit(page), (language, width)
            shot(page, f"{language}-{width}")
            if width == "phone":
                # The timer stays in view after scrolling to the last question.
                page.locator("article.question").last.scroll_into_view_if_needed()
                box = page.locator("#remaining").bounding_box()
                assert box is not None and 0 <= box["y"] < size["height"]
                shot(page, f"{language}-{width}-scrolled")
            page.locator("#leave-open").click()
            page.locator("#leave-dialog[open]").wait_for()
            shot(page, f"{language}-{width}-leave-dialog")
            page.keyboard.press("Escape")
    assert "Time left" in page.locator(".exam-bar").inner_text()
    # A saved answer's time on 24 hours, as « ends at » beside it (English said « saved at
    # 5:21:13 PM » beside « ends at 17:20 »: a reviewer's tour).
    answer_the_first(page, attempt(server, journey).question_order, "Your answer")
    saved = page.locator("#save-status").filter(has_text=re.compile("saved at"))
    saved.wait_for()
    assert re.search(r"saved at \d\d:\d\d:\d\d\.", saved.inner_text()), saved.inner_text()
    assert "AM" not in saved.inner_text() and "PM" not in saved.inner_text()
    # Answers save themselves: the buttons for a browser without scripts are hidden.
    assert page.get_by_role("button", name="Save the answer").count() == 0
    # Five minutes before the end, the bar says so once (aria-live) and the time turns red.
    left = attempt(server, journey).remaining_seconds(server.platform.ctx.now())
    server.clock.advance(seconds=left - 302)
    open_exam_tab(page, journey, url)
    page.locator("#save-status").filter(has_text="5 minutes left").wait_for(timeout=8_000)
    assert "is-short" in (page.locator("#remaining").get_attribute("class") or "")
    shot(page, "en-phone-five-minutes-left")
    assert not problems, problems


def test_without_scripts_one_button_saves_the_whole_exam_and_comes_back_to_its_question(
    server: Server, browser: Any
) -> None:
    """The issue's loss, in a browser without JavaScript: a tick on Q2, words in Q5, then
    « Enregistrer la réponse » under Q5. Both are saved; the page comes back at Q5."""
    journey, url = in_exam(server)
    order = attempt(server, journey).question_order
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    try:
        page = context.new_page()
        problems = watch_problems(page)
        page.set_viewport_size(DESKTOP)
        open_exam_tab(page, journey, url)
        choice = next(
            q for q in order if page.locator(f"#q-{q}").get_attribute("data-kind") != "short"
        )
        words = next(
            q
            for q in order[order.index(choice) + 1 :]
            if page.locator(f"#q-{q}").get_attribute("data-kind") == "short"
        )
        page.locator(f"#q-{choice} input[name^=choice-]").first.check()
        page.locator(f"#q-{words}").get_by_label("Votre réponse").fill("Un à plusieurs")
        page.locator(f"#q-{words}").get_by_role("button", name="Enregistrer la réponse").click()
        page.wait_for_url(f"**#q-{words}")
        assert "Vos réponses sont enregistrées." in page.locator("#save-status").inner_text()
        given = attempt(server, journey).given_answers()
        assert given[choice].choices and given[words].text == "Un à plusieurs"
        assert page.locator(f"#q-{choice} input[name^=choice-]").first.is_checked()
        assert "is-answered" in (page.locator(f"#nav-{choice}").get_attribute("class") or "")
        shot(page, "fr-desktop-without-scripts")
        assert not problems, problems
    finally:
        context.close()


def test_a_saved_answers_time_reads_in_the_platforms_zone_whatever_the_browsers(
    server: Server, browser: Any
) -> None:
    """The exam tab said « Question 8 enregistrée à 12:25:46 » from the browser's clock in
    its own zone, beside « fin à 14:55 » in the platform's (a reviewer's browser in UTC):
    both now read in the platform's zone."""
    journey, url = in_exam(server)
    order = attempt(server, journey).question_order
    context = browser.new_context(locale="fr-FR", timezone_id="America/New_York")
    try:
        page = context.new_page()
        open_exam_tab(page, journey, url)
        answer_the_first(page, order, "Votre réponse")
        status = page.locator("#save-status").filter(has_text=re.compile("enregistrée à"))
        status.wait_for()
        said = re.search(r"enregistrée à (\d\d):(\d\d)", status.inner_text())
    finally:
        context.close()
    assert said is not None
    zone = ZoneInfo(server.platform.ctx.time_zone)
    hours = {(datetime.now(zone) + timedelta(minutes=m)).hour for m in (-1, 0, 1)}
    assert int(said[1]) in hours, (said[0], hours)  # Paris's hour, not New York's


def test_save_the_answer_leaves_the_saved_time_in_view(server: Server, page: Any) -> None:
    """Enter after typing: « Question n enregistrée à … » was replaced within 0.3 s by « Vos
    réponses sont enregistrées. », too fast to read the time. (« Enregistrer la réponse »
    did the same; with the script it is hidden: each answer saves itself.)"""
    journey, url = in_exam(server)
    order = attempt(server, journey).question_order
    open_exam_tab(page, journey, url)
    short = next(q for q in order if page.locator(f"#q-{q}").get_attribute("data-kind") == "short")
    article = page.locator(f"#q-{short}")
    assert article.locator("button[name=save]").is_hidden()
    article.get_by_label("Votre réponse").fill("Un à plusieurs")
    article.get_by_label("Votre réponse").press("Enter")
    status = page.locator("#save-status").filter(has_text=re.compile("enregistrée à"))
    status.wait_for()
    wait_for("the answer is saved", lambda: short in attempt(server, journey).given_answers())
    page.wait_for_timeout(1500)  # what the general sentence replaced it within
    assert re.search(r"enregistrée à \d\d:\d\d", page.locator("#save-status").inner_text())
    # A choice is saved as it is ticked, its time said and left in view.
    choice = next(q for q in order if page.locator(f"#q-{q}").get_attribute("data-kind") != "short")
    picked = page.locator(f"#q-{choice}")
    picked.locator("input[name^=choice-]").first.check()
    wait_for("the choice is saved", lambda: choice in attempt(server, journey).given_answers())
    page.wait_for_timeout(1500)
    assert re.search(r"enregistrée à \d\d:\d\d", page.locator("#save-status").inner_text())


def test_an_exam_tab_left_open_says_so_once_the_exam_is_sent(server: Server, page: Any) -> None:
    """The exam sent from the portal, the exam tab still showed its questions and a running
    « Temps restant » until reloaded (a reviewer's check): its next heartbeat learns the
    workspace is over, and the page says so."""
    journey, url = in_exam(server)
    open_exam_tab(page, journey, url)
    page.locator("#save-status").wait_for(state="attached")
    journey.answer_and_send()  # from the portal: the workspace is torn down
    page.get_by_text("Cet espace d'examen n'est pas (ou plus) ouvert.").wait_for(timeout=15_000)


def test_an_answer_too_long_is_said_beside_its_question_and_its_text_is_kept(
    server: Server, page: Any
) -> None:
    """A reviewer pasted 10,500 characters into a free-text answer: the save was refused, the
    bar said « Enregistrement de la question 6… » for ever, the only error was 1,300 px up
    the page without its cause, and the text was lost at the next reload. The field now holds
    the server's bound (a paste cut by it is said); a refusal (here from a field whose bound
    was taken off, as a browser that ignores it) is said beside the question with the cause,
    the bar says the answer is not saved, its tile stays white and the text stays in place;
    a connection lost is said there too, and the answer is sent again once it is back."""
    journey, url = in_exam(server)
    order = attempt(server, journey).question_order
    limit = LIMITS["answer"]
    page.set_viewport_size(DESKTOP)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_exam_tab(page, journey, url)
    # The sixth question, or the first free-text one after it: the reviewer's was the sixth.
    short = next(
        q
        for q in order[5:] + order
        if page.locator(f"#q-{q}").get_attribute("data-kind") == "short"
    )
    article = page.locator(f"#q-{short}")
    n = article.get_attribute("data-number")
    field = article.get_by_label("Votre réponse")
    problem = page.locator(f"#q-{short}-problem")
    tile = page.locator(f"#nav-{short}")
    counted = article.locator(".question__count")
    status = page.locator("#save-status")
    assert field.get_attribute("maxlength") == str(limit)

    # A real paste of 10,500 characters: the field keeps 10,000 and says what was left out.
    page.evaluate("text => navigator.clipboard.writeText(text)", "a" * (limit + 500))
    field.focus()
    page.keyboard.press("Control+V")
    wait_for("the paste is saved", lambda: short in attempt(server, journey).given_answers())
    assert len(field.input_value()) == limit
    assert len(attempt(server, journey).given_answers()[short].text) == limit
    assert re.search(r"les 500 derniers caractères du texte collé", problem.inner_text())
    assert re.search(r"10\s000 caractères sur 10\s000", counted.inner_text())
    shot(page, "fr-desktop-paste-cut")

    # A field without its bound: 10,500 characters reach the server, which refuses them.
    field.evaluate("field => field.removeAttribute('maxlength')")
    too_long = "b" * (limit + 500)
    field.fill(too_long)
    status.filter(has_text=f"Question {n} non enregistrée").wait_for()
    said = problem.inner_text()
    assert problem.is_visible() and "trop longue" in said
    assert re.search(r"10\s500 caractères, 10\s000 au plus", said), said
    box, question_box = problem.bounding_box(), article.bounding_box()
    assert box is not None and question_box is not None
    assert question_box["y"] <= box["y"] <= question_box["y"] + question_box["height"]
    assert "is-answered" not in (tile.get_attribute("class") or "")
    assert "is-unsaved" in (tile.get_attribute("class") or "")
    # The count is what the server holds, as finishing keeps it: the paste saved before the
    # refusal (the bar said « 0 sur 10 répondues » where finishing kept it, a user's tour).
    assert "1 sur 10 répondues" in page.locator("#progress").inner_text()
    assert re.search(r"10\s500 caractères sur 10\s000", counted.inner_text())
    assert field.input_value() == too_long  # never cleared: the candidate shortens it
    assert attempt(server, journey).given_answers()[short].text == "a" * limit  # the last saved
    shot(page, "fr-desktop-answer-too-long")
    page.set_viewport_size(PHONE)
    article.scroll_into_view_if_needed()
    shot(page, "fr-phone-answer-too-long")
    page.set_viewport_size(DESKTOP)
    page.wait_for_timeout(6_000)  # a beat: the refused text is not sent again by itself
    assert "Enregistrement" not in status.inner_text()
    assert field.input_value() == too_long

    # Shortened, it is saved: the message goes, the tile turns green.
    field.fill("Une réponse raisonnable")
    status.filter(has_text=re.compile(f"Question {n} enregistrée à")).wait_for()
    assert problem.is_hidden()
    assert "is-answered" in (tile.get_attribute("class") or "")
    assert "1 sur 10 répondues" in page.locator("#progress").inner_text()
    assert attempt(server, journey).given_answers()[short].text == "Une réponse raisonnable"

    # The connection lost: said beside the question, the text kept, sent again once back.
    page.route("**/answer?*", lambda route: route.abort())
    field.fill("Une réponse hors ligne")
    problem.filter(has_text="vérifiez votre connexion").wait_for()
    assert f"Question {n} non enregistrée" in status.inner_text()
    assert "is-answered" not in (tile.get_attribute("class") or "")
    assert field.input_value() == "Une réponse hors ligne"
    shot(page, "fr-desktop-answer-offline")
    page.unroute("**/answer?*")
    status.filter(has_text=re.compile(f"Question {n} enregistrée à")).wait_for(timeout=12_000)
    assert problem.is_hidden()
    assert attempt(server, journey).given_answers()[short].text == "Une réponse hors ligne"


# What the finish dialog says of answers not saved, in each language.
UNSAVED_WORDS = {
    "fr": {
        "answer": "Votre réponse",
        "refused": "Question {n} non enregistrée",
        "saved": "enregistrée à",
        "unanswered": (
            "Question {n} : votre réponse n'est pas enregistrée (la raison est sous la "
            "question). Si vous terminez maintenant, cette question sera comptée comme sans "
            "réponse."
        ),
        "earlier": (
            "Question {n} : votre dernière modification n'est pas enregistrée (la raison est "
            "sous la question). Si vous terminez maintenant, c'est la réponse enregistrée "
            "auparavant qui comptera."
        ),
        "back": "Revenir à la question {n}",
        "anyway": "Terminer quand même",
        "finish": "Terminer l'examen",
        "progress": "{done} sur 10 répondues",
        "leave-unanswered": (
            "Question {n} : votre réponse n'est pas enregistrée (la raison est sous la "
            "question). Si vous quittez maintenant, cette question restera sans réponse."
        ),
        "leave-earlier": (
            "Question {n} : votre dernière modification n'est pas enregistrée (la raison est "
            "sous la question). Si vous quittez maintenant, c'est la réponse enregistrée "
            "auparavant qui est conservée."
        ),
        "all-saved": "Vos réponses sont enregistrées.",
        "others-saved": "Vos autres réponses sont enregistrées.",
        "leave-anyway": "Quitter quand même",
        "leave": "Quitter l'onglet de l'examen",
    },
    "en": {
        "answer": "Your answer",
        "refused": "Question {n} not saved",
        "saved": "saved at",
        "unanswered": (
            "Question {n}: your answer is not saved (the reason is under the question). If "
            "you finish now, this question counts as unanswered."
        ),
        "earlier": (
            "Question {n}: your latest change is not saved (the reason is under the "
            "question). If you finish now, the answer saved before it counts instead."
        ),
        "back": "Go back to question {n}",
        "anyway": "Finish anyway",
        "finish": "Finish the exam",
        "progress": "{done} of 10 answered",
        "leave-unanswered": (
            "Question {n}: your answer is not saved (the reason is under the question). If "
            "you leave now, this question stays unanswered."
        ),
        "leave-earlier": (
            "Question {n}: your latest change is not saved (the reason is under the "
            "question). If you leave now, the answer saved before it is kept instead."
        ),
        "all-saved": "Your answers are saved.",
        "others-saved": "Your other answers are saved.",
        "leave-anyway": "Leave anyway",
        "leave": "Leave the exam tab",
    },
}


TOO_LONG = "b" * (LIMITS["answer"] + 500)  # refused by the server beside its question


@dataclass(frozen=True)
class ShortAnswers:
    """The exam tab open on a desktop in the candidate's language, and its first two
    short-answer questions: where the finish and leave dialogs' tests type answers the
    server refuses."""

    server: Server
    page: Any
    journey: Journey
    words: dict[str, str]
    first: str
    second: str

    def field(self, qid: str) -> Any:
        answer = self.page.locator(f"#q-{qid}").get_by_label(self.words["answer"])
        answer.evaluate("field => field.removeAttribute('maxlength')")  # as a browser ignoring it
        return answer

    def n(self, qid: str) -> str:
        return self.page.locator(f"#q-{qid}").get_attribute("data-number") or ""

    def refused(self, qid: str) -> None:
        said = self.words["refused"].format(n=self.n(qid))
        self.page.locator("#save-status").filter(has_text=said).wait_for()

    def open_dialog(self, name: str) -> None:
        """« Terminer l'examen… » (`finish`) or « Quitter cet onglet… » (`leave`)."""
        self.page.locator(f"#{name}-open").click()
        self.page.locator(f"#{name}-dialog[open]").wait_for()

    def attempt(self) -> ExamAttempt:
        return attempt(self.server, self.journey)


def short_answers(server: Server, page: Any, language: str) -> ShortAnswers:
    journey, url = in_exam(server, language)
    page.set_viewport_size(DESKTOP)
    open_exam_tab(page, journey, url)
    first, second = [
        q
        for q in attempt(server, journey).question_order
        if page.locator(f"#q-{q}").get_attribute("data-kind") == "short"
    ][:2]
    return ShortAnswers(server, page, journey, UNSAVED_WORDS[language], first, second)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_finishing_with_an_answer_not_saved_names_it_and_leads_back_to_it(
    server: Server, page: Any, language: str
) -> None:
    """« Terminer l'examen » with an answer the server refused (too long) beside its question:
    the dialog counted it unanswered without a word, and finishing ended the exam all the
    same (a user's tour). The dialog now names each answer not saved, says what finishing
    makes of it (unanswered, or the answer saved before it), leads back to its question, and
    an answer refused while she confirms keeps the exam open until she confirms again."""
    problems = watch_problems(page)
    exam = short_answers(server, page, language)
    words, first, second, field, n = exam.words, exam.first, exam.second, exam.field, exam.n
    dialog = page.locator("#finish-dialog")
    unsaved = dialog.locator("#finish-unsaved")
    confirm = dialog.locator("#finish-form [type=submit]")

    # Never saved, then refused: finishing now leaves it unanswered, and the dialog says so.
    field(first).fill(TOO_LONG)
    exam.refused(first)
    exam.open_dialog("finish")
    assert unsaved.is_visible()
    assert unsaved.locator("p").all_inner_texts() == [words["unanswered"].format(n=n(first))]
    assert confirm.inner_text() == words["anyway"]
    assert dialog.locator("[data-count=answered]").inner_text() == "0 / 10"
    assert not problems.audit(page)
    shot(page, f"{language}-desktop-finish-unsaved")
    page.set_viewport_size(PHONE)
    shot(page, f"{language}-phone-finish-unsaved")
    page.set_viewport_size(DESKTOP)
    # Its way back: the dialog closes, the keyboard is in the answer to shorten.
    dialog.get_by_role("button", name=words["back"].format(n=n(first))).click()
    wait_for(
        "the keyboard is in the answer",
        lambda: page.evaluate("document.activeElement.id") == f"answer-{first}",
    )
    assert page.locator("#finish-dialog[open]").count() == 0
    assert exam.attempt().status is AttemptStatus.IN_PROGRESS
    page.keyboard.press("Control+A")
    page.keyboard.type("Une réponse raisonnable")
    page.locator("#save-status").filter(has_text=words["saved"]).wait_for()
    exam.open_dialog("finish")
    assert unsaved.is_hidden() and confirm.inner_text() == words["finish"]
    assert dialog.locator("[data-count=answered]").inner_text() == "1 / 10"
    page.keyboard.press("Escape")
    wait_for("the dialog closes", lambda: page.locator("#finish-dialog[open]").count() == 0)

    # Saved, then a change refused: the answer saved before it is the one that counts.
    field(second).fill("Réponse courte")
    wait_for("the answer is saved", lambda: second in exam.attempt().given_answers())
    page.locator(f"#nav-{second}.is-answered").wait_for()
    field(second).fill(TOO_LONG)
    exam.refused(second)
    # The bar counts what finishing keeps: it said « 1 sur 10 répondues » here (a user's tour).
    assert page.locator("#progress").inner_text() == words["progress"].format(done=2)
    exam.open_dialog("finish")
    assert unsaved.locator("p").all_inner_texts() == [words["earlier"].format(n=n(second))]
    assert dialog.locator("[data-count=answered]").inner_text() == "2 / 10"
    shot(page, f"{language}-desktop-finish-unsaved-earlier")

    # Refused while she confirms (typed, then « Terminer quand même » at once): the exam
    # stays open, the dialog names that answer too, the keyboard is on a way back.
    page.evaluate(
        """([id, text]) => {
            const answer = document.getElementById("answer-" + id);
            answer.value = text;
            answer.dispatchEvent(new Event("input", { bubbles: true }));
            document.querySelector("#finish-form [type=submit]").click();
        }""",
        [first, TOO_LONG],
    )
    dialog.get_by_role("button", name=words["back"].format(n=n(first))).wait_for()
    # The focus moves once the dialog is redrawn: waited for (a loaded CI machine read it
    # before, on the button just pressed).
    wait_until(
        page,
        "ids => ids.includes((document.activeElement || {}).dataset?.question)",
        arg=[first, second],
        timeout=10_000,
    )
    assert page.locator("#finish-dialog[open]").count() == 1
    assert exam.attempt().status is AttemptStatus.IN_PROGRESS
    assert len(unsaved.locator("p").all_inner_texts()) == 2
    assert dialog.locator("[data-count=answered]").inner_text() == "2 / 10"

    # Confirmed again, knowing: the exam ends with what the server holds.
    confirm.click()
    page.locator("#finished").wait_for()
    kept = exam.attempt().given_answers()
    assert kept[first].text == "Une réponse raisonnable"
    assert kept[second].text == "Réponse courte"
    assert exam.attempt().status is AttemptStatus.RESULTS_SHOWN
    assert all(" 409 " in f" {p} " for p in problems), problems  # the refusals, nothing else


@pytest.mark.parametrize("language", ["fr", "en"])
def test_leaving_with_an_answer_not_saved_names_it_instead_of_saying_all_is_saved(
    server: Server, page: Any, language: str
) -> None:
    """« Quitter cet onglet… » with an answer the server refused beside its question: the
    dialog said « Vos réponses sont enregistrées » all the same (a user's tour). It now names
    each answer not saved and what leaving makes of it (unanswered, or the answer saved
    before it), leads back to it, says only the others are saved, and an answer refused
    while she confirms keeps the tab open until she confirms again."""
    problems = watch_problems(page)
    exam = short_answers(server, page, language)
    words, first, second, field, n = exam.words, exam.first, exam.second, exam.field, exam.n
    dialog = page.locator("#leave-dialog")
    unsaved = dialog.locator("#leave-unsaved")
    confirm = dialog.locator("#leave-form [type=submit]")
    progress = page.locator("#progress")

    # The first saved, then a change refused; the second refused, never saved before.
    field(first).fill("Réponse courte")
    wait_for("the answer is saved", lambda: first in exam.attempt().given_answers())
    field(first).fill(TOO_LONG)
    exam.refused(first)
    field(second).fill(TOO_LONG)
    exam.refused(second)
    exam.open_dialog("leave")
    assert unsaved.is_visible()
    assert unsaved.locator("p").all_inner_texts() == [
        words["leave-earlier"].format(n=n(first)),
        words["leave-unanswered"].format(n=n(second)),
    ]
    said = dialog.inner_text()
    assert words["all-saved"] not in said and words["others-saved"] in said
    assert confirm.inner_text() == words["leave-anyway"]
    assert progress.inner_text() == words["progress"].format(done=1)  # what the server holds
    assert not problems.audit(page)
    shot(page, f"{language}-desktop-leave-unsaved")
    page.set_viewport_size(PHONE)
    shot(page, f"{language}-phone-leave-unsaved")
    page.set_viewport_size(DESKTOP)

    # Its way back: the dialog closes, the keyboard is in the answer to shorten.
    dialog.get_by_role("button", name=words["back"].format(n=n(second))).click()
    wait_for(
        "the keyboard is in the answer",
        lambda: page.evaluate("document.activeElement.id") == f"answer-{second}",
    )
    assert page.locator("#leave-dialog[open]").count() == 0
    page.keyboard.press("Control+A")
    page.keyboard.type("Une réponse raisonnable")
    page.locator("#save-status").filter(has_text=words["saved"]).wait_for()
    assert progress.inner_text() == words["progress"].format(done=2)
    exam.open_dialog("leave")
    assert unsaved.locator("p").all_inner_texts() == [words["leave-earlier"].format(n=n(first))]
    page.keyboard.press("Escape")
    wait_for("the dialog closes", lambda: page.locator("#leave-dialog[open]").count() == 0)
    field(first).fill("Réponse plus courte")
    # Not « saved » on the status line: it said so already, from the answer before (CI at
    # 7046c83 opened the dialog before this save came back). The server holds it, then the
    # page has heard so: the dialog names nothing.
    wait_for(
        "the shorter answer is saved",
        lambda: exam.attempt().given_answers()[first].text == "Réponse plus courte",
    )

    def names_nothing() -> bool:
        exam.open_dialog("leave")
        if unsaved.is_hidden():
            return True
        page.keyboard.press("Escape")
        wait_for("the dialog closes", lambda: page.locator("#leave-dialog[open]").count() == 0)
        return False

    wait_for("the dialog names nothing unsaved", names_nothing)
    said = dialog.inner_text()
    assert words["all-saved"] in said and words["others-saved"] not in said
    assert confirm.inner_text() == words["leave"]

    # Refused while she confirms (typed, then « Quitter » at once): the tab stays, the
    # dialog names that answer, the keyboard is on its way back.
    page.evaluate(
        """([id, text]) => {
            const answer = document.getElementById("answer-" + id);
            answer.value = text;
            answer.dispatchEvent(new Event("input", { bubbles: true }));
            document.querySelector("#leave-form [type=submit]").click();
        }""",
        [second, TOO_LONG],
    )
    dialog.get_by_role("button", name=words["back"].format(n=n(second))).wait_for()
    assert page.evaluate("document.activeElement.dataset.question") == second
    assert unsaved.locator("p").all_inner_texts() == [words["leave-earlier"].format(n=n(second))]
    assert confirm.inner_text() == words["leave-anyway"]
    assert page.locator("#left").count() == 0

    # Confirmed again, knowing: the tab is left with what the server holds.
    confirm.click()
    page.locator("#left").wait_for()
    kept = exam.attempt().given_answers()
    assert kept[first].text == "Réponse plus courte"
    assert kept[second].text == "Une réponse raisonnable"
    assert all(" 409 " in f" {p} " for p in problems), problems  # the refusals, nothing else


def test_enter_in_an_answer_saves_it_and_never_asks_to_finish(server: Server, browser: Any) -> None:
    """Enter in a free-text answer opened « Terminer l'examen ? »: the form's first submit
    button was « Terminer l'examen… » in the bar (a reviewer's tour). Enter now saves the
    answer, as leaving the field does, in every kind of field (a choice and the mark switch
    do nothing more); a textarea keeps its new line; without scripts Enter saves the exam
    and comes back to it."""
    journey, url = in_exam(server)
    order = attempt(server, journey).question_order
    for scripts in (True, False):
        context = browser.new_context(locale="fr-FR", java_script_enabled=scripts)
        try:
            page = context.new_page()
            problems = watch_problems(page)
            page.set_viewport_size(DESKTOP)
            open_exam_tab(page, journey, url)
            kinds = {q: page.locator(f"#q-{q}").get_attribute("data-kind") for q in order}
            short = [q for q in order if kinds[q] == "short"][0 if scripts else 1]
            said = "Relation un à plusieurs" if scripts else "Sans script"
            field = page.locator(f"#q-{short}").get_by_label("Votre réponse")
            field.click()
            page.keyboard.type(said)
            page.keyboard.press("Enter")  # at once: before the pause that saves by itself
            if not scripts:
                page.wait_for_url("**saved=1**")
            else:
                n = page.locator(f"#q-{short}").get_attribute("data-number")
                page.locator("#save-status").filter(
                    has_text=re.compile(f"Question {n} enregistrée à")
                ).wait_for()
            assert page.locator("dialog[open]").count() == 0

            def saved(question: str = short, text: str = said) -> bool:
                given = attempt(server, journey).given_answers().get(question)
                return given is not None and given.text == text

            wait_for("the answer is saved", saved)
            assert page.locator(f"#q-{short}").get_by_label("Votre réponse").input_value() == said
            if scripts:
                shot(page, "fr-desktop-enter-saves")
                choice = next(q for q in order if kinds[q] != "short")
                for target in (
                    page.locator(f"#q-{choice} input[name^=choice-]").first,
                    page.locator(f"#q-{choice} input[name=mark]"),
                ):
                    target.focus()
                    page.keyboard.press("Enter")
                    page.wait_for_timeout(300)
                    assert page.locator("dialog[open]").count() == 0
                # A textarea (a longer answer) keeps Enter for a new line.
                page.locator(f"#q-{short} footer").evaluate(
                    "f => f.insertAdjacentHTML('beforebegin', '<textarea id=long></textarea>')"
                )
                page.locator("#long").click()
                page.keyboard.type("un")
                page.keyboard.press("Enter")
                page.keyboard.type("deux")
                assert page.locator("#long").input_value() == "un\ndeux"
                assert page.locator("dialog[open]").count() == 0
            assert attempt(server, journey).status is AttemptStatus.IN_PROGRESS
            assert not problems, problems
        finally:
            context.close()
