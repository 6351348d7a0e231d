"""Issue 12, one load → decide → save with retry: the helper every use case goes through
decides again on fresh state after each conflict, waits a jittered, bounded back-off, and
reports a conflict that outlives its budget as StillContended (HTTP 409, never a 500)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.persistence.store import EventsourcingStore
from app.context import LONGEST_WAIT_S, RETRIES, StillContended, backoff, retrying
from domain.candidate import Account, Candidate

AT = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)


@given(attempt=st.integers(0, 64), draw=st.floats(0.0, 1.0, exclude_max=True))
def test_the_back_off_is_jittered_and_bounded(attempt: int, draw: float) -> None:
    wait = backoff(attempt, lambda: draw)
    assert 0.0 <= wait <= LONGEST_WAIT_S
    assert wait == pytest.approx(draw * backoff(attempt, lambda: 1.0))


@settings(max_examples=30, deadline=None)
@given(rivals=st.integers(0, RETRIES + 2))
def test_a_writer_beaten_n_times_by_a_rival_succeeds_within_the_budget_else_is_told_to_retry(
    rivals: int,
) -> None:
    """A rival saves the same candidate between our load and our save `rivals` times (real
    conflicts in the store): our change lands once, on fresh state, while tries remain."""
    store = EventsourcingStore("memory:")
    try:
        candidate = Candidate.register(
            candidate_id=uuid4(), email="c@example.org", surname="Martin", first_name="C", at=AT
        )
        store.save(candidate)
        beaten = 0
        waits: list[float] = []

        def reset(who: Candidate, token: str) -> None:
            who.request_password_reset(
                at=AT,
                account=Account.PROCTORING,
                token_id=token,
                expires_at=AT.replace(year=2026),
                purpose="reset",
            )

        def once() -> int:
            nonlocal beaten
            ours = store.get(candidate.id, Candidate)
            if beaten < rivals:
                beaten += 1
                rival = store.get(candidate.id, Candidate)
                reset(rival, f"rival-{beaten}")
                store.save(rival)
            reset(ours, "ours")
            store.save(ours)
            return ours.version

        if rivals < RETRIES:
            version = retrying(once, sleep=waits.append)
            assert len(waits) == rivals
            stored = store.get(candidate.id, Candidate)
            assert version == stored.version == 1 + rivals + 1
            assert "ours" in stored.reset_tokens
        else:
            with pytest.raises(StillContended):
                retrying(once, sleep=waits.append)
            assert len(waits) == RETRIES - 1
    finally:
        store.close()
