"""The Ids contract: unique UUIDs and four-digit validation codes (R18).

The `adapter` makes ids.
"""

from __future__ import annotations

from uuid import UUID

from app.ports.ids import Ids

__all__ = ["test_ids_are_unique_uuids_and_codes_are_four_digits"]


def test_ids_are_unique_uuids_and_codes_are_four_digits(adapter: Ids) -> None:
    made = [adapter.new_id() for _ in range(2000)]
    assert all(isinstance(i, UUID) for i in made)
    assert len(set(made)) == len(made)
    codes = [adapter.validation_code() for _ in range(200)]
    assert all(len(c) == 4 and c.isdigit() for c in codes)
    assert len(set(codes)) > 1
