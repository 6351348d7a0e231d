"""The rule set (référentiel): the guide's numbers as a versioned value, and named rule checks.

A rule set is frozen into an enrolment and its exam session when they are created, so a later
change of numbers never changes how an old session is judged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

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
    # Added with the live-supervised entry (R2, a user's tour: a session created « avec
    # surveillance en direct » was taken and sent at once, no slot booked): such a session is
    # first entered only from this many minutes before its booked slot to this many after.
    # None, in every rule set frozen before: entered at any time, as it always was.
    live_entry_minutes_before: int | None = None
    live_entry_minutes_after: int | None = None
    # Added with FLAG-HINT (a user's tour: an exam the recommendation found « validée » was
    # invalidated on a detector's flag alone, without a word): such an invalidation needs
    # the examiner's written justification of this many words, per reason. None, in every
    # rule set frozen before: decided as it always was, so old decisions replay unchanged.
    flag_hint_justification_min_words: int | None = None


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

# R2: a live-supervised session is first entered around its booked slot only, from 15 minutes
# before it (time to log in and accept the terms) to 30 minutes after (a late start the
# examiner can still watch); the same numbers and verdict function as rules-2026-12 besides.
# Enrolments made from now on get it; every session frozen before keeps its own.
RULES_2026_12_LIVE_SLOT = RuleSet(
    version="rules-2026-12-live-slot",
    verdict_version="verdict-2026-12",
    live_entry_minutes_before=15,
    live_entry_minutes_after=30,
)

# FLAG-HINT (design/product.md: a flag is a hint, never a verdict; deciding against the
# recommendation takes a written justification): invalidating a « validée » recommendation
# on detector flags alone takes, per reason, a justification of at least 10 words (as an
# override does, R19). The same numbers and verdict function as rules-2026-12-live-slot.
RULES_2026_12_FLAG_HINT = RuleSet(
    version="rules-2026-12-flag-hint",
    verdict_version="verdict-2026-12",
    live_entry_minutes_before=15,
    live_entry_minutes_after=30,
    flag_hint_justification_min_words=10,
)

# Every rule set ever frozen into a session stays here unchanged.
RULE_SETS: dict[str, RuleSet] = {
    RULES_2025_03.version: RULES_2025_03,
    RULES_2025_03_STRICT_FACES.version: RULES_2025_03_STRICT_FACES,
    RULES_2026_12.version: RULES_2026_12,
    RULES_2026_12_STRICT_FACES.version: RULES_2026_12_STRICT_FACES,
    RULES_2026_12_LIVE_SLOT.version: RULES_2026_12_LIVE_SLOT,
    RULES_2026_12_FLAG_HINT.version: RULES_2026_12_FLAG_HINT,
}

CURRENT_RULES = RULES_2026_12_FLAG_HINT


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


class LiveEntry(StrEnum):
    """R2: where a live-supervised session stands for its first entry, at a given moment."""

    NOT_REQUIRED = "not_required"  # not supervised live, or a rule set without the window
    NO_SLOT = "no_slot"  # the hotline has not booked a slot yet
    TOO_EARLY = "too_early"  # a slot is booked; its window is still to open
    OPEN = "open"  # within the window around the slot
    MISSED = "missed"  # the window closed: the hotline books another slot


@dataclass(frozen=True)
class LiveEntryWindow:
    """R2: the state of a live-supervised session's first entry at one moment, with the
    booked slot and the window around it (None where there is none)."""

    state: LiveEntry
    slot: datetime | None = None
    opens_at: datetime | None = None
    closes_at: datetime | None = None


def live_entry_window(
    *, live_supervision: bool, slot: datetime | None, at: datetime, rules: RuleSet
) -> LiveEntryWindow:
    """R2: whether a session may be first entered at `at`: a session created with live
    supervision, under a rule set that has the window, only from `live_entry_minutes_before`
    the booked slot to `live_entry_minutes_after` it, both ends included."""
    before, after = rules.live_entry_minutes_before, rules.live_entry_minutes_after
    if not live_supervision or before is None or after is None:
        return LiveEntryWindow(LiveEntry.NOT_REQUIRED, slot)
    if slot is None:
        return LiveEntryWindow(LiveEntry.NO_SLOT)
    opens, closes = later(slot, -before), later(slot, after)
    if utc(at) < utc(opens):
        state = LiveEntry.TOO_EARLY
    elif utc(at) > utc(closes):
        state = LiveEntry.MISSED
    else:
        state = LiveEntry.OPEN
    return LiveEntryWindow(state, slot, opens, closes)


def check_live_supervised_entry(window: LiveEntryWindow) -> None:
    """R2: a session supervised live is entered only around the slot the hotline booked (the
    guide: « elle sera surveillée par notre examinateur … convenir de la date et l'heure »)."""
    if window.state is LiveEntry.NO_SLOT:
        raise RuleBroken(
            "R2",
            "this session is supervised live: the hotline books a slot first, and the session "
            "opens around it",
        )
    if window.state is LiveEntry.TOO_EARLY:
        assert window.opens_at is not None
        raise RuleBroken(
            "R2",
            f"this session is supervised live: it opens at {window.opens_at.isoformat()}, "
            f"before the booked slot",
        )
    if window.state is LiveEntry.MISSED:
        assert window.closes_at is not None
        raise RuleBroken(
            "R2",
            f"the live-supervision slot was missed: its entry closed at "
            f"{window.closes_at.isoformat()}; the hotline books another slot",
        )
