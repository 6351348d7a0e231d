"""The ExamLauncher contract (vigie_contracts.exam_launcher), run against the in-memory,
built-in and libvirt launchers, and what only the libvirt launcher does.

The libvirt side uses libvirt's built-in test driver (`test:///default`): no daemon, the
domains live in memory for as long as a connection to it is open. What is running is read
back through a connection of the test's own, never from the adapter. Each test uses its
own name prefix, so tests never see each other's domains.

Without libvirt-python the libvirt cases are skipped, except under CI (the CI environment
variable set), where they fail: CI installs it (`apt-get install -y libvirt-dev pkg-config`,
then `pip install libvirt-python`).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from adapters.clock import SystemClock
from adapters.launcher.builtin import BuiltinWorkspaces
from adapters.launcher.libvirt import DEFAULT_TEMPLATE, LibvirtLauncher
from adapters.launcher.memory import MemoryLauncher
from adapters.workspace_heartbeats import SqliteWorkspaceHeartbeats
from app.links import LinkSigner
from app.ports.exam_launcher import ExamLauncher, WorkspaceFailed, WorkspaceTimeout
from vigie_contracts.exam_launcher import *  # noqa: F403 (the packaged contract bodies, collected here)
from vigie_contracts.exam_launcher import FAST, Harness

TEST_URI = "test:///default"
INSTALL = "apt-get install -y libvirt-dev pkg-config && pip install libvirt-python"


def _libvirt_or_skip() -> Any:
    try:
        import libvirt
    except ImportError:
        message = f"libvirt-python is not installed ({INSTALL})"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the libvirt launcher tests: {message}", pytrace=False)
        pytest.skip(message)
    return libvirt


def _memory_harness(tmp_path: Path) -> Iterator[Harness]:
    launcher = MemoryLauncher()

    def failing() -> ExamLauncher:
        launcher.fail_next = True
        return launcher

    yield Harness(launcher, failing, lambda: set(launcher.running), lambda: set(launcher.running))


def _libvirt_harness(tmp_path: Path) -> Iterator[Harness]:
    libvirt = _libvirt_or_skip()
    prefix = f"vigie-test-{uuid4().hex[:8]}-"
    observer = libvirt.open(TEST_URI)  # also keeps the test driver's domains alive
    launcher = LibvirtLauncher(TEST_URI, name_prefix=prefix, poll_interval_s=0.01)
    # libvirt rejects this domain type when the domain is defined.
    rejected = DEFAULT_TEMPLATE.read_text().replace("type='kvm'", "type='no-such-hypervisor'", 1)
    broken = LibvirtLauncher(TEST_URI, template_xml=rejected, name_prefix=prefix)

    def ours(only_running: bool) -> set[str]:
        return {
            domain.name()
            for domain in observer.listAllDomains()
            if domain.name().startswith(prefix) and (domain.isActive() or not only_running)
        }

    try:
        yield Harness(launcher, lambda: broken, lambda: ours(True), lambda: ours(False))
    finally:
        for name in ours(False):
            launcher.teardown(name)
        launcher.close()
        broken.close()
        observer.close()


def _builtin_harness(tmp_path: Path) -> Iterator[Harness]:
    """The built-in launcher on its SQLite table (issue 15): what exists is read from the
    rows, through a second adapter on the same file, as another node would."""
    links = LinkSigner(b"c" * 32, "http://127.0.0.1")
    heartbeats = SqliteWorkspaceHeartbeats(tmp_path / "vigie.sqlite")
    observer = SqliteWorkspaceHeartbeats(tmp_path / "vigie.sqlite")
    launcher = BuiltinWorkspaces(links, heartbeats, SystemClock())

    def refs(only_alive: bool) -> set[str]:
        known = set(observer.sightings())
        return {r for r in known if launcher.heartbeat(r)} if only_alive else known

    yield Harness(launcher, None, lambda: refs(True), lambda: refs(False))


HARNESSES: dict[str, Callable[[Path], Iterator[Harness]]] = {
    "memory": _memory_harness,
    "builtin": _builtin_harness,
    "libvirt": _libvirt_harness,
}


@pytest.fixture(params=HARNESSES.values(), ids=HARNESSES.keys())
def adapter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    yield from request.param(tmp_path)


# --- What only the libvirt launcher does -------------------------------------------------


@pytest.fixture
def observer() -> Iterator[Any]:
    """A connection of the test's own to the test driver (keeps its domains alive)."""
    connection = _libvirt_or_skip().open(TEST_URI)
    yield connection
    connection.close()


@pytest.fixture
def prefix() -> str:
    return f"vigie-test-{uuid4().hex[:8]}-"


def test_libvirt_reports_its_own_message_and_touches_only_its_own_domains(
    observer: Any, prefix: str
) -> None:
    rejected = DEFAULT_TEMPLATE.read_text().replace("type='kvm'", "type='no-such-hypervisor'", 1)
    with pytest.raises(WorkspaceFailed, match="invalid domain type no-such-hypervisor"):
        LibvirtLauncher(TEST_URI, template_xml=rejected, name_prefix=prefix).provision(uuid4())

    # The test driver's own domain `test` runs, but it is not a workspace.
    launcher = LibvirtLauncher(TEST_URI, name_prefix=prefix)
    assert not launcher.heartbeat("test")
    launcher.teardown("test")
    assert observer.lookupByName("test").isActive()


def test_libvirt_a_machine_stopped_outside_is_not_alive_and_provisioning_restarts_it(
    observer: Any, prefix: str
) -> None:
    launcher = LibvirtLauncher(TEST_URI, name_prefix=prefix, poll_interval_s=0.01)
    attempt = uuid4()
    workspace = launcher.provision(attempt, timeout_s=FAST)
    domain = observer.lookupByName(workspace.ref)
    domain.suspend()
    assert not launcher.heartbeat(workspace.ref)
    domain.destroy()  # shut off, still defined
    assert not launcher.heartbeat(workspace.ref)
    assert launcher.provision(attempt, timeout_s=FAST) == workspace
    assert domain.isActive() and launcher.heartbeat(workspace.ref)
    launcher.teardown(workspace.ref)
    assert not [d for d in observer.listAllDomains() if d.name().startswith(prefix)]
    launcher.close()


def test_libvirt_tears_down_what_did_not_start_in_time(
    observer: Any, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    libvirt = _libvirt_or_skip()
    launcher = LibvirtLauncher(TEST_URI, name_prefix=prefix, poll_interval_s=0.01)
    monkeypatch.setattr(libvirt.virDomain, "state", lambda _self, _flags=0: [3, 0])  # paused
    began = time.monotonic()
    with pytest.raises(WorkspaceTimeout, match=r"not running after 0\.2s"):
        launcher.provision(uuid4(), timeout_s=0.2)
    assert time.monotonic() - began < FAST
    monkeypatch.undo()
    assert not [d for d in observer.listAllDomains() if d.name().startswith(prefix)]


def test_libvirt_writes_a_console_token_and_survives_a_closed_connection(
    observer: Any, prefix: str, tmp_path: Path
) -> None:
    fixed_port = DEFAULT_TEMPLATE.read_text().replace(
        "port='-1' autoport='yes'", "port='5907' autoport='no'"
    )
    launcher = LibvirtLauncher(
        TEST_URI,
        template_xml=fixed_port,
        console_base_url="https://exams.example.org/console/vnc.html",
        name_prefix=prefix,
        token_dir=tmp_path / "tokens",
    )
    attempt = uuid4()
    workspace = launcher.provision(attempt, timeout_s=FAST)
    assert workspace.ref == f"{prefix}{attempt}"
    assert workspace.url == (
        "https://exams.example.org/console/vnc.html"
        f"?path=websockify%3Ftoken%3D{workspace.ref}&autoconnect=true"
    )
    token = tmp_path / "tokens" / workspace.ref
    assert token.read_text() == f"{workspace.ref}: 127.0.0.1:5907\n"
    assert [p.name for p in token.parent.iterdir()] == [workspace.ref]

    launcher._connection.close()  # closed underneath the launcher: it opens a new one
    assert launcher.heartbeat(workspace.ref)
    assert launcher.provision(attempt, timeout_s=FAST) == workspace
    launcher.teardown(workspace.ref)
    assert not token.exists()
    launcher.close()


def test_without_libvirt_python_the_launcher_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "libvirt", None)  # `import libvirt` now fails
    launcher = LibvirtLauncher("test:///default")
    with pytest.raises(WorkspaceFailed, match="pip install libvirt-python"):
        launcher.provision(uuid4())
