"""Python's garbage collector, seen and kept out of the way in a web process (issue 15).

A web process holds large, long-lived structures: the read models, the aggregates in use,
the templates. Python's cyclic collector walks them all again at every full collection: at
a thousand candidates that walk held the process (every request in it) 120 to 320 ms every
ten seconds or so, and freed nothing. So what the process holds once it is ready, and then
what survives each full collection, is `gc.freeze()`d: moved out of the collector's
generations (reference counting still frees it), so the next full collection walks only
what came since. Something frozen that later becomes garbage inside a reference cycle would
stay; once an hour (`UNFREEZE_EVERY_S`) everything is given back to the collector and the
next full collection reclaims such cycles. Every collection is timed (a Prometheus
histogram by generation) and one that holds the process long is logged.

The collector calls back in whatever thread allocated, at any point of its code: inside
prometheus_client too, holding the lock every metric of the process shares in multiprocess
mode (not reentrant). A callback that observed the histogram there waited for itself, and
the web process froze, every request and even SIGTERM with it (seen in a test run). So the
callback only notes the pause; `flush()` (after each request, and at each scrape) observes
and logs the notes, outside any lock."""

from __future__ import annotations

import gc
import logging
import time
from collections import deque
from typing import Any

from prometheus_client import Histogram

LOG = logging.getLogger("vigie.web")
LONG_PAUSE_S = 0.1  # a collection this long is logged: every request waited for it
UNFREEZE_EVERY_S = 3600.0

GC_PAUSE_SECONDS = Histogram(
    "vigie_gc_pause_seconds",
    "Time a web process spent in one garbage collection, by generation.",
    ["generation"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)

_started: list[float] = []
_unfrozen_at: list[float] = []  # when everything was last given back to the collector
# (generation, seconds, objects freed) of each collection not yet observed: appended and
# popped without a lock (a deque's ends are atomic), since the callback may run anywhere.
_noted: deque[tuple[str, float, int]] = deque(maxlen=10_000)


def _timed(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started.append(time.perf_counter())
        return
    if not _started:
        return
    seconds = time.perf_counter() - _started.pop()
    generation = str(info.get("generation", "?"))
    if generation == "2":
        now = time.monotonic()
        if _unfrozen_at and now - _unfrozen_at[0] >= UNFREEZE_EVERY_S:
            _unfrozen_at[0] = now
            gc.unfreeze()  # the next full collection walks it all once
        else:
            gc.freeze()  # the survivors: alive now, not walked again
    _noted.append((generation, seconds, int(info.get("collected", 0))))


def flush() -> None:
    """The collections noted since the last flush, observed and (the long ones) logged:
    called where this thread holds no metric's lock (see the module's note)."""
    while _noted:
        try:
            generation, seconds, freed = _noted.popleft()
        except IndexError:  # another thread took the last one
            return
        GC_PAUSE_SECONDS.labels(generation=generation).observe(seconds)
        if seconds >= LONG_PAUSE_S:
            LOG.warning(
                "a garbage collection (generation %s, %d objects freed) held this process %.0f ms",
                generation,
                freed,
                seconds * 1000,
            )


def settle() -> None:
    """Once the process is ready: what it holds now is never walked again, and each
    collection from now on is timed."""
    gc.collect()
    gc.freeze()
    _unfrozen_at[:] = [time.monotonic()]
    if _timed not in gc.callbacks:
        gc.callbacks.append(_timed)
