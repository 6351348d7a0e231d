"""Keys in a dict: for tests and `memory:` stores (nothing survives the process)."""

from __future__ import annotations

import os
import threading
from collections.abc import Collection, Mapping
from uuid import UUID

from app.ports.key_store import KEY_BYTES


class MemoryKeyStore:
    """KeyStore in memory."""

    def __init__(self) -> None:
        self._keys: dict[UUID, bytes] = {}
        self._erased: set[UUID] = set()
        self._lock = threading.Lock()

    def key_for(self, owner: UUID) -> bytes | None:
        with self._lock:
            if owner in self._erased:
                return None
            return self._keys.setdefault(owner, os.urandom(KEY_BYTES))

    def existing_key(self, owner: UUID) -> bytes | None:
        with self._lock:
            return self._keys.get(owner)

    def existing_keys(self, owners: Collection[UUID]) -> Mapping[UUID, bytes]:
        with self._lock:
            return {owner: self._keys[owner] for owner in owners if owner in self._keys}

    def erase(self, owner: UUID) -> bool:
        with self._lock:
            self._erased.add(owner)
            return self._keys.pop(owner, None) is not None

    def erased(self, owner: UUID) -> bool:
        with self._lock:
            return owner in self._erased
