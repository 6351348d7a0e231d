"""Issue 14: a quarantined stream's own pages say so plainly (503, in the reader's language,
with the reference to quote; problem details on the API) and the rest of the platform works:
the candidate's exam list and other pages, another candidate's checks, staff log-in,
enrolment. The auditor's page lists the stream; the log says it once."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from app.mail_rendering import SupportContact
from app.use_cases import accounts
from domain.staff import Role
from tests.acceptance.quarantine_rows import append_garbage
from tests.acceptance.web import csrf, form_token, log_in
from ui.journey import PARIS, Journey
from ui.web.app import create_app

SECRET = b"q" * 32
PASSWORD = "quarantine-pass-1"


@dataclass
class Served:
    url: str
    platform: Platform
    camille: Journey
    dominique: Journey


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    url = f"sqlite:///{tmp_path / 'vigie.sqlite'}"
    platform = bootstrap(
        Settings(database_url=url, media_root=None, secret_key=SECRET.decode(), launcher="memory"),
        clock=ManualClock(datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(14),
    )
    for email, role in (("centre@example.org", Role.CENTRE), ("audit@example.org", Role.AUDITOR)):
        accounts.register_staff(platform.ctx, email=email, name=email, role=role, password=PASSWORD)
    journeys = []
    for email in ("camille@example.org", "dominique@example.org"):
        journey = Journey(platform, email=email)
        journey.enrol()
        journey.set_password(PASSWORD)
        journey.create_session()
        journey.enter()
        journeys.append(journey)
    platform.projections.catch_up(platform.ctx.store)
    yield Served(url, platform, *journeys)
    platform.close()


def client_for(served: Served) -> TestClient[Any]:
    return TestClient(create_app(served.platform, secret=SECRET, support=SupportContact()))


class Lines(logging.Handler):
    """The `vigie` log lines, kept (Litestar's start-up reconfigures the root logger, so
    pytest's own capture may miss them)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def vigie_log() -> Iterator[Lines]:
    lines = Lines()
    logger = logging.getLogger("vigie")
    logger.addHandler(lines)
    try:
        yield lines
    finally:
        logger.removeHandler(lines)


def test_a_quarantined_session_answers_its_pages_plainly_and_the_rest_works(
    served: Served, vigie_log: Lines
) -> None:
    camille, dominique = served.camille, served.dominique
    assert camille.session_id and dominique.session_id
    append_garbage(served.url, served.platform.store, camille.session_id)

    with client_for(served) as client:
        log_in(client, "/login", camille.email, PASSWORD)
        page = client.get(f"/exams/{camille.session_id}")
        assert page.status_code == 503
        assert "text/html" in page.headers["content-type"]
        assert "Ce dossier est suspendu" in page.text
        assert "Le reste de la plateforme fonctionne" in page.text
        reference = page.headers["x-request-id"]
        assert f"<code>{reference}</code>" in page.text
        assert SupportContact().email in page.text

        api = client.post(
            f"/api/sessions/{camille.session_id}/steps/instructions",
            files={"x": ("x", b"", "text/plain")},
            headers=csrf(client),
        )
        assert api.status_code == 503
        assert api.headers["content-type"].startswith("application/problem+json")
        problem = api.json()
        assert problem["type"].endswith("/quarantined")
        assert problem["request_id"] == api.headers["x-request-id"]

        # Her other pages work: the list of her exams, the terms, the support page.
        exams = client.get("/exams")
        assert exams.status_code == 200 and str(camille.session_id) in exams.text
        assert client.get("/terms").status_code == 200
        assert client.get("/support").status_code == 200
        # Logged once for the stream, and once per refused request with its id.
        found = [r for r in vigie_log.records if r.name == "vigie.store"]
        assert len(found) == 1 and str(camille.session_id) in found[0].getMessage()
        refused = [r for r in vigie_log.records if "withheld [" in r.getMessage()]
        assert any(reference in r.getMessage() for r in refused)

    with client_for(served) as client:  # another candidate's checks are untouched
        log_in(client, "/login", dominique.email, PASSWORD)
        assert client.get(f"/exams/{dominique.session_id}").status_code == 200

    with client_for(served) as client:  # staff log-in and enrolment
        log_in(client, "/staff/login", "centre@example.org", PASSWORD)
        token = form_token(client, "/operator")
        client.post(
            "/operator/enrol",
            data={
                "email": "nouveau@example.org",
                "surname": "Nouveau",
                "first_name": "Noé",
                "certification_code": "ENI-ACCESS",
                "language": "fr",
                "_csrf_token": token,
            },
        )
        served.platform.projections.catch_up(served.platform.store)
        assert served.platform.projections.find_by_email("nouveau@example.org") is not None

    with client_for(served) as client:  # the auditor is told
        log_in(client, "/staff/login", "audit@example.org", PASSWORD)
        auditor = client.get("/auditor/")
        assert auditor.status_code == 200
        assert "Intégrité du registre : dossiers suspendus" in auditor.text
        assert str(camille.session_id) in auditor.text


def test_an_english_reader_is_told_in_english(served: Served) -> None:
    camille = served.camille
    assert camille.session_id
    append_garbage(served.url, served.platform.store, camille.session_id)
    with client_for(served) as client:
        log_in(client, "/login", camille.email, PASSWORD)
        client.get("/lang/en")
        page = client.get(f"/exams/{camille.session_id}")
        assert page.status_code == 503
        assert "This record is withheld" in page.text
        assert "Quote this reference to support:" in page.text
