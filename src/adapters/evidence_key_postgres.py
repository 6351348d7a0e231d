"""The evidence signing key kept in PostgreSQL (issue 15), in the keys' schema: every node
sharing the store signs with the same key without copying a file between machines, and the
event log's backups do not carry it. Created once (the first process to insert it wins, the
others read its row), then held in memory. A platform that kept its key in
vigie-data/evidence-signing-key.pem before issue 15 brings that key into the row, so its past
bundles still verify against the published key."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from psycopg import sql

from adapters.keys_schema import ensure_keys_table


class PostgresEvidenceKey:
    """EvidenceSigner over one row of `<keys schema>.vigie_evidence_key`."""

    def __init__(self, conninfo: str, keys_schema: str, *, legacy: Path | None = None) -> None:
        self._conninfo = conninfo
        self._legacy = legacy
        self._schema = keys_schema
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
                self._key = self._load()
            return self._key

    def _load(self) -> Ed25519PrivateKey:
        first = self._legacy_key() or Ed25519PrivateKey.generate()
        candidate = first.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as connection:
            table = ensure_keys_table(
                connection,
                self._schema,
                "vigie_evidence_key",
                "CREATE TABLE IF NOT EXISTS {} (one boolean PRIMARY KEY DEFAULT true "
                "CHECK (one), private_key bytea NOT NULL)",
            )
            connection.execute(
                sql.SQL("INSERT INTO {} (private_key) VALUES (%s) ON CONFLICT DO NOTHING").format(
                    table
                ),
                (candidate,),
            )
            row = connection.execute(sql.SQL("SELECT private_key FROM {}").format(table)).fetchone()
        if row is None:  # pragma: no cover - the row was just inserted
            raise RuntimeError("the evidence key's row vanished")
        return Ed25519PrivateKey.from_private_bytes(bytes(row[0]))

    def _legacy_key(self) -> Ed25519PrivateKey | None:
        if self._legacy is None or not self._legacy.exists():
            return None
        loaded = serialization.load_pem_private_key(self._legacy.read_bytes(), password=None)
        return loaded if isinstance(loaded, Ed25519PrivateKey) else None
