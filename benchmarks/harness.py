"""The one harness every benchmark uses: its command line (`--quick`), progress on stderr,
percentiles, the machine's facts, throwaway stores (a temp SQLite file, a PostgreSQL schema
dropped whatever happens), a figure against its reference (PASS or BELOW) and the JSON summary
in benchmarks/results/.

A benchmark is a module of this package, run from the repository's root as
`python -m benchmarks.<name> [--quick]`: `--quick` is a tiny run that only proves the
benchmark still works end to end (tests/test_benchmarks_quick.py runs each once); its
figures mean nothing. Adopting the harness: build the parser with `arguments()`, print
`figure_line()` for each figure with its reference, end with `write_summary()`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse, urlunparse

import psycopg
from psycopg import sql

from adapters.persistence.settings import eventsourcing_env

# VIGIE_BENCH_POSTGRES: another server (the quick-mode test passes the test suite's own).
POSTGRES_SERVER = os.environ.get(
    "VIGIE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# VIGIE_BENCH_RESULTS: another folder (the quick-mode test keeps its runs out of the repo's).
RESULTS_DIR = Path(
    os.environ.get("VIGIE_BENCH_RESULTS") or Path(__file__).resolve().parent / "results"
)
REPO = Path(__file__).resolve().parents[1]


# --- the command line --------------------------------------------------------------------


def arguments(
    doc: str | None, *, quick: str = "a tiny run that proves it works"
) -> argparse.ArgumentParser:
    """A benchmark's parser: its docstring's first line as the description, and `--quick`
    (the run CI makes once: seconds, figures meaningless)."""
    parser = argparse.ArgumentParser(
        description=(doc or "").strip().splitlines()[0] if doc else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help=quick)
    return parser


def module_command(module: str, *args: str) -> list[str]:
    """How one benchmark starts a helper process of its own (`python -m benchmarks.x …`),
    from the repository's root whatever the current folder."""
    return [sys.executable, "-m", module, *args]


def repo_env() -> dict[str, str]:
    """The environment for such a process: the repository's root importable (the package
    `benchmarks` is not installed)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


# --- a figure against its reference ------------------------------------------------------


def verdict(ratio: float, floor: float) -> str:
    """PASS when the figure is at least `floor` times its reference, else BELOW."""
    return "PASS" if ratio >= floor else "BELOW"


def figure_line(name: str, figure: float, reference: float, floor: float, unit: str) -> str:
    """'name: figure unit against reference unit = ratio (target ≥ floor): PASS|BELOW'."""
    ratio = figure / reference if reference else math.nan
    return (
        f"{name}: {thousands(figure)} {unit} against {thousands(reference)} {unit} "
        f"= {ratio:.2f} (target ≥ {floor:.2f}): {verdict(ratio, floor)}"
    )


# --- progress and figures ----------------------------------------------------------------


class Progress:
    """One stderr line per 10% of a long phase, so a slow run is visibly alive."""

    def __init__(self, label: str, total: int) -> None:
        self.label = label
        self.total = max(total, 1)
        self.next_tenth = 1
        self.started = time.perf_counter()
        self._lock = threading.Lock()
        self.done = 0

    def update(self, done: int) -> None:
        while self.next_tenth <= 10 and done * 10 >= self.total * self.next_tenth:
            elapsed = time.perf_counter() - self.started
            print(
                f"  [{self.label}] {self.next_tenth * 10:3d}% ({done:,}/{self.total:,}) "
                f"{elapsed:6.1f}s",
                file=sys.stderr,
                flush=True,
            )
            self.next_tenth += 1

    def step(self) -> None:
        """One more done, from any thread."""
        with self._lock:
            self.done += 1
            self.update(self.done)


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def settle_disk() -> None:
    """Flush dirty pages before a phase that commits: every commit fsyncs, and on ext4 an
    fsync can also wait for the writeback of files an earlier phase left dirty."""
    os.sync()


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (no interpolation: it is a value actually observed)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def thousands(value: float) -> str:
    """A rate or a count for the tables: thousands separated, no decimals."""
    return f"{value:,.0f}"


# --- the machine -------------------------------------------------------------------------


def command_line() -> str:
    """How to run this benchmark again, as it was run (`python -m benchmarks.<name> …`)."""
    argv = list(sys.argv)
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name:  # run with -m: argv[0] is the file's path
        argv = ["-m", spec.name, *argv[1:]]
    return f"(cd {shlex.quote(os.getcwd())} && {shlex.join([sys.executable, *argv])})"


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def sqlite_synchronous() -> str:
    """The default the store runs with (it sets WAL but never `synchronous`)."""
    with contextlib.closing(sqlite3.connect(":memory:")) as connection:
        (level,) = connection.execute("PRAGMA synchronous").fetchone()
    return {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(level, str(level))


def package_versions(names: Iterable[str]) -> dict[str, str]:
    packages = {}
    for name in names:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = "absent"
    return packages


def machine_facts(packages: Iterable[str]) -> dict[str, Any]:
    """CPUs, load, Python, platform, the named packages' versions and SQLite's; a benchmark
    adds its own facts after these."""
    return {
        "nproc": os.cpu_count(),
        "load_before": load_average(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": package_versions(packages),
        "sqlite": sqlite3.sqlite_version,
        "sqlite_synchronous": sqlite_synchronous(),
        "code": code_version(),
    }


def code_version() -> str:
    """The commit measured, `+changes` when the working tree differs from it: a figure is
    tied to the code that made it (a result file outlives the change it was measured on)."""
    repo = str(Path(__file__).resolve().parents[1])

    def git(*arguments: str) -> str:
        return subprocess.run(
            ["git", "-C", repo, *arguments], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    return f"{head}+changes" if changed else head


def postgres_settings(server: str, names: Sequence[str]) -> dict[str, str]:
    """`SHOW` of each named setting: commit durability decides write figures more than any
    code does."""
    with psycopg.connect(server, connect_timeout=5) as connection:
        return {
            name: str(
                connection.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchall()[0][0]
            )
            for name in names
        }


def finish_facts(facts: dict[str, Any], started: float) -> None:
    """The wall time since `started`, and the load after the run: other work on the machine
    moves every figure, so a noisy run can be recognised as one."""
    facts["wall_seconds"] = round(time.perf_counter() - started, 1)
    facts["load_after"] = load_average()


def print_machine(facts: dict[str, Any], command: str) -> None:
    """The report's first lines: the command, the machine, the load."""
    print(f"command : {command}")
    print(f"code    : {facts.get('code', 'unknown')}")
    print(
        f"machine : {facts['nproc']} CPUs ({facts['usable_cpus']} usable), "
        f"{facts['implementation']} {facts['python']}, {facts['platform']}"
    )
    print(
        f"load    : 1/5/15-min load average {facts['load_before']} before, "
        f"{facts['load_after']} after; benchmark wall time {facts['wall_seconds']}s"
    )


def packages_text(facts: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in facts["packages"].items())


def sqlite_text(facts: dict[str, Any]) -> str:
    return f"SQLite {facts['sqlite']} (WAL, synchronous={facts['sqlite_synchronous']})"


def postgres_text(settings: dict[str, str]) -> str:
    """'PostgreSQL <version> (name=value, …)', the settings in the order they were asked."""
    named = ", ".join(f"{k}={v}" for k, v in settings.items() if k != "server_version")
    return f"PostgreSQL {settings['server_version']} ({named})"


# --- throwaway stores --------------------------------------------------------------------


def server_of(url: str) -> str:
    """A PostgreSQL URL without its query (psycopg does not know ?schema=)."""
    return urlunparse(urlparse(url)._replace(query=""))


@contextlib.contextmanager
def throwaway_schema(server: str, name: str | None = None) -> Iterator[str]:
    """A schema made for the run (`name`, or bench_<hex>), dropped at the end whatever
    happened in between; yields its name."""
    schema = name or f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True, connect_timeout=5) as connection:
        try:
            connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        except psycopg.errors.DuplicateSchema:
            raise SystemExit(
                f"schema {schema!r} exists: the benchmark creates and drops its own, name a new one"
            ) from None
    try:
        yield schema
    finally:
        with psycopg.connect(server, autocommit=True, connect_timeout=5) as connection:
            connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
            connection.execute(  # the keys' schema beside it (issue 15)
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(f"{schema}_keys"))
            )


@contextlib.contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A schema made for the run (the one named by ?schema=, or bench_<hex>), then dropped;
    yields the URL with ?schema= set."""
    server = server_of(url)
    named = parse_qs(urlparse(url).query).get("schema", [None])[0]
    with throwaway_schema(server, named) as schema:
        yield f"{server}?schema={schema}"


@contextlib.contextmanager
def store_url(database_url: str | None, *, loopback_only: bool = False) -> Iterator[str]:
    """The URL to bootstrap with (None: a temp SQLite file); whatever the benchmark created
    is removed at the end."""
    if database_url is None:
        with tempfile.TemporaryDirectory(prefix="vigie-bench-") as directory:
            yield f"sqlite:///{Path(directory) / 'store.sqlite'}"  # the sqlite:////abs form
        return
    parsed = urlparse(database_url)
    if parsed.scheme in ("postgres", "postgresql"):
        if loopback_only and (parsed.hostname or "127.0.0.1") not in LOOPBACK:
            raise SystemExit("the benchmark talks only to 127.0.0.1: name a local PostgreSQL")
        with postgres_schema(database_url) as scoped:
            yield scoped
    elif parsed.scheme == "sqlite":
        path = Path(eventsourcing_env(database_url)["SQLITE_DBNAME"])
        if path.exists():
            raise SystemExit(f"{path} exists: the benchmark needs an empty store, name a new file")
        try:
            yield database_url
        finally:
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
    else:
        yield database_url  # memory:


# --- the JSON summary --------------------------------------------------------------------


def write_summary(kind: str, summary: dict[str, Any], **dumps: Any) -> Path:
    """benchmarks/results/<kind>-<timestamp>.json (the folder ignores everything the runs
    leave: summaries, profiles, server logs)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    gitignore = RESULTS_DIR / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("*\n!.gitignore\n")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = RESULTS_DIR / f"{kind}-{stamp}.json"
    path.write_text(json.dumps(summary, indent=2, **dumps) + "\n")
    return path


@dataclass
class Latency:
    """Round trips or calls, in ms."""

    count: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        values = sorted(seconds)
        if not values:
            nan = float("nan")
            return cls(0, nan, nan, nan, nan)
        return cls(
            count=len(values),
            p50_ms=percentile(values, 0.50) * 1000,
            p99_ms=percentile(values, 0.99) * 1000,
            max_ms=values[-1] * 1000,
            mean_ms=sum(values) / len(values) * 1000,
        )

    def cells(self) -> tuple[str, str, str, str]:
        """p50, p99 and max in ms, and the count, as a report's table prints them."""
        return f"{self.p50_ms:.1f}", f"{self.p99_ms:.1f}", f"{self.max_ms:.1f}", f"{self.count:,}"
