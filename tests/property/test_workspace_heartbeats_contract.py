"""The WorkspaceHeartbeats contract (vigie_contracts.workspace_heartbeats) on memory, SQLite
and PostgreSQL, and what the stored adapters add: two of them on the same database (two
nodes, or a node and its restart) read each other's rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from adapters.workspace_heartbeats import (
    MemoryWorkspaceHeartbeats,
    PostgresWorkspaceHeartbeats,
    SqliteWorkspaceHeartbeats,
)
from app.ports.workspace_heartbeats import WorkspaceHeartbeats
from tests.conftest import server_and_schema
from vigie_contracts.workspace_heartbeats import *  # noqa: F403 (the packaged contract bodies, collected here)

STORED = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _make(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> WorkspaceHeartbeats:
    if kind == "memory":
        return MemoryWorkspaceHeartbeats()
    if kind == "sqlite":
        return SqliteWorkspaceHeartbeats(tmp_path / "vigie.sqlite")
    url: str = request.getfixturevalue("postgres_url")
    server, schema = server_and_schema(url)
    return PostgresWorkspaceHeartbeats(server, schema)


@pytest.fixture(params=["memory", *STORED])
def adapter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[WorkspaceHeartbeats]:
    made = _make(request.param, request, tmp_path)
    yield made
    made.close()


@pytest.mark.parametrize("kind", STORED)
def test_two_nodes_on_one_database_read_each_others_heartbeats_and_marks(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    first, second = _make(kind, request, tmp_path), _make(kind, request, tmp_path)
    try:
        attempt, at = uuid4(), datetime(2025, 1, 27, 8, 0, 30, tzinfo=UTC)
        first.open("ws-x", attempt, datetime(2025, 1, 27, 8, 0, tzinfo=UTC))
        second.beat("ws-x", at)
        second.mark("ws-x", "q1", True)
        assert first.attempt_of("ws-x") == attempt and first.last_beat("ws-x") == at
        assert first.marked("ws-x") == frozenset({"q1"})
        first.forget("ws-x")
        assert second.attempt_of("ws-x") is None
    finally:
        first.close()
        second.close()
