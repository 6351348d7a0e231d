"""The examiner's review page (R19): interruptions shown, a justification per ground to
validate against it, refusals in the examiner's words, through the real app."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app.mail_rendering import SupportContact
from app.use_cases import accounts, portal, proctoring
from app.use_cases.reviewing import recommendation_seal
from domain.review import Review
from domain.staff import Role
from tests.acceptance.test_fair_review import (
    JUSTIFICATION,
    close_the_exam_tab,
    close_the_proctoring_tab,
)
from tests.acceptance.web import csrf, form_token, log_in, platform_on, register_staff
from ui.journey import PARIS, TEN_WORDS, Journey
from ui.web import review_words
from ui.web.app import create_app
from ui.web.i18n import gettext_for
from ui.web.rule_words import rule_title

SECRET = b"r" * 32
PASSWORD = "examinatrice-pass-1"
_SEAL = re.compile(r'name="seen" value="([0-9a-f]+)"')


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


def sent_with_a_closed_proctoring_tab(platform: Platform) -> Journey:
    """The exam tab stayed open while the proctoring tab was closed: an R17 ground."""
    journey = Journey(platform)
    journey.in_exam()
    journey.clock.advance(minutes=5)
    close_the_proctoring_tab(journey)
    journey.answer_and_send()
    return journey


def decide(client: TestClient[Any], page: str, **fields: str) -> Any:
    data = {"_csrf_token": form_token(client, page), "verdict": "validated", **fields}
    return client.post(f"{page}/decide", data=data, follow_redirects=False)


def seal_on(client: TestClient[Any], page: str) -> str:
    found = _SEAL.search(client.get(page).text)
    assert found is not None, "the decision form carries the seal of what it shows"
    return found.group(1)


def test_validating_against_a_ground_asks_for_a_justification_in_the_examiners_words_r19(
    platform: Platform, examiner: TestClient[Any]
) -> None:
    journey = sent_with_a_closed_proctoring_tab(platform)
    page = f"/examiner/reviews/{journey.review_id}"
    examiner.post(
        f"{page}/assign",
        data={"_csrf_token": form_token(examiner, page)},
        follow_redirects=False,
    )
    html = examiner.get(page).text
    assert 'name="override-0"' in html and 'class="ground"' in html
    seen = seal_on(examiner, page)

    unjustified = decide(examiner, page, seen=seen)
    assert unjustified.status_code == 409
    assert problems_of(unjustified) == [
        "Le motif « Onglet e-surveillance fermé » s'oppose à une validation : écrivez ici "
        "pourquoi vous validez malgré tout (au moins 10 mots), ou invalidez."
    ]
    assert 'id="problem-override-0"' in unjustified.text  # beside its justification
    short = decide(examiner, page, seen=seen, **{"override-0": "la candidate était seule"})
    assert short.status_code == 409
    assert problems_of(short) == [
        "La justification contre « Onglet e-surveillance fermé » demande au moins 10 mots "
        "(4 donnés)."
    ]
    assert ">la candidate était seule</textarea>" in short.text  # what was typed stays
    assert 'id="decision"' not in examiner.get(page).text  # nothing was decided

    done = decide(examiner, page, seen=seen, **{"override-0": JUSTIFICATION})
    assert done.status_code in (302, 303), done.text
    html = examiner.get(page).text
    assert 'data-verdict="validated"' in html
    assert 'id="overrides"' in html and JUSTIFICATION.replace("'", "&#39;") in html
    assert "identique" in html  # the replay agrees, justification included


def test_a_decided_review_waits_under_results_to_send_until_it_is_released_then_is_listed_r19(
    platform: Platform, examiner: TestClient[Any]
) -> None:
    """A decided review left « Contrôles en attente », and its result, never sent, was seen
    nowhere: the candidate never heard (a reviewer's finding)."""
    journey = Journey(platform)
    journey.sent_with_a_phone_flag()
    page = f"/examiner/reviews/{journey.review_id}"
    examiner.post(
        f"{page}/assign", data={"_csrf_token": form_token(examiner, page)}, follow_redirects=False
    )
    assert "Résultats à envoyer" not in examiner.get("/examiner/reviews").text
    decided = decide(examiner, page, seen=seal_on(examiner, page))
    assert decided.status_code in (302, 303), decided.text[-300:]
    listed = html.unescape(examiner.get("/examiner/reviews").text)
    assert "Contrôles en attente : 0" in listed
    assert "Résultats à envoyer : 1" in listed
    to_send = listed.split('id="to-send"', 1)[1]
    assert f'href="{page}#decision-title"' in to_send and "MARTIN Camille" in to_send
    assert 'badge--success">validée' in to_send
    released = examiner.post(
        f"{page}/release", data={"_csrf_token": form_token(examiner, page)}, follow_redirects=False
    )
    assert released.status_code in (302, 303)
    listed = html.unescape(examiner.get("/examiner/reviews").text)
    assert "Résultats à envoyer" not in listed
    # Sent, it is still listed for its examiner, to reread (a reviewer's tour: it was
    # nowhere once sent).
    sent = listed.split('id="sent"', 1)[1]
    assert "Résultats envoyés récemment" in sent and "MARTIN Camille" in sent
    assert f'href="{page}#decision-title"' in sent and 'badge--success">validée' in sent
    assert 'data-label="Envoyé le">07/12/2026</td>' in sent  # the day it was sent
    examiner.get("/lang/en")
    assert "Results sent recently" in examiner.get("/examiner/reviews").text


def test_a_decision_without_a_verdict_is_said_on_the_page_never_a_500(
    platform: Platform, examiner: TestClient[Any]
) -> None:
    """The form's `required` bypassed (an old page, a hand-made request): « '' is not a valid
    Verdict » answered 500 (a reviewer's check). Now the field is named, nothing decided."""
    journey = Journey(platform)
    journey.sent_with_a_phone_flag()
    page = f"/examiner/reviews/{journey.review_id}"
    examiner.post(
        f"{page}/assign", data={"_csrf_token": form_token(examiner, page)}, follow_redirects=False
    )
    for sent in ("", "maybe"):
        refused = decide(examiner, page, verdict=sent, seen=seal_on(examiner, page))
        assert refused.status_code == 409, refused.text[-300:]
        assert "Champ « Verdict » : choisissez validé ou invalidé" in refused.text
    assert 'id="decision"' not in examiner.get(page).text  # nothing was decided


def test_a_decision_on_a_recommendation_changed_since_the_page_was_loaded_is_refused_r19(
    platform: Platform, examiner: TestClient[Any]
) -> None:
    journey = Journey(platform)
    journey.sent_with_a_phone_flag()
    page = f"/examiner/reviews/{journey.review_id}"
    examiner.post(
        f"{page}/assign", data={"_csrf_token": form_token(examiner, page)}, follow_redirects=False
    )
    seen = seal_on(examiner, page)
    proctoring.record_technical_problem(
        journey.ctx,
        journey.session_id,
        description="la webcam a décroché pendant l'examen",
        recorded_by=journey.ctx.ids.new_id(),
    )
    refused = decide(examiner, page, seen=seen)
    assert refused.status_code == 409
    assert "De nouveaux éléments sont arrivés" in refused.text
    assert "un problème technique" in refused.text or "technical problem" in refused.text
    assert seal_on(examiner, page) != seen  # the page shows the fresh recommendation
    assert decide(examiner, page, seen=seal_on(examiner, page)).status_code in (302, 303)


def sent_with_a_technical_problem(platform: Platform, description: str) -> Journey:
    """An exam sent for review after the hotline recorded a technical problem in it (R20:
    the problem a phone's use may be excused on)."""
    journey = Journey(platform)
    journey.in_exam()
    assert journey.session_id is not None
    proctoring.record_technical_problem(
        journey.ctx,
        journey.session_id,
        description=description,
        recorded_by=journey.ctx.ids.new_id(),
    )
    journey.answer_and_send()
    return journey


def test_the_moments_say_what_the_hotline_and_the_candidate_wrote(
    platform: Platform, examiner: TestClient[Any]
) -> None:
    """A technical problem's row read « Problème technique » alone, its text only in the raw
    journal beside a staff id (a reviewer's check); a phone's use is excused on it (R20)."""
    journey = sent_with_a_technical_problem(
        platform, "la webcam a décroché <b>pendant</b> l'examen"
    )
    page = f"/examiner/reviews/{journey.review_id}"
    text = examiner.get(page).text
    moments = text.split('class="moments-box"', 1)[1].split("</ol>", 1)[0]
    written = "la webcam a décroché &lt;b&gt;pendant&lt;/b&gt; l&#39;examen"  # escaped
    assert f"Problème technique — «\u00a0{written}\u00a0»" in moments


def test_the_review_page_shows_the_guides_interruptions_r14_r23(
    platform: Platform, examiner: TestClient[Any]
) -> None:
    journey = Journey(platform)
    journey.in_exam()
    journey.clock.advance(minutes=10)
    close_the_exam_tab(journey)
    close_the_proctoring_tab(journey)
    journey.clock.advance(minutes=2)
    journey.enter(resume_reason=TEN_WORDS)
    assert journey.attempt_id is not None
    portal.reopen_workspace(journey.ctx, journey.attempt_id)
    journey.platform.settle()
    journey.answer_and_send()
    html = examiner.get(f"/examiner/reviews/{journey.review_id}").text
    assert 'data-verdict="validated"' in html
    assert 'data-kind="blocked_screen"' in html
    assert "Écran bloqué : la procédure du guide a été suivie" in html
    assert 'class="ground"' not in html


def sent_after_a_deferral_and_a_blocked_screen(platform: Platform) -> Journey:
    """The guide's three ways out, none a ground: a deferral before « Commencer » (R14), its
    proctoring tab closed outside the exam (R17), a blocked screen (R23)."""
    journey = Journey(platform)
    journey.enrol()
    journey.create_session()
    journey.through_checks()
    attempt = journey.to_tile()
    portal.start_now(journey.ctx, attempt)
    journey.platform.settle()
    portal.defer_exam(journey.ctx, attempt)
    close_the_proctoring_tab(journey)
    journey.clock.advance(hours=1)
    journey.enter(resume_reason=TEN_WORDS)
    journey.start_exam()
    journey.clock.advance(minutes=10)
    close_the_exam_tab(journey)
    journey.clock.advance(seconds=5)
    close_the_proctoring_tab(journey)
    journey.clock.advance(minutes=3)
    journey.enter(resume_reason=TEN_WORDS)
    portal.reopen_workspace(journey.ctx, attempt)
    journey.platform.settle()
    journey.answer_and_send()
    return journey


_INTERRUPTION = re.compile(r'(<li class="interruption"[^>]*>)(.*?)</li>', re.S)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_each_interruption_reads_as_a_sentence_in_the_examiners_language_its_rule_a_title(
    platform: Platform, examiner: TestClient[Any], language: str
) -> None:
    """R14, R17, R23 in words: the lines read « Report avant « Commencer » (R14) : … » and
    their tooltip was the domain's English explanation, on the French page too (a reviewer's
    tour). Now a sentence in the page's language, the rule the line's title, as the grounds'."""
    journey = sent_after_a_deferral_and_a_blocked_screen(platform)
    review = platform.ctx.store.get(journey.review_id, Review)  # type: ignore[arg-type]
    assert review.recommendation is not None
    interruptions = {i.kind.value: i for i in review.recommendation.interruptions}
    assert sorted(interruptions) == ["blocked_screen", "deferral", "outside_exam"]
    examiner.get(f"/lang/{language}", follow_redirects=False)
    page = examiner.get(f"/examiner/reviews/{journey.review_id}").text
    _ = gettext_for(language)
    lines = _INTERRUPTION.findall(page)
    assert len(lines) == len(interruptions)
    for tag, inside in lines:
        interruption = interruptions[re.search(r'data-kind="([a-z_]+)"', tag).group(1)]  # type: ignore[union-attr]
        text = html.unescape(re.sub(r"[ \n]+", " ", re.sub(r"<[^>]+>", " ", inside)))
        assert _(review_words.INTERRUPTION_WORDS[interruption.kind]) in text
        assert not re.search(r"\bR\d+\b", text), text  # no rule code in what is read
        title = html.unescape(re.search(r'title="([^"]*)"', tag).group(1))  # type: ignore[union-attr]
        assert title == rule_title(language, interruption.rule)
        assert f"({interruption.rule})" in title and f'data-rule="{interruption.rule}"' in tag
        assert interruption.explanation not in html.unescape(page)
        assert _("Evidence:") in text  # its facts as the grounds' are cited
        if language == "fr":
            assert title.startswith("Le guide :") and "as the guide allows" not in text
        else:
            assert "Commencer" not in text + title and "Onglet" not in text


def test_the_api_decides_against_a_ground_with_its_override_and_refuses_a_stale_one_r19(
    platform: Platform, examiner: TestClient[Any]
) -> None:
    journey = sent_with_a_closed_proctoring_tab(platform)
    assert journey.review_id is not None
    page = f"/examiner/reviews/{journey.review_id}"
    examiner.post(
        f"{page}/assign", data={"_csrf_token": form_token(examiner, page)}, follow_redirects=False
    )
    review = platform.ctx.store.get(journey.review_id, Review)
    assert review.recommendation is not None
    (ground,) = review.recommendation.grounds
    override = {
        "rule": ground.rule,
        "reason": ground.reason.value,
        "evidence_ids": list(ground.evidence_ids),
        "justification": JUSTIFICATION,
    }
    url = f"/api/reviews/{journey.review_id}/decision"
    stale = examiner.post(
        url,
        json={"verdict": "validated", "overrides": [override], "seen": "0" * 20},
        headers=csrf(examiner),
    )
    assert stale.status_code == 409 and stale.json()["rule"] == "R19"
    short = examiner.post(
        url,
        json={"verdict": "validated", "overrides": [{**override, "justification": "vu"}]},
        headers=csrf(examiner),
    )
    assert short.status_code == 422 and short.json()["field"] == "override"
    done = examiner.post(
        url,
        json={
            "verdict": "validated",
            "overrides": [override],
            "seen": recommendation_seal(review.recommendation),
        },
        headers=csrf(examiner),
    )
    assert done.status_code == 201, done.text
    decided = platform.ctx.store.get(journey.review_id, Review)
    assert [o.justification for o in decided.overrides] == [JUSTIFICATION]


# --- the decision form: nothing typed is lost (R19, R20) ------------------------------------

WRITTEN = "rien à signaler, la candidate est restée seule et concentrée"


def taken(examiner: TestClient[Any], journey: Journey) -> str:
    """The review's page, taken by the examiner (the decision form shows)."""
    page = f"/examiner/reviews/{journey.review_id}"
    examiner.post(
        f"{page}/assign", data={"_csrf_token": form_token(examiner, page)}, follow_redirects=False
    )
    return page


def refusal_of(reply: Any) -> str:
    """The refusal above the form: a single one, or a refused decision's first problem."""
    problems = problems_of(reply)
    if problems:
        return problems[0]
    found = re.search(r'id="decision-error"><p>(.*?)</p>', reply.text, re.S)
    assert found is not None, reply.text[-400:]
    return html.unescape(found.group(1))


def problems_of(reply: Any) -> list[str]:
    """A refused decision's problems, as the list above the form gives them."""
    box = re.search(
        r'class="alert alert--error problem-summary".*?<ul>(.*?)</ul>', reply.text, re.S
    )
    if box is None:
        return []
    return [
        html.unescape(t) for t in re.findall(r'<li><a href="[^"]*">(.*?)</a></li>', box.group(1))
    ]


def undecided(platform: Platform, journey: Journey) -> bool:
    assert journey.review_id is not None
    return platform.ctx.store.get(journey.review_id, Review).verdict is None


def test_a_validation_with_the_justification_typed_is_refused_what_was_typed_kept_r20(
    platform: Platform, examiner: TestClient[Any]
) -> None:
    """« Validée » with a comment typed in « Justification », the other breach's field, was
    recorded « Session validée », `reasons=()`: the text was lost without a word (a
    reviewer's finding). Now it is refused beside the form, the field named, nothing kept
    out, nothing recorded."""
    journey = Journey(platform)
    journey.sent_with_a_phone_flag()
    page = taken(examiner, journey)
    refused = decide(
        examiner,
        page,
        seen=seal_on(examiner, page),
        **{"justification-other_rule_breach": WRITTEN},
    )
    assert refused.status_code == 409
    assert refusal_of(refused) == (
        "Une validation ne cite aucun motif d'invalidation : videz le champ « Justification "
        "(Autre manquement) », ou choisissez « Invalidée ». Rien n'a été enregistré."
    )
    kept = html.unescape(refused.text)
    assert re.search(
        rf'name="justification-other_rule_breach"[^>]*value="{re.escape(WRITTEN)}"', kept
    )
    assert 'value="validated" required checked' in kept  # the verdict chosen, kept
    assert undecided(platform, journey)


def test_a_validation_with_a_reason_ticked_is_refused_naming_it_in_french_and_english_r20(
    platform: Platform, examiner: TestClient[Any]
) -> None:
    """A reason ticked and a moment cited for it, then « Validée »: the reason was dropped
    and the session recorded as validated."""
    journey = Journey(platform)
    journey.sent_with_a_phone_flag()
    page = taken(examiner, journey)
    assert journey.review_id is not None
    moment = platform.ctx.store.get(journey.review_id, Review).evidence[-1].id
    sent = {
        "reason": ["headphones", "other_rule_breach"],
        "evidence-headphones": moment,
        "evidence-other_rule_breach": moment,
        "justification-other_rule_breach": WRITTEN,
    }
    refused = decide(examiner, page, seen=seal_on(examiner, page), **sent)
    assert refused.status_code == 409
    assert refusal_of(refused) == (
        "Une validation ne cite aucun motif d'invalidation : décochez « Écouteurs ou casque » "
        "et « Autre manquement (justification écrite) » et videz le champ « Justification "
        "(Autre manquement) », ou choisissez « Invalidée ». Rien n'a été enregistré."
    )
    kept = html.unescape(refused.text)
    assert 'name="reason" value="headphones" checked' in kept
    assert f'value="{WRITTEN}"' in kept
    assert undecided(platform, journey)

    examiner.get("/lang/en")
    refused = decide(examiner, page, seen=seal_on(examiner, page), reason="headphones")
    assert refused.status_code == 409
    assert refusal_of(refused) == (
        "A validation cites no reason to invalidate: untick “Earphones or headset”, or "
        "choose “Invalidated”. Nothing was recorded."
    )
    assert undecided(platform, journey)
    # Unticked and emptied, the same validation is recorded.
    assert decide(examiner, page, seen=seal_on(examiner, page)).status_code in (302, 303)
    assert not undecided(platform, journey)


def test_an_invalidation_keeps_what_was_typed_for_a_reason_not_ticked_or_a_ground_r20(
    platform: Platform, examiner: TestClient[Any]
) -> None:
    """The same loss the other way: an invalidation dropped the other breach's
    justification when that reason was not ticked, and the justification typed against a
    ground (a validation's) without a word."""
    journey = sent_with_a_closed_proctoring_tab(platform)
    page = taken(examiner, journey)
    assert journey.review_id is not None
    review = platform.ctx.store.get(journey.review_id, Review)
    assert review.recommendation is not None
    (ground,) = review.recommendation.grounds
    cited = {
        "verdict": "invalidated",
        "reason": ground.reason.value,
        f"evidence-{ground.reason.value}": ground.evidence_ids[0],
    }
    stray = decide(
        examiner,
        page,
        seen=seal_on(examiner, page),
        **cited,
        **{"justification-other_rule_breach": WRITTEN},
    )
    assert stray.status_code == 409
    assert refusal_of(stray) == (
        "Cette justification est remplie mais son motif n'est pas coché : cochez « Autre "
        "manquement (justification écrite) » et citez ses moments, ou videz le champ."
    )
    assert 'id="problem-reason-other_rule_breach"' in stray.text
    assert f'value="{WRITTEN}"' in html.unescape(stray.text)
    against = decide(
        examiner, page, seen=seal_on(examiner, page), **cited, **{"override-0": JUSTIFICATION}
    )
    assert against.status_code == 409
    assert refusal_of(against).startswith(
        "Les justifications contre un motif retenu sont pour une validation"
    )
    assert f">{JUSTIFICATION}</textarea>" in html.unescape(against.text)
    assert undecided(platform, journey)
    done = decide(examiner, page, seen=seal_on(examiner, page), **cited)
    assert done.status_code in (302, 303)
    decided = platform.ctx.store.get(journey.review_id, Review)
    assert [c.reason for c in decided.reasons] == [ground.reason]


def test_the_reasons_and_their_justification_say_they_are_an_invalidations_r20(
    platform: Platform, examiner: TestClient[Any]
) -> None:
    """The only text box under « Validée » read « Justification », below every reason: it
    looked like a general comment. It names its reason, and the reasons say they are for
    « Invalidée » (the page's script greys them while « Validée » is chosen)."""
    journey = Journey(platform)
    journey.sent_with_a_phone_flag()
    page = taken(examiner, journey)
    text = html.unescape(examiner.get(page).text)
    assert '<fieldset id="reasons" data-verdict-only="invalidated"' in text
    assert "Pour une invalidation seulement : une validation n'en cite aucun." in text
    assert '<label for="justification-other">Justification (Autre manquement)</label>' in text
    assert '<script src="/static/decision.js" defer></script>' in text


def test_a_phone_both_cited_and_excused_is_refused_in_words_that_say_so_r20(
    platform: Platform, examiner: TestClient[Any]
) -> None:
    """The domain refuses a reason given twice; from the form that is « Utilisation d'un
    téléphone » ticked and excused at once, which was answered « Pour valider, décochez les
    motifs d'invalidation » on an invalidation."""
    journey = sent_with_a_technical_problem(
        platform, "la webcam a décroché, elle a appelé la hotline"
    )
    page = taken(examiner, journey)
    assert journey.review_id is not None
    (problem,) = [
        e.id
        for e in platform.ctx.store.get(journey.review_id, Review).evidence
        if e.kind == "TechnicalProblemRecorded"
    ]
    refused = decide(
        examiner,
        page,
        seen=seal_on(examiner, page),
        verdict="invalidated",
        reason="phone_used",
        phone_excused="yes",
        **{"evidence-phone_used": problem, "evidence-phone-excused": problem},
    )
    assert refused.status_code == 409
    assert refusal_of(refused) == (
        "« Utilisation d'un téléphone » est donné deux fois : l'utilisation d'un téléphone "
        "est soit un motif d'invalidation, soit excusée (« Exception téléphone »), pas les deux."
    )
    assert undecided(platform, journey)


# --- the moments' words (R10, R15) ------------------------------------------------------------


def moments_of(text: str) -> list[str]:
    """The rows beside the player, in order, as the examiner reads them."""
    box = text.split('class="moments-box"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r"<time>[^<]*</time>\s*(.*?)\s*</(?:button|span)>", box, re.S)
    return [re.sub(r"[ \t\n]+", " ", html.unescape(r)).strip() for r in rows]  # no-break kept


def test_each_environment_recording_names_its_part_and_the_launch_is_not_the_start_r10(
    platform: Platform, examiner: TestClient[Any]
) -> None:
    """Under « Les étapes avant l'examen » the three recordings all read « Enregistrement de
    l'environnement »: to cite the ears' for « Écouteurs ou casque » the examiner guessed by
    their order. And « Examen commencé » stood at the end of the checks (the exam launched,
    R10), while « Commencer » was pressed a minute later (« Premier écran de l'examen »)."""
    journey = Journey(platform)
    journey.in_exam()
    journey.answer_and_send()
    page = f"/examiner/reviews/{journey.review_id}"
    rows = moments_of(examiner.get(page).text)
    recordings = [r for r in rows if r.startswith("Enregistrement")]
    assert recordings == [
        "Enregistrement des oreilles",
        "Enregistrement de la pièce",
        "Enregistrement du bureau",
    ]
    launched = rows.index("Vérifications terminées — examen lancé")
    begun = rows.index("Examen commencé («\u00a0Commencer\u00a0»)")
    assert launched < begun  # (the steps before the exam are listed apart, folded)
    log = html.unescape(examiner.get(page).text).split('id="timeline"', 1)[1]
    assert "Enregistrement des oreilles commencé" in log
    assert "Enregistrement de l'environnement" not in log

    examiner.get("/lang/en")
    rows = moments_of(examiner.get(page).text)
    assert [r for r in rows if r.startswith("Recording of")] == [
        "Recording of the ears",
        "Recording of the room",
        "Recording of the desk",
    ]
    assert "Checks done — exam launched" in rows
    assert "Exam started (“Start”)" in rows


def test_the_auditors_replay_names_the_recordings_and_the_launch_as_the_examiner_reads_them(
    platform: Platform,
) -> None:
    """The auditor's evidence table reads the same words (R10): it said « Enregistrement de
    l'environnement » three times and « Examen commencé » for the launch too."""
    journey = Journey(platform)
    journey.in_exam()
    journey.answer_and_send()
    journey.decided(journey.ctx.ids.new_id())
    accounts.register_staff(
        platform.ctx, email="ada@example.org", name="Ada", role=Role.AUDITOR, password=PASSWORD
    )
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/staff/login", "ada@example.org", PASSWORD)
        text = html.unescape(client.get(f"/auditor/reviews/{journey.review_id}").text)
    facts = re.findall(r"<td>((?:Enregistrement|Vérifications|Examen commencé)[^<]*)</td>", text)
    assert facts == [
        "Enregistrement des oreilles",
        "Enregistrement de la pièce",
        "Enregistrement du bureau",
        "Vérifications terminées — examen lancé",
        "Examen commencé («\u00a0Commencer\u00a0»)",
    ]


def test_a_hotline_note_of_the_next_day_shows_its_date_among_the_moments(
    platform: Platform, examiner: TestClient[Any]
) -> None:
    """The hotline's note of the next morning read « 07:00:07 Problème technique » after
    « 15:07:10 Réponses envoyées », as if before the exam (a tester's tour): a time of
    another day than the session's shows its date; the session's day's do not."""
    journey = Journey(platform)
    journey.in_exam()
    journey.answer_and_send()
    assert journey.session_id is not None
    journey.clock.advance(hours=22)
    proctoring.record_technical_problem(
        journey.ctx,
        journey.session_id,
        description="la webcam a décroché, dit la candidate le lendemain",
        recorded_by=journey.ctx.ids.new_id(),
    )
    text = examiner.get(f"/examiner/reviews/{journey.review_id}").text
    moments = text.split('class="moments-box"', 1)[1].split("</ol>", 1)[0]
    times = re.findall(r"<time>([^<]*)</time>([^<]*)", moments)
    later = [t for t, what in times if "Problème technique" in what]
    assert len(later) == 1 and re.fullmatch(r"08/12/2026 \d\d:\d\d:\d\d", later[0])
    assert all(re.fullmatch(r"\d\d:\d\d:\d\d", t) for t, what in times if t not in later)


def test_a_flag_reasons_own_justification_is_named_when_a_validation_or_a_stray_keeps_it_r20(
    platform: Platform, examiner: TestClient[Any]
) -> None:
    """A reviewer's tour: an invalidation refused, then « Validée » chosen on the form it came
    back on, the phone reason still ticked and its own justification (FLAG-HINT's) still
    typed: the page answered 500 and lost the form (only the other breach's field had a name
    to say). Both ways, each field is named as the form labels it."""
    journey = Journey(platform)
    journey.sent_with_a_phone_flag()
    page = taken(examiner, journey)
    assert journey.review_id is not None
    moment = platform.ctx.store.get(journey.review_id, Review).evidence[-1].id
    sent = {
        "reason": "phone_used",
        "evidence-phone_used": moment,
        "justification-phone_used": WRITTEN,
    }
    refused = decide(examiner, page, seen=seal_on(examiner, page), **sent)
    assert refused.status_code == 409
    assert refusal_of(refused) == (
        "Une validation ne cite aucun motif d'invalidation : décochez « Utilisation d'un "
        "téléphone » et videz le champ « Justification (Utilisation d'un téléphone) », ou "
        "choisissez « Invalidée ». Rien n'a été enregistré."
    )
    assert f'value="{WRITTEN}"' in html.unescape(refused.text)
    assert undecided(platform, journey)

    examiner.get("/lang/en")
    refused = decide(examiner, page, seen=seal_on(examiner, page), **sent)
    assert refused.status_code == 409
    assert refusal_of(refused) == (
        "A validation cites no reason to invalidate: untick “Use of a phone” and empty the "
        "field “Justification (Use of a phone)”, or choose “Invalidated”. Nothing was "
        "recorded."
    )
    # Typed for the phone, which is not ticked, on an invalidation for another reason.
    stray = decide(
        examiner,
        page,
        seen=seal_on(examiner, page),
        verdict="invalidated",
        reason="other_rule_breach",
        **{
            "evidence-other_rule_breach": moment,
            "justification-other_rule_breach": WRITTEN,
            "justification-phone_used": WRITTEN,
        },
    )
    assert stray.status_code == 409
    assert "Use of a phone" in refusal_of(stray)
    assert undecided(platform, journey)


def _lists_of(text: str) -> tuple[str, str]:
    """The moments shown (the exam's and the notable ones) and those folded under « Les
    étapes avant l'examen »."""
    box = html.unescape(text).split('class="moments-box"', 1)[1].split("</section>", 1)[0]
    shown, _, folded = box.partition('<details class="routine">')
    return shown, folded


def test_a_reason_to_resume_given_during_the_exam_shows_among_the_exams_moments_r6(
    platform: Platform, examiner: TestClient[Any]
) -> None:
    """She logged out by mistake during the exam (the proctoring tab closed, R17), logged in
    again and gave her reason to resume (R6): the examiner's page showed it only folded
    under « Les étapes avant l'examen », though it came right after the interruption it
    explains (a reviewer's tour). It shows where it happened, after the closed tab."""
    journey = Journey(platform)
    journey.in_exam()
    journey.clock.advance(minutes=5)
    close_the_proctoring_tab(journey)
    journey.clock.advance(minutes=2)
    journey.enter(resume_reason=TEN_WORDS)
    journey.clock.advance(minutes=3)
    journey.answer_and_send()
    page = f"/examiner/reviews/{journey.review_id}"
    shown, folded = _lists_of(examiner.get(page).text)
    assert TEN_WORDS in shown and TEN_WORDS not in folded
    rows = moments_of(examiner.get(page).text)
    resumed = next(r for r in rows if TEN_WORDS in r)
    assert resumed.startswith("Retour dans la session («\u00a0Reprendre l'examen\u00a0»)")
    closed = next(i for i, r in enumerate(rows) if r.startswith("Onglet de surveillance fermé"))
    begun = rows.index("Examen commencé («\u00a0Commencer\u00a0»)")
    assert begun < closed < rows.index(resumed)  # where it happened, after the interruption
    assert "Entrée en session" in folded  # the first entry stays with the steps before

    examiner.get("/lang/en")
    shown, folded = _lists_of(examiner.get(page).text)
    assert "Session resumed (“Resume the exam”)" in shown and TEN_WORDS not in folded
