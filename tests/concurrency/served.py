"""A real `vigie serve --workers 2` on PostgreSQL with a counting SMTP server, for tests that
throw concurrent requests at it (issue 12: exactly-once mail, no 5xx under contention).

Fixtures (import them in a conftest, as tests/concurrency/conftest.py does):

- `smtp_counter` — an `SmtpCapture` (aiosmtpd in a thread) on 127.0.0.1, a free port; it
  keeps every delivery. `count_deliveries(capture)` gives (deliveries, distinct Message-IDs).
- `served` — a `Served`: `vigie serve --workers 2` started as a subprocess (cwd in tmp_path,
  a free port) on the `postgres_url` fixture's fresh schema (VIGIE_DATABASE_URL), sending
  through `smtp_counter` (VIGIE_SMTP_URL), with the built-in workspaces. Its two web
  processes do no background work: the `vigie worker` process it starts beside them does
  (issue 15), in the same process group. It yields once the demo data is seeded and the port
  answers; it is stopped (SIGTERM, then SIGKILL) afterwards, and its output (the worker's
  too) is in `served.output()` for failure messages.
- `start_worker(postgres_url, capture, folder)` — one more `vigie worker` process on that
  store (a `Worker`: its pid, its output, `kill()`), for tests of several workers.

`Served` helpers:
- `client()` — an httpx.Client on the server (cookies kept, redirects not followed);
- `form_token(client, path)` — the CSRF token a page's form carries (GET first);
- `log_in_staff(client, email)` / `log_in_candidate(client)` — log in as the demo staff
  member (`CENTRE_EMAIL`, `EXAMINER_EMAIL`…) or the demo candidate (terms not accepted);
- `staff_client(email)` — a logged-in client; `clone(client)` — one more with its cookies
  (log-in and reset forms allow 10 POSTs a minute per address: log in once, clone);
- `post_form(client, path, data)` — a form POST with its CSRF token;
- `invitation` — the demo candidate's « Créer ma session » link from the banner;
- `store()` — an EventsourcingStore on the same schema, to read the log (close it);
- `platform(start)` — a Platform in the test process on the same schema (secret shared with
  the server, a ManualClock at `start`), to prepare state with the use cases
  (ui.journey.Journey) faster than through pages; it only records: its
  `settle()` does nothing, the served workers react (wait for them); close it;
- `mails_decided()` — how many `OutboundMail.MailDecided` events the log holds;
- `workers_hold_every_lease()` — this server's worker holds every kind's lease (after a
  SIGKILL the dead one's run out first); `policies_caught_up()` — every policy reacted to
  the log as it is;
- `wait_for(condition, what)` — until the served workers made `condition()` true;
- `wait_until_decided(expected, timeout)` — until the workers decided that many mails;
- `wait_until_sent(expected, timeout)` — until the SMTP counter has `expected` deliveries
  and the outbox has no pending mail (the workers settled), or AssertionError.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
from eventsourcing.persistence import OperationalError

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.leases import PostgresLeases
from adapters.mail.capture import SmtpCapture
from adapters.persistence.store import EventsourcingStore
from app.outbox import SendReport
from app.policies import default_policies
from domain.outbound_mail import OutboundMail
from tests.conftest import morning_clock_offset, platform_slot, server_and_schema
from ui.serve import DEMO_EMAIL, DEMO_PASSWORD
from ui.worker import KINDS as WORKER_KINDS

TOO_MANY_CLIENTS_TRIES = 45  # two seconds apart: a peak lasted over 30 s in a CI run
# What PostgreSQL, or a pool that could not open a connection, says when its 100 are taken.
SERVER_FULL = ("too many clients", "couldn't get a connection")
T = TypeVar("T")


def when_a_connection_is_free(make: Callable[[], T]) -> T:
    """`make()` (a platform, a store), again every 2 s while the shared PostgreSQL server has
    no connection free: the suite's processes share its 100, and one opened beside the other
    test worker's peak found none for a moment in two CI runs (test_full_media_disk,
    test_sigkill_journeys). A person would try again; so does the harness, up to 90 s."""
    for attempt in range(TOO_MANY_CLIENTS_TRIES):
        try:
            return make()
        except (psycopg.OperationalError, OperationalError) as full:
            said = str(full)
            if not any(words in said for words in SERVER_FULL):
                raise
            if attempt == TOO_MANY_CLIENTS_TRIES - 1:
                raise
            time.sleep(2.0)
    raise AssertionError("unreachable")


# The worker's first line names it: « worker vm:6709:32a2ee holds … ».
_HOLDER = re.compile(r"worker (\S+) holds ")
_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')
_INVITATION = re.compile(r"http://\S+/sessions/new\?t=\S+")
START_TIMEOUT_S = 90.0
SECRET_KEY = "c" * 64
PARIS = ZoneInfo("Europe/Paris")


_LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _ends_with_the_test() -> None:
    """In the server's process before it runs: SIGTERM once the test process is gone,
    however it went (a pytest killed, a pipe closed under it). A served platform left
    behind held about 25 of PostgreSQL's 100 connections for the rest of a run."""
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def count_deliveries(capture: SmtpCapture) -> tuple[int, int]:
    """(messages the SMTP server accepted, distinct Message-IDs among them)."""
    messages = capture.messages()
    return len(messages), len({str(m["Message-ID"]) for m in messages})


@dataclass
class Served:
    """A running `vigie serve --workers N` and the means to talk to it."""

    url: str
    database_url: str
    capture: SmtpCapture
    process: subprocess.Popen[str]
    banner: str
    _lines: list[str] = field(default_factory=list)
    clock_offset: timedelta = timedelta(0)  # the server's VIGIE_CLOCK_OFFSET

    def now(self) -> datetime:
        """The served platform's now (9:00 in Paris when the fixture started, moving on)."""
        return datetime.now(PARIS) + self.clock_offset

    @property
    def invitation(self) -> str:
        found = _INVITATION.search(self.banner)
        assert found is not None, self.banner
        return found.group(0)

    def output(self) -> str:
        """What the server printed so far (banner, logs, tracebacks)."""
        return self.banner + "".join(self._lines)

    def client(self, **options: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=60.0, **options)

    @staticmethod
    def form_token(client: httpx.Client, path: str) -> str:
        page = client.get(path)
        found = _TOKEN.search(page.text)
        assert found is not None, f"no form token on {path} ({page.status_code})"
        return found.group(1)

    def post_form(
        self, client: httpx.Client, path: str, data: dict[str, str], *, token_from: str = ""
    ) -> httpx.Response:
        """POST a form with the CSRF token of the page it is on (`token_from`, else `path`)."""
        token = self.form_token(client, token_from or path)
        return client.post(path, data={**data, "_csrf_token": token})

    def log_in_staff(self, client: httpx.Client, email: str) -> None:
        reply = self.post_form(client, "/staff/login", {"email": email, "password": DEMO_PASSWORD})
        assert reply.status_code in (302, 303), reply.text

    def staff_client(self, email: str) -> httpx.Client:
        """A client logged in as that staff member (close it)."""
        client = self.client()
        self.log_in_staff(client, email)
        return client

    def clone(self, client: httpx.Client) -> httpx.Client:
        """Another client with the same session and CSRF cookies: log-in is rate-limited
        (10 a minute per address), so parallel requests share one log-in."""
        return self.client(cookies=dict(client.cookies))

    def log_in_candidate(self, client: httpx.Client) -> None:
        reply = self.post_form(client, "/login", {"email": DEMO_EMAIL, "password": DEMO_PASSWORD})
        assert reply.status_code in (302, 303), reply.text

    def platform(self, start: datetime) -> Platform:
        settings = Settings(
            database_url=self.database_url,
            media_root=None,
            secret_key=SECRET_KEY,
            base_url=self.url,
            launcher="memory",
        )
        platform = when_a_connection_is_free(lambda: bootstrap(settings, clock=ManualClock(start)))
        # This process only records: the served workers react (policies, provisioning, the
        # outbox) on the system clock. Workers here, on a test clock, would hold claims whose
        # leases the served ones read as long over.
        platform.settle = _records_only  # type: ignore[method-assign]
        return platform

    def store(self) -> EventsourcingStore:
        return when_a_connection_is_free(lambda: EventsourcingStore(self.database_url))

    def mails_decided(self) -> int:
        store = self.store()
        try:
            decided, position = 0, 0
            while batch := store.read(position, 1000):
                decided += sum(isinstance(r.event, OutboundMail.MailDecided) for r in batch)
                position = batch[-1].position
            return decided
        finally:
            store.close()

    def workers_hold_every_lease(self) -> bool:
        """Whether this server's own `vigie worker` (named in its output) holds every kind of
        work's lease: after a SIGKILL the dead worker's leases stay its own until they run
        out (LEASE_TERM_S), and meanwhile nothing decides or sends a mail."""
        holders = set(_HOLDER.findall(self.output()))
        leases = PostgresLeases(*server_and_schema(self.database_url))
        try:
            now = datetime.now(UTC)
            held = {x.kind for x in leases.leases() if x.holder in holders and x.expires_at > now}
        finally:
            leases.close()
        return held >= set(WORKER_KINDS)

    def policies_caught_up(self) -> bool:
        """Whether every policy's position reached the log's head as it is now: the facts
        recorded so far have had their reactions (a mail decided, a review opened)."""
        store = self.store()
        try:
            head = store.head()
            return all(store.position_of(p.name) >= head for p in default_policies())
        finally:
            store.close()

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
        """Until `condition()` holds (the served workers did `what`), or AssertionError."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"not done within {timeout}s: {what}\n{self.output()[-3000:]}")
            time.sleep(0.1)

    def wait_until_decided(self, expected: int, timeout: float = 60.0) -> int:
        """Until the workers' policies decided at least `expected` mails (requests only record
        the facts that call for them); returns how many the log holds."""
        deadline = time.monotonic() + timeout
        while (decided := self.mails_decided()) < expected and time.monotonic() < deadline:
            time.sleep(0.25)
        return decided

    def pending_mails(self) -> int:
        """Mails decided but neither sent nor given up."""
        store = self.store()
        try:
            status: dict[Any, str] = {}
            position = 0
            while batch := store.read(position, 1000):
                for recorded in batch:
                    event = recorded.event
                    if isinstance(event, OutboundMail.MailDecided):
                        status[event.originator_id] = "pending"
                    elif isinstance(event, OutboundMail.MailSent | OutboundMail.MailGivenUp):
                        status[event.originator_id] = "done"
                position = batch[-1].position
            return sum(1 for s in status.values() if s == "pending")
        finally:
            store.close()

    def wait_until_sent(self, expected: int, timeout: float = 60.0) -> None:
        """Until `expected` mails arrived and none is pending; a short grace period after
        lets a duplicate (the bug these tests look for) arrive before the counts are read."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.capture.deliveries()) >= expected and self.pending_mails() == 0:
                time.sleep(2.0)
                return
            time.sleep(0.25)
        raise AssertionError(
            f"{len(self.capture.deliveries())} of {expected} mails delivered, "
            f"{self.pending_mails()} pending after {timeout}s\n{self.output()[-4000:]}"
        )


def _records_only(runner: object = None) -> SendReport:
    return SendReport()


@pytest.fixture
def smtp_counter() -> Iterator[SmtpCapture]:
    with SmtpCapture() as capture:
        yield capture


def _drain(process: subprocess.Popen[str], lines: list[str]) -> None:
    """Keep reading the server's output so its pipe never fills and blocks it."""
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)


@contextmanager
def start_served(
    postgres_url: str, capture: SmtpCapture, folder: Path, *, slot: bool = True, **options: Any
) -> Iterator[Served]:
    """`_start_served` in the shared PostgreSQL server's platform slot (tests/conftest.py:
    one platform of several processes at a time on it, across the run's workers); without
    `slot` for a platform that lives as long as a package's tests (it would hold the slot
    that long)."""
    held = platform_slot(postgres_url) if slot else contextlib.nullcontext()
    with held, _start_served(postgres_url, capture, folder, **options) as served:
        yield served


@contextmanager
def _start_served(
    postgres_url: str,
    capture: SmtpCapture,
    folder: Path,
    *,
    process_group: bool = False,
    clock_offset_s: float | None = None,
    worker: bool = True,
    web_processes: int = 2,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Served]:
    """`vigie serve --workers 2` on that store and SMTP server, run in `folder`, at 9:00 in
    Paris (VIGIE_CLOCK_OFFSET), or at the offset given (a test that restarts the server keeps
    its clock going forward). With `process_group`, the server has its own process group, so
    a test's SIGKILL (os.killpg) reaches every process, its `vigie worker` too. Without
    `worker`, no `vigie worker` is started (`--no-worker`): nothing happens in the background.
    `web_processes`: 1 starts faster (no processes spawned by uvicorn); `extra_env`
    (VIGIE_NODE_ID...) makes it one node of several."""
    port = free_port()
    offset = morning_clock_offset() if clock_offset_s is None else clock_offset_s
    env = served_env(postgres_url, capture, folder, offset)
    env.update(extra_env or {})
    folder.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "serve", "--port", str(port), "--demo"]
        + ["--workers", str(web_processes)]
        + ([] if worker else ["--no-worker"]),
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=process_group,
        preexec_fn=_ends_with_the_test,  # noqa: PLW1509 (nothing but one system call)
    )
    banner = ""
    deadline = time.monotonic() + START_TIMEOUT_S
    while "invitation link" not in banner and time.monotonic() < deadline:
        line = process.stdout.readline() if process.stdout else ""
        if not line and process.poll() is not None:
            break
        banner += line
    lines: list[str] = []
    reader = threading.Thread(target=_drain, args=(process, lines), daemon=True)
    reader.start()
    try:
        assert "invitation link" in banner, banner
        wait_for_http(f"http://127.0.0.1:{port}/login", deadline)
        yield Served(
            f"http://127.0.0.1:{port}",
            postgres_url,
            capture,
            process,
            banner,
            lines,
            timedelta(seconds=offset),
        )
    finally:
        _stop(process, process_group)
        reader.join(timeout=5)


def served_env(
    postgres_url: str, capture: SmtpCapture, folder: Path, clock_offset_s: float
) -> dict[str, str]:
    """The settings every process of a served platform gets (web and workers alike)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
    env.update(
        PYTHONPATH=os.pathsep.join(sys.path),
        PYTHONUNBUFFERED="1",  # each log line read as it is written
        VIGIE_DATABASE_URL=postgres_url,
        VIGIE_SMTP_URL=f"smtp://{capture.host}:{capture.port}",
        VIGIE_SECRET_KEY=SECRET_KEY,
        VIGIE_MEDIA_ROOT=str(folder / "media"),
        VIGIE_CLOCK_OFFSET=str(clock_offset_s),
    )
    return env


@dataclass
class Worker:
    """A running `vigie worker` process and what it printed."""

    process: subprocess.Popen[str]
    lines: list[str]

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return "".join(self.lines)

    def kill(self) -> None:
        """SIGKILL: no clean stop, no lease given back."""
        self.process.kill()
        self.process.wait(timeout=10)


@contextmanager
def start_worker(
    postgres_url: str,
    capture: SmtpCapture,
    folder: Path,
    *,
    lease_seconds: float = 2.0,
    interval: float = 0.1,
    clock_offset_s: float = 0.0,
    launcher: str = "builtin",
) -> Iterator[Worker]:
    """`vigie worker` on that store and SMTP server, stopped (SIGTERM) afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    env = served_env(postgres_url, capture, folder, clock_offset_s)
    env["VIGIE_LAUNCHER"] = launcher
    command = [sys.executable, "-m", "ui.cli", "worker", "--lease-seconds", str(lease_seconds)]
    process = subprocess.Popen(
        [*command, "--interval", str(interval)],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_ends_with_the_test,  # noqa: PLW1509 (nothing but one system call)
    )
    lines: list[str] = []
    reader = threading.Thread(target=_drain, args=(process, lines), daemon=True)
    reader.start()
    try:
        yield Worker(process, lines)
    finally:
        _stop(process, False)
        reader.join(timeout=5)


def _stop(process: subprocess.Popen[str], process_group: bool) -> None:
    """SIGTERM, then SIGKILL after 20 s (the whole group when the server has one)."""
    if process.poll() is not None:
        return
    if process_group:
        os.killpg(process.pid, signal.SIGTERM)
    else:
        process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        if process_group:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        process.wait(timeout=10)


@pytest.fixture
def served(postgres_url: str, smtp_counter: SmtpCapture, tmp_path: Path) -> Iterator[Served]:
    with start_served(postgres_url, smtp_counter, tmp_path) as running:
        yield running


def wait_for_http(url: str, deadline: float) -> None:
    """Until both worker processes could answer: the page answers a few times in a row."""
    answered = 0
    while time.monotonic() < deadline and answered < 4:
        try:
            answered += httpx.get(url, timeout=5).status_code == 200
        except httpx.TransportError:
            answered = 0
        time.sleep(0.1)
    assert answered >= 4, f"nothing answers at {url}"
