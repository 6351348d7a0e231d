"""The built-in workspaces' heartbeats in the store (issue 15): what a beat and the deadline
pass's judgement cost on each adapter, against the in-memory adapter (what the process kept
before issue 15) measured in the same run.

Run: .venv/bin/python -m benchmarks.bench_heartbeats [--workspaces N] [--postgres URL] [--quick]

For each adapter (memory; SQLite on a temp file that the event store also holds open, as it
does in a deployment; PostgreSQL on a throwaway schema): N workspaces are provisioned, then
timed: N beats one after the other (a tab's POST /beat: the signature checked, one UPDATE …
RETURNING), N judgements one by one
(`heartbeat(ref)`) and one `silent(refs)` over all N (what the deadline pass asks). A
candidate's tab beats every 5 s: 1,000 candidates make 200 beats/s. Nothing is asserted.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote

from adapters.clock import SystemClock
from adapters.launcher.builtin import BuiltinWorkspaces
from adapters.workspace_heartbeats import (
    MemoryWorkspaceHeartbeats,
    PostgresWorkspaceHeartbeats,
    SqliteWorkspaceHeartbeats,
)
from app.links import LinkSigner
from app.ports.workspace_heartbeats import WorkspaceHeartbeats
from benchmarks.harness import (
    POSTGRES_SERVER,
    arguments,
    load_average,
    note,
    server_of,
    throwaway_schema,
    write_summary,
)


@contextmanager
def sqlite_file() -> Iterator[WorkspaceHeartbeats]:
    with tempfile.TemporaryDirectory(prefix="vigie-bench-") as folder:
        path = Path(folder) / "store.sqlite"
        store = sqlite3.connect(path)  # the event store's own connection, open all along
        store.execute("PRAGMA journal_mode=WAL")
        adapter = SqliteWorkspaceHeartbeats(path)
        try:
            yield adapter
        finally:
            adapter.close()
            store.close()


@contextmanager
def postgres(url: str) -> Iterator[WorkspaceHeartbeats]:
    with throwaway_schema(server_of(url)) as schema:
        adapter = PostgresWorkspaceHeartbeats(server_of(url), schema)
        try:
            yield adapter
        finally:
            adapter.close()


@contextmanager
def memory() -> Iterator[WorkspaceHeartbeats]:
    yield MemoryWorkspaceHeartbeats()


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measure(name: str, adapter: WorkspaceHeartbeats, n: int) -> dict[str, float]:
    launcher = BuiltinWorkspaces(LinkSigner(b"k" * 32, "http://127.0.0.1"), adapter, SystemClock())
    workspaces = [launcher.provision(uuid.uuid4()) for _ in range(n)]
    signed = [(w.ref, unquote(w.url.split("?t=", 1)[1])) for w in workspaces]
    refs = [w.ref for w in workspaces]
    note(f"  {name}: {n} workspaces provisioned")
    beats = timed(lambda: [launcher.beat(ref, token) for ref, token in signed])
    one_by_one = timed(lambda: [launcher.heartbeat(ref) for ref in refs])
    silent: frozenset[str] = frozenset()

    def bulk() -> None:
        nonlocal silent
        silent = launcher.silent(refs)

    at_once = timed(bulk)
    if silent:
        raise RuntimeError(f"{name}: {len(silent)} fresh workspaces judged silent")
    return {
        "beat_us": beats / n * 1e6,
        "judge_us": one_by_one / n * 1e6,
        "silent_ms": at_once * 1e3,
    }


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__)
    parser.add_argument("--workspaces", type=int, help="per adapter (1,000; quick 20)")
    parser.add_argument("--postgres", default=POSTGRES_SERVER, help="a local PostgreSQL URL")
    args = parser.parse_args(argv)
    n = args.workspaces or (20 if args.quick else 1000)
    before = load_average()
    results: dict[str, dict[str, float]] = {}
    for name, make in (
        ("memory", memory),
        ("SQLite", sqlite_file),
        ("PostgreSQL", lambda: postgres(args.postgres)),
    ):
        with make() as adapter:
            results[name] = measure(name, adapter, n)
    reference = results["memory"]
    print(f"load average before {before}, after {load_average()}; {n} workspaces each")
    print(
        f"{'adapter':<12} {'beat µs':>10} {'judge µs':>10} {'silent(N) ms':>13}  ratios to memory"
    )
    for name, row in results.items():
        ratios = " / ".join(
            f"{row[k] / reference[k]:.0f}×" if reference[k] else "-"
            for k in ("beat_us", "judge_us", "silent_ms")
        )
        print(
            f"{name:<12} {row['beat_us']:>10.1f} {row['judge_us']:>10.1f} "
            f"{row['silent_ms']:>13.2f}  {ratios}"
        )
    print(
        "beats/s one writer can take: "
        + ", ".join(f"{name} {1e6 / row['beat_us']:,.0f}" for name, row in results.items())
    )
    path = write_summary("heartbeats", {"workspaces": n, "quick": args.quick, "results": results})
    print(f"JSON summary: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
