# ruff: noqa: F811 (the fixtures imported from test_exam_delivery are parameters here)
"""The exam tab's words a screen reader reads: each question of the navigator is announced
« Question 1 : répondue » in French, with the no-break space French puts before a colon, and
« Question 1: answered » in English. It read « Question 1: » in French (a user's tour)."""

from __future__ import annotations

import re

from adapters.bootstrap import Platform
from app.context import update
from domain.candidate import Candidate
from tests.acceptance.test_exam_delivery import (  # noqa: F401 (fixtures)
    clock,
    in_exam,
    platform,
)
from tests.acceptance.test_exam_tab import addresses, http
from tests.acceptance.web import her_browser

ANNOUNCED = re.compile(r'<span class="visually-hidden">(Question \d+[^<]*)</span>')


def test_each_question_is_announced_in_the_candidates_typography(platform: Platform) -> None:
    journey = in_exam(platform)
    me = her_browser(journey)
    base, token = addresses(journey)
    french = ANNOUNCED.findall(http(f"{base}?t={token}", cookie=me)[1])
    assert french and french[0] == "Question 1\u00a0:"
    assert all(re.fullmatch(r"Question \d+\u00a0:", said) for said in french), french
    assert journey.candidate_id is not None
    update(
        platform.ctx,
        journey.candidate_id,
        Candidate,
        lambda c: c.choose_language(at=platform.ctx.now(), language="en"),
    )
    english = ANNOUNCED.findall(http(f"{base}?t={token}", cookie=me)[1])
    assert english[0] == "Question 1:" and len(english) == len(french)
