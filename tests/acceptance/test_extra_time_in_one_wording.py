# ruff: noqa: F811 (the fixtures imported from test_exam_delivery are parameters here)
"""R4 with extra time (an accommodation): the exam's length and the proctored session's
budget read the same, from the same computation, on « Mes examens », the proctoring tab
(its checks and its portal) and the exam tab, in French and in English. A user's tour read
« 2 h, dont 30 min » on one, « 120 minutes, dont 30 minutes » on another, « 3 h, plus 30
minutes » on a third, and « L'examen dure 90 minutes » on the exam tab, whose timer ran 2 h."""

from __future__ import annotations

import re

import pytest

from adapters.bootstrap import Platform
from app.context import update
from app.use_cases import accommodations, portal
from domain.candidate import Candidate
from domain.exam_attempt import ExamAttempt
from tests.acceptance.test_exam_delivery import (  # noqa: F401 (fixtures)
    clock,
    platform,
)
from tests.acceptance.test_exam_tab import http
from tests.acceptance.web import her_browser
from ui.journey import Journey, hotline_account

# ENI-ACCESS lasts 90 minutes; +33 % adds 30 (rounded up, domain.accommodation).
FR_EXTRA = "dont 30 min de temps supplémentaire accordé par votre centre de formation"
EN_EXTRA = "of which 30 min of extra time granted by your training centre"
WORDS = {
    "fr": {"exam": f"2 h, {FR_EXTRA}", "budget": f"3 h 30, {FR_EXTRA}"},
    "en": {"exam": f"2 h, {EN_EXTRA}", "budget": f"3 h 30 min, {EN_EXTRA}"},
}
# The old wordings, that must be gone from every screen.
OLD = re.compile(r"120 minutes|90 minutes|30 minutes de temps|30 minutes of extra|3 h, plus")


def _granted(platform: Platform, language: str) -> Journey:
    journey = Journey(platform, language=language)
    journey.enrol()
    assert journey.enrollment_id is not None
    accommodations.grant_accommodation(
        journey.ctx,
        journey.enrollment_id,
        granted_by=hotline_account(journey.ctx),
        extra_time_percent=33,
        arrangements="",
    )
    journey.create_session()
    assert journey.candidate_id is not None
    update(  # « Mes examens » reads the account language's words, as the session does
        journey.ctx,
        journey.candidate_id,
        Candidate,
        lambda c: c.choose_language(at=journey.ctx.now(), language=language),
    )
    return journey


def _flat(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page)).replace("\u202f", " ")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_extra_time_reads_the_same_on_every_screen(platform: Platform, language: str) -> None:
    journey = _granted(platform, language)
    me = her_browser(journey, language)
    base = platform.links.base_url
    words = WORDS[language]

    exams = _flat(http(f"{base}/exams", cookie=me)[1])
    assert words["exam"] in exams, exams

    journey.enter()
    checks = _flat(http(f"{base}/exams/{journey.session_id}", cookie=me)[1])
    assert words["exam"] in checks and words["budget"] in checks, checks
    assert not OLD.search(checks), OLD.search(checks)

    journey.pass_attestations()
    journey.pass_equipment()
    journey.take_photos()
    journey.record_environment()
    attempt_id = journey.to_tile()
    portal.start_now(journey.ctx, attempt_id)
    platform.settle()  # the workspace is provisioned: the exam tab shows its instructions
    proctoring = _flat(http(f"{base}/portal/{attempt_id}", cookie=me)[1])
    assert words["exam"] in proctoring, proctoring

    attempt = journey.ctx.store.get(attempt_id, ExamAttempt)
    assert attempt.workspace_url
    exam_tab = _flat(http(attempt.workspace_url, cookie=me)[1])
    assert words["exam"] in exam_tab, exam_tab
    assert not OLD.search(exam_tab), OLD.search(exam_tab)
    # One computation: what the screens say is what the timer and the budget hold.
    assert attempt.accommodated_minutes == 120
