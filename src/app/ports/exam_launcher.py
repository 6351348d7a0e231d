"""The exam launcher port: a workspace (virtual machine) per attempt (R15).

Lifecycle: provision → ready (a URL the exam tab opens) → heartbeat while it lives →
teardown. Provisioning may take a while: it runs in a worker, never in a web request, and
its outcome (ready, failed, timed out) becomes an event of the attempt.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID


class WorkspaceFailed(Exception):
    """The workspace could not be started (a reason an operator can act on)."""


class WorkspaceTimeout(WorkspaceFailed):
    """The workspace did not become ready in time."""


@dataclass(frozen=True)
class Workspace:
    """A ready workspace: its reference and the URL the exam tab opens."""

    ref: str
    url: str


class ExamLauncher(Protocol):
    """Provisions, watches and tears down exam workspaces."""

    def provision(self, attempt_id: UUID, timeout_s: float = 120.0) -> Workspace:
        """Start (or find again) the attempt's workspace and wait until it is ready;
        WorkspaceFailed or WorkspaceTimeout otherwise. Idempotent per attempt."""
        ...

    def heartbeat(self, ref: str) -> bool:
        """Whether the workspace is alive and still reachable."""
        ...

    def owns(self, ref: str) -> bool:
        """Whether this launcher can answer for that workspace (a process serving its own
        workspaces knows only those; a hypervisor's launcher knows all of its machines)."""
        ...

    def teardown(self, ref: str) -> None:
        """Destroy the workspace and what it held (idempotent)."""
        ...

    def silent(self, refs: Collection[str]) -> frozenset[str]:
        """Those of `refs` this launcher answers for (`owns`) that are not alive
        (`heartbeat`): the deadline pass asks once for every exam in progress."""
        ...
