"""Per-account throttling (issue 14), as a property: whatever the failures and their times,
an account is refused exactly while it had ten failures in the last fifteen minutes — never
for ever — and the address's case or spaces do not make another account."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.clock import ManualClock
from adapters.sessions.memory import MemorySessionStore
from app.login_throttle import MAX_FAILURES, WINDOW, LoginThrottle

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.integers(min_value=0, max_value=400), min_size=0, max_size=30),
    spelling=st.sampled_from(["eve@example.org", " EVE@example.org ", "Eve@Example.org"]),
)
def test_an_account_is_refused_exactly_while_ten_failures_are_in_the_window(
    gaps: list[int], spelling: str
) -> None:
    clock = ManualClock(START)
    throttle = LoginThrottle(MemorySessionStore(), clock)
    failures: list[datetime] = []
    for gap in gaps:
        clock.advance(seconds=gap)
        recent = [at for at in failures if at > clock.now() - WINDOW]
        assert throttle.allows(spelling, "staff") == (len(recent) < MAX_FAILURES)
        throttle.failed("eve@example.org", "staff")  # typed one way, counted for all
        failures.append(clock.now())
    assert throttle.allows("someone.else@example.org", "staff")
    assert throttle.allows("eve@example.org", "candidate")  # the other form's account
    clock.advance(seconds=WINDOW.total_seconds() + 1)
    assert throttle.allows(spelling, "staff")  # a window, not a lock


def test_an_unknown_address_is_counted_like_a_known_one() -> None:
    """The limiter never asks whether the account exists: nothing to read from a 429."""
    clock = ManualClock(START)
    throttle = LoginThrottle(MemorySessionStore(), clock)
    for email in ("registered@example.org", "nobody@example.org"):
        for _ in range(MAX_FAILURES):
            assert throttle.allows(email, "candidate")
            throttle.failed(email, "candidate")
        assert not throttle.allows(email, "candidate")
    clock.advance(minutes=15, seconds=1)
    assert throttle.allows("nobody@example.org", "candidate")
