"""Python's cyclic garbage collector paused while the log is replayed (issue 15).

A replay makes objects by the million: each page's events, then what the read models keep
of them, none of them in a reference cycle. With the collector on, every few hundred new
objects set off a collection that walks the youngest again, and every tenth one the older
ones too: a tenth of a replay's time (`benchmarks.bench_store`, 0.16–0.2 µs of about 2 µs an
event). Reference counting still frees each event once it is applied. The collector is
turned back on at the end, if it was on, and then walks what is left once.

The switch is the process's: a thread replaying alongside finds it off and leaves it to the
thread that turned it off; whichever turned it off turns it back on.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """The collector off for the block (as msgspec's notes advise for large decodes)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
