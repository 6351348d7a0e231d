"""The key store port: one secret key per candidate, kept outside the event log.

A candidate's personal data (names, e-mail, birth data, password hashes) is sealed in the log
with that candidate's key. Destroying the key erases the person everywhere the log was copied
(events, backups, read models rebuilt), while every decision still replays and verifies: the
decisions never depended on the sealed fields.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol
from uuid import UUID

KEY_BYTES = 32  # AES-256-GCM


class KeyStore(Protocol):
    """Per-owner keys; an erased owner never gets a key again (tombstoned)."""

    def key_for(self, owner: UUID) -> bytes | None:
        """The owner's key, made on first use; None once the owner was erased."""
        ...

    def existing_key(self, owner: UUID) -> bytes | None:
        """The owner's key if one was ever made and not erased (never makes one)."""
        ...

    def existing_keys(self, owners: Collection[UUID]) -> Mapping[UUID, bytes]:
        """The keys of those owners that have one (an owner never given one, or erased, is
        left out), in one look-up: a replay opens a page's sealed rows with them."""
        ...

    def erase(self, owner: UUID) -> bool:
        """Destroy the owner's key for good; True if a key was destroyed now."""
        ...

    def erased(self, owner: UUID) -> bool:
        """Whether the owner's key was destroyed."""
        ...
