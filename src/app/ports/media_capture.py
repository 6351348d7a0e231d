"""The media capture port: photos and recordings kept outside the event log.

The adapter names what it keeps: `store` returns a reference (`StoredMedia.media_id`, opaque to
the application) that the event records, and `load` and `delete` take that recorded reference
back; a live segment's reference comes from `live_segment`. The application never builds a
reference itself, so another adapter cannot change what erasure or retention deletes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from uuid import UUID


class MediaTooLarge(ValueError):
    """The media exceeds what the store accepts."""


class MediaNotKept(RuntimeError):
    """The media store could not write the bytes (a full disk, a lost mount: any OSError,
    kept as the cause; an object store's error). Nothing was recorded; the same command can be
    tried again."""


class MediaUnavailable(RuntimeError):
    """The media store could not be reached to read or delete (an object store down): nothing
    is known about the media, which is neither there nor gone; try again later."""


@dataclass(frozen=True)
class StoredMedia:
    """The adapter's reference to a kept media and the hash that the log records."""

    media_id: str
    content_hash: str
    size: int


class MediaCapture(Protocol):
    """Keeps media bytes; the log records only their references and hashes."""

    def store(self, session_id: UUID, kind: str, data: bytes) -> StoredMedia:
        """Keep the bytes atomically; a new reference for every call (storing the same bytes
        twice gives two media), with their size and sha256 hash. An OSError (a full disk)
        leaves nothing behind."""
        ...

    def load(self, media_id: str) -> bytes:
        """The bytes of a stored media (KeyError if unknown)."""
        ...

    def size(self, media_id: str) -> int:
        """The size in bytes of a stored media (KeyError if unknown): a player's ranges."""
        ...

    def load_range(self, media_id: str, start: int, stop: int) -> bytes:
        """The bytes `[start, stop)` of a stored media, fewer at its end (KeyError if unknown):
        the examiner's player seeks in a recording without it being read whole."""
        ...

    def session_media(self, session_id: UUID) -> list[str]:
        """Every reference this store holds for the session (photos, recordings, live
        segments), sorted: what erasure must leave empty."""
        ...

    def delete(self, media_id: str) -> bool:
        """Delete a stored media for good (retention, erasure); False if it was not there.
        MediaUnavailable when the store cannot say (it is then tried again later)."""
        ...

    def keep_live_segment(self, segment_media_id: str, path: Path) -> None:
        """The live recorder finished a segment at `path` (on this node's disk): keep it under
        `live_segment(segment_media_id)`. An object store uploads it and removes the file."""
        ...

    def live_segment(self, segment_media_id: str) -> str:
        """The reference under which this store holds a live segment, given the id the live
        recorder reported (`SegmentRecorded.media_id`): the recorder writes into this store's
        space, so retention and erasure delete segments through this port as well."""
        ...
