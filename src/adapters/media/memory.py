"""Media kept in memory (fast tests) or in files, one folder per session (the default)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from uuid import UUID, uuid4

from app.ports.media_capture import MediaTooLarge, StoredMedia

MAX_MEDIA_BYTES = 512 * 1024 * 1024


def _stored(media_id: str, kind: str, data: bytes) -> StoredMedia:
    if len(data) > MAX_MEDIA_BYTES:
        raise MediaTooLarge(f"{kind}: {len(data)} bytes is over {MAX_MEDIA_BYTES}")
    return StoredMedia(media_id, f"sha256:{hashlib.sha256(data).hexdigest()}", len(data))


class MemoryMedia:
    """Media bytes in a dict, under references of its own (`memory-<kind>-<uuid>`): nothing in
    the application may depend on how an adapter names what it keeps."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def store(self, session_id: UUID, kind: str, data: bytes) -> StoredMedia:
        stored = _stored(f"memory-{kind}-{uuid4().hex}", kind, data)
        self.blobs[stored.media_id] = data
        return stored

    def load(self, media_id: str) -> bytes:
        return self.blobs[media_id]

    def delete(self, media_id: str) -> bool:
        return self.blobs.pop(media_id, None) is not None

    def live_segment(self, segment_media_id: str) -> str:
        """Live segments are the in-memory recorder's own (never kept here)."""
        return f"memory-live-{segment_media_id}"


class FileMedia:
    """Media files under a root folder; written to a temporary name then renamed, so a
    reference in the log never points to a half-written file. The live recorder writes its
    segments under `live_root` (a folder per session), inside this store's space."""

    LIVE_FOLDER = "live"

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def live_root(self) -> Path:
        """Where the live recorder writes (the composition root hands it this folder)."""
        return self.root / self.LIVE_FOLDER

    def live_segment(self, segment_media_id: str) -> str:
        return f"{self.LIVE_FOLDER}/{segment_media_id}"

    def store(self, session_id: UUID, kind: str, data: bytes) -> StoredMedia:
        # A folder per session; a fresh name per call, so deleting a media that a refused
        # command left behind never removes an accepted one with the same bytes.
        stored = _stored(f"{session_id}/{kind}-{uuid4().hex}", kind, data)
        path = self.root / stored.media_id
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return stored

    def _path(self, media_id: str) -> Path:
        path = (self.root / media_id).resolve()
        if self.root.resolve() not in path.parents:
            raise KeyError(media_id)
        return path

    def load(self, media_id: str) -> bytes:
        try:
            return self._path(media_id).read_bytes()
        except FileNotFoundError:
            raise KeyError(media_id) from None

    def delete(self, media_id: str) -> bool:
        """Overwritten with zeros before it is unlinked: a deleted photo does not linger in
        the file's old blocks for a raw scan of the folder's files to find."""
        path = self._path(media_id)
        try:
            with path.open("r+b") as handle:
                size = handle.seek(0, os.SEEK_END)
                handle.seek(0)
                handle.write(b"\0" * size)
                handle.flush()
                os.fsync(handle.fileno())
        except FileNotFoundError:
            return False
        path.unlink(missing_ok=True)
        return True
