"""The hash functions of the audit trail, shared by the store's chain (adapters) and the
evidence bundle's offline check (so a bundle can be checked against the store's hashes
without the store). Design: docs/audit.md."""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

import msgspec

HASH_BYTES = 32
GENESIS = bytes(HASH_BYTES)

_CANONICAL = msgspec.json.Encoder(order="sorted")


def stored_event_hash(
    prev_hash: bytes, originator_id: UUID, version: int, topic: str, payload: bytes
) -> bytes:
    """sha256(prev_hash | id (16 bytes) | version (8 bytes BE) | len(topic) (2 bytes BE) |
    topic | payload): the hash a stored event carries in its header."""
    topic_bytes = topic.encode()
    digest = hashlib.sha256(prev_hash)
    digest.update(originator_id.bytes)
    digest.update(version.to_bytes(8, "big"))
    digest.update(len(topic_bytes).to_bytes(2, "big"))
    digest.update(topic_bytes)
    digest.update(payload)
    return digest.digest()


def canonical_json(value: Any) -> bytes:
    """UTF-8 JSON, keys sorted, no spaces: the same value always gives the same bytes."""
    return _CANONICAL.encode(value)


def line_hash(prev_hex: str, line: bytes) -> str:
    """A bundle line's hash: sha256 over the previous line's hash (raw bytes) and the line."""
    return hashlib.sha256(bytes.fromhex(prev_hex) + line).hexdigest()


def file_hash(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()
