"""One formatter for every time a person reads (issue 12, item 2): pages, mails, exports and the
command line show an instant in the centre's time zone (`VIGIE_TIME_ZONE`) and the reader's
language, through Babel's CLDR data.

The log keeps aware instants; their stored offset is never shown as such: an instant recorded
in UTC (or with last winter's offset) reads as the centre's local time of that instant, so two
facts of the same instant always show the same time, across the clock changes too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from functools import cached_property
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, get_timezone_location
from jinja2 import pass_context
from jinja2.runtime import Context as JinjaContext

# The reader's language to Babel's locale. English readers of a French centre get day-first
# dates and a 24-hour clock (British usage), never an American month-first date.
LOCALES = {"fr": "fr_FR", "en": "en_GB"}
DEFAULT_LANGUAGE = "fr"


class Style(StrEnum):
    """How much of the instant is shown."""

    MOMENT = "moment"  # 30/03/2025 03:30 (a deadline, a decision)
    EXACT = "exact"  # 30/03/2025 03:30:05 (a fact of the log, an export)
    TIME = "time"  # 03:30:05 (a timeline within one day)
    CLOCK = "clock"  # 03:30 (an end of exam on the candidate's screen)
    DAY = "day"  # 30/03/2025 (a last day, a due date: a date, no zone)
    # lundi 31 mars 2025 / Monday, 31 March 2025 (an appointment's day, a live-supervision
    # slot agreed by phone: read with its weekday)
    FULL_DAY = "full_day"


# Babel patterns per style, the same in both languages apart from the date part, which
# follows the locale's own short date.
_TIME_PATTERNS = {
    Style.MOMENT: "HH:mm",
    Style.EXACT: "HH:mm:ss",
    Style.TIME: "HH:mm:ss",
    Style.CLOCK: "HH:mm",
}


@dataclass(frozen=True)
class TimeFormatter:
    """Formats instants and days for a reader; built once from the centre's time zone."""

    time_zone: str = "Europe/Paris"

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def zone_city(self, language: str = DEFAULT_LANGUAGE) -> str:
        """The zone's city as the reader's language names it (« Paris », « Nouméa »), for
        a time agreed by phone: « 10:00 (heure de Paris) »."""
        locale = LOCALES.get(language, LOCALES[DEFAULT_LANGUAGE])
        return str(get_timezone_location(self.zone, locale=locale, return_city=True))

    def local(self, instant: datetime) -> datetime:
        """The instant in the centre's zone. A naive value (none is stored; a caller's slip)
        is read as UTC, the clock's own zone, rather than failing a page."""
        aware = instant if instant.utcoffset() is not None else instant.replace(tzinfo=UTC)
        return aware.astimezone(self.zone)

    def format(
        self,
        value: datetime | date | str | None,
        language: str = DEFAULT_LANGUAGE,
        style: Style | str = Style.MOMENT,
        day: datetime | date | None = None,
    ) -> str:
        """`value` for a reader of `language`. ISO 8601 strings (a mail's parameters) and mail
        headers' dates are read first; any other string (mails decided before this formatter)
        is shown as it is. A time within `day` (a timeline of one session's day) is shown
        without its date, and with it on another day: a hotline note of the next morning read
        « 07:00:07 » after « 15:07:10 », as if before the exam (a tester's tour)."""
        style = Style(style)
        locale = LOCALES.get(language, LOCALES[DEFAULT_LANGUAGE])
        if value is None:
            return "—"
        if isinstance(value, str):
            parsed = _parse_iso(value)
            if parsed is None:
                return value
            value = parsed
        if not isinstance(value, datetime):  # a date: a local day already
            return format_date(value, "full" if style is Style.FULL_DAY else "short", locale=locale)
        local = self.local(value)
        if style is Style.TIME and day is not None:
            within = self.local(day).date() if isinstance(day, datetime) else day
            if local.date() != within:
                style = Style.EXACT
        if style is Style.DAY:
            return format_date(local.date(), "short", locale=locale)
        if style is Style.FULL_DAY:
            return format_date(local.date(), "full", locale=locale)
        time_part = format_datetime(local, _TIME_PATTERNS[style], locale=locale)
        if style in (Style.TIME, Style.CLOCK):
            return time_part
        return f"{format_date(local.date(), 'short', locale=locale)} {time_part}"


def _parse_iso(text: str) -> datetime | date | None:
    """ISO 8601 (a mail's parameters, exports) or a mail header's RFC 5322 date."""
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def jinja_filter(formatter: TimeFormatter) -> Callable[..., str]:
    """`{{ value | local_time }}` or `{{ value | local_time("time") }}` in a template: the
    reader's language is the template's `lang` (French when it has none)."""

    @pass_context
    def local_time(
        context: JinjaContext,
        value: datetime | date | str | None,
        style: str = "moment",
        day: datetime | date | None = None,
    ) -> str:
        language = str(context.get("lang") or DEFAULT_LANGUAGE)
        return formatter.format(value, language, style, day)

    return local_time
