"""The platform's evidence signing key (issue 14): an Ed25519 private key in a PEM file,
generated once and kept with the platform's other secrets (mode 0600), read by every
process that signs (the web workers, `vigie audit export`).

The file is created atomically (written aside, then linked into place only if absent), so
two processes starting together end up with the same key. Several machines share one key by
pointing `VIGIE_EVIDENCE_KEY` at the same file (or a copy of it).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


class FileEvidenceKey:
    """EvidenceSigner over a PEM file, created on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key: Ed25519PrivateKey | None = None
        self._lock = threading.Lock()

    def public_key(self) -> bytes:
        return (
            self._private()
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )

    def sign(self, message: bytes) -> bytes:
        return self._private().sign(message)

    def _private(self) -> Ed25519PrivateKey:
        with self._lock:
            if self._key is None:
                if not self.path.exists():
                    _create(self.path)
                loaded = serialization.load_pem_private_key(self.path.read_bytes(), password=None)
                if not isinstance(loaded, Ed25519PrivateKey):
                    raise ValueError(f"{self.path}: not an Ed25519 private key")
                self._key = loaded
            return self._key


class EphemeralEvidenceKey:
    """A key for this process only (a `memory:` store: nothing outlives it either)."""

    def __init__(self) -> None:
        self._key = Ed25519PrivateKey.generate()

    def public_key(self) -> bytes:
        return self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


def _create(path: Path) -> None:
    """A new key at `path`, unless another process put one there first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor, aside = tempfile.mkstemp(dir=path.parent, prefix=".evidence-key-")
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process was first: keep theirs
            os.link(aside, path)
    finally:
        Path(aside).unlink(missing_ok=True)
