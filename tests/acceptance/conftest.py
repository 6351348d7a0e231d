"""Acceptance fixtures: the real composition root on the in-memory store, a manual clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.bootstrap import Platform
from tests.acceptance.web import Browsers
from ui.journey import Journey, make_platform


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = make_platform()
    yield platform
    platform.close()


@pytest.fixture
def journey(platform: Platform) -> Journey:
    return Journey(platform)


@pytest.fixture
def browser(platform: Platform) -> Iterator[Browsers]:
    """Browsers onto the web app over `platform`: `browser.open(journey)`, closed after."""
    browsers = Browsers(platform)
    yield browsers
    browsers.close()
