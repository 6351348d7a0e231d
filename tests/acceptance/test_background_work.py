"""Issue 12, background work never in a web request: a request records facts and returns;
the worker loop (`vigie worker`, and the one `vigie serve` starts) reacts, sends, and logs a
failed pass with its traceback instead of swallowing it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from adapters.mail.memory import MemoryMailer
from app.mail_rendering import SupportContact
from tests.acceptance.journey import Journey, make_platform
from tests.acceptance.web import form_token
from ui.serve import work
from ui.web.app import create_app


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
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The store goes away under the worker (a database restart): each pass fails, each
    failure is logged with its traceback, and the loop keeps running until stopped."""
    platform = make_platform(f"sqlite:///{tmp_path}/vigie.sqlite")
    Journey(platform).enrol()
    platform.store.close()
    (tmp_path / "vigie.sqlite").unlink()
    stop = threading.Event()
    worker = threading.Thread(target=work, args=(platform, stop), kwargs={"interval": 0.05})
    with caplog.at_level(logging.ERROR, logger="vigie.worker"):
        worker.start()
        try:
            for _ in range(100):
                failures = [r for r in caplog.records if "worker pass failed" in r.message]
                if len(failures) >= 2:
                    break
                threading.Event().wait(0.05)
        finally:
            stop.set()
            worker.join(timeout=10)
    assert not worker.is_alive()
    assert len(failures) >= 2
    assert all(r.exc_info is not None for r in failures)
