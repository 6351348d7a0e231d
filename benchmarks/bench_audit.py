"""Audit benchmark: `vigie audit replay --all` over N generated decided reviews, on SQLite and
PostgreSQL, against the plain event replay of the same streams (issue 8).

Run: .venv/bin/python -m benchmarks.bench_audit [--reviews N] [--only sqlite|postgres]

1. A few real journeys (enrolment → decided review, through the use cases on a memory store)
   give templates: each review's stream and the session and attempt streams its evidence cites.
2. N reviews are cloned from them with new stream ids (the ids replaced in the stored JSON),
   sealed with the store's hash chain, and written in bulk (`insert_events`, thousands of rows
   per transaction): generating is not what is measured.
3. Reference: the plain event replay of the whole log (`store.read(after, 1000)`, every event
   decoded), i.e. exactly the same streams; its rate is given as events/s and as reviews/s.
4. `vigie audit replay --all` (the CLI's own function, checkpoint file included): reviews/s,
   events read, mismatches (there must be none). Target: ≥ 50 % of the reference in reviews/s.
Figures are printed and written to benchmarks/results/audit-<timestamp>.json.
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventsourcing.persistence import StoredEvent

from adapters.persistence.chain import GENESIS, own_hash_of, seal
from adapters.persistence.store import EventsourcingStore
from benchmarks.harness import (
    POSTGRES_SERVER,
    Progress,
    arguments,
    command_line,
    finish_facts,
    machine_facts,
    note,
    print_machine,
    store_url,
    thousands,
    verdict,
    write_summary,
)
from domain.evidence import FlagKind
from ui.audit_cli import replay_everything
from ui.journey import Plan, decided_journey, platform_with_examiner

TARGET_RATIO = 0.5
REVIEWS = 100_000
QUICK_REVIEWS = 40
REVIEWS_PER_TRANSACTION = 500
PLANS = (
    Plan(False, [], False, False, False),
    Plan(False, [(FlagKind.VOICE, 0.64)], False, False, False),
    Plan(False, [(FlagKind.SEVERAL_FACES, 0.9), (FlagKind.VOICE, 0.5)], False, False, True),
    Plan(True, [(FlagKind.PHONE, 0.7)], False, True, True),
    Plan(False, [], True, False, False),
)


# --- generation -------------------------------------------------------------------------------


@dataclass
class Template:
    """One decided review's streams as stored payloads (review stream last)."""

    streams: list[tuple[uuid.UUID, list[tuple[int, str, bytes]]]]


def templates() -> list[Template]:
    made = []
    with platform_with_examiner() as (platform, examiner):
        for plan in PLANS:
            review_id = decided_journey(platform, plan, examiner)
            records = platform.store.records([review_id])[review_id]
            cited = {
                uuid.UUID(e["id"].split("/")[0])
                for r in records
                if r.topic.endswith("EvidenceGathered")
                for e in _json(r.payload)["items"]
            }
            streams = []
            for stream in [*sorted(cited), review_id]:
                rows = platform.store.records([stream])[stream]
                streams.append((stream, [(r.version, r.topic, r.payload) for r in rows]))
            made.append(Template(streams))
    return made


def _json(payload: bytes) -> Any:
    import msgspec

    return msgspec.json.decode(payload)


def clone(template: Template) -> list[StoredEvent]:
    """The template's streams under new ids, sealed as the store seals them."""
    renamed = {old: uuid.uuid4() for old, _ in template.streams}
    out: list[StoredEvent] = []
    for old, rows in template.streams:
        new = renamed[old]
        prev = GENESIS
        for version, topic, stored in rows:
            payload = stored
            for was, now in renamed.items():
                payload = payload.replace(str(was).encode(), str(now).encode())
            state = seal(prev, new, version, topic, payload)
            prev = own_hash_of(state)
            out.append(StoredEvent(new, version, topic, state))
    return out


def generate(store: EventsourcingStore, made: list[Template], reviews: int, label: str) -> int:
    """Bulk writes: COPY on PostgreSQL, executemany on SQLite (the store's own table)."""
    progress = Progress(f"{label} generate {reviews:,} reviews", reviews)
    recorder: Any = store.app.recorder
    events = done = 0
    while done < reviews:
        batch: list[StoredEvent] = []
        chunk = min(REVIEWS_PER_TRANSACTION, reviews - done)
        for n in range(chunk):
            batch.extend(clone(made[(done + n) % len(made)]))
        if type(recorder).__module__ == "eventsourcing.postgres":
            _copy_postgres(recorder, batch)
        else:
            recorder.insert_events(batch)
        events += len(batch)
        done += chunk
        progress.update(done)
    return events


def _copy_postgres(recorder: Any, batch: list[StoredEvent]) -> None:
    from psycopg.sql import SQL, Identifier

    datastore = recorder.datastore
    statement = SQL(
        "COPY {}.{} (originator_id, originator_version, topic, state) FROM STDIN (FORMAT BINARY)"
    ).format(Identifier(datastore.schema), Identifier(recorder.events_table_name))
    with (
        datastore.get_connection() as conn,
        conn.transaction(),
        conn.cursor() as cursor,
        cursor.copy(statement) as copy,
    ):
        copy.set_types(["uuid", "int8", "text", "bytea"])
        for e in batch:
            copy.write_row((e.originator_id, e.originator_version, e.topic, e.state))


# --- measures ---------------------------------------------------------------------------------


@dataclass
class Figures:
    backend: str
    reviews: int
    events: int
    generate_seconds: float
    plain_seconds: float
    audit_seconds: float
    audit_reviews: int
    audit_events_read: int
    mismatches: int

    @property
    def plain_events_per_s(self) -> float:
        return self.events / self.plain_seconds

    @property
    def plain_reviews_per_s(self) -> float:
        return self.reviews / self.plain_seconds

    @property
    def audit_reviews_per_s(self) -> float:
        return self.audit_reviews / self.audit_seconds

    @property
    def ratio(self) -> float:
        return self.audit_reviews_per_s / self.plain_reviews_per_s


def plain_replay(store: EventsourcingStore, label: str) -> tuple[int, float]:
    total = store.head()
    progress = Progress(f"{label} plain replay", total)
    after = count = 0
    started = time.perf_counter()
    while page := store.read(after, 1000):
        count += len(page)
        after = page[-1].position
        progress.update(count)
    return count, time.perf_counter() - started


def bench(backend: str, url: str | None, reviews: int, made: list[Template]) -> Figures:
    with store_url(url) as scoped:
        note(f"== {backend}: {scoped}")
        store = EventsourcingStore(scoped)
        try:
            started = time.perf_counter()
            events = generate(store, made, reviews, backend)
            generated = time.perf_counter() - started
        finally:
            store.close()
        # Fresh processes' view: new stores, nothing cached.
        store = EventsourcingStore(scoped)
        try:
            count, plain = plain_replay(store, backend)
            if count != events:
                raise RuntimeError(f"the log holds {count} events, {events} were written")
        finally:
            store.close()
        store = EventsourcingStore(scoped)
        with tempfile.TemporaryDirectory() as folder:
            out = io.StringIO()
            checkpoint = Path(folder) / "checkpoint.json"
            started = time.perf_counter()
            try:
                code = replay_everything(store, checkpoint=checkpoint, out=out)
            finally:
                store.close()
            audit = time.perf_counter() - started
            state = json.loads(checkpoint.read_text())
        print(out.getvalue(), end="", file=sys.stderr)
        if code not in (0, 1):
            raise RuntimeError(f"audit replay exited {code}")
        return Figures(
            backend,
            reviews,
            events,
            generated,
            plain,
            audit,
            state["reviews"],
            state["events"],
            len(state["mismatches"]),
        )


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
    print()
    print(
        f"{'store':<11} {'reviews':>9} {'events':>11} {'plain ev/s':>11} {'plain rev/s':>12} "
        f"{'audit rev/s':>12} {'ratio':>6}  verdict"
    )
    for f in results:
        judged = verdict(f.ratio, TARGET_RATIO) if not f.mismatches else "BELOW"
        print(
            f"{f.backend:<11} {f.audit_reviews:>9,} {f.events:>11,} "
            f"{thousands(f.plain_events_per_s):>11} {thousands(f.plain_reviews_per_s):>12} "
            f"{thousands(f.audit_reviews_per_s):>12} {f.ratio:>6.2f}  {judged} "
            f"(target ≥ {TARGET_RATIO:.0%}; {f.mismatches} mismatches; "
            f"audit {f.audit_seconds:.1f}s, plain {f.plain_seconds:.1f}s, "
            f"generated in {f.generate_seconds:.1f}s)"
        )
    print(
        "\nplain = every event of the log (the same streams: sessions, attempts, reviews) read "
        "and decoded through store.read(after, 1000);\naudit = `vigie audit replay --all`: the "
        "decisions, their streams in bulk reads, fold, verdict re-run, evidence compared."
    )
    summary = {
        "command": command,
        "machine": facts,
        "target_ratio": TARGET_RATIO,
        "stores": {
            f.backend: {
                "reviews": f.audit_reviews,
                "events": f.events,
                "events_read_by_audit": f.audit_events_read,
                "generate_seconds": f.generate_seconds,
                "plain_seconds": f.plain_seconds,
                "plain_events_per_s": f.plain_events_per_s,
                "plain_reviews_per_s": f.plain_reviews_per_s,
                "audit_seconds": f.audit_seconds,
                "audit_reviews_per_s": f.audit_reviews_per_s,
                "ratio": f.ratio,
                "mismatches": f.mismatches,
            }
            for f in results
        },
    }
    print(f"JSON summary: {write_summary('audit', summary)}")
    return 1 if any(f.mismatches for f in results) else 0  # a wrong replay, not a slow one


if __name__ == "__main__":
    sys.exit(main())
