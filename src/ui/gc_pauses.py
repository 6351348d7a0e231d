"""Python's garbage collector, seen and kept out of the way in a web process (issue 15).

A web process holds large, long-lived structures: the read models, the aggregates in use,
the templates. Python's cyclic collector walks them all again at every full collection, and
with a thousand candidates that walk held the process (every request in it) for hundreds
of milliseconds. So, once the process is ready, what it holds is `gc.freeze()`d: moved out
of the collector's generations, never walked again (CPython's advice for long-running
servers); what comes later is collected as before. Every collection is timed (a
Prometheus histogram by generation) and one that holds the process long is logged."""

from __future__ import annotations

import gc
import logging
import time
from typing import Any

from prometheus_client import Histogram

LOG = logging.getLogger("vigie.web")
LONG_PAUSE_S = 0.1  # a collection this long is logged: every request waited for it

GC_PAUSE_SECONDS = Histogram(
    "vigie_gc_pause_seconds",
    "Time a web process spent in one garbage collection, by generation.",
    ["generation"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)

_started: list[float] = []


def _timed(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started.append(time.perf_counter())
        return
    if not _started:
        return
    seconds = time.perf_counter() - _started.pop()
    generation = str(info.get("generation", "?"))
    GC_PAUSE_SECONDS.labels(generation=generation).observe(seconds)
    if seconds >= LONG_PAUSE_S:
        LOG.warning(
            "a garbage collection (generation %s, %d objects freed) held this process %.0f ms",
            generation,
            info.get("collected", 0),
            seconds * 1000,
        )


def settle() -> None:
    """Once the process is ready: what it holds now is never walked again, and each
    collection from now on is timed."""
    gc.collect()
    gc.freeze()
    if _timed not in gc.callbacks:
        gc.callbacks.append(_timed)
