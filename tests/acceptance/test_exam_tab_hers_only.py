"""Sec-findings F6: the built-in exam tab's link (`/w/ws-…?t=…`) was its only credential. A
candidate could paste it to a helper on another computer, who read the questions and
answered them while she sat in front of the camera, and the link kept working after she
logged out. The tab now serves questions and takes answers, finishing and leaving only in the
browser where the attempt's candidate is logged in; any other browser (or hers after log-out)
gets a page in her language saying to log in and reopen the exam from « Mes examens », and the
tab's script gets the same words as JSON (401, 403 for another account), nothing saved.

Her session must also outlast her exam: the tab's heartbeat keeps it from going idle, and
opening the tab keeps it until the exam's end (and half an hour after) past the absolute end
her log-in gave it. Through the real app in Litestar's test client: each client is a browser.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from adapters.launcher.builtin import BuiltinWorkspaces
from app.context import update
from app.mail_rendering import SupportContact
from app.sessions import Lifetime, SessionPolicy
from app.use_cases import accounts
from domain.candidate import Candidate
from domain.exam_attempt import AttemptStatus, ExamAttempt
from domain.staff import Role
from tests.acceptance.web import form_token, log_in
from ui.journey import PARIS, Journey
from ui.web.app import create_app

PASSWORD = "candidat-pass-1"
FETCH = {"x-vigie-fetch": "1"}
# A question of the bank and its prompt: seen only by whoever the tab serves.
QUESTION = "tables-taille"
PROMPT = "Quelle propriété d'un champ Texte court limite le nombre de caractères saisis ?"


@pytest.fixture
def platform() -> Iterator[Platform]:
    """The platform with the built-in exam workspace (the default launcher)."""
    made = bootstrap(
        Settings(database_url="memory:", media_root=None, secret_key="f" * 32),
        clock=ManualClock(datetime(2025, 1, 27, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(61),
    )
    assert isinstance(made.launcher, BuiltinWorkspaces)
    yield made
    made.close()


def _app(platform: Platform, policy: SessionPolicy | None = None) -> Any:
    return create_app(
        platform,
        secret=b"s" * 32,
        support=SupportContact(),
        attempts_per_minute=10_000,
        session_policy=policy or SessionPolicy(),  # the defaults, whatever the environment
    )


def candidate(platform: Platform, email: str = "camille@example.org") -> Journey:
    """A candidate enrolled, with her password (she logs in through the log-in page)."""
    journey = Journey(platform, email=email)
    journey.enrol()
    journey.set_password(PASSWORD)
    platform.projections.catch_up(platform.ctx.store)
    return journey


def into_exam(journey: Journey) -> str:
    """From the enrolment to the exam begun (« Commencer »): the exam tab's path and query."""
    journey.create_session()
    journey.through_checks()
    journey.start_exam()
    url = attempt(journey).workspace_url
    assert url is not None
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def attempt(journey: Journey) -> ExamAttempt:
    assert journey.attempt_id is not None
    return journey.platform.ctx.store.get(journey.attempt_id, ExamAttempt)


def action(tab: str, name: str) -> str:
    path, query = tab.split("?", 1)
    return f"{path}/{name}?{query}"


def speaks(journey: Journey, language: str) -> None:
    assert journey.candidate_id is not None
    ctx = journey.platform.ctx
    update(
        ctx,
        journey.candidate_id,
        Candidate,
        lambda c: c.choose_language(at=ctx.now(), language=language),
    )


def last_beat(journey: Journey) -> datetime | None:
    return journey.platform.heartbeats.last_beat(f"ws-{journey.attempt_id}")


def answer(browser: TestClient[Any], tab: str, text: str, **headers: str) -> Any:
    return browser.post(
        action(tab, "answer"),
        data={"question_id": QUESTION, "answer": text},
        headers=headers,
        follow_redirects=False,
    )


def nothing_served_nor_saved(browser: TestClient[Any], journey: Journey, tab: str) -> str:
    """Every route of the tab refuses `browser`: no question shown, no answer, no mark, no
    end, no leaving, no sign of life. The refusal page, as `browser` read it."""
    platform = journey.platform
    ref = f"ws-{journey.attempt_id}"
    journey.clock.advance(seconds=5)  # a beat now would be later than the last one
    before, history = last_beat(journey), len(platform.ctx.store.history(attempt(journey).id))

    page = browser.get(tab)
    assert page.status_code == 401, page.text[:300]
    said = html.unescape(page.text).replace("\xa0", " ")  # French keeps « » with their words
    assert 'id="answers"' not in said and PROMPT not in said
    assert page.headers["cache-control"] == "no-store"

    form = answer(browser, tab, "Octets")  # a browser without scripts: the page again
    assert form.status_code == 401 and 'id="log-in-refusal"' in form.text
    for name, data in (
        ("mark", {"question_id": QUESTION, "marked": "1"}),
        ("finish", {"confirm": "yes"}),
        ("leave", {}),
        ("beat", {}),
        ("closed", {}),
    ):
        refused = browser.post(action(tab, name), data=data, follow_redirects=False)
        assert refused.status_code == 401, (name, refused.status_code)

    after = attempt(journey)
    assert QUESTION not in after.answers and after.status is AttemptStatus.IN_PROGRESS
    assert len(platform.ctx.store.history(after.id)) == history  # nothing recorded
    assert QUESTION not in platform.launcher.marked(ref)  # type: ignore[attr-defined]
    assert last_beat(journey) == before  # refused: no sign of life (nor silence: « closed »)
    assert platform.launcher.heartbeat(ref)  # not fallen silent by « leave » / « closed »
    return said


def test_the_link_alone_shows_no_question_and_saves_nothing_said_in_french(
    platform: Platform,
) -> None:
    journey = candidate(platform)
    app = _app(platform)
    with TestClient(app) as hers, TestClient(app) as stranger:
        log_in(hers, "/login", journey.email, PASSWORD)
        tab = into_exam(journey)
        mine = hers.get(tab)  # her own browser: the exam
        assert mine.status_code == 200 and PROMPT in html.unescape(mine.text)

        said = nothing_served_nor_saved(stranger, journey, tab)
        assert '<html lang="fr"' in said
        assert "Connectez-vous pour ouvrir votre examen" in said
        assert (
            "Cet onglet d'examen ne s'ouvre que dans le navigateur où vous êtes connecté(e) à "
            "Vigie. Connectez-vous, puis revenez à « Mes examens » et rouvrez votre examen"
        ) in said
        assert "Rien n'a été enregistré depuis cette page." in said
        assert 'href="/login?next=/exams"' in said and ">Se connecter</a>" in said

        # The tab's script: the same refusal, as a sentence it shows beside the answer.
        refused = answer(stranger, tab, "Octets", **FETCH)
        assert refused.status_code == 401
        body = json.loads(refused.text)
        assert body["reason"] == "logged-out"
        error = body["error"].replace("\xa0", " ")
        assert error.startswith("Non enregistré : ce navigateur n'est plus connecté")
        assert "Ce que vous avez saisi reste ici." in error and "« Mes examens »" in error
        assert QUESTION not in attempt(journey).answers

        saved = answer(hers, tab, "Octets", **FETCH)  # her browser, still
        assert saved.status_code == 200 and json.loads(saved.text) == {"saved": True}
        assert attempt(journey).answers[QUESTION] == "Octets"


def test_the_link_alone_is_refused_in_english_to_an_english_candidates_tab(
    platform: Platform,
) -> None:
    journey = candidate(platform, email="ann@example.org")
    tab = into_exam(journey)
    speaks(journey, "en")
    with TestClient(_app(platform)) as stranger:
        said = nothing_served_nor_saved(stranger, journey, tab)
        assert '<html lang="en"' in said and "Log in to open your exam" in said
        assert (
            "This exam tab opens only in the browser where you are logged in to Vigie. Log in, "
            "then go back to “My exams” and reopen your exam from there."
        ) in said
        assert "Nothing was saved from this page." in said and ">Log in</a>" in said
        assert "Connectez-vous" not in said
        body = json.loads(answer(stranger, tab, "Bytes", **FETCH).text)
        assert body["reason"] == "logged-out"
        assert body["error"].startswith("Not saved: this browser is no longer logged in")
        assert "What you typed stays here." in body["error"] and "“My exams”" in body["error"]


def test_after_log_out_her_own_browser_is_refused_until_she_logs_in_again(
    platform: Platform,
) -> None:
    journey = candidate(platform)
    with TestClient(_app(platform)) as hers:
        log_in(hers, "/login", journey.email, PASSWORD)
        tab = into_exam(journey)
        assert "Temps restant" in hers.get(tab).text
        hers.post("/logout", data={"_csrf_token": form_token(hers, "/exams")})

        page = hers.get(tab)
        assert page.status_code == 401 and "Connectez-vous pour ouvrir" in page.text
        refused = answer(hers, tab, "Octets", **FETCH)
        assert refused.status_code == 401 and json.loads(refused.text)["reason"] == "logged-out"
        assert QUESTION not in attempt(journey).answers

        log_in(hers, "/login", journey.email, PASSWORD)  # the same tab works again
        assert answer(hers, tab, "Octets", **FETCH).status_code == 200
        assert attempt(journey).answers[QUESTION] == "Octets"


def test_another_account_logged_in_is_refused_with_its_own_words(platform: Platform) -> None:
    journey = candidate(platform)
    other = candidate(platform, email="dominique@example.org")
    accounts.register_staff(
        platform.ctx, email="eve@example.org", name="Eve", role=Role.SUPPORT, password=PASSWORD
    )
    platform.projections.catch_up(platform.ctx.store)
    tab = into_exam(journey)
    app = _app(platform)
    with TestClient(app) as theirs, TestClient(app) as support:
        log_in(theirs, "/login", other.email, PASSWORD)
        log_in(support, "/staff/login", "eve@example.org", PASSWORD)
        for browser in (theirs, support):
            page = browser.get(tab)
            assert page.status_code == 403
            said = html.unescape(page.text)
            assert "Un autre compte est connecté à Vigie dans ce navigateur." in said
            assert PROMPT not in said
            refused = answer(browser, tab, "Octets", **FETCH)
            assert refused.status_code == 403
            assert json.loads(refused.text)["reason"] == "other-account"
        assert QUESTION not in attempt(journey).answers


def test_opening_the_tab_keeps_her_logged_in_until_the_exam_is_over(platform: Platform) -> None:
    """A session shorter than the exam (here 1 h from log-in, against 90 minutes) is kept
    until the exam's end and half an hour after, once the tab is opened: she is not logged
    out in the middle of it. A browser that did not open the tab keeps its own end."""
    policy = SessionPolicy(candidate=Lifetime(timedelta(hours=1), timedelta(hours=4)))
    journey = candidate(platform)
    clock = journey.clock
    app = _app(platform, policy)
    with TestClient(app) as hers, TestClient(app) as elsewhere:
        log_in(hers, "/login", journey.email, PASSWORD)
        log_in(elsewhere, "/login", journey.email, PASSWORD)
        tab = into_exam(journey)
        ends_at = attempt(journey).ends_at
        assert ends_at is not None
        opened = hers.get(tab)
        assert opened.status_code == 200
        kept = next(c for c in opened.headers.get_list("set-cookie") if "vigie_session=" in c)
        assert "Max-Age=" in kept  # the browser keeps its cookie as long as the store
        max_age = int(kept.split("Max-Age=")[1].split(";")[0])
        expected = ends_at + timedelta(minutes=30) - clock.now()
        assert abs(max_age - expected.total_seconds()) <= 1

        clock.advance(minutes=70)  # past the hour of her log-in, within the exam
        assert answer(hers, tab, "Octets", **FETCH).status_code == 200
        assert hers.get("/exams", follow_redirects=False).status_code == 200
        assert elsewhere.get("/exams", follow_redirects=False).status_code in (302, 303)

        clock.advance(minutes=55)  # the exam over for 35 minutes: the session too
        assert hers.get(tab).status_code == 401


def test_the_tabs_heartbeat_keeps_her_session_from_going_idle(platform: Platform) -> None:
    """An idle end shorter than the exam (here 20 minutes): the tab's beats keep it moving,
    as the proctoring tab's requests do. Without them, the session ends at its idle end."""
    policy = SessionPolicy(candidate=Lifetime(timedelta(hours=12), timedelta(minutes=20)))
    journey = candidate(platform)
    app = _app(platform, policy)
    with TestClient(app) as hers, TestClient(app) as idle:
        log_in(hers, "/login", journey.email, PASSWORD)
        log_in(idle, "/login", journey.email, PASSWORD)
        tab = into_exam(journey)
        assert hers.get(tab).status_code == 200
        assert idle.get(tab).status_code == 200
        for _ in range(5):  # 75 minutes, a beat every quarter of an hour
            journey.clock.advance(minutes=15)
            assert hers.post(action(tab, "beat"), headers=FETCH).status_code == 204
        assert answer(hers, tab, "Octets", **FETCH).status_code == 200
        assert idle.post(action(tab, "beat"), headers=FETCH).status_code == 401
