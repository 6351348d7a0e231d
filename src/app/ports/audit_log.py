"""The audit log port: what the audit tool reads from the store, in bulk, and the store's own
hash chain (design: docs/audit.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from eventsourcing.domain import AggregateEvent


@dataclass(frozen=True)
class StoredRecord:
    """One stored event as bytes: its place, its type, its payload (JSON) and its chain."""

    stream: UUID
    version: int
    topic: str
    payload: bytes  # the event's JSON as the mapper wrote it (no chain header)
    chain_hash: str | None  # hex sha256 of the stored event, None when unchained (old rows)
    prev_hash: str | None


@dataclass(frozen=True)
class ChainBreak:
    """Where the store's chain does not hold, and why."""

    stream: UUID
    version: int
    problem: str

    def __str__(self) -> str:
        return f"stream {self.stream} version {self.version}: {self.problem}"


@dataclass
class ChainReport:
    """What `verify-store` found: counts, unchained (pre-chain) events, every break."""

    streams: int = 0
    events: int = 0
    chained: int = 0
    unchained: int = 0
    breaks: list[ChainBreak] = field(default_factory=list)
    heads_digest: str = ""

    @property
    def intact(self) -> bool:
        return not self.breaks


class AuditLog(Protocol):
    """Bulk reads for the audit tool, and the check of the store's hash chain."""

    def decided_reviews(self, after: int, limit: int) -> Sequence[tuple[int, UUID]]:
        """(position, review id) of each review decision recorded after `after`, oldest
        first, at most `limit`; an appeal's decision is one too (it gives the final verdict),
        so a review appealed later comes again."""
        ...

    def histories(self, stream_ids: Sequence[UUID]) -> Mapping[UUID, Sequence[AggregateEvent]]:
        """Every event of each stream, oldest first, in as few reads as the backend allows
        (unknown streams are absent from the result)."""
        ...

    def records(self, stream_ids: Sequence[UUID]) -> Mapping[UUID, Sequence[StoredRecord]]:
        """The stored bytes of each stream's events, oldest first, with their chain hashes."""
        ...

    def verify_chain(self, progress: Callable[[int], None] | None = None) -> ChainReport:
        """Check every stored event's hash and its link to the previous one of its stream."""
        ...
