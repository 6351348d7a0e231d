"""A person's name holds letters, not markup, symbols or emoji: it is printed on the
certificate and in every mail (a user's tour enrolled « <b>Zoé</b> 😀 » and
« <script>alert('x')</script> »; escaped everywhere, but printed as typed)."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from domain.bounds import name_problem
from domain.candidate import Candidate
from domain.errors import NotAName
from tests.acceptance.test_operator_pages import client, enrol_from_form, platform  # noqa: F401

AT = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
NAMES = ["Zoé", "Jean-Luc", "O'Brien", "N’Diaye", "St. John", "Durand, dit Alex", "Nguyễn", "李"]
NOT_NAMES = ["<b>Zoé</b>", "Zoé 😀", "Bob & Co", 'Al "Bo"', "a\u0000b", "x=1", "Zoé\u200b"]


@pytest.mark.parametrize("name", NAMES)
def test_a_name_of_letters_spaces_hyphens_and_apostrophes_is_one(name: str) -> None:
    assert name_problem("surname", name) is None


@pytest.mark.parametrize("name", NOT_NAMES)
def test_markup_symbols_emoji_and_control_characters_are_no_name(name: str) -> None:
    assert isinstance(name_problem("surname", name), NotAName)


@given(st.text(min_size=1, max_size=20))
def test_a_name_is_refused_exactly_when_it_holds_a_symbol_a_control_or_markup(text: str) -> None:
    def allowed(c: str) -> bool:
        return (
            c in " -'’.,()"
            or unicodedata.category(c)[:1] in ("L", "M")
            or (unicodedata.category(c) == "Nd")
        )

    assert (name_problem("first_name", text) is None) == all(map(allowed, text))


def test_a_refused_registration_records_nothing() -> None:
    with pytest.raises(NotAName) as refused:
        Candidate.register(
            candidate_id=uuid4(),
            email="zoe@example.org",
            surname="<b>Zoé</b> 😀",
            first_name="Zoé",
            at=AT,
        )
    assert refused.value.field == "surname"


def test_the_centre_s_form_refuses_it_beside_the_field_and_keeps_what_was_typed(
    client: TestClient[Any],  # noqa: F811 (the shared fixture)
    platform: Platform,  # noqa: F811
) -> None:
    head = platform.ctx.store.head()
    page = enrol_from_form(client, surname="<b>Zoé</b> 😀")
    text = page.text.replace("\u00a0", " ")
    assert "Nom : des lettres, avec espaces, traits d'union ou apostrophes ; ni balises" in text
    assert re.search(r'id="surname"[^\n]*aria-invalid="true"', page.text)
    assert 'value="<b>Zoé</b> 😀"' in page.text  # as typed (the page's entities decoded)
    assert platform.ctx.store.head() == head
