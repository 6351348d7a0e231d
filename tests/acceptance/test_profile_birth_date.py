"""R11: the portal profile refuses a birth date no candidate can have. A user's tour typed
03/02/2031: it was recorded, and the portal went on to say « Votre certificat est établi
avec ces informations ». The date is now said wrong beside its field, in the candidate's
language, with the profile's other wrong fields, and nothing is recorded."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from domain.candidate import Candidate
from tests.acceptance.test_mail_language_and_portal_words import PASSWORD, client_of, enrolled
from tests.acceptance.web import form_token, log_in
from ui.journey import Journey, make_platform


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = make_platform()
    yield platform
    platform.close()


def at_the_profile(platform: Platform, language: str) -> tuple[Journey, TestClient[Any], str]:
    email = f"{language}@example.org"
    journey = enrolled(platform, email, language)
    journey.create_session()
    journey.set_password(PASSWORD)
    attempt_id = journey.through_checks()
    client = client_of(platform)
    log_in(client, "/login", email, PASSWORD)
    return journey, client, f"/portal/{attempt_id}"


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


def plain(text: str) -> str:
    """The page's text with its no-break spaces read as spaces."""
    return html.unescape(text).replace("\u00a0", " ")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_birth_date_to_come_or_before_1900_is_refused_beside_its_field_r11(
    platform: Platform, language: str
) -> None:
    journey, client, page = at_the_profile(platform, language)
    email = f"{language}@example.org"
    today = platform.ctx.now().date()
    try:
        for typed, said in (
            ("2031-02-03", "future"),
            ((today + timedelta(days=1)).isoformat(), "future"),
            ("1899-12-31", "old"),
        ):
            refused = client.post(
                f"{page}/profile",
                data={"_csrf_token": form_token(client, page), **profile(email, typed)},
            )
            assert refused.status_code == 409, typed
            assert SAID[language][said] in plain(refused.text), typed
            # The page's script asks for the refusal alone: it names the field, to be shown
            # beside it (journey.js).
            fragment = client.post(
                f"{page}/profile",
                data={"_csrf_token": form_token(client, page), **profile(email, typed)},
                headers={"x-vigie-fragment": "1"},
            )
            assert fragment.status_code == 409
            assert 'data-field="birth_date"' in fragment.text
            assert "R11" not in fragment.text and "data-rule=" not in fragment.text
        assert journey.candidate_id is not None
        assert not platform.ctx.store.get(journey.candidate_id, Candidate).profile_complete
        # Today itself is a birth date (a candidate born today is not refused by this rule).
        kept = client.post(
            f"{page}/profile",
            data={
                "_csrf_token": form_token(client, page),
                **profile(email, today.isoformat()),
            },
        )
        assert kept.status_code == 200, kept.text
        saved = platform.ctx.store.get(journey.candidate_id, Candidate).profile
        assert saved is not None and saved.birth_date == today
    finally:
        client.__exit__(None, None, None)


def test_the_date_is_named_with_every_other_wrong_field_at_once_r11(platform: Platform) -> None:
    """It joins the profile's other refusals (profile_problems), each beside its field in the
    form's order; a date that cannot be read is said once, as such."""
    journey, client, page = at_the_profile(platform, "fr")
    try:
        wrong = profile("fr@example.org", "2031-02-03", civility="", birth_place="")
        fragment = client.post(
            f"{page}/profile",
            data={"_csrf_token": form_token(client, page), **wrong},
            headers={"x-vigie-fragment": "1"},
        )
        assert fragment.status_code == 409
        fields = re.findall(r'data-field="(\w+)"', fragment.text)
        assert fields == ["civility", "birth_date", "birth_place"]
        assert SAID["fr"]["future"] in plain(fragment.text)
        unreadable = client.post(
            f"{page}/profile",
            data={
                "_csrf_token": form_token(client, page),
                **profile("fr@example.org", "03/02/2031"),
            },
            headers={"x-vigie-fragment": "1"},
        )
        assert re.findall(r'data-field="(\w+)"', unreadable.text) == ["birth_date"]
        assert "indiquez le jour, le mois et l'année" in plain(unreadable.text)
        assert journey.candidate_id is not None
        assert not platform.ctx.store.get(journey.candidate_id, Candidate).profile_complete
    finally:
        client.__exit__(None, None, None)
