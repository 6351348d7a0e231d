"""The Clock contract: aware time that never goes backwards. The `adapter` is a clock."""

from __future__ import annotations

from app.ports.clock import Clock

__all__ = ["test_a_clock_tells_aware_time_that_never_goes_backwards"]


def test_a_clock_tells_aware_time_that_never_goes_backwards(adapter: Clock) -> None:
    readings = [adapter.now() for _ in range(50)]
    assert all(r.tzinfo is not None and r.utcoffset() is not None for r in readings)
    assert readings == sorted(readings)
