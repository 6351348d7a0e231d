"""The `vigie` command."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from adapters.bootstrap import (
    Settings,
    bootstrap,
    key_fingerprint,
    open_store,
    require_shared_settings,
    require_the_platform_key,
)
from adapters.mail.capture import SmtpCapture, read_maildir
from adapters.persistence.unavailable import DATABASE_UNREACHABLE
from app.leases import LEASE_TERM_S
from app.parked import request_retry
from app.platform_key import adopt_key
from app.ports.event_store import AggregateNotFound, StreamQuarantined
from app.read_models import describe
from app.time_format import Style, TimeFormatter
from domain.errors import DomainError
from domain.lease import Lease
from ui import (
    api_tokens_cli,
    audit_cli,
    cli_words,
    contracts_cli,
    hotline_cli,
    lti_cli,
    privacy_cli,
    read_models_cli,
    staff_cli,
)
from ui.arguments import uuid_argument
from ui.entry import STOPPED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vigie", description="Proctored certification exams with replayable decisions."
    )
    parser.add_argument(
        "--database-url",
        help="memory:, sqlite:///path or postgresql://user@host:port/db "
        "(default: $VIGIE_DATABASE_URL or sqlite:///vigie-data/vigie.sqlite)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="play the guide's whole journey and print its timeline")
    serve = commands.add_parser("serve", help="run the web platform (with demo data)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers", type=int, default=1, help="web processes sharing the address and store"
    )
    serve.add_argument(
        "--demo",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="seed the demo accounts, whose passwords are public (default: yes on a SQLite "
        "file or memory: served on this machine's loopback; no on PostgreSQL, a shared "
        "platform, nor on any other address: create its first accounts with `vigie staff add`)",
    )
    serve.add_argument(
        "--no-worker",
        dest="worker",
        action="store_false",
        help="start no `vigie worker` beside the web processes (run your own: docs/operations.md)",
    )
    history = commands.add_parser("history", help="print every event of one aggregate")
    history.add_argument("aggregate_id", type=uuid_argument)
    replay = commands.add_parser(
        "replay", help="replay a review's decision from the log (= vigie audit replay ID)"
    )
    replay.add_argument("review_id", type=uuid_argument)
    audit_cli.add_parser(commands)
    privacy_cli.add_parser(commands)
    hotline_cli.add_parser(commands)
    staff_cli.add_parser(commands)
    api_tokens_cli.add_parser(commands)
    lti_cli.add_parser(commands)
    contracts_cli.add_parser(commands)
    read_models_cli.add_parser(commands)
    mailbox = commands.add_parser("mailbox", help="read the mails the embedded capture kept")
    mailbox.add_argument("--dir", default="vigie-data/mailbox", help="the Maildir to read")
    mailbox.add_argument("--last", type=int, default=20, help="how many of the newest mails")
    mailbox.add_argument("--full", action="store_true", help="print each mail's text")
    secret_key = commands.add_parser(
        "secret-key", help="the platform's VIGIE_SECRET_KEY, as the nodes check it at start"
    )
    secret_key.add_argument(
        "what",
        choices=["adopt"],
        help="adopt: after giving every node a new VIGIE_SECRET_KEY on purpose, record it as "
        "the platform's (the nodes refuse to start with a key other than the recorded one)",
    )
    mail = commands.add_parser("mail", help="the outbox, for operators")
    mail.add_argument("what", choices=["failed", "pending"], help="which mails to list")
    policies = commands.add_parser("policies", help="parked reactions, for operators")
    what = policies.add_subparsers(dest="what", required=True)
    what.add_parser("parked", help="list the reactions parked after failing")
    retry = what.add_parser("retry", help="ask a worker to try a parked reaction again")
    retry.add_argument("parked_id", type=uuid_argument)
    retry.add_argument("--by", default="cli", help="who asks (kept in the log)")
    worker = commands.add_parser(
        "worker",
        help="run the background work: policies, provisioning, the outbox, deadlines and "
        "retention, shared with the other workers through leases (Ctrl-C to stop)",
    )
    worker.add_argument(
        "--once",
        action="store_true",
        help="one pass, then exit (only the kinds of work whose lease it gets: with another "
        "worker running, it may do nothing)",
    )
    worker.add_argument(
        "--interval", type=float, default=0.5, help="seconds between passes (default 0.5)"
    )
    worker.add_argument(
        "--lease-seconds",
        type=float,
        default=LEASE_TERM_S,
        help="how long a dead worker's work waits before another takes it over "
        f"(default {LEASE_TERM_S:g}; docs/operations.md)",
    )
    worker.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        help="serve Prometheus metrics on 127.0.0.1:PORT/metrics (docs/operations.md)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `vigie` console script."""
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env(database_url=args.database_url)
        if args.command == "demo":
            from ui.demo import run_demo

            return run_demo(settings, sys.stdout)
        if args.command == "serve":
            from ui.serve import serve

            return serve(
                settings,
                args.host,
                args.port,
                sys.stdout,
                workers=args.workers,
                worker=args.worker,
                demo=args.demo,
            )
        if args.command == "history":
            return _history(settings, args.aggregate_id)
        if args.command == "replay":
            return _replay(settings, args.review_id)
        if args.command == "audit":
            return audit_cli.run(settings, args)
        if args.command == "privacy":
            return privacy_cli.run(settings, args)
        if args.command == "hotline":
            return hotline_cli.run(settings, args)
        if args.command == "staff":
            return staff_cli.run(settings, args, sys.stdout)
        if args.command == "api-token":
            return api_tokens_cli.run(settings, args, sys.stdout)
        if args.command == "lti":
            return lti_cli.run(settings, args, sys.stdout)
        if args.command == "read-models":
            return read_models_cli.run(settings, args, sys.stdout)
        if args.command == "contract-tests":
            return contracts_cli.run(args)
        if args.command == "mailbox":
            return _mailbox(Path(args.dir), args.last, args.full, TimeFormatter(settings.time_zone))
        if args.command == "mail":
            return _mail(settings, args.what)
        if args.command == "secret-key":
            return _adopt_key(settings)
        if args.command == "policies":
            return _policies(settings, args)
        if args.command == "worker":
            return _worker(
                settings,
                once=args.once,
                interval=args.interval,
                metrics_port=args.metrics_port,
                lease_seconds=args.lease_seconds,
            )
    except (DomainError, ValueError, AggregateNotFound) as error:
        # A refusal, a value refused, an id the store does not hold: one sentence, exit 2
        # (an unknown id gave a traceback in `hotline` and `privacy export`: a tester's tour).
        print(cli_words.said(error), file=sys.stderr)
        return cli_words.REFUSED
    except KeyboardInterrupt:
        # A Ctrl-C before a command handles its own (`vigie serve` still starting, before
        # uvicorn listens): a line, not a traceback. What was recorded stays recorded (each
        # decision is its own transaction) and a serve's worker child was stopped on the way
        # out; the same command starts again from there.
        print(STOPPED, file=sys.stderr)
        return 130
    except StreamQuarantined as error:  # issue 14: named, never a traceback
        print(f"vigie: {error} (run `vigie audit verify-store`)", file=sys.stderr)
        return 1
    except DATABASE_UNREACHABLE as error:
        # A server full ("too many clients"), down or restarting: a sentence, not a
        # traceback (an operator's review, issue 15). Each decision is its own transaction.
        said = str(error).strip()
        reason = said.splitlines()[0].strip() if said else type(error).__name__
        if any(words in reason for words in SETTINGS_REFUSED):
            # Not an outage: a database, role or password the server does not know.
            print(
                f"vigie: the database refused the connection ({reason}); check VIGIE_DATABASE_URL",
                file=sys.stderr,
            )
            return 2
        print(
            f"vigie: the database did not answer ({reason}); try again once it does "
            "(`/ready` on a node says when), or check the host and port in VIGIE_DATABASE_URL",
            file=sys.stderr,
        )
        return 1
    return 2


# PostgreSQL's words for a connection refused on its settings rather than for an outage; and
# libpq's for a host that has no address (a typo: `127.0.0.l`), never an outage either.
SETTINGS_REFUSED = (
    "does not exist",
    "password authentication failed",
    "no pg_hba.conf entry",
    "failed to resolve host",
    "could not translate host name",
)


def _history(settings: Settings, aggregate_id: UUID) -> int:
    platform = bootstrap(settings)
    try:
        events = platform.ctx.store.history(aggregate_id)
        if not events:
            print(
                f"vigie: no events for {aggregate_id} in {settings.database_url}", file=sys.stderr
            )
            return cli_words.REFUSED
        times = platform.ctx.times
        for event in events:
            at = times.format(event.timestamp, style=Style.EXACT)
            print(
                f"{event.originator_version:>4}  {at}  "
                f"{type(event).__qualname__:<40} {cli_words.english(describe(event))}"
            )
        return 0
    finally:
        platform.close()


def _replay(settings: Settings, review_id: UUID) -> int:
    """Kept for the demo's hint and old scripts: the same as `vigie audit replay ID`."""
    store = open_store(settings)
    try:
        return audit_cli.replay_one(store, review_id, sys.stdout)
    finally:
        store.close()


def _mailbox(folder: Path, last: int, full: bool, times: TimeFormatter) -> int:
    try:
        messages = read_maildir(folder)
    except FileNotFoundError:
        relay = os.environ.get("VIGIE_SMTP_URL")
        if relay:
            # Mail goes to a relay: nothing lands here, and « no mailbox » sent an operator
            # looking for a folder (an operator's review). Where it goes, its password left out.
            where = relay.split("?", 1)[0].rsplit("@", 1)[-1]
            print(
                f"vigie: mail goes to the SMTP server VIGIE_SMTP_URL names ({where}), not to a "
                "mailbox here: read it there (`vigie mail pending` lists what is not sent yet)",
                file=sys.stderr,
            )
            return 1
        # `vigie serve` (and `vigie demo`) keep the embedded capture's mails in
        # vigie-data/mailbox under the folder they were started in: said so, where this
        # said only « run `vigie demo` first » to someone one folder away from make run's.
        print(
            f"vigie: no mailbox at {folder.resolve()}: the mails `vigie serve` or `vigie demo` "
            "capture land in vigie-data/mailbox under the folder it was started in; run this "
            "there, or give --dir",
            file=sys.stderr,
        )
        return 1
    print(f"{len(messages)} mails in {folder}; the newest {min(last, len(messages))}:")
    for message in messages[-last:]:
        sent = times.format(str(message["Date"] or ""))
        print(f"- {sent}  to {message['To']}  «{message['Subject']}»")
        if full:
            body = message.get_body(preferencelist=("plain",))
            text = str(body.get_content()) if body is not None else ""
            print("  " + text.strip().replace("\n", "\n  "))
    return 0


def _mail(settings: Settings, what: str) -> int:
    platform = bootstrap(settings)
    try:
        projections = platform.projections
        if what == "failed":
            mails = projections.failed_mails()
        else:
            mails = [m for m in projections.mails.values() if m.status.value == "pending"]
        print(f"{len(mails)} {what} mail(s)")
        for mail in mails:
            decided = platform.ctx.times.format(mail.decided_at)
            print(
                f"- {mail.mail_id} {mail.kind:<20} decided {decided}, "
                f"{mail.attempts} attempt(s); cause {mail.cause}; {mail.last_error or 'no error'}"
            )
        idle = _unworked(platform.leases.leases(), datetime.now(UTC))
        if idle:
            # « 0 pending mail(s) » while no worker ran: a result decided then was neither
            # mailed nor even queued, and every signal but one said all was fine (an
            # operator's review). Exit 1: a monitoring script can alert on it.
            print(f"vigie: {idle}", file=sys.stderr)
            return 1
        return 0
    finally:
        platform.close()


def _unworked(leases: Sequence[Lease], now: datetime) -> str | None:
    """Why the mails are not being decided or sent (no worker holds the policies' or the
    outbox's lease), or None while a worker holds both."""
    from ui.worker_health import OUTBOX, POLICIES

    by_kind = {lease.kind: lease for lease in leases}
    unheld = [kind for kind in (POLICIES, OUTBOX) if not _held(by_kind.get(kind), now)]
    if not unheld:
        return None
    since = [by_kind[k].expires_at for k in unheld if k in by_kind]
    when = f"for {_how_long(now - min(since))}" if since else "since the store was made"
    kinds = " and the ".join(unheld)
    return (
        f"no worker has held the {kinds} lease {when}: mails are not being decided or sent "
        "(a result released meanwhile is not even listed here yet); start `vigie worker` "
        "with this platform's settings, or see why it stopped (docs/operations.md, "
        "« Alerts: no worker alive »)"
    )


def _held(lease: Lease | None, now: datetime) -> bool:
    return lease is not None and lease.held_at(now)


def _how_long(elapsed: timedelta) -> str:
    seconds = int(elapsed.total_seconds())
    if seconds < 120:
        return f"{max(seconds, 1)} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def _adopt_key(settings: Settings) -> int:
    """The key in VIGIE_SECRET_KEY becomes the one every node must have."""
    require_shared_settings(settings)
    platform = bootstrap(settings)
    try:
        changed = adopt_key(platform.ctx, key_fingerprint(settings))
    finally:
        platform.close()
    if changed:
        print(
            "this VIGIE_SECRET_KEY is now the platform's: nodes started with another one are "
            "refused (links signed with the old key no longer open; second factors and "
            "webhook secrets made with it must be set again)"
        )
    else:
        print("this VIGIE_SECRET_KEY is already the platform's: nothing changed")
    return 0


def _policies(settings: Settings, args: argparse.Namespace) -> int:
    platform = bootstrap(settings)
    try:
        if args.what == "retry":
            request_retry(platform.ctx, args.parked_id, by=args.by)
            print(f"retry of {args.parked_id} requested: a worker carries it out")
            return 0
        parked = platform.parked.catch_up(platform.ctx.store)
        print(f"{len(parked)} parked reaction(s)")
        for p in parked:
            print(
                f"- {p.parked_id} {p.policy} on {p.event_type} ({p.cause}) at position "
                f"{p.position}, parked {p.parked_at:%d/%m/%Y %H:%M}, {p.tries} tries, "
                f"{p.status.value}: {p.error}"
            )
        return 0
    finally:
        platform.close()


def _worker(
    settings: Settings,
    *,
    once: bool,
    interval: float,
    metrics_port: int | None = None,
    lease_seconds: float = LEASE_TERM_S,
) -> int:
    require_shared_settings(settings)  # a shared store: one secret key for every node
    if lease_seconds <= 0 or interval <= 0:
        raise ValueError("--lease-seconds and --interval: a number of seconds above 0")
    with contextlib.ExitStack() as stack:
        if not settings.smtp_url:
            # Embedded default: mails go to a local capture, kept in vigie-data/mailbox.
            capture = stack.enter_context(SmtpCapture(mailbox_dir=Path("vigie-data/mailbox")))
            settings = replace(settings, smtp_url=f"smtp://{capture.host}:{capture.port}")
            print(f"mails are captured in vigie-data/mailbox (SMTP on port {capture.port})")
        return _work(
            settings,
            once=once,
            interval=interval,
            metrics_port=metrics_port,
            lease_seconds=lease_seconds,
        )


def _work(
    settings: Settings,
    *,
    once: bool,
    interval: float,
    metrics_port: int | None = None,
    lease_seconds: float = LEASE_TERM_S,
) -> int:
    from ui import logs

    # Every `vigie.*` line (the worker's news, its leases, failed passes with their traceback
    # and count, parked reactions, quarantined streams) on the worker's output.
    with logs.configured(sys.stdout, os.environ.get("VIGIE_LOG_LEVEL", "INFO")):
        return _pass_work(
            settings,
            once=once,
            interval=interval,
            metrics_port=metrics_port,
            lease_seconds=lease_seconds,
        )


def _pass_work(
    settings: Settings,
    *,
    once: bool,
    interval: float,
    metrics_port: int | None,
    lease_seconds: float,
) -> int:
    from ui import metrics
    from ui.worker import keeper_for, work
    from ui.worker_health import HEALTH

    platform = bootstrap(settings)
    try:
        require_the_platform_key(platform, settings)  # the same key as the other nodes
        metrics.watch_store(platform.store)
        if metrics_port is not None:
            server, _ = metrics.serve_worker_metrics(metrics_port, platform)
            stack_close = server.shutdown
        else:
            stack_close = None
    except BaseException:
        platform.close()
        raise
    stop = threading.Event()
    if not once and threading.current_thread() is threading.main_thread():
        # SIGTERM (`vigie serve` stopping, systemd, Kubernetes) as Ctrl-C: the passes end and
        # the leases are given back, so another worker takes over at once.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    parent = os.environ.get("VIGIE_WORKER_PARENT")
    failed_before = HEALTH.failures.total()  # the counts are the process's (tests run many)
    try:
        # Deadlines at the first pass, then every 10 passes at least every 5 seconds.
        work(
            platform,
            stop,
            interval=interval,
            deadlines_every=min(5.0, 10 * interval),
            once=once,
            keeper=keeper_for(platform, lease_seconds, settings.node_id),
            parent=int(parent) if parent else None,
        )
        failed = HEALTH.failures.total() > failed_before
        return 1 if once and failed else 0  # one pass: did it hold?
    except KeyboardInterrupt:
        return 0
    finally:
        # Through the log, in its format (a plain print broke the JSON lines at the end).
        logging.getLogger("vigie.worker").info("worker stopped: %s", HEALTH.summary())
        if stack_close is not None:
            stack_close()
        platform.close()


if __name__ == "__main__":
    raise SystemExit(main())
