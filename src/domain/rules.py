"""The rule set (référentiel): the guide's numbers as a versioned value, and named rule checks.

A rule set is frozen into an enrolment and its exam session when they are created, so a later
change of numbers never changes how an old session is judged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from domain.bounds import bounded
from domain.errors import InvalidArgument, RuleBroken


@dataclass(frozen=True)
class RuleSet:
    """The numbers of the guide's rules (design/product.md, R1–R26)."""

    version: str
    enrollment_days: int = 90  # R1: last day inclusive
    first_validity_days: int = 15  # R3
    renewal_days: int = 15  # R3
    exam_min_minutes: int = 60  # R4
    exam_max_minutes: int = 150  # R4
    session_budget_minutes: int = 180  # R4
    planning_margin_minutes: int = 20  # R4: told to the candidate, not enforced
    resume_reason_min_words: int = 10  # R6
    review_days: int = 8  # R19
    office_hours_start: int = 9  # R2: live-supervision slots, centre's time zone
    office_hours_end: int = 18
    office_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    verdict_version: str = "verdict-2025-03"
    # Added with the mail and time processes; defaults keep older frozen rule sets readable.
    reminder_days_before: tuple[int, ...] = (14, 3)
    review_warning_hours: int = 48
    # Added with appeals: a candidate contests an invalidation within this many days of the
    # results being sent (last day inclusive).
    appeal_days: int = 14


RULES_2025_03 = RuleSet(version="rules-2025-03")

# An alternative for what-if studies only (`vigie audit what-if`): the same numbers, with the
# stricter verdict function (several faces at high confidence are grounds, not hints).
RULES_2025_03_STRICT_FACES = RuleSet(
    version="rules-2025-03-strict-faces", verdict_version="verdict-2025-03-strict-faces"
)

# Issue 12: R17 judged inside the exam window (« Commencer » to the end), the guide's ways of
# leaving (R14 deferral, R23 blocked screen) as interruptions, flags before « Commencer »
# never grounds (R21). The same numbers.
RULES_2026_12 = RuleSet(version="rules-2026-12", verdict_version="verdict-2026-12")
RULES_2026_12_STRICT_FACES = RuleSet(
    version="rules-2026-12-strict-faces", verdict_version="verdict-2026-12-strict-faces"
)

# Every rule set ever frozen into a session stays here unchanged.
RULE_SETS: dict[str, RuleSet] = {
    RULES_2025_03.version: RULES_2025_03,
    RULES_2025_03_STRICT_FACES.version: RULES_2025_03_STRICT_FACES,
    RULES_2026_12.version: RULES_2026_12,
    RULES_2026_12_STRICT_FACES.version: RULES_2026_12_STRICT_FACES,
}

CURRENT_RULES = RULES_2026_12


def rule_set(version: str) -> RuleSet:
    """The rule set of that version; unknown versions are a clear error."""
    try:
        return RULE_SETS[version]
    except KeyError:
        known = ", ".join(sorted(RULE_SETS))
        raise InvalidArgument("rules", f"unknown rule set {version!r} (known: {known})") from None


# --- R1 / R3: the enrolment window and the exam session's validity -------------------------


def enrollment_last_day(enrolled_on: date, rules: RuleSet) -> date:
    """R1: enrolled on 27/01/2025 → 'pas au-delà du 27/04/2025 inclus' (90 days later)."""
    return enrolled_on + timedelta(days=rules.enrollment_days)


def check_within_enrollment_window(today: date, last_day: date) -> None:
    """R1: the exam session is created before the enrolment expires, last day inclusive."""
    if today > last_day:
        raise RuleBroken(
            "R1",
            f"the enrolment expired: the exam session had to be created by "
            f"{last_day.isoformat()} inclusive",
        )


def first_validity_end(created_on: date, last_day: date, rules: RuleSet) -> date:
    """R3: a first validity of 15 days, never past the enrolment's last day."""
    return min(created_on + timedelta(days=rules.first_validity_days), last_day)


def renewed_validity_end(current_end: date, today: date, last_day: date, rules: RuleSet) -> date:
    """R3: a renewal adds a validity period, never past day 90 of the enrolment."""
    if today > last_day:
        raise RuleBroken("R3", f"no renewal after the enrolment's last day {last_day.isoformat()}")
    if current_end >= last_day:
        raise RuleBroken(
            "R3",
            f"the exam session is already valid until day {rules.enrollment_days} "
            f"({last_day.isoformat()}); it cannot be renewed past it",
        )
    start = max(current_end, today)
    return min(start + timedelta(days=rules.renewal_days), last_day)


# --- Time arithmetic -------------------------------------------------------------------------


def utc(moment: datetime) -> datetime:
    """The instant in UTC: Python adds and compares same-zone times by wall clock, which is
    wrong on the nights the clocks change."""
    return moment.astimezone(UTC)


def later(moment: datetime, minutes: int) -> datetime:
    """`minutes` of real time after `moment`, shown in `moment`'s own time zone."""
    return (utc(moment) + timedelta(minutes=minutes)).astimezone(moment.tzinfo)


def elapsed_seconds(start: datetime, end: datetime) -> float:
    """Real seconds between two instants, whatever their time zones."""
    return (utc(end) - utc(start)).total_seconds()


# --- R4: durations ---------------------------------------------------------------------------


def check_exam_duration(minutes: int, rules: RuleSet) -> None:
    """R4: an exam lasts between 1 h and 2 h 30 depending on the certification."""
    if not rules.exam_min_minutes <= minutes <= rules.exam_max_minutes:
        raise RuleBroken(
            "R4",
            f"an exam lasts {rules.exam_min_minutes} to {rules.exam_max_minutes} minutes, "
            f"not {minutes}",
        )


def budget_end(started_at: datetime, rules: RuleSet, extra_minutes: int = 0) -> datetime:
    """R4: the whole proctored session may last at most 3 hours from its first entry."""
    return later(started_at, rules.session_budget_minutes + extra_minutes)


def check_within_budget(
    at: datetime, started_at: datetime | None, rules: RuleSet, extra_minutes: int = 0
) -> None:
    """R4: no step after the 3-hour budget of the proctored session (plus the extra time an
    accommodation grants) is spent."""
    if started_at is not None and utc(at) > utc(budget_end(started_at, rules, extra_minutes)):
        extra = f" plus {extra_minutes} minutes of extra time" if extra_minutes else ""
        raise RuleBroken(
            "R4",
            f"the proctored session's {rules.session_budget_minutes // 60}-hour budget{extra} "
            f"ended at {budget_end(started_at, rules, extra_minutes).isoformat()}",
        )


# --- R6: resuming ----------------------------------------------------------------------------

_WORD = re.compile(r"\w", re.UNICODE)


def count_words(text: str) -> int:
    """Words as a reader counts them: whitespace-separated tokens holding a letter or digit."""
    return sum(1 for token in text.split() if _WORD.search(token))


def check_resume_reason(reason: str | None, rules: RuleSet) -> str:
    """R6: 'Reprendre l'examen' needs a reason of at least 10 words."""
    bounded("resume_reason", reason or "")
    words = count_words(reason or "")
    if words < rules.resume_reason_min_words:
        raise RuleBroken(
            "R6",
            f"a resume reason needs at least {rules.resume_reason_min_words} words ({words} given)",
        )
    return (reason or "").strip()


# --- R16: the same day -----------------------------------------------------------------------


def check_same_day(started_at: datetime, at: datetime, what: str) -> None:
    """R16: an exam is started and finished on the same day, in the candidate's time zone."""
    if at.date() != started_at.date():
        raise RuleBroken(
            "R16",
            f"an exam is started and finished on the same day: {what} on "
            f"{at.date().isoformat()} for an exam started on {started_at.date().isoformat()}",
        )


def check_can_finish_today(at: datetime, ends_at: datetime) -> None:
    """R16: a start that could not finish before midnight is refused."""
    if ends_at.date() != at.date():
        raise RuleBroken(
            "R16",
            f"an exam is started and finished on the same day: starting at "
            f"{at.strftime('%H:%M')} it would end at {ends_at.strftime('%H:%M')} the next day",
        )


# --- R2: live supervision --------------------------------------------------------------------


def check_office_hours(slot: datetime, rules: RuleSet) -> None:
    """R2: the hotline agrees a live-supervision slot in office hours (centre's time zone)."""
    in_hours = rules.office_hours_start <= slot.hour < rules.office_hours_end
    if slot.weekday() not in rules.office_weekdays or not in_hours:
        raise RuleBroken(
            "R2",
            f"live supervision is booked in office hours (weekdays "
            f"{rules.office_hours_start}:00–{rules.office_hours_end}:00), "
            f"not {slot.strftime('%A %H:%M')}",
        )
