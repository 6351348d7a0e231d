"""Python's cyclic garbage collector paused while the log is replayed (issue 15).

A replay makes objects by the million: each page's events, then what the read models keep
of them, none of them in a reference cycle. With the collector on, every few hundred new
objects set off a collection that walks the youngest again, and every tenth one the older
ones too: a tenth of a replay's time (`benchmarks.bench_store`, 0.16–0.2 µs of about 2 µs an
event). Reference counting still frees each event once it is applied. The collector is
turned back on at the end, if it was on, and then walks what is left once.

The switch is the process's: while it is off, no thread's garbage is collected (only freed
by reference counting), so a pause is kept to a replay — a catch-up that met a full page
(`Replaying`) — and the store's decoding of one page, never a wait on the database alone.
A thread replaying alongside finds it off and leaves it alone; whichever thread turned it
off turns it back on, maybe in the middle of the other's replay, which then only goes slower.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """The collector off for the block, if it was on (as msgspec's notes advise for large
    decodes); back on at the end, whatever happens in the block."""
    if not gc.isenabled():
        yield
        return
    try:
        gc.disable()
        yield
    finally:
        gc.enable()


class Replaying:
    """The collector paused from the first full page of a catch-up to its end: a few events
    read in a request do not stop the collection for the process's other threads, a replay
    of thousands does (`with Replaying() as replay: … replay.page(len(page), batch)`)."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._paused = False

    def page(self, size: int, batch: int) -> None:
        """A page came back: a full one means more follow."""
        if size >= batch and not self._paused:
            self._stack.enter_context(paused())
            self._paused = True

    def __enter__(self) -> Replaying:
        return self

    def __exit__(self, *_: object) -> None:
        self._stack.close()
