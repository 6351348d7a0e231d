"""Issue 12: a workspace request is claimed before the launcher is called, so of several
workers following the log, one provisions it; a claim whose runner died is taken over."""

from __future__ import annotations

from datetime import timedelta

from adapters.bootstrap import Platform
from adapters.launcher.memory import MemoryLauncher
from app.policies import CLAIM_LEASE_S, PolicyRunner, default_policies
from app.ports.event_store import Recorded
from app.use_cases import portal
from domain.exam_attempt import ExamAttempt
from domain.reaction_claim import ReactionClaim, claim_id
from ui.journey import Journey


def _requested(journey: Journey) -> Recorded:
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


def test_a_workspace_request_claimed_by_another_runner_is_left_to_it_and_taken_over_after_its_lease(
    journey: Journey, platform: Platform
) -> None:
    """R15: 'Je démarre maintenant' is provisioned once; a second runner meeting a held claim
    neither calls the launcher nor moves the policy past the request."""
    requested = _requested(journey)
    ctx = platform.ctx
    launcher = ctx.launcher
    assert isinstance(launcher, MemoryLauncher)
    # A runner claimed it and died before provisioning.
    ctx.store.save(
        ReactionClaim.claim(
            policy="provision-workspaces",
            position=requested.position,
            runner="runner-that-died",
            at=ctx.now(),
            lease_until=ctx.now() + timedelta(seconds=CLAIM_LEASE_S),
        )
    )
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
