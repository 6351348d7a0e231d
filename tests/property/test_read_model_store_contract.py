"""The read model store contract (vigie_contracts.read_model_store), run on memory, the SQLite
file, the sealed store bootstrap wires, and the PostgreSQL schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.keys.memory import MemoryKeyStore
from adapters.read_model_store import (
    MemoryReadModelStore,
    PostgresReadModelStore,
    SealedReadModelStore,
    SqliteReadModelStore,
)
from app.ports.read_model_store import ReadModelStore, SavedReadModels
from tests.conftest import server_and_schema
from vigie_contracts.read_model_store import *  # noqa: F403 (the packaged contract bodies)


@pytest.fixture(
    params=["memory", "sqlite", "sealed", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def adapter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReadModelStore]:
    kept: ReadModelStore
    if request.param == "memory":
        kept = MemoryReadModelStore()
    elif request.param == "sqlite":
        kept = SqliteReadModelStore(tmp_path / "vigie.sqlite")
    elif request.param == "sealed":  # what bootstrap wires: encrypted over the SQLite table
        kept = SealedReadModelStore(SqliteReadModelStore(tmp_path / "v.sqlite"), MemoryKeyStore())
    else:
        url: str = request.getfixturevalue("postgres_url")
        server, schema = server_and_schema(url)
        kept = PostgresReadModelStore(server, schema)
    yield kept
    kept.close()


def test_the_sealed_store_leaves_no_personal_data_readable_in_the_file(tmp_path: Path) -> None:
    """What only the sealed adapter promises (the contract above holds for all four): the
    state's bytes, e-mails and names, never reach the SQLite file in clear."""
    state = b"camille.martin@example.org Camille Martin"
    sealed = SealedReadModelStore(SqliteReadModelStore(tmp_path / "v.sqlite"), MemoryKeyStore())
    try:
        assert sealed.save(SavedReadModels("projections", "code-1", 7, state, 0))
        assert sealed.load("projections", "code-1") == SavedReadModels(
            "projections", "code-1", 7, state, 0
        )
    finally:
        sealed.close()
    on_disk = b"".join(p.read_bytes() for p in tmp_path.glob("v.sqlite*"))
    assert b"camille.martin@example.org" not in on_disk
    assert b"Camille Martin" not in on_disk
