"""Keys as files, one per owner (the embedded default: `vigie-data/keys/`).

A key is written to a temporary file (mode 0600), fsynced and renamed, so a crash never leaves
half a key. Erasing overwrites the file with zeros, fsyncs, unlinks it and leaves a tombstone
(`<owner>.erased`), so the owner never gets a new key by mistake. Keep this folder out of the
backups of the event log: a key restored from a backup would undo an erasure.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Collection, Mapping
from pathlib import Path
from uuid import UUID

from app.ports.key_store import KEY_BYTES


class FileKeyStore:
    """KeyStore on a local folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = threading.Lock()

    def _key_path(self, owner: UUID) -> Path:
        return self.folder / f"{owner}.key"

    def _tombstone(self, owner: UUID) -> Path:
        return self.folder / f"{owner}.erased"

    def key_for(self, owner: UUID) -> bytes | None:
        with self._lock:
            if self._tombstone(owner).exists():
                return None
            existing = self._read(owner)
            if existing is not None:
                return existing
            key = os.urandom(KEY_BYTES)
            fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=".partial-")
            try:
                os.fchmod(fd, 0o600)
                os.write(fd, key)
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                # link, not rename: another process that made its key first wins.
                os.link(temporary, self._key_path(owner))
            except FileExistsError:
                pass
            finally:
                os.unlink(temporary)
            return self._read(owner)

    def existing_key(self, owner: UUID) -> bytes | None:
        with self._lock:
            return self._read(owner)

    def _read(self, owner: UUID) -> bytes | None:
        try:
            key = self._key_path(owner).read_bytes()
        except FileNotFoundError:
            return None
        if len(key) != KEY_BYTES:
            raise ValueError(f"key file of {owner} is damaged ({len(key)} bytes)")
        return key

    def existing_keys(self, owners: Collection[UUID]) -> Mapping[UUID, bytes]:
        found = {owner: self.existing_key(owner) for owner in owners}
        return {owner: key for owner, key in found.items() if key is not None}

    def erase(self, owner: UUID) -> bool:
        with self._lock:
            self._tombstone(owner).touch()
            path = self._key_path(owner)
            try:
                with path.open("r+b") as handle:
                    handle.write(b"\0" * KEY_BYTES)
                    handle.flush()
                    os.fsync(handle.fileno())
            except FileNotFoundError:
                return False
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            return True

    def erased(self, owner: UUID) -> bool:
        return self._tombstone(owner).exists()
