"""Exam workspaces: provisioned by a worker, watched, torn down — each outcome an event.

Provisioning runs in the policy runner (a worker), never in a web request: the request only
records 'WorkspaceRequested'. A launcher provisions idempotently per attempt, so a worker that
crashes mid-way and runs again finds the same workspace.
"""

from __future__ import annotations

from collections.abc import Sequence

from eventsourcing.domain import Aggregate

from app.context import Context
from app.ports.event_store import Recorded
from app.ports.exam_launcher import WorkspaceFailed
from domain.exam_attempt import AttemptStatus, ExamAttempt

PROVISION_TIMEOUT_S = 120.0


class ProvisionWorkspaces:
    """R15: 'Je démarre maintenant' (or a reopen, R23) gets a workspace, or a failure."""

    name = "provision-workspaces"
    # Claimed before the launcher is called: one worker provisions each request (issue 12).
    claims_before_reacting = True

    def wants(self, recorded: Recorded) -> bool:
        return isinstance(recorded.event, ExamAttempt.WorkspaceRequested)

    def react(self, ctx: Context, recorded: Recorded) -> Sequence[Aggregate]:
        attempt = ctx.store.get(recorded.event.originator_id, ExamAttempt)
        if not attempt.workspace_pending:
            return []  # already connected, failed or deferred since
        try:
            workspace = ctx.launcher.provision(attempt.id, PROVISION_TIMEOUT_S)
        except WorkspaceFailed as failure:
            attempt.workspace_failed(at=ctx.now(), reason=str(failure))
            return [attempt]
        at = ctx.now()
        if attempt.status in (AttemptStatus.VALIDATED, AttemptStatus.QUIT):
            ctx.launcher.teardown(workspace.ref)
            return []
        attempt.workspace_connected(at=at, workspace_ref=workspace.ref, url=workspace.url)
        return [attempt]


class TearDownWorkspaces:
    """A workspace is destroyed when its attempt ends, is quit or deferred."""

    name = "tear-down-workspaces"
    claims_before_reacting = True

    def wants(self, recorded: Recorded) -> bool:
        return isinstance(
            recorded.event,
            ExamAttempt.ExamFinished | ExamAttempt.ExamQuit | ExamAttempt.ExamDeferred,
        )

    def react(self, ctx: Context, recorded: Recorded) -> Sequence[Aggregate]:
        attempt = ctx.store.get(recorded.event.originator_id, ExamAttempt)
        if attempt.workspace_ref is None:
            return []
        ctx.launcher.teardown(attempt.workspace_ref)
        attempt.workspace_torn_down(at=ctx.now())
        return [attempt]


def watch(ctx: Context, attempt: ExamAttempt) -> bool:
    """Close an exam whose time is up (R4) or that reached midnight (R16); record a
    workspace that stopped answering. True when something was recorded."""
    at = ctx.now()
    if attempt.close_at_time_limit(at=at):
        return True
    ref = attempt.workspace_ref
    if attempt.status is not AttemptStatus.IN_PROGRESS or ref is None:
        return False
    # A launcher judges the workspaces it can answer for: the built-in one every built-in
    # workspace (their heartbeats are in the store), a hypervisor's its machines.
    if ctx.launcher.owns(ref) and not ctx.launcher.heartbeat(ref):
        attempt.workspace_lost(at=at, reason="the workspace stopped answering")
        return True
    return False
