"""`vigie serve`: the web platform on embedded defaults, with demo data and a worker.

The web processes do no background work (issue 15): `vigie serve` starts one `vigie worker`
process beside them by default (`--no-worker`: the operator runs their own), with the same
settings, and stops it when it stops. Only a `memory:` store, which lives in one process,
keeps its worker as a thread of the web process."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO
from uuid import UUID

import uvicorn
from uvicorn.supervisors import Multiprocess

from adapters.bootstrap import (
    Platform,
    Settings,
    _secret,
    bootstrap,
    rate_limit_store,
    require_shared_settings,
    require_the_platform_key,
)
from adapters.mail.capture import SmtpCapture
from adapters.media.memory import FileMedia
from app.passwords import verify_password
from app.ports.event_store import ConcurrencyConflict
from app.tenancy import centre_of_operator
from app.use_cases import accounts, enrolment
from domain.candidate import Candidate
from domain.errors import RuleBroken
from domain.staff import Role, StaffMember
from ui import demo_review, gc_pauses, logs, readiness
from ui.journey import Journey
from ui.web.app import create_app
from ui.worker import KINDS, work

STARTUP_FAILURE = 3  # uvicorn's exit code when it cannot start (the address is taken...)

DEMO_EMAIL = "camille.martin@example.org"
DEMO_PASSWORD = "vigie-demo-2025"
EXAMINER_EMAIL = "examinateur@example.org"
# An appeal is decided by a second examiner, never the first (R19, APPEAL-SECOND-EXAMINER):
# with one examiner the demo could lodge an appeal that nobody could decide.
SECOND_EXAMINER_EMAIL = "examinateur2@example.org"
CENTRE_EMAIL = "centre@example.org"
OTHER_CENTRE_EMAIL = "centre-lyon@example.org"
OTHER_CANDIDATE_EMAIL = "jules.bernard@example.org"
SUPPORT_EMAIL = "support@example.org"
AUDITOR_EMAIL = "auditeur@example.org"
WORKER_STOP_S = 15.0  # a worker given SIGTERM finishes its pass and gives its leases back


def _no_demo_by_default(database_url: str, host: str) -> str | None:
    """Why the demo accounts are not seeded unless asked (None: they are). Their passwords
    are printed and published, so only a one-machine store that only this machine can reach
    gets them: an image run as it is (`--host 0.0.0.0`) would open a centre's, an examiner's
    and an auditor's accounts to anyone who knows the README."""
    if database_url.startswith(("postgresql:", "postgres:")):
        return "a PostgreSQL platform"
    if not _loopback(host):
        return (
            f"served beyond this machine, on {host}, where their public passwords would let "
            "anyone in"
        )
    return None


def _loopback(host: str) -> bool:
    address = _address(host)
    return address.is_loopback if address is not None else host == "localhost"


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host.strip("[]"))
    return None  # a name


def every_address(host: str) -> bool:
    """Whether `host` means « every interface of this machine » (0.0.0.0, ::, a container's
    `--host 0.0.0.0`): a browser cannot open it, and a mail's link to
    http://0.0.0.0:8000/ leads nowhere."""
    address = _address(host)
    return address is not None and address.is_unspecified


def local_address(host: str, port: int) -> str:
    """The address a person on this machine opens for a server listening on `host`: the
    host itself, or this machine's loopback for every address (IPv6's for `::`, which one
    process listens on alone, where 127.0.0.1 would not answer)."""
    address = _address(host)
    if address is not None and address.is_unspecified:
        address = ipaddress.ip_address("127.0.0.1" if address.version == 4 else "::1")
    if address is None:
        return f"http://{host}:{port}"
    return f"http://{address}:{port}" if address.version == 4 else f"http://[{address}]:{port}"


def seed_demo(platform: Platform, *, sample_exam: bool = True) -> str:
    """The demo's accounts, each once; returns the invitation link. Step by step, each step
    skipped once done: a start stopped half-way (a Ctrl-C while it seeds) is completed by the
    next, where it left the examiner and the candidate's password missing for good."""
    ctx = platform.ctx
    projections = platform.projections
    projections.catch_up(ctx.store)

    def staff(email: str, name: str, role: Role) -> UUID:
        # register_staff is idempotent on its own (a claim); asking the read model first
        # spares each start hashing five passwords.
        known = projections.staff_by_email.get(email)
        if known is not None:
            return known
        return accounts.register_staff(
            ctx, email=email, name=name, role=role, password=DEMO_PASSWORD
        )

    def candidate(centre: UUID, email: str, surname: str, first_name: str) -> UUID:
        known = projections.find_by_email(email)
        if known is not None:  # enrolled once: never re-enrolled when that enrolment ends
            return known
        return enrolment.enrol_candidate(
            ctx,
            projections,
            centre_id=centre_of_operator(centre),
            email=email,
            surname=surname,
            first_name=first_name,
            certification_code="ENI-ACCESS",
        ).candidate_id

    centre = staff(CENTRE_EMAIL, "Centre ENI", Role.CENTRE)
    candidate_id = candidate(centre, DEMO_EMAIL, "Martin", "Camille")
    # A second training centre with a candidate of its own: each centre's pages show only
    # its own (issue 14).
    other_centre = staff(OTHER_CENTRE_EMAIL, "Centre Lyon", Role.CENTRE)
    candidate(other_centre, OTHER_CANDIDATE_EMAIL, "Bernard", "Jules")
    staff(EXAMINER_EMAIL, "Eve Examinatrice", Role.EXAMINER)
    staff(SECOND_EXAMINER_EMAIL, "Paul Second", Role.EXAMINER)
    staff(SUPPORT_EMAIL, "Hotline", Role.SUPPORT)
    staff(AUDITOR_EMAIL, "Ada Auditrice", Role.AUDITOR)
    _demo_password(platform, candidate_id)
    # An exam already sent for review, so the examiner has one to open from the first start.
    if sample_exam:
        demo_review.seed_sent_exam(platform, centre)
    projections.catch_up(ctx.store)  # the worker sends the mails, not this process
    enrollment = next(e for e in projections.enrollments.values() if e.candidate_id == candidate_id)
    return platform.links.url("/sessions/new", "create-session", str(enrollment.enrollment_id))


DEMO_STAFF = (
    CENTRE_EMAIL,
    OTHER_CENTRE_EMAIL,
    EXAMINER_EMAIL,
    SECOND_EXAMINER_EMAIL,
    SUPPORT_EMAIL,
    AUDITOR_EMAIL,
)


def public_demo_accounts(platform: Platform) -> list[str]:
    """The demo accounts in this store that still log in with the published password: a
    node started without --demo said « no demo accounts » while a `--demo` start had left
    them, open to anyone who read the README (an operator's review)."""
    ctx, projections = platform.ctx, platform.projections
    projections.catch_up(ctx.store)
    found = []
    for email in DEMO_STAFF:
        staff_id = projections.staff_by_email.get(email)
        if staff_id is not None and verify_password(
            DEMO_PASSWORD, ctx.store.get(staff_id, StaffMember).password_hash
        ):
            found.append(email)
    for email in (DEMO_EMAIL, OTHER_CANDIDATE_EMAIL):
        candidate_id = projections.find_by_email(email)
        if candidate_id is None:
            continue
        candidate = ctx.store.get(candidate_id, Candidate)
        if candidate.proctoring_password_hash and verify_password(
            DEMO_PASSWORD, candidate.proctoring_password_hash
        ):
            found.append(email)
    return found


DEMO_PASSWORD_TRIES = 20


def _demo_password(platform: Platform, candidate_id: UUID) -> None:
    """The demo candidate's password, set as she would set it, through a reset link (R24),
    which mails her nothing; left alone once set. Nodes started at once (`up` of a compose
    file) seed together: each one's new link voided the other's while it hashed the password,
    in step, and one node gave up with « a newer reset link replaced this one » (an operator's
    review). A seeder whose link was replaced waits a random moment and looks again: the other
    has usually set the password by then, and the work is done."""
    store = platform.ctx.store
    for attempt in range(DEMO_PASSWORD_TRIES):
        if store.get(candidate_id, Candidate).proctoring_password_hash is not None:
            return
        try:
            Journey(platform, email=DEMO_EMAIL, candidate_id=candidate_id).set_password(
                DEMO_PASSWORD, purpose="demo", tries=1
            )
            return
        except (RuleBroken, ConcurrencyConflict) as raced:
            if isinstance(raced, RuleBroken) and raced.rule != "R24":
                raise
            if attempt == DEMO_PASSWORD_TRIES - 1:
                raise ValueError(
                    "the demo candidate's password could not be set: other processes kept "
                    "replacing its reset link; start this node again"
                ) from raced
            time.sleep(random.uniform(0.05, 0.5))  # out of step with the other seeder


def serve(
    settings: Settings,
    host: str,
    port: int,
    out: TextIO,
    workers: int = 1,
    *,
    worker: bool = True,
    demo: bool | None = None,
) -> int:
    """Run the platform until interrupted; with workers > 1, that many processes share the
    address (the OS spreads connections) and the store: no state lives in one process. With
    `worker`, a `vigie worker` process does the background work beside them. `demo` seeds the
    demo accounts, whose passwords are public: by default on one machine's store only, never
    on a PostgreSQL platform unless asked (issue 15: a production start has no known log-in)."""
    _refuse_a_taken_port(host, port)  # before « Vigie is running », the worker and the demo
    logs.configure()  # before the platform: its start-up findings reach the log too
    _stop_cleanly_on_sigterm()
    require_shared_settings(settings)  # a shared store: one secret key for every node
    in_memory = settings.database_url.startswith("memory:")
    if in_memory and workers > 1:
        raise ValueError("--workers: a memory: store lives in one process; use a SQLite file")
    with contextlib.ExitStack() as stack:
        relay = _relay(settings.smtp_url)  # None: the embedded capture, read by `vigie mailbox`
        if not settings.smtp_url:
            capture = stack.enter_context(SmtpCapture(mailbox_dir=Path("vigie-data/mailbox")))
            settings = replace(settings, smtp_url=f"smtp://{capture.host}:{capture.port}")
        here = local_address(host, port)
        guessed = settings.base_url == Settings.base_url
        if guessed:  # not configured: links point here
            settings = replace(settings, base_url=here)
            if not settings.support.has_chat:  # the support link too (mails' footers)
                support = replace(settings.support, chat_url=f"{here}/support")
                settings = replace(settings, support=support)
        secret = _secret(settings)
        if not in_memory:  # the worker process and the web processes sign with this key
            settings = replace(settings, secret_key=secret.decode())
        platform = bootstrap(settings, listen=True)
        try:
            require_the_platform_key(platform, settings)  # the same key as the other nodes
        except ValueError:
            platform.close()
            raise
        readiness.ensure_media_folder(platform)  # /ready checks it is there from now on
        media_problem = readiness.media_problem_at_start(platform)
        if media_problem is not None:
            print(
                f"vigie: warning: photos and recordings cannot be kept: {media_problem}",
                file=sys.stderr,
                flush=True,
            )
        if demo is None:
            no_demo = _no_demo_by_default(settings.database_url, host)
            demo = no_demo is None
        else:
            no_demo = "--no-demo"
        # The sample exam only in a one-machine store: on PostgreSQL (a shared platform, its
        # bucket) `--demo` asks for the accounts of a trial, not an invented candidate's exam,
        # photos and recordings among real ones.
        shared = settings.database_url.startswith(("postgresql:", "postgres:"))
        invitation = seed_demo(platform, sample_exam=not shared) if demo else None
        left_open = public_demo_accounts(platform) if invitation is None else []
        waiting = invitation is not None and demo_review.review_waiting(platform)
        keeper: WorkerKeeper | None = None
        if not worker:
            background = "none here (--no-worker): run `vigie worker` with the same settings"
        elif in_memory:
            _worker_thread(platform, stack)
            background = "a thread of this process (a memory: store lives in one process)"
        else:
            keeper = WorkerKeeper(settings, out)
            stack.callback(keeper.stop)
            background = f"`vigie worker` process {keeper.start()} ({', '.join(KINDS)})"
        where = None
        if settings.base_url.rstrip("/") != here:
            # Behind a proxy (an operator's review: each node named only its own port).
            where = f"users reach it at {settings.base_url} (VIGIE_BASE_URL)"
        elif guessed and every_address(host):
            # Listening on every address (a container): only this machine's people can open
            # the links it sends; anyone else needs the address they use (a mapped port).
            where = (
                f"listening on every address ({host}, port {port}); mails and pages link to "
                f"{here}: set VIGIE_BASE_URL to the address your users open"
            )
        _announce(
            out,
            here,
            settings.base_url,
            invitation,
            workers,
            background,
            where,
            no_demo,
            review_waiting=waiting,
            left_open=left_open,
            relay=relay,
        )
        if settings.oidc is not None:
            print(
                f"  staff single sign-on: {settings.oidc.display_name} ({settings.oidc.issuer}); "
                f"register {settings.base_url.rstrip('/')}/staff/sso/callback there",
                file=out,
                flush=True,
            )
        if workers > 1:
            platform.close()
            # The web processes rebuild the platform from these settings.
            os.environ.update(settings.to_env())
            metrics_dir = shared_metrics_dir()
            print(f"  metrics: every web process's counts add up in {metrics_dir}", file=out)
            run_workers("ui.serve:worker_app", host, port, workers, keeper)
            return 0
        stack.callback(platform.close)
        app = create_app(
            platform,
            secret=secret,
            support=settings.support,
            secure=settings.base_url.startswith("https://"),
            rate_limits=rate_limit_store(settings),
            live_media_root=_live_root(settings),
            node_id=settings.node_id,
            ice=settings.ice,
        )
        gc_pauses.settle()
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                log_level="warning",
                log_config=logs.uvicorn_log_config(),
            )
        )
        if keeper is not None:
            keeper.server_stopping = lambda: server.should_exit
        with contextlib.suppress(KeyboardInterrupt):
            server.run()
        if not server.started:  # uvicorn said why
            return STARTUP_FAILURE
    return 0


def _refuse_a_taken_port(host: str, port: int) -> None:
    """A port another server holds, said in one sentence before anything starts (uvicorn
    would only fail after the announcement, the demo data and the worker). A probe, not a
    reservation: uvicorn binds the port itself a moment later."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as error:
        raise ValueError(f"--host {host}: not an address of this machine ({error})") from None
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ValueError(
                f"--port {port}: {host}:{port} cannot be used ({error.strerror}); "
                "stop the server that holds it or choose another --port (with make: "
                f"`make run PORT={port + 1}`)"
            ) from None


def _stop_cleanly_on_sigterm() -> None:
    """SIGTERM (systemd, Kubernetes, `kill`) ends `vigie serve` as Ctrl-C does: the worker
    child is stopped and gives its leases back. Without this, uvicorn re-raises the SIGTERM it
    caught once it has shut down, Python's default action kills the process on the spot, and
    the worker is left to notice on its own that its parent is gone."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


LOG_SETTINGS = ("VIGIE_LOG_FORMAT", "VIGIE_LOG_LEVEL")


def start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    """A `vigie worker` process with these settings (the embedded SMTP capture's URL, the
    base URL, the secret key...); it stops by itself if this process dies without stopping
    it (VIGIE_WORKER_PARENT). Its output is this process's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
    # The logs' settings are not the platform's: the worker was writing text at INFO under
    # a `vigie serve` told VIGIE_LOG_FORMAT=json (an operator's review, issue 15).
    env.update({k: v for k, v in os.environ.items() if k in LOG_SETTINGS})
    env.update(settings.to_env(), VIGIE_WORKER_PARENT=str(os.getpid()))
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # its metrics are its own (--metrics-port)
    return subprocess.Popen([sys.executable, "-m", "ui.cli", "worker"], env=env)


def stop_worker(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM: the worker ends its passes and gives its leases back; SIGKILL if it hangs."""
    if child.poll() is not None:
        return
    child.send_signal(signal.SIGTERM)
    try:
        child.wait(timeout=WORKER_STOP_S)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(timeout=5)


class WorkerKeeper:
    """The `vigie worker` child of `vigie serve`, started again when it dies while the server
    runs (a crash, the OOM killer, a SIGKILL): without it, mails, deadlines and provisioning
    would silently stop while the pages still answer. The wait doubles after each quick death
    (a worker that cannot start must not spin) and starts over once one ran a minute."""

    FIRST_WAIT_S = 1.0
    # A signal to the whole process group (Ctrl-C, systemd's default KillMode, `timeout`)
    # reaches the worker and the server at once, and the worker may be gone before the server
    # has begun to stop: a worker's end is only a death once the server still runs this long
    # after it (uvicorn's supervisor of several web processes reads its signals every 0.5 s).
    GRACE_S = 1.0
    LONGEST_WAIT_S = 30.0
    HEALTHY_AFTER_S = 60.0

    def __init__(self, settings: Settings, out: TextIO) -> None:
        self.settings = settings
        self.out = out
        self.child: subprocess.Popen[bytes] | None = None
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        # Set by `serve` to the web server's own flag once it exists.
        self.server_stopping: Callable[[], bool] = lambda: False
        self.watcher = threading.Thread(target=self._watch, name="worker-keeper", daemon=True)

    def start(self) -> int:
        self.child = start_worker(self.settings)
        self.watcher.start()
        return self.child.pid

    def _watch(self) -> None:
        wait = self.FIRST_WAIT_S
        while not self.stopping.is_set():
            child = self.child
            assert child is not None
            started = time.monotonic()
            code = child.wait()
            if self.stopping.wait(self.GRACE_S) or self.server_stopping():
                return
            if time.monotonic() - started >= self.HEALTHY_AFTER_S:
                wait = self.FIRST_WAIT_S
            print(
                f"vigie worker process {child.pid} ended ({_ended(code)}): "
                f"starting another in {wait:.0f} s",
                file=self.out,
                flush=True,
            )
            if self.stopping.wait(wait):
                return
            with self.lock:
                if self.stopping.is_set():
                    return
                self.child = start_worker(self.settings)
            print(f"vigie worker process {self.child.pid} started", file=self.out, flush=True)
            wait = min(wait * 2, self.LONGEST_WAIT_S)

    def stop(self) -> None:
        with self.lock:
            self.stopping.set()
            child = self.child
        if child is not None:
            stop_worker(child)


def _ended(code: int) -> str:
    if code < 0:
        return f"signal {signal.Signals(-code).name}"
    return f"exit code {code}"


def _worker_thread(platform: Platform, stack: contextlib.ExitStack) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=work, args=(platform, stop), daemon=True)
    thread.start()
    stack.callback(stop.set)


def run_workers(
    app_factory: str, host: str, port: int, workers: int, keeper: WorkerKeeper | None = None
) -> None:
    """uvicorn's multi-process mode, on a socket with TCP_NODELAY: uvicorn binds its own
    without it (uvicorn#3149) and every kept-alive connection then waits ~40 ms for the
    client's delayed ACK now and then. Accepted connections inherit the option."""
    config = uvicorn.Config(
        app_factory,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # uvicorn kills a process that does not answer its ping within 5 s and starts another:
        # on a busy machine a process still importing the app never gets to answer, and the
        # web processes are restarted for ever (seen at a load of 25 on 2 cores).
        timeout_worker_healthcheck=30,
        log_level="warning",
        log_config=logs.uvicorn_log_config(),
    )
    sock = config.bind_socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    supervisor = Multiprocess(config, sockets=[sock])
    if keeper is not None:
        keeper.server_stopping = supervisor.should_exit.is_set
    with contextlib.suppress(KeyboardInterrupt):
        supervisor.run()


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
    """One web process of `--workers N`: its own platform on the shared store, no background
    work (the `vigie worker` processes do it)."""
    logs.configure()
    settings = Settings.from_env()
    platform = bootstrap(settings, listen=True)
    app = create_app(
        platform,
        secret=_secret(settings),
        support=settings.support,
        secure=settings.base_url.startswith("https://"),
        rate_limits=rate_limit_store(settings),
        live_media_root=_live_root(settings),
        node_id=settings.node_id,
        ice=settings.ice,
    )
    gc_pauses.settle()  # the read models and the app, loaded: never walked again
    return app


def _live_root(settings: Settings) -> Path | None:
    """Where the proctoring tabs' recordings are written: beside the photos (none without a
    media folder, as in memory-only runs). With VIGIE_MEDIA_URL it is only a spool: each
    finished segment is uploaded to the object store and removed (keep_live_segment)."""
    return FileMedia(Path(settings.media_root)).live_root if settings.media_root else None


def _announce(
    out: TextIO,
    here: str,
    base_url: str,
    invitation: str | None,
    workers: int,
    background: str,
    where: str | None = None,
    no_demo: str | None = None,
    *,
    review_waiting: bool = False,
    left_open: list[str] | None = None,
    relay: str | None = None,
) -> None:
    processes = "1 web process" if workers == 1 else f"{workers} web processes"
    print(f"Vigie is running at {here}/ ({processes})", file=out)
    if where:  # where users open it, or why its links lead to this machine only
        print(f"  {where}", file=out)
    print(f"  background work  : {background}", file=out)
    if invitation is None and left_open:
        # Not seeded by this start, yet there from an earlier `--demo` one.
        print(
            f"  demo accounts with the public password {DEMO_PASSWORD} are in this store "
            f"(seeded by an earlier --demo start): {', '.join(left_open)}; give each a "
            "password of its own before opening the platform: `vigie staff reset-password "
            "EMAIL` for staff, `vigie privacy erase` for the demo candidates "
            "(docs/deploy.md, « Demo accounts »)",
            file=out,
            flush=True,
        )
        return
    if invitation is None:
        print(
            f"  no demo accounts ({no_demo}; --demo to seed them): create the first "
            "staff account with `vigie staff add EMAIL --name NAME --role centre`",
            file=out,
            flush=True,
        )
        return
    # Where users open them, as the mails say.
    login_page, staff_page = (f"{base_url.rstrip('/')}/{page}" for page in ("login", "staff/login"))
    print(f"  candidate log-in : {login_page}  {DEMO_EMAIL} / {DEMO_PASSWORD}", file=out)
    print(f"  examiner log-in  : {staff_page}  {EXAMINER_EMAIL} / {DEMO_PASSWORD}", file=out)
    if review_waiting:  # until an examiner decides it
        print(
            f"  review waiting   : {demo_review.FIRST_NAME} {demo_review.SURNAME}'s exam, sent "
            "for review with a phone flagged during it",
            file=out,
        )
    print(
        f"  appeals          : same page, a second examiner, {SECOND_EXAMINER_EMAIL} / "
        f"{DEMO_PASSWORD}",
        file=out,
    )
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
    # With a relay, `vigie mailbox` only says the mail is not here (an operator's review).
    mails = f"sent to {relay} (VIGIE_SMTP_URL)" if relay else f"{_this_command()} mailbox"
    print(f"  mails: {mails}   ·   stop: Ctrl-C", file=out, flush=True)


def _relay(smtp_url: str | None) -> str | None:
    """The SMTP relay's host and port as VIGIE_SMTP_URL names them, its password left out."""
    if not smtp_url:
        return None
    return smtp_url.split("?", 1)[0].rsplit("@", 1)[-1].split("://", 1)[-1]


def _this_command() -> str:
    """How to call this `vigie` again, for the commands the announcement suggests: plain
    `vigie` where that is the one on the PATH (an image, an installed package), else the
    path it was called by, from this folder if it is under it (`.venv/bin/vigie` after
    `make run`)."""
    called = Path(sys.argv[0])
    if called.name != "vigie":  # python -m ui.cli, a test
        return "vigie"
    on_path = shutil.which("vigie")
    if on_path and Path(on_path).resolve() == called.resolve():
        return "vigie"
    with contextlib.suppress(ValueError):
        return str(called.resolve().relative_to(Path.cwd().resolve()))
    return str(called.resolve())
