"""The ReadModelStore contract (issue 15): a saved state is absent until saved, comes back
with its position and generation, is never replaced by one at an older position, and another
projection code's states go when the newer code saves. The `adapter` is an empty store."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.ports.read_model_store import ReadModelStore, SavedReadModels

__all__ = [
    "test_a_newer_code_drops_the_states_of_the_others_and_clear_forgets_all",
    "test_a_state_is_absent_until_saved_then_loaded_with_its_position",
    "test_an_older_state_never_replaces_a_newer_one",
    "test_the_kept_state_is_the_one_of_the_highest_position",
]


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
