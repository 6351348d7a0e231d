"""An e-mail address holds what a mailbox holds (F5, a tester's tour): a NUL enrolled in one
reached the mail server, which refused it in the middle of its transaction, and the next
mail on the platform, for anyone, failed with it. Every address entering Vigie meets one
rule (`domain.candidate.check_email`): its refusal names the field and the character."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from domain.candidate import Candidate, check_email
from domain.errors import InvalidArgument
from domain.staff import Role, StaffMember

AT = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
ADDRESSES = [
    "camille.martin@example.org",
    "Camille.Martin@Example.ORG",  # kept lower-cased
    "o'brien+vigie@mail.example.co.uk",
    "jean_luc-2@sub-domain.example.fr",
    "zoé@exemple.fr",  # RFC 6531: a mailbox in any script
    "ليلى@مثال.إختبار",
    "דנה@example.org",
    "a!#$%&*/=?^`{|}~@example.org",  # every mark RFC 5322 allows unquoted
]
# The tester's, accepted at enrolment and refused only at sending, with the character named.
REFUSED = [
    ("poison\x00@example.org", "\x00"),
    ("a+<b>@example.org", "<"),
    ('a"b@example.org', '"'),
    ("ok@[127.0.0.1]", "["),
    ('"<svg/onload=alert(1)>"@example.org', '"'),
    ('=hyperlink("http://evil.example","x")@example.org', "("),
    ("camille martin@example.org", " "),
    ("camille\u202e@example.org", "\u202e"),  # RIGHT-TO-LEFT OVERRIDE
    ("camille@exa\u200bmple.org", "\u200b"),  # ZERO WIDTH SPACE
    ("camille@example.org\u2028x", "\u2028"),  # LINE SEPARATOR
]
# The shape of no address: nothing names a character.
SHAPELESS = ["nope", "x@-bad-.org", "a@b@c.org", "a@localhost", "@example.org", "a@x..org"]


@pytest.mark.parametrize("address", ADDRESSES)
def test_an_address_a_mailbox_has_is_accepted_trimmed_and_lower_cased(address: str) -> None:
    assert check_email(f"  {address} ") == address.lower()


@pytest.mark.parametrize(("address", "character"), REFUSED)
def test_an_address_with_a_character_no_mailbox_has_is_refused_naming_it(
    address: str, character: str
) -> None:
    with pytest.raises(InvalidArgument) as refused:
        check_email(address)
    assert refused.value.field == "email"
    assert getattr(refused.value, "character", "") == character


@pytest.mark.parametrize("address", SHAPELESS)
def test_an_address_of_no_address_s_shape_is_refused_without_a_character(address: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        check_email(address)
    assert refused.value.field == "email"
    assert getattr(refused.value, "character", "") is None


# Control (Cc), format (Cf: the bidirectional controls, zero-width characters), separators
# (Zs, Zl, Zp: spaces of every kind), surrogates and unassigned code points.
_NO_MAILBOX = st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Co", "Cn"])
_ATOM = st.text(st.characters(categories=["Ll", "Lu", "Lo", "Nd"]), min_size=1, max_size=12).filter(
    lambda s: s.strip() == s
)


@given(local=_ATOM, domain=_ATOM, bad=_NO_MAILBOX, where=st.integers(0, 40))
@example(local="poison", domain="example", bad="\x00", where=6)
@example(local="camille", domain="example", bad="\u202e", where=1)
def test_a_control_format_or_space_character_anywhere_is_refused_and_named(
    local: str, domain: str, bad: str, where: int
) -> None:
    address = f"{local}@{domain}.org"
    at = min(max(where, 1), len(address) - 1)  # inside: spaces around an address are trimmed
    poisoned = address[:at] + bad + address[at:]
    with pytest.raises(InvalidArgument) as refused:
        check_email(poisoned)
    assert refused.value.field == "email"
    assert getattr(refused.value, "character", "") == bad
    assert check_email(address) == address.lower()  # the same address without it is one


@given(st.text(max_size=30))
def test_whatever_is_accepted_holds_one_at_and_no_control_space_or_markup(text: str) -> None:
    try:
        text = check_email(text)
    except InvalidArgument:
        return
    assert text.count("@") == 1
    assert not any(unicodedata.category(c)[0] in "CZ" for c in text)
    assert not set(text) & set('<>"()[],;:\\ ')


def test_neither_a_candidate_nor_a_staff_member_is_registered_with_one() -> None:
    with pytest.raises(InvalidArgument, match="U\\+0000"):
        Candidate.register(
            candidate_id=uuid4(),
            email="poison\x00@example.org",
            surname="Nul",
            first_name="Nul",
            at=AT,
        )
    with pytest.raises(InvalidArgument, match="U\\+0000"):
        StaffMember.register(
            staff_id=uuid4(), email="poison\x00@example.org", name="Nul", role=Role.CENTRE, at=AT
        )
