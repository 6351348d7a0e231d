"""Exam delivery: workspaces, timing on the server's clock, results and validation (issue 4)."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from adapters.launcher.builtin import BuiltinWorkspaces
from adapters.launcher.memory import MemoryLauncher
from app.use_cases import portal
from domain.errors import RuleBroken
from domain.exam_attempt import AttemptStatus, ExamAttempt
from domain.scoring import GivenAnswer
from tests.acceptance.web import free_port, her_browser, served
from ui.journey import PARIS, Journey


@pytest.fixture
def platform() -> Iterator[Platform]:
    """The platform, its web app served for real at its base URL (the exam tab included)."""
    port = free_port()
    platform = bootstrap(
        Settings(
            database_url="memory:",
            media_root=None,
            secret_key="w" * 32,
            base_url=f"http://127.0.0.1:{port}",
        ),
        clock=ManualClock(datetime(2025, 1, 27, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(21),
    )
    assert isinstance(platform.launcher, BuiltinWorkspaces)
    with served(platform, port):
        yield platform
    platform.close()


def in_exam(platform: Platform) -> Journey:
    journey = Journey(platform)
    journey.in_exam()
    return journey


def attempt_of(journey: Journey) -> ExamAttempt:
    assert journey.attempt_id is not None
    return journey.platform.ctx.store.get(journey.attempt_id, ExamAttempt)


def http(
    url: str, form: dict[str, str | list[str]] | None = None, *, cookie: str = ""
) -> tuple[int, str]:
    """GET (or POST `form`) as a browser whose cookies are `cookie` (none: a stranger's)."""
    data = urllib.parse.urlencode(form or {}, doseq=True).encode() if form is not None else None
    headers = {"Cookie": cookie} if cookie else {}
    try:
        request = urllib.request.Request(url, data=data, headers=headers)
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def clock(platform: Platform) -> ManualClock:
    assert isinstance(platform.ctx.clock, ManualClock)
    return platform.ctx.clock


def test_the_exam_tab_shows_the_attempts_questions_and_saves_answers_given_there(
    platform: Platform,
) -> None:
    journey = in_exam(platform)
    attempt = attempt_of(journey)
    mine = her_browser(journey)
    status, page = http(attempt.workspace_url, cookie=mine)
    assert status == 200 and "Temps restant" in page
    first = attempt.question_order[0]
    assert page.index(first) < page.index(attempt.question_order[-1])  # the attempt's order
    base = attempt.workspace_url.split("?")[0]
    token = attempt.workspace_url.split("?t=")[1]
    status, _ = http(
        f"{base}/answer?t={token}", {"question_id": "tables-taille", "answer": "x"}, cookie=mine
    )
    assert status == 200  # redirected back to the exam
    assert attempt_of(journey).answers["tables-taille"] == "x"
    status, page = http(
        f"{base}/answer?t={token}",
        {"question_id": "tables-types", "choice": ["a", "d"]},
        cookie=mine,
    )
    assert attempt_of(journey).choices_given["tables-types"] == ("a", "d")
    assert 'value="x"' in page


def test_a_workspace_opens_only_with_its_own_signed_link(platform: Platform) -> None:
    first = in_exam(platform)
    other = Journey(platform, email="other@example.org")
    other.in_exam()
    mine, theirs = attempt_of(first).workspace_url, attempt_of(other).workspace_url
    swapped = mine.split("?t=")[0] + "?t=" + theirs.split("?t=")[1]
    browser = her_browser(first)
    assert http(swapped, cookie=browser)[0] == 410
    assert http(mine[:-1] + ("0" if mine[-1] != "0" else "1"), cookie=browser)[0] == 410
    assert http(mine, cookie=browser)[0] == 200


def test_a_lost_workspace_is_recorded_and_reopened_with_the_remaining_time_intact(
    platform: Platform,
) -> None:
    journey = in_exam(platform)
    assert journey.attempt_id is not None
    portal.answer_question(
        platform.ctx, journey.attempt_id, question_id="tables-taille", answer="x"
    )
    before = attempt_of(journey)
    mine = her_browser(journey)
    assert http(before.workspace_url, cookie=mine)[0] == 200  # the tab is open: it beats
    clock(platform).advance(minutes=20)  # the tab closed or froze: no beat past the grace
    assert platform.tick().workspaces_lost == [journey.attempt_id]
    assert attempt_of(journey).workspace_ref is None
    portal.reopen_workspace(platform.ctx, journey.attempt_id)  # R23
    platform.settle()
    after = attempt_of(journey)
    assert after.workspace_url and after.ends_at == before.ends_at
    assert after.remaining_seconds(platform.ctx.now()) == pytest.approx(70 * 60)
    assert after.answers["tables-taille"] == "x"
    status, page = http(after.workspace_url, cookie=mine)
    assert status == 200 and 'value="x"' in page


def test_the_exam_ends_at_its_time_limit_and_later_answers_are_refused(
    platform: Platform,
) -> None:
    journey = in_exam(platform)
    assert journey.attempt_id is not None
    attempt = attempt_of(journey)
    base, token = attempt.workspace_url.split("?t=")
    clock(platform).advance(minutes=91)
    status, page = http(
        f"{base.rstrip('?')}/answer?t={token}",
        {"question_id": "tables-taille", "answer": "x"},
        cookie=her_browser(journey),
    )
    assert status == 409 and "R4" in page
    report = platform.tick()
    assert report.exams_closed == [journey.attempt_id]
    finished = attempt_of(journey)
    assert finished.status is AttemptStatus.FINISHED and finished.workspace_ref is None
    assert finished.finished_at == attempt.ends_at
    results = portal.finish_exam(platform.ctx, journey.attempt_id)  # results still shown
    assert results.max_score == 10
    with pytest.raises(RuleBroken):
        portal.answer_question(platform.ctx, journey.attempt_id, question_id="tables-taille")


def test_a_wrong_validation_code_is_refused_and_the_right_one_sends(platform: Platform) -> None:
    journey = in_exam(platform)
    assert journey.attempt_id is not None
    portal.finish_exam(platform.ctx, journey.attempt_id)
    code = attempt_of(journey).validation_code
    assert code is not None and len(code) == 4
    wrong = "0000" if code != "0000" else "1111"
    with pytest.raises(RuleBroken) as refused:
        portal.validate_exam(platform.ctx, journey.attempt_id, typed_code=wrong)
    assert refused.value.rule == "R18"
    assert attempt_of(journey).status is AttemptStatus.RESULTS_SHOWN
    portal.validate_exam(platform.ctx, journey.attempt_id, typed_code=f" {code} ")
    assert attempt_of(journey).status is AttemptStatus.VALIDATED


def test_the_practice_questionnaire_is_scored_for_the_candidate_but_never_counts(
    platform: Platform,
) -> None:
    journey = Journey(platform)
    journey.enrol()
    journey.create_session()
    aid = journey.through_checks()
    practice = portal.take_practice_questionnaire(
        platform.ctx,
        aid,
        answers={
            "entrainement-objet": GivenAnswer(choices=("a",)),
            "entrainement-filtre": GivenAnswer(text="Filtre"),
            "entrainement-modes": GivenAnswer(choices=("b", "a")),
        },
    )
    assert (practice.score, practice.max_score) == (3, 3)
    journey.start_exam()
    results = portal.finish_exam(platform.ctx, aid)
    assert (results.score, results.max_score) == (0, 10)  # nothing answered in the exam
    assert attempt_of(journey).practice_scores == (100.0,)


def test_deferring_tears_the_workspace_down_and_the_tile_is_to_start_again(
    platform: Platform,
) -> None:
    journey = Journey(platform)
    journey.enrol()
    journey.create_session()
    journey.through_checks()
    aid = journey.to_tile()
    portal.start_now(platform.ctx, aid)
    platform.settle()
    url = attempt_of(journey).workspace_url
    mine = her_browser(journey)
    assert http(url, cookie=mine)[0] == 200
    portal.defer_exam(platform.ctx, aid)  # R14
    platform.settle()
    assert attempt_of(journey).status is AttemptStatus.TO_START
    assert http(url, cookie=mine)[0] == 410  # torn down
    portal.select_tile(platform.ctx, aid, certification_code="ENI-ACCESS")
    portal.start_now(platform.ctx, aid)
    platform.settle()
    assert attempt_of(journey).status is AttemptStatus.WORKSPACE_READY


def test_a_workspace_that_fails_to_start_is_recorded_and_can_be_asked_again() -> None:
    platform = bootstrap(
        Settings(database_url="memory:", media_root=None, secret_key="m" * 32, launcher="memory"),
        clock=ManualClock(datetime(2025, 1, 27, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(4),
    )
    try:
        assert isinstance(platform.launcher, MemoryLauncher)
        launcher = platform.launcher
        journey = Journey(platform)
        journey.enrol()
        journey.create_session()
        journey.through_checks()
        aid = journey.to_tile()
        launcher.fail_next = True
        portal.start_now(platform.ctx, aid)
        platform.settle()
        failed = platform.ctx.store.get(aid, ExamAttempt)
        assert failed.status is AttemptStatus.TILE_SELECTED and failed.workspace_ref is None
        kinds = [type(e).__name__ for e in platform.ctx.store.history(aid)]
        assert kinds[-1] == "WorkspaceFailed"
        portal.start_now(platform.ctx, aid)
        platform.settle()
        assert platform.ctx.store.get(aid, ExamAttempt).status is AttemptStatus.WORKSPACE_READY
    finally:
        platform.close()


def test_the_server_clock_decides_the_time_left_whatever_the_page_says(platform: Platform) -> None:
    journey = in_exam(platform)
    assert journey.attempt_id is not None
    clock(platform).advance(minutes=30, seconds=15)
    left = attempt_of(journey).remaining_seconds(platform.ctx.now())
    assert left == timedelta(minutes=59, seconds=45).total_seconds()
