"""The session store contract (issue 14), one body run against every adapter the composition
root picks: memory, the SQLite file of the event store, and PostgreSQL. Log-in attempts claim
their place in the counts in one step: claims at once never take more places than the limit
(F7's follow-up)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.bootstrap import Settings, session_store
from adapters.sessions.postgres import PostgresSessionStore
from app.login_throttle import ACCOUNT_CEILING, MAX_FAILURES, WINDOW
from app.ports.sessions import Count, SecondFactor, SessionStore, StoredSession

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CLAIMS_AT_ONCE = 40


@pytest.fixture
def adapter(store_url: str) -> Iterator[SessionStore]:
    sessions = session_store(Settings(database_url=store_url))
    yield sessions
    if isinstance(sessions, PostgresSessionStore):
        sessions.close()


def _session(account: str | None, *, hours: float = 8, idle_minutes: float = 30) -> StoredSession:
    return StoredSession(
        data={"staff": account, "lang": "en"} if account else {"lang": "fr"},
        account=account,
        expires_at=T0 + timedelta(hours=hours),
        idle_until=T0 + timedelta(minutes=idle_minutes),
    )


def test_a_session_is_found_by_its_key_with_its_data_and_owner(adapter: SessionStore) -> None:
    adapter.put("k1", _session("staff:1"))
    found = adapter.get("k1", T0)
    assert found is not None
    assert found.data == {"staff": "staff:1", "lang": "en"} and found.account == "staff:1"
    assert found.expires_at == T0 + timedelta(hours=8)
    assert adapter.get("k2", T0) is None


def test_a_session_ends_at_its_idle_end_and_at_its_absolute_end(adapter: SessionStore) -> None:
    adapter.put("k", _session("candidate:1", hours=1, idle_minutes=30))
    assert adapter.get("k", T0 + timedelta(minutes=29)) is not None
    assert adapter.get("k", T0 + timedelta(minutes=30)) is None  # idle
    adapter.refresh("k", T0 + timedelta(minutes=59), None)
    assert adapter.get("k", T0 + timedelta(minutes=58)) is not None
    adapter.refresh("k", T0 + timedelta(hours=5), {"candidate": "1", "notice": "x"})
    found = adapter.get("k", T0 + timedelta(minutes=59))
    assert found is not None and found.data == {"candidate": "1", "notice": "x"}
    assert found.idle_until == T0 + timedelta(hours=1)  # never past the absolute end
    assert adapter.get("k", T0 + timedelta(hours=1)) is None  # absolute


def test_the_event_loops_read_finds_what_the_read_finds(adapter: SessionStore) -> None:
    """`get_async` (the web's read, before nearly every request) answers as `get` does, on
    two event loops one after the other (a pool per loop on PostgreSQL)."""
    adapter.put("k", _session("staff:1", hours=1, idle_minutes=30))
    adapter.put("v", _session(None))

    async def reads() -> list[StoredSession | None]:
        return [
            await adapter.get_async("k", T0),
            await adapter.get_async("v", T0),
            await adapter.get_async("absent", T0),
            await adapter.get_async("k", T0 + timedelta(minutes=30)),  # idle
            await adapter.get_async("k", T0 + timedelta(hours=1)),  # absolute
        ]

    expected = [
        adapter.get("k", T0),
        adapter.get("v", T0),
        None,
        None,
        None,
    ]
    for _ in range(2):
        assert asyncio.run(reads()) == expected
    found = expected[0]
    assert found is not None and found.data == {"staff": "staff:1", "lang": "en"}


def test_an_ended_session_is_never_brought_back_by_a_late_refresh(adapter: SessionStore) -> None:
    adapter.put("k", _session("staff:1"))
    adapter.delete("k")
    adapter.refresh("k", T0 + timedelta(minutes=20), {"staff": "1"})
    assert adapter.get("k", T0) is None
    adapter.delete("k")  # twice: nothing to do, no error


def test_an_absolute_end_is_pushed_later_never_earlier_and_never_for_an_ended_session(
    adapter: SessionStore,
) -> None:
    """A candidate's exam tab keeps her session until her exam's end (ui.web.workspace):
    `extend` moves the absolute end later only, and brings back no session that ended."""
    adapter.put("k", _session("candidate:1", hours=1, idle_minutes=50))
    adapter.extend("k", T0 + timedelta(hours=3), T0)
    found = adapter.get("k", T0)
    assert found is not None and found.expires_at == T0 + timedelta(hours=3)
    adapter.extend("k", T0 + timedelta(hours=2), T0)  # earlier: nothing moves
    found = adapter.get("k", T0)
    assert found is not None and found.expires_at == T0 + timedelta(hours=3)
    adapter.refresh("k", T0 + timedelta(hours=2, minutes=30), None)  # idle, now past 1 h
    assert adapter.get("k", T0 + timedelta(hours=2)) is not None
    # Over at its idle end: a late extension does not bring it back.
    adapter.put("idle", _session("candidate:1", hours=1, idle_minutes=30))
    adapter.extend("idle", T0 + timedelta(hours=5), T0 + timedelta(minutes=31))
    idle = adapter.get("idle", T0 + timedelta(minutes=20))
    assert idle is not None and idle.expires_at == T0 + timedelta(hours=1)
    adapter.delete("k")
    adapter.extend("k", T0 + timedelta(hours=5), T0)
    assert adapter.get("k", T0) is None


def test_ending_an_account_ends_all_its_sessions_and_no_other(adapter: SessionStore) -> None:
    for key in ("a1", "a2", "a3"):
        adapter.put(key, _session("candidate:alice"))
    adapter.put("b1", _session("candidate:bob"))
    adapter.put("v1", _session(None))
    assert adapter.end_account("candidate:alice") == 3
    assert all(adapter.get(key, T0) is None for key in ("a1", "a2", "a3"))
    assert adapter.get("b1", T0) is not None and adapter.get("v1", T0) is not None
    assert adapter.end_account("candidate:alice") == 0


def test_purging_deletes_what_is_over_and_keeps_the_rest(adapter: SessionStore) -> None:
    adapter.put("idle", _session("staff:1", idle_minutes=10))
    adapter.put("old", _session("staff:2", hours=0.1, idle_minutes=60))
    adapter.put("alive", _session("staff:3", idle_minutes=60))
    assert adapter.purge(T0 + timedelta(minutes=30)) == 2
    assert adapter.get("alive", T0 + timedelta(minutes=30)) is not None
    adapter.refresh("idle", T0 + timedelta(hours=2), None)  # purged: stays gone
    assert adapter.get("idle", T0) is None


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ages=st.lists(st.integers(min_value=0, max_value=3000), max_size=12))
def test_attempts_are_counted_per_subject_within_the_window(
    adapter: SessionStore, ages: list[int]
) -> None:
    subject = uuid4().hex  # one per example: the adapter is shared by the examples
    now = T0 + timedelta(hours=2)
    for age in sorted(ages, reverse=True):
        at = now - timedelta(seconds=age)
        assert adapter.claim_attempt([Count(subject, None)], at, at - WINDOW).allowed
    adapter.claim_attempt([Count(uuid4().hex, None)], now, now - WINDOW)  # someone else's
    # Their instants, oldest first: the throttle says when the oldest that counts ages out.
    expected = sorted(now - timedelta(seconds=a) for a in ages if a < 900)
    claimed = adapter.claim_attempt([Count(subject, len(expected))], now, now - WINDOW)
    assert not claimed.allowed  # as many as the limit: this one is refused, and not counted
    assert [at.timestamp() for at in claimed.before[0]] == pytest.approx(
        [at.timestamp() for at in expected]
    )
    again = adapter.claim_attempt([Count(subject, len(expected) + 1)], now, now - WINDOW)
    assert again.allowed and len(again.before[0]) == len(expected)


def test_an_attempt_is_counted_in_every_subject_or_in_none(adapter: SessionStore) -> None:
    """One attempt counts for its place and its account; refused on either count, it counts
    for neither; a count without a limit is counted, never refused on; withdrawn, it is gone
    from both (and only one of two at the same instant)."""
    place, account = uuid4().hex, uuid4().hex
    since = T0 - WINDOW
    for _ in range(2):
        assert adapter.claim_attempt([Count(place, 2), Count(account, None)], T0, since).allowed
    refused = adapter.claim_attempt([Count(place, 2), Count(account, None)], T0, since)
    assert not refused.allowed and [len(times) for times in refused.before] == [2, 2]
    other = uuid4().hex  # another place of the account: only the account's ceiling applies
    ceiling = adapter.claim_attempt([Count(other, 2), Count(account, 2)], T0, since)
    assert not ceiling.allowed and [len(times) for times in ceiling.before] == [0, 2]
    adapter.withdraw_attempt([place, account], T0)
    assert adapter.claim_attempt([Count(other, 2), Count(account, 2)], T0, since).allowed
    counted = adapter.claim_attempt([Count(place, None), Count(account, None)], T0, since)
    assert [len(times) for times in counted.before] == [1, 2]  # nothing of the refused ones
    adapter.withdraw_attempt([uuid4().hex], T0)  # nothing to take back: nothing happens


def test_claims_at_once_never_take_more_places_than_the_limit(adapter: SessionStore) -> None:
    """F7's follow-up: forty attempts at once on one place (threads, each its own connection
    on the database adapters, as forty requests on several workers are) get ten places, and
    the account counts exactly those ten."""
    place, account = uuid4().hex, uuid4().hex
    start = threading.Barrier(CLAIMS_AT_ONCE)

    def claim(_: int) -> bool:
        start.wait()
        counts = [Count(place, MAX_FAILURES), Count(account, ACCOUNT_CEILING)]
        return adapter.claim_attempt(counts, T0, T0 - WINDOW).allowed

    with ThreadPoolExecutor(CLAIMS_AT_ONCE) as pool:
        allowed = list(pool.map(claim, range(CLAIMS_AT_ONCE)))
    assert sum(allowed) == MAX_FAILURES
    counted = adapter.claim_attempt([Count(place, None), Count(account, None)], T0, T0 - WINDOW)
    assert [len(times) for times in counted.before] == [MAX_FAILURES, MAX_FAILURES]


def test_old_failures_are_purged(adapter: SessionStore) -> None:
    adapter.claim_attempt([Count("s", None)], T0, T0 - WINDOW)
    adapter.purge(T0 + timedelta(days=2))
    claimed = adapter.claim_attempt([Count("s", None)], T0, T0 - timedelta(days=1))
    assert claimed.before == ((),)


def test_a_second_factor_step_is_used_once_and_never_an_older_one(adapter: SessionStore) -> None:
    staff = uuid4()
    assert adapter.second_factor(staff) is None
    assert adapter.use_step(staff, 5) is False  # no factor
    adapter.set_second_factor(staff, SecondFactor(b"\x00sealed", confirmed=False, last_step=0))
    adapter.set_second_factor(staff, SecondFactor(b"\x01sealed", confirmed=True, last_step=10))
    assert adapter.second_factor(staff) == SecondFactor(b"\x01sealed", True, 10)
    assert adapter.use_step(staff, 11) is True
    assert adapter.use_step(staff, 11) is False  # the same code again
    assert adapter.use_step(staff, 10) is False  # an older one
    assert adapter.second_factor(staff) == SecondFactor(b"\x01sealed", True, 11)
    assert adapter.remove_second_factor(staff) is True
    assert adapter.remove_second_factor(staff) is False
    assert adapter.second_factor(staff) is None
