"""The built-in workspaces' live state, kept in the store's database (issue 15): which
workspaces are open, when each exam tab last gave a sign of life, which questions the
candidate marked. Every node reads and writes the same rows, so any node serves any exam tab
and judges its heartbeat, and a restart orphans nothing.

A heartbeat replaces the last one (one row per workspace, never one event per beat): it is a
sign of life, not a fact of the exam. With it the row keeps what the tab last said of itself
(domain.exam_tab.TabState): never opened, open, or closing — a reload says « closing » too,
so whether that is a loss is judged later, by domain.exam_tab.tab_lost.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.exam_tab import TabSighting


class WorkspaceHeartbeats(Protocol):
    """Open workspaces, their last heartbeat and their marked questions."""

    def open(self, ref: str, attempt_id: UUID, at: datetime) -> None:
        """The workspace is open for the attempt, its tab not opened yet (again, for a
        workspace reopened after it was lost: R23). Its marked questions are kept."""
        ...

    def attempt_of(self, ref: str) -> UUID | None:
        """The attempt an open workspace serves; None once torn down (or never opened)."""
        ...

    def beat(self, ref: str, at: datetime) -> UUID | None:
        """A sign of life at `at` (the tab is open); the attempt the workspace serves, or None
        (and nothing recorded) when it is not open. One round trip: the tab beats every 5 s."""
        ...

    def closing(self, ref: str, at: datetime) -> None:
        """The tab said at `at` that its page is going away (closed, reloaded, or left with
        « Quitter »); nothing for a workspace that is not open."""
        ...

    def last_beat(self, ref: str) -> datetime | None:
        """When the tab last said something (the provisioning if nothing since); None when
        not open."""
        ...

    def sighting(self, ref: str) -> TabSighting | None:
        """What the tab last said of itself, and when; None when not open."""
        ...

    def marked(self, ref: str) -> frozenset[str]:
        """The questions marked to come back to (empty when not open)."""
        ...

    def mark(self, ref: str, question_id: str, marked: bool) -> None:
        """Mark or unmark one question (nothing for a workspace that is not open)."""
        ...

    def replace_marks(self, ref: str, question_ids: frozenset[str]) -> None:
        """The marks become exactly these (the whole form posted at once)."""
        ...

    def forget(self, ref: str) -> None:
        """The workspace is torn down: its row and its marks go (idempotent)."""
        ...

    def sightings(self) -> dict[str, TabSighting]:
        """Every open workspace's tab's last word, in one read (the deadline pass over them
        all)."""
        ...

    def close(self) -> None:
        """Release what the adapter holds (its connections)."""
        ...
