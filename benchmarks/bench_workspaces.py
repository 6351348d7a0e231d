"""Exam workspace benchmark: provisioning and the HTTP exam tab under load, one run, on 127.0.0.1.

Run: .venv/bin/python -m benchmarks.bench_workspaces [--attempts N] [--quick] [--database-url URL]
     [--clients process|threads] [--profile]

One platform from the real composition root (`bootstrap`, built-in workspaces, a ManualClock
standing still on a Monday at 09:00, SeededIds), on a temp SQLite file unless --database-url
names a store. From phase 2 on, a worker thread runs `platform.runner.run_until_quiet()` in a
loop, as `vigie worker` does (10 ms pause after an idle pass instead of its 5 s). Since issue
15 the exam tab is served by the platform's web app at its base URL: uvicorn (h11) serves
`create_app(platform)` on a thread of this process, as `vigie serve` serves it.
  1. prepare 3×N attempts up to the tile through the use cases (enrol, session, the proctoring
     checks, profile, tile), untimed: N for phase 2-3, N for the direct reference, N for the
     diagnostic.
  2. provision to ready: N threads click 'Je démarre maintenant' (`portal.start_now`) at once;
     per attempt, from the click to its WorkspaceConnected committed (a timer on `store.save`,
     removed after this phase) and to its URL answering HTTP 200. The other attempts are then
     started one by one, untimed, and every exam begins ('Commencer').
  3. answers under load: N client threads, one per candidate, each POST 10 answers (every
     question of the paper: short texts, single and multiple choices) through the exam tab,
     after a random 0-50 ms think time each, and GET the page on opening and after every 3rd
     answer. One new connection per round trip (the server speaks HTTP/1.0), the redirect not
     followed; a status outside 2xx/3xx or a reset is an error. The store must then hold N×10
     AnswerGiven events of these attempts. The client threads run in a client process of their
     own (default: browsers are not in the server's process) or, --clients threads, here.
  4. references, same run, same thread count, answers and think times: `portal.answer_question`
     called directly from N threads (other attempts, no HTTP); the same POSTs to a stdlib
     ThreadingHTTPServer, set up as the workspaces' server is, whose handler answers 204.
  5. diagnostic: phase 3 again (other attempts; the app unchanged, uvicorn's listen backlog
     is 2048) and the raw reference with a listen backlog of 128 instead of socketserver's 5,
     to tell queueing in the kernel from time spent in Vigie.
The figures are printed as a table and written to benchmarks/results/workspaces-<timestamp>.json
(the results and their report: benchmarks/workspaces_report.py).
Nothing is asserted on times; errors or a wrong answer count make the exit status 1.
"""

from __future__ import annotations

import contextlib
import cProfile
import http.client
import io
import json
import pstats
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

import uvicorn

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from adapters.launcher.builtin import BuiltinWorkspaces
from app.mail_rendering import SupportContact
from app.ports.sessions import StoredSession
from app.sessions import candidate_account, new_session_id, session_key
from app.use_cases import enrolment, portal, proctoring
from benchmarks.harness import (
    Latency,
    Progress,
    arguments,
    command_line,
    finish_facts,
    module_command,
    note,
    repo_env,
    settle_disk,
    store_url,
)
from benchmarks.workspaces_report import (
    ANSWERS_EACH,
    DEEP_BACKLOG,
    HOST,
    PAGE_EVERY,
    PROFILE_ANSWERS,
    START,
    THINK_S,
    WORKER_PAUSE_S,
    Config,
    DirectResult,
    HttpLoadResult,
    ProvisionResult,
    Results,
    Traffic,
    Trip,
    ok,
    print_report,
    workspaces_machine_facts,
    write_json,
)
from domain.candidate import PortalProfile
from domain.exam_attempt import ExamAttempt
from domain.exam_paper import QuestionKind
from domain.proctored_session import EnvironmentPart
from ui.web.app import create_app
from ui.web.sessions import COOKIE as SESSION_COOKIE
from vigie_contracts.samples import ebml_sample, jpeg_sample

CERTIFICATION = "ENI-ACCESS"
PROFILE = PortalProfile("Madame", "Martin", "Camille", date(1990, 5, 17), "Nantes")
PASSWORD = "s3cret-pass"
HTTP_TIMEOUT_S = 30.0
READY_TIMEOUT_S = 120.0
CLIENT_FLAG = "--client-process"  # how `drive` starts this file as the client process
SEED = 20250317
PROFILE_LINES = 18
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


# --- small helpers -----------------------------------------------------------------------


class Samples:
    """Durations appended from many threads (list.append is atomic under the GIL)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def timed(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds.append(time.perf_counter() - started)

        return wrapper


def http_call(port: int, path: str, body: bytes | None = None, *, cookie: str = "") -> Trip:
    """One request on a new connection (as to an HTTP/1.0 server), its response read whole:
    a POST of the form `body`, or a GET without one, from the browser whose cookies are
    `cookie` (the exam tab is served only to its candidate's session: sec-findings F6)."""
    method, kind = ("POST", "save") if body is not None else ("GET", "page")
    headers = {**(FORM if body is not None else {}), **({"Cookie": cookie} if cookie else {})}
    started = time.perf_counter()
    connected = started
    connection = http.client.HTTPConnection(HOST, port, timeout=HTTP_TIMEOUT_S)
    try:
        connection.connect()
        connected = time.perf_counter()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        status, error = response.status, ""
    except (OSError, http.client.HTTPException) as failure:
        status, error = 0, f"{type(failure).__name__}: {failure}"
    finally:
        connection.close()
    return Trip(kind, status, time.perf_counter() - started, connected - started, error)


TCP_COUNTERS = ("ListenOverflows", "TCPSynRetrans", "SyncookiesFailed")


def tcp_counters() -> dict[str, int]:
    """The kernel's listen-queue overflows, SYN retransmissions and failed SYN cookies (a
    reset connection) in this network namespace: every process's, on an idle machine this
    benchmark's."""
    try:
        lines = [ln.split() for ln in Path("/proc/net/netstat").read_text().splitlines()]
    except OSError:
        return {}
    names, values = [ln for ln in lines if ln and ln[0] == "TcpExt:"][:2]
    table = dict(zip(names[1:], values[1:], strict=True))
    return {name: int(table[name]) for name in TCP_COUNTERS if name in table}


def tcp_delta(before: dict[str, int]) -> dict[str, int]:
    after = tcp_counters()
    return {name: after[name] - before[name] for name in before if name in after}


def run_threads(
    count: int,
    client: Callable[[int, threading.Barrier], None],
    before_release: Callable[[], None] | None = None,
) -> float:
    """`count` client threads released together by a barrier; the wall time from the release
    to the last one done. A client's exception is raised here."""
    barrier = threading.Barrier(count + 1)
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="bench-client") as pool:
        futures = [pool.submit(client, i, barrier) for i in range(count)]
        if before_release is not None:
            before_release()
        barrier.wait(timeout=60)
        started = time.perf_counter()
        for future in futures:
            future.result()
        return time.perf_counter() - started


# --- the platform and its worker ---------------------------------------------------------


_COOKIES: dict[uuid.UUID, str] = {}


def her_cookie(platform: Platform, candidate_id: uuid.UUID) -> str:
    """Her browser's session cookie, as her log-in sets it (one per candidate): the exam tab
    answers only there (sec-findings F6), one session read more per request."""
    if candidate_id not in _COOKIES:
        session_id = new_session_id()
        now = platform.ctx.clock.now()
        platform.sessions.put(
            session_key(session_id),
            StoredSession(
                data={"candidate": str(candidate_id)},
                account=candidate_account(candidate_id),
                expires_at=now + timedelta(days=2),
                idle_until=now + timedelta(days=2),
            ),
        )
        _COOKIES[candidate_id] = f"{SESSION_COOKIE}={session_id}"
    return _COOKIES[candidate_id]


def make_platform(url: str) -> Platform:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port = int(probe.getsockname()[1])
    return bootstrap(
        Settings(
            database_url=url,
            media_root=None,
            time_zone="Europe/Paris",
            secret_key="bench-workspaces-" + "k" * 32,
            launcher="builtin",
            base_url=f"http://{HOST}:{port}",
        ),
        clock=ManualClock(START),
        ids=SeededIds(7),
    )


def app_port(platform: Platform) -> int:
    return urlparse(platform.links.base_url).port or 80


class AppServer:
    """The platform's web app (the exam tab included) served by uvicorn on its base URL."""

    def __init__(self, platform: Platform) -> None:
        app = create_app(platform, secret=b"bench-app-" + b"k" * 32, support=SupportContact())
        config = uvicorn.Config(app, host=HOST, port=app_port(platform), log_level="error")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="uvicorn", daemon=True)

    def start(self) -> AppServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the web app did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)


class Worker:
    """`run_until_quiet()` in a loop on its own thread, pausing after an idle pass."""

    def __init__(self, platform: Platform, pause_s: float) -> None:
        self.platform = platform
        self.pause_s = pause_s
        self.passes = 0
        self.reactions = 0
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-worker", daemon=True)

    def _loop(self) -> None:
        runner = self.platform.runner
        while not self._stop.is_set():
            try:
                done = runner.run_until_quiet()
            except BaseException as error:
                self.error = error
                return
            self.passes += 1
            self.reactions += done
            if not done:
                self._stop.wait(self.pause_s)

    def cpu_s(self) -> float:
        """The worker thread's CPU time so far, read from this thread (Linux, while it runs)."""
        assert self._thread.ident is not None
        return time.clock_gettime(time.pthread_getcpuclockid(self._thread.ident))

    def start(self) -> Worker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def check(self) -> None:
        if self.error is not None:
            raise RuntimeError(f"the worker stopped: {self.error!r}") from self.error

    def wait_quiet(self, timeout_s: float = 60.0) -> None:
        """Until every policy's position reached the log's head (untimed, between phases)."""
        store = self.platform.ctx.store
        names = [policy.name for policy in self.platform.runner.policies]
        deadline = time.monotonic() + timeout_s
        while min(store.position_of(name) for name in names) < store.head():
            self.check()
            if time.monotonic() > deadline:
                raise RuntimeError("the worker did not catch up with the log")
            time.sleep(0.02)


class CpuMeter:
    """This process's CPU time over a phase, the worker thread's apart."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.process = time.process_time()
        self.worker_before = worker.cpu_s()

    def stop(self) -> tuple[float, float]:
        """(CPU of every thread but the worker, the worker's), in seconds."""
        worker_s = self.worker.cpu_s() - self.worker_before
        return time.process_time() - self.process - worker_s, worker_s


class ConnectedWatch:
    """When each attempt's WorkspaceConnected was committed: a timer on the store's `save`
    (an instance attribute shadowing the method, removed by `close`)."""

    def __init__(self, platform: Platform) -> None:
        self.store = platform.ctx.store
        self._events: dict[uuid.UUID, threading.Event] = {}
        self._at: dict[uuid.UUID, float] = {}
        self._lock = threading.Lock()
        original = self.store.save

        def save(*aggregates: Any, **kwargs: Any) -> int:
            connected = [
                a.id
                for a in aggregates
                if isinstance(a, ExamAttempt)
                and any(isinstance(e, ExamAttempt.WorkspaceConnected) for e in a.pending_events)
            ]
            position = original(*aggregates, **kwargs)
            now = time.perf_counter()
            for attempt_id in connected:
                self._at[attempt_id] = now
                self._event(attempt_id).set()
            return int(position)

        self.store.save = save  # type: ignore[method-assign]

    def _event(self, attempt_id: uuid.UUID) -> threading.Event:
        with self._lock:
            return self._events.setdefault(attempt_id, threading.Event())

    def wait(self, attempt_id: uuid.UUID, timeout_s: float, worker: Worker | None = None) -> float:
        """The perf_counter moment the connection was committed (a dead worker raises)."""
        deadline = time.monotonic() + timeout_s
        while not self._event(attempt_id).wait(min(0.5, timeout_s)):
            if worker is not None:
                worker.check()
            if time.monotonic() > deadline:
                raise RuntimeError(f"no WorkspaceConnected for {attempt_id} in {timeout_s:.0f}s")
        return self._at[attempt_id]

    def close(self) -> None:
        with contextlib.suppress(AttributeError):
            del self.store.save  # type: ignore[attr-defined]


# --- 1. preparation ----------------------------------------------------------------------


@dataclass
class Prepared:
    candidate_id: uuid.UUID
    attempt_id: uuid.UUID


def prepare_one(platform: Platform, number: int) -> Prepared:
    """The guide's journey up to the tile, through the use cases (as the acceptance
    journey does): enrol, session, the proctoring checks, profile, tile 'À démarrer'."""
    ctx = platform.ctx
    email = f"candidate{number:05d}@example.org"
    enrolled = enrolment.enrol_candidate(
        ctx,
        platform.projections,
        centre_id=uuid.UUID(int=1),
        email=email,
        surname="Martin",
        first_name="Camille",
        certification_code=CERTIFICATION,
    )
    sid = enrolment.create_exam_session(ctx, enrolled.enrollment_id).session_id
    proctoring.accept_terms(ctx, enrolled.candidate_id)
    proctoring.enter_session(ctx, sid)
    proctoring.read_instructions(ctx, sid)
    proctoring.attest_designer_rules(ctx, sid)
    proctoring.acknowledge_secure_mode(ctx, sid)
    proctoring.attest_general_conditions(ctx, sid)
    proctoring.confirm_sound_heard(ctx, sid)
    proctoring.start_microphone_recording(ctx, sid)
    proctoring.stop_microphone_recording(ctx, sid)
    proctoring.check_camera(ctx, sid, working=True)
    proctoring.record_connection_test(ctx, sid, round_trip_ms=35.0, upload_kbps=8000.0, passed=True)
    proctoring.take_face_photo(ctx, sid, jpeg_sample(b"face-jpeg"))
    proctoring.confirm_face_photo(ctx, sid)
    proctoring.take_id_photo(ctx, sid, jpeg_sample(b"id-jpeg"))
    proctoring.confirm_id_photo(ctx, sid)
    attempt_id = None
    for part in EnvironmentPart:
        proctoring.start_environment_recording(ctx, sid, part)
        attempt_id = proctoring.stop_environment_recording(
            ctx, sid, part, ebml_sample(tag=f"{part}".encode()), duration_s=30.0
        )
    assert attempt_id is not None
    portal.save_portal_profile(
        ctx, enrolled.candidate_id, email=email, profile=PROFILE, password=PASSWORD
    )
    portal.select_tile(ctx, attempt_id, certification_code=CERTIFICATION)
    return Prepared(enrolled.candidate_id, attempt_id)


def prepare(platform: Platform, count: int) -> tuple[list[Prepared], float]:
    progress = Progress("prepare attempts up to the tile", count)
    started = time.perf_counter()
    prepared = []
    for number in range(count):
        prepared.append(prepare_one(platform, number))
        progress.update(number + 1)
    platform.settle()  # invitations and the like decided and sent before the worker starts
    return prepared, time.perf_counter() - started


# --- 2. provision to ready ---------------------------------------------------------------


def provision(
    platform: Platform, attempts: Sequence[uuid.UUID], watch: ConnectedWatch, worker: Worker
) -> ProvisionResult:
    """All clicks released together; each thread then waits for its workspace, as the
    candidate's portal would, and opens its URL until it answers 200."""
    click, recorded, ready = Samples(), Samples(), Samples()
    misses = [0] * len(attempts)
    slow: list[Trip] = []
    progress = Progress("provision to ready", len(attempts))

    def candidate(i: int, barrier: threading.Barrier) -> None:
        attempt_id = attempts[i]
        barrier.wait(timeout=60)
        clicked = time.perf_counter()
        portal.start_now(platform.ctx, attempt_id)
        click.seconds.append(time.perf_counter() - clicked)
        committed = watch.wait(attempt_id, READY_TIMEOUT_S, worker)
        recorded.seconds.append(committed - clicked)
        attempt = platform.ctx.store.get(attempt_id, ExamAttempt)
        url = urlparse(attempt.workspace_url)
        cookie = her_cookie(platform, attempt.candidate_id)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            trip = http_call(url.port or 80, f"{url.path}?{url.query}", cookie=cookie)
            if trip.slow_connect:
                slow.append(trip)
            if trip.status == HTTPStatus.OK:
                break
            misses[i] += 1
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url.path} still answers {trip.status} after connection")
            time.sleep(0.005)
        ready.seconds.append(time.perf_counter() - clicked)
        progress.step()

    settle_disk()
    tcp = tcp_counters()
    seconds = run_threads(len(attempts), candidate)
    worker.check()
    committed = [watch.wait(a, 0) for a in attempts]
    return ProvisionResult(
        attempts=len(attempts),
        seconds=seconds,
        click=Latency.of(click.seconds),
        to_recorded=Latency.of(recorded.seconds),
        to_ready=Latency.of(ready.seconds),
        gets_before_200=sum(misses),
        connected_spread_s=max(committed) - min(committed),
        slow_connects=len(slow),
        tcp=tcp_delta(tcp),
    )


def start_untimed(
    platform: Platform, attempts: Sequence[uuid.UUID], watch: ConnectedWatch, worker: Worker
) -> None:
    for attempt_id in attempts:
        portal.start_now(platform.ctx, attempt_id)
    for attempt_id in attempts:
        watch.wait(attempt_id, READY_TIMEOUT_S, worker)


def begin_all(platform: Platform, attempts: Sequence[uuid.UUID]) -> list[ExamAttempt]:
    """'Commencer' for each: the seed fixes the order its questions are shown in."""
    begun = []
    for attempt_id in attempts:
        portal.begin_exam(platform.ctx, attempt_id)
        begun.append(platform.ctx.store.get(attempt_id, ExamAttempt))
    return begun


# --- 3. answers over HTTP, and 4. the references -----------------------------------------


@dataclass(frozen=True)
class Answer:
    question_id: str
    text: str
    choices: tuple[str, ...]
    think_s: float

    def form(self) -> str:
        fields: dict[str, Any] = {"question_id": self.question_id}
        if self.choices:
            fields["choice"] = list(self.choices)
        else:
            fields["answer"] = self.text
        return urlencode(fields, doseq=True)


def plan_answers(platform: Platform, order: Sequence[str], number: int) -> list[Answer]:
    """One answer per question in the attempt's order: a short text, one choice, or two
    choices; a think time before each. The same `number` gives the same plan."""
    rng = random.Random(SEED + number)
    paper = platform.ctx.catalogue.get(CERTIFICATION).paper
    questions = {q.question_id: q for q in paper.questions}
    plan = []
    for question_id in order[:ANSWERS_EACH]:
        question = questions[question_id]
        ids = [c.choice_id for c in question.choices]
        if question.kind is QuestionKind.SHORT:
            text, choices = rng.choice([*question.expected, "je ne sais pas"]), ()
        elif question.kind is QuestionKind.SINGLE:
            text, choices = "", (rng.choice(ids),)
        else:
            text, choices = "", tuple(rng.sample(ids, 2))
        plan.append(Answer(question_id, text, choices, rng.uniform(*THINK_S)))
    return plan


@dataclass(frozen=True)
class Script:
    """What one client does: open `page` (None: no page loads), POST each answer to `post`
    after its think time, and load the page again after every PAGE_EVERY answers."""

    page: str | None
    post: str
    answers: list[tuple[str, float]]  # the form's body, the think time before it (s)
    cookie: str = ""  # her browser's (her session)


def run_scripts(
    port: int,
    scripts: Sequence[Script],
    label: str,
    before_release: Callable[[], None] | None = None,
) -> tuple[list[Trip], float]:
    """One thread per script, all released together; every round trip and the wall time."""
    trips: list[Trip] = []
    progress = Progress(label, sum(len(script.answers) for script in scripts))

    def client(i: int, barrier: threading.Barrier) -> None:
        script = scripts[i]
        barrier.wait(timeout=120)
        if script.page is not None:
            trips.append(http_call(port, script.page, cookie=script.cookie))  # the tab opens
        for n, (body, think_s) in enumerate(script.answers, start=1):
            time.sleep(think_s)
            trips.append(http_call(port, script.post, body.encode(), cookie=script.cookie))
            progress.step()
            if script.page is not None and n % PAGE_EVERY == 0:
                trips.append(http_call(port, script.page, cookie=script.cookie))

    seconds = run_threads(len(scripts), client, before_release)
    return trips, seconds


def drive(
    port: int,
    scripts: Sequence[Script],
    label: str,
    clients: str,
    on_release: Callable[[], None],
) -> tuple[list[Trip], float, float | None]:
    """Run the scripts from client threads in this process, or (`clients == "process"`) from
    the same threads in a client process of their own, as browsers are: the process is
    started and its threads are waiting before the clock starts. `on_release` is called
    just before the clients are released."""
    if clients == "threads":
        return (*run_scripts(port, scripts, label, on_release), None)
    job = {"port": port, "label": label, "scripts": [asdict(script) for script in scripts]}
    child = subprocess.Popen(
        module_command(__spec__.name, CLIENT_FLAG),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=repo_env(),
    )
    try:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(json.dumps(job) + "\n")
        child.stdin.flush()
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError("the client process did not start")
        on_release()
        child.stdin.write("go\n")
        child.stdin.close()
        output = child.stdout.read()
        if child.wait(timeout=600) != 0:
            raise RuntimeError(f"the client process failed (exit status {child.returncode})")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    result = json.loads(output)
    trips = [Trip(**trip) for trip in result["trips"]]
    return trips, float(result["seconds"]), float(result["cpu_s"])


def client_process() -> int:
    """The client process's side of `drive`: a job on stdin, 'ready', wait for 'go', run the
    scripts, then the round trips as JSON on stdout (progress goes to stderr)."""
    job = json.loads(sys.stdin.readline())
    scripts = [
        Script(
            s["page"],
            s["post"],
            [(body, think_s) for body, think_s in s["answers"]],
            s["cookie"],
        )
        for s in job["scripts"]
    ]

    def ready_then_go() -> None:
        print("ready", flush=True)
        sys.stdin.readline()

    cpu = time.process_time()
    trips, seconds = run_scripts(job["port"], scripts, job["label"], ready_then_go)
    cpu_s = time.process_time() - cpu
    print(json.dumps({"seconds": seconds, "cpu_s": cpu_s, "trips": [asdict(t) for t in trips]}))
    return 0


def scripts_for(
    begun: Sequence[ExamAttempt],
    plans: Sequence[list[Answer]],
    pages: bool,
    platform: Platform | None = None,
) -> list[Script]:
    """Each candidate's script; with `platform`, from her browser (her session cookie)."""
    scripts = []
    for attempt, plan in zip(begun, plans, strict=True):
        url = urlparse(attempt.workspace_url)
        scripts.append(
            Script(
                f"{url.path}?{url.query}" if pages else None,
                f"{url.path}/answer?{url.query}",
                [(answer.form(), answer.think_s) for answer in plan],
                her_cookie(platform, attempt.candidate_id) if platform else "",
            )
        )
    return scripts


def answer_over_http(
    platform: Platform,
    begun: Sequence[ExamAttempt],
    plans: Sequence[list[Answer]],
    clients: str,
    label: str,
    worker: Worker,
) -> HttpLoadResult:
    """Every candidate's tab: opened, answered, reloaded; the server's callbacks timed."""
    launcher = platform.launcher
    assert isinstance(launcher, BuiltinWorkspaces)
    in_use_case, in_render = Samples(), Samples()
    answer_callback = launcher._answer
    assert answer_callback is not None
    launcher._answer = in_use_case.timed(answer_callback)
    launcher.render = in_render.timed(launcher.render)  # type: ignore[method-assign]
    settle_disk()
    tcp = tcp_counters()
    meters: list[CpuMeter] = []
    try:
        trips, seconds, client_cpu_s = drive(
            app_port(platform),
            scripts_for(begun, plans, pages=True, platform=platform),
            label,
            clients,
            lambda: meters.append(CpuMeter(worker)),
        )
        cpu = meters[0].stop()
    finally:
        launcher._answer = answer_callback
        del launcher.render  # type: ignore[method-assign]
    return HttpLoadResult(
        traffic=Traffic.of(trips, seconds, tcp_delta(tcp), cpu, client_cpu_s),
        in_use_case=Latency.of(in_use_case.seconds),
        in_render=Latency.of(in_render.seconds),
        answers_recorded=count_answers(platform, [a.id for a in begun]),
        answers_expected=sum(len(p) for p in plans),
    )


def count_answers(platform: Platform, attempts: Sequence[uuid.UUID]) -> int:
    store = platform.ctx.store
    return sum(isinstance(e, ExamAttempt.AnswerGiven) for a in attempts for e in store.history(a))


def answer_directly(
    platform: Platform, begun: Sequence[ExamAttempt], plans: Sequence[list[Answer]], worker: Worker
) -> DirectResult:
    """The same answers and think times, `portal.answer_question` called in each thread."""
    saves = Samples()
    errors: list[str] = []
    progress = Progress("answers, direct calls", len(begun) * ANSWERS_EACH)

    def candidate(i: int, barrier: threading.Barrier) -> None:
        attempt_id = begun[i].id
        barrier.wait(timeout=60)
        for answer in plans[i]:
            time.sleep(answer.think_s)
            started = time.perf_counter()
            try:
                portal.answer_question(
                    platform.ctx,
                    attempt_id,
                    question_id=answer.question_id,
                    answer=answer.text,
                    choices=answer.choices,
                )
            except Exception as error:  # the HTTP phase counts these as errors too
                errors.append(repr(error))
            else:
                saves.seconds.append(time.perf_counter() - started)
            progress.step()

    settle_disk()
    meters: list[CpuMeter] = []
    seconds = run_threads(len(begun), candidate, lambda: meters.append(CpuMeter(worker)))
    cpu_s, worker_cpu_s = meters[0].stop()
    return DirectResult(
        cpu_s=cpu_s,
        worker_cpu_s=worker_cpu_s,
        seconds=seconds,
        saves=Latency.of(saves.seconds),
        errors=len(errors),
        error_samples=errors[:5],
        answers_recorded=count_answers(platform, [a.id for a in begun]),
        answers_expected=sum(len(p) for p in plans),
    )


class _NoContent(BaseHTTPRequestHandler):
    """The trivial handler: read the form, answer 204."""

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet, as the workspace's handler is."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(HTTPStatus.NO_CONTENT)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _DeepBacklog(ThreadingHTTPServer):
    """The diagnostic: the same server with a listen backlog deeper than the clients."""

    request_queue_size = DEEP_BACKLOG


def raw_http(
    begun: Sequence[ExamAttempt],
    plans: Sequence[list[Answer]],
    clients: str,
    server_class: type[ThreadingHTTPServer],
    label: str,
    worker: Worker,
) -> Traffic:
    """The same POSTs (paths, bodies, think times) to a bare stdlib server run as the
    workspace's is (daemon threads; default listen backlog unless `server_class` says)."""
    server = server_class((HOST, 0), _NoContent)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="bench-raw-http", daemon=True)
    thread.start()
    tcp = tcp_counters()
    meters: list[CpuMeter] = []
    try:
        trips, seconds, client_cpu_s = drive(
            server.server_address[1],
            scripts_for(begun, plans, pages=False),
            label,
            clients,
            lambda: meters.append(CpuMeter(worker)),
        )
        cpu = meters[0].stop()
    finally:
        server.shutdown()
        server.server_close()
    return Traffic.of(trips, seconds, tcp_delta(tcp), cpu, client_cpu_s)


# --- optional profile --------------------------------------------------------------------


def profile_http_answers(platform: Platform, begun: Sequence[ExamAttempt]) -> list[str]:
    """One client, no think time: PROFILE_ANSWERS more answers over HTTP, round robin over
    the attempts, the handler's work (`save_form`, in Litestar's thread pool) under its own
    cProfile per request, merged. The event loop's share (uvicorn, routing, middleware) is
    not in it: benchmarks/bench_web.py profiles that."""
    launcher = platform.launcher
    assert isinstance(launcher, BuiltinWorkspaces)
    profiles: list[cProfile.Profile] = []
    save_form = launcher.save_form

    def profiled(*args: Any, **kwargs: Any) -> None:
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            save_form(*args, **kwargs)
        finally:
            profiler.disable()
            profiles.append(profiler)

    launcher.save_form = profiled  # type: ignore[method-assign]
    note(f"  [profile] {PROFILE_ANSWERS} answers over HTTP, handler work under cProfile…")
    try:
        for n in range(PROFILE_ANSWERS):
            attempt = begun[n % len(begun)]
            url = urlparse(attempt.workspace_url)
            question = attempt.question_order[(n // len(begun)) % len(attempt.question_order)]
            body = urlencode({"question_id": question, "answer": f"profil {n}"}).encode()
            cookie = her_cookie(platform, attempt.candidate_id)
            trip = http_call(url.port or 80, f"{url.path}/answer?{url.query}", body, cookie=cookie)
            if not ok(trip.status):
                raise RuntimeError(f"profiled answer refused: {trip.status}")
    finally:
        del launcher.save_form  # type: ignore[method-assign]
    stats = pstats.Stats(profiles[0], stream=io.StringIO())
    for profile in profiles[1:]:
        stats.add(profile)
    lines = []
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        stats.stream = out  # type: ignore[attr-defined]
        stats.sort_stats(order).print_stats(PROFILE_LINES)
        lines.append(f"-- by {order} --")
        lines.extend(line for line in out.getvalue().splitlines() if line.strip())
    return lines


# --- stores ------------------------------------------------------------------------------


def store_name(url: str | None) -> str:
    if url is None:
        return "SQLite (temp file)"
    scheme = urlparse(url).scheme
    return {"sqlite": "SQLite", "postgres": "PostgreSQL", "postgresql": "PostgreSQL"}.get(
        scheme, "memory"
    )


# --- the run -----------------------------------------------------------------------------


def bench(config: Config, url: str) -> Results:
    n = config.attempts
    note(f"== {store_name(config.database_url)}: {url}")
    platform = make_platform(url)
    app = AppServer(platform).start()
    watch: ConnectedWatch | None = None
    worker: Worker | None = None
    try:
        prepared, prepare_seconds = prepare(platform, 3 * n)
        over_http = [p.attempt_id for p in prepared[:n]]
        direct = [p.attempt_id for p in prepared[n : 2 * n]]
        deep = [p.attempt_id for p in prepared[2 * n :]]
        watch = ConnectedWatch(platform)
        worker = Worker(platform, WORKER_PAUSE_S).start()
        provisioned = provision(platform, over_http, watch, worker)
        note("  [untimed] start the other attempts, begin every exam…")
        start_untimed(platform, [*direct, *deep], watch, worker)
        watch.close()  # no timer on the store's saves in the answer phases
        begun_http = begin_all(platform, over_http)
        begun_direct = begin_all(platform, direct)
        begun_deep = begin_all(platform, deep)
        # Plan i is the same in every group: same kinds of answers, same think times.
        plans = [plan_answers(platform, a.question_order, i) for i, a in enumerate(begun_http)]
        plans_direct = [
            plan_answers(platform, a.question_order, i) for i, a in enumerate(begun_direct)
        ]
        plans_deep = [plan_answers(platform, a.question_order, i) for i, a in enumerate(begun_deep)]
        worker.wait_quiet()
        over = answer_over_http(
            platform, begun_http, plans, config.clients, "answers over HTTP", worker
        )
        worker.check()
        worker.wait_quiet()
        called = answer_directly(platform, begun_direct, plans_direct, worker)
        worker.check()
        worker.wait_quiet()
        over_deep = answer_over_http(
            platform,
            begun_deep,
            plans_deep,
            config.clients,
            "answers over HTTP, other attempts",
            worker,
        )
        worker.check()
        worker.wait_quiet()
        raw = raw_http(
            begun_http, plans, config.clients, ThreadingHTTPServer, "raw HTTP 204", worker
        )
        raw_deep = raw_http(
            begun_http,
            plans,
            config.clients,
            _DeepBacklog,
            f"raw HTTP 204, backlog {DEEP_BACKLOG}",
            worker,
        )
        worker.check()
        profile = profile_http_answers(platform, begun_http) if config.profile else []
        worker.stop()
        worker.check()
        return Results(
            store=store_name(config.database_url),
            prepare_seconds=prepare_seconds,
            provision=provisioned,
            http=over,
            direct=called,
            http_deep=over_deep,
            raw=raw,
            raw_deep=raw_deep,
            worker_passes=worker.passes,
            worker_reactions=worker.reactions,
            profile=profile,
        )
    finally:
        if worker is not None:
            worker.stop()
        if watch is not None:
            watch.close()
        app.stop()
        platform.close()


# --- main --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> Config:
    parser = arguments(__doc__)
    parser.add_argument(
        "--attempts", type=int, help="concurrent candidates, and client threads (50; quick 2)"
    )
    parser.add_argument(
        "--database-url",
        help="the store instead of a temp SQLite file: sqlite:///new-file, memory:, or "
        "postgresql://user@127.0.0.1:port/db[?schema=new_name] (the schema is created, then "
        "dropped)",
    )
    parser.add_argument(
        "--clients",
        choices=("process", "threads"),
        default="process",
        help="where the HTTP client threads run: a client process of their own (default, as "
        "browsers are), or threads of this process, sharing the server's GIL",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help=f"cProfile {PROFILE_ANSWERS} more sequential HTTP answer saves (server side)",
    )
    args = parser.parse_args(argv)
    attempts = args.attempts or (2 if args.quick else 50)
    if attempts < 1:
        parser.error("--attempts must be positive")
    return Config(
        attempts=attempts,
        database_url=args.database_url,
        clients=args.clients,
        profile=args.profile,
    )


def main(argv: list[str] | None = None) -> int:
    if (sys.argv[1:] if argv is None else argv) == [CLIENT_FLAG]:
        return client_process()
    config = parse_args(argv)
    command = command_line()
    facts = workspaces_machine_facts(config)
    started = time.perf_counter()
    with store_url(config.database_url, loopback_only=True) as url:
        results = bench(config, url)
    finish_facts(facts, started)
    print_report(facts, command, config, results)
    path = write_json(facts, command, config, results)
    print(f"JSON summary: {path}")
    # The references' errors are the stdlib server's, reported above; the product's decide.
    h = results.http
    clean = (
        h.traffic.errors == 0
        and h.answers_recorded == h.answers_expected
        and results.direct.errors == 0
        and results.direct.answers_recorded == results.direct.answers_expected
        and results.http_deep.answers_recorded == results.http_deep.answers_expected
    )
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
