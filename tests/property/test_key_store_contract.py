"""The key store contract (vigie_contracts.key_store), run on memory, files and PostgreSQL, and what
only the file store does."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest

from adapters.keys.files import FileKeyStore
from adapters.keys.memory import MemoryKeyStore
from adapters.keys.postgres import PostgresKeyStore
from app.ports.key_store import KeyStore
from tests.conftest import server_and_schema, throwaway_cluster
from vigie_contracts.key_store import *  # noqa: F403 (the packaged contract bodies, collected here)


@pytest.fixture(params=["memory", "files", pytest.param("postgres", marks=pytest.mark.postgres)])
def adapter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyStore]:
    if request.param == "memory":
        yield MemoryKeyStore()
    elif request.param == "files":
        yield FileKeyStore(tmp_path / "keys")
    else:
        url: str = request.getfixturevalue("postgres_url")
        server, schema = server_and_schema(url)
        store = PostgresKeyStore(server, schema=schema)
        yield store
        store.close()


def test_file_keys_are_private_and_erasure_leaves_no_key_bytes(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "keys")
    owner = uuid4()
    key = store.key_for(owner)
    assert key is not None
    path = tmp_path / "keys" / f"{owner}.key"
    assert path.stat().st_mode & 0o077 == 0
    store.erase(owner)
    assert not path.exists()
    assert all(key not in p.read_bytes() for p in (tmp_path / "keys").iterdir())
    assert FileKeyStore(tmp_path / "keys").key_for(owner) is None  # after a restart too


@pytest.mark.postgres
def test_the_postgresql_key_store_comes_back_after_a_postgresql_restart() -> None:
    """Issue 14: the key store held one connection and never reopened it, so enrolment and
    log-in failed until Vigie was restarted. A throwaway cluster is restarted (never the
    shared server); the same store object answers again."""
    with throwaway_cluster() as cluster:
        keys = PostgresKeyStore(cluster.url)
        try:
            owner = uuid4()
            key = keys.key_for(owner)
            cluster.restart()
            # The request in flight at the restart may fail; the next ones must not.
            with contextlib.suppress(psycopg.OperationalError):
                keys.existing_key(owner)
            assert keys.existing_key(owner) == key
            other = uuid4()
            assert keys.key_for(other) is not None
        finally:
            keys.close()
