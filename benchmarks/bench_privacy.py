"""Erasure benchmark: one candidate erased in a store of N decided reviews (issue 8), on SQLite
and PostgreSQL.

Run: .venv/bin/python -m benchmarks.bench_privacy [--reviews N] [--only sqlite|postgres]

1. N decided reviews are generated in bulk as `bench_audit.py` does (cloned from real
   journeys, hash-chained): not measured.
2. One more candidate goes through the whole journey on the real platform (sealed personal
   data, two photos and three environment recordings in a media folder, a decided review).
3. Measured: the read models' catch-up a fresh `vigie privacy erase` process needs (the CLI
   bootstraps the platform), then `erase_candidate` itself; rows touched (events appended,
   key rows destroyed, media files deleted, rows rewritten: none, by design); afterwards the
   candidate's review still replays and the person's e-mail is nowhere in the store's bytes
   (SQLite) or rows (PostgreSQL).
Figures are printed and written to benchmarks/results/privacy-<timestamp>.json.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from adapters.persistence.store import EventsourcingStore
from app.policies import default_policies
from app.privacy import erase_candidate
from app.read_models import Projections
from app.replay import replay_review
from app.use_cases import accounts
from benchmarks.bench_audit import generate, templates
from benchmarks.harness import (
    POSTGRES_SERVER,
    arguments,
    command_line,
    finish_facts,
    machine_facts,
    note,
    print_machine,
    store_url,
    write_summary,
)
from domain.staff import Role
from ui.journey import PARIS, Journey

EMAIL = "erase.me@example.org"
REVIEWS = 100_000
QUICK_REVIEWS = 40


def platform_on(url: str, folder: Path) -> Platform:
    return bootstrap(
        Settings(
            database_url=url,
            media_root=str(folder / "media"),
            launcher="memory",
            secret_key="p" * 32,
            key_store=f"files:{folder / 'keys'}",
        ),
        clock=ManualClock(datetime(2025, 1, 27, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(5),
    )


def decided(platform: Platform) -> Journey:
    journey = Journey(platform, email=EMAIL)
    journey.sent_for_review()
    journey.decided(
        accounts.register_staff(
            platform.ctx,
            email="eve@example.org",
            name="Eve",
            role=Role.EXAMINER,
            password="p4ss-eve",
        )
    )
    platform.settle()
    return journey


def bench(backend: str, url: str | None, reviews: int, made: list[Any]) -> dict[str, Any]:
    with store_url(url) as scoped, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        note(f"== {backend}: {scoped}")
        store = EventsourcingStore(scoped)
        try:
            generate(store, made, reviews, backend)
            # The generated past was reacted to long ago: the policies start after it.
            head = store.head()
            for policy in default_policies():
                store.save(tracking=(policy.name, head))
        finally:
            store.close()
        platform = platform_on(scoped, folder)
        journey = decided(platform)
        platform.close()
        assert journey.candidate_id is not None and journey.review_id is not None

        started = time.perf_counter()
        platform = platform_on(scoped, folder)  # what `vigie privacy erase` starts with
        catch_up_s = time.perf_counter() - started
        try:
            head = platform.store.head()
            media_before = sum(1 for p in (folder / "media").rglob("*") if p.is_file())
            started = time.perf_counter()
            report = erase_candidate(
                platform.ctx,
                platform.keys,
                platform.projections,
                journey.candidate_id,
                reason="benchmark",
                by="a test",
                system_account="tests@127.0.0.1",
            )
            erase_s = time.perf_counter() - started
            appended = platform.store.head() - head
            media_after = sum(1 for p in (folder / "media").rglob("*") if p.is_file())
            replay = replay_review(platform.ctx.store, journey.review_id)
            fresh = Projections()
            started = time.perf_counter()
            fresh.catch_up(platform.ctx.store)
            rebuild_s = time.perf_counter() - started
            leaked = fresh.find_by_email(EMAIL) is not None
        finally:
            platform.close()
        in_bytes = None
        if url is None:  # SQLite: scan the file itself
            database = Path(scoped.removeprefix("sqlite:///"))
            raw = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
            in_bytes = EMAIL.encode() in raw
        return {
            "backend": backend,
            "reviews": reviews,
            "events_in_store": head,
            "catch_up_seconds": catch_up_s,
            "erase_seconds": erase_s,
            "events_appended": appended,
            "rows_rewritten": 0,
            "key_rows_destroyed": int(report.key_destroyed),
            "media_files_deleted": media_before - media_after,
            "replay_matches": replay.matches,
            "read_models_rebuilt_seconds": rebuild_s,
            "email_in_read_models": leaked,
            "email_in_sqlite_bytes": in_bytes,
        }


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__)
    parser.add_argument(
        "--reviews", type=int, help=f"decided reviews ({REVIEWS:,}; quick {QUICK_REVIEWS})"
    )
    parser.add_argument("--only", choices=["sqlite", "postgres"], help="one backend only")
    args = parser.parse_args(argv)
    reviews = args.reviews or (QUICK_REVIEWS if args.quick else REVIEWS)
    command = command_line()
    facts = machine_facts(["eventsourcing", "msgspec", "psycopg"])
    started = time.perf_counter()
    made = templates()
    results = []
    if args.only in (None, "sqlite"):
        results.append(bench("SQLite", None, reviews, made))
    if args.only in (None, "postgres"):
        results.append(bench("PostgreSQL", POSTGRES_SERVER, reviews, made))
    finish_facts(facts, started)
    print_machine(facts, command)
    for r in results:
        print(
            f"{r['backend']:<10} store of {r['reviews']:,} reviews ({r['events_in_store']:,} "
            f"events): erase {r['erase_seconds'] * 1000:.0f} ms after a "
            f"{r['catch_up_seconds']:.1f} s start (read models); touched: "
            f"{r['events_appended']} events appended, "
            f"{r['key_rows_destroyed']} key destroyed, {r['media_files_deleted']} media files "
            f"deleted, {r['rows_rewritten']} rows rewritten; replay matches: "
            f"{r['replay_matches']}; e-mail in rebuilt read models: {r['email_in_read_models']}; "
            f"in the SQLite bytes: {r['email_in_sqlite_bytes']}"
        )
    path = write_summary("privacy", {"facts": facts, "command": command, "results": results})
    print(f"JSON summary: {path}")
    clean = all(
        r["replay_matches"] and not r["email_in_read_models"] and not r["email_in_sqlite_bytes"]
        for r in results
    )
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
