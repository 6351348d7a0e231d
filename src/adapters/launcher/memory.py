"""An in-memory exam launcher: workspaces that exist only as names."""

from __future__ import annotations

from uuid import UUID

from app.ports.exam_launcher import WorkspaceFailed


class MemoryLauncher:
    """Provisions instantly; `fail_next` makes the next provision fail (tests)."""

    def __init__(self) -> None:
        self.running: set[str] = set()
        self.fail_next = False

    def provision(self, attempt_id: UUID) -> str:
        if self.fail_next:
            self.fail_next = False
            raise WorkspaceFailed(f"workspace for attempt {attempt_id} failed to start")
        ref = f"memory-workspace-{attempt_id}"
        self.running.add(ref)
        return ref

    def teardown(self, workspace_ref: str) -> None:
        self.running.discard(workspace_ref)
