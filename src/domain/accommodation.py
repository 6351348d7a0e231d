"""Accommodations (aménagements): extra time and other arrangements granted on an enrolment.

The guide says nothing of them; the product does (design/product.md, "beyond the guide"). The
training centre grants them before the exam starts; the extra time lengthens the exam
(R4's 1 h–2 h 30) and the proctored session's 3-hour budget by the same minutes.

Rules named in refusals, besides the guide's R1–R26:

- ``ACCOMMODATION-BEFORE-START``: an accommodation is granted before the candidate first
  enters the exam session (from then on the 3-hour budget runs and the timings are fixed);
  it is refused after.
- ``ACCOMMODATION-EXTRA-TIME``: extra time is a whole percentage of the exam's duration,
  from 0 to 100 (for instance +33 %).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.errors import InvalidArgument, RuleBroken

MAX_EXTRA_TIME_PERCENT = 100
MAX_ARRANGEMENTS_CHARS = 1000


@dataclass(frozen=True)
class Accommodation:
    """What the centre granted, who granted it and when."""

    extra_time_percent: int
    arrangements: str
    granted_by: UUID
    granted_at: datetime


def check_extra_time(extra_time_percent: int) -> None:
    """Extra time is a whole percentage of the exam, 0 to 100."""
    if not 0 <= extra_time_percent <= MAX_EXTRA_TIME_PERCENT:
        raise RuleBroken(
            "ACCOMMODATION-EXTRA-TIME",
            f"extra time is 0 to {MAX_EXTRA_TIME_PERCENT} % of the exam, "
            f"not {extra_time_percent} %",
        )


def closed_to_grants(
    *, expired: bool, entered_at: datetime | None, entered: bool = False, closed: bool = False
) -> RuleBroken | None:
    """Why no accommodation can be granted (or changed) any more, if none can: the enrolment
    expired (R1), or the candidate entered the exam session, or it was closed
    (ACCOMMODATION-BEFORE-START). `entered_at` when known, else `entered`. The grant raises it;
    a page reads it to show what was granted without offering the form."""
    if expired:
        return RuleBroken("R1", "the enrolment has expired")
    if entered_at is not None or entered or closed:
        when = f" at {entered_at:%d/%m/%Y %H:%M}" if entered_at is not None else ""
        return RuleBroken(
            "ACCOMMODATION-BEFORE-START",
            "accommodations are granted before the exam starts: the candidate entered "
            f"the exam session{when}" + (" (it is closed)" if closed else ""),
        )
    return None


def check_accommodation(extra_time_percent: int, arrangements: str) -> str:
    """The arrangements' text, stripped, once the grant is well formed."""
    check_extra_time(extra_time_percent)
    text = arrangements.strip()
    if len(text) > MAX_ARRANGEMENTS_CHARS:
        raise InvalidArgument(
            "arrangements", f"at most {MAX_ARRANGEMENTS_CHARS} characters ({len(text)} given)"
        )
    if extra_time_percent == 0 and not text:
        raise InvalidArgument("arrangements", "grant extra time or describe an arrangement")
    return text


def extra_minutes(duration_minutes: int, extra_time_percent: int) -> int:
    """The extra minutes of an exam lasting `duration_minutes`: rounded up, in the
    candidate's favour (90 minutes at +33 % → 30 more)."""
    return -(-duration_minutes * extra_time_percent // 100)  # integer ceiling, no float
