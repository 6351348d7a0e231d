"""Issue 14, integrity: a garbage row written into the store behind Vigie's back — a new
stream at version 1, and an undecodable event at the end of an existing stream — is named by
`vigie audit verify-store` (exit non-zero), and the platform still serves everyone else: a
candidate's exams page, the staff log-in and enrolment (it used to answer 500 everywhere until
the row was deleted)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from domain.candidate import Candidate
from domain.proctored_session import ProctoredSession
from tests.faults import tally
from tests.faults.conftest import SmallDisk
from ui.cli import main
from ui.journey import Journey
from ui.serve import CENTRE_EMAIL, DEMO_EMAIL, DEMO_PASSWORD

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

GARBAGE = b"\x00not an event\xff" * 4
REGISTERED_TOPIC = f"{Candidate.__module__}:{Candidate.CandidateRegistered.__qualname__}"


def _insert(database_url: str, stream: UUID, version: int, topic: str) -> None:
    """One row written straight into the events table, as someone with database access could."""
    base, _, query = database_url.partition("?")
    schema = query.removeprefix("schema=")
    with psycopg.connect(base, autocommit=True) as connection:
        connection.execute(
            sql.SQL(
                "INSERT INTO {} (originator_id, originator_version, topic, state) "
                "VALUES (%s, %s, %s, %s)"
            ).format(sql.Identifier(schema, "vigie_events")),
            (stream, version, topic, GARBAGE),
        )


def verify_store(database_url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`vigie audit verify-store` on that store: (exit code, what it printed)."""
    capsys.readouterr()
    code = main(["--database-url", database_url, "audit", "verify-store"])
    printed = capsys.readouterr()
    return code, printed.out + printed.err


def test_a_garbage_row_is_named_by_verify_store_and_the_platform_still_serves(
    small_disk_server: SmallDisk, capsys: pytest.CaptureFixture[str]
) -> None:
    served = small_disk_server.served
    platform = served.platform(served.now() - timedelta(minutes=5))
    try:
        victim = Journey(platform, email="victime@example.org")
        victim.enrol()
        victim.create_session()
        assert victim.session_id is not None
        session_version = platform.ctx.store.get(victim.session_id, ProctoredSession).version
    finally:
        platform.close()
    clean, report = verify_store(served.database_url, capsys)
    assert clean == 0, report

    new_stream = uuid.uuid4()
    _insert(served.database_url, new_stream, 1, REGISTERED_TOPIC)
    bad_topic = f"{ProctoredSession.__module__}:{ProctoredSession.__qualname__}.TermsAccepted"
    _insert(served.database_url, victim.session_id, session_version + 1, bad_topic)

    exit_code, report = verify_store(served.database_url, capsys)
    with capsys.disabled():
        print(f"\nverify-store after two garbage rows: exit {exit_code}\n{report}")
    tally.count("garbage rows written", 2)
    tally.count(
        "garbage rows named by verify-store",
        (str(new_stream) in report) + (str(victim.session_id) in report),
    )

    # The rest of the platform serves: the staff log-in, enrolment, another candidate's pages.
    with served.client() as centre, served.client() as candidate:
        staff_login = served.post_form(
            centre, "/staff/login", {"email": CENTRE_EMAIL, "password": DEMO_PASSWORD}
        )
        enrolled = served.post_form(
            centre,
            "/operator/enrol",
            {
                "email": "apres.la.panne@example.org",
                "surname": "Panne",
                "first_name": "Léa",
                "certification_code": "ENI-ACCESS",
                "language": "fr",
            },
            token_from="/operator",
        )
        operator_page = centre.get("/operator")
        candidate_login = served.post_form(
            candidate, "/login", {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
        )
        exams = candidate.get("/exams")
    statuses = {
        "staff log-in": staff_login.status_code,
        "enrolment": enrolled.status_code,
        "operator page": operator_page.status_code,
        "candidate log-in": candidate_login.status_code,
        "another candidate's exams": exams.status_code,
    }
    print(f"after the garbage rows: {statuses}")
    assert statuses == {
        "staff log-in": 302,
        "enrolment": 302,
        "operator page": 200,
        "candidate log-in": 302,
        "another candidate's exams": 200,
    }, served.output()[-4000:]
    assert "apres.la.panne@example.org" in operator_page.text
    # verify-store names both streams and fails.
    assert exit_code != 0, report
    assert str(new_stream) in report, report
    assert str(victim.session_id) in report, report
