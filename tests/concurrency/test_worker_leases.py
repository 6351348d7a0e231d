"""Issue 15, a worker role: two `vigie worker` processes on one PostgreSQL store share a burst of
work through leases (each takes some kinds), every effect happens once (one mail per
Message-ID, one review per exam sent), and when the holder of the outbox is SIGKILLed the
other takes its kinds over within the lease's term."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.leases import PostgresLeases
from adapters.mail.capture import SmtpCapture
from adapters.persistence.store import EventsourcingStore
from app.outbox import SendReport
from app.policies import CLAIM_LEASE_S, split_by_claims
from domain.exam_attempt import ExamAttempt
from domain.lease import Lease, presence_kind
from domain.outbound_mail import OutboundMail
from domain.reaction_claim import ReactionClaim, claim_id
from domain.review import Review
from tests.acceptance.test_reaction_claims import claimed_by, workspace_requested
from tests.concurrency.served import PARIS, SECRET_KEY, Worker, count_deliveries, start_worker
from tests.conftest import morning_clock_offset, server_and_schema
from ui.journey import Journey
from ui.worker import KINDS

pytestmark = pytest.mark.postgres

LEASE_S = 2.0
EXAMS = 1
ENROLMENTS = 6


STORES: dict[str, EventsourcingStore] = {}


def _events(url: str, kind: type) -> list[object]:
    """The events of that type in the log (read with one store, opened once: opening one
    creates its tables, which the workers are doing too at their start)."""
    store = STORES.get(url) or STORES.setdefault(url, EventsourcingStore(url))
    found, position = [], 0
    while batch := store.read(position, 1000):
        found += [r.event for r in batch if isinstance(r.event, kind)]
        position = batch[-1].position
    return found


def _pending(url: str) -> int:
    status: dict[object, bool] = {}
    for event in _events(url, OutboundMail.Event):
        if isinstance(event, OutboundMail.MailDecided):
            status.setdefault(event.originator_id, True)
        elif isinstance(event, OutboundMail.MailSent | OutboundMail.MailGivenUp):
            status[event.originator_id] = False
    return sum(status.values())


def _wait(condition: Callable[[], bool], what: str, timeout: float, *workers: Worker) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            logs = "\n".join(w.output()[-2500:] for w in workers)
            raise AssertionError(f"not within {timeout}s: {what}\n{logs}")
        time.sleep(0.2)
    return time.monotonic() - started


@contextlib.contextmanager
def recording_platform(url: str, start: datetime) -> Iterator[Platform]:
    """This process records the burst; only the provisioning reactions run here (the memory
    launcher), so every mail, review and deadline is left to the workers."""
    platform = bootstrap(
        Settings(database_url=url, media_root=None, secret_key=SECRET_KEY, launcher="memory"),
        clock=ManualClock(start),
    )
    _, calling_out = split_by_claims(platform.runner)

    def provisioning_only(runner: object = None) -> SendReport:
        calling_out.run_until_quiet()
        return SendReport()

    platform.settle = provisioning_only  # type: ignore[method-assign]
    try:
        yield platform
    finally:
        platform.close()
        if url in STORES:
            STORES.pop(url).close()


def _holders(url: str) -> dict[str, str]:
    server, schema = server_and_schema(url)
    leases = PostgresLeases(server, schema)
    try:
        now = datetime.now(PARIS)
        return {lease.kind: lease.holder for lease in leases.leases() if lease.held_at(now)}
    finally:
        leases.close()


def _pid(holder: str) -> int:
    return int(holder.split(":")[1])  # app.leases.worker_name: host:pid:random


def test_two_workers_share_a_burst_each_effect_once_and_one_takes_over_a_killed_one(
    postgres_url: str, tmp_path: Path
) -> None:
    offset = morning_clock_offset()
    start = datetime.now(PARIS) + timedelta(seconds=offset) - timedelta(hours=2)
    began = time.monotonic()
    with recording_platform(postgres_url, start) as platform:
        _events(postgres_url, OutboundMail.MailDecided)
        for number in range(EXAMS):
            Journey(platform, email=f"exam{number}@example.org").sent_for_review()
        for number in range(ENROLMENTS):
            Journey(platform, email=f"candidate{number}@example.org").enrol()
        assert _events(postgres_url, OutboundMail.MailDecided) == []  # nothing done yet
        print(f"burst recorded in {time.monotonic() - began:.1f}s")

        with (
            SmtpCapture() as capture,
            start_worker(
                postgres_url, capture, tmp_path / "a", clock_offset_s=offset, launcher="memory"
            ) as first,
            start_worker(
                postgres_url, capture, tmp_path / "b", clock_offset_s=offset, launcher="memory"
            ) as second,
        ):
            workers = (first, second)

            def settled() -> bool:
                reviews = len(_events(postgres_url, Review.ReviewOpened))
                decided = len(_events(postgres_url, OutboundMail.MailDecided))
                return (
                    reviews >= EXAMS
                    and decided >= EXAMS + ENROLMENTS
                    and not _pending(postgres_url)
                )

            print(f"settled in {_wait(settled, 'the burst handled', 60, *workers):.1f}s")
            # Both took a share: two kinds each, once the second was seen.
            _wait(
                lambda: (
                    {_pid(h) for k, h in _holders(postgres_url).items() if k in KINDS}
                    == {first.pid, second.pid}
                ),
                "the kinds split between the two workers",
                10,
                *workers,
            )
            # Each says so in its log (read by a thread: the line may trail the table).
            _wait(
                lambda: all("took the lease(s)" in w.output() for w in workers),
                "each worker logs the leases it took",
                10,
                *workers,
            )
            time.sleep(0.5)  # a duplicate, the bug looked for, would arrive meanwhile
            decided = len(_events(postgres_url, OutboundMail.MailDecided))
            deliveries, message_ids = count_deliveries(capture)
            assert deliveries == message_ids == decided
            reviews = _events(postgres_url, Review.ReviewOpened)
            assert len(reviews) == len({r.originator_id for r in reviews}) == EXAMS

            # SIGKILL the outbox's holder, then ask for one more mail.
            holders = _holders(postgres_url)
            killed = first if _pid(holders["outbox"]) == first.pid else second
            survivor = second if killed is first else first
            killed.kill()
            killed_at = time.monotonic()
            Journey(platform, email="late@example.org").enrol()
            _wait(
                lambda: len(capture.deliveries()) > deliveries,
                "the mail sent by the survivor",
                LEASE_S + 5,
                survivor,
            )
            taken_over = time.monotonic() - killed_at
            print(f"mail out {taken_over:.2f}s after the outbox's holder was killed")
            assert taken_over <= LEASE_S + 3.0  # the term, a renewal round, a pass
            _wait(
                lambda: (
                    set(_holders(postgres_url)) >= set(KINDS)
                    and {_pid(h) for k, h in _holders(postgres_url).items() if k in KINDS}
                    == {survivor.pid}
                ),
                "every kind held by the survivor",
                LEASE_S + 3,
                survivor,
            )
            assert "took over the lease(s)" in survivor.output()
            time.sleep(0.5)
            deliveries, message_ids = count_deliveries(capture)
            assert deliveries == message_ids == len(_events(postgres_url, OutboundMail.MailDecided))
            os.kill(survivor.pid, signal.SIGTERM)  # a clean stop gives its leases back
            survivor.process.wait(timeout=20)
            assert "gave back its lease(s)" in survivor.output()
            assert _holders(postgres_url).keys() <= set()  # nobody's: the next takes at once


def test_a_worker_holds_its_leases_in_its_node_s_name() -> None:
    """An operator's check: with VIGIE_NODE_ID set (compose's `worker-1`), the holders read
    `vm:19905:acc8ca`, the machine's name, alike for every container on one host."""
    from ui.worker import keeper_for

    platform = bootstrap(Settings(database_url="memory:", media_root=None, secret_key="k" * 32))
    try:
        assert keeper_for(platform, node="worker-1").holder.startswith("worker-1:")
    finally:
        platform.close()


def test_a_worker_provisions_a_request_whose_claiming_worker_died_within_seconds(
    postgres_url: str, tmp_path: Path
) -> None:
    """A worker SIGKILLed between its claim on 'Je démarre maintenant' and the launcher's
    answer: a `vigie worker` started next provisions the request once the dead one's presence
    lease has run out, not after the claim's five minutes (the CI run of 2026-12-07 waited them
    out, and every later candidate's workspace with it)."""
    offset = morning_clock_offset()
    start = datetime.now(PARIS) + timedelta(seconds=offset) - timedelta(hours=2)
    with recording_platform(postgres_url, start) as platform:
        platform.settle = lambda runner=None: SendReport()  # type: ignore[method-assign]
        requested = workspace_requested(Journey(platform, email="claimed@example.org"))
        attempt_id = requested.event.originator_id
        store = platform.ctx.store
        dead = "vm:4242:dead42"
        server, schema = server_and_schema(postgres_url)
        leases = PostgresLeases(server, schema)
        try:  # alive a second ago, renewing nothing since
            assert leases.put(
                Lease(presence_kind(dead), dead, datetime.now(PARIS) + timedelta(seconds=1)), None
            )
        finally:
            leases.close()
        # Five minutes from the worker's now (this platform's clock is 2 h behind).
        until = datetime.now(PARIS) + timedelta(seconds=offset + CLAIM_LEASE_S)
        claimed_by(platform.ctx, requested, dead, until)
        with (
            SmtpCapture() as capture,
            start_worker(
                postgres_url, capture, tmp_path / "w", clock_offset_s=offset, launcher="memory"
            ) as worker,
        ):

            def provisioned() -> bool:
                return not store.get(attempt_id, ExamAttempt).workspace_pending

            took = _wait(provisioned, "the request provisioned", 30, worker)
            print(f"provisioned {took:.1f}s after the worker started")
            _wait(  # read by a thread: the line may trail the store
                lambda: f"takes over the claim of {dead}" in worker.output(),
                "the worker logs the claim it took over",
                10,
                worker,
            )
        claim = store.get(claim_id("provision-workspaces", requested.position), ReactionClaim)
        assert claim.runner != dead
