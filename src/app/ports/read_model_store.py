"""Where the read models are kept between processes (issue 15): their whole state with the
log position it reflects, so a process starts from it and catches up only the tail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SavedReadModels:
    """The read models' state as of `position`, encoded by the projection code whose
    `fingerprint` it carries (another code version never loads it)."""

    name: str
    fingerprint: str
    position: int
    state: bytes
    # How many erasures the state reflects: its personal data is sealed with that
    # generation's key, destroyed once a later generation is saved (issue 8's erasure).
    generation: int = 0


class ReadModelStore(Protocol):
    """The newest saved state of each named set of read models."""

    where: str  # said to the operator ("kept in …")

    def load(self, name: str, fingerprint: str) -> SavedReadModels | None:
        """The newest state saved under that name by that projection code, or None."""
        ...

    def save(self, saved: SavedReadModels) -> bool:
        """Keep `saved` (state and position in one write) unless a state at the same or a
        later position is already kept for that code: True if it was kept."""
        ...

    def clear(self, name: str) -> int:
        """Forget every saved state of that name (a rebuild from the log follows); how many."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class LogHead(Protocol):
    """What this process heard of the log's head without asking the store (PostgreSQL's
    LISTEN/NOTIFY); None when it cannot vouch for it (not listening, connection lost)."""

    def known(self) -> int | None:
        """The last position the store announced, or None when a read must ask the store."""
        ...

    def close(self) -> None:
        """Stop listening."""
        ...
