"""The checkpoints contract (issue 15): one body over every place a long job's progress may be
kept — memory, a folder, one file, the SQLite store's file, the PostgreSQL store's schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.checkpoints import (
    Checkpoints,
    FileCheckpoint,
    FileCheckpoints,
    MemoryCheckpoints,
    PostgresCheckpoints,
    SqliteCheckpoints,
)
from tests.conftest import server_and_schema


@pytest.fixture(
    params=["memory", "folder", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def adapter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Checkpoints]:
    kept: Checkpoints
    if request.param == "memory":
        kept = MemoryCheckpoints()
    elif request.param == "folder":
        kept = FileCheckpoints(tmp_path / "checkpoints")
    elif request.param == "sqlite":
        kept = SqliteCheckpoints(tmp_path / "vigie.sqlite")
    else:
        url: str = request.getfixturevalue("postgres_url")
        server, schema = server_and_schema(url)
        kept = PostgresCheckpoints(server, schema)
    yield kept
    kept.close()


def test_a_checkpoint_is_absent_until_saved_then_replaced_whole(adapter: Checkpoints) -> None:
    assert adapter.load("audit-replay") is None
    adapter.save("audit-replay", '{"position": 10}')
    adapter.save("other-job", '{"position": 1}')
    assert adapter.load("audit-replay") == '{"position": 10}'
    adapter.save("audit-replay", '{"position": 25}')
    assert adapter.load("audit-replay") == '{"position": 25}'
    assert adapter.load("other-job") == '{"position": 1}'  # each name apart
    assert adapter.where  # what the operator is told


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# A checkpoint is JSON (json.dumps escapes NUL), so no NUL byte, which PostgreSQL's text
# refuses, and no lone surrogate, which UTF-8 cannot hold.
@given(text=st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00")))
def test_any_json_text_comes_back_as_saved(adapter: Checkpoints, text: str) -> None:
    adapter.save("job", text)
    assert adapter.load("job") == text


def test_a_store_backed_checkpoint_outlives_its_reader(tmp_path: Path) -> None:
    """Another process (another node) opening the same store finds the progress."""
    SqliteCheckpoints(tmp_path / "vigie.sqlite").save("audit-replay", "{}")
    assert SqliteCheckpoints(tmp_path / "vigie.sqlite").load("audit-replay") == "{}"


def test_one_file_keeps_whatever_name_it_is_given(tmp_path: Path) -> None:
    single = FileCheckpoint(tmp_path / "cp.json")
    single.save("audit-replay", "[1]")
    assert (tmp_path / "cp.json").read_text() == "[1]" and single.load("anything") == "[1]"
