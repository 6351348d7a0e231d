"""R2, a user's tour: Jules created his session « avec surveillance en direct », then took and
sent the whole exam at once, unsupervised; the hotline's page still read « Créneau de
surveillance : pas encore réservé » and offered « Réserver le créneau » for an exam already
sent. Now a live-supervised session opens only around the slot the hotline booked (from 15
minutes before it to 30 after, rules-2026-12-live-slot), « Mes examens » says where it stands
in her language, a refused entry records nothing, and the hotline books a slot only while it
can still matter. A session frozen under an older rule set enters as it always did."""

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
from app.use_cases import accounts, hotline, proctoring
from domain.enrollment import Enrollment
from domain.proctored_session import ProctoredSession
from domain.rules import CURRENT_RULES, RULES_2026_12, RuleSet
from domain.staff import Role
from tests.acceptance.web import CANDIDATE_PASSWORD, Browsers, form_token, log_in, plain
from ui.journey import PARIS, Journey
from ui.web.app import create_app

AGENT = "agent@hotline.example.org"
SUPPORT = SupportContact()
# The platform's clock starts on Monday 27/01/2025 at 09:00, Paris time.
WEDNESDAY_10 = datetime(2025, 1, 29, 10, 0, tzinfo=PARIS)
THURSDAY_14 = datetime(2025, 1, 30, 14, 0, tzinfo=PARIS)

WORDS = {
    "fr": {
        "no_slot": [
            "Votre session sera surveillée en direct par notre examinateur sur nos heures de "
            "bureau.",
            "Vous n'avez pas encore de créneau : merci de prendre contact avec notre service à "
            f"l'adresse {SUPPORT.email} afin de convenir de la date et l'heure.",
            f"En cas d'urgence, vous pouvez nous appeler au {SUPPORT.phone}.",
            "Vous n'avez rien d'autre à faire d'ici là : l'examen s'ouvrira à votre créneau.",
        ],
        "too_early": [
            "Votre créneau de surveillance en direct : mercredi 29 janvier 2025 à 10:00 "
            "(heure de Paris).",
            "L'examen s'ouvre à 09:45, 15 minutes avant votre créneau, et peut être commencé "
            "jusqu'à 10:30.",
        ],
        "open": [
            "Votre créneau de surveillance en direct : mercredi 29 janvier 2025 à 10:00 "
            "(heure de Paris). L'examen est ouvert : commencez-le au plus tard à 10:30."
        ],
        "missed": [
            "Votre créneau de surveillance en direct (mercredi 29 janvier 2025 à 10:00 "
            "(heure de Paris)) est passé : l'examen pouvait être commencé jusqu'à 10:30.",
            f"Contactez notre service à l'adresse {SUPPORT.email} ou au {SUPPORT.phone} pour "
            "réserver un autre créneau",
        ],
        "rebooked": ["jeudi 30 janvier 2025 à 14:00 (heure de Paris)", "s'ouvre à 13:45"],
        "refused": "Cet examen est surveillé en direct : il ne s'ouvre qu'à l'heure du "
        "créneau convenu avec la hotline.",
        "button": "Examen",
    },
    "en": {
        "no_slot": [
            "Your session will be supervised live by our examiner during office hours.",
            f"You have no slot yet: please contact our hotline at {SUPPORT.email} to agree the "
            "date and time.",
            f"Urgent? Call us on {SUPPORT.phone}.",
            "Nothing else to do until then: the exam opens at your slot.",
        ],
        "too_early": [
            "Your live-supervision slot: Wednesday, 29 January 2025 at 10:00 (Paris time).",
            "The exam opens at 09:45, 15 minutes before your slot, and can be started until 10:30.",
        ],
        "open": [
            "Your live-supervision slot: Wednesday, 29 January 2025 at 10:00 (Paris time). "
            "The exam is open: start it by 10:30."
        ],
        "missed": [
            "Your live-supervision slot (Wednesday, 29 January 2025 at 10:00 (Paris time)) has "
            "passed: the exam could be started until 10:30.",
            f"Contact our hotline at {SUPPORT.email} or on {SUPPORT.phone} to book another slot",
        ],
        "rebooked": ["Thursday, 30 January 2025 at 14:00 (Paris time)", "opens at 13:45"],
        "refused": "This exam is supervised live: it opens only around the slot agreed with "
        "the hotline.",
        "button": "Exam",
    },
}


@pytest.fixture
def agent(platform: Platform) -> Any:
    return accounts.register_staff(
        platform.ctx, email=AGENT, name="Sacha Hotline", role=Role.SUPPORT, password="staff-pass-1"
    )


def live_candidate(
    platform: Platform, language: str, rules: RuleSet = CURRENT_RULES, email: str = ""
) -> Journey:
    """Jules, enrolled under `rules`, his session created « avec surveillance en direct »."""
    journey = Journey(platform, email=email or f"jules.{language}@example.org", language=language)
    journey.enrol(rules)
    journey.set_password(CANDIDATE_PASSWORD)
    journey.create_session(live_supervision=True)
    assert journey.candidate_id is not None
    proctoring.accept_terms(platform.ctx, journey.candidate_id)  # R5, at her first log-in
    return journey


def card(page: str) -> str:
    """The exam's card on « Mes examens », as read: tags gone, entities and spaces read."""
    found = re.search(r'<article class="card exam-card".*?</article>', page, re.S)
    assert found is not None
    said = " ".join(plain(re.sub(r"<[^>]+>", " ", found.group(0))).split())
    return said.replace(" .", ".").replace(" ,", ",").replace(" )", ")")


def offers_entry(page: str, journey: Journey) -> bool:
    return f'action="/exams/{journey.session_id}/enter"' in page


def enter(client: TestClient[Any], journey: Journey) -> Any:
    return client.post(
        f"/exams/{journey.session_id}/enter",
        data={"_csrf_token": form_token(client, "/exams")},
        follow_redirects=False,
    )


def recorded(platform: Platform, journey: Journey) -> int:
    """How many facts the session and its enrolment hold."""
    store = platform.ctx.store
    assert journey.session_id is not None and journey.enrollment_id is not None
    return len(store.history(journey.session_id)) + len(store.history(journey.enrollment_id))


def book(platform: Platform, journey: Journey, slot: datetime, by: Any) -> None:
    assert journey.enrollment_id is not None
    hotline.book_live(platform.ctx, journey.enrollment_id, slot=slot, by=by)


# --- the candidate's page, in each state ------------------------------------------------------


@pytest.mark.parametrize("language", ["fr", "en"])
def test_with_no_slot_yet_she_is_told_to_agree_one_with_the_hotline_and_nothing_opens_r2(
    platform: Platform, browser: Browsers, language: str
) -> None:
    words = WORDS[language]
    journey = live_candidate(platform, language)
    client = browser.open(journey, language)
    page = client.get("/exams").text
    said = card(page)
    for sentence in words["no_slot"]:
        assert sentence in said, said
    assert f'href="mailto:{SUPPORT.email}"' in page
    assert not offers_entry(page, journey)  # nothing else to do: no « Examen »

    # The entry itself (a page left open, the API): refused, said, nothing recorded.
    before = recorded(platform, journey)
    refused = enter(client, journey)
    assert refused.status_code == 409
    assert words["refused"] in card(refused.text)
    assert words["no_slot"][1] in card(refused.text)
    assert recorded(platform, journey) == before
    assert platform.ctx.store.get(journey.session_id, ProctoredSession).entries == 0  # type: ignore[arg-type]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_booked_slot_is_said_in_her_words_and_the_exam_opens_15_minutes_before_it_r2(
    platform: Platform, browser: Browsers, agent: Any, language: str
) -> None:
    words = WORDS[language]
    journey = live_candidate(platform, language)
    book(platform, journey, WEDNESDAY_10, agent)
    client = browser.open(journey, language)

    page = client.get("/exams").text  # Monday 09:00: too early
    for sentence in words["too_early"]:
        assert sentence in card(page), card(page)
    assert not offers_entry(page, journey)
    before = recorded(platform, journey)
    assert enter(client, journey).status_code == 409
    assert recorded(platform, journey) == before

    journey.clock.set(datetime(2025, 1, 29, 9, 44, 59, tzinfo=PARIS))
    assert not offers_entry(client.get("/exams").text, journey)
    journey.clock.set(datetime(2025, 1, 29, 9, 45, tzinfo=PARIS))  # the window opens
    page = client.get("/exams").text
    assert words["open"][0] in card(page), card(page)
    assert offers_entry(page, journey)
    assert f">{words['button']}</button>" in page
    entered = enter(client, journey)
    assert entered.status_code in (302, 303)
    assert entered.headers["location"] == f"/exams/{journey.session_id}"
    assert platform.ctx.store.get(journey.session_id, ProctoredSession).entries == 1  # type: ignore[arg-type]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_missed_slot_says_to_book_another_and_the_hotline_can_r2(
    platform: Platform, browser: Browsers, agent: Any, language: str
) -> None:
    words = WORDS[language]
    journey = live_candidate(platform, language)
    book(platform, journey, WEDNESDAY_10, agent)
    journey.clock.set(datetime(2025, 1, 29, 10, 30, 1, tzinfo=PARIS))  # the window closed
    client = browser.open(journey, language)
    page = client.get("/exams").text
    for sentence in words["missed"]:
        assert sentence in card(page), card(page)
    assert not offers_entry(page, journey)
    before = recorded(platform, journey)
    refused = enter(client, journey)
    assert refused.status_code == 409 and words["refused"] in card(refused.text)
    assert recorded(platform, journey) == before

    # The hotline books another slot after the missed one; the exam opens around it.
    book(platform, journey, THURSDAY_14, agent)
    page = client.get("/exams").text
    for words_of_it in words["rebooked"]:
        assert words_of_it in card(page), card(page)
    journey.clock.set(datetime(2025, 1, 30, 14, 30, tzinfo=PARIS))
    assert enter(client, journey).status_code in (302, 303)


def test_a_refused_entry_through_the_api_records_nothing(
    platform: Platform, browser: Browsers
) -> None:
    journey = live_candidate(platform, "fr")
    client = browser.open(journey)
    before = recorded(platform, journey)
    reply = client.post(
        f"/api/sessions/{journey.session_id}/enter",
        json={},
        headers={"x-csrftoken": client.cookies.get("vigie_csrf") or ""},
    )
    assert reply.status_code == 409, reply.text
    assert recorded(platform, journey) == before


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_session_frozen_under_an_older_rule_set_enters_as_before_r2(
    platform: Platform, browser: Browsers, language: str
) -> None:
    """rules-2026-12 had no window: its live sessions enter at any time, slot or none."""
    journey = live_candidate(platform, language, rules=RULES_2026_12)
    client = browser.open(journey, language)
    page = client.get("/exams").text
    assert 'data-live="' not in page  # no slot panel: the page as it was
    assert offers_entry(page, journey)
    assert enter(client, journey).status_code in (302, 303)
    session = platform.ctx.store.get(journey.session_id, ProctoredSession)  # type: ignore[arg-type]
    assert session.rules is not CURRENT_RULES and session.rules == RULES_2026_12
    assert session.entries == 1


# --- the hotline's page -----------------------------------------------------------------------


@pytest.fixture
def desk(platform: Platform, agent: Any) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(platform, secret=b"l" * 32, support=SUPPORT)) as client:
        log_in(client, "/staff/login", AGENT, "staff-pass-1")
        yield client


def case_file(desk: TestClient[Any], journey: Journey, language: str) -> str:
    desk.get(f"/lang/{language}")
    return html.unescape(desk.get(f"/hotline/candidates/{journey.candidate_id}").text)


def books(page: str, journey: Journey) -> bool:
    return f'action="/hotline/enrolments/{journey.enrollment_id}/book-live"' in page


HOTLINE = {
    "fr": {
        "sent": "Réserver le créneau — L'examen du candidat a été envoyé, ou il l'a quitté "
        "définitivement : cette session est terminée, un créneau ne servirait plus à rien.",
        "no_slot": "aucun : le candidat est entré dans la session d'examen sans créneau réservé",
        "entered": "Réserver le créneau — Le candidat est déjà entré dans la session d'examen",
        "missed": "manqué : l'entrée fermait à 10:30. Convenez d'un autre créneau avec le "
        "candidat.",
    },
    "en": {
        "sent": "Book the slot — The candidate's exam was sent, or they left it for good: this "
        "session is over, a slot would serve no purpose.",
        "no_slot": "none: the candidate entered the exam session without a booked slot",
        "entered": "Book the slot — The candidate has already entered the exam session",
        "missed": "missed: the entry closed at 10:30. Agree another slot with the candidate.",
    },
}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_hotline_no_longer_offers_a_slot_for_an_exam_already_sent_r2_r18(
    platform: Platform, desk: TestClient[Any], language: str
) -> None:
    """The tour's case: a session of old (no window) taken and sent with no slot."""
    journey = live_candidate(platform, language, rules=RULES_2026_12, email="jules@example.org")
    assert books(case_file(desk, journey, language), journey)  # still to take: offered
    journey.through_checks()
    journey.start_exam()
    journey.answer_and_send()
    platform.settle()
    page = case_file(desk, journey, language)
    assert not books(page, journey)
    assert " ".join(HOTLINE[language]["sent"].split()) in " ".join(
        re.sub(r"<[^>]+>", " ", page).split()
    )
    assert HOTLINE[language]["no_slot"] in page

    # Posted anyway (a page left open): refused with the same sentence, nothing recorded.
    before = len(platform.ctx.store.history(journey.enrollment_id))  # type: ignore[arg-type]
    reply = desk.post(
        f"/hotline/enrolments/{journey.enrollment_id}/book-live",
        data={
            "slot": "2025-01-29T10:00",
            "_csrf_token": form_token(desk, f"/hotline/candidates/{journey.candidate_id}"),
        },
    )
    assert reply.status_code == 409
    assert HOTLINE[language]["sent"].split(" — ", 1)[1] in html.unescape(reply.text)
    assert len(platform.ctx.store.history(journey.enrollment_id)) == before  # type: ignore[arg-type]
    assert platform.ctx.store.get(journey.enrollment_id, Enrollment).supervision_slot is None  # type: ignore[arg-type]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_hotline_sees_a_missed_slot_and_books_another_then_none_once_entered_r2(
    platform: Platform, desk: TestClient[Any], agent: Any, language: str
) -> None:
    journey = live_candidate(platform, language, email="ines@example.org")
    book(platform, journey, WEDNESDAY_10, agent)
    journey.clock.set(datetime(2025, 1, 29, 11, 0, tzinfo=PARIS))
    page = case_file(desk, journey, language)
    assert HOTLINE[language]["missed"] in page
    assert books(page, journey)  # a missed slot: another one can be booked
    book(platform, journey, THURSDAY_14, agent)
    journey.clock.set(datetime(2025, 1, 30, 13, 50, tzinfo=PARIS))
    journey.enter()
    page = case_file(desk, journey, language)
    assert not books(page, journey)
    assert HOTLINE[language]["entered"] in " ".join(re.sub(r"<[^>]+>", " ", page).split())
    # The link for the slot may still go: she entered a few minutes early.
    assert f'action="/hotline/enrolments/{journey.enrollment_id}/send-live-link"' in page
