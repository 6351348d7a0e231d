"""Issue 15, workers sharing the work through leases: the rules (domain.lease) and one worker's
keeper (app.leases) on a lease store in memory, time passed in by a manual clock. Taking,
renewing, expiring, taking over, splitting the kinds; a holder that lost its lease stops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from adapters.clock import ManualClock
from adapters.leases import MemoryLeases
from app.leases import LeaseKeeper
from domain.lease import Lease, LeaseHeld, fair_share, plan, presence_kind

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
TERM = timedelta(seconds=10)
KINDS = ("policies", "outbox", "deadlines", "provisioning")


def keeper(store: MemoryLeases, clock: ManualClock, name: str) -> LeaseKeeper:
    return LeaseKeeper(store, clock, KINDS, holder=name, term=TERM)


def test_a_lease_is_renewed_by_its_holder_and_taken_by_another_only_once_expired() -> None:
    lease = Lease("outbox", "a", T0 + TERM)
    assert lease.held_by("a", T0) and not lease.held_by("b", T0)
    assert lease.renewed(T0 + timedelta(seconds=5), TERM).expires_at == T0 + timedelta(seconds=15)
    with pytest.raises(LeaseHeld):
        lease.taken("b", T0 + timedelta(seconds=9), TERM)
    taken = lease.taken("b", T0 + TERM, TERM)  # at its expiry it is free
    assert (taken.holder, taken.version) == ("b", 2)
    given_up = lease.released(T0)
    assert not given_up.held_at(T0) and given_up.holder == ""  # free at once, nobody's


def test_a_lone_worker_takes_every_kind_and_renews_them() -> None:
    store, clock = MemoryLeases(), ManualClock(T0)
    alone = keeper(store, clock, "a")
    assert set(alone.keep().took) == set(KINDS)
    clock.advance(seconds=9)
    assert not alone.keep()  # renewed: nothing changed
    clock.advance(seconds=9)
    assert alone.held() == KINDS  # 18 s after taking them, held by the renewal at 9 s


def test_two_workers_split_the_kinds_then_the_survivor_takes_the_dead_ones_over() -> None:
    store, clock = MemoryLeases(), ManualClock(T0)
    a, b = keeper(store, clock, "a"), keeper(store, clock, "b")
    a.keep()
    assert b.keep().took == ()  # all held by a, whose share is now two
    assert len(a.keep().released) == 2
    assert len(b.keep().took) == 2
    assert set(a.held()) | set(b.held()) == set(KINDS) and not set(a.held()) & set(b.held())
    # b dies (renews no more): within the term its kinds are a's.
    b_kinds = set(b.held())
    clock.advance(seconds=5)
    a.keep()
    assert len(a.held()) == 2
    clock.advance(seconds=6)
    assert set(a.keep().took_over) == b_kinds
    assert a.held() == KINDS


def test_a_holder_that_could_not_renew_stops_before_another_takes_over() -> None:
    store, clock = MemoryLeases(), ManualClock(T0)
    a, b = keeper(store, clock, "a"), keeper(store, clock, "b")
    a.keep()
    clock.advance(seconds=10)  # a stalled a whole term (the store out of reach, a pause)
    assert a.held() == ()  # it stops on its own, before hearing of anyone
    assert set(b.keep().took_over) == set(KINDS)
    assert set(a.keep().lost) == set(KINDS)  # its next round tells it (and its log)
    assert a.held() == ()


def test_a_renewal_refused_by_the_store_is_a_lost_lease() -> None:
    store, clock = MemoryLeases(), ManualClock(T0)
    a = keeper(store, clock, "a")
    a.keep()
    current = next(lease for lease in store.leases() if lease.kind == "outbox")
    assert store.put(current.taken("intruder", T0 + TERM, TERM), current)  # a wrong clock
    news = a.keep()
    assert "outbox" in news.lost and not a.holds("outbox")


def test_a_dead_workers_presence_is_removed_a_term_after_it_expired() -> None:
    store, clock = MemoryLeases(), ManualClock(T0)
    a, b = keeper(store, clock, "a"), keeper(store, clock, "b")
    a.keep()
    b.keep()
    clock.advance(seconds=15)  # b is gone; its presence expired 5 s ago
    a.keep()
    assert presence_kind("b") in {lease.kind for lease in store.leases()}
    clock.advance(seconds=6)
    a.keep()
    assert {lease.kind for lease in store.leases()} == {*KINDS, presence_kind("a")}


def test_a_clean_stop_gives_the_leases_back_at_once() -> None:
    store, clock = MemoryLeases(), ManualClock(T0)
    a, b = keeper(store, clock, "a"), keeper(store, clock, "b")
    a.keep()
    assert set(a.release_all()) == set(KINDS)
    assert set(b.keep().took) == set(KINDS)  # no term to wait


LEASES = st.lists(
    st.builds(
        Lease,
        kind=st.sampled_from([*KINDS, presence_kind("a"), presence_kind("b"), presence_kind("c")]),
        holder=st.sampled_from(["a", "b", "c"]),
        expires_at=st.integers(-20, 20).map(lambda s: T0 + timedelta(seconds=s)),
    ),
    max_size=10,
)


@settings(max_examples=150, deadline=None)
@given(leases=LEASES, me=st.sampled_from(["a", "b"]))
def test_a_plan_never_takes_a_kind_held_by_a_live_other_and_keeps_to_its_share(
    leases: list[Lease], me: str
) -> None:
    by_kind = {lease.kind: lease for lease in leases}
    decided = plan(me, KINDS, list(by_kind.values()), T0)
    for kind in decided.take:
        assert kind not in by_kind or not by_kind[kind].held_at(T0)
    for kind in decided.renew + decided.release:
        assert by_kind[kind].held_by(me, T0)
    workers = {
        lease.holder
        for lease in by_kind.values()
        if lease.kind.startswith("worker:") and lease.held_at(T0)
    } | {me}
    share = fair_share(len(KINDS), len(workers))
    assert len(decided.renew) + len(decided.take) <= share
    assert not set(decided.take) & set(decided.renew)
    free = [k for k in KINDS if k not in by_kind or not by_kind[k].held_at(T0)]
    assert len(decided.renew) + len(decided.take) == min(share, len(decided.renew) + len(free))


class Workers(RuleBasedStateMachine):
    """Three workers on one lease store, rounds and time in any order, some stalling: never
    two believe they hold the same kind at once."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(T0)
        self.store = MemoryLeases()
        self.keepers = {name: keeper(self.store, self.clock, name) for name in "abc"}

    @rule(name=st.sampled_from("abc"))
    def a_round(self, name: str) -> None:
        self.keepers[name].keep()

    @rule(seconds=st.integers(1, 12))
    def time_passes(self, seconds: int) -> None:
        self.clock.advance(seconds=seconds)

    @rule(name=st.sampled_from("abc"))
    def a_clean_stop(self, name: str) -> None:
        self.keepers[name].release_all()

    @invariant()
    def no_kind_has_two_holders(self) -> None:
        for kind in KINDS:
            holders = [n for n, k in self.keepers.items() if k.holds(kind)]
            assert len(holders) <= 1, (kind, holders)

    @invariant()
    def the_store_agrees_with_each_holder(self) -> None:
        rows = {lease.kind: lease for lease in self.store.leases()}
        for name, kept in self.keepers.items():
            for kind in kept.held():
                assert rows[kind].holder == name


Workers.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
test_workers_never_share_a_kind = Workers.TestCase
