"""A refused decision says every problem at once, each beside its field, in the examiner's
language, on the page and in the JSON API (a user's tour: the form said the first problem
only, one per « Enregistrer la décision »); FLAG-HINT: invalidating a « validée »
recommendation on a detector's flag alone takes written reasons, from rules-2026-12-flag-hint
on, while older frozen rule sets decide and replay as before."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app.mail_rendering import SupportContact
from app.replay import replay_review
from app.use_cases import proctoring, reviewing
from domain.evidence import EvidenceKind, FlagKind, MediaSpan, ReasonCode, Verdict
from domain.review import CitedReason, DecisionRefused, Field, Problem, Review
from domain.rules import CURRENT_RULES, RULES_2026_12_LIVE_SLOT, RuleSet
from domain.staff import Role
from tests.acceptance.test_review_page import (
    PASSWORD,
    SECRET,
    decide,
    problems_of,
    seal_on,
    taken,
)
from tests.acceptance.web import csrf, log_in, platform_on, register_staff
from ui.journey import PARIS, Journey
from ui.web.app import create_app


@pytest.fixture
def platform() -> Iterator[Platform]:
    start = datetime(2026, 12, 7, 9, 0, tzinfo=PARIS)
    platform = platform_on(SECRET, 11, start, launcher="memory", time_zone="Europe/Paris")
    register_staff(platform, PASSWORD, {"eve@example.org": Role.EXAMINER}, name="Eve")
    yield platform
    platform.close()


@pytest.fixture
def examiner(platform: Platform) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/staff/login", "eve@example.org", PASSWORD)
        yield client


SAW = "the recording shows a phone in her hand at 7:00, she reads from its screen"


def sent_with_a_phone_flag(platform: Platform, rules: RuleSet = CURRENT_RULES) -> Journey:
    """A journey under `rules`, sent with a detector's phone flag during the exam (a hint):
    the recommendation is « validée »."""
    journey = Journey(platform)
    journey.enrol(rules)
    journey.create_session()
    journey.through_checks()
    journey.start_exam()
    assert journey.session_id is not None
    proctoring.raise_flag(
        journey.ctx,
        journey.session_id,
        flag_id="phone-1",
        kind=FlagKind.PHONE,
        span=MediaSpan(400.0, 420.0),
        confidence=0.9,
    )
    journey.answer_and_send()
    return journey


def flag_of(platform: Platform, journey: Journey) -> str:
    assert journey.review_id is not None
    review = platform.ctx.store.get(journey.review_id, Review)
    assert review.recommendation is not None
    assert review.recommendation.verdict is Verdict.VALIDATED
    (flag,) = [e.id for e in review.evidence if e.kind == EvidenceKind.FLAG_RAISED]
    return flag


def invalidate_on(journey: Journey, examiner_id: Any, flag: str, why: str = "") -> None:
    assert journey.review_id is not None
    reviewing.decide_review(
        journey.ctx,
        journey.review_id,
        examiner_id=examiner_id,
        verdict=Verdict.INVALIDATED,
        reasons=(CitedReason(ReasonCode.PHONE_USED, (flag,), why),),
    )


# --- FLAG-HINT at the use-case level -----------------------------------------------------------


def test_invalidating_a_validated_recommendation_on_a_flag_alone_needs_written_reasons(
    platform: Platform,
) -> None:
    journey = sent_with_a_phone_flag(platform)
    assert journey.review_id is not None
    flag = flag_of(platform, journey)
    eve = platform.ctx.ids.new_id()
    reviewing.assign_examiner(journey.ctx, journey.review_id, eve)
    head = platform.ctx.store.head()
    for why in ("", "phone seen"):
        with pytest.raises(DecisionRefused) as refused:
            invalidate_on(journey, eve, flag, why)
        (problem,) = refused.value.problems
        assert (problem.rule, problem.problem, problem.field) == (
            "FLAG-HINT",
            Problem.FLAG_UNJUSTIFIED,
            Field.JUSTIFICATION,
        )
        assert problem.reason is ReasonCode.PHONE_USED and problem.needed == 10
    assert platform.ctx.store.head() == head  # nothing recorded
    invalidate_on(journey, eve, flag, SAW)
    decided = platform.ctx.store.get(journey.review_id, Review)
    assert decided.verdict is Verdict.INVALIDATED
    assert decided.reasons[0].justification == SAW
    report = replay_review(platform.ctx.store, journey.review_id)
    assert report.matches  # the replay shows the same verdict and reasons, words included


def test_an_older_rule_set_decides_and_replays_as_it_always_did_flag_hint(
    platform: Platform,
) -> None:
    """A session frozen under rules-2026-12-live-slot keeps its rules: the flag alone is
    enough there, as it was when such decisions were taken, and the replay agrees."""
    journey = sent_with_a_phone_flag(platform, RULES_2026_12_LIVE_SLOT)
    assert journey.review_id is not None
    flag = flag_of(platform, journey)
    eve = platform.ctx.ids.new_id()
    reviewing.assign_examiner(journey.ctx, journey.review_id, eve)
    invalidate_on(journey, eve, flag)
    decided = platform.ctx.store.get(journey.review_id, Review)
    assert decided.rules.version == "rules-2026-12-live-slot"
    assert decided.verdict is Verdict.INVALIDATED
    assert replay_review(platform.ctx.store, journey.review_id).matches


# --- the page: every problem at once, beside its field ----------------------------------------


def test_every_problem_of_a_refused_decision_is_said_at_once_beside_its_field(
    platform: Platform,
    examiner: TestClient[Any],
) -> None:
    journey = sent_with_a_phone_flag(platform)
    page = taken(examiner, journey)
    flag = flag_of(platform, journey)
    sent = {
        "verdict": "invalidated",
        "reason": ["phone_used", "other_rule_breach"],
        f"evidence-{ReasonCode.PHONE_USED.value}": flag,
        "phone_excused": "yes",
    }
    refused = decide(examiner, page, seen=seal_on(examiner, page), **sent)
    assert refused.status_code == 409
    said = problems_of(refused)
    assert said == [
        "« Utilisation d'un téléphone » ne repose que sur des signalements de détecteur, et la "
        "recommandation est « validée » : un signalement est un indice, jamais un verdict. "
        "Écrivez dans sa justification ce que vous avez vu dans l'enregistrement, en au moins "
        "10 mots (0 donnés).",
        "« Autre manquement (justification écrite) » ne cite aucun moment : cochez-en au moins "
        "un dans la liste à côté du lecteur (« Citer »).",
        "« Autre manquement (justification écrite) » demande une justification écrite d'au "
        "moins 5 mots (0 donnés).",
        "« Utilisation d'un téléphone » est donné deux fois : l'utilisation d'un téléphone "
        "est soit un motif d'invalidation, soit excusée (« Exception téléphone »), pas les "
        "deux.",
        "Exception téléphone : cochez l'enregistrement du problème technique qui l'excuse ; "
        "sans lui, le téléphone ne peut pas être excusé.",
    ]
    text = html.unescape(refused.text)
    assert "5 problèmes à corriger, chacun indiqué à côté de son champ" in text
    # Each beside its field: under its reason, or in the phone exception.
    for place in ("reason-phone_used", "reason-other_rule_breach", "excused"):
        assert f'id="problem-{place}"' in text, place
    phone = text.split('<li class="reason" data-reason="phone_used">', 1)[1].split("</li>", 1)[0]
    assert "jamais un verdict" in phone and "deux fois" in phone
    assert 'id="justification-phone_used"' in phone  # where the written reasons go
    assert "R20" not in "".join(said) and "FLAG-HINT" not in "".join(said)  # never a code
    assert platform.ctx.store.get(journey.review_id, Review).verdict is None  # type: ignore[arg-type]

    examiner.get("/lang/en")
    refused = decide(examiner, page, seen=seal_on(examiner, page), **sent)
    said = problems_of(refused)
    assert len(said) == 5 and said[0].startswith(
        "“Use of a phone” rests on detector flags alone, and the recommendation is “validated”"
    )
    # Corrected in one go, recorded.
    done = decide(
        examiner,
        page,
        seen=seal_on(examiner, page),
        verdict="invalidated",
        reason="phone_used",
        **{f"evidence-{ReasonCode.PHONE_USED.value}": flag, "justification-phone_used": SAW},
    )
    assert done.status_code in (302, 303), problems_of(done)
    decided = platform.ctx.store.get(journey.review_id, Review)  # type: ignore[arg-type]
    assert decided.verdict is Verdict.INVALIDATED and decided.reasons[0].justification == SAW


def test_the_api_names_each_problem_by_field_in_the_accept_language(
    platform: Platform,
    examiner: TestClient[Any],
) -> None:
    journey = sent_with_a_phone_flag(platform)
    taken(examiner, journey)
    flag = flag_of(platform, journey)
    url = f"/api/reviews/{journey.review_id}/decision"
    body = {
        "verdict": "invalidated",
        "reasons": [
            {"reason": "phone_used", "evidence_ids": [flag]},
            {"reason": "other_rule_breach", "evidence_ids": []},
        ],
    }
    answers = {}
    for language in ("fr", "en"):
        reply = examiner.post(
            url, json=body, headers={**csrf(examiner), "Accept-Language": language}
        )
        assert reply.status_code == 422, reply.text
        answers[language] = reply.json()
    problems = answers["en"]["problems"]
    assert [(p["field"], p.get("reason"), p["rule"]) for p in problems] == [
        ("justification", "phone_used", "FLAG-HINT"),
        ("evidence", "other_rule_breach", "R20"),
        ("justification", "other_rule_breach", "R20"),
    ]
    assert problems[1]["detail"] == (
        "“Other breach (written justification)” cites no moment: tick at least one in the "
        "list beside the player (“Cite”)."
    )
    assert answers["fr"]["problems"][1]["detail"].startswith(
        "« Autre manquement (justification écrite) » ne cite aucun moment"
    )
    assert platform.ctx.store.get(journey.review_id, Review).verdict is None  # type: ignore[arg-type]


def test_a_reason_citing_nothing_is_told_its_citation_and_its_words_at_once(
    platform: Platform,
    examiner: TestClient[Any],
) -> None:
    """A reviewer's finding: « Invalidée » with « Utilisation d'un téléphone », no moment
    cited and no words, was told « 1 problème » (cite a moment, R20); the flag cited, a
    second refusal asked for the 10 words (FLAG-HINT). One submission says both now, in
    French and in English, on the page and in the API."""
    journey = sent_with_a_phone_flag(platform)
    page = taken(examiner, journey)
    flag = flag_of(platform, journey)
    sent = {"verdict": "invalidated", "reason": "phone_used"}
    refused = decide(examiner, page, seen=seal_on(examiner, page), **sent)
    assert refused.status_code == 409
    assert problems_of(refused) == [
        "« Utilisation d'un téléphone » ne cite aucun moment : cochez-en au moins un dans la "
        "liste à côté du lecteur (« Citer »).",
        "« Utilisation d'un téléphone » demande aussi sa justification, la recommandation "
        "étant « validée » : à moins qu'il ne cite un moment autre qu'un signalement de "
        "détecteur (un signalement est un indice, jamais un verdict), écrivez-y ce que vous "
        "avez vu dans l'enregistrement, en au moins 10 mots (0 donnés).",
    ]
    text = html.unescape(refused.text)
    assert "2 problèmes à corriger, chacun indiqué à côté de son champ" in text
    phone = text.split('<li class="reason" data-reason="phone_used">', 1)[1].split("</li>", 1)[0]
    assert "ne cite aucun moment" in phone and "demande aussi sa justification" in phone

    examiner.get("/lang/en")
    refused = decide(examiner, page, seen=seal_on(examiner, page), **sent)
    assert problems_of(refused) == [
        "“Use of a phone” cites no moment: tick at least one in the list beside the player "
        "(“Cite”).",
        "“Use of a phone” needs its justification too, the recommendation being “validated”: "
        "unless it cites a moment other than a detector flag (a flag is a hint, never a "
        "verdict), write in it what you saw in the recording, in at least 10 words (0 given).",
    ]
    reply = examiner.post(
        f"/api/reviews/{journey.review_id}/decision",
        json={"verdict": "invalidated", "reasons": [{"reason": "phone_used", "evidence_ids": []}]},
        headers={**csrf(examiner), "Accept-Language": "en"},
    )
    assert reply.status_code == 422, reply.text
    assert [(p["field"], p.get("reason"), p["rule"]) for p in reply.json()["problems"]] == [
        ("evidence", "phone_used", "R20"),
        ("justification", "phone_used", "FLAG-HINT"),
    ]
    assert platform.ctx.store.get(journey.review_id, Review).verdict is None  # type: ignore[arg-type]
    # Both corrected in one go, recorded: no second refusal.
    done = decide(
        examiner,
        page,
        seen=seal_on(examiner, page),
        **sent,
        **{f"evidence-{ReasonCode.PHONE_USED.value}": flag, "justification-phone_used": SAW},
    )
    assert done.status_code in (302, 303), problems_of(done)
    decided = platform.ctx.store.get(journey.review_id, Review)  # type: ignore[arg-type]
    assert decided.verdict is Verdict.INVALIDATED and decided.reasons[0].justification == SAW
