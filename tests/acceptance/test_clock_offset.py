"""VIGIE_CLOCK_OFFSET: a rehearsal or test platform lives at another hour; a bad value is
refused with the setting's name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.bootstrap import Settings
from adapters.clock import SystemClock


def test_the_system_clock_runs_shifted_by_the_offset() -> None:
    shifted = SystemClock(timedelta(hours=-5)).now()
    expected = datetime.now(UTC) - timedelta(hours=5)
    assert abs((shifted - expected).total_seconds()) < 5
    assert shifted.tzinfo is not None


def test_the_offset_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIE_CLOCK_OFFSET", "-3600.5")
    assert Settings.from_env().clock_offset_s == -3600.5
    monkeypatch.delenv("VIGIE_CLOCK_OFFSET")
    assert Settings.from_env().clock_offset_s == 0.0


@pytest.mark.parametrize("value", ["soon", "nan", "inf"])
def test_a_clock_offset_that_is_not_a_finite_number_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("VIGIE_CLOCK_OFFSET", value)
    with pytest.raises(ValueError, match="VIGIE_CLOCK_OFFSET"):
        Settings.from_env()
