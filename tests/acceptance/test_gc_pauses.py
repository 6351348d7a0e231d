"""Issue 15: a web process's garbage collector never walks what it holds again and again
(ui/gc_pauses.py), yet still frees reference cycles, and gives everything back once in a
while so that a cycle among what was frozen is reclaimed too."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

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
