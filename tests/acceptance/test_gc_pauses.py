"""Issue 15: a web process's garbage collector never walks what it holds again and again
(ui/gc_pauses.py), yet still frees reference cycles, and gives everything back once in a
while so that a cycle among what was frozen is reclaimed too."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ui import gc_pauses


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


@pytest.fixture
def settled() -> Iterator[None]:
    gc_pauses.settle()
    try:
        yield
    finally:
        gc.callbacks.remove(gc_pauses._timed)
        gc.unfreeze()


def test_what_a_process_holds_is_frozen_and_new_cycles_are_still_freed(settled: None) -> None:
    assert gc.get_freeze_count() > 0
    node = Node()
    dead = weakref.ref(node)
    del node
    gc.collect()
    assert dead() is None  # a cycle made after the freeze is freed as before
    survivor = Node()
    gc.collect()  # it survives a full collection: frozen with the rest
    assert any(o is survivor for o in gc.get_objects()) is False


def test_once_an_hour_everything_is_given_back_and_a_frozen_cycle_is_freed(
    settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = Node()
    dead = weakref.ref(node)
    gc.collect()  # alive then: frozen
    del node
    gc.collect()
    assert dead() is not None  # frozen garbage stays ...
    monkeypatch.setattr(gc_pauses, "UNFREEZE_EVERY_S", 0.0)
    gc.collect()  # ... until the hourly full walk gives everything back
    gc.collect()
    assert dead() is None


# Run in a process of its own: prometheus_client picks its multiprocess storage at import.
# Collections as often as the collector allows, while new labelled series are made: each is
# made under the lock every metric of the process shares, and allocates.
UNDER_THE_METRICS_LOCK = """
import gc
from prometheus_client import Counter
from ui import gc_pauses
gc_pauses.settle()
gc.set_threshold(1, 1, 1)
made = Counter("made_total", "series made", ["n"])
for n in range(3000):
    made.labels(n=str(n)).inc()
gc.set_threshold(700, 10, 10)
gc_pauses.flush()
print("done")
"""


def test_a_collection_inside_the_metrics_library_does_not_freeze_the_process(
    tmp_path: Path,
) -> None:
    """The collector calls back wherever it runs: inside prometheus_client, under the lock
    its multiprocess metrics share (not reentrant), the callback's own observation waited
    for itself and the web process froze, SIGTERM included (a test run's served node)."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    try:
        ran = subprocess.run(
            [sys.executable, "-c", UNDER_THE_METRICS_LOCK],
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=30,  # under a second without the freeze
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the process froze: a collection's callback waited on the metrics' lock")
    assert ran.returncode == 0 and ran.stdout.strip() == "done", ran.stderr[-2000:]
    # The collections were observed all the same, once flushed.
    assert any(path.name.startswith("histogram_") for path in tmp_path.iterdir())


def test_the_callback_only_notes_a_pause_and_flush_observes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    observed: list[tuple[str, float]] = []

    class Histogram:
        def labels(self, generation: str) -> Any:
            return SimpleNamespace(observe=lambda s: observed.append((generation, s)))

    monkeypatch.setattr(gc_pauses, "GC_PAUSE_SECONDS", Histogram())
    gc_pauses._noted.clear()  # the earlier tests' collections
    gc_pauses._timed("start", {"generation": 1})
    gc_pauses._timed("stop", {"generation": 1, "collected": 0})
    assert observed == []  # nothing called from inside the collector
    gc_pauses.flush()
    assert [generation for generation, _ in observed] == ["1"]
