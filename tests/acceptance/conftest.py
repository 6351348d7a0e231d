"""Acceptance fixtures: the real composition root on the in-memory store, a manual clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.bootstrap import Platform
from ui.journey import Journey, make_platform


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = make_platform()
    yield platform
    platform.close()


@pytest.fixture
def journey(platform: Platform) -> Journey:
    return Journey(platform)
