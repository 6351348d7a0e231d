"""The worker loop (`vigie worker`): all the background work, never in a web process.

Five kinds of work, each under a lease of its own (domain.lease, kept in the store):
- `policies`: the reactions that stay in the database (reviews opened, mails decided...);
- `provisioning`: the reactions that call the exam launcher first (a workspace takes up to
  120 s to start: apart, they never hold the mails back);
- `outbox`: the due mails, each claimed in the store before SMTP;
- `webhooks`: the due webhook deliveries, each claimed in the store before its POST (a slow
  receiver holds back neither the mails nor the other centres' deadlines);
- `deadlines`: reminders, expiries, reviews due, media retention, ended web sessions purged.

A worker runs a loop per kind, each doing its pass only while this worker holds that kind's
lease, and a lease keeper that renews, takes and gives up leases every third of their term.
Several workers, on one machine or several, split the kinds between them; a worker that
dies stops renewing and another takes its kinds over once its leases expire. A failed pass is
logged with its traceback and counted per kind (`ui.worker_health`); the next one retries.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta

from adapters.bootstrap import Platform
from adapters.clock import SystemClock
from app.deadlines import run_deadlines
from app.leases import LEASE_TERM_S, LeaseKeeper, LeaseNews, worker_name
from app.policies import PolicyRunner, split_by_claims
from ui import metrics
from ui.worker_health import (
    DEADLINES,
    HEALTH,
    LEASES,
    OUTBOX,
    POLICIES,
    PROVISIONING,
    WEBHOOKS,
)

KINDS = (POLICIES, OUTBOX, DEADLINES, PROVISIONING, WEBHOOKS)
# A pass every half second: a page waiting for a workspace or a mail waits about that long.
# The deadline process (reminders, expiry, reviews due, retention) needs no such hurry.
WORKER_INTERVAL_S = 0.5
DEADLINES_EVERY_S = 5.0
LOG = logging.getLogger("vigie.worker")


@dataclass
class Passes:
    """One pass of each kind of work on a platform."""

    platform: Platform
    runner: PolicyRunner  # the policies whose reactions stay in the database
    calling_out: PolicyRunner  # those that call the launcher, claimed first
    # The outbox and the deadlines both read the read models, which one thread at a time
    # catches up.
    _read_models: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def of(cls, platform: Platform, keeper: LeaseKeeper | None = None) -> Passes:
        """With this worker's `keeper`, the policies' claims are in the worker's name, and a
        claim whose worker is gone (SIGKILL, a machine lost) is taken over once its presence
        lease runs out (seconds), not after the claim's own lease (minutes)."""
        runner = platform.runner
        if keeper is not None:
            runner = replace(runner, name=keeper.holder, gone=keeper.gone)
        runner, calling_out = split_by_claims(runner)
        return cls(platform, runner, calling_out)

    def run(self, kind: str) -> bool:
        """One pass of `kind`; False when it failed (logged with its traceback, counted)."""
        try:
            self._passes()[kind]()
        except Exception as error:
            failed(kind, error)
            return False
        HEALTH.ran(kind)
        return True

    def _passes(self) -> dict[str, Callable[[], None]]:
        return {
            POLICIES: self.policies,
            PROVISIONING: self.provisioning,
            OUTBOX: self.outbox,
            DEADLINES: self.deadlines,
            WEBHOOKS: self.webhooks,
        }

    def policies(self) -> None:
        self.runner.run_until_quiet()

    def provisioning(self) -> None:
        self.calling_out.run_until_quiet()

    def outbox(self) -> None:
        platform = self.platform
        with self._read_models:
            platform.projections.catch_up(platform.ctx.store)
            sent = platform.sender.send_due(platform.projections.mails_due(platform.ctx.now()))
            platform.projections.catch_up(platform.ctx.store)
            # Results back to learning platforms (issue 16), claimed in the store like mails.
            scores = platform.post_scores()
        if scores.posted or scores.retried or scores.given_up:
            LOG.info(
                "scores posted %d, retried %d, given up %d",
                scores.posted,
                scores.retried,
                scores.given_up,
            )
        if scores.errors:
            LOG.warning("scores given up: %s", "; ".join(scores.errors))
        metrics.count_mails(sent)
        if sent.sent or sent.retried or sent.given_up:
            LOG.info(
                "mails sent %d, retried %d, given up %d", sent.sent, sent.retried, sent.given_up
            )
        if sent.errors:
            LOG.warning("mails given up: %s", "; ".join(sent.errors))

    def webhooks(self) -> None:
        platform = self.platform
        assert platform.webhooks is not None
        with self._read_models:
            platform.projections.catch_up(platform.ctx.store)
            due = platform.projections.webhooks_due(platform.ctx.now())
        # Posted outside the read models' lock: a receiver taking its 10 s holds back
        # neither the mails nor the deadlines.
        report = platform.webhooks.send_due(due)
        with self._read_models:
            platform.projections.catch_up(platform.ctx.store)
        if report.delivered or report.retried or report.given_up:
            LOG.info(
                "webhooks delivered %d, retried %d, given up %d",
                report.delivered,
                report.retried,
                report.given_up,
            )

    def deadlines(self) -> None:
        platform = self.platform
        with self._read_models:
            platform.projections.catch_up(platform.ctx.store)
            report = run_deadlines(platform.ctx, platform.projections)
        platform.sessions.purge(platform.ctx.clock.now())  # ended sessions never linger
        if platform.keeper is not None:
            # The read models' saved state (every N events or T seconds): under the deadlines'
            # lease, one worker saves at a time; the next start of any process reads only the
            # tail after it.
            with self._read_models:
                platform.keeper.save_if_due()
        if report.count:
            LOG.info("deadline facts recorded: %d", report.count)


def failed(kind: str, error: Exception) -> None:
    count = HEALTH.failed(kind, error)
    LOG.error(
        "a worker pass failed (%s: %d failure(s) so far in this process); the next retries",
        kind,
        count,
        exc_info=error,
    )


def keeper_for(
    platform: Platform, lease_term_s: float = LEASE_TERM_S, node: str | None = None
) -> LeaseKeeper:
    """This worker's lease keeper on the platform's lease store, on the system's clock (the
    one every machine shares; a test's manual clock must not age leases), its leases held in
    the name of `node` (VIGIE_NODE_ID) when given."""
    return LeaseKeeper(
        platform.leases,
        SystemClock(),
        KINDS,
        holder=worker_name(node),
        term=timedelta(seconds=lease_term_s),
    )


def keep_leases(keeper: LeaseKeeper) -> LeaseNews | None:
    """One lease round, its news logged; None when the store could not be reached (logged
    and counted: the leases held run out at their term, and the work with them)."""
    try:
        news = keeper.keep()
    except Exception as error:
        failed(LEASES, error)
        return None
    HEALTH.ran(LEASES)
    metrics.count_leases(keeper.kinds, keeper.held())
    if news.took:
        LOG.info("worker %s took the lease(s): %s", keeper.holder, ", ".join(news.took))
    if news.took_over:
        LOG.warning(
            "worker %s took over the lease(s) %s: their holder stopped renewing them",
            keeper.holder,
            ", ".join(news.took_over),
        )
    if news.lost:
        LOG.warning(
            "worker %s lost the lease(s) %s: it stops that work (another worker does it)",
            keeper.holder,
            ", ".join(news.lost),
        )
    if news.released:
        LOG.info(
            "worker %s gave the lease(s) %s to the other workers (a fair share each)",
            keeper.holder,
            ", ".join(news.released),
        )
    return news


def work(
    platform: Platform,
    stop: threading.Event,
    *,
    interval: float = WORKER_INTERVAL_S,
    deadlines_every: float = DEADLINES_EVERY_S,
    once: bool = False,
    keeper: LeaseKeeper | None = None,
    parent: int | None = None,
) -> None:
    """Run the kinds of work this worker holds the leases of until `stop` is set (or the
    `parent` process is gone: a `vigie serve` that started this worker); with `once`, one
    pass of each kind held, then give the leases back."""
    keeper = keeper or keeper_for(platform)
    passes = Passes.of(platform, keeper)
    keep_leases(keeper)
    LOG.info(
        "worker %s holds %s (leases in %s, %s s each)",
        keeper.holder,
        ", ".join(keeper.held()) or "no lease yet: other workers hold them all",
        platform.leases.where,
        keeper.term.total_seconds(),
    )
    if once:
        for kind in (POLICIES, PROVISIONING, DEADLINES, POLICIES, OUTBOX, WEBHOOKS):
            if keeper.holds(kind):
                passes.run(kind)
        _give_back(keeper)
        return
    loops = [
        threading.Thread(
            target=_loop,
            args=(passes, kind, keeper, stop, deadlines_every if kind == DEADLINES else interval),
            name=f"vigie-{kind}",
            daemon=True,
        )
        for kind in KINDS
    ]
    for loop in loops:
        loop.start()
    renew_every = keeper.term.total_seconds() / 3
    while not stop.wait(renew_every):
        if parent is not None and os.getppid() != parent:
            LOG.warning("the process that started this worker is gone: the worker stops")
            stop.set()
            break
        keep_leases(keeper)
    for loop in loops:
        loop.join(timeout=max(interval * 4, 10.0))
    _give_back(keeper)


def _give_back(keeper: LeaseKeeper) -> None:
    """The leases given back at a clean stop, so another worker takes over at once; if the
    store is out of reach they run out at their term instead."""
    try:
        released = keeper.release_all()
    except Exception as error:
        LOG.warning(
            "worker %s could not give its leases back (%s): they expire within %s s",
            keeper.holder,
            error,
            keeper.term.total_seconds(),
        )
        return
    if released:
        LOG.info("worker %s gave back its lease(s): %s", keeper.holder, ", ".join(released))


def _loop(
    passes: Passes, kind: str, keeper: LeaseKeeper, stop: threading.Event, every: float
) -> None:
    while not stop.is_set():
        if keeper.holds(kind):
            passes.run(kind)
        if stop.wait(every):
            return
