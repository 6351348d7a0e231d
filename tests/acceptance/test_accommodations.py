"""Accommodations: extra time and other arrangements granted on an enrolment by the centre
before the exam starts, applied to the exam's timer and the 3-hour budget (R4), and shown to
the examiner."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid5

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app.mail_rendering import SupportContact
from app.outbox import MAIL_NAMESPACE
from app.privacy import erase_candidate
from app.use_cases import accommodations, accounts, appeals, portal, reviewing
from domain.enrollment import Enrollment
from domain.errors import RuleBroken
from domain.evidence import ReasonCode, Verdict
from domain.exam_attempt import ExamAttempt
from domain.proctored_session import ProctoredSession
from domain.review import CitedReason, Review
from domain.staff import Role
from tests.acceptance.web import form_token, log_in
from ui.journey import PARIS, Journey, hotline_account
from ui.web import operator
from ui.web.app import create_app

PASSWORD = "staff-pass-123"
EXAM_MINUTES = 90  # ENI-ACCESS


def grant(journey: Journey, percent: int = 33, arrangements: str = "") -> None:
    assert journey.enrollment_id is not None
    accommodations.grant_accommodation(
        journey.ctx,
        journey.enrollment_id,
        granted_by=hotline_account(journey.ctx),
        extra_time_percent=percent,
        arrangements=arrangements,
    )


def session_of(journey: Journey) -> ProctoredSession:
    assert journey.session_id is not None
    return journey.ctx.store.get(journey.session_id, ProctoredSession)


def test_extra_time_extends_the_timer_of_the_exam(journey: Journey) -> None:
    journey.enrol()
    grant(journey, 33, "pauses autorisées, bouchons d'oreille")
    journey.create_session()
    journey.through_checks()
    begun = journey.ctx.now()
    ends_at = journey.start_exam()

    # 90 minutes + 33 % = 119.7, rounded up in the candidate's favour.
    assert ends_at - begun == timedelta(minutes=120)
    assert abs((ends_at - begun) - timedelta(minutes=EXAM_MINUTES * 1.33)) < timedelta(minutes=1)
    attempt = journey.ctx.store.get(journey.attempt_id, ExamAttempt)  # type: ignore[arg-type]
    assert (attempt.duration_minutes, attempt.extra_minutes) == (EXAM_MINUTES, 30)
    journey.clock.advance(minutes=100)  # past the normal 90 minutes: still time left
    assert attempt.remaining_seconds(journey.ctx.now()) == pytest.approx(20 * 60, abs=1)


def test_extra_time_extends_the_3_hour_budget_of_the_proctored_session(
    journey: Journey,
) -> None:
    journey.enrol()
    journey.create_session()
    grant(journey, 33)  # after the session was created, before the first entry
    journey.enter()
    session = session_of(journey)
    assert session.started_at is not None
    assert session.budget_ends_at() == session.started_at + timedelta(minutes=180 + 30)

    journey.clock.advance(minutes=190)  # past 3 hours, within 3 h 30
    journey.pass_attestations()  # R4 would refuse this without the extra time


def test_without_extra_time_the_same_step_is_refused_after_3_hours(journey: Journey) -> None:
    journey.enrol()
    journey.create_session()
    journey.enter()
    journey.clock.advance(minutes=190)
    with pytest.raises(RuleBroken) as refused:
        journey.pass_attestations()
    assert refused.value.rule == "R4"


def test_extra_time_granted_after_the_start_is_refused_and_records_nothing(
    journey: Journey,
) -> None:
    journey.enrol()
    journey.create_session()
    journey.enter()
    hotline_account(journey.ctx)  # who grants, registered before the count
    head = journey.ctx.store.head()
    with pytest.raises(RuleBroken) as refused:
        grant(journey, 33)
    assert refused.value.rule == "ACCOMMODATION-BEFORE-START"
    assert journey.ctx.store.head() == head
    journey.pass_attestations()
    journey.pass_equipment()
    journey.take_photos()
    journey.record_environment()
    journey.start_exam()
    with pytest.raises(RuleBroken) as refused:
        grant(journey, 50)
    assert refused.value.rule == "ACCOMMODATION-BEFORE-START"
    assert session_of(journey).extra_minutes == 0


def test_a_grant_records_who_and_when_and_a_new_grant_replaces_it(journey: Journey) -> None:
    journey.enrol()
    grant(journey, 33, "salle calme")
    journey.clock.advance(hours=2)
    grant(journey, 50)
    assert journey.enrollment_id is not None
    granted = accommodations.accommodation_of_enrollment(journey.ctx, journey.enrollment_id)
    assert granted is not None
    assert (granted.extra_time_percent, granted.arrangements, granted.granted_by) == (
        50,
        "",
        hotline_account(journey.ctx),
    )
    assert granted.granted_at == journey.ctx.now()
    journey.create_session()
    assert session_of(journey).extra_minutes == 45


def test_extra_time_out_of_bounds_is_refused(journey: Journey) -> None:
    journey.enrol()
    with pytest.raises(RuleBroken) as refused:
        grant(journey, 150)
    assert refused.value.rule == "ACCOMMODATION-EXTRA-TIME"
    with pytest.raises(ValueError, match="arrangements"):
        grant(journey, 0, "   ")


# --- through the web ---------------------------------------------------------------------------


@contextmanager
def logged_in(platform: Platform, email: str) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(platform, secret=b"a" * 32, support=SupportContact())) as client:
        log_in(client, "/staff/login", email, PASSWORD)
        yield client


def staff(platform: Platform, name: str, role: Role) -> UUID:
    return accounts.register_staff(
        platform.ctx, email=f"{name}@example.org", name=name, role=role, password=PASSWORD
    )


def test_the_centre_grants_extra_time_and_the_examiner_sees_it(platform: Platform) -> None:
    centre = staff(platform, "centre", Role.CENTRE)
    staff(platform, "other-centre", Role.CENTRE)
    staff(platform, "support", Role.SUPPORT)
    staff(platform, "eve", Role.EXAMINER)
    journey = Journey(platform, centre_id=uuid5(MAIL_NAMESPACE, f"centre:{centre}"))
    journey.enrol()
    page = f"/operator/enrolments/{journey.enrollment_id}/accommodation"

    # The hotline has no accommodation page (403); another centre is told there is no such
    # enrolment (404, as for an id that does not exist: issue 14).
    for who, status in (("support", 403), ("other-centre", 404)):
        with logged_in(platform, f"{who}@example.org") as client:
            assert client.get(page).status_code == status, who
    with logged_in(platform, "centre@example.org") as client:
        assert "accommodation" in client.get("/operator").text
        sent = client.post(
            f"{page}/grant",
            data={
                "extra_time_percent": "33",
                "arrangements": "Pauses autorisées ; lecteur d'écran",
                "_csrf_token": form_token(client, page),
            },
            follow_redirects=False,
        )
        assert sent.status_code in (302, 303), sent.text
        shown = client.get(sent.headers["location"]).text
        assert 'data-percent="33"' in shown
        assert "Aménagement enregistré : l'examinateur le verra" in shown
        assert '<dd class="centre-name">Camille MARTIN</dd>' in shown  # whose enrolment

    journey.create_session()
    journey.through_checks()
    journey.start_exam()
    journey.answer_and_send()
    with logged_in(platform, "eve@example.org") as client:
        review_page = client.get(f"/examiner/reviews/{journey.review_id}")
        assert review_page.status_code == 200
        assert 'id="accommodation"' in review_page.text
        assert "+33 %" in review_page.text
        assert "Pauses autorisées ; lecteur d&#39;écran" in review_page.text


def test_a_refused_grant_through_the_page_names_its_rule(platform: Platform) -> None:
    """The refusal traces to its rule in the page (`data-rule`), and the centre reads the
    sentence alone: « règle ACCOMMODATION-BEFORE-START » followed it, a code to a person."""
    centre = staff(platform, "centre", Role.CENTRE)
    journey = Journey(platform, centre_id=uuid5(MAIL_NAMESPACE, f"centre:{centre}"))
    journey.enrol()
    journey.create_session()
    journey.enter()
    page = f"/operator/enrolments/{journey.enrollment_id}/accommodation"
    with logged_in(platform, "centre@example.org") as client:
        sent = client.post(
            f"{page}/grant",
            data={"extra_time_percent": "33", "_csrf_token": form_token(client, page)},
            follow_redirects=False,
        )
        assert sent.status_code == 409
        assert "Le candidat est déjà entré dans sa session d'examen" in sent.text
        assert '<span class="rule-ref" data-rule="ACCOMMODATION-BEFORE-START"></span>' in sent.text
        assert "règle" not in re.sub(
            r"<[^>]+>", " ", sent.text.split('id="notice"', 1)[1].split("</div>")[0]
        )
        assert 'name="extra_time_percent"' not in sent.text  # no form to try again


def test_once_entered_the_page_is_read_only_and_the_list_does_not_offer_it(
    platform: Platform,
) -> None:
    """The page offered the whole form once the candidate had entered her session, and
    refused only after « Accorder » (409); the list still offered « Aménagements » (a tester's
    tour). Now the page opens with the reason, shows what was granted, and has no form."""
    centre = staff(platform, "centre", Role.CENTRE)
    journey = Journey(platform, centre_id=uuid5(MAIL_NAMESPACE, f"centre:{centre}"))
    journey.enrol()
    grant(journey, 33, "pauses autorisées")
    journey.create_session()
    page = f"/operator/enrolments/{journey.enrollment_id}/accommodation"
    with logged_in(platform, "centre@example.org") as client:
        before = client.get(page)
        assert 'name="extra_time_percent"' in before.text
        assert 'data-outcome="closed"' not in before.text
        assert page in client.get("/operator").text
        journey.enter()
        after = client.get(page)
        assert after.status_code == 200
        notice = after.text.split('id="notice"', 1)[1].split("</div>")[0]
        assert "Le candidat est déjà entré dans sa session d'examen" in html.unescape(notice)
        assert after.text.index('id="notice"') < after.text.index('id="accommodation-for"')
        assert 'data-percent="33"' in after.text  # what was granted, still shown
        assert "<form" not in after.text.split("<main", 1)[-1].split("</main>")[0]
        assert page not in client.get("/operator").text


def test_the_candidate_s_checks_say_her_extra_time_and_when_the_session_ends(
    journey: Journey,
) -> None:
    """« L'examen dure 90 minutes » and « La session surveillée (3 h) » stood beside an end
    3 h 30 later, and no page told her of her extra time (a reviewer's finding)."""
    journey.enrol()
    grant(journey, 33)
    journey.create_session()
    journey.set_password("camille-extra-1")
    journey.enter()
    with TestClient(
        create_app(journey.platform, secret=b"a" * 32, support=SupportContact())
    ) as client:
        log_in(client, "/login", journey.email, "camille-extra-1")
        page = html.unescape(client.get(f"/exams/{journey.session_id}").text)
    extra = round(EXAM_MINUTES * 0.33)
    # The one wording of every screen (test_extra_time_in_one_wording): 90 + 30 = 2 h.
    granted = f"dont {extra} min de temps supplémentaire accordé par votre centre de formation"
    assert f"L'examen dure 2 h, {granted}" in page
    assert f"La session surveillée (3 h {extra}, {granted})" in page
    ends = session_of(journey).budget_ends_at()
    assert ends is not None
    assert ends - journey.clock.now() == timedelta(hours=3, minutes=extra)
    assert f"{ends.astimezone(PARIS):%H:%M}" in page


# --- the centre's list follows the grant's rule, in every state ------------------------------


def _examiner(journey: Journey) -> UUID:
    return staff(journey.platform, "eve", Role.EXAMINER)


def _released(journey: Journey, verdict: Verdict) -> None:
    review = journey.ctx.store.get(journey.sent_for_review(), Review)
    launched = next(e for e in review.evidence if e.kind == "ExamLaunched")
    reasons = (CitedReason(ReasonCode.HEADPHONES, (launched.id,)),)
    eve = _examiner(journey)
    journey.decided(eve, verdict, reasons if verdict is Verdict.INVALIDATED else ())
    reviewing.release_results(journey.ctx, review.id, released_by=eve)


def _appealed(journey: Journey) -> None:
    _released(journey, Verdict.INVALIDATED)
    assert journey.review_id is not None and journey.candidate_id is not None
    appeals.lodge_appeal(
        journey.ctx, journey.review_id, candidate_id=journey.candidate_id, reason="bouchons"
    )


def _expired(journey: Journey) -> None:
    journey.enrol()
    journey.clock.advance(days=120)
    assert journey.platform.tick().expired == [journey.enrollment_id]


def _erased(journey: Journey) -> None:
    journey.enrol()
    journey.create_session()
    assert journey.candidate_id is not None
    platform = journey.platform
    erase_candidate(
        platform.ctx,
        platform.keys,
        platform.projections,
        journey.candidate_id,
        reason="RGPD",
        by="a test",
        system_account="tests@127.0.0.1",
    )


def _finished(journey: Journey) -> None:
    portal.finish_exam(journey.ctx, journey.in_exam())


def _quit(journey: Journey) -> None:
    portal.quit_certification(journey.ctx, journey.in_exam())


def _created(journey: Journey) -> None:
    journey.enrol()
    journey.create_session()


def _entered(journey: Journey) -> None:
    _created(journey)
    journey.enter()


def _ready(journey: Journey) -> None:
    _created(journey)
    journey.through_checks()


# Each state of the centre's list (operator.STATE_WORDS), as a candidate reaches it.
TO_STATE: dict[str, Callable[[Journey], object]] = {
    "invited": Journey.enrol,
    "created": _created,
    "checks": _entered,
    "ready": _ready,
    "exam": Journey.in_exam,
    "finished": _finished,
    "quit": _quit,
    "under review": Journey.sent_for_review,
    "validated": lambda journey: _released(journey, Verdict.VALIDATED),
    "invalidated": lambda journey: _released(journey, Verdict.INVALIDATED),
    "under appeal": _appealed,
    "expired": _expired,
    "erased": _erased,
}


def test_every_state_of_the_list_is_reached_below() -> None:
    """Every state but « closed »: a session closed before its exam was sent or quit, which
    no command does (sending and quitting close it under the attempt's own status)."""
    assert set(TO_STATE) | {"closed"} == set(operator.STATE_WORDS)


@pytest.mark.parametrize("state", TO_STATE)
def test_the_list_offers_accommodations_exactly_where_a_grant_is_taken(
    platform: Platform, state: str
) -> None:
    """The list's « Aménagements » and the grant's refusal come from one rule
    (domain.accommodation.closed_to_grants): the list rebuilt it from status words, and the
    two could part ways at a status it did not foresee."""
    journey = Journey(platform)
    TO_STATE[state](journey)
    platform.settle()
    platform.projections.catch_up(platform.ctx.store)
    [summary] = platform.projections.enrollments.values()
    [row] = operator.roster(platform.projections, {}, [summary])
    assert row.state == state
    enrollment = platform.ctx.store.get(summary.enrollment_id, Enrollment)
    closed = accommodations.closed_to_grants(platform.ctx, enrollment)
    assert (closed is None) is (state in ("invited", "created")), closed
    assert row.takes_accommodations is (closed is None)
