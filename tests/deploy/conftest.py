"""The deployment tests start real nodes in network namespaces (root, iproute2, socat,
HAProxy): without them CI fails (CI=1) and a workstation skips with the reason."""

from __future__ import annotations

import os

import pytest
from benchmarks.cluster import available


@pytest.fixture
def namespaces() -> None:
    """Root, iproute2, socat and HAProxy are there (the two-node test needs them)."""
    reason = available()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"the two-node test cannot run: {reason}", pytrace=False)
    pytest.skip(reason)
