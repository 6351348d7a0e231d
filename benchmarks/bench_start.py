"""Start-to-ready benchmark (issue 15): how long a fresh process (a `vigie` CLI command, a web
worker) takes to have its read models current on a PostgreSQL log of N events, starting from
the read models saved in the store, against the same start without a saved state (the whole
log replayed, as every process did before issue 15), measured in the same run.

Run: .venv/bin/python benchmarks/bench_start.py [--reviews N] [--tail-reviews M] [--quick]

1. N decided reviews are generated in bulk as `bench_audit.py` does (cloned from real
   journeys, hash-chained, COPY): about 41 events each, so 100,000 reviews is ~4.1 million
   events (the default). Not measured.
2. Reference: a fresh Python process runs `bootstrap()` with no saved state (it replays the
   whole log); the time from its launch to its read models being current is measured. That
   process then saves its read models as a worker pass would (the save time is reported).
3. M more reviews are appended (the tail a start has to read).
4. Measured, three times: a fresh Python process runs `bootstrap()` and starts from the saved
   state; launch to ready, the events of the tail it applied, the state's size.
Target: under 5 s at ~4 million events. `--quick` does the same on a small log (< 30 s).
Figures are printed and written to benchmarks/results/start-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo: tests' helpers

from adapters.persistence.store import EventsourcingStore
from app.policies import default_policies
from bench_audit import generate, templates
from common import (
    POSTGRES_SERVER,
    command_line,
    finish_facts,
    machine_facts,
    note,
    print_machine,
    store_url,
    write_summary,
)

TARGET_S = 5.0
REPO = Path(__file__).resolve().parents[1]


def start_once(url: str, keys: str, save: bool) -> dict[str, Any]:
    """In the child process: bootstrap as `vigie` commands do, report when ready."""
    from adapters.bootstrap import Settings, bootstrap

    imported = time.time()
    platform = bootstrap(
        Settings(
            database_url=url,
            media_root=None,
            launcher="memory",
            secret_key="s" * 32,
            key_store=f"files:{keys}",
        )
    )
    ready = time.time()
    started = platform.started
    assert started is not None and platform.keeper is not None
    figures: dict[str, Any] = {
        "ready_at": ready,
        "imported_at": imported,
        "bootstrap_seconds": ready - imported,
        "loaded_position": started.loaded_position,
        "applied": started.applied,
        "ignored": started.ignored,
        "position": platform.projections.position,
        "head": platform.store.head(),
    }
    if save:
        begun = time.perf_counter()
        platform.keeper.save()
        figures["save_seconds"] = time.perf_counter() - begun
        kept = platform.keeper.saved.load("projections", platform.keeper.code)
        figures["state_bytes"] = len(kept.state) if kept else 0
    platform.close()
    return figures


def timed_start(url: str, keys: str, *, save: bool = False) -> dict[str, Any]:
    """A fresh interpreter, from its launch to its read models being current."""
    command = [sys.executable, __file__, "--child", url, "--keys", keys]
    if save:
        command.append("--save")
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
    launched = time.time()
    run = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if run.returncode != 0:
        raise SystemExit(f"the started process failed:\n{run.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    figures["start_to_ready_seconds"] = figures.pop("ready_at") - launched
    figures["interpreter_and_imports_seconds"] = figures.pop("imported_at") - launched
    return figures


def append(url: str, made: list[Any], reviews: int, label: str) -> int:
    store = EventsourcingStore(url)
    try:
        events = generate(store, made, reviews, label)
        head = store.head()
        for policy in default_policies():  # the generated past was reacted to long ago
            store.save(tracking=(policy.name, head))
        return events
    finally:
        store.close()


def bench(reviews: int, tail_reviews: int, runs: int) -> dict[str, Any]:
    made = templates()
    with store_url(POSTGRES_SERVER) as url, tempfile.TemporaryDirectory() as keys:
        note(f"== PostgreSQL: {url}")
        append(url, made, reviews, "log")
        note("reference: a start without a saved state (the whole log replayed)")
        reference = timed_start(url, keys, save=True)
        note(f"  {reference['start_to_ready_seconds']:.1f} s; saving the state")
        append(url, made, tail_reviews, "tail")
        measured = []
        for run in range(runs):
            note(f"start from the saved state ({run + 1}/{runs})")
            measured.append(timed_start(url, keys))
        seconds = [m["start_to_ready_seconds"] for m in measured]
        return {
            "backend": "PostgreSQL",
            "reviews": reviews,
            "events_in_log": measured[-1]["head"],
            "tail_events": measured[-1]["applied"],
            "reference_start_to_ready_seconds": reference["start_to_ready_seconds"],
            "reference_events_applied": reference["applied"],
            "reference_bootstrap_seconds": reference["bootstrap_seconds"],
            "bootstrap_seconds": [m["bootstrap_seconds"] for m in measured],
            "interpreter_and_imports_seconds": [
                m["interpreter_and_imports_seconds"] for m in measured
            ],
            "save_seconds": reference["save_seconds"],
            "state_bytes": reference["state_bytes"],
            "start_to_ready_seconds": seconds,
            "median_start_to_ready_seconds": statistics.median(seconds),
            "loaded_position": measured[-1]["loaded_position"],
            "target_seconds": TARGET_S,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--reviews", type=int, default=100_000, help="reviews (100,000 ≈ 4.1M events)"
    )
    parser.add_argument("--tail-reviews", type=int, default=25, help="reviews after the save (25)")
    parser.add_argument("--runs", type=int, default=3, help="measured starts (3)")
    parser.add_argument("--quick", action="store_true", help="a small log: under 30 s")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--keys", help=argparse.SUPPRESS)
    parser.add_argument("--save", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(start_once(args.child, args.keys, args.save)))
        return 0
    if args.quick:
        args.reviews, args.tail_reviews, args.runs = 200, 5, 2
    command = command_line()
    facts = machine_facts(["eventsourcing", "msgspec", "psycopg", "asyncpg"])
    started = time.perf_counter()
    result = bench(args.reviews, args.tail_reviews, args.runs)
    finish_facts(facts, started)
    print_machine(facts, command)
    r = result
    print(
        f"{r['backend']}: log of {r['events_in_log']:,} events ({r['reviews']:,} reviews); "
        f"start to ready from the saved state: {r['median_start_to_ready_seconds']:.2f} s "
        f"(median of {len(r['start_to_ready_seconds'])}; {r['tail_events']:,} events of tail "
        f"applied; state {r['state_bytes'] / 1e6:.1f} MB) against "
        f"{r['reference_start_to_ready_seconds']:.1f} s replaying the whole log "
        f"({r['reference_events_applied']:,} events); saving the state took "
        f"{r['save_seconds']:.2f} s; target < {TARGET_S:.0f} s"
    )
    print(
        f"  of which interpreter and imports: "
        f"{statistics.median(r['interpreter_and_imports_seconds']):.2f} s, bootstrap (state "
        f"loaded, tail applied): {statistics.median(r['bootstrap_seconds']):.2f} s (reference "
        f"bootstrap {r['reference_bootstrap_seconds']:.1f} s)"
    )
    path = write_summary("start", {"facts": facts, "command": command, "result": result})
    print(f"JSON summary: {path}")
    return 0 if r["median_start_to_ready_seconds"] < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
