"""Web benchmark: simulated candidates over HTTP against `vigie serve --workers 2` on
PostgreSQL, beside a bare Litestar app measured in the same run; everything on 127.0.0.1.
With --nodes 2, the same load also goes through HAProxy to two nodes in the same run.

Run: .venv/bin/python -m benchmarks.bench_web [--quick] [--nodes 1|2] [--levels 100,500,1000]
     [--window S] [--reference-window S] [--database-url URL] [--profile]

Each simulated candidate is a browser tab on an exam in progress: it saves an answer every
10 s (POST /api/attempts/{id}/answers), beats a heartbeat every 5 s (GET /api/attempts/{id},
the time check) and loads the portal page every 30 s (GET /portal/{id}, then its stylesheet
with If-None-Match, as a browser revalidates; Litestar's static files answer 200 in full),
each schedule on its own random phase and open loop: a request leaves on time whether the
previous one came back or not. A level runs a warm-up, then a measured window.
  1. prepare N candidates (N: the largest level) up to 'Commencer', untimed: the use cases
     on an in-memory platform with a ManualClock, then the log copied into a fresh
     PostgreSQL schema with the policies' positions, so the server starts with nothing left
     to react to. The proctoring password is set through the Candidate aggregate with an
     argon2id hash of light parameters, computed once: the product's own parameters cost
     ~0.4 s of CPU per log-in, and 1,000 of them would take minutes (log-ins are untimed).
  2. reference: a bare Litestar app (async handlers answering constant JSON on the same
     paths, the same stylesheet) run by uvicorn with 2 workers, driven by the same client
     with the same candidates, schedule and concurrency, no log-in; then stopped.
  3. `vigie serve --workers 2` on a free port, the store in that schema, mails to an SMTP
     capture started here, a temp directory as its working directory.
  4. every candidate logs in through the form (untimed), each from its own loopback address
     (127.1.x.y, as candidates come from their own machines: the form is rate-limited per
     address).
  5. the levels, smallest first, on the first n candidates. Just before a level, the exams
     of its new candidates begin ('Commencer' through the use case, on the server's store and
     the system clock, untimed): at each level exactly its candidates have an exam in
     progress, which the server's worker watches. Afterwards the store must hold one
     AnswerGiven per answer the server acknowledged. With --profile and py-spy on the PATH
     (or in the venv), py-spy samples the GIL's holder in both web workers for one more
     window at the largest level, after the measured one (benchmarks/web_profile.py).
  6. with --nodes 2 (root: network namespaces), steps 3 to 5 again on a schema of their own
     (the same prepared log copied there), against the deployment test's set-up
     (benchmarks/cluster.py): two `vigie serve --workers 1` nodes, each in a network
     namespace, behind the shipped deploy/haproxy.cfg on 127.0.0.1 (its health checks as
     shipped), sharing PostgreSQL and Redis through relays on a bridge, an S3 server (moto)
     and an SMTP capture; the nodes believe HAProxy's X-Forwarded-For, so each candidate
     still logs in from an address of their own. The one node, measured in the same run,
     is the two nodes' reference. `--quick` runs both when the machine can, and with CI set
     a machine that cannot is an error (as tests/deploy does).
Each level's figures carry the machine's 1-minute load average at the window's start and end.
The load generator is a separate process (benchmarks/web_load.py): asyncio, HTTP/1.1 written
on streams (see `Browser`), per candidate a cookie jar and at most 6 keep-alive connections;
the preparation is benchmarks/web_prepare.py. The figures are
printed as a table per level and written to benchmarks/results/web-<timestamp>.json. Nothing
is asserted on times; errors or a wrong answer count make the exit status 1.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

from benchmarks.harness import (
    LOOPBACK,
    POSTGRES_SERVER,
    RESULTS_DIR,
    Latency,
    arguments,
    command_line,
    finish_facts,
    machine_facts,
    module_command,
    note,
    packages_text,
    percentile,
    postgres_schema,
    postgres_settings,
    postgres_text,
    print_machine,
    repo_env,
    server_of,
    settle_disk,
    write_summary,
)
from benchmarks.web_load import (
    CONNECTIONS_PER_HOST,
    HEARTBEAT_EVERY_S,
    HOST,
    KEEPALIVE_S,
    PAGE_EVERY_S,
    SAVE_EVERY_S,
    STYLESHEET,
)
from benchmarks.web_prepare import (
    SECRET_KEY,
    Beginner,
    Prepared,
    answers_recorded,
    prepare,
    store_head,
)
from benchmarks.web_profile import PROFILE_RATE_HZ, py_spy, start_spies, summarise_profile

if TYPE_CHECKING:
    from benchmarks.cluster import Cluster

HERE = Path(__file__).resolve().parent
TIME_ZONE = ZoneInfo("Europe/Paris")
EXAM_MINUTES = 90  # the shipped Access certification's duration (R4)
WORKERS = 2
LEVELS = (100, 500, 1000)
QUICK_LEVELS = (5,)
WINDOW_S = 60.0
REFERENCE_WINDOW_S = 30.0
QUICK_WINDOW_S = 2.0
QUICK_REFERENCE_WINDOW_S = 1.0
WARMUP_S = 5.0
QUICK_WARMUP_S = 0.5
PROFILE_WINDOW_S = 20.0
QUICK_PROFILE_WINDOW_S = 2.0
TARGET_CANDIDATES = 1000
TARGET_P99_MS = 100.0
START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 20.0
REFERENCE_FLAG = "--reference-server"  # how `start_reference` starts the reference app


# --- small helpers -----------------------------------------------------------------------


def http_status(port: int, path: str) -> int:
    """A GET's status, 0 when nothing answers."""
    connection = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        connection.close()


def keepalive_probe(port: int, path: str, count: int = 15) -> dict[str, float]:
    """p50 of `count` back-to-back GETs, each on a new connection, then all on one
    keep-alive connection: a listening socket without TCP_NODELAY makes a response in two
    segments wait for the client's delayed ACK (~40 ms on Linux) once the connection is
    established (uvicorn issue #3149, `--workers N`)."""
    fresh, reused = [], []
    for _ in range(count):
        started = time.perf_counter()
        if http_status(port, path) != 200:
            raise RuntimeError(f"{path} did not answer 200")
        fresh.append(time.perf_counter() - started)
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        for _ in range(count + 1):
            started = time.perf_counter()
            connection.request("GET", path)
            connection.getresponse().read()
            reused.append(time.perf_counter() - started)
    finally:
        connection.close()
    return {
        "new_connection_p50_ms": percentile(sorted(fresh), 0.5) * 1000,
        "keepalive_p50_ms": percentile(sorted(reused[1:]), 0.5) * 1000,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat's fields after the command name (state first), or None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU of these processes so far (those gone count nothing)."""
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU time every process of the machine has used so far (/proc/stat: all but idle and
    I/O wait), in seconds summed over the CPUs."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields[:8]) - idle - iowait) / CLOCK_TICKS


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def postgres_pids() -> list[int]:
    """Every PostgreSQL process on this machine (the server and its backends)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip().startswith("postgres"):
                    found.append(int(entry.name))
    return found


def paris_now() -> datetime:
    return datetime.now(UTC).astimezone(TIME_ZONE)


# --- 2. the reference app ----------------------------------------------------------------


def reference_app() -> Any:
    """The bare Litestar app: constant JSON on the candidate's paths, async handlers, no
    middleware, no store; the product's stylesheet from the same folder."""
    from litestar import Litestar, get, post
    from litestar.static_files import create_static_files_router

    import ui.web

    @post("/api/attempts/{attempt_id:uuid}/answers", status_code=201)
    async def answer(attempt_id: uuid.UUID, data: dict[str, Any]) -> dict[str, Any]:
        return data

    @get("/api/attempts/{attempt_id:uuid}")
    async def attempt(attempt_id: uuid.UUID) -> dict[str, Any]:
        return {"attempt_id": str(attempt_id), "status": "in_progress", "remaining": 3600.0}

    @get("/portal/{attempt_id:uuid}")
    async def page(attempt_id: uuid.UUID) -> dict[str, Any]:
        return {"attempt_id": str(attempt_id), "page": "portal"}

    static = Path(ui.web.__file__).parent / "static"
    return Litestar(
        route_handlers=[
            answer,
            attempt,
            page,
            create_static_files_router(path="/static", directories=[static]),
        ],
        debug=False,
    )


# --- servers -----------------------------------------------------------------------------


class Server:
    """A server subprocess in its own process group, its output in files; stopped by
    SIGINT (uvicorn's supervisor then stops its workers), SIGKILL to the group if stuck."""

    def __init__(
        self, label: str, command: list[str], port: int, cwd: Path, env: dict[str, str]
    ) -> None:
        self.label = label
        self.port = port
        self.cwd = cwd
        self.out_path = cwd / f"{label}.out"
        self._out: IO[bytes] = self.out_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pids(self) -> list[int]:
        """The supervisor and its workers."""
        return [self.process.pid, *children_of(self.process.pid)]

    @property
    def workers(self) -> list[int]:
        """The web workers (not multiprocessing's resource tracker beside them)."""
        found = []
        for pid in children_of(self.process.pid):
            with contextlib.suppress(OSError):
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(pid)
        return found

    @property
    def proxy_pids(self) -> list[int]:
        """Nothing stands between the clients and one node."""
        return []

    def output(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.out_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def wait_ready(self, path: str, timeout_s: float = START_TIMEOUT_S) -> float:
        """Until `path` answers 200 and every worker is up; the seconds it took."""
        started = time.perf_counter()
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.label} exited ({self.process.returncode}):\n{self.output()}"
                )
            if len(self.workers) >= WORKERS and http_status(self.port, path) == 200:
                return time.perf_counter() - started
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.label} did not answer in {timeout_s:.0f}s:\n{self.output()}"
                )
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=STOP_TIMEOUT_S)
        # Workers left behind by a killed supervisor are in its group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self._out.close()
        # Its log kept beside the results (the temp folder goes): warnings such as a long
        # garbage collection say what a latency tail was.
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.out_path, RESULTS_DIR / f"web-{self.label.replace(' ', '-')}.log")


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    try:
        yield server
    finally:
        server.stop()


def start_reference(cwd: Path) -> Server:
    port = free_port()
    # Served the way `vigie serve --workers N` serves (ui.serve.run_workers: uvicorn's
    # multi-process mode on a socket with TCP_NODELAY), so that only the app differs.
    command = module_command(__spec__.name, REFERENCE_FLAG, str(port))
    return Server("reference", command, port, cwd, repo_env())


def start_vigie(url: str, smtp_url: str, cwd: Path) -> Server:
    port = free_port()
    env = dict(os.environ)
    env.update(
        VIGIE_DATABASE_URL=url,
        VIGIE_SMTP_URL=smtp_url,
        VIGIE_BASE_URL=f"http://{HOST}:{port}",
        VIGIE_SECRET_KEY=SECRET_KEY,
        VIGIE_TIME_ZONE="Europe/Paris",
    )
    command = [
        sys.executable,
        "-m",
        "ui.cli",
        "serve",
        "--demo",
        "--workers",
        str(WORKERS),
        "--host",
        HOST,
        "--port",
        str(port),
    ]
    return Server("vigie", command, port, cwd, env)


class TwoNodes:
    """The two-node deployment (benchmarks/cluster.py) as the load generator and the CPU
    sampling see it: HAProxy's port on 127.0.0.1, the nodes' processes, the proxy's."""

    def __init__(self, deployment: Cluster) -> None:
        self.deployment = deployment
        self.port = int(urlparse(deployment.url).port or 80)
        self.cwd = deployment.folder

    @property
    def pids(self) -> list[int]:
        """Each node's `vigie serve` (its web process) and the `vigie worker` it started."""
        found = []
        for node in self.deployment.nodes:
            if node.process is not None:
                found += [node.process.pid, *children_of(node.process.pid)]
        return found

    @property
    def workers(self) -> list[int]:
        """The web processes: one per node (`--workers 1`, as docs/deploy.md asks)."""
        found = []
        for pid in self.pids:
            with contextlib.suppress(OSError):
                if b"serve" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0"):
                    found.append(pid)
        return found

    @property
    def proxy_pids(self) -> list[int]:
        """HAProxy, and the socat relays that bring PostgreSQL and Redis to the bridge where
        nftables is missing (a child per connection; the kernel's forwarding is no process)."""
        found = []
        for service in self.deployment.services:
            found += [service.pid, *children_of(service.pid)]
        return found


@contextlib.contextmanager
def two_nodes(url: str, prefix: str) -> Iterator[TwoNodes]:
    """Two `vigie serve --workers 1` nodes in network namespaces, on the store at `url`
    (through a relay), behind the shipped HAProxy configuration, with Redis, an S3 server
    and an SMTP capture: the deployment test's set-up (benchmarks/cluster.py)."""
    from benchmarks.cluster import cluster

    settings = {
        "VIGIE_SECRET_KEY": SECRET_KEY,
        "VIGIE_TIME_ZONE": "Europe/Paris",
        # The nodes are given only VIGIE_ settings named here (benchmarks/cluster.py).
        "VIGIE_CLOCK_OFFSET": os.environ.get("VIGIE_CLOCK_OFFSET", "0"),
    }
    with cluster(
        url, workers=1, demo=False, extra_env=settings, prefix=prefix, fast_checks=False
    ) as deployment:
        yield TwoNodes(deployment)


# --- driving the load generator ----------------------------------------------------------


@dataclass
class LevelResult:
    label: str
    candidates: int
    window_s: float
    scheduled_per_s: float
    achieved_per_s: float
    save: Latency
    heartbeat: Latency
    page: Latency
    errors: dict[str, int]
    error_samples: list[str]
    lateness: Latency
    # server, proxy (HAProxy and relays), postgres, client, and other: the rest of the machine
    cpu_ms_per_request: dict[str, float]
    cpu_cores: dict[str, float]  # the same, as cores kept busy over the window
    saves_ok_total: int
    # The machine's 1-minute load average at the window's start and end: other helpers' work
    # on a shared machine moves every figure.
    load_average: tuple[float, float] = (0.0, 0.0)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def meets_target(self) -> bool:
        return self.error_count == 0 and self.save.p99_ms < TARGET_P99_MS


def scheduled_rate(candidates: int) -> float:
    """Requests per second: a save, heartbeats and a page load (two requests) per candidate."""
    return candidates * (1 / SAVE_EVERY_S + 1 / HEARTBEAT_EVERY_S + 2 / PAGE_EVERY_S)


@dataclass
class ClientRun:
    login_s: float
    levels: list[LevelResult]
    saves_ok_total: int  # every level's, warm-ups, drains and the profiled window included
    saves_failed_total: int
    profile: list[str] = field(default_factory=list)


class Deployment(Protocol):
    """What the load generator is pointed at, and whose CPU is counted."""

    port: int
    cwd: Path

    @property
    def pids(self) -> list[int]: ...  # the servers: web processes and their `vigie worker`

    @property
    def workers(self) -> list[int]: ...  # the web processes alone (py-spy samples them)

    @property
    def proxy_pids(self) -> list[int]: ...  # what stands between the clients and the servers


def run_client(
    label: str,
    server: Deployment,
    prepared: Sequence[Prepared],
    config: Config,
    *,
    log_in: bool,
    window_s: float,
    profile: bool = False,
    before_level: Callable[[int], None] | None = None,
) -> ClientRun:
    """The load generator over the levels; this process calls `before_level(n)` before
    level n, and samples the CPU of the server, of PostgreSQL and of the client at each
    window's start and end."""
    job = {
        "label": label,
        "port": server.port,
        "log_in": log_in,
        "levels": list(config.levels),
        "warmup_s": config.warmup_s,
        "window_s": window_s,
        "profile_window_s": config.profile_window_s if profile else 0.0,
        "candidates": [asdict(p) for p in prepared[: max(config.levels)]],
    }
    child = subprocess.Popen(
        module_command("benchmarks.web_load"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=repo_env(),
    )
    cpu: dict[str, dict[str, float]] = defaultdict(dict)
    spies: list[subprocess.Popen[bytes]] = []
    spy_files: list[Path] = []
    result: dict[str, Any] | None = None
    try:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(json.dumps(job) + "\n")
        child.stdin.flush()
        for line in child.stdout:
            word, _, rest = line.strip().partition(" ")
            if word == "level":
                if before_level is not None:
                    before_level(int(rest))
                child.stdin.write("go\n")
                child.stdin.flush()
            elif word in ("start", "end"):
                pg = postgres_pids()
                cpu[rest][f"{word}_load"] = os.getloadavg()[0]
                cpu[rest][f"{word}_server"] = cpu_seconds(server.pids)
                cpu[rest][f"{word}_proxy"] = cpu_seconds(server.proxy_pids)
                cpu[rest][f"{word}_postgres"] = cpu_seconds(pg)
                cpu[rest][f"{word}_client"] = cpu_seconds([child.pid])
                cpu[rest][f"{word}_machine"] = machine_busy_seconds()
                if word == "start" and rest == "profile":
                    spies, spy_files = start_spies(
                        server.workers, server.cwd, config.profile_window_s
                    )
            elif word == "result":
                result = json.loads(rest)
        child.stdin.close()
        if child.wait(timeout=600) != 0 or result is None:
            raise RuntimeError(f"the {label} load generator failed (exit {child.returncode})")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for spy in spies:
            with contextlib.suppress(subprocess.TimeoutExpired):
                spy.wait(timeout=config.profile_window_s + 30)
            if spy.poll() is None:
                spy.kill()
                spy.wait()
    levels = []
    for raw in result["levels"]:
        if raw.get("profile"):
            continue
        tag = str(raw["candidates"])
        levels.append(level_result(label, raw, cpu[tag]))
    lines = summarise_profile(spy_files, config.profile_window_s) if spy_files else []
    for spy_file in spy_files:  # the collapsed stacks too, for a flame graph or a grep
        if spy_file.exists():
            RESULTS_DIR.mkdir(parents=True, exist_ok=True)
            shutil.copy(spy_file, RESULTS_DIR / f"web-{label.replace(' ', '-')}-{spy_file.name}")
    acknowledged = sum(raw["saves_ok_total"] for raw in result["levels"])
    failed = sum(raw["saves_failed_total"] for raw in result["levels"])
    return ClientRun(result["login_s"], levels, acknowledged, failed, lines)


def level_result(label: str, raw: dict[str, Any], cpu: dict[str, float]) -> LevelResult:
    lat = raw["latencies"]
    errors = raw["errors"]
    requests = raw["completed_in_window"]  # the work done while the CPU was counted
    spent = {
        part: cpu.get(f"end_{part}", 0.0) - cpu.get(f"start_{part}", 0.0)
        for part in ("server", "proxy", "postgres", "client", "machine")
    }
    # The rest of the machine: the kernel's own work and any other process (a busy
    # neighbour shows here).
    ours = spent["server"] + spent["proxy"] + spent["postgres"] + spent["client"]
    spent["other"] = max(0.0, spent.pop("machine") - ours)
    return LevelResult(
        label=label,
        candidates=raw["candidates"],
        window_s=raw["window_s"],
        scheduled_per_s=scheduled_rate(raw["candidates"]),
        achieved_per_s=requests / raw["window_s"],
        save=Latency.of(lat["save"]),
        heartbeat=Latency.of(lat["heartbeat"]),
        page=Latency.of(lat["page"]),
        errors=errors,
        error_samples=raw["error_samples"],
        lateness=Latency.of(raw["lateness"]),
        cpu_ms_per_request={k: v * 1000 / max(requests, 1) for k, v in spent.items()},
        cpu_cores={k: v / raw["window_s"] for k, v in spent.items()},
        saves_ok_total=raw["saves_ok_total"],
        load_average=(cpu.get("start_load", 0.0), cpu.get("end_load", 0.0)),
    )


# --- the run -----------------------------------------------------------------------------


@dataclass
class Config:
    levels: tuple[int, ...]
    window_s: float
    reference_window_s: float
    warmup_s: float
    profile_window_s: float
    database_url: str
    profile: bool
    nodes: int = 1  # 2: the two-node deployment too, the one node as its reference
    netns_prefix: str = "bw"  # of the two-node run's namespaces, links and bridge
    # Why the two-node run was left out of a quick run (this machine cannot run it).
    two_nodes_skipped: str = ""


@dataclass
class DeploymentRun:
    """One deployment of Vigie driven through the levels, on a store of its own."""

    label: str  # "one node" or "two nodes"
    title: str  # what was served, for the report
    start_s: float
    login_s: float
    begin_s: float
    levels: list[LevelResult]
    answers_acknowledged: int
    answers_failed: int
    answers_recorded: int
    profile: list[str]

    @property
    def answers_consistent(self) -> bool:
        """Every acknowledged answer recorded; a save that failed on the client's side
        (a timeout) may have been recorded all the same, nothing else."""
        extra = self.answers_recorded - self.answers_acknowledged
        return 0 <= extra <= self.answers_failed

    @property
    def errors(self) -> int:
        return sum(level.error_count for level in self.levels)


@dataclass
class Results:
    prepared: int
    prepare_seconds: float
    events_copied: int
    reference_start_s: float
    reference: list[LevelResult]
    nagle: dict[str, float]
    runs: list[DeploymentRun]  # the one node, then the two nodes when asked

    def run(self, label: str) -> DeploymentRun | None:
        return next((r for r in self.runs if r.label == label), None)


ONE_NODE = "one node"
TWO_NODES = "two nodes"


def morning_if_late(config: Config) -> float:
    """The exams begin now and must end before midnight (R16): late in the day, every
    process of the run is given a clock at 9:00 in Paris today (VIGIE_CLOCK_OFFSET, as a
    rehearsal platform is; the preparation reads it too). Its seconds; 0 when they fit."""
    windows = config.window_s * (2 if config.nodes == 2 else 1) + config.reference_window_s
    budget = timedelta(minutes=EXAM_MINUTES) + timedelta(seconds=len(config.levels) * windows + 600)
    now = paris_now()
    if (now + budget).date() == now.date():
        return 0.0
    offset = (now.replace(hour=9, minute=0, second=0, microsecond=0) - now).total_seconds()
    print(
        f"it is {now:%H:%M} in Europe/Paris: the benchmark's exams last {EXAM_MINUTES} minutes "
        "and must end the same day (R16), so its platforms run at 9:00 (VIGIE_CLOCK_OFFSET)",
        file=sys.stderr,
    )
    return offset


def drive(
    label: str,
    title: str,
    deployment: Deployment,
    start_s: float,
    url: str,
    prepared: Sequence[Prepared],
    config: Config,
    copied: int,
) -> DeploymentRun:
    """Log every candidate in, then the levels, each level's exams begun just before it;
    then the answers the store recorded (after the demo's seeding: its sample exam, sent
    for review before the nodes were ready, has answers of its own)."""
    seeded = store_head(url)
    with contextlib.closing(Beginner(url, prepared)) as begin:
        run = run_client(
            label,
            deployment,
            prepared,
            config,
            log_in=True,
            window_s=config.window_s,
            profile=config.profile,
            before_level=begin,
        )
    note(f"  [{label}] counting the answers recorded…")
    return DeploymentRun(
        label=label,
        title=title,
        start_s=start_s,
        login_s=run.login_s,
        begin_s=begin.seconds,
        levels=run.levels,
        answers_acknowledged=run.saves_ok_total,
        answers_failed=run.saves_failed_total,
        answers_recorded=answers_recorded(url, max(copied, seeded)),
        profile=run.profile,
    )


def bench(config: Config, urls: Sequence[str]) -> Results:
    """`urls`: a fresh schema for the one node, and one for the two nodes when asked."""
    from adapters.mail.capture import SmtpCapture

    largest = max(config.levels)
    settle_disk()
    prepared, prepare_seconds, copied = prepare(largest, urls)
    note(
        f"  [prepare] {largest:,} candidates ready to begin, {copied:,} events "
        f"(into {len(urls)} schema(s)), {prepare_seconds:.1f}s"
    )
    runs = []
    with tempfile.TemporaryDirectory(prefix="vigie-bench-web-") as directory:
        cwd = Path(directory)
        settle_disk()
        note(f"  [reference] bare Litestar app, uvicorn --workers {WORKERS}…")
        with running(start_reference(cwd)) as reference:
            reference_start_s = reference.wait_ready(STYLESHEET)
            nagle = keepalive_probe(reference.port, f"/api/attempts/{prepared[0].attempt_id}")
            ref_run = run_client(
                "reference",
                reference,
                prepared,
                config,
                log_in=False,
                window_s=config.reference_window_s,
            )
        settle_disk()
        note(f"  [{ONE_NODE}] vigie serve --workers {WORKERS}…")
        with (
            SmtpCapture() as capture,
            running(start_vigie(urls[0], f"smtp://{capture.host}:{capture.port}", cwd)) as vigie,
        ):
            start_s = vigie.wait_ready("/login")
            title = f"Vigie, one node: vigie serve --workers {WORKERS}"
            runs.append(drive(ONE_NODE, title, vigie, start_s, urls[0], prepared, config, copied))
    if config.nodes == 2:
        settle_disk()
        note(f"  [{TWO_NODES}] two vigie serve --workers 1 in namespaces, behind HAProxy…")
        started = time.perf_counter()
        with two_nodes(urls[1], config.netns_prefix) as nodes:
            start_s = time.perf_counter() - started
            title = "Vigie, two nodes: 2 × vigie serve --workers 1 behind HAProxy"
            runs.append(drive(TWO_NODES, title, nodes, start_s, urls[1], prepared, config, copied))
    return Results(
        prepared=largest,
        prepare_seconds=prepare_seconds,
        events_copied=copied,
        reference_start_s=reference_start_s,
        reference=ref_run.levels,
        nagle=nagle,
        runs=runs,
    )


# --- report ------------------------------------------------------------------------------


def web_machine_facts(config: Config) -> dict[str, Any]:
    import importlib.util

    facts = machine_facts(
        ("litestar", "uvicorn", "h11", "eventsourcing", "psycopg", "msgspec", "jinja2")
    )
    facts["postgresql"] = postgres_settings(
        server_of(config.database_url),
        ("server_version", "fsync", "synchronous_commit", "shared_buffers", "max_connections"),
    )
    facts["uvicorn_http"] = "httptools" if importlib.util.find_spec("httptools") else "h11"
    facts["uvicorn_loop"] = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    facts["py_spy"] = py_spy() or "absent"
    with contextlib.suppress(OSError):
        facts["somaxconn"] = Path("/proc/sys/net/core/somaxconn").read_text().strip()
    return facts


ROW = "{:<54} {:>8} {:>8} {:>8} {:>7}  {}"


def latency_row(measure: str, lat: Latency, note_text: str = "") -> str:
    return ROW.format(measure, *lat.cells(), note_text)


def text_row(measure: str, note_text: str) -> str:
    return ROW.format(measure, "", "", "", "", note_text)


def ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}×" if b else "n/a"


def level_rows(level: LevelResult, title: str) -> None:
    e = level.errors
    print(f"  {title}")
    print(
        latency_row(
            "    answer save: POST /api/attempts/{id}/answers → 201",
            level.save,
            f"errors {e.get('save', 0)}",
        )
    )
    print(
        latency_row(
            "    heartbeat: GET /api/attempts/{id} → 200",
            level.heartbeat,
            f"errors {e.get('heartbeat', 0)}",
        )
    )
    print(
        latency_row(
            "    page load: GET /portal/{id}, then the stylesheet",
            level.page,
            f"errors {e.get('page', 0)}",
        )
    )
    cpu, cores = level.cpu_ms_per_request, level.cpu_cores
    print(
        text_row(
            "    requests",
            f"{level.achieved_per_s:,.1f}/s of {level.scheduled_per_s:,.1f}/s scheduled; "
            f"errors {level.error_count}",
        )
    )
    proxy = cores.get("proxy", 0.0)
    print(
        text_row(
            "    CPU: server / PostgreSQL / client" + (" / proxy" if proxy else ""),
            f"{cores['server']:.2f} / {cores['postgres']:.2f} / {cores['client']:.2f}"
            + (f" / {proxy:.2f}" if proxy else "")
            + f" cores (+{cores['other']:.2f} other); {cpu['server']:.1f} / "
            f"{cpu['postgres']:.1f} / {cpu['client']:.1f}"
            + (f" / {cpu['proxy']:.1f}" if proxy else "")
            + " ms per request",
        )
    )
    print(latency_row("    client lag: request start after its schedule", level.lateness))
    start, end = level.load_average
    print(
        text_row(
            "    machine's 1-min load average", f"{start:.2f} at the start, {end:.2f} at the end"
        )
    )


def verdict(level: LevelResult | None) -> str:
    if level is None:
        return f"not measured (no level of {TARGET_CANDIDATES:,} candidates in this run)"
    word = "PASS" if level.meets_target else "BELOW"
    start, end = level.load_average
    return (
        f"{word} (answer-save p50 / p99 {level.save.p50_ms:.1f} / {level.save.p99_ms:.1f} ms, "
        f"{level.error_count} errors, at {level.candidates:,} candidates; load average "
        f"{start:.2f}–{end:.2f})"
    )


def at_target(run: DeploymentRun | None) -> LevelResult | None:
    if run is None:
        return None
    return next((v for v in run.levels if v.candidates == TARGET_CANDIDATES), None)


def print_report(facts: dict[str, Any], command: str, config: Config, r: Results) -> None:
    print_machine(facts, command)
    print(f"packages: {packages_text(facts)}")
    print(f"store   : {postgres_text(facts['postgresql'])}, a schema made for each deployment")
    print(
        f"servers : one node, `vigie serve --workers {WORKERS}` (live recording wired in, as "
        "served), and the reference\n          (bare Litestar, async handlers, constant JSON), "
        f"both by uvicorn's {WORKERS} worker processes on a socket\n          with TCP_NODELAY, "
        f"HTTP {facts['uvicorn_http']}, loop {facts['uvicorn_loop']}, on {HOST}; GETs to the "
        f"reference, back to back:\n          {r.nagle['new_connection_p50_ms']:.1f} ms p50 "
        f"each on a new connection, {r.nagle['keepalive_p50_ms']:.1f} ms on one keep-alive "
        "connection"
    )
    if config.nodes == 2:
        print(
            "          two nodes: `vigie serve --workers 1` each in a network namespace of its "
            "own, behind the shipped\n          deploy/haproxy.cfg on 127.0.0.1, sharing "
            "PostgreSQL and Redis (forwarded by the kernel to a bridge), an S3\n"
            "          server (moto) and an SMTP capture (benchmarks/cluster.py, the deployment "
            "test's set-up)"
        )
    elif config.two_nodes_skipped:
        print(f"          two nodes: not run ({config.two_nodes_skipped})")
    print(
        "clients : one load-generator process (asyncio, HTTP/1.1 on streams); per candidate its "
        f"own loopback\n          address, a cookie jar and at most {CONNECTIONS_PER_HOST} "
        f"keep-alive connections (closed after {KEEPALIVE_S:.0f} s idle);\n          a save "
        f"every {SAVE_EVERY_S:.0f} s, a heartbeat every {HEARTBEAT_EVERY_S:.0f} s, a page load "
        f"every {PAGE_EVERY_S:.0f} s, random phases, open loop;\n          per level a "
        f"{config.warmup_s:.0f} s warm-up, then {config.window_s:.0f} s measured (reference "
        f"{config.reference_window_s:.0f} s)"
    )
    print(
        f"setup   : {r.prepared:,} candidates up to 'Commencer' ({r.events_copied:,} events) in "
        f"{r.prepare_seconds:.1f}s; the reference up in {r.reference_start_s:.1f}s"
    )
    for run in r.runs:
        print(
            f"          {run.label}: up in {run.start_s:.1f}s, {r.prepared:,} log-ins in "
            f"{run.login_s:.1f}s, each level's new exams begun just before it "
            f"({run.begin_s:.1f}s in all); untimed"
        )
    print()
    header = ROW.format("measure", "p50 ms", "p99 ms", "max ms", "count", "note")
    print(header)
    print("-" * (len(header) + 40))
    references = {level.candidates: level for level in r.reference}
    for n in config.levels:
        print(
            f"{n:,} candidates: {n / SAVE_EVERY_S:,.1f} saves/s, "
            f"{n / HEARTBEAT_EVERY_S:,.1f} heartbeats/s, {n / PAGE_EVERY_S:,.1f} page loads/s"
        )
        ref = references[n]
        measured = [(run, next(v for v in run.levels if v.candidates == n)) for run in r.runs]
        for run, level in reversed(measured):  # the two nodes first, when measured
            level_rows(level, f"{run.title}, PostgreSQL")
        level_rows(ref, "reference: bare Litestar JSON, same schedule")
        for run, level in reversed(measured):
            meets = "yes" if level.meets_target else "no"
            print(
                text_row(
                    f"  answer save, {run.label} ÷ reference (p50 / p99)",
                    f"{ratio(level.save.p50_ms, ref.save.p50_ms)} / "
                    f"{ratio(level.save.p99_ms, ref.save.p99_ms)}; "
                    f"p99 < {TARGET_P99_MS:.0f} ms and no errors: {meets}",
                )
            )
        if len(measured) == 2:
            (_, one), (_, two) = measured
            print(
                text_row(
                    "  answer save, two nodes ÷ one node (p50 / p99)",
                    f"{ratio(two.save.p50_ms, one.save.p50_ms)} / "
                    f"{ratio(two.save.p99_ms, one.save.p99_ms)}",
                )
            )
    print()
    for run in reversed(r.runs):
        print(
            f"target  : {run.label}, {TARGET_CANDIDATES:,} candidates, answer-save p99 < "
            f"{TARGET_P99_MS:.0f} ms and no errors: {verdict(at_target(run))}"
        )
    for run in r.runs:
        extra = run.answers_recorded - run.answers_acknowledged
        agreed = "OK" if run.answers_consistent else "MISMATCH"
        if run.answers_consistent and extra:
            agreed += (
                f" ({extra:,} of the {run.answers_failed:,} failed saves recorded all the same)"
            )
        print(
            f"answers : {run.label}: {run.answers_acknowledged:,} acknowledged by the server "
            f"(warm-ups included), {run.answers_failed:,} failed, {run.answers_recorded:,} "
            f"AnswerGiven recorded: {agreed}"
        )
    print()
    print(
        "Latencies: per request, from sending it to its response read whole, nearest-rank "
        "percentiles, successes\nonly; a page load is the page then its stylesheet. Errors: "
        "a status outside 2xx (or 304 for the stylesheet)\nor a transport failure. CPU: "
        "/proc of the server processes (each web process and the `vigie worker` beside it),\n"
        "of every PostgreSQL process, of the client and, for two nodes, of HAProxy and the "
        "relays, over the measured\nwindow, as cores kept busy and divided by the requests "
        "completed in it; 'other': the rest of the\nmachine's busy time (/proc/stat: the kernel, "
        "any other process). Client lag: a busy load generator starts\nrequests late (latencies "
        "are counted from the actual start). The one-node servers bind their socket with\n"
        "TCP_NODELAY (uvicorn --workers N leaves it off, uvicorn issue #3149: a response in two "
        "segments on a\nkept-alive connection then waits ~40 ms for the delayed ACK)."
    )
    for label, levels in (
        *((run.label, run.levels) for run in r.runs),
        ("reference", r.reference),
    ):
        for level in levels:
            if level.error_samples:
                print(
                    f"errors, {label} at {level.candidates:,} (first {len(level.error_samples)}): "
                    + "; ".join(level.error_samples)
                )
    for run in r.runs:
        if run.profile:
            print()
            print(
                f"py-spy, {run.label}, every Vigie web process, {config.profile_window_s:.0f} s "
                f"more at {max(config.levels):,} candidates ({PROFILE_RATE_HZ} Hz):"
            )
            print("\n".join(run.profile))


def level_json(level: LevelResult) -> dict[str, Any]:
    return asdict(level) | {"error_count": level.error_count, "meets_target": level.meets_target}


def run_json(run: DeploymentRun, references: dict[int, LevelResult]) -> dict[str, Any]:
    return {
        "title": run.title,
        "start_s": run.start_s,
        "login_s": run.login_s,
        "begin_s": run.begin_s,
        "levels": [level_json(level) for level in run.levels],
        "ratios": {
            str(level.candidates): {
                "save_p50": level.save.p50_ms / references[level.candidates].save.p50_ms,
                "save_p99": level.save.p99_ms / references[level.candidates].save.p99_ms,
            }
            for level in run.levels
        },
        "target_verdict": verdict(at_target(run)),
        "answers": {
            "acknowledged": run.answers_acknowledged,
            "failed": run.answers_failed,
            "recorded": run.answers_recorded,
            "consistent": run.answers_consistent,
        },
        "profile": run.profile,
    }


def write_json(facts: dict[str, Any], command: str, config: Config, r: Results) -> Path:
    references = {level.candidates: level for level in r.reference}
    runs = {run.label: run_json(run, references) for run in r.runs}
    one = runs[ONE_NODE]
    summary = {
        "command": command,
        "machine": facts,
        "config": asdict(config)
        | {
            "workers": WORKERS,
            "save_every_s": SAVE_EVERY_S,
            "heartbeat_every_s": HEARTBEAT_EVERY_S,
            "page_every_s": PAGE_EVERY_S,
            "keepalive_s": KEEPALIVE_S,
            "target": {"candidates": TARGET_CANDIDATES, "p99_ms": TARGET_P99_MS, "errors": 0},
        },
        "setup": {
            "candidates": r.prepared,
            "prepare_seconds": r.prepare_seconds,
            "events_copied": r.events_copied,
            "reference_start_s": r.reference_start_s,
        },
        # The one node under the keys earlier runs used, so their summaries compare.
        "vigie": one["levels"],
        "reference": [level_json(level) for level in r.reference],
        "ratios": one["ratios"],
        "target_verdict": one["target_verdict"],
        "answers": one["answers"],
        "deployments": runs,
        "two_nodes_skipped": config.two_nodes_skipped or None,
        "keepalive_probe_ms": r.nagle,
    }
    return write_summary("web", summary, default=str)


# --- main --------------------------------------------------------------------------------


def two_nodes_possible() -> str | None:
    """Why this machine cannot run the two nodes (root, iproute2, socat, HAProxy), or None."""
    from benchmarks.cluster import available

    return available()


def parse_args(argv: list[str] | None = None) -> Config:
    parser = arguments(
        __doc__,
        quick="a tiny run that proves it works (both deployments when this machine can run "
        "two nodes; with CI set, a machine that cannot is an error)",
    )
    parser.add_argument(
        "--levels",
        help="candidates per level, comma-separated (100,500,1000; quick 5)",
    )
    parser.add_argument("--window", type=float, help="measured seconds per level (60; quick 2)")
    parser.add_argument(
        "--reference-window", type=float, help="the reference's measured seconds (30; quick 1)"
    )
    parser.add_argument(
        "--warmup", type=float, help="unmeasured seconds before each window (5; quick 0.5)"
    )
    parser.add_argument(
        "--nodes",
        type=int,
        choices=(1, 2),
        help="2: also two nodes behind HAProxy in network namespaces (root), the one node as "
        "their reference in the same run (default 1; quick 2 when the machine can)",
    )
    parser.add_argument(
        "--netns-prefix",
        default=os.environ.get("VIGIE_NETNS_PREFIX", "bw"),
        help="prefix of the two-node run's namespaces, links and bridge (at most 5 letters; "
        "default $VIGIE_NETNS_PREFIX or bw)",
    )
    parser.add_argument(
        "--database-url",
        default=POSTGRES_SERVER,
        help="postgresql://user@127.0.0.1:port/db[?schema=new_name] (the schema is created, "
        f"then dropped; default {POSTGRES_SERVER})",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy every web process for one more window at the largest level (needs py-spy)",
    )
    args = parser.parse_args(argv)
    if args.levels:
        try:
            levels = tuple(sorted({int(x) for x in args.levels.split(",")}))
        except ValueError:
            parser.error("--levels: integers separated by commas")
    else:
        levels = QUICK_LEVELS if args.quick else LEVELS
    if min(levels) < 1 or max(levels) > 250 * 256:
        parser.error("--levels: between 1 and 64,000 candidates")
    parsed = urlparse(args.database_url)
    if parsed.scheme not in ("postgres", "postgresql"):
        parser.error("--database-url: a PostgreSQL URL")
    if (parsed.hostname or HOST) not in LOOPBACK:
        parser.error("--database-url: the benchmark talks only to 127.0.0.1")
    if not (args.netns_prefix.isalnum() and len(args.netns_prefix) <= 5):
        parser.error("--netns-prefix: at most 5 letters or digits (Linux names links in 15)")
    if args.profile and py_spy() is None:
        parser.error("--profile needs py-spy on the PATH or in the venv (pip install py-spy)")
    nodes, skipped = args.nodes, ""
    cannot = two_nodes_possible() if nodes != 1 and (nodes == 2 or args.quick) else None
    if nodes == 2 and cannot:
        parser.error(f"--nodes 2: {cannot}")
    if nodes is None and args.quick:
        # As the deployment test does (tests/deploy/conftest.py): CI must run the two nodes.
        if cannot and os.environ.get("CI"):
            parser.error(f"the quick run's two nodes cannot run here (CI is set): {cannot}")
        nodes, skipped = (1, cannot) if cannot else (2, "")
    return Config(
        levels=levels,
        window_s=args.window or (QUICK_WINDOW_S if args.quick else WINDOW_S),
        reference_window_s=args.reference_window
        or (QUICK_REFERENCE_WINDOW_S if args.quick else REFERENCE_WINDOW_S),
        warmup_s=args.warmup
        if args.warmup is not None
        else (QUICK_WARMUP_S if args.quick else WARMUP_S),
        profile_window_s=QUICK_PROFILE_WINDOW_S if args.quick else PROFILE_WINDOW_S,
        database_url=args.database_url,
        profile=args.profile,
        nodes=nodes or 1,
        netns_prefix=args.netns_prefix,
        two_nodes_skipped=skipped,
    )


def second_url(url: str) -> str:
    """The two nodes' store: a schema beside the one node's (`<name>_nodes` when the URL
    names one)."""
    named = parse_qs(urlparse(url).query).get("schema", [None])[0]
    return f"{server_of(url)}?schema={named}_nodes" if named else server_of(url)


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    if len(given) == 2 and given[0] == REFERENCE_FLAG:
        from ui.serve import run_workers

        run_workers("benchmarks.bench_web:reference_app", HOST, int(given[1]), WORKERS)
        return 0
    config = parse_args(argv)
    os.environ["VIGIE_CLOCK_OFFSET"] = repr(morning_if_late(config))  # servers inherit it
    command = command_line()
    facts = web_machine_facts(config)
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        urls = [stack.enter_context(postgres_schema(config.database_url))]
        if config.nodes == 2:
            urls.append(stack.enter_context(postgres_schema(second_url(config.database_url))))
        results = bench(config, urls)
    finish_facts(facts, started)
    print_report(facts, command, config, results)
    path = write_json(facts, command, config, results)
    print(f"JSON summary: {path}")
    clean = all(run.answers_consistent and not run.errors for run in results.runs)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
