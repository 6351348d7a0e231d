"""`vigie serve`: the web platform on embedded defaults, with demo data and a worker."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO
from uuid import uuid4

import uvicorn
from uvicorn.supervisors import Multiprocess

from adapters.bootstrap import (
    Platform,
    Settings,
    _secret,
    bootstrap,
    rate_limit_store,
    require_shared_settings,
)
from adapters.mail.capture import SmtpCapture
from adapters.media.memory import FileMedia
from app.policies import PolicyRunner, split_by_claims
from app.tenancy import centre_of_operator
from app.use_cases import accounts, enrolment
from domain.candidate import Account, Candidate
from domain.staff import Role
from ui import logs, metrics, readiness
from ui.web.app import create_app
from ui.worker_health import DEADLINES, HEALTH, PASS, PROVISIONING

DEMO_EMAIL = "camille.martin@example.org"
DEMO_PASSWORD = "vigie-demo-2025"
EXAMINER_EMAIL = "examinateur@example.org"
CENTRE_EMAIL = "centre@example.org"
OTHER_CENTRE_EMAIL = "centre-lyon@example.org"
OTHER_CANDIDATE_EMAIL = "jules.bernard@example.org"
SUPPORT_EMAIL = "support@example.org"
AUDITOR_EMAIL = "auditeur@example.org"
# A pass every half second: a page waiting for a workspace or a mail waits about that long.
# The deadline process (reminders, expiry, reviews due, retention) needs no such hurry.
WORKER_INTERVAL_S = 0.5
DEADLINES_EVERY_S = 5.0
LOG = logging.getLogger("vigie.worker")


def seed_demo(platform: Platform) -> str:
    """A candidate with a fresh enrolment and a password, once; returns the invitation link."""
    ctx = platform.ctx
    platform.projections.catch_up(ctx.store)
    candidate_id = platform.projections.find_by_email(DEMO_EMAIL)
    if candidate_id is None:
        centre = accounts.register_staff(
            ctx, email=CENTRE_EMAIL, name="Centre ENI", role=Role.CENTRE, password=DEMO_PASSWORD
        )
        enrolled = enrolment.enrol_candidate(
            ctx,
            platform.projections,
            centre_id=centre_of_operator(centre),
            email=DEMO_EMAIL,
            surname="Martin",
            first_name="Camille",
            certification_code="ENI-ACCESS",
        )
        # A second training centre with a candidate of its own: each centre's pages show
        # only its own (issue 14).
        other_centre = accounts.register_staff(
            ctx,
            email=OTHER_CENTRE_EMAIL,
            name="Centre Lyon",
            role=Role.CENTRE,
            password=DEMO_PASSWORD,
        )
        enrolment.enrol_candidate(
            ctx,
            platform.projections,
            centre_id=centre_of_operator(other_centre),
            email=OTHER_CANDIDATE_EMAIL,
            surname="Bernard",
            first_name="Jules",
            certification_code="ENI-ACCESS",
        )
        accounts.register_staff(
            ctx,
            email=EXAMINER_EMAIL,
            name="Eve Examinatrice",
            role=Role.EXAMINER,
            password=DEMO_PASSWORD,
        )
        accounts.register_staff(
            ctx, email=SUPPORT_EMAIL, name="Hotline", role=Role.SUPPORT, password=DEMO_PASSWORD
        )
        accounts.register_staff(
            ctx,
            email=AUDITOR_EMAIL,
            name="Ada Auditrice",
            role=Role.AUDITOR,
            password=DEMO_PASSWORD,
        )
        candidate_id = enrolled.candidate_id
        token = uuid4().hex
        candidate = ctx.store.get(candidate_id, Candidate)
        candidate.request_password_reset(
            at=ctx.now(),
            account=Account.PROCTORING,
            token_id=token,
            expires_at=ctx.now() + timedelta(minutes=5),
            purpose="demo",
        )
        ctx.store.save(candidate)
        accounts.reset_password(
            ctx,
            platform.links,
            signed_token=platform.links.sign("password-reset", f"{candidate_id}:{token}"),
            password=DEMO_PASSWORD,
        )
        platform.settle()
    enrollment = next(
        e for e in platform.projections.enrollments.values() if e.candidate_id == candidate_id
    )
    return platform.links.url("/sessions/new", "create-session", str(enrollment.enrollment_id))


def work(
    platform: Platform,
    stop: threading.Event,
    *,
    interval: float = WORKER_INTERVAL_S,
    deadlines_every: float = DEADLINES_EVERY_S,
    once: bool = False,
) -> None:
    """The worker loop: policies and the outbox at every pass, the deadline process every
    `deadlines_every` seconds, and the reactions that call a launcher (provisioning, up to
    120 s) in a thread of their own so they never hold the mails back. Background work runs
    here, never in a web request (issue 12). A failed pass is logged with its traceback and
    the loop goes on: the next pass retries what it left (everything is recorded once)."""
    if once:
        _pass(platform, platform.runner, deadlines=True)
        return
    runner, calling_out = split_by_claims(platform.runner)
    launcher_loop = threading.Thread(
        target=_launcher_loop, args=(calling_out, stop, interval), daemon=True
    )
    launcher_loop.start()
    next_deadlines = 0.0
    while True:
        started = time.monotonic()
        if _pass(platform, runner, deadlines=started >= next_deadlines):
            next_deadlines = started + deadlines_every
        if stop.wait(max(0.0, interval - (time.monotonic() - started))):
            launcher_loop.join(timeout=interval * 4)
            return


def _pass(platform: Platform, runner: PolicyRunner, *, deadlines: bool) -> bool:
    """One pass; True when the deadline process ran to its end. A failure is logged with its
    traceback and counted per kind (`ui.worker_health`); the next pass retries."""
    if deadlines:
        try:
            report = platform.tick(runner)
        except Exception as error:
            _failed(DEADLINES, error)
            return False
        HEALTH.ran(DEADLINES)
        if report.count:
            LOG.info("deadline facts recorded: %d", report.count)
    try:
        sent = platform.settle(runner)
    except Exception as error:
        _failed(PASS, error)
        return False
    HEALTH.ran(PASS)
    metrics.count_mails(sent)
    if sent.sent or sent.retried or sent.given_up:
        LOG.info("mails sent %d, retried %d, given up %d", sent.sent, sent.retried, sent.given_up)
    if sent.errors:
        LOG.warning("mails given up: %s", "; ".join(sent.errors))
    return deadlines


def _failed(kind: str, error: Exception) -> None:
    count = HEALTH.failed(kind, error)
    LOG.error(
        "a worker pass failed (%s: %d failure(s) so far in this process); the next retries",
        kind,
        count,
        exc_info=error,
    )


def _launcher_loop(runner: PolicyRunner, stop: threading.Event, interval: float) -> None:
    while True:
        try:
            runner.run_until_quiet()
        except Exception as error:
            _failed(PROVISIONING, error)
        else:
            HEALTH.ran(PROVISIONING)
        if stop.wait(interval):
            return


def _worker(platform: Platform, stop: threading.Event) -> None:
    work(platform, stop)


def serve(settings: Settings, host: str, port: int, out: TextIO, workers: int = 1) -> int:
    """Run the platform until interrupted; with workers > 1, that many processes share the
    address (the OS spreads connections) and the store: no state lives in one process."""
    logs.configure()  # before the platform: its start-up findings reach the log too
    require_shared_settings(settings)  # a shared store: one secret key for every node
    with contextlib.ExitStack() as stack:
        if not settings.smtp_url:
            capture = stack.enter_context(SmtpCapture(mailbox_dir=Path("vigie-data/mailbox")))
            settings = replace(settings, smtp_url=f"smtp://{capture.host}:{capture.port}")
        if settings.base_url == Settings.base_url:  # not configured: links point here
            settings = replace(settings, base_url=f"http://{host}:{port}")
        platform = bootstrap(settings, listen=True)
        readiness.ensure_media_folder(platform)  # /ready checks it is there from now on
        invitation = seed_demo(platform)
        secret = _secret(settings)
        _announce(out, host, port, invitation, workers)
        if workers > 1:
            platform.close()
            # The worker processes rebuild the platform from these settings.
            os.environ.update(
                VIGIE_DATABASE_URL=settings.database_url,
                VIGIE_SMTP_URL=settings.smtp_url or "",
                VIGIE_BASE_URL=settings.base_url,
                VIGIE_SECRET_KEY=secret.decode(),
                VIGIE_TIME_ZONE=settings.time_zone,
            )
            metrics_dir = shared_metrics_dir()
            print(f"  metrics: every worker's counts add up in {metrics_dir}", file=out)
            run_workers("ui.serve:worker_app", host, port, workers)
            return 0
        stack.callback(platform.close)
        _start_worker(platform, stack)
        app = create_app(
            platform,
            secret=secret,
            support=settings.support,
            secure=settings.base_url.startswith("https://"),
            rate_limits=rate_limit_store(settings),
            live_media_root=_live_root(settings),
        )
        uvicorn.run(
            app, host=host, port=port, log_level="warning", log_config=logs.uvicorn_log_config()
        )
    return 0


def run_workers(app_factory: str, host: str, port: int, workers: int) -> None:
    """uvicorn's multi-process mode, on a socket with TCP_NODELAY: uvicorn binds its own
    without it (uvicorn#3149) and every kept-alive connection then waits ~40 ms for the
    client's delayed ACK now and then. Accepted connections inherit the option."""
    config = uvicorn.Config(
        app_factory,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        log_config=logs.uvicorn_log_config(),
    )
    sock = config.bind_socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with contextlib.suppress(KeyboardInterrupt):
        Multiprocess(config, sockets=[sock]).run()


METRICS_DIR = Path("vigie-data/metrics")


def shared_metrics_dir() -> Path:
    """The folder where the web processes' metrics add up (prometheus_client's multiprocess
    mode, issue 15): PROMETHEUS_MULTIPROC_DIR when the operator set it, else
    vigie-data/metrics; emptied at each start (the counts of a previous run are not this
    one's), and set in the environment the worker processes inherit. They import
    prometheus_client afresh (uvicorn spawns them), so they all write there."""
    folder = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or METRICS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder.resolve())
    return folder


def worker_app() -> Any:
    """One web worker process: its own platform on the shared store, its own worker thread."""
    logs.configure()
    settings = Settings.from_env()
    platform = bootstrap(settings, listen=True)
    stop = threading.Event()
    threading.Thread(target=_worker, args=(platform, stop), daemon=True).start()
    return create_app(
        platform,
        secret=_secret(settings),
        support=settings.support,
        secure=settings.base_url.startswith("https://"),
        rate_limits=rate_limit_store(settings),
        live_media_root=_live_root(settings),
    )


def _live_root(settings: Settings) -> Path | None:
    """Where the proctoring tabs' recordings are written: beside the photos (none without a
    media folder, as in memory-only runs). With VIGIE_MEDIA_URL it is only a spool: each
    finished segment is uploaded to the object store and removed (keep_live_segment)."""
    return FileMedia(Path(settings.media_root)).live_root if settings.media_root else None


def _start_worker(platform: Platform, stack: contextlib.ExitStack) -> None:
    stop = threading.Event()
    worker = threading.Thread(target=_worker, args=(platform, stop), daemon=True)
    worker.start()
    stack.callback(stop.set)


def _announce(out: TextIO, host: str, port: int, invitation: str, workers: int) -> None:
    print(f"Vigie is running at http://{host}:{port}/ ({workers} worker(s))", file=out)
    print(f"  candidate log-in : {DEMO_EMAIL} / {DEMO_PASSWORD}", file=out)
    staff_page = f"http://{host}:{port}/staff/login"
    print(f"  examiner log-in  : {staff_page}  {EXAMINER_EMAIL} / {DEMO_PASSWORD}", file=out)
    print(
        f"  centre log-ins   : same page, {CENTRE_EMAIL} or {OTHER_CENTRE_EMAIL} (another "
        f"centre) / {DEMO_PASSWORD}",
        file=out,
    )
    print(
        f"  support, auditor : same page, {SUPPORT_EMAIL} or {AUDITOR_EMAIL} / {DEMO_PASSWORD}",
        file=out,
    )
    print(f"  create the exam session (the invitation link): {invitation}", file=out)
    print("  mails: .venv/bin/vigie mailbox   ·   stop: Ctrl-C", file=out, flush=True)
