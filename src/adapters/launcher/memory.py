"""An in-memory exam launcher: workspaces that exist only as names (fast tests)."""

from __future__ import annotations

import threading
from collections.abc import Collection
from uuid import UUID

from app.ports.exam_launcher import Workspace, WorkspaceFailed


class MemoryLauncher:
    """Provisions instantly; `fail_next` makes the next provision fail, `lose(ref)` makes a
    workspace stop answering (tests of the failure and loss paths)."""

    def __init__(self, base_url: str = "memory://workspace") -> None:
        self.base_url = base_url
        self.running: dict[str, UUID] = {}
        self.fail_next = False
        self._lock = threading.Lock()

    def provision(self, attempt_id: UUID, timeout_s: float = 120.0) -> Workspace:
        with self._lock:
            if self.fail_next:
                self.fail_next = False
                raise WorkspaceFailed(f"workspace for attempt {attempt_id} failed to start")
            ref = f"memory-{attempt_id}"
            self.running[ref] = attempt_id
            return Workspace(ref, f"{self.base_url}/{ref}")

    def heartbeat(self, ref: str) -> bool:
        with self._lock:
            return ref in self.running

    def owns(self, ref: str) -> bool:
        with self._lock:
            return ref in self.running

    def teardown(self, ref: str) -> None:
        with self._lock:
            self.running.pop(ref, None)

    def silent(self, refs: Collection[str]) -> frozenset[str]:
        return frozenset(r for r in refs if self.owns(r) and not self.heartbeat(r))

    def lose(self, ref: str) -> None:
        """The workspace stops answering, as a crashed machine would."""
        self.teardown(ref)
