"""The log-in counts (security finding F7), as properties: whatever the failures and their
times, a place is refused exactly while it had ten failures in the last fifteen minutes, an
unknown place also while the account had a hundred from everywhere, a known browser never
for the account's ceiling; never for ever; and the refusal says when the oldest failure that
counts ages out. The address's case or spaces do not make another account. An attempt is
counted before its password is checked, and a right password takes it back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.clock import ManualClock
from adapters.sessions.memory import MemorySessionStore
from app.known_devices import LIFETIME, KnownDevices, device_key
from app.login_throttle import (
    ACCOUNT_CEILING,
    MAX_FAILURES,
    WINDOW,
    Attempt,
    LoginThrottle,
    Place,
    Refusal,
)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HERE = Place("203.0.113.7")


def _refusal(throttle: LoginThrottle, email: str, area: str, place: Place) -> Refusal | None:
    """What a log-in with the right password meets: refused, or let in (its attempt taken
    back, so it leaves no failure)."""
    attempt = throttle.attempt(email, area, place)
    if isinstance(attempt, Refusal):
        return attempt
    throttle.succeeded(attempt)
    return None


def _failed(throttle: LoginThrottle, email: str, area: str, place: Place) -> None:
    """A wrong password, let through to be checked: its attempt stays, a failure."""
    assert isinstance(throttle.attempt(email, area, place), Attempt)


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.integers(min_value=0, max_value=400), min_size=0, max_size=30),
    spelling=st.sampled_from(["eve@example.org", " EVE@example.org ", "Eve@Example.org"]),
)
def test_a_place_is_refused_exactly_while_ten_of_its_failures_are_in_the_window(
    gaps: list[int], spelling: str
) -> None:
    clock = ManualClock(START)
    throttle = LoginThrottle(MemorySessionStore(), clock)
    failures: list[datetime] = []
    for gap in gaps:
        clock.advance(seconds=gap)
        recent = [at for at in failures if at > clock.now() - WINDOW]
        refusal = _refusal(throttle, spelling, "staff", HERE)
        assert (refusal is None) == (len(recent) < MAX_FAILURES)
        if refusal is not None:
            assert refusal.retry_at == recent[-MAX_FAILURES] + WINDOW and not refusal.account_wide
            continue  # a refused attempt checks no password: no failure either
        _failed(throttle, "eve@example.org", "staff", HERE)  # typed one way, counted for all
        failures.append(clock.now())
    assert _refusal(throttle, spelling, "staff", Place("192.0.2.1")) is None  # another place
    assert _refusal(throttle, "someone.else@example.org", "staff", HERE) is None
    assert _refusal(throttle, "eve@example.org", "candidate", HERE) is None  # the other form
    clock.advance(seconds=WINDOW.total_seconds() + 1)
    assert _refusal(throttle, spelling, "staff", HERE) is None  # a window, not a lock


def test_the_accounts_ceiling_refuses_unknown_places_and_never_a_known_browser() -> None:
    clock = ManualClock(START)
    throttle = LoginThrottle(MemorySessionStore(), clock)
    for n in range(ACCOUNT_CEILING):
        assert _refusal(throttle, "eve@example.org", "candidate", Place(f"10.0.{n}.1")) is None
        _failed(throttle, "eve@example.org", "candidate", Place(f"10.0.{n}.1"))
        clock.advance(seconds=1)
    refusal = _refusal(throttle, "eve@example.org", "candidate", Place("192.0.2.1"))
    assert refusal is not None and refusal.account_wide
    assert refusal.retry_at == START + WINDOW  # the first of the hundred ages out
    # Her own browser, even behind a guesser's address.
    assert _refusal(throttle, "eve@example.org", "candidate", Place("10.0.0.1", "d1")) is None
    clock.set(START + WINDOW + timedelta(seconds=1))
    assert _refusal(throttle, "eve@example.org", "candidate", Place("192.0.2.1")) is None


def test_an_unknown_address_is_counted_like_a_known_one() -> None:
    """The limiter never asks whether the account exists: nothing to read from a 429."""
    clock = ManualClock(START)
    throttle = LoginThrottle(MemorySessionStore(), clock)
    for email in ("registered@example.org", "nobody@example.org"):
        for _ in range(MAX_FAILURES):
            assert _refusal(throttle, email, "candidate", HERE) is None
            _failed(throttle, email, "candidate", HERE)
        assert _refusal(throttle, email, "candidate", HERE) is not None
    clock.advance(minutes=15, seconds=1)
    assert _refusal(throttle, "nobody@example.org", "candidate", HERE) is None


def test_second_factor_codes_are_counted_per_member() -> None:
    clock = ManualClock(START)
    throttle = LoginThrottle(MemorySessionStore(), clock)
    right = throttle.code_attempt("member-1", "second-factor")
    assert right is not None
    throttle.succeeded(right)  # a right code is no failure
    for _ in range(MAX_FAILURES):
        assert throttle.code_attempt("member-1", "second-factor") is not None  # wrong codes
    assert throttle.code_attempt("member-1", "second-factor") is None
    assert throttle.code_attempt("member-2", "second-factor") is not None


def test_a_right_password_leaves_no_failure_and_a_wrong_one_is_counted_before_its_check() -> None:
    clock = ManualClock(START)
    throttle = LoginThrottle(MemorySessionStore(), clock)
    for _ in range(3 * MAX_FAILURES):  # her own log-ins, however many, never count
        assert _refusal(throttle, "eve@example.org", "candidate", HERE) is None
    for _ in range(MAX_FAILURES):
        assert isinstance(throttle.attempt("eve@example.org", "candidate", HERE), Attempt)
    # Ten attempts claimed, none of them answered yet: the eleventh is refused all the same.
    refused = throttle.attempt("eve@example.org", "candidate", HERE)
    assert isinstance(refused, Refusal) and refused.retry_at == START + WINDOW


def test_a_known_device_cookie_names_its_accounts_for_180_days_and_opens_with_its_key() -> None:
    clock = ManualClock(START)
    devices = KnownDevices(device_key(b"k" * 32), clock)
    cookie = devices.remember("", "Eve@example.org", "candidate")
    device = devices.device_for(cookie, "eve@example.org", "candidate")
    assert device is not None
    assert devices.device_for(cookie, "eve@example.org", "staff") is None  # another form
    assert devices.device_for(cookie, "bob@example.org", "candidate") is None
    assert "eve" not in cookie.lower()  # sealed: the holder reads no account
    # A second account in the same browser: the browser keeps its id, both are known.
    both = devices.remember(cookie, "bob@example.org", "candidate")
    assert devices.device_for(both, "bob@example.org", "candidate") == device
    assert devices.device_for(both, "eve@example.org", "candidate") == device
    # Another platform's key, a changed letter, or nothing: an unknown browser.
    elsewhere = KnownDevices(device_key(b"o" * 32), clock)
    assert elsewhere.device_for(cookie, "eve@example.org", "candidate") is None
    tampered = cookie[:-5] + ("A" if cookie[-5] != "A" else "B") + cookie[-4:]
    assert devices.device_for(tampered, "eve@example.org", "candidate") is None
    assert devices.device_for("", "eve@example.org", "candidate") is None
    clock.advance(seconds=LIFETIME.total_seconds() - 60)
    assert devices.device_for(cookie, "eve@example.org", "candidate") == device
    clock.advance(seconds=61)
    assert devices.device_for(cookie, "eve@example.org", "candidate") is None
