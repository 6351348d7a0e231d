"""The exam workspace benchmark's parameters, results and report (`bench_workspaces`): what
a run measured, printed as a table and written to benchmarks/results/workspaces-<timestamp>.json.
The run itself is benchmarks/bench_workspaces.py."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from benchmarks.harness import (
    Latency,
    machine_facts,
    packages_text,
    postgres_settings,
    postgres_text,
    print_machine,
    server_of,
    sqlite_text,
    write_summary,
)

HOST = "127.0.0.1"
TIME_ZONE = ZoneInfo("Europe/Paris")
START = datetime(2025, 3, 17, 9, 0, tzinfo=TIME_ZONE)  # a Monday morning: the exam fits the day
ANSWERS_EACH = 10  # the paper's ten questions, once each
PAGE_EVERY = 3  # a page load when the tab opens, then after every 3rd answer
THINK_S = (0.0, 0.050)
WORKER_PAUSE_S = 0.010  # after an idle pass; `vigie worker` waits --interval (5 s) instead
SLOW_CONNECT_S = 0.5
DEEP_BACKLOG = 128  # the diagnostic reference's listen backlog (socketserver's default: 5)
PROFILE_ANSWERS = 200


@dataclass(frozen=True)
class Trip:
    """One HTTP round trip: status (0 for a transport failure), total and connect seconds."""

    kind: str  # "save" (POST an answer) or "page" (GET the exam tab)
    status: int
    seconds: float
    connect_s: float
    error: str = ""

    @property
    def slow_connect(self) -> bool:
        """A connect that waited for a SYN retransmission (the first comes after 1 s)."""
        return self.connect_s >= SLOW_CONNECT_S


def ok(status: int) -> bool:
    return 200 <= status < 400


@dataclass
class ProvisionResult:
    attempts: int
    seconds: float  # from the release of the clicks to the last workspace ready
    click: Latency  # portal.start_now itself
    to_recorded: Latency
    to_ready: Latency
    gets_before_200: int  # GETs of a recorded workspace's URL that did not answer 200
    connected_spread_s: float  # first to last WorkspaceConnected commit: the worker's pace
    slow_connects: int
    tcp: dict[str, int]


@dataclass
class Traffic:
    """What a phase's HTTP round trips came to."""

    seconds: float  # from the release of the clients to the last one done
    saves: Latency  # POSTs answered 2xx/3xx
    pages: Latency  # GETs answered 2xx/3xx
    errors: int  # any other status, or a transport failure (connection reset…)
    error_samples: list[str]
    slow_connects: int
    tcp: dict[str, int]
    server_cpu_s: float  # this process's CPU time over the phase, the worker thread's apart
    worker_cpu_s: float  # the worker thread's
    client_cpu_s: float | None  # the client process's; None: the clients ran in this process

    @property
    def saves_per_s(self) -> float:
        return self.saves.count / self.seconds

    @classmethod
    def of(
        cls,
        trips: Sequence[Trip],
        seconds: float,
        tcp: dict[str, int],
        cpu: tuple[float, float],
        client_cpu_s: float | None,
    ) -> Traffic:
        failed = [t for t in trips if not ok(t.status)]
        return cls(
            server_cpu_s=cpu[0],
            worker_cpu_s=cpu[1],
            client_cpu_s=client_cpu_s,
            seconds=seconds,
            saves=Latency.of([t.seconds for t in trips if t.kind == "save" and ok(t.status)]),
            pages=Latency.of([t.seconds for t in trips if t.kind == "page" and ok(t.status)]),
            errors=len(failed),
            error_samples=[f"{t.kind} {t.status} {t.error}".strip() for t in failed[:5]],
            slow_connects=sum(t.slow_connect for t in trips),
            tcp=tcp,
        )


@dataclass
class HttpLoadResult:
    traffic: Traffic
    in_use_case: Latency  # server side: the answer callback (load, decide, commit)
    in_render: Latency  # server side: desk view + template
    answers_recorded: int
    answers_expected: int


@dataclass
class DirectResult:
    seconds: float
    saves: Latency
    errors: int
    error_samples: list[str]
    answers_recorded: int
    answers_expected: int
    cpu_s: float  # this process's CPU time over the phase, the worker thread's apart
    worker_cpu_s: float

    @property
    def saves_per_s(self) -> float:
        return self.saves.count / self.seconds


@dataclass
class Config:
    attempts: int
    database_url: str | None
    clients: str  # "process": the HTTP clients' threads in a process of their own; "threads"
    profile: bool


@dataclass
class Results:
    store: str
    prepare_seconds: float
    provision: ProvisionResult
    http: HttpLoadResult
    direct: DirectResult
    http_deep: HttpLoadResult
    raw: Traffic
    raw_deep: Traffic
    worker_passes: int
    worker_reactions: int
    profile: list[str] = field(default_factory=list)


# --- report ------------------------------------------------------------------------------


def somaxconn() -> str:
    try:
        return Path("/proc/sys/net/core/somaxconn").read_text().strip()
    except OSError:
        return "unknown"


def workspaces_machine_facts(config: Config) -> dict[str, Any]:
    facts = machine_facts(("eventsourcing", "jinja2", "msgspec", "psycopg"))
    facts["switch_interval_ms"] = sys.getswitchinterval() * 1000
    facts["listen_backlog"] = ThreadingHTTPServer.request_queue_size
    facts["somaxconn"] = somaxconn()
    if config.database_url and urlparse(config.database_url).scheme.startswith("postgres"):
        facts["postgresql"] = postgres_settings(
            server_of(config.database_url), ("server_version", "fsync", "synchronous_commit")
        )
    return facts


ROW = "{:<54} {:>8} {:>8} {:>8} {:>6}  {}"


def latency_row(measure: str, lat: Latency, note_text: str = "") -> str:
    return ROW.format(measure, *lat.cells(), note_text)


def connect_row(slow: int, tcp: dict[str, int], indent: str = "") -> str:
    kernel = ", ".join(f"{k} +{v}" for k, v in tcp.items()) or "kernel counters unavailable"
    return ROW.format(f"{indent}    slow connects (SYN resent)", "", "", "", f"{slow:,}", kernel)


def http_rows(h: HttpLoadResult, indent: str = "") -> None:
    t = h.traffic
    verdict = "OK" if h.answers_recorded == h.answers_expected else "MISMATCH"
    print(
        latency_row(
            f"{indent}  answer save: HTTP POST → 303 (exam tab)",
            t.saves,
            f"{t.saves_per_s:,.0f}/s; errors {t.errors} (non-2xx/3xx or reset)",
        )
    )
    print(cpu_row(t, indent))
    print(latency_row(f"{indent}    of which in the answer use case (server)", h.in_use_case))
    print(latency_row(f"{indent}  page load: HTTP GET exam tab → 200", t.pages))
    print(latency_row(f"{indent}    of which desk view + template (server)", h.in_render))
    print(connect_row(t.slow_connects, t.tcp, indent))
    print(
        ROW.format(
            f"{indent}  AnswerGiven events recorded",
            "",
            "",
            "",
            f"{h.answers_recorded:,}",
            f"expected {h.answers_expected:,}: {verdict}",
        )
    )


def cpu_row(t: Traffic, indent: str = "") -> str:
    """CPU time per answer saved: the server process's (the worker's apart), the clients'."""
    per = 1000 / max(t.saves.count, 1)
    clients = "in server" if t.client_cpu_s is None else f"{t.client_cpu_s * per:.1f}"
    return ROW.format(
        f"{indent}    CPU ms per answer: server / worker / clients",
        "",
        "",
        "",
        "",
        f"{t.server_cpu_s * per:.1f} / {t.worker_cpu_s * per:.1f} / {clients} "
        f"(phase wall {t.seconds:.1f}s)",
    )


def ratio(a: float, b: float) -> str:
    return f"{a / b:6.2f}" if b else "   n/a"


def print_report(facts: dict[str, Any], command: str, config: Config, r: Results) -> None:
    n = config.attempts
    print_machine(facts, command)
    print(
        f"packages: {packages_text(facts)}; "
        f"GIL switch interval {facts['switch_interval_ms']:.0f} ms"
    )
    store = r.store
    if r.store.startswith("SQLite"):
        store += f"; {sqlite_text(facts)}"
    if "postgresql" in facts:
        store += f"; {postgres_text(facts['postgresql'])}"
    print(f"store   : {store}")
    print(
        f"servers : the exam tab: the platform's web app, uvicorn (h11) on {HOST}, a connection "
        f"per request;\n          the 204 reference: stdlib ThreadingHTTPServer, listen backlog "
        f"{facts['listen_backlog']} (somaxconn {facts['somaxconn']})"
    )
    where = (
        "in a client process of their own (as browsers are)"
        if config.clients == "process"
        else "in this process (sharing its GIL with the server)"
    )
    print(f"clients : {n} HTTP client threads {where}")
    print(
        f"worker  : run_until_quiet() in a loop on a thread, {WORKER_PAUSE_S * 1000:.0f} ms pause "
        f"after an idle pass; {r.worker_passes:,} passes, {r.worker_reactions:,} reactions"
    )
    print(
        f"setup   : {3 * n} attempts prepared up to the tile in {r.prepare_seconds:.1f}s "
        "(untimed; scrypt profile passwords included)"
    )
    print()
    header = ROW.format("measure", "p50 ms", "p99 ms", "max ms", "count", "note")
    print(header)
    print("-" * (len(header) + 36))
    p = r.provision
    print(f"2. provision to ready: {n} concurrent clicks, built-in workspace")
    print(latency_row("  click: portal.start_now (WorkspaceRequested)", p.click))
    print(
        latency_row(
            "  click → WorkspaceConnected committed",
            p.to_recorded,
            f"first→last commit {p.connected_spread_s * 1000:,.0f} ms (one worker, in turn)",
        )
    )
    print(
        latency_row(
            "  click → workspace URL answers 200",
            p.to_ready,
            f"all ready {p.seconds:.2f}s after release; {p.gets_before_200} GETs ≠ 200",
        )
    )
    print(connect_row(p.slow_connects, p.tcp))
    print(
        f"3. answers under load: {n} candidates × {ANSWERS_EACH} POSTs, think "
        f"{THINK_S[0] * 1000:.0f}–{THINK_S[1] * 1000:.0f} ms, page GET on open + every "
        f"{PAGE_EVERY} answers"
    )
    http_rows(r.http)
    t, d, raw, deep = r.http.traffic, r.direct, r.raw, r.raw_deep
    print(f"4. references: same thread count, answers and think times ({n} other attempts each)")
    print(
        latency_row(
            "  portal.answer_question, direct (no HTTP)",
            d.saves,
            f"{d.saves_per_s:,.0f}/s; errors {d.errors}; recorded {d.answers_recorded:,}",
        )
    )
    print(
        ROW.format(
            "    CPU ms per answer: calling threads / worker",
            "",
            "",
            "",
            "",
            f"{d.cpu_s * 1000 / max(d.saves.count, 1):.1f} / "
            f"{d.worker_cpu_s * 1000 / max(d.saves.count, 1):.1f} (phase wall {d.seconds:.1f}s)",
        )
    )
    print(
        latency_row(
            "  raw HTTP POST → 204, stdlib ThreadingHTTPServer",
            raw.saves,
            f"{raw.saves_per_s:,.0f}/s; errors {raw.errors}",
        )
    )
    print(cpu_row(raw))
    print(connect_row(raw.slow_connects, raw.tcp))
    print(
        f"5. diagnostic: the reference's listen backlog {DEEP_BACKLOG} instead of "
        f"{facts['listen_backlog']} ({n} other attempts)"
    )
    print("  3. again (the app unchanged: uvicorn's backlog is 2048):")
    http_rows(r.http_deep, indent="  ")
    print(
        latency_row(
            "  4. raw HTTP POST → 204, with it",
            deep.saves,
            f"{deep.saves_per_s:,.0f}/s; errors {deep.errors}",
        )
    )
    print(cpu_row(deep))
    print(connect_row(deep.slow_connects, deep.tcp))
    td = r.http_deep.traffic
    print()
    print(
        f"ratios (p50 / p99)               backlog {facts['listen_backlog']:<3}      "
        f"backlog {DEEP_BACKLOG}"
    )
    pairs = (
        ("HTTP answer save / direct call", (t.saves, d.saves), (td.saves, d.saves)),
        ("HTTP answer save / raw HTTP 204", (t.saves, raw.saves), (td.saves, deep.saves)),
    )
    for label, (a, b), (c, e) in pairs:
        print(
            f"  {label:<32} {ratio(a.p50_ms, b.p50_ms)} / {ratio(a.p99_ms, b.p99_ms)}   "
            f"{ratio(c.p50_ms, e.p50_ms)} / {ratio(c.p99_ms, e.p99_ms)}"
        )
    print()
    print(
        "Latencies: per request or call, wall time, nearest-rank percentiles, successes only. "
        "Each HTTP\nround trip opens its own connection and reads the whole response; "
        "redirects are not followed.\n'of which' rows: time inside the server's callbacks under "
        "the same load (GIL waits included).\n'slow connects': connect() took ≥ "
        f"{SLOW_CONNECT_S * 1000:.0f} ms, a SYN resent after the listen queue overflowed; the "
        "kernel's\ncounters (deltas over the phase) count the whole network namespace; "
        "SyncookiesFailed = a reset."
    )
    for label, errors in (
        ("answers over HTTP", t.error_samples),
        (f"answers over HTTP, backlog {DEEP_BACKLOG}", td.error_samples),
        ("direct calls", d.error_samples),
        ("raw HTTP 204", raw.error_samples),
        (f"raw HTTP 204, backlog {DEEP_BACKLOG}", deep.error_samples),
    ):
        if errors:
            print(f"errors, {label} (first {len(errors)}): {'; '.join(errors)}")
    if r.profile:
        print()
        print(
            f"cProfile of {PROFILE_ANSWERS} sequential HTTP answer saves (one client, no think "
            "time), server threads merged:"
        )
        print("\n".join(r.profile))


def traffic_json(traffic: Traffic) -> dict[str, Any]:
    return asdict(traffic) | {"saves_per_s": traffic.saves_per_s}


def write_json(facts: dict[str, Any], command: str, config: Config, r: Results) -> Path:
    t, d, raw = r.http.traffic, r.direct, r.raw
    summary = {
        "command": command,
        "machine": facts,
        "config": asdict(config)
        | {
            "answers_each": ANSWERS_EACH,
            "page_every": PAGE_EVERY,
            "think_ms": [THINK_S[0] * 1000, THINK_S[1] * 1000],
            "worker_pause_ms": WORKER_PAUSE_S * 1000,
            "slow_connect_ms": SLOW_CONNECT_S * 1000,
            "deep_backlog": DEEP_BACKLOG,
            "clock": f"ManualClock at {START.isoformat()}",
        },
        "store": r.store,
        "prepare_seconds": r.prepare_seconds,
        "worker": {"passes": r.worker_passes, "reactions": r.worker_reactions},
        "provision": asdict(r.provision),
        "answers_http": asdict(r.http) | {"traffic": traffic_json(t)},
        "answers_http_deep_backlog": asdict(r.http_deep)
        | {"traffic": traffic_json(r.http_deep.traffic)},
        "reference": {
            "direct": asdict(d) | {"saves_per_s": d.saves_per_s},
            "raw_http_204": traffic_json(raw),
            "raw_http_204_deep_backlog": traffic_json(r.raw_deep),
        },
        "ratios": {
            "http_over_direct_p50": t.saves.p50_ms / d.saves.p50_ms,
            "http_over_direct_p99": t.saves.p99_ms / d.saves.p99_ms,
            "http_over_raw_p50": t.saves.p50_ms / raw.saves.p50_ms,
            "http_over_raw_p99": t.saves.p99_ms / raw.saves.p99_ms,
            "deep_backlog": {
                "http_over_direct_p50": r.http_deep.traffic.saves.p50_ms / d.saves.p50_ms,
                "http_over_direct_p99": r.http_deep.traffic.saves.p99_ms / d.saves.p99_ms,
                "http_over_raw_p50": r.http_deep.traffic.saves.p50_ms / r.raw_deep.saves.p50_ms,
                "http_over_raw_p99": r.http_deep.traffic.saves.p99_ms / r.raw_deep.saves.p99_ms,
            },
        },
        "profile": r.profile,
    }
    return write_summary("workspaces", summary, default=str)
