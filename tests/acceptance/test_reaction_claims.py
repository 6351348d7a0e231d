"""Issue 12: a workspace request is claimed before the launcher is called, so of several
workers following the log, one provisions it; a claim whose runner died is taken over: after
its lease, or as soon as its worker is known gone."""

from __future__ import annotations

from datetime import datetime, timedelta

from adapters.bootstrap import Platform
from adapters.clock import ManualClock
from adapters.launcher.memory import MemoryLauncher
from adapters.leases import MemoryLeases
from app.context import Context
from app.leases import LEASE_TERM_S, LeaseKeeper
from app.policies import CLAIM_LEASE_S, PolicyRunner, default_policies
from app.ports.event_store import Recorded
from app.use_cases import portal
from domain.exam_attempt import ExamAttempt
from domain.reaction_claim import ReactionClaim, claim_id
from ui.journey import Journey
from ui.worker import KINDS, Passes


def workspace_requested(journey: Journey) -> Recorded:
    """The journey's candidate clicked 'Je démarre maintenant': its request, as stored."""
    journey.enrol()
    journey.create_session()
    journey.through_checks()
    attempt_id = journey.to_tile()
    portal.start_now(journey.ctx, attempt_id)
    store = journey.ctx.store
    return next(
        r
        for r in store.read(0, store.head())
        if isinstance(r.event, ExamAttempt.WorkspaceRequested)
    )


def claimed_by(
    ctx: Context, requested: Recorded, runner: str, until: datetime | None = None
) -> None:
    """`runner` claimed the provisioning of `requested` (until the claim's lease, from now)."""
    at = ctx.now()
    until = until or at + timedelta(seconds=CLAIM_LEASE_S)
    claim = ReactionClaim.claim(
        policy="provision-workspaces",
        position=requested.position,
        runner=runner,
        at=at,
        lease_until=until,
    )
    ctx.store.save(claim)


def test_a_workspace_request_claimed_by_another_runner_is_left_to_it_and_taken_over_after_its_lease(
    journey: Journey, platform: Platform
) -> None:
    """R15: 'Je démarre maintenant' is provisioned once; a second runner meeting a held claim
    neither calls the launcher nor moves the policy past the request."""
    requested = workspace_requested(journey)
    ctx = platform.ctx
    launcher = ctx.launcher
    assert isinstance(launcher, MemoryLauncher)
    # A runner claimed it and died before provisioning.
    claimed_by(ctx, requested, "runner-that-died")
    second = PolicyRunner(ctx, default_policies())
    second.run_until_quiet()
    attempt = ctx.store.get(requested.event.originator_id, ExamAttempt)
    assert attempt.workspace_pending
    assert launcher.running == {}  # not called while another runner holds the request
    assert ctx.store.position_of("provision-workspaces") < requested.position
    assert ctx.store.position_of("mail-decisions") > requested.position  # the others go on

    platform.ctx.clock.advance(seconds=CLAIM_LEASE_S + 1)  # type: ignore[attr-defined]
    second.run_until_quiet()
    attempt = ctx.store.get(requested.event.originator_id, ExamAttempt)
    assert not attempt.workspace_pending and attempt.workspace_ref is not None
    assert list(launcher.running) == [attempt.workspace_ref]
    claim = ctx.store.get(claim_id("provision-workspaces", requested.position), ReactionClaim)
    assert claim.runner == second.name
    # Run again, or from a third runner: nothing is provisioned twice.
    PolicyRunner(ctx, default_policies()).run_until_quiet()
    assert ctx.store.get(requested.event.originator_id, ExamAttempt).version == attempt.version


def test_a_claim_whose_worker_is_gone_is_taken_over_once_its_presence_runs_out_not_after_minutes(
    journey: Journey, platform: Platform
) -> None:
    """A worker SIGKILLed between its claim and its reaction: the next worker provisions the
    request as soon as the dead one's presence lease has run out (seconds), not after the
    claim's five minutes, during which every later candidate's workspace would wait too."""
    requested = workspace_requested(journey)
    ctx = platform.ctx
    launcher = ctx.launcher
    assert isinstance(launcher, MemoryLauncher)
    leases, lease_clock = MemoryLeases(), ManualClock(ctx.now())
    dead = LeaseKeeper(leases, lease_clock, KINDS, holder="vm:101:dead01")
    dead.keep()  # alive: its presence lease and its kinds
    claimed_by(ctx, requested, dead.holder)
    live = LeaseKeeper(leases, lease_clock, KINDS, holder="vm:102:live02")
    live.keep()
    passes = Passes.of(platform, live)

    passes.provisioning()  # the claiming worker still renews its presence: left to it
    assert ctx.store.get(requested.event.originator_id, ExamAttempt).workspace_pending
    assert launcher.running == {}

    lease_clock.advance(seconds=LEASE_TERM_S + 1)  # the dead worker renewed nothing since
    live.keep()
    passes.provisioning()
    attempt = ctx.store.get(requested.event.originator_id, ExamAttempt)
    assert not attempt.workspace_pending and list(launcher.running) == [attempt.workspace_ref]
    claim = ctx.store.get(claim_id("provision-workspaces", requested.position), ReactionClaim)
    assert claim.runner == live.holder
    assert claim.held(ctx.now())  # taken over well within the dead one's claim lease
    assert ctx.store.position_of("provision-workspaces") >= requested.position


def test_a_claim_of_a_live_worker_is_never_taken_over_by_another(
    journey: Journey, platform: Platform
) -> None:
    """The other side: a worker renewing its presence keeps its claim for the whole lease,
    so a workspace is never provisioned by two workers at once."""
    requested = workspace_requested(journey)
    ctx = platform.ctx
    leases, lease_clock = MemoryLeases(), ManualClock(ctx.now())
    busy = LeaseKeeper(leases, lease_clock, KINDS, holder="vm:103:busy03")
    other = LeaseKeeper(leases, lease_clock, KINDS, holder="vm:104:othr04")
    claimed_by(ctx, requested, busy.holder)
    passes = Passes.of(platform, other)
    for _ in range(int(CLAIM_LEASE_S // LEASE_TERM_S) - 1):
        busy.keep()
        other.keep()
        passes.provisioning()
        lease_clock.advance(seconds=LEASE_TERM_S / 2)
    assert ctx.store.get(requested.event.originator_id, ExamAttempt).workspace_pending
    claim = ctx.store.get(claim_id("provision-workspaces", requested.position), ReactionClaim)
    assert claim.runner == busy.holder
