"""The clock port: the only way the application learns the time."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """Tells the time."""

    def now(self) -> datetime:
        """The current instant, time-zone aware."""
        ...
