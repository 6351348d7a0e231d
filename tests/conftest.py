"""Shared fixtures: a PostgreSQL server (found or started), one store per backend, and a
comparison that checks types as well as values (decoding bugs hide behind equal-looking
strings)."""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import psycopg
import pytest
from psycopg import sql

from adapters.persistence.settings import eventsourcing_env
from adapters.persistence.store import EventsourcingStore

# Before anything imports them: the packaged contract bodies get pytest's assert messages.
pytest.register_assert_rewrite("vigie_contracts")
from vigie_contracts.checks import assert_same_value as same_value  # noqa: E402

LOCAL_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
TEST_DATABASE = "test"


class _PlatformSlot:
    """One platform of several processes at a time on the shared PostgreSQL server, across
    the run's xdist workers: each process holds about ten connections, and two platforms
    at once beside the rest of the suite passed PostgreSQL's 100 ('sorry, too many clients
    already', or a pool's 5 s wait for a connection, in three CI runs). Re-entrant within a
    process (a test may start a second platform while holding the slot); a platform on a
    server of its own (a throwaway cluster) takes none."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._path = Path(tempfile.gettempdir()) / f"vigie-tests-platform-{os.getuid()}.lock"

    @contextlib.contextmanager
    def held(self, database_url: str) -> Iterator[None]:
        if not database_url.startswith(LOCAL_POSTGRES_URL):
            yield
            return
        with self._lock:
            self._depth += 1
            first = self._depth == 1
        try:
            if not first:
                yield
                return
            with open(self._path, "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # let go with the file, even if the test dies
                yield
        finally:
            with self._lock:
                self._depth -= 1


_PLATFORM_SLOT = _PlatformSlot()


def platform_slot(database_url: str) -> contextlib.AbstractContextManager[None]:
    """The shared PostgreSQL server's platform slot (`_PlatformSlot`)."""
    return _PLATFORM_SLOT.held(database_url)


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _postgres_bin() -> Path:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda path: [int(p) for p in Path(path).parent.name.split(".") if p.isdigit()],
    )
    for directory in reversed(candidates):
        if (Path(directory) / "initdb").exists() and (Path(directory) / "pg_ctl").exists():
            return Path(directory)
    raise RuntimeError("no initdb/pg_ctl under /usr/lib/postgresql/*/bin")


def _as_postgres_user() -> list[str]:
    """initdb refuses to run as root: switch to the `postgres` OS user when we are root."""
    if os.geteuid() != 0:
        return []
    pwd.getpwnam("postgres")  # KeyError: no such user, reported by the caller
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--"]
    raise RuntimeError("running as root without `runuser` to switch to the postgres user")


@dataclass
class Cluster:
    """A private PostgreSQL cluster: its URL, and a restart as an operator would do one."""

    url: str
    pg_ctl: list[str]

    def restart(self) -> None:
        """Stop at once (connections die as in a crash) and start again on the same port."""
        subprocess.run(
            [*self.pg_ctl, "-m", "immediate", "-w", "restart"],
            check=True,
            capture_output=True,
            timeout=120,
        )


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A private cluster in a temp dir, trust auth, listening on 127.0.0.1 only. Tests that
    restart PostgreSQL use one of these, never the shared server."""
    bin_dir = _postgres_bin()
    prefix = _as_postgres_user()
    data_root = Path(tempfile.mkdtemp(prefix="vigie-pg-"))
    data_dir = data_root / "data"
    if prefix:
        entry = pwd.getpwnam("postgres")
        os.chown(data_root, entry.pw_uid, entry.pw_gid)
    port = _free_port()
    pg_ctl = [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data_dir)]
    # The socket directory is ours: the default one may not exist or be writable.
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {data_root} -c fsync=off"
    started = False
    try:
        initdb = [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres"]
        subprocess.run(
            [*prefix, *initdb, "-A", "trust", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [*pg_ctl, "-o", options, "-l", str(data_root / "server.log"), "-w", "start"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        started = True
        admin_url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEST_DATABASE)))
        yield Cluster(
            url=f"postgresql://postgres@127.0.0.1:{port}/{TEST_DATABASE}",
            pg_ctl=[*pg_ctl, "-o", options, "-l", str(data_root / "server.log")],
        )
    finally:
        if started:
            subprocess.run(
                [*pg_ctl, "-m", "immediate", "-w", "stop"],
                check=False,
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(data_root, ignore_errors=True)


@contextlib.contextmanager
def _throwaway_cluster() -> Iterator[str]:
    with throwaway_cluster() as cluster:
        yield cluster.url


@pytest.fixture(scope="session")
def postgres_base_url() -> Iterator[str]:
    """A reachable PostgreSQL database: the local server, else a throwaway cluster."""
    if _answers(LOCAL_POSTGRES_URL):
        yield LOCAL_POSTGRES_URL
        return
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(_throwaway_cluster())
        except (
            OSError,
            KeyError,
            RuntimeError,
            subprocess.SubprocessError,
            psycopg.Error,
        ) as error:
            stderr = getattr(error, "stderr", None)
            detail = stderr.decode(errors="replace") if isinstance(stderr, bytes) else ""
            reason = f"{error!r} {detail}".strip()
        else:
            yield url
            return
    message = (
        f"PostgreSQL tests need a server: none answers at {LOCAL_POSTGRES_URL} and "
        f"a throwaway cluster could not be started ({reason})"
    )
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture
def postgres_url(postgres_base_url: str) -> Iterator[str]:
    """A fresh schema per test, so stores never see each other's tables."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_base_url, autocommit=True, connect_timeout=5) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    yield f"{postgres_base_url}?schema={schema}"
    with psycopg.connect(postgres_base_url, autocommit=True, connect_timeout=5) as connection:
        # A store left open by a failing test must not hang the whole run.
        connection.execute("SET lock_timeout = '10s'")
        connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        # The secrets' schema beside it (issue 15: adapters.keys_schema's default).
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(f"{schema}_keys"))
        )


def server_and_schema(url: str) -> tuple[str, str]:
    """`postgres_url`'s two halves: the server's URL, and the test's own schema."""
    return url.split("?", maxsplit=1)[0], parse_qs(urlparse(url).query)["schema"][0]


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same contract, three backends."""
    if request.param == "memory":
        return "memory:"
    if request.param == "sqlite":
        # Four slashes: settings reads `sqlite:///x` as relative and `sqlite:////x` as absolute.
        path = tmp_path / "store.sqlite"
        sqlite_url = f"sqlite:///{path}"
        # realpath: settings yields '//tmp/…' (one slash too many), the same file on Linux.
        dbname = eventsourcing_env(sqlite_url)["SQLITE_DBNAME"]
        assert os.path.realpath(dbname) == os.path.realpath(path)
        return sqlite_url
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[EventsourcingStore]:
    opened = EventsourcingStore(store_url)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def assert_same_value() -> Callable[..., None]:
    """Session-scoped so hypothesis tests may use it (no per-example fixture reset)."""
    return same_value


def morning_clock_offset() -> float:
    """Seconds that put a served platform's clock (VIGIE_CLOCK_OFFSET) at 9:00 in Paris today:
    a test server started late in the evening could otherwise not begin an exam that must end
    the same day (R16)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    now = datetime.now(ZoneInfo("Europe/Paris"))
    return (now.replace(hour=9, minute=0, second=0, microsecond=0) - now).total_seconds()


@pytest.fixture(autouse=True)
def sessions_outlive_time_travel(monkeypatch: pytest.MonkeyPatch) -> None:
    """The journeys move a manual clock hours and days ahead in a few calls, with a browser
    logged in since the start: its session must not end on the idle clock meanwhile (no one
    waits idle here). Session lifetimes have their own tests (test_sessions.py), which give
    the app the real defaults."""
    for name in ("VIGIE_STAFF_SESSION_HOURS", "VIGIE_CANDIDATE_SESSION_HOURS"):
        monkeypatch.setenv(name, "100000")
    for name in ("VIGIE_STAFF_IDLE_MINUTES", "VIGIE_CANDIDATE_IDLE_MINUTES"):
        monkeypatch.setenv(name, "1000000")


# The tests that take tens of seconds each (a browser, served processes, network namespaces):
# run first, so the two test processes share them from the start instead of one of them
# finishing a long test alone at the end (`make test` distributes with --dist worksteal).
_LONG_FIRST = (
    "tests/browser/test_honest_journey.py",
    "tests/browser/test_tour.py",
    "tests/browser/test_examiner_pages.py",
    "tests/browser/",
    "tests/faults/",
    "tests/concurrency/",
    "tests/deploy/test_two_nodes.py",
    "tests/acceptance/test_api_schemathesis.py",
    "tests/acceptance/test_every_route.py",
    "tests/test_benchmarks_quick.py",
)


def _rank(item: pytest.Item) -> int:
    path = item.nodeid.split("::", 1)[0]
    for rank, prefix in enumerate(_LONG_FIRST):
        if path.startswith(prefix):
            return rank
    return len(_LONG_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: within a rank, the files' own order
