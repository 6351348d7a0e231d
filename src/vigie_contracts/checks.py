"""A comparison that checks types as well as values: decoding bugs hide behind equal-looking
strings, and an id must come back a UUID, not its text."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from enum import Enum
from typing import Any


def assert_same_value(actual: Any, expected: Any, path: str = "value") -> None:
    """Equal, and of the same type all the way down (an id must come back a UUID)."""
    assert type(actual) is type(expected), (
        f"{path}: {type(actual).__name__} {actual!r} != {type(expected).__name__} {expected!r}"
    )
    if isinstance(expected, datetime):
        # Not `==`: aware datetimes in a DST fold never compare equal across zones (PEP 495).
        assert (actual.tzinfo is None) == (expected.tzinfo is None), path
        if expected.tzinfo is not None:
            assert actual - expected == timedelta(0), f"{path}: instant {actual!r}"
            assert actual.utcoffset() == expected.utcoffset(), f"{path}: offset {actual!r}"
        assert actual.replace(tzinfo=None) == expected.replace(tzinfo=None), f"{path}: wall time"
    elif dataclasses.is_dataclass(expected):
        for field in dataclasses.fields(expected):
            assert_same_value(
                getattr(actual, field.name), getattr(expected, field.name), f"{path}.{field.name}"
            )
    elif isinstance(expected, (tuple, list)):
        assert len(actual) == len(expected), f"{path}: {actual!r} != {expected!r}"
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same_value(a, e, f"{path}[{index}]")
    elif isinstance(expected, dict):
        assert set(actual) == set(expected), f"{path}: keys {sorted(actual)} != {sorted(expected)}"
        for key, value in expected.items():
            assert_same_value(actual[key], value, f"{path}[{key!r}]")
    elif isinstance(expected, Enum):
        assert actual is expected, f"{path}: {actual!r} is not {expected!r}"
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"
