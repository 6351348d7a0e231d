# ruff: noqa: F811 (the fixtures imported from test_exam_delivery are parameters here)
"""The exam tab as a browser without scripts meets it (issue 13, point 4): one form for the
whole exam, a navigator with answered / not answered / marked questions, finishing behind a
confirmation, refusals in the candidate's words, the candidate's language."""

from __future__ import annotations

import html
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from typing import Any

from adapters.bootstrap import Platform
from adapters.launcher.builtin import BuiltinWorkspaces as Workspaces
from app.context import update
from app.use_cases import portal
from domain.bounds import LIMITS
from domain.candidate import Candidate
from domain.exam_attempt import AttemptStatus, ExamAttempt
from domain.exam_paper import QuestionKind
from tests.acceptance.test_exam_delivery import (  # noqa: F401 (fixtures)
    attempt_of,
    clock,
    in_exam,
    platform,
)
from tests.acceptance.test_exam_delivery import http as raw_http
from tests.acceptance.web import her_browser
from ui.journey import Journey

# A rule's code written out as the words a person reads (tests/acceptance/test_rules_in_words).
BARE_CODE = re.compile(r"\b(?:règle|rule) R\d+\b")


def http(
    url: str, form: dict[str, str | list[str]] | None = None, *, cookie: str = ""
) -> tuple[int, str]:
    """The status and the page, its entities read (« l'examen », not « l&#39;examen »), as
    the browser whose cookies are `cookie` (none: a stranger's) meets them."""
    status, page = raw_http(url, form, cookie=cookie)
    return status, html.unescape(page)


class _Navigator(HTMLParser):
    """The navigator's links: question id -> their classes."""

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, set[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and "navigator__item" in (found.get("class") or ""):
            self.items[found["data-question"] or ""] = set((found["class"] or "").split())


def navigator(page: str) -> dict[str, set[str]]:
    parser = _Navigator()
    parser.feed(page)
    return parser.items


def refused_answer(base: str, token: str, answer: str, *, cookie: str) -> dict[str, Any]:
    """The JSON refusal (409) of an answer to « tables-taille » sent as the tab's script
    sends it, from the browser whose cookies are `cookie`."""
    request = urllib.request.Request(
        f"{base}/answer?t={token}",
        data=urllib.parse.urlencode({"question_id": "tables-taille", "answer": answer}).encode(),
        headers={"X-Vigie-Fetch": "1", "Cookie": cookie},
    )
    try:
        urllib.request.urlopen(request, timeout=5)
    except urllib.error.HTTPError as refused:
        assert refused.code == 409
        body: dict[str, Any] = json.loads(refused.read())
        return body
    raise AssertionError("the answer was not refused")


def addresses(journey: Journey) -> tuple[str, str]:
    base, token = attempt_of(journey).workspace_url.split("?t=")
    return base, token


def whole_form(journey: Journey, **fields: str | list[str]) -> dict[str, str | list[str]]:
    """What the one form posts when nothing else was touched: every question, as saved."""
    assert journey.attempt_id is not None and isinstance(journey.platform.launcher, Workspaces)
    form: dict[str, str | list[str]] = {"form": "all"}
    for question in journey.platform.launcher.view(journey.attempt_id).questions:
        qid = question.question_id
        if question.kind is QuestionKind.SHORT:
            form[f"answer-{qid}"] = question.given.text
        else:
            form[f"choice-{qid}"] = list(question.given.choices)
    form.update(fields)
    return form


def test_the_navigator_tells_answered_unanswered_and_marked_questions(
    platform: Platform,
) -> None:
    journey = in_exam(platform)
    me = her_browser(journey)
    base, token = addresses(journey)
    http(
        f"{base}/answer?t={token}", {"question_id": "tables-types", "choice": ["a", "d"]}, cookie=me
    )
    http(f"{base}/mark?t={token}", {"question_id": "tables-taille", "marked": "1"}, cookie=me)
    status, page = http(f"{base}?t={token}", cookie=me)
    items = navigator(page)
    assert status == 200 and set(items) == set(attempt_of(journey).question_order)
    assert "is-answered" in items["tables-types"] and "is-marked" not in items["tables-types"]
    assert "is-marked" in items["tables-taille"] and "is-answered" not in items["tables-taille"]
    assert items["relations-integrite"] == {"navigator__item"}
    assert "1 sur 10 répondues" in page
    # Every question is one jump away, and its mark is a ticked switch.
    assert 'href="#q-tables-taille"' in page and 'id="q-tables-taille"' in page
    assert re.search(r'name="mark" value="tables-taille" checked', page)
    http(f"{base}/mark?t={token}", {"question_id": "tables-taille", "marked": ""}, cookie=me)
    assert "is-marked" not in navigator(http(f"{base}?t={token}", cookie=me)[1])["tables-taille"]


def test_a_tick_on_one_question_survives_saving_another(platform: Platform) -> None:
    """The issue's loss: a tick made on Q2, then « Save » pressed on Q5. The one form sends
    both, both are saved, and the page comes back at Q5 (not at the top)."""
    journey = in_exam(platform)
    me = her_browser(journey)
    base, token = addresses(journey)
    form = whole_form(
        journey,
        **{
            "choice-tables-types": ["b", "c"],
            "answer-relations-cardinalite": "Un à plusieurs",
            "mark": ["requetes-selection"],
            "save": "relations-cardinalite",
        },
    )
    request = urllib.request.Request(
        f"{base}/answer?t={token}",
        data=urllib.parse.urlencode(form, doseq=True).encode(),
        headers={"Cookie": me},
    )

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    try:
        urllib.request.build_opener(Stay).open(request, timeout=5)
        raise AssertionError("the form is answered with a redirection")
    except urllib.error.HTTPError as redirected:
        assert redirected.code == 303
        assert redirected.headers["Location"].endswith("&saved=1#q-relations-cardinalite")
    attempt = attempt_of(journey)
    assert attempt.choices_given["tables-types"] == ("b", "c")
    assert attempt.answers["relations-cardinalite"] == "Un à plusieurs"
    _, page = http(f"{base}?t={token}&saved=1", cookie=me)
    assert "Vos réponses sont enregistrées." in page
    assert "is-marked" in navigator(page)["requetes-selection"]
    # Saved one by one (as the page's script does), each answer keeps the others.
    http(
        f"{base}/answer?t={token}",
        {"question_id": "requetes-parametre", "answer": "[Nom ?]"},
        cookie=me,
    )
    attempt = attempt_of(journey)
    assert attempt.choices_given["tables-types"] == ("b", "c")
    assert attempt.answers["relations-cardinalite"] == "Un à plusieurs"
    assert attempt.answers["requetes-parametre"] == "[Nom ?]"


def test_the_whole_form_saves_only_the_answers_that_changed(platform: Platform) -> None:
    journey = in_exam(platform)
    me = her_browser(journey)
    base, token = addresses(journey)
    http(f"{base}/answer?t={token}", {"question_id": "tables-taille", "answer": "x"}, cookie=me)
    version = attempt_of(journey).version
    http(f"{base}/answer?t={token}", whole_form(journey), cookie=me)
    assert attempt_of(journey).version == version  # nothing recorded again
    http(
        f"{base}/answer?t={token}", whole_form(journey, **{"answer-tables-taille": "y"}), cookie=me
    )
    assert attempt_of(journey).version == version + 1
    assert attempt_of(journey).answers["tables-taille"] == "y"


def test_finishing_asks_first_then_ends_the_exam_and_says_where_the_results_are(
    platform: Platform,
) -> None:
    journey = in_exam(platform)
    me = her_browser(journey)
    base, token = addresses(journey)
    status, page = http(
        f"{base}/finish?t={token}",
        whole_form(journey, **{"answer-tables-taille": "Octets"}),
        cookie=me,
    )
    assert (
        status == 200 and '<dialog id="finish-dialog" aria-labelledby="finish-title" open>' in page
    )
    assert "Terminer l'examen ?" in page
    assert attempt_of(journey).status is AttemptStatus.IN_PROGRESS  # asked, not done
    assert attempt_of(journey).answers["tables-taille"] == "Octets"  # but what was typed is kept
    status, page = http(f"{base}/finish?t={token}", {"confirm": "yes"}, cookie=me)
    assert status == 200 and "Votre examen est terminé." in page
    assert attempt_of(journey).status is AttemptStatus.RESULTS_SHOWN


def test_a_refused_answer_is_said_in_words_with_the_rule_as_a_reference(
    platform: Platform,
) -> None:
    journey = in_exam(platform)
    me = her_browser(journey)
    base, token = addresses(journey)
    clock(platform).advance(minutes=91)
    status, page = http(
        f"{base}/answer?t={token}", {"question_id": "tables-taille", "answer": "x"}, cookie=me
    )
    assert status == 409
    assert "Le temps de l'examen est écoulé" in page
    # The rule is only a reference for the curious: a tooltip (and `data-rule` for the
    # hotline), never « règle R4 » written to the candidate (a user's tour).
    [refusal] = re.findall(r'<div [^>]*id="refusal".*?</div>', page, re.S)
    assert 'data-rule="R4" title="Règle R4 du guide"' in refusal
    assert not BARE_CODE.search(re.sub(r"<[^>]*>", " ", page)), refusal
    assert "R4:" not in page  # never the developer's prefix
    body = refused_answer(base, token, "x", cookie=me)
    assert body["rule"] == "R4" and "écoulé" in body["error"]


def test_an_answer_too_long_is_refused_naming_the_field_its_bound_and_the_length_given(
    platform: Platform,
) -> None:
    """A reviewer pasted 10,500 characters into a free-text answer: the field had no
    maxlength, and the refusal said « could not be saved as sent », not why. The field now
    carries the domain's bound, and the refusal names the field, the bound and the length."""
    journey = in_exam(platform)
    me = her_browser(journey)
    base, token = addresses(journey)
    limit = LIMITS["answer"]
    _, page = http(f"{base}?t={token}", cookie=me)
    assert f'name="answer-tables-taille" value="" autocomplete="off" maxlength="{limit}"' in page
    body = refused_answer(base, token, "é" * (limit + 500), cookie=me)
    assert (body["field"], body["limit"], body["given"]) == ("answer", limit, limit + 500)
    said = body["error"].replace("\u202f", " ").replace("\xa0", " ")
    assert "trop longue" in said and "10 500 caractères" in said and "10 000 au plus" in said
    assert "Rechargez" not in said  # a reload would lose the text the field still holds
    assert "tables-taille" not in attempt_of(journey).answers  # nothing recorded
    # At the bound exactly, it is saved.
    status, _ = http(
        f"{base}/answer?t={token}",
        {"question_id": "tables-taille", "answer": "é" * limit},
        cookie=me,
    )
    assert status == 200 and len(attempt_of(journey).answers["tables-taille"]) == limit


def test_the_exam_tab_speaks_the_candidates_language(platform: Platform) -> None:
    journey = in_exam(platform)
    me = her_browser(journey)
    assert journey.candidate_id is not None
    update(
        platform.ctx,
        journey.candidate_id,
        Candidate,
        lambda c: c.choose_language(at=platform.ctx.now(), language="en"),
    )
    base, token = addresses(journey)
    status, page = http(f"{base}?t={token}", cookie=me)
    assert status == 200 and '<html lang="en"' in page
    assert "Time left" in page and "Save the answer" in page and "Need help?" in page
    assert "Temps restant" not in page and "Enregistrer" not in page
    assert "hotline-certifications@vigie.example" in page  # R26: the support, on this tab too
    # Its end on the 24-hour clock, as the proctoring tab beside it gives it (it read
    # « 3:20 PM » there, « 15:20 » here: a reviewer's tour).
    assert re.search(r"\(ends at [0-2]\d:[0-5]\d\)", page)
    assert " AM)" not in page and " PM)" not in page


def test_the_tab_has_the_platforms_look_and_its_own_script(platform: Platform) -> None:
    journey = in_exam(platform)
    me = her_browser(journey)
    base, token = addresses(journey)
    page = http(f"{base}?t={token}", cookie=me)[1]
    # Served by the platform itself (issue 15): its own files, from the same origin.
    assert 'href="/static/vigie.css"' in page
    assert base.startswith(platform.links.base_url + "/w/")
    assert '<script src="/static/workspace.js" defer></script>' in page
    assert "<script>" not in page and "style=" not in page and "onclick" not in page
    origin = base.split("/w/")[0]
    for name, kind in (("workspace.js", "text/javascript"), ("workspace.css", "text/css")):
        with urllib.request.urlopen(f"{origin}/static/{name}", timeout=5) as reply:
            assert reply.status == 200 and reply.headers["Content-Type"].startswith(kind)
    assert http(f"{origin}/static/../builtin.py")[0] == 404
    status, gone = http(f"{base}?t=forged", cookie=me)
    assert status == 410 and "Cet espace d'examen n'est pas (ou plus) ouvert." in gone
    assert "This exam space is not (or no longer) open." in gone
    # Its help line in both languages too (it was in French only: a reviewer's tour).
    assert "Besoin d'aide ?" in html.unescape(gone) and "Need help?" in gone


def test_marks_survive_the_workspace_being_reopened(platform: Platform) -> None:
    journey = in_exam(platform)
    me = her_browser(journey)
    base, token = addresses(journey)
    http(f"{base}/mark?t={token}", {"question_id": "etats-regroupement", "marked": "1"}, cookie=me)
    clock(platform).advance(seconds=45)  # silent past the 30 s grace
    assert platform.tick().workspaces_lost == [journey.attempt_id]
    assert journey.attempt_id is not None
    portal.reopen_workspace(platform.ctx, journey.attempt_id)
    platform.settle()
    page = http(attempt_of(journey).workspace_url, cookie=me)[1]
    assert "is-marked" in navigator(page)["etats-regroupement"]


def test_the_last_answer_of_a_closing_tab_is_saved_but_is_no_heartbeat(
    platform: Platform,
) -> None:
    journey = in_exam(platform)
    me = her_browser(journey)
    base, token = addresses(journey)
    ref = f"ws-{journey.attempt_id}"
    http(f"{base}?t={token}", cookie=me)  # the tab opened (a tab never opened is not lost)
    clock(platform).advance(seconds=45)  # silent past the grace period
    form = {"question_id": "tables-taille", "answer": "Octets", "closing": "1"}
    http(f"{base}/answer?t={token}", form, cookie=me)
    assert attempt_of(journey).answers["tables-taille"] == "Octets"
    assert not platform.launcher.heartbeat(ref)  # still silent: the tab is gone
    http(f"{base}/answer?t={token}", {"question_id": "tables-taille", "answer": "Bits"}, cookie=me)
    assert platform.launcher.heartbeat(ref)  # an answer from a living tab is a sign of life


def test_before_commencer_the_tab_gives_the_instructions_and_after_the_end_says_it_is_over(
    platform: Platform,
) -> None:
    journey = Journey(platform)
    journey.enrol()
    me = her_browser(journey)
    journey.create_session()
    journey.through_checks()
    attempt_id = journey.to_tile()
    portal.start_now(platform.ctx, attempt_id)
    platform.settle()  # the workspace is provisioned before « Commencer »
    status, page = http(
        platform.ctx.store.get(attempt_id, ExamAttempt).workspace_url or "", cookie=me
    )
    assert status == 200 and "Consignes" in page and "L'examen dure 1 h 30." in page
    assert 'id="answers"' not in page and "workspace_ready" not in page.split("<main")[1]
    portal.begin_exam(platform.ctx, attempt_id)
    portal.finish_exam(platform.ctx, attempt_id)  # from the proctoring tab; not torn down yet
    status, page = http(
        platform.ctx.store.get(attempt_id, ExamAttempt).workspace_url or "", cookie=me
    )
    assert status == 200 and "Cet examen est terminé." in page and 'id="answers"' not in page


def test_leaving_the_tab_is_said_and_recorded_as_hers_not_as_a_lost_tab_r23(
    platform: Platform,
) -> None:
    """« Quitter » is the candidate's own act: WorkspaceLeft, never « onglet perdu » (a user's
    tour); the exam can be reopened from the proctoring tab, its time running."""
    journey = in_exam(platform)
    me = her_browser(journey)
    base, token = addresses(journey)
    ref = f"ws-{journey.attempt_id}"
    assert platform.launcher.heartbeat(ref)
    status, page = http(f"{base}/leave?t={token}", whole_form(journey), cookie=me)
    assert status == 200 and "Vous avez quitté l'onglet de l'examen." in page
    assert "rouvrez l'examen depuis l'onglet de surveillance" in page
    left = attempt_of(journey)
    assert left.workspace_ref is None and left.status is AttemptStatus.IN_PROGRESS
    clock(platform).advance(seconds=60)
    assert platform.tick().workspaces_lost == []
    kinds = [type(e).__name__ for e in platform.ctx.store.history(left.id)]
    assert "WorkspaceLeft" in kinds and "WorkspaceLost" not in kinds
    assert journey.attempt_id is not None
    portal.reopen_workspace(platform.ctx, journey.attempt_id)  # R23: back, time running
    platform.settle()
    assert attempt_of(journey).workspace_ref == ref


def test_the_exam_tab_footer_gives_the_hotline_address_once_as_a_link() -> None:
    """It said the address, then linked it again beside it (a reviewer's screenshot)."""
    from adapters.launcher.page import ExamTab
    from app.mail_rendering import SupportContact

    support = SupportContact()
    html = ExamTab(support, "Europe/Paris").gone()
    footer = html[html.index("site-footer") :]
    # The link's target and its words, once a language (this page says it in both).
    assert footer.count(support.email) == 4
    assert f'Écrivez à <a href="mailto:{support.email}">{support.email}</a> ou' in footer
    assert f'Write to <a href="mailto:{support.email}">{support.email}</a> or' in footer


def test_a_tab_never_opened_is_never_recorded_lost_r17(platform: Platform) -> None:
    """« Commencer » pressed, the exam tab not opened yet: waiting for her, not lost (it was
    recorded « perdu » 30 s after provisioning, a ground shown to the examiner)."""
    journey = in_exam(platform)
    clock(platform).advance(minutes=20)
    assert platform.tick().workspaces_lost == []
    assert attempt_of(journey).workspace_ref is not None


def test_a_reload_or_a_quick_reopening_records_no_loss_r23(platform: Platform) -> None:
    """F5 (or closing the tab and opening it again at once) says « closing », then the page
    comes back: no loss, whenever the watch runs; not back within the grace, it is lost."""
    from domain.exam_tab import RELOAD_GRACE_S

    journey = in_exam(platform)
    me = her_browser(journey)
    base, token = addresses(journey)
    http(f"{base}?t={token}", cookie=me)  # the tab is open
    http(f"{base}/closed?t={token}", {}, cookie=me)  # F5: the old page goes
    assert platform.tick().workspaces_lost == []  # the watch runs between the two
    clock(platform).advance(seconds=RELOAD_GRACE_S - 3)
    http(f"{base}?t={token}", cookie=me)  # the new page, or the tab reopened
    clock(platform).advance(seconds=20)
    assert platform.tick().workspaces_lost == []
    http(f"{base}/closed?t={token}", {}, cookie=me)  # closed for good this time
    clock(platform).advance(seconds=RELOAD_GRACE_S + 1)
    assert platform.tick().workspaces_lost == [journey.attempt_id]
