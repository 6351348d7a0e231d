"""The lease store contract (issue 15): one body over every place the workers' leases are kept
— memory, the SQLite store's file, the PostgreSQL store's schema. A write is a compare-and-set:
over the version read, or over nothing; of two writers over the same row one wins."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.leases import MemoryLeases, PostgresLeases, SqliteLeases
from app.ports.leases import LeaseStore
from domain.lease import Lease
from tests.conftest import server_and_schema

T0 = datetime(2026, 12, 5, 9, 0, 0, 250000, tzinfo=UTC)
TERM = timedelta(seconds=10)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def adapter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LeaseStore]:
    kept: LeaseStore
    if request.param == "memory":
        kept = MemoryLeases()
    elif request.param == "sqlite":
        kept = SqliteLeases(tmp_path / "vigie.sqlite")
    else:
        url: str = request.getfixturevalue("postgres_url")
        server, schema = server_and_schema(url)
        kept = PostgresLeases(server, schema)
    yield kept
    kept.close()


def test_a_lease_is_written_over_nothing_once_then_only_over_the_version_read(
    adapter: LeaseStore,
) -> None:
    assert list(adapter.leases()) == []
    first = Lease("outbox", "a", T0 + TERM)
    assert adapter.put(first, None)
    assert not adapter.put(Lease("outbox", "b", T0 + TERM), None)  # already there
    assert list(adapter.leases()) == [first]  # times come back exact and aware
    renewed = first.renewed(T0 + timedelta(seconds=3), TERM)
    assert adapter.put(renewed, first)
    stale = first.taken("b", T0 + TERM, TERM)  # written over the version 1, now gone
    assert not adapter.put(stale, first)
    assert list(adapter.leases()) == [renewed]
    assert adapter.put(Lease("worker:a", "a", T0 + TERM), None)  # kinds apart
    assert {lease.kind for lease in adapter.leases()} == {"outbox", "worker:a"}
    assert adapter.where


def test_of_many_writers_over_the_same_version_exactly_one_wins(adapter: LeaseStore) -> None:
    first = Lease("policies", "a", T0)
    assert adapter.put(first, None)

    def take(name: str) -> bool:
        return adapter.put(first.taken(name, T0 + TERM, TERM), first)

    with ThreadPoolExecutor(max_workers=8) as pool:
        won = list(pool.map(take, [f"w{n}" for n in range(8)]))
    assert won.count(True) == 1
    (kept,) = adapter.leases()
    assert kept.holder == f"w{won.index(True)}" and kept.version == 2


def test_a_lease_is_removed_only_at_the_version_read(adapter: LeaseStore) -> None:
    gone = Lease("worker:a", "a", T0)
    assert adapter.put(gone, None)
    renewed = gone.renewed(T0, TERM)
    assert adapter.put(renewed, gone)
    assert not adapter.remove(gone)  # renewed meanwhile: it stays
    assert adapter.remove(renewed)
    assert list(adapter.leases()) == []
