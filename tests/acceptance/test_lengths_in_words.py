"""A recording's length as people say it on the review's player (a reviewer's tour read
« Enregistré : 4 140 s » for an hour-long exam)."""

from __future__ import annotations

import pytest

from ui.web.review_words import length_words


@pytest.mark.parametrize(
    ("seconds", "fr", "en"),
    [
        (0, "0 s", "0 s"),
        (12.34, "12,3 s", "12.3 s"),
        (59.9, "59,9 s", "59.9 s"),
        (60, "1 min 00 s", "1 min 00 s"),
        (725, "12 min 05 s", "12 min 05 s"),
        (3600, "1 h 00", "1 h 00 min"),
        (4140, "1 h 09", "1 h 09 min"),
    ],
)
def test_a_length_reads_in_seconds_minutes_or_hours(seconds: float, fr: str, en: str) -> None:
    assert length_words(seconds, "fr") == fr
    assert length_words(seconds, "en") == en
