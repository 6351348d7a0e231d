"""The ExamLauncher contract: one workspace per attempt, alive until torn down; a failed start
leaves nothing behind; concurrent requests for the same attempt share one workspace.

The `adapter` is an ExamLauncher, or a `Harness` that also reads what runs around the
launcher (from the hypervisor, say) and gives a launcher whose next start fails. With a bare
launcher only what the launcher itself answers is checked.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from uuid import UUID, uuid4

import pytest

from app.ports.exam_launcher import ExamLauncher, Workspace, WorkspaceFailed

__all__ = ["harness", "test_an_exam_launcher_keeps_one_workspace_per_attempt_until_torn_down"]

FAST = 5.0  # seconds: every workspace here starts at once, anything slower is a failure


@dataclass(frozen=True)
class Harness:
    """One launcher, a launcher sharing its workspaces whose next provision fails, and a
    view of what exists, read around the launcher (None: not known)."""

    launcher: ExamLauncher
    failing: Callable[[], ExamLauncher] | None = None
    running: Callable[[], set[str]] | None = None  # refs of the running workspaces
    existing: Callable[[], set[str]] | None = None  # refs of the workspaces in any state

    def close(self) -> None:
        """Close the launcher if it has anything to close."""
        close = getattr(self.launcher, "close", None)
        if callable(close):
            close()


@pytest.fixture
def harness(adapter: ExamLauncher | Harness) -> Harness:
    """The adapter as a Harness (a bare launcher gets one that sees nothing around it)."""
    return adapter if isinstance(adapter, Harness) else Harness(launcher=adapter)


def _running(harness: Harness, refs: set[str]) -> None:
    if harness.running is not None:
        assert harness.running() == refs


def _existing(harness: Harness, refs: set[str]) -> None:
    if harness.existing is not None:
        assert harness.existing() == refs


def _provision_all(launcher: ExamLauncher, attempts: list[UUID]) -> list[Workspace]:
    """Provisions every attempt from its own thread, all released at the same moment."""
    start = threading.Barrier(len(attempts))

    def provision(attempt: UUID) -> Workspace:
        start.wait(timeout=FAST)
        return launcher.provision(attempt, timeout_s=FAST)

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        return list(pool.map(provision, attempts))


def test_an_exam_launcher_keeps_one_workspace_per_attempt_until_torn_down(
    harness: Harness,
) -> None:
    launcher = harness.launcher
    first, second = uuid4(), uuid4()

    # Ready: a reference and a URL, alive; the same attempt again finds the same workspace.
    workspace = launcher.provision(first, timeout_s=FAST)
    assert workspace.ref and workspace.url
    assert launcher.heartbeat(workspace.ref)
    assert launcher.provision(first, timeout_s=FAST) == workspace
    assert launcher.owns(workspace.ref)  # it answers for what it started
    other = launcher.provision(second, timeout_s=FAST)
    assert other.ref != workspace.ref
    assert launcher.silent([workspace.ref, other.ref, "no-such-workspace"]) == frozenset()
    _running(harness, {workspace.ref, other.ref})

    # Teardown ends it, and only it; twice is harmless, as are refs never provisioned.
    launcher.teardown(workspace.ref)
    launcher.teardown(workspace.ref)
    assert not launcher.heartbeat(workspace.ref)
    assert launcher.heartbeat(other.ref)
    for unknown in ("no-such-workspace", f"{other.ref}-unknown", ""):
        assert not launcher.heartbeat(unknown)
        launcher.teardown(unknown)
    assert not launcher.owns("no-such-workspace")
    # Silent, in one call: what it answers for and is not alive, as asked one by one.
    asked = [workspace.ref, other.ref, "no-such-workspace"]
    one_by_one = {r for r in asked if launcher.owns(r) and not launcher.heartbeat(r)}
    assert launcher.silent(asked) == one_by_one and other.ref not in one_by_one
    assert launcher.silent([]) == frozenset()
    _existing(harness, {other.ref})

    # A failed start is WorkspaceFailed with a reason, and leaves nothing behind.
    if harness.failing is not None:
        with pytest.raises(WorkspaceFailed) as failure:
            harness.failing().provision(uuid4(), timeout_s=FAST)
        assert str(failure.value)
        _existing(harness, {other.ref})
    launcher.teardown(other.ref)
    _existing(harness, set())

    # Ten attempts at once, each asked for twice concurrently: ten distinct workspaces.
    attempts = [uuid4() for _ in range(10)]
    workspaces = _provision_all(launcher, attempts + attempts)
    assert workspaces[:10] == workspaces[10:]
    refs = {w.ref for w in workspaces}
    assert len(refs) == 10
    assert len({w.url for w in workspaces}) == 10
    _running(harness, refs)
    assert all(launcher.heartbeat(ref) for ref in refs)
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(launcher.teardown, refs))
    _existing(harness, set())
    assert not any(launcher.heartbeat(ref) for ref in refs)
