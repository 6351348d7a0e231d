"""`vigie serve`'s worker keeper and a stop signal sent to the whole process group (Ctrl-C,
systemd's default KillMode, `timeout`): the worker and the server get it at once, the worker
may be gone before the server has begun to stop, and the keeper must not take that for a
death (it printed « ended (exit code 0): starting another in 1 s » at every such stop, and
started a worker during the server's shutdown when that took over a second). A worker that
dies while the server runs is still started again.

The child here is a real process that stops on SIGTERM as `vigie worker` does (exit code 0):
what is tested is the keeper's reading of its end, not the worker's work."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from adapters.bootstrap import Settings
from ui import serve

_STOPS_ON_SIGTERM = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))\n"
    "time.sleep(60)\n"
)


@pytest.fixture
def keeper(monkeypatch: pytest.MonkeyPatch) -> Iterator[serve.WorkerKeeper]:
    def start_child(_settings: Settings) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-c", _STOPS_ON_SIGTERM])

    monkeypatch.setattr(serve, "start_worker", start_child)
    kept = serve.WorkerKeeper(Settings(), io.StringIO())
    yield kept
    kept.stop()


def _output(kept: serve.WorkerKeeper) -> str:
    assert isinstance(kept.out, io.StringIO)
    return kept.out.getvalue()


def test_a_worker_stopped_with_the_server_is_not_started_again(
    keeper: serve.WorkerKeeper,
) -> None:
    server_stopping = threading.Event()
    keeper.server_stopping = server_stopping.is_set
    first = keeper.start()
    time.sleep(0.3)  # the child has set its SIGTERM handler
    # The group's signal: the worker ends at once; the server notices a little later.
    assert keeper.child is not None
    keeper.child.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    server_stopping.set()
    time.sleep(2.5)  # past the grace and the first wait before a restart
    assert keeper.child.pid == first
    assert _output(keeper) == ""


def test_a_worker_that_dies_while_the_server_runs_is_started_again(
    keeper: serve.WorkerKeeper,
) -> None:
    first = keeper.start()
    assert keeper.child is not None
    keeper.child.send_signal(signal.SIGKILL)
    deadline = time.monotonic() + 8
    while keeper.child.pid == first and time.monotonic() < deadline:
        time.sleep(0.1)
    assert keeper.child.pid != first
    assert f"vigie worker process {first} ended (signal SIGKILL)" in _output(keeper)
