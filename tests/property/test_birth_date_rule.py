"""R11: the birth date printed on the certificate is one a candidate can have. A user's tour
typed 03/02/2031: it was recorded, and the portal went on to say the certificate is issued
with these details. The rule is pure: the local day comes from the app's clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.candidate import (
    EARLIEST_BIRTH_DATE,
    Candidate,
    PortalProfile,
    birth_date_problem,
    profile_problems,
)
from domain.errors import ImplausibleBirthDate, InvalidArgument, InvalidArguments

PARIS = ZoneInfo("Europe/Paris")
days = st.dates(date(1800, 1, 1), date(2200, 12, 31))


@settings(max_examples=300, deadline=None)
@given(birth_date=days, today=st.dates(date(1990, 1, 1), date(2100, 12, 31)))
def test_a_birth_date_is_refused_exactly_when_after_today_or_before_1900_r11(
    birth_date: date, today: date
) -> None:
    problem = birth_date_problem(birth_date, today=today)
    possible = EARLIEST_BIRTH_DATE <= birth_date <= today
    assert (problem is None) is possible
    if problem is not None:
        assert problem.field == "birth_date"
        assert problem.in_the_future is (birth_date > today)
        assert (problem.earliest, problem.latest) == (EARLIEST_BIRTH_DATE, today)


@settings(max_examples=100, deadline=None)
@given(today=st.dates(date(2000, 1, 1), date(2100, 12, 31)), ahead=st.integers(1, 20_000))
def test_the_day_itself_is_a_birth_date_and_the_next_is_not_r11(today: date, ahead: int) -> None:
    """The bounds are the day the clock reads and 1 January 1900, both included."""
    assert birth_date_problem(today, today=today) is None
    assert birth_date_problem(EARLIEST_BIRTH_DATE, today=today) is None
    assert birth_date_problem(today + timedelta(days=ahead), today=today) is not None
    assert birth_date_problem(EARLIEST_BIRTH_DATE - timedelta(days=ahead), today=today)


def test_it_joins_every_other_wrong_field_in_the_forms_order_r11() -> None:
    """Named with the others at once (profile_problems), between the first name and the
    birth place, as the form shows them."""
    profile = PortalProfile("Dr", "Martin", "", date(2031, 2, 3), "")
    fields = [p.field for p in profile_problems(profile, today=date(2026, 12, 7))]
    assert fields == ["civility", "first_name", "birth_date", "birth_place"]


@pytest.mark.parametrize("born", [date(2031, 2, 3), date(2026, 12, 8), date(1899, 12, 31)])
def test_the_candidate_records_nothing_for_such_a_date_r11(born: date) -> None:
    candidate = Candidate.register(
        candidate_id=UUID(int=7),
        email="camille@exemple.fr",
        surname="Martin",
        first_name="Camille",
        at=datetime(2026, 12, 1, 9, tzinfo=PARIS),
    )
    candidate.collect_events()
    # 23:30 in Paris on 7 December: the 8th is still to come there.
    at = datetime(2026, 12, 7, 23, 30, tzinfo=PARIS)
    profile = PortalProfile("Madame", "Martin", "Camille", born, "Nantes")
    with pytest.raises(InvalidArgument) as refused:
        candidate.save_portal_profile(
            at=at, email="camille@exemple.fr", profile=profile, password_hash="h"
        )
    assert isinstance(refused.value, ImplausibleBirthDate)
    assert not isinstance(refused.value, InvalidArguments)
    assert candidate.collect_events() == []
    assert not candidate.profile_complete
    kept = PortalProfile("Madame", "Martin", "Camille", date(2026, 12, 7), "Nantes")
    assert (
        candidate.save_portal_profile(
            at=at, email="camille@exemple.fr", profile=kept, password_hash="h"
        )
        == "Créer"
    )
