"""Appeals and reassignment, at the use-case level and through the web pages.

A candidate contests an invalidation once, within 14 days of the results, in writing; a
second examiner, never the first, upholds or overturns it; the first decision stays in the
history; the candidate is told the appeal's verdict; agreement is reported.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from adapters.mail.memory import MemoryMailer
from app.mail_rendering import SupportContact
from app.recording import session_media
from app.tenancy import centre_of_operator
from app.use_cases import accounts, appeals, reviewing
from domain.bounds import LIMITS
from domain.errors import RuleBroken
from domain.evidence import ReasonCode, Verdict
from domain.review import AppealOutcome, CitedReason, Review
from domain.staff import Role
from tests.acceptance.web import form_token, log_in
from ui.journey import Journey, hotline_account
from ui.web import review_words
from ui.web.app import create_app

PASSWORD = "staff-pass-123"
ANSWER = "the recording shows the candidate alone and silent throughout"


def examiner(platform: Platform, name: str) -> UUID:
    return accounts.register_staff(
        platform.ctx,
        email=f"{name}@example.org",
        name=name,
        role=Role.EXAMINER,
        password=PASSWORD,
    )


def invalidated_and_sent(journey: Journey, first: UUID, *, forced: bool) -> Review:
    """An exam invalidated by `first` and its result sent. `forced`: the evidence itself
    invalidates (a missing ID photo, R9); otherwise the examiner saw headphones."""
    review = journey.ctx.store.get(journey.sent_for_review(waive_id_photo=forced), Review)
    assert review.recommendation is not None
    if forced:
        ground = review.recommendation.grounds[0]
        reasons = (CitedReason(ground.reason, ground.evidence_ids),)
    else:
        launched = next(e for e in review.evidence if e.kind == "ExamLaunched")
        reasons = (CitedReason(ReasonCode.HEADPHONES, (launched.id,)),)
    reviewing.assign_examiner(journey.ctx, review.id, first)
    reviewing.decide_review(
        journey.ctx, review.id, examiner_id=first, verdict=Verdict.INVALIDATED, reasons=reasons
    )
    reviewing.release_results(journey.ctx, review.id, released_by=first)
    journey.platform.settle()
    return journey.ctx.store.get(review.id, Review)


def contest(journey: Journey, reason: str = "je portais des bouchons d'oreille prescrits") -> None:
    assert journey.review_id is not None and journey.candidate_id is not None
    appeals.lodge_appeal(
        journey.ctx, journey.review_id, candidate_id=journey.candidate_id, reason=reason
    )


def overturned(journey: Journey, review_id: UUID, second: UUID) -> None:
    """The second examiner takes the appeal and validates the exam, answering in writing."""
    appeals.take_appeal(journey.ctx, review_id, second)
    appeals.decide_appeal(
        journey.ctx, review_id, examiner_id=second, outcome=AppealOutcome.OVERTURNED, answer=ANSWER
    )


def refused(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(RuleBroken) as refusal:
        call(*args, **kwargs)
    return refusal.value.rule


def test_an_upheld_appeal_keeps_the_invalidation_and_the_first_decision_in_the_history(
    journey: Journey,
) -> None:
    first, second = examiner(journey.platform, "first"), examiner(journey.platform, "second")
    review = invalidated_and_sent(journey, first, forced=True)
    contest(journey)
    appeals.take_appeal(journey.ctx, review.id, second)
    appeals.decide_appeal(
        journey.ctx, review.id, examiner_id=second, outcome=AppealOutcome.UPHELD, answer=ANSWER
    )

    after = journey.ctx.store.get(review.id, Review)
    assert after.verdict is Verdict.INVALIDATED  # the first decision, unchanged
    assert after.reasons == review.reasons
    assert after.appeal is not None and after.appeal.reasons == review.reasons
    assert after.final_verdict is Verdict.INVALIDATED
    kinds = [type(e).__name__ for e in journey.ctx.store.history(review.id)]
    assert kinds.count("ReviewDecided") == 1
    assert kinds[-3:] == ["AppealLodged", "AppealExaminerAssigned", "AppealDecided"]
    journey.platform.projections.catch_up(journey.ctx.store)
    agreement = journey.platform.projections.appeal_agreement()
    assert (agreement.decided, agreement.agreements, agreement.rate) == (1, 1, 1.0)


def test_a_centre_reads_the_examiners_agreement_over_its_own_candidates_appeals_only(
    journey: Journey,
) -> None:
    """A tester's tour: centre Lyon read « Accord … : 0 sur 1 (0 %) », the only appeal being
    another centre's candidate's. A centre's figure counts its own candidates' appeals; the
    hotline's, every centre's."""
    platform = journey.platform
    first, second = examiner(platform, "first"), examiner(platform, "second")
    owner = accounts.register_staff(
        platform.ctx, email="own@example.org", name="Own", role=Role.CENTRE, password=PASSWORD
    )
    journey.centre_id = centre_of_operator(owner)
    review = invalidated_and_sent(journey, first, forced=False)
    contest(journey)
    overturned(journey, review.id, second)
    accounts.register_staff(
        platform.ctx, email="lyon@example.org", name="Lyon", role=Role.CENTRE, password=PASSWORD
    )
    accounts.register_staff(
        platform.ctx, email="lead@example.org", name="Lea", role=Role.SUPPORT, password=PASSWORD
    )
    platform.settle()
    said = {}
    for email in ("lyon@example.org", "own@example.org", "lead@example.org"):
        with logged_in(platform, "/staff/login", email) as client:
            page = html.unescape(client.get("/operator/reviews").text)
            said[email] = page.split('<p id="agreement">', 1)[1].split("</p>", 1)[0]
    assert said["lyon@example.org"] == (
        "Accord entre premier et second examinateurs : aucune contestation tranchée pour l'instant."
    )
    assert "0 sur 1" in said["own@example.org"] and "0 sur 1" in said["lead@example.org"]


def test_an_overturned_appeal_validates_the_exam_and_the_candidate_is_told_so(
    journey: Journey,
) -> None:
    first, second = examiner(journey.platform, "first"), examiner(journey.platform, "second")
    review = invalidated_and_sent(journey, first, forced=False)
    contest(journey)
    overturned(journey, review.id, second)

    after = journey.ctx.store.get(review.id, Review)
    assert after.verdict is Verdict.INVALIDATED  # history keeps the first decision
    assert after.final_verdict is Verdict.VALIDATED
    decided = journey.ctx.store.history(review.id)[-1]
    assert isinstance(decided, Review.AppealDecided)
    assert (decided.first_examiner_id, decided.examiner_id, decided.agrees) == (
        first,
        second,
        False,
    )
    journey.platform.projections.catch_up(journey.ctx.store)
    [summary] = journey.platform.projections.my_sessions(journey.candidate_id)  # type: ignore[arg-type]
    assert summary.verdict is Verdict.VALIDATED
    agreement = journey.platform.projections.appeal_agreement()
    assert (agreement.decided, agreement.agreements, agreement.rate) == (1, 0, 0.0)
    journey.platform.settle()  # the candidate is told by mail, with the examiner's answer
    mailer = journey.platform.mailer
    assert isinstance(mailer, MemoryMailer)
    [told] = [m for m in mailer.to(journey.email) if "contestation" in m.subject]
    # The subject gives the outcome too, as the result mail's does.
    assert told.subject.endswith("Décision sur votre contestation : certification non réussie")
    assert "session d'examen est validée" in told.text and ANSWER in told.text
    # Validated is not passed: the outcome, the score and the pass mark, as in the result
    # mail (the journey's answers score 2/10 against 70 %).
    assert "Certification Bureautique Access : non réussie." in told.text
    assert "Votre score : 2/10 ; il fallait 7/10 (70\xa0%) pour l'obtenir." in told.text


def test_an_invalidation_forced_by_the_evidence_cannot_be_overturned(journey: Journey) -> None:
    first, second = examiner(journey.platform, "first"), examiner(journey.platform, "second")
    review = invalidated_and_sent(journey, first, forced=True)
    contest(journey)
    appeals.take_appeal(journey.ctx, review.id, second)
    rule = refused(
        appeals.decide_appeal,
        journey.ctx,
        review.id,
        examiner_id=second,
        outcome=AppealOutcome.OVERTURNED,
        answer=ANSWER,
    )
    assert rule == "R9"


def test_the_second_examiner_must_differ_from_the_first(journey: Journey) -> None:
    first, second = examiner(journey.platform, "first"), examiner(journey.platform, "second")
    lead = hotline_account(journey.ctx)
    review = invalidated_and_sent(journey, first, forced=True)
    contest(journey)
    head = journey.ctx.store.head()

    assert refused(appeals.take_appeal, journey.ctx, review.id, first) == "APPEAL-SECOND-EXAMINER"
    assert (
        refused(
            reviewing.reassign_review,
            journey.ctx,
            review.id,
            examiner_id=first,
            reassigned_by=lead,
            reason="first is free",
        )
        == "APPEAL-SECOND-EXAMINER"
    )
    assert (
        refused(
            appeals.decide_appeal,
            journey.ctx,
            review.id,
            examiner_id=first,
            outcome=AppealOutcome.UPHELD,
            answer=ANSWER,
        )
        == "APPEAL-SECOND-EXAMINER"
    )
    assert journey.ctx.store.head() == head  # refusals record nothing
    appeals.take_appeal(journey.ctx, review.id, second)
    assert journey.ctx.store.get(review.id, Review).appeal.examiner_id == second  # type: ignore[union-attr]


def test_an_invalidation_is_contested_only_once(journey: Journey) -> None:
    first, second = examiner(journey.platform, "first"), examiner(journey.platform, "second")
    review = invalidated_and_sent(journey, first, forced=True)
    contest(journey)
    assert refused(contest, journey, "une seconde fois") == "APPEAL-ONCE"
    appeals.take_appeal(journey.ctx, review.id, second)
    appeals.decide_appeal(
        journey.ctx, review.id, examiner_id=second, outcome=AppealOutcome.UPHELD, answer=ANSWER
    )
    assert refused(contest, journey, "et encore") == "APPEAL-ONCE"


def test_an_appeal_after_the_period_is_refused_and_the_last_day_is_inclusive(
    platform: Platform,
) -> None:
    first = examiner(platform, "first")
    late, in_time = Journey(platform, email="late@example.org"), Journey(platform)
    invalidated_and_sent(late, first, forced=True)
    invalidated_and_sent(in_time, first, forced=True)
    platform.ctx.clock.advance(days=14)  # type: ignore[attr-defined]
    contest(in_time)  # day 14: the last day
    platform.ctx.clock.advance(days=1)  # type: ignore[attr-defined]
    head = platform.ctx.store.head()
    assert refused(contest, late) == "APPEAL-PERIOD"
    assert platform.ctx.store.head() == head


def test_an_appeal_needs_a_written_reason_and_only_the_candidate_may_lodge_it(
    journey: Journey,
) -> None:
    first = examiner(journey.platform, "first")
    review = invalidated_and_sent(journey, first, forced=True)
    assert refused(contest, journey, "   ") == "APPEAL-REASON"
    assert refused(contest, journey, "x" * 2001) == "APPEAL-REASON"
    assert (
        refused(
            appeals.lodge_appeal,
            journey.ctx,
            review.id,
            candidate_id=journey.ctx.ids.new_id(),
            reason="pas moi",
        )
        == "APPEAL-CANDIDATE"
    )


def test_a_validated_exam_cannot_be_contested(journey: Journey) -> None:
    first = examiner(journey.platform, "first")
    review_id = journey.sent_for_review()
    journey.decided(first, Verdict.VALIDATED)
    reviewing.release_results(journey.ctx, review_id, released_by=first)
    assert refused(contest, journey) == "APPEAL-INVALIDATION"


def test_reassigning_a_review_records_who_and_why_and_keeps_the_due_date(
    journey: Journey,
) -> None:
    first, other = examiner(journey.platform, "first"), examiner(journey.platform, "other")
    lead = hotline_account(journey.ctx)
    journey.in_exam()
    journey.answer_and_send()
    assert journey.review_id is not None
    reviewing.assign_examiner(journey.ctx, journey.review_id, first)
    due_on = journey.ctx.store.get(journey.review_id, Review).due_on
    journey.clock.advance(days=3)

    assert reviewing.reassign_review(
        journey.ctx, journey.review_id, examiner_id=other, reassigned_by=lead, reason="congés"
    )

    review = journey.ctx.store.get(journey.review_id, Review)
    assert (review.examiner_id, review.due_on) == (other, due_on)
    event = journey.ctx.store.history(journey.review_id)[-1]
    assert isinstance(event, Review.ExaminerReassigned)
    assert (event.previous_examiner_id, event.reassigned_by, event.reason) == (
        first,
        lead,
        "congés",
    )
    assert event.timestamp == journey.ctx.now()
    with pytest.raises(RuleBroken) as refusal:
        reviewing.decide_review(
            journey.ctx, journey.review_id, examiner_id=first, verdict=Verdict.VALIDATED
        )
    assert refusal.value.rule == "R19"  # the first examiner no longer has it
    journey.platform.projections.catch_up(journey.ctx.store)
    [due] = journey.platform.projections.reviews_due(journey.ctx.now().date())
    assert due.examiner_id == other


def test_a_review_is_never_handed_to_someone_who_is_not_an_examiner(journey: Journey) -> None:
    support = accounts.register_staff(
        journey.ctx, email="s@example.org", name="Sam", role=Role.SUPPORT
    )
    journey.in_exam()
    journey.answer_and_send()
    assert journey.review_id is not None
    with pytest.raises(ValueError, match="not an examiner"):
        reviewing.reassign_review(
            journey.ctx, journey.review_id, examiner_id=support, reassigned_by=support, reason="x"
        )


# --- through the web ---------------------------------------------------------------------------


@contextmanager
def logged_in(platform: Platform, path: str, email: str) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(platform, secret=b"a" * 32, support=SupportContact())) as client:
        log_in(client, path, email, PASSWORD)
        yield client


def play_the_recording(client: TestClient[Any], platform: Platform, review: Review) -> None:
    """The examiner presses play on the session's recordings, as the page's player asks
    them (each playback recorded as their view, issue 14)."""
    history = platform.ctx.store.history(review.session_id)
    videos = [m for m in session_media(history) if m.kind != "image"]
    assert videos, "a session with something to play"
    for video in videos:
        played = client.get(f"/examiner/reviews/{review.id}/media/{video.media_id}")
        assert played.status_code in (200, 206), played.status_code


def post_form(client: TestClient[Any], page: str, action: str, **fields: str) -> Any:
    return client.post(
        action, data={**fields, "_csrf_token": form_token(client, page)}, follow_redirects=False
    )


def test_the_whole_appeal_through_the_pages(journey: Journey) -> None:
    platform = journey.platform
    first = examiner(platform, "first")
    examiner(platform, "second")
    accounts.register_staff(
        platform.ctx, email="lead@example.org", name="Lea", role=Role.SUPPORT, password=PASSWORD
    )
    review = invalidated_and_sent(journey, first, forced=True)
    journey.set_password(PASSWORD)
    result = f"/results/{journey.session_id}"
    appeal_page = f"/examiner/appeals/{review.id}"

    with logged_in(platform, "/login", journey.email) as candidate:
        page = candidate.get(result)
        assert page.status_code == 200 and 'id="contest"' in page.text
        assert 'data-verdict="invalidated"' in page.text
        # An empty reason (the form's `required` bypassed) is said beside the field, in her
        # words, never « not possible now » nor a rule's code; nothing is lodged.
        empty = post_form(candidate, result, f"{result}/appeal", reason="   ")
        assert empty.status_code == 409
        said = html.unescape(empty.text)
        assert "Champ « Pourquoi contestez-vous la décision ? » : écrivez votre motif" in said
        assert "APPEAL-" not in said and 'id="contest"' in said
        sent = post_form(candidate, result, f"{result}/appeal", reason="mon ID était lisible")
        assert sent.status_code in (302, 303), sent.text
        # The same form sent again (a double click): the appeal lodged, recorded once.
        head = platform.ctx.store.head()
        again = candidate.post(
            f"{result}/appeal",
            data={"reason": "mon ID était lisible", "_csrf_token": form_token(candidate, result)},
            follow_redirects=False,
        )
        assert again.status_code in (302, 303), again.text[-300:]
        assert platform.ctx.store.head() == head
        page = candidate.get(result)
        assert 'data-state="lodged"' in page.text and 'id="contest"' not in page.text

    with logged_in(platform, "/staff/login", "first@example.org") as first_client:
        page = first_client.get(appeal_page)
        assert 'id="first-examiner"' in page.text
        assert "mon ID était lisible" in page.text
        # The first decision's facts in words, their references never a tooltip (a
        # reviewer's tour: hovering one showed its stream's id).
        for evidence_id in (e for c in review.reasons for e in c.evidence_ids):
            assert f'data-evidence="{evidence_id}"' in page.text
            assert f'title="{evidence_id}"' not in page.text
        took = post_form(first_client, appeal_page, f"{appeal_page}/take")
        assert took.status_code == 409 and "APPEAL-SECOND-EXAMINER" in took.text
        # Not in his « Contestations à trancher », nor counted beside its link: a second
        # examiner decides it (it stood there « à prendre »: a tester's tour).
        listing = first_client.get("/examiner/appeals")
        assert listing.status_code == 200 and str(review.id) not in listing.text
        assert inside_names(listing.text) == []
        reviews = html.unescape(first_client.get("/examiner/reviews").text)
        assert "Contestations à trancher : 1" not in reviews

    with logged_in(platform, "/staff/login", "lead@example.org") as lead:
        page = lead.get("/operator/reviews")
        assert page.status_code == 200 and str(review.id) in page.text
        moved = post_form(
            lead,
            "/operator/reviews",
            f"/operator/reviews/{review.id}/reassign",
            examiner="second@example.org",
            reason="le premier examinateur ne peut pas trancher",
        )
        assert moved.status_code in (302, 303), moved.text
        # Said above the lists, where the redirect leads: it came back with no word.
        notice = html.unescape(lead.get(moved.headers["location"]).text)
        assert journey.candidate_id is not None
        named = review_words.registered_name(journey.ctx, platform.projections, review).words("fr")
        assert f"La contestation de {named} est désormais confiée à " in notice
        assert "second@example.org." in notice

    with logged_in(platform, "/staff/login", "second@example.org") as second:
        # Each line names the candidate, as the reviews list does.
        listing = second.get("/examiner/appeals")
        assert str(review.id) in listing.text
        assert inside_names(listing.text) == [registered(journey)]
        page = second.get(appeal_page)
        assert 'name="outcome"' in page.text
        # The evidence itself invalidates (the missing ID photo, R9): « Valider l'examen » is
        # not offered, and the page says why beside it, naming the ground (it was offered,
        # then refused once chosen: a user's tour).
        assert re.search(r'value="overturned" disabled aria-describedby="no-overturn"', page.text)
        why = html.unescape(page.text.split('id="no-overturn">', 1)[1].split("</p>", 1)[0])
        assert why.replace("\N{NO-BREAK SPACE}", " ") == (
            "« Valider l'examen » n'est pas proposé : les preuves établissent à elles seules le "
            "motif « Vérification de l'identité impossible », et une contestation ne peut pas "
            "lever une invalidation fondée sur ce motif. Confirmez l'invalidation, avec votre "
            "réponse écrite."
        )
        # Refused on the appeal itself, in words, the form as it was sent: a short answer led
        # to an error page naming APPEAL-DECISION, the answer and the choice lost.
        short = post_form(
            second, appeal_page, f"{appeal_page}/decide", outcome="upheld", answer="Pas de tel."
        )
        shown = html.unescape(short.text)
        assert short.status_code == 409 and 'id="decision-error"' in short.text
        assert "Votre réponse compte 3 mots : écrivez-en au moins 5" in shown
        assert "APPEAL-DECISION" not in shown
        assert "Pas de tel.</textarea>" in shown
        assert re.search(r'value="upheld" required checked', short.text)
        # The action's address, left in the address bar, opened again: back to the appeal.
        again = second.get(f"{appeal_page}/decide", follow_redirects=False)
        assert again.status_code in (302, 303) and again.headers["location"] == appeal_page
        # The reviews page counts the appeals beside its link (a link alone was missed).
        assert "Contestations à trancher : 1" in html.unescape(second.get("/examiner/reviews").text)
        # Sent all the same (a hand-made request): refused, naming the ground and what cannot
        # be lifted (it read « elle ne peut pas être levée en appel », « elle » unclear).
        forced = post_form(
            second, appeal_page, f"{appeal_page}/decide", outcome="overturned", answer=ANSWER
        )
        assert forced.status_code == 409
        said = html.unescape(forced.text).replace("\N{NO-BREAK SPACE}", " ")
        assert (
            "Les preuves établissent à elles seules le motif « Vérification de l'identité "
            "impossible » : une invalidation fondée sur ce motif ne peut pas être levée en "
            "appel. Confirmez l'invalidation, avec votre réponse écrite. Rien n'a été "
            "enregistré."
        ) in said
        decided = post_form(
            second, appeal_page, f"{appeal_page}/decide", outcome="upheld", answer=ANSWER
        )
        assert decided.status_code in (302, 303), decided.text
        assert decided.headers["location"].endswith("#appeal-decision")  # shown, in view
        # Confirmed where the redirect leads (no word was said); not on a later visit.
        confirmed = html.unescape(second.get(decided.headers["location"]).text)
        assert 'id="confirmation"' in confirmed
        assert "Votre décision sur la contestation est enregistrée : le candidat en est " in (
            confirmed
        )
        assert 'data-outcome="upheld"' in second.get(appeal_page).text
        assert 'id="confirmation"' not in second.get(appeal_page).text
        assert "1 sur 1 (100 %)" in second.get("/examiner/appeals").text

    with logged_in(platform, "/login", journey.email) as candidate:
        page = candidate.get(result)
        assert 'data-state="upheld"' in page.text and ANSWER in page.text


def test_a_candidate_cannot_contest_another_candidates_result(platform: Platform) -> None:
    first = examiner(platform, "first")
    owner, other = Journey(platform), Journey(platform, email="other@example.org")
    invalidated_and_sent(owner, first, forced=True)
    invalidated_and_sent(other, first, forced=True)
    other.set_password(PASSWORD)
    head = platform.ctx.store.head()
    with logged_in(platform, "/login", other.email) as client:
        assert client.get(f"/results/{owner.session_id}").status_code == 403
        token = form_token(client, f"/results/{other.session_id}")
        sent = client.post(
            f"/results/{owner.session_id}/appeal",
            data={"reason": "je conteste", "_csrf_token": token},
            follow_redirects=False,
        )
        assert sent.status_code == 403
    assert platform.ctx.store.head() == head


def test_a_lodged_appeal_is_acknowledged_by_mail_with_the_day_it_is_answered_by(
    journey: Journey,
) -> None:
    """Lodged with no word back, a candidate could not tell it had gone through (a
    reviewer's finding): a mail says it is received, who decides it and by when."""
    first = examiner(journey.platform, "first")
    invalidated_and_sent(journey, first, forced=False)
    contest(journey)
    journey.platform.settle()
    mailer = journey.platform.mailer
    assert isinstance(mailer, MemoryMailer)
    mail = mailer.to(journey.email)[-1]
    review = journey.ctx.store.get(journey.review_id, Review)
    assert review.appeal is not None
    assert mail.subject == "Contestation reçue"
    assert f"au plus tard le {review.appeal.due_on:%d/%m/%Y}" in mail.text
    assert f"/results/{journey.session_id}" in mail.text


def inside_names(page: str) -> list[str]:
    """The names in the list's candidate column, as read."""
    cells = re.findall(r'class="candidate-name">(.*?)</td>', page, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]


def registered(journey: Journey) -> str:
    assert journey.review_id is not None
    review = journey.ctx.store.get(journey.review_id, Review)
    name = review_words.registered_name(journey.ctx, journey.platform.projections, review)
    return name.listed("fr")  # a list of people: « MARTIN Camille » (app.person_names)


def test_reasons_ticked_with_an_overturn_are_refused_in_place_never_dropped(
    journey: Journey,
) -> None:
    """« Annuler l'invalidation » with a reason still ticked recorded the overturn and
    dropped the reason in silence (a reviewer's reading): refused, the form kept."""
    platform = journey.platform
    first, second = examiner(platform, "first"), examiner(platform, "second")
    review = invalidated_and_sent(journey, first, forced=False)
    contest(journey)
    appeals.take_appeal(journey.ctx, review.id, second)
    appeal_page = f"/examiner/appeals/{review.id}"
    with logged_in(platform, "/staff/login", "second@example.org") as client:
        # No ground in the evidence: « Valider l'examen » is offered, with no note against it.
        page = client.get(appeal_page).text
        assert re.search(r'value="overturned">', page) and 'id="no-overturn"' not in page
        head = platform.ctx.store.head()
        sent = post_form(
            client,
            appeal_page,
            f"{appeal_page}/decide",
            outcome="overturned",
            answer=ANSWER,
            reason="headphones",
        )
        shown = html.unescape(sent.text)
        assert sent.status_code == 409 and 'id="decision-error"' in sent.text
        assert "décochez les motifs" in shown and "Rien n'a été enregistré" in shown
        assert f"{ANSWER}</textarea>" in shown  # the answer kept
        assert platform.ctx.store.head() == head


@pytest.mark.parametrize("length", [LIMITS["appeal_reason"] + 1, 4_001])
def test_a_reason_too_long_comes_back_in_place_with_the_limit_and_its_length(
    journey: Journey, length: int
) -> None:
    """The form said « 2 000 caractères au plus » and the edge allowed 4,000: over 4,000, a
    page of its own naming « Vos motifs », and the text was lost (a reviewer's tour). One
    limit, the domain's: the form's maxlength, and a longer reason comes back in the form,
    as typed, with the sentence saying how long it may be and is; nothing is lodged."""
    platform = journey.platform
    review = invalidated_and_sent(journey, examiner(platform, "first"), forced=True)
    journey.set_password(PASSWORD)
    result = f"/results/{journey.session_id}"
    typed = ("je portais des bouchons prescrits " * 200)[:length]
    with logged_in(platform, "/login", journey.email) as candidate:
        page = candidate.get(result).text
        limit = LIMITS["appeal_reason"]
        assert re.search(rf'<textarea id="reason" name="reason"[^>]*maxlength="{limit}"', page)
        refused = post_form(candidate, result, f"{result}/appeal", reason=typed)
        assert refused.status_code == 409
        said = html.unescape(refused.text)
        assert 'id="contest"' in said and f">{typed}</textarea>" in said
        given = f"{length:,}".replace(",", "\u202f")
        assert (
            "Champ « Pourquoi contestez-vous la décision ? » : 2\u202f000 caractères au plus, "
            f"et votre motif en compte {given}. Raccourcissez-le" in said
        ), said[said.find("contest-error") :][:400]
        assert re.search(r'<textarea id="reason"[^>]*aria-invalid="true"', said)
    assert journey.ctx.store.get(review.id, Review).appeal is None


def test_a_reason_far_past_any_typing_is_refused_at_the_edge_never_echoed_back(
    journey: Journey,
) -> None:
    """Coming back in the form is for a person who pasted too much: a script's 100,000
    characters (KEPT_TIMES the rule and more) are refused before the handler, naming the
    field, and never echoed in the page."""
    platform = journey.platform
    review = invalidated_and_sent(journey, examiner(platform, "first"), forced=True)
    journey.set_password(PASSWORD)
    result = f"/results/{journey.session_id}"
    with logged_in(platform, "/login", journey.email) as candidate:
        refused = post_form(candidate, result, f"{result}/appeal", reason="x" * 100_000)
        assert refused.status_code == 400
        assert "x" * 1_000 not in refused.text
        # Named as the form names it: the exam's resume reason, of the same form name and
        # bound, was named in its place (« Motif de reprise », a helper's tour).
        # « Vos motifs » was a label no form shows (a reviewer's tour): the box's own.
        assert "« Pourquoi contestez-vous la décision ? » est trop long" in html.unescape(
            refused.text
        )
    assert journey.ctx.store.get(review.id, Review).appeal is None


@pytest.mark.parametrize(
    ("language", "said"),
    [("fr", "Vérifiez le champ « Décision »"), ("en", "Check the field “Decision”")],
)
def test_a_second_decision_sent_with_no_outcome_names_the_fields_label(
    journey: Journey, language: str, said: str
) -> None:
    """A reviewer's tour sent « Enregistrer » with neither outcome chosen and read « Vérifiez
    le champ « outcome » », the form's name for it: now its label, in the reader's words."""
    platform = journey.platform
    first, second = examiner(platform, "first"), examiner(platform, "second")
    review = invalidated_and_sent(journey, first, forced=False)
    contest(journey)
    appeals.take_appeal(journey.ctx, review.id, second)
    appeal_page = f"/examiner/appeals/{review.id}"
    with logged_in(platform, "/staff/login", "second@example.org") as client:
        client.get(f"/lang/{language}")
        refused = post_form(client, appeal_page, f"{appeal_page}/decide", answer=ANSWER)
        page = html.unescape(refused.text).replace("\u00a0", " ").replace("\u202f", " ")
        assert refused.status_code == 409 and said in page, page[-600:]
        assert "outcome" not in page.split("<main", 1)[1]
    appeal = journey.ctx.store.get(review.id, Review).appeal
    assert appeal is not None and appeal.outcome is None


def long_answer(length: int) -> str:
    """A written answer of exactly `length` characters, words and all."""
    return ("la vidéo montre le candidat seul " * (length // 30 + 1))[: length - 1] + "."


ANSWER_TOO_LONG = {
    "fr": "Champ « Réponse écrite au candidat » : 4\u202f000 caractères au plus, et votre "
    "réponse en compte 4\u202f001. Raccourcissez-la, puis appuyez à nouveau sur « Enregistrer "
    "la décision ». Rien n'a été enregistré.",
    "en": "Field “Written answer to the candidate”: 4,000 characters at most, and your answer "
    "has 4,001. Shorten it, then press “Record the decision” again. Nothing was recorded.",
}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_second_examiners_answer_too_long_comes_back_beside_it_as_typed(
    journey: Journey, language: str
) -> None:
    """The written answer to the candidate had no bound and no maxlength (a user's tour).
    APPEAL-DECISION holds it to LIMITS["appeal_answer"]: the field's maxlength says it, a
    longer one is refused beside the field, in the examiner's language, the form as sent,
    and nothing is recorded; the use case refuses it as well."""
    platform = journey.platform
    first, second = examiner(platform, "first"), examiner(platform, "second")
    review = invalidated_and_sent(journey, first, forced=False)
    contest(journey)
    appeals.take_appeal(journey.ctx, review.id, second)
    limit = LIMITS["appeal_answer"]
    typed = long_answer(limit + 1)
    assert (
        refused(
            appeals.decide_appeal,
            journey.ctx,
            review.id,
            examiner_id=second,
            outcome=AppealOutcome.OVERTURNED,
            answer=typed,
        )
        == "APPEAL-DECISION"
    )
    appeal_page = f"/examiner/appeals/{review.id}"
    with logged_in(platform, "/staff/login", "second@example.org") as client:
        client.get(f"/lang/{language}")
        page = client.get(appeal_page).text
        assert re.search(rf'<textarea id="answer" name="answer"[^>]*maxlength="{limit}"', page)
        head = platform.ctx.store.head()
        sent = post_form(
            client, appeal_page, f"{appeal_page}/decide", outcome="overturned", answer=typed
        )
        assert sent.status_code == 409
        said = html.unescape(sent.text)
        assert ANSWER_TOO_LONG[language] in said
        assert re.search(r'<textarea id="answer"[^>]*aria-invalid="true"', said)
        assert f"{typed}</textarea>" in said and 'value="overturned" checked' in said
        # Beside the field: after its label, not above the whole form.
        label = said.index('<label for="answer">')
        assert label < said.index('id="decision-error"') < said.index('<textarea id="answer"')
        assert platform.ctx.store.head() == head


def test_the_second_examiners_answer_at_its_limit_is_recorded_and_far_past_it_refused_at_the_edge(
    journey: Journey,
) -> None:
    """At the bound the answer is recorded and sent as written; past KEPT_TIMES it, it is
    no typing: refused before the handler naming the field, never echoed in the page."""
    platform = journey.platform
    first, second = examiner(platform, "first"), examiner(platform, "second")
    review = invalidated_and_sent(journey, first, forced=False)
    contest(journey)
    appeals.take_appeal(journey.ctx, review.id, second)
    limit = LIMITS["appeal_answer"]
    appeal_page = f"/examiner/appeals/{review.id}"
    with logged_in(platform, "/staff/login", "second@example.org") as client:
        head = platform.ctx.store.head()
        far = post_form(
            client, appeal_page, f"{appeal_page}/decide", outcome="overturned", answer="x" * 16_001
        )
        assert far.status_code == 400
        assert "x" * 1_000 not in far.text
        assert (
            "« Réponse écrite au candidat » est trop long : pas plus de 4\u202f000 caractères."
            in html.unescape(far.text)
        )
        assert platform.ctx.store.head() == head
        typed = long_answer(limit)
        play_the_recording(client, platform, review)  # APPEAL-VIEWED
        sent = post_form(
            client, appeal_page, f"{appeal_page}/decide", outcome="overturned", answer=typed
        )
        assert sent.status_code in (302, 303), sent.text[-400:]
    decided = platform.ctx.store.get(review.id, Review).appeal
    assert decided is not None and decided.answer == typed


# --- APPEAL-VIEWED: overturning needs the recording played -----------------------------------


def test_an_appeal_is_not_overturned_by_an_examiner_who_never_played_the_recording(
    journey: Journey,
) -> None:
    """A user's tour: a second examiner granted an appeal without ever pressing play. The
    page says so before « Enregistrer », the decision is refused (APPEAL-VIEWED) in the
    examiner's words, then recorded once they played it, with that fact shown beside it."""
    platform = journey.platform
    first, second = examiner(platform, "first"), examiner(platform, "second")
    review = invalidated_and_sent(journey, first, forced=False)
    contest(journey)
    appeals.take_appeal(journey.ctx, review.id, second)
    appeal_page = f"/examiner/appeals/{review.id}"
    with logged_in(platform, "/staff/login", "second@example.org") as client:
        page = html.unescape(client.get(appeal_page).text)
        assert 'data-played="false"' in page
        assert "Vous n'avez pas encore lu l'enregistrement" in page
        head = platform.ctx.store.head()
        refused = post_form(
            client, appeal_page, f"{appeal_page}/decide", outcome="overturned", answer=ANSWER
        )
        assert refused.status_code == 409
        assert "Pour valider l'examen en appel, lisez d'abord l'enregistrement" in (
            html.unescape(refused.text)
        )
        alert = re.search(r'id="decision-error"><p>(.*?)</p>', refused.text, re.S)
        assert alert is not None and "APPEAL-VIEWED" not in alert.group(1)  # never a code
        assert platform.ctx.store.head() == head  # nothing recorded
        play_the_recording(client, platform, review)
        client.get("/lang/en")
        page = html.unescape(client.get(appeal_page).text)
        assert 'data-played="true"' in page
        assert "You have played the recording: your decision records it." in page
        done = post_form(
            client, appeal_page, f"{appeal_page}/decide", outcome="overturned", answer=ANSWER
        )
        assert done.status_code in (302, 303), done.text[-400:]
        shown = html.unescape(client.get(appeal_page).text)
        assert 'data-viewed="true"' in shown
        assert "The second examiner had played the recording before deciding." in shown
    decided = platform.ctx.store.get(review.id, Review)
    assert decided.appeal is not None and decided.appeal.recording_viewed is True
    events = [e for e in platform.ctx.store.history(review.id)]
    (appeal_decided,) = [e for e in events if isinstance(e, Review.AppealDecided)]
    assert appeal_decided.recording_viewed is True


def test_upholding_records_whether_the_recording_was_played_appeal_viewed(
    journey: Journey,
) -> None:
    """Upholding is not refused (the invalidation stands), but the decision says whether
    the second examiner had played the recording, on the page in both languages."""
    platform = journey.platform
    first, second = examiner(platform, "first"), examiner(platform, "second")
    review = invalidated_and_sent(journey, first, forced=False)
    contest(journey)
    appeals.take_appeal(journey.ctx, review.id, second)
    appeal_page = f"/examiner/appeals/{review.id}"
    with logged_in(platform, "/staff/login", "second@example.org") as client:
        done = post_form(
            client, appeal_page, f"{appeal_page}/decide", outcome="upheld", answer=ANSWER
        )
        assert done.status_code in (302, 303), done.text[-400:]
        shown = html.unescape(client.get(appeal_page).text)
        assert 'data-viewed="false"' in shown
        assert "Le second examinateur n'avait pas lu l'enregistrement avant de décider." in shown
    decided = platform.ctx.store.get(review.id, Review)
    assert decided.appeal is not None and decided.appeal.recording_viewed is False


def test_the_domain_refuses_to_overturn_unwatched_and_replays_older_decisions_appeal_viewed(
    journey: Journey,
) -> None:
    """At the use-case level: `recording_viewed=False` refuses an overturn (APPEAL-VIEWED),
    nothing recorded; an older decision, recorded before the rule (None), reads as before."""
    platform = journey.platform
    first, second = examiner(platform, "first"), examiner(platform, "second")
    review = invalidated_and_sent(journey, first, forced=False)
    contest(journey)
    appeals.take_appeal(journey.ctx, review.id, second)
    head = platform.ctx.store.head()
    with pytest.raises(RuleBroken) as refused:
        appeals.decide_appeal(
            journey.ctx,
            review.id,
            examiner_id=second,
            outcome=AppealOutcome.OVERTURNED,
            answer=ANSWER,
            recording_viewed=False,
        )
    assert refused.value.rule == "APPEAL-VIEWED"
    assert platform.ctx.store.head() == head
    appeals.decide_appeal(
        journey.ctx, review.id, examiner_id=second, outcome=AppealOutcome.OVERTURNED, answer=ANSWER
    )
    decided = platform.ctx.store.get(review.id, Review)
    assert decided.appeal is not None and decided.appeal.recording_viewed is None
