"""The key store contract (vigie_contracts.key_store), run on memory, files and PostgreSQL, and what
only the file store does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse
from uuid import uuid4

import pytest

from adapters.keys.files import FileKeyStore
from adapters.keys.memory import MemoryKeyStore
from adapters.keys.postgres import PostgresKeyStore
from app.ports.key_store import KeyStore
from vigie_contracts.key_store import *  # noqa: F403 (the packaged contract bodies, collected here)


@pytest.fixture(params=["memory", "files", pytest.param("postgres", marks=pytest.mark.postgres)])
def adapter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyStore]:
    if request.param == "memory":
        yield MemoryKeyStore()
    elif request.param == "files":
        yield FileKeyStore(tmp_path / "keys")
    else:
        url: str = request.getfixturevalue("postgres_url")
        schema = parse_qs(urlparse(url).query)["schema"][0]
        store = PostgresKeyStore(url.split("?", maxsplit=1)[0], schema=schema)
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
