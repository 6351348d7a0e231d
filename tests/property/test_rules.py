"""The rule set's named checks, with the guide's own examples (R1, R3, R4, R6)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import RuleBroken
from domain.rules import (
    CURRENT_RULES,
    check_exam_duration,
    check_resume_reason,
    check_within_budget,
    count_words,
    enrollment_last_day,
    first_validity_end,
    renewed_validity_end,
)

GUIDE_RESUME_REASON = "suite à plantage, je dois reprendre mon examen en me reconnectant"
PROPERTIES = settings(max_examples=60, deadline=None)

words = st.text(alphabet=st.characters(categories=("Ll", "Lu", "Nd")), min_size=1, max_size=10)
separators = st.sampled_from([" ", "  ", "\n", "\t", " \u00a0 "])
# Tokens a reader does not count: punctuation standing alone between words.
loose_punctuation = st.sampled_from(["-", "—", "…", "!", "?", ",", "«", "»"])


def sentence(tokens: list[str], glue: list[str]) -> str:
    return "".join(token + glue[n % len(glue)] for n, token in enumerate(tokens)).strip()


# --- R6: "Reprendre l'examen" needs a reason of at least 10 words ---------------------------


def test_the_guides_resume_reason_is_accepted_r6() -> None:
    assert count_words(GUIDE_RESUME_REASON) == 11
    assert check_resume_reason(f"  {GUIDE_RESUME_REASON} ", CURRENT_RULES) == GUIDE_RESUME_REASON


@pytest.mark.parametrize("reason", [None, "", "   ", "— … !"])
def test_no_reason_at_all_is_refused_r6(reason: str | None) -> None:
    with pytest.raises(RuleBroken) as refusal:
        check_resume_reason(reason, CURRENT_RULES)
    assert refusal.value.rule == "R6"


@PROPERTIES
@given(
    tokens=st.lists(words, min_size=9, max_size=9),
    glue=st.lists(separators, min_size=1, max_size=3),
    noise=st.lists(loose_punctuation, max_size=4),
)
def test_a_resume_reason_of_nine_words_is_refused_r6(
    tokens: list[str], glue: list[str], noise: list[str]
) -> None:
    """Loose punctuation never makes up for a missing word."""
    reason = sentence([*tokens, *noise], glue)
    assert count_words(reason) == 9
    with pytest.raises(RuleBroken) as refusal:
        check_resume_reason(reason, CURRENT_RULES)
    assert refusal.value.rule == "R6"


@PROPERTIES
@given(
    tokens=st.lists(words, min_size=10, max_size=30),
    glue=st.lists(separators, min_size=1, max_size=3),
)
def test_a_resume_reason_of_ten_words_or_more_is_accepted_r6(
    tokens: list[str], glue: list[str]
) -> None:
    reason = sentence(tokens, glue)
    assert count_words(reason) == len(tokens)
    assert check_resume_reason(reason, CURRENT_RULES) == reason


# --- R1 / R3: the 90-day window and the exam session's validity ------------------------------


def test_enrolled_on_27_01_2025_the_last_day_is_27_04_2025_inclusive_r1() -> None:
    assert enrollment_last_day(date(2025, 1, 27), CURRENT_RULES) == date(2025, 4, 27)


@PROPERTIES
@given(enrolled_on=st.dates(date(2000, 1, 1), date(2100, 1, 1)))
def test_the_enrolment_window_is_always_90_days_r1(enrolled_on: date) -> None:
    assert enrollment_last_day(enrolled_on, CURRENT_RULES) - enrolled_on == timedelta(days=90)


@PROPERTIES
@given(enrolled_on=st.dates(date(2024, 1, 1), date(2027, 1, 1)), day=st.integers(0, 90))
def test_the_first_validity_is_15_days_capped_at_the_last_day_r3(
    enrolled_on: date, day: int
) -> None:
    last_day = enrollment_last_day(enrolled_on, CURRENT_RULES)
    created_on = enrolled_on + timedelta(days=day)
    end = first_validity_end(created_on, last_day, CURRENT_RULES)
    assert end == min(created_on + timedelta(days=15), last_day)
    assert created_on <= end <= last_day


@PROPERTIES
@given(
    enrolled_on=st.dates(date(2024, 1, 1), date(2027, 1, 1)),
    current=st.integers(0, 95),
    today=st.integers(0, 100),
)
def test_a_renewal_never_goes_past_day_90_r3(enrolled_on: date, current: int, today: int) -> None:
    last_day = enrollment_last_day(enrolled_on, CURRENT_RULES)
    current_end = enrolled_on + timedelta(days=current)
    on = enrolled_on + timedelta(days=today)
    if on > last_day or current_end >= last_day:
        with pytest.raises(RuleBroken) as refusal:
            renewed_validity_end(current_end, on, last_day, CURRENT_RULES)
        assert refusal.value.rule == "R3"
        return
    end = renewed_validity_end(current_end, on, last_day, CURRENT_RULES)
    # Always longer than before and covering today, even when renewed on the last day.
    assert current_end < end <= last_day
    assert on <= end
    assert end == min(max(current_end, on) + timedelta(days=15), last_day)


# --- R4: durations --------------------------------------------------------------------------


@PROPERTIES
@given(minutes=st.integers(-10, 400))
def test_an_exam_lasts_from_1h_to_2h30_r4(minutes: int) -> None:
    if 60 <= minutes <= 150:
        check_exam_duration(minutes, CURRENT_RULES)
        return
    with pytest.raises(RuleBroken) as refusal:
        check_exam_duration(minutes, CURRENT_RULES)
    assert refusal.value.rule == "R4"


@PROPERTIES
@given(
    started=st.datetimes(datetime(2025, 1, 1), datetime(2026, 1, 1)),
    after=st.timedeltas(timedelta(0), timedelta(hours=6)),
)
def test_the_proctored_session_budget_is_3_hours_from_the_first_entry_r4(
    started: datetime, after: timedelta
) -> None:
    start = started.replace(tzinfo=UTC)
    if after <= timedelta(hours=3):
        check_within_budget(start + after, start, CURRENT_RULES)
        return
    with pytest.raises(RuleBroken) as refusal:
        check_within_budget(start + after, start, CURRENT_RULES)
    assert refusal.value.rule == "R4"
