"""The clock, ids and media capture contracts (vigie_contracts.clock, .ids, .media_capture), run
against every adapter of each port, and what only some adapters do."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from adapters.clock import ManualClock, SystemClock
from adapters.ids import RandomIds, SeededIds
from adapters.media.memory import FileMedia, MemoryMedia
from tests.s3_server import new_bucket, s3_media
from vigie_contracts.clock import *  # noqa: F403 (the packaged contract bodies, collected here)
from vigie_contracts.ids import *  # noqa: F403
from vigie_contracts.media_capture import *  # noqa: F403
from vigie_contracts.media_capture import Harness
from vigie_contracts.plugin import open_adapter

# Our adapters of each port, by the contract module whose tests they run.
ADAPTERS: dict[str, dict[str, Callable[..., Any]]] = {
    "vigie_contracts.clock": {
        "system": SystemClock,
        "manual": lambda: ManualClock(datetime(2025, 1, 27, 9, tzinfo=UTC)),
    },
    "vigie_contracts.ids": {"random": RandomIds, "seeded": lambda: SeededIds(3)},
    # Each with a store whose writes fail: a full memory store, a media folder under a
    # plain file (mkdir fails as on a lost mount), a bucket that does not exist.
    "vigie_contracts.media_capture": {
        "memory": lambda: Harness(MemoryMedia(), failing=lambda: MemoryMedia(capacity=16)),
        "files": lambda folder: Harness(
            FileMedia(folder / "media"), failing=lambda: FileMedia(_a_file(folder) / "media")
        ),
        "s3": lambda: Harness(
            s3_media(new_bucket()), failing=lambda: s3_media(f"missing-{uuid4().hex[:12]}")
        ),
    },
}


def _a_file(folder: Path) -> Path:
    plain = folder / "not-a-folder"
    plain.write_bytes(b"")
    return plain


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Each packaged test runs on every adapter of the port its contract module checks."""
    if "adapter" in metafunc.fixturenames:
        factories = ADAPTERS[metafunc.function.__module__]
        metafunc.parametrize("adapter", factories.values(), ids=factories.keys(), indirect=True)


@pytest.fixture
def adapter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A fresh adapter from the factory, as `vigie contract-tests` makes the operator's."""
    with open_adapter(request.param, tmp_path) as made:
        yield made


def test_a_manual_clock_moves_only_forward_when_told() -> None:
    clock = ManualClock(datetime(2025, 1, 27, 9, tzinfo=UTC))
    assert clock.advance(days=1, hours=2) == datetime(2025, 1, 28, 11, tzinfo=UTC)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(seconds=-1)
    with pytest.raises(ValueError, match="backwards"):
        clock.set(datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="aware"):
        ManualClock(datetime(2025, 1, 1))  # naive: refused


def test_seeded_ids_repeat_for_the_same_seed() -> None:
    first, again = SeededIds(5), SeededIds(5)
    assert [first.new_id() for _ in range(5)] == [again.new_id() for _ in range(5)]
    assert SeededIds(5).new_id() != SeededIds(6).new_id()


def test_file_media_leave_no_partial_file_and_refuse_paths_outside_the_root(
    tmp_path: Path,
) -> None:
    media = FileMedia(tmp_path / "media")
    stored = media.store(uuid4(), "face-photo", b"jpeg")
    assert not list((tmp_path / "media").rglob(".partial-*"))
    assert (tmp_path / "media" / stored.media_id).read_bytes() == b"jpeg"
    (tmp_path / "secret").write_bytes(b"x")
    with pytest.raises(KeyError):
        media.load("../secret")
    with pytest.raises(KeyError):
        media.delete("../secret")
    assert (tmp_path / "secret").exists()
