"""Clocks: the system's, and one that tests and the demo move by hand."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SystemClock:
    """The machine's time, in UTC, shifted by a fixed offset when one is set
    (`VIGIE_CLOCK_OFFSET`): a rehearsal platform, or a test server that must run at 9:00 in the
    morning whatever the hour (R16: an exam ends the day it began). Every process given the
    same offset reads the same time, so several workers still agree."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class ManualClock:
    """A clock that only moves when told to (tests, the demo, time-travel runs)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a time-zone-aware start")
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> datetime:
        """Move forward by a timedelta's keyword arguments (days=, hours=, minutes=…)."""
        step = timedelta(**delta)
        if step < timedelta(0):
            raise ValueError("time does not go backwards")
        with self._lock:
            self._now += step
            return self._now

    def set(self, moment: datetime) -> None:
        """Jump to a moment (never backwards)."""
        with self._lock:
            if moment < self._now:
                raise ValueError("time does not go backwards")
            self._now = moment
