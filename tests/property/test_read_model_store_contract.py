"""The read models' saved state (issue 15): one body over memory, the SQLite file and the
PostgreSQL schema — absent until saved, state and position together, never replaced by an
older position, another projection code's rows dropped when the newer code saves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.keys.memory import MemoryKeyStore
from adapters.read_model_store import (
    MemoryReadModelStore,
    PostgresReadModelStore,
    SealedReadModelStore,
    SqliteReadModelStore,
)
from app.ports.read_model_store import ReadModelStore, SavedReadModels


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
        schema = parse_qs(urlparse(url).query)["schema"][0]
        kept = PostgresReadModelStore(url.split("?", maxsplit=1)[0], schema)
    yield kept
    kept.close()


def test_a_state_is_absent_until_saved_then_loaded_with_its_position(
    adapter: ReadModelStore,
) -> None:
    assert adapter.load("projections", "code-1") is None
    assert adapter.save(SavedReadModels("projections", "code-1", 10, b"\x00state", 3))
    assert adapter.load("projections", "code-1") == SavedReadModels(
        "projections", "code-1", 10, b"\x00state", 3
    )
    assert adapter.load("projections", "code-2") is None  # another code never loads it
    assert adapter.where


def test_an_older_state_never_replaces_a_newer_one(adapter: ReadModelStore) -> None:
    assert adapter.save(SavedReadModels("projections", "code-1", 50, b"newer"))
    assert not adapter.save(SavedReadModels("projections", "code-1", 40, b"older"))
    assert not adapter.save(SavedReadModels("projections", "code-1", 50, b"same position"))
    assert adapter.load("projections", "code-1") == SavedReadModels(
        "projections", "code-1", 50, b"newer"
    )


def test_a_newer_code_drops_the_states_of_the_others_and_clear_forgets_all(
    adapter: ReadModelStore,
) -> None:
    adapter.save(SavedReadModels("projections", "old-code", 90, b"old"))
    adapter.save(SavedReadModels("other", "old-code", 5, b"kept apart"))
    assert adapter.save(SavedReadModels("projections", "new-code", 30, b"new"))
    assert adapter.load("projections", "old-code") is None
    assert adapter.load("other", "old-code") is not None
    assert adapter.clear("projections") == 1
    assert adapter.load("projections", "new-code") is None


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(positions=st.lists(st.integers(1, 10**12), min_size=1, max_size=6), state=st.binary())
def test_the_kept_state_is_the_one_of_the_highest_position(
    adapter: ReadModelStore, positions: list[int], state: bytes
) -> None:
    adapter.clear("p")
    for position in positions:
        adapter.save(SavedReadModels("p", "c", position, state + str(position).encode()))
    kept = adapter.load("p", "c")
    assert kept is not None and kept.position == max(positions)
    assert kept.state == state + str(max(positions)).encode()
