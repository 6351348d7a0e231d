"""The web benchmark's optional profile (`benchmarks.bench_web --profile`): py-spy samples the
GIL's holder in every Vigie web process for one more window at the largest level, and the
samples are summed up by thread and by function."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

PROFILE_RATE_HZ = 97
PROFILE_LINES = 18


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def start_spies(
    pids: Sequence[int], folder: Path, seconds: float
) -> tuple[list[subprocess.Popen[bytes]], list[Path]]:
    """py-spy on each web process (`pids`) for `seconds`, sampling the thread that holds the
    GIL (the Python work a process can do is bounded by its GIL), collapsed stacks to files."""
    binary = py_spy()
    assert binary is not None
    spies, files = [], []
    for pid in pids:
        out = folder / f"py-spy-{pid}.txt"
        spies.append(
            subprocess.Popen(
                [
                    binary,
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(int(seconds)),
                    "--rate",
                    str(PROFILE_RATE_HZ),
                    "--format",
                    "raw",
                    "--nonblocking",
                    "--gil",
                    "--threads",
                    "--output",
                    str(out),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        files.append(out)
    return spies, files


def _function(frame: str) -> str:
    """'answer (ui/web/api.py:201)' → 'answer (ui/web/api.py)': functions, not lines."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/src/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})" if path else name


THREAD_KINDS = (
    ("MainThread", "event loop: uvicorn (httptools), Litestar routing and middleware"),
    ("vigie-", "Vigie's worker loops, when run in-process (ui/worker.py; vigie serve runs none)"),
    # The web app's handler threads (ui/web/app.py _handler_threads), then the loops' own.
    ("handler_", "request handlers in threads (sync_to_thread): store, templates"),
    ("asyncio_", "request handlers in threads (sync_to_thread): store, templates"),
    ("uvloop_", "request handlers in threads (sync_to_thread): store, templates"),
    ("AnyIO worker", "request handlers in threads (sync_to_thread): store, templates"),
)
BOILERPLATE = (
    "threading.py",
    "multiprocessing/",
    "uvicorn/_subprocess.py",
    "uvicorn/supervisors/",
    "uvicorn/server.py",
    "uvicorn/_compat.py",
    "asyncio/runners.py",
    "asyncio/base_events.py",
    "asyncio/events.py",
    "concurrent/futures/thread.py",
    "<module>",
)


def summarise_profile(files: Sequence[Path], seconds: float) -> list[str]:
    """Both workers' samples merged: how much of the time a thread held each worker's GIL,
    by thread, then the functions most often on the GIL holder's stack (inclusive; the
    interpreter's and the servers' frames that are on every stack left out) and at its
    top (self)."""
    total = 0
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    for path in files:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            count = int(count_text)
            frames = stack.split(";")
            total += count
            kind = next((k for key, k in THREAD_KINDS if key in frames[0]), "other threads")
            threads[kind] += count
            body = [_function(f) for f in frames[1:]] or [frames[0]]
            for name in set(body):
                if not any(marker in name for marker in BOILERPLATE):
                    inclusive[name] += count
            own[body[-1]] += count
    if not total:
        return ["py-spy recorded no samples"]
    possible = PROFILE_RATE_HZ * seconds * len(files)
    lines = [
        f"{total:,} samples of the GIL's holder in {len(files)} workers over {seconds:.0f} s: "
        f"a thread held a worker's GIL {total / possible:.0%} of the time",
        "-- share of the time each worker's GIL was held, by thread --",
    ]
    lines += [f"{n / possible:6.1%}  {name}" for name, n in threads.most_common()]
    lines.append("-- share of the GIL's samples: on the holder's stack (inclusive) --")
    lines += [f"{n / total:6.1%}  {name}" for name, n in inclusive.most_common(PROFILE_LINES)]
    lines.append("-- share of the GIL's samples: at the top of the stack (self) --")
    lines += [f"{n / total:6.1%}  {name}" for name, n in own.most_common(PROFILE_LINES)]
    return lines
