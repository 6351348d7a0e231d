"""Media kept in memory (fast tests) or in files, one folder per session (the default).
S3-compatible object storage is `adapters/media/s3.py`."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from uuid import UUID, uuid4

from app.ports.media_capture import MediaNotKept, MediaTooLarge, StoredMedia

MAX_MEDIA_BYTES = 512 * 1024 * 1024


def _stored(media_id: str, kind: str, data: bytes) -> StoredMedia:
    if len(data) > MAX_MEDIA_BYTES:
        raise MediaTooLarge(f"{kind}: {len(data)} bytes is over {MAX_MEDIA_BYTES}")
    return StoredMedia(media_id, f"sha256:{hashlib.sha256(data).hexdigest()}", len(data))


class MemoryMedia:
    """Media bytes in a dict, under references of its own (`memory-<session>-<kind>-<uuid>`):
    nothing in the application may depend on how an adapter names what it keeps. With a
    `capacity` it fills up like a disk (a write past it is MediaNotKept)."""

    def __init__(self, capacity: int | None = None) -> None:
        self.blobs: dict[str, bytes] = {}
        self.capacity = capacity

    def store(self, session_id: UUID, kind: str, data: bytes) -> StoredMedia:
        stored = _stored(f"memory-{session_id}-{kind}-{uuid4().hex}", kind, data)
        used = sum(len(b) for b in self.blobs.values())
        if self.capacity is not None and used + len(data) > self.capacity:
            raise MediaNotKept(f"{kind} for session {session_id}: the memory store is full")
        self.blobs[stored.media_id] = data
        return stored

    def load(self, media_id: str) -> bytes:
        return self.blobs[media_id]

    def size(self, media_id: str) -> int:
        return len(self.blobs[media_id])

    def load_range(self, media_id: str, start: int, stop: int) -> bytes:
        return self.blobs[media_id][start:stop]

    def session_media(self, session_id: UUID) -> list[str]:
        mine = (f"memory-{session_id}-", f"memory-live-{session_id}/")
        return sorted(m for m in self.blobs if m.startswith(mine))

    def delete(self, media_id: str) -> bool:
        return self.blobs.pop(media_id, None) is not None

    def live_segment(self, segment_media_id: str) -> str:
        return f"memory-live-{segment_media_id}"

    def keep_live_segment(self, segment_media_id: str, path: Path) -> None:
        self.blobs[self.live_segment(segment_media_id)] = path.read_bytes()
        path.unlink()


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

    def keep_live_segment(self, segment_media_id: str, path: Path) -> None:
        """The recorder writes under `live_root` already; a file from elsewhere is moved in."""
        target = self.root / self.live_segment(segment_media_id)
        if path.resolve() != target.resolve():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target)

    def store(self, session_id: UUID, kind: str, data: bytes) -> StoredMedia:
        try:
            return self._store(session_id, kind, data)
        except OSError as error:  # a full disk, a lost mount: nothing was written
            raise MediaNotKept(
                f"{kind} for session {session_id}: {error.strerror or error}"
            ) from error

    def _store(self, session_id: UUID, kind: str, data: bytes) -> StoredMedia:
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

    def size(self, media_id: str) -> int:
        try:
            return self._path(media_id).stat().st_size
        except FileNotFoundError:
            raise KeyError(media_id) from None

    def load_range(self, media_id: str, start: int, stop: int) -> bytes:
        try:
            with self._path(media_id).open("rb") as handle:
                handle.seek(start)
                return handle.read(max(0, stop - start))
        except FileNotFoundError:
            raise KeyError(media_id) from None

    def session_media(self, session_id: UUID) -> list[str]:
        found: list[str] = []
        for folder in (self.root / str(session_id), self.live_root / str(session_id)):
            if folder.is_dir():
                found += [
                    str(p.relative_to(self.root))
                    for p in folder.iterdir()
                    if p.is_file() and not p.name.startswith(".partial-")
                ]
        return sorted(found)

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
