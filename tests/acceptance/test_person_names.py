"""One way to write a candidate's name on staff pages (a reviewer's tour): the same person read
« MARTIN, Camille » on the examiner's page, « MARTIN Camille » in the centre's list and
« Camille MARTIN » at the hotline, and a candidate enrolled as « dupont / jean » read
« DUPONT jean » in the centre's list and « jean dupont » in its confirmation and on the
accommodation page. Now « Jean DUPONT » in a sentence or a page's facts, « DUPONT Jean » in a
list of people (app.person_names), while the log keeps « dupont / jean » as typed: the
certificate prints the stored name."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app.mail_rendering import SupportContact
from app.person_names import given_name_words, name_in_list, name_in_text
from app.use_cases import accounts
from domain.candidate import Candidate
from domain.staff import Role
from tests.acceptance.web import form_token, log_in, platform_on
from ui.web.app import create_app

SECRET = b"n" * 32
PASSWORD = "staff-pass-1"


@pytest.mark.parametrize(
    ("surname", "first_name", "in_text", "in_list"),
    [
        ("Martin", "Camille", "Camille MARTIN", "MARTIN Camille"),
        ("dupont", "jean", "Jean DUPONT", "DUPONT Jean"),
        ("Durand", "jean-pierre", "Jean-Pierre DURAND", "DURAND Jean-Pierre"),
        ("leroy", "élodie", "Élodie LEROY", "LEROY Élodie"),
        (
            "de la fontaine",
            " marie  josé ",
            "Marie José DE LA FONTAINE",
            "DE LA FONTAINE Marie José",
        ),
        ("Lefèvre", "ève-anne", "Ève-Anne LEFÈVRE", "LEFÈVRE Ève-Anne"),
        # A capital anywhere: written so on purpose, shown as typed.
        ("O'Neil", "Anne-marie", "Anne-marie O'NEIL", "O'NEIL Anne-marie"),
        ("Brown", "DeShawn", "DeShawn BROWN", "BROWN DeShawn"),
        # A learning platform may give no given name (app.lti writes « - »), or none at all.
        ("Petit", "", "PETIT", "PETIT"),
    ],
)
def test_a_name_reads_given_name_first_in_text_and_surname_first_in_a_list(
    surname: str, first_name: str, in_text: str, in_list: str
) -> None:
    assert name_in_text(surname, first_name) == in_text
    assert name_in_list(surname, first_name) == in_list


def test_only_a_given_name_typed_all_in_lower_case_is_capitalised() -> None:
    assert given_name_words("jean-pierre") == "Jean-Pierre"
    assert given_name_words("JEAN") == "JEAN"  # capitals typed on purpose: as typed
    assert given_name_words("Jean-pierre") == "Jean-pierre"


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = platform_on(SECRET, 11)
    for email, role in (("centre@example.org", Role.CENTRE), ("agent@example.org", Role.SUPPORT)):
        accounts.register_staff(platform.ctx, email=email, name=email, role=role, password=PASSWORD)
    platform.projections.catch_up(platform.ctx.store)
    yield platform
    platform.close()


def shown(reply: Any) -> str:
    """What a person reads: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", reply.text)).split())


def test_a_name_typed_in_lower_case_reads_one_way_on_the_centres_and_the_hotlines_pages(
    platform: Platform,
) -> None:
    app = create_app(platform, secret=SECRET, support=SupportContact())
    with TestClient(app) as centre:
        log_in(centre, "/staff/login", "centre@example.org", PASSWORD)
        enrolled = centre.post(
            "/operator/enrol",
            data={
                "email": "jean.dupont@example.org",
                "surname": "dupont",
                "first_name": "jean",
                "certification_code": "ENI-ACCESS",
                "language": "fr",
                "_csrf_token": form_token(centre, "/operator"),
            },
        )
        confirmation = shown(enrolled)
        listed = re.search(r'<span class="centre-name">([^<]*)</span>', enrolled.text)
        accommodation = re.search(
            r'href="(/operator/enrolments/[^"]+/accommodation)"', enrolled.text
        )
        assert accommodation is not None
        granted = centre.get(accommodation.group(1))
    # The confirmation, a sentence; the list, by surname; the accommodation page's facts.
    assert "Jean DUPONT (jean.dupont@example.org) est inscrit(e)" in confirmation
    assert listed is not None and listed.group(1) == "DUPONT Jean"
    assert '<dd class="centre-name">Jean DUPONT</dd>' in granted.text
    assert "jean dupont" not in confirmation and "DUPONT jean" not in enrolled.text

    with TestClient(app) as agent:
        log_in(agent, "/staff/login", "agent@example.org", PASSWORD)
        found = agent.get("/hotline/", params={"q": "dupont"})
        assert "DUPONT Jean" in shown(found)  # the search's results, a list of people
        case = re.search(r'href="(/hotline/candidates/[^"]+)"', found.text)
        assert case is not None
        file = agent.get(case.group(1))
    assert re.search(r"<h1>\s*Jean DUPONT\s*</h1>", file.text), file.text
    assert "<title>Jean DUPONT — " in file.text

    # Only the display: the log keeps the name as it was typed.
    platform.projections.catch_up(platform.ctx.store)
    candidate_id = platform.projections.find_by_email("jean.dupont@example.org")
    assert candidate_id is not None
    candidate = platform.ctx.store.get(candidate_id, Candidate)
    assert (candidate.surname, candidate.first_name) == ("dupont", "jean")
