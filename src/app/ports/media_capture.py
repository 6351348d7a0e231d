"""The media capture port: photos and recordings kept outside the event log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID


class MediaTooLarge(ValueError):
    """The media exceeds what the store accepts."""


@dataclass(frozen=True)
class StoredMedia:
    """Where a media was kept and the hash that the log records."""

    media_id: str
    content_hash: str
    size: int


class MediaCapture(Protocol):
    """Keeps media bytes; the log records only ids and hashes."""

    def store(self, session_id: UUID, kind: str, data: bytes) -> StoredMedia:
        """Keep the bytes atomically and return their id and sha256 hash."""
        ...

    def load(self, media_id: str) -> bytes:
        """The bytes of a stored media (KeyError if unknown)."""
        ...

    def delete(self, media_id: str) -> bool:
        """Delete a stored media for good (retention, erasure); False if it was not there."""
        ...
