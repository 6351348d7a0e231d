"""One contract body for the key store port (issue 8), run on memory, files and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse
from uuid import uuid4

import pytest

from adapters.keys.files import FileKeyStore
from adapters.keys.memory import MemoryKeyStore
from adapters.keys.postgres import PostgresKeyStore
from app.ports.key_store import KEY_BYTES, KeyStore


@pytest.fixture(params=["memory", "files", pytest.param("postgres", marks=pytest.mark.postgres)])
def keys(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyStore]:
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


def test_a_key_is_made_once_per_owner_and_kept(keys: KeyStore) -> None:
    alice, bob = uuid4(), uuid4()
    assert keys.existing_key(alice) is None
    key = keys.key_for(alice)
    assert key is not None and len(key) == KEY_BYTES
    assert keys.key_for(alice) == key == keys.existing_key(alice)
    assert keys.key_for(bob) not in (None, key)
    assert not keys.erased(alice)


def test_an_erased_owner_never_gets_a_key_again(keys: KeyStore) -> None:
    alice, bob = uuid4(), uuid4()
    keys.key_for(alice)
    bob_key = keys.key_for(bob)
    assert keys.erase(alice) is True
    assert keys.erased(alice)
    assert keys.key_for(alice) is None and keys.existing_key(alice) is None
    assert keys.erase(alice) is False  # nothing left to destroy
    assert keys.key_for(bob) == bob_key  # others untouched
    never = uuid4()
    assert keys.erase(never) is False and keys.key_for(never) is None


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
