"""Issue 12, background work never in a web request: a request records facts and returns;
the worker loop (`vigie worker`, and the one `vigie serve` starts) reacts, sends, and logs a
failed pass with its traceback instead of swallowing it."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import OperationalError
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from adapters.launcher.memory import MemoryLauncher
from adapters.mail.memory import MemoryMailer
from app.mail_rendering import SupportContact
from app.ports.exam_launcher import Workspace
from app.use_cases import accounts, portal
from domain.candidate import Account
from domain.exam_attempt import ExamAttempt
from tests.acceptance.web import form_token
from ui.journey import Journey, make_platform
from ui.web.app import create_app
from ui.worker import work
from ui.worker_health import DEADLINES, HEALTH


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(platform, secret=b"k" * 32, support=SupportContact())) as client:
        yield client


def test_a_password_reset_request_returns_before_its_mail_which_the_worker_sends(
    journey: Journey, platform: Platform, client: TestClient[Any]
) -> None:
    """R24: « Mot de passe oublié » answers at once; the mail is decided and sent by the
    worker's pass, not by the request."""
    journey.enrol()
    mailer = platform.mailer
    assert isinstance(mailer, MemoryMailer)
    before = len(mailer.to(journey.email))
    reply = client.post(
        "/password/forgot",
        data={
            "email": journey.email,
            "account": "proctoring",
            "_csrf_token": form_token(client, "/password/forgot"),
        },
    )
    assert reply.status_code == 200, reply.text
    assert len(mailer.to(journey.email)) == before  # nothing sent by the request
    work(platform, threading.Event(), once=True)
    assert len(mailer.to(journey.email)) == before + 1


def test_a_failed_worker_pass_is_logged_with_its_traceback_and_the_loop_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store goes away under the worker (a database restart): each pass fails, each
    failure is logged with its traceback, and the loop keeps running until stopped.

    The store answers as a lost database does (OperationalError), where the test closed its
    SQLite connections under the worker's thread: sqlite3 then crashed the whole test
    process mid-insert (a segmentation fault in one CI run)."""
    platform = make_platform(f"sqlite:///{tmp_path}/vigie.sqlite")
    Journey(platform).enrol()
    stop = threading.Event()
    failed_before = sum(HEALTH.failures.values())
    ran_before = HEALTH.runs[DEADLINES]
    worker = threading.Thread(
        target=work, args=(platform, stop), kwargs={"interval": 0.05, "deadlines_every": 0.05}
    )
    with caplog.at_level(logging.ERROR, logger="vigie.worker"):
        worker.start()
        try:
            # The worker took its leases and ran: then the store goes away under it.
            assert _wait(lambda: HEALTH.runs[DEADLINES] > ran_before)
            for name in ("get", "get_many", "save", "history", "read", "head", "histories"):
                monkeypatch.setattr(platform.store, name, _gone)
            (tmp_path / "vigie.sqlite").unlink()  # the leases' own connections fail too
            for _ in range(200):
                failures = [r for r in caplog.records if "worker pass failed" in r.getMessage()]
                # Each kind fails in its turn: wait for the deadlines' own failure too, which
                # the others' can precede (a CI run stopped looking after two of theirs).
                if len(failures) >= 2 and any(DEADLINES in r.getMessage() for r in failures):
                    break
                threading.Event().wait(0.05)
        finally:
            stop.set()
            worker.join(timeout=10)
    assert not worker.is_alive()
    assert len(failures) >= 2
    assert all(r.exc_info is not None for r in failures)
    # Counted per kind of work, the running count in each line (issue 14).
    counted = sum(HEALTH.failures.values()) - failed_before
    assert counted >= len(failures)
    per_kind: dict[str, list[int]] = {}
    for record in failures:
        found = re.search(r"\((\w+): (\d+) failure\(s\) so far", record.getMessage())
        assert found is not None, record.getMessage()
        per_kind.setdefault(found[1], []).append(int(found[2]))
    for counts in per_kind.values():  # one more each time, kind by kind
        assert counts == list(range(counts[0], counts[0] + len(counts)))
    assert HEALTH.snapshot()[DEADLINES]["last_error"]


def _gone(*_args: object, **_kwargs: object) -> Any:
    raise OperationalError("the database went away")


class SlowStart(MemoryLauncher):
    """Workspaces that take as long to start as the test says (a VM booting, up to 120 s)."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()
        self.starting = threading.Event()

    def provision(self, attempt_id: UUID, timeout_s: float = 120.0) -> Workspace:
        self.starting.set()
        self.go.wait(timeout_s)
        return super().provision(attempt_id, timeout_s)


def _wait(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_workspace_slow_to_start_does_not_hold_back_the_mails(
    journey: Journey, platform: Platform
) -> None:
    """R15 and R24 at once: while a workspace boots, a reset mail asked for meanwhile goes
    out; the workspace is recorded connected once it has started."""
    launcher = SlowStart()
    platform.ctx.launcher = launcher
    journey.enrol()
    journey.create_session()
    journey.through_checks()
    attempt_id = journey.to_tile()
    portal.start_now(platform.ctx, attempt_id)
    mailer = platform.mailer
    assert isinstance(mailer, MemoryMailer)
    stop = threading.Event()
    worker = threading.Thread(target=work, args=(platform, stop), kwargs={"interval": 0.05})
    worker.start()
    try:
        assert launcher.starting.wait(10)
        before = len(mailer.to(journey.email))
        accounts.request_password_reset(
            platform.ctx, platform.projections, email=journey.email, account=Account.PORTAL
        )
        assert _wait(lambda: len(mailer.to(journey.email)) == before + 1)
        assert platform.ctx.store.get(attempt_id, ExamAttempt).workspace_pending
        launcher.go.set()
        assert _wait(lambda: not platform.ctx.store.get(attempt_id, ExamAttempt).workspace_pending)
    finally:
        launcher.go.set()
        stop.set()
        worker.join(timeout=10)
    assert platform.ctx.store.get(attempt_id, ExamAttempt).workspace_ref is not None


def test_the_web_app_starts_no_background_thread_and_its_requests_move_no_policy(
    journey: Journey, platform: Platform
) -> None:
    """Issue 15: a web process only records; its requests leave every reaction to a worker."""
    journey.enrol()
    before_threads = {t.ident for t in threading.enumerate()}
    positions = {p.name: platform.store.position_of(p.name) for p in platform.runner.policies}
    head = platform.store.head()
    with TestClient(create_app(platform, secret=b"k" * 32, support=SupportContact())) as client:
        for _ in range(3):
            reply = client.post(
                "/password/forgot",
                data={
                    "email": journey.email,
                    "account": "proctoring",
                    "_csrf_token": form_token(client, "/password/forgot"),
                },
            )
            assert reply.status_code == 200, reply.text
        started = [t for t in threading.enumerate() if t.ident not in before_threads]
        assert not [t.name for t in started if t.name.startswith("vigie-")]
    assert platform.store.head() > head  # the requests were recorded...
    assert {p.name: platform.store.position_of(p.name) for p in platform.runner.policies} == (
        positions
    )  # ...and no policy reacted to them
