"""F9 (a tester's tour): a decision's justification ending in « \u202eesrever » (U+202E,
RIGHT-TO-LEFT OVERRIDE) was shown as it was inside « … » on the candidate's result and the
examiner's page, and the rest of the line, the page's own words, read backwards.

What a person wrote is shown isolated now (`<bdi>`: its direction is its own and its
controls end with it), and the single-line identity fields cannot hold those controls at all
(the birth place, as the names). Names and places in Arabic or Hebrew are untouched."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import pytest

from adapters.bootstrap import Platform
from app.use_cases import appeals, reviewing
from domain.candidate import Candidate
from domain.evidence import ReasonCode, Verdict
from domain.review import CitedReason, Review
from tests.acceptance.test_appeals import examiner, logged_in
from tests.acceptance.test_profile_birth_date import at_the_profile, profile, send_profile
from tests.acceptance.web import Browsers, plain
from ui.journey import Journey

REVERSING = "casque visible \u202eesrever"
CONTESTED = "je portais des bouchons \u202eesrever"


def outside_isolates(page: str) -> str:
    """The page without what it isolates: where a control would reorder the page's words."""
    return re.sub(r"<bdi>.*?</bdi>", "", page, flags=re.S)


def invalidated_with(journey: Journey, first: UUID, justification: str) -> UUID:
    review = journey.ctx.store.get(journey.sent_for_review(), Review)
    launched = next(e for e in review.evidence if e.kind == "ExamLaunched")
    reasons = (CitedReason(ReasonCode.HEADPHONES, (launched.id,), justification),)
    reviewing.assign_examiner(journey.ctx, review.id, first)
    reviewing.decide_review(
        journey.ctx, review.id, examiner_id=first, verdict=Verdict.INVALIDATED, reasons=reasons
    )
    reviewing.release_results(journey.ctx, review.id, released_by=first)
    journey.platform.settle()
    return review.id


def test_a_justification_and_an_appeal_reason_cannot_reorder_the_pages_around_them(
    journey: Journey,
) -> None:
    platform = journey.platform
    first, second = examiner(platform, "first"), examiner(platform, "second")
    review_id = invalidated_with(journey, first, REVERSING)
    assert journey.candidate_id is not None
    appeals.lodge_appeal(
        journey.ctx, review_id, candidate_id=journey.candidate_id, reason=CONTESTED
    )
    appeals.take_appeal(journey.ctx, review_id, second)
    journey.set_password("staff-pass-123")
    pages: dict[str, Any] = {}
    with logged_in(platform, "/login", journey.email) as candidate:
        pages["result"] = candidate.get(f"/results/{journey.session_id}")
    with logged_in(platform, "/staff/login", "first@example.org") as client:
        pages["review"] = client.get(f"/examiner/reviews/{review_id}")
    with logged_in(platform, "/staff/login", "second@example.org") as client:
        pages["appeal"] = client.get(f"/examiner/appeals/{review_id}")
    for name, reply in pages.items():
        assert reply.status_code == 200, (name, reply.text)
        assert "&lt;bdi" not in reply.text, name  # markup, not text shown
        page = plain(reply.text)
        assert f"<bdi>{REVERSING}</bdi>" in page, name  # the examiner's words, isolated
        assert "\u202e" not in outside_isolates(page), name
    # The candidate's own reason, on her page and the second examiner's.
    for name in ("result", "appeal"):
        assert f"<bdi>{CONTESTED}</bdi>" in plain(pages[name].text), name


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("fr", "« Lieu de naissance » : « U+202E » ne peut pas figurer dans un nom de lieu"),
        ("en", "“Birth place”: “U+202E” cannot be in a place's name"),
    ],
)
def test_a_birth_place_with_a_control_that_reorders_text_is_refused_naming_it(
    platform: Platform, browser: Browsers, language: str, said: str
) -> None:
    journey, client, page = at_the_profile(platform, browser, language)
    fields = profile(f"{language}@example.org", "1990-05-04", birth_place="Nantes\u202e")
    refused = send_profile(client, page, fields)
    assert refused.status_code == 409
    assert said in plain(refused.text)
    assert journey.candidate_id is not None
    assert not platform.ctx.store.get(journey.candidate_id, Candidate).profile_complete


@pytest.mark.parametrize(
    ("surname", "first_name", "birth_place"),
    [
        ("حداد", "ليلى", "الدار البيضاء"),  # Arabic
        ("כהן", "דנה", "תל אביב-יפו"),  # Hebrew
        ("Martin", "Camille", "Biel/Bienne"),  # a bilingual place's name
    ],
)
def test_names_and_places_in_arabic_or_hebrew_are_kept_as_written(
    platform: Platform, browser: Browsers, surname: str, first_name: str, birth_place: str
) -> None:
    journey, client, page = at_the_profile(platform, browser, "fr")
    fields = profile(
        "fr@example.org",
        "1990-05-04",
        surname=surname,
        first_name=first_name,
        birth_place=birth_place,
    )
    kept = send_profile(client, page, fields)
    assert kept.status_code == 200, plain(kept.text)
    assert journey.candidate_id is not None
    saved = platform.ctx.store.get(journey.candidate_id, Candidate).profile
    assert saved is not None
    assert (saved.surname, saved.first_name, saved.birth_place) == (
        surname,
        first_name,
        birth_place,
    )
