"""Issue 12, item 2: the one formatter (app/time_format.py). The same instant reads the same
whatever offset it was stored with; the centre's zone decides, across the clock changes; the
reader's language picks the words; mails format their times when sent, in the recipient's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from app.links import LinkSigner
from app.mail_rendering import MailRenderer, SupportContact
from app.time_format import Style, TimeFormatter
from domain.outbound_mail import MailKind

PARIS = TimeFormatter("Europe/Paris")
INSTANTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2060, 1, 1), timezones=st.just(UTC)
)
OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@given(INSTANTS, OFFSETS, st.sampled_from(list(Style)), st.sampled_from(["fr", "en"]))
def test_the_same_instant_reads_the_same_whatever_offset_it_was_stored_with(
    instant: datetime, offset: timezone, style: Style, language: str
) -> None:
    """Item 2: a fact stored in UTC (the live recorder's clock) and one stored with the Paris
    offset (a use case) show the same local time when they are the same instant."""
    assert PARIS.format(instant.astimezone(offset), language, style) == PARIS.format(
        instant, language, style
    )


def test_the_spring_clock_change_skips_from_two_to_three_in_paris() -> None:
    """30 March 2025: 00:59:59 UTC is 01:59:59 CET, one second later it is 03:00:00 CEST;
    a value stored with last winter's +01:00 still reads as summer time."""
    before = datetime(2025, 3, 30, 0, 59, 59, tzinfo=UTC)
    after = before + timedelta(seconds=1)
    assert PARIS.format(before, "fr", Style.EXACT) == "30/03/2025 01:59:59"
    assert PARIS.format(after, "fr", Style.EXACT) == "30/03/2025 03:00:00"
    winter_offset = after.astimezone(timezone(timedelta(hours=1)))
    assert PARIS.format(winter_offset, "fr", Style.TIME) == "03:00:00"


def test_the_autumn_clock_change_shows_the_repeated_hour_twice() -> None:
    """26 October 2025: 00:30 UTC and 01:30 UTC both read 02:30 (CEST, then CET)."""
    first = datetime(2025, 10, 26, 0, 30, tzinfo=UTC)
    assert PARIS.format(first, "fr", Style.CLOCK) == "02:30"
    assert PARIS.format(first + timedelta(hours=1), "fr", Style.CLOCK) == "02:30"


def test_another_centre_zone_shows_its_own_local_time() -> None:
    """VIGIE_TIME_ZONE decides: the same instant in Nouméa."""
    instant = datetime(2025, 1, 27, 8, 0, tzinfo=UTC)
    assert TimeFormatter("Pacific/Noumea").format(instant, "fr") == "27/01/2025 19:00"


def test_days_iso_strings_and_old_mail_texts() -> None:
    """A date is a local day already; ISO text (a mail's parameter) is read; text decided
    before the formatter (`30/01/2025 09:00`) is shown as it was; nothing reads as a dash."""
    assert PARIS.format(date(2025, 4, 27), "en") == "27/04/2025"
    assert PARIS.format("2025-04-27", "fr") == "27/04/2025"
    assert PARIS.format("2025-01-30T08:00:00+00:00", "fr") == "30/01/2025 09:00"
    assert PARIS.format("30/01/2025 09:00", "en") == "30/01/2025 09:00"
    assert PARIS.format(None, "fr") == "—"


def test_a_naive_value_reads_as_utc_rather_than_failing_a_page() -> None:
    assert PARIS.format(datetime(2025, 1, 27, 8, 0), "fr", Style.CLOCK) == "09:00"


def test_a_password_reset_mail_shows_its_expiry_in_paris_in_the_recipients_language() -> None:
    """Mails: the expiry is decided as an ISO instant and formatted when the mail is sent."""
    renderer = MailRenderer(LinkSigner(b"k" * 32, "http://127.0.0.1:8000"), SupportContact())
    params = {
        "account": "proctoring",
        "reset": "x:y",
        "expires_at": datetime(2025, 3, 30, 1, 30, tzinfo=UTC).isoformat(),
    }
    french = renderer.render(MailKind.PASSWORD_RESET, "fr", params, "Camille", "c@example.org")
    english = renderer.render(MailKind.PASSWORD_RESET, "en", params, "Camille", "c@example.org")
    assert "valable jusqu'au 30/03/2025 03:30" in french.text
    assert "valid until 30/03/2025 03:30" in english.text


def test_a_mail_headers_date_reads_in_the_centres_zone() -> None:
    """The operator's mailbox page: `Date:` headers are RFC 5322, in any offset."""
    assert PARIS.format("Mon, 27 Jan 2025 08:00:00 +0000", "fr") == "27/01/2025 09:00"
    assert PARIS.format("27/01/2025 09:00", "fr") == "27/01/2025 09:00"


def test_a_time_within_a_day_shows_its_date_only_on_another_day() -> None:
    """A timeline of the session's day: its times alone, another day's with their date (a
    hotline note of the next morning read « 07:00:07 » after « 15:07:10 »). The day is the
    centre's local one: 23:30 UTC on 7 December is already the 8th in Paris."""
    session = datetime(2026, 12, 7, 14, 6, 58, tzinfo=UTC)
    same = datetime(2026, 12, 7, 22, 59, 0, tzinfo=UTC)
    next_morning = datetime(2026, 12, 8, 6, 0, 7, tzinfo=UTC)
    late = datetime(2026, 12, 7, 23, 30, 0, tzinfo=UTC)
    assert PARIS.format(same, "fr", Style.TIME, day=session) == "23:59:00"
    assert PARIS.format(next_morning, "fr", Style.TIME, day=session) == "08/12/2026 07:00:07"
    assert PARIS.format(next_morning, "en", Style.TIME, day=session) == "08/12/2026 07:00:07"
    assert PARIS.format(late, "fr", Style.TIME, day=date(2026, 12, 7)) == "08/12/2026 00:30:00"
    assert PARIS.format(next_morning, "fr", Style.TIME) == "07:00:07"
