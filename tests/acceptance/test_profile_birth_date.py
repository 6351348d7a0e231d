"""R11: the portal profile refuses a birth date no candidate can have. A user's tour typed
03/02/2031: it was recorded, and the portal went on to say « Votre certificat est établi
avec ces informations ». The date is now said wrong beside its field, in the candidate's
language, with the profile's other wrong fields, and nothing is recorded."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from domain.candidate import Candidate
from tests.acceptance.web import Browsers, candidate, form_token, plain
from ui.journey import Journey


def at_the_profile(
    platform: Platform, browser: Browsers, language: str
) -> tuple[Journey, TestClient[Any], str]:
    journey = candidate(platform, f"{language}@example.org", language)
    attempt_id = journey.through_checks()
    return journey, browser.open(journey), f"/portal/{attempt_id}"


def profile(email: str, birth_date: str, **other: str) -> dict[str, str]:
    return {
        "email": email,
        "password": "portail-pass-1",
        "civility": "Madame",
        "surname": "Martin",
        "first_name": "Camille",
        "birth_date": birth_date,
        "birth_place": "Nantes",
        **other,
    }


SAID = {
    "fr": {
        "future": "« Date de naissance » ne peut pas être dans le futur : indiquez celle "
        "de votre pièce d'identité.",
        "old": "« Date de naissance » : une année à partir de 1900, comme sur votre pièce "
        "d'identité.",
    },
    "en": {
        "future": "“Birth date” cannot be in the future: give the one on your ID.",
        "old": "“Birth date”: a year from 1900 on, as on your ID.",
    },
}


def send_profile(
    client: TestClient[Any], page: str, fields: dict[str, str], *, fragment: bool = False
) -> Any:
    """The profile form sent with « Créer »; `fragment`: as the page's script sends it, for
    the refusal alone (journey.js shows each sentence beside its field)."""
    return client.post(
        f"{page}/profile",
        data={"_csrf_token": form_token(client, page), **fields},
        headers={"x-vigie-fragment": "1"} if fragment else {},
    )


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_birth_date_to_come_or_before_1900_is_refused_beside_its_field_r11(
    platform: Platform, browser: Browsers, language: str
) -> None:
    journey, client, page = at_the_profile(platform, browser, language)
    email = f"{language}@example.org"
    today = platform.ctx.now().date()
    for typed, said in (
        ("2031-02-03", "future"),
        ((today + timedelta(days=1)).isoformat(), "future"),
        ("1899-12-31", "old"),
    ):
        refused = send_profile(client, page, profile(email, typed))
        assert refused.status_code == 409, typed
        assert SAID[language][said] in plain(refused.text), typed
        # The page's script asks for the refusal alone: it names the field, to be shown
        # beside it (journey.js).
        fragment = send_profile(client, page, profile(email, typed), fragment=True)
        assert fragment.status_code == 409
        assert 'data-field="birth_date"' in fragment.text
        assert "R11" not in fragment.text and "data-rule=" not in fragment.text
    assert journey.candidate_id is not None
    assert not platform.ctx.store.get(journey.candidate_id, Candidate).profile_complete
    # Today itself is a birth date (a candidate born today is not refused by this rule).
    kept = send_profile(client, page, profile(email, today.isoformat()))
    assert kept.status_code == 200, kept.text
    saved = platform.ctx.store.get(journey.candidate_id, Candidate).profile
    assert saved is not None and saved.birth_date == today


def test_the_date_is_named_with_every_other_wrong_field_at_once_r11(
    platform: Platform, browser: Browsers
) -> None:
    """It joins the profile's other refusals (profile_problems), each beside its field in the
    form's order; a date that cannot be read is said once, as such."""
    journey, client, page = at_the_profile(platform, browser, "fr")
    wrong = profile("fr@example.org", "2031-02-03", civility="", birth_place="")
    fragment = send_profile(client, page, wrong, fragment=True)
    assert fragment.status_code == 409
    fields = re.findall(r'data-field="(\w+)"', fragment.text)
    assert fields == ["civility", "birth_date", "birth_place"]
    assert SAID["fr"]["future"] in plain(fragment.text)
    unreadable = send_profile(client, page, profile("fr@example.org", "03/02/2031"), fragment=True)
    assert re.findall(r'data-field="(\w+)"', unreadable.text) == ["birth_date"]
    assert "indiquez le jour, le mois et l'année" in plain(unreadable.text)
    assert journey.candidate_id is not None
    assert not platform.ctx.store.get(journey.candidate_id, Candidate).profile_complete
