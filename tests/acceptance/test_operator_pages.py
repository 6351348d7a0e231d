"""Operator pages: enrol one by one and by CSV (all or nothing, a report per line)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from adapters.mail.memory import MemoryMailer
from app.mail_rendering import SupportContact
from app.use_cases import accounts
from domain.staff import Role
from tests.acceptance.journey import PARIS
from tests.acceptance.web import csrf, form_token, log_in
from ui.web.app import create_app

SECRET = b"o" * 32


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = bootstrap(
        Settings(database_url="memory:", media_root=None, secret_key=SECRET.decode()),
        clock=ManualClock(datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(8),
    )
    accounts.register_staff(
        platform.ctx,
        email="centre@example.org",
        name="Centre",
        role=Role.CENTRE,
        password="centre-pass-1",
    )
    platform.projections.catch_up(platform.ctx.store)
    yield platform
    platform.close()


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/staff/login", "centre@example.org", "centre-pass-1")
        yield client


def upload(client: TestClient[Any], text: str) -> Any:
    return client.post(
        "/operator/enrol-csv",
        files={"file": ("candidats.csv", text.encode(), "text/csv")},
        headers=csrf(client),
    )


GOOD = (
    "email,surname,first_name,certification_code,language\n"
    "a@example.org,Durand,Alex,ENI-ACCESS,fr\n"
    "b@example.org,Petit,Bea,ENI-ACCESS,en\n"
)


def test_a_csv_with_one_bad_line_enrols_nobody_and_reports_every_line(
    client: TestClient[Any], platform: Platform
) -> None:
    head = platform.ctx.store.head()
    bad = GOOD + "not-an-address,X,Y,ENI-ACCESS,fr\nc@example.org,Z,W,UNKNOWN,fr\n"
    reply = upload(client, bad)
    assert reply.status_code == 200
    assert 'data-imported="no"' in reply.text
    assert "not an e-mail address" in reply.text and "unknown certification" in reply.text
    assert platform.ctx.store.head() == head  # nothing half-imported


def test_a_good_csv_enrols_everyone_and_mails_the_invitations(
    client: TestClient[Any], platform: Platform
) -> None:
    reply = upload(client, GOOD)
    assert 'data-imported="yes"' in reply.text
    platform.settle()  # the worker's pass: the request only records the enrolments
    mailer = platform.mailer
    assert isinstance(mailer, MemoryMailer)
    assert [m.subject for m in mailer.to("b@example.org")] == [
        "Certification - Create your exam session"
    ]
    assert "a@example.org" in client.get("/operator").text
    again = upload(client, GOOD.replace("b@", "a@"))
    assert "appears twice" in again.text


def test_one_candidate_is_enrolled_from_the_form(
    client: TestClient[Any], platform: Platform
) -> None:
    token = form_token(client, "/operator")
    client.post(
        "/operator/enrol",
        data={
            "email": "solo@example.org",
            "surname": "Solo",
            "first_name": "Han",
            "certification_code": "ENI-ACCESS",
            "language": "fr",
            "_csrf_token": token,
        },
    )
    assert platform.projections.find_by_email("solo@example.org") is not None
