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
from domain.bounds import as_a_name, name_problem
from domain.candidate import Candidate
from domain.errors import NotAName
from tests.acceptance.test_operator_pages import client, enrol_from_form, platform  # noqa: F401

AT = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
NAMES = [
    *("Zoé", "Jean-Luc", "O'Brien", "N’Diaye", "St. John", "Durand, dit Alex", "Nguyễn", "李"),
    # A reviewer's: Catalan's middle dot, a transliteration's dot, Persian's non-joiner, a
    # no-break space pasted from a document, the dash U+2010, apostrophes of every kind.
    *("Gal·la", "居里・斯克", "فر\u200cهاد", "Le\u00a0Gall", "Smith\u2010Jones"),
    *("D`Arc", "Oʼ Neil"),
]
NOT_NAMES = ["<b>Zoé</b>", "Zoé 😀", "Bob & Co", 'Al "Bo"', "a\u0000b", "x=1", "Zoé\u200b"]


@pytest.mark.parametrize("name", NAMES)
def test_a_name_of_letters_spaces_hyphens_and_apostrophes_is_one(name: str) -> None:
    assert name_problem("surname", name) is None


@pytest.mark.parametrize("name", NOT_NAMES)
def test_markup_symbols_emoji_and_control_characters_are_no_name(name: str) -> None:
    assert isinstance(name_problem("surname", name), NotAName)


@given(st.text(min_size=1, max_size=20))
def test_a_name_is_refused_exactly_for_its_first_symbol_control_or_markup(text: str) -> None:
    def allowed(c: str) -> bool:
        return c in " '’‘`.,()·・\u200c\u200d" or unicodedata.category(c) in (
            "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Zs", "Pd"
        )  # fmt: skip

    refused = name_problem("first_name", text)
    wrong = [c for c in text if not allowed(c)]
    assert (refused is None) == (not wrong)
    assert refused is None or refused.character == wrong[0]


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
    assert "Nom : « < » ne peut pas figurer dans un nom : des lettres, avec espaces" in text
    assert re.search(r'id="surname"[^\n]*aria-invalid="true"', page.text)
    assert 'value="<b>Zoé</b> 😀"' in page.text  # as typed (the page's entities decoded)
    assert platform.ctx.store.head() == head


def test_an_invisible_character_is_named_by_its_code_point(
    client: TestClient[Any],  # noqa: F811 (the shared fixture)
) -> None:
    page = enrol_from_form(client, first_name="Han\u200b")  # a zero-width space, pasted
    assert "« U+200B » ne peut pas figurer dans un nom" in page.text.replace("\u00a0", " ")


def test_a_name_another_system_gave_keeps_what_a_name_may_hold() -> None:
    """A learning platform's launch: « jean_dupont » (an e-mail's local part) would have been
    refused with a sentence about a « Nom » field the learner never saw (a reviewer's)."""
    assert as_a_name("jean_dupont") == "jeandupont"
    assert as_a_name("Smith / Jones") == "Smith Jones"
    assert as_a_name("😀") == "-"


@given(st.text(max_size=300))
def test_what_as_a_name_keeps_is_always_a_name(text: str) -> None:
    kept = as_a_name(text)
    assert kept and name_problem("surname", kept) is None and len(kept) <= 100
