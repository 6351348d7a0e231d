"""The exam launcher port: a workspace (virtual machine) per attempt (R15)."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID


class WorkspaceFailed(Exception):
    """The workspace could not be provisioned."""


class ExamLauncher(Protocol):
    """Provisions and tears down the exam's workspace."""

    def provision(self, attempt_id: UUID) -> str:
        """Start a workspace for the attempt; returns its connection reference."""
        ...

    def teardown(self, workspace_ref: str) -> None:
        """Destroy the workspace (idempotent)."""
        ...
