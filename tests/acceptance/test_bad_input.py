"""Issue 14: malformed bodies get a clear 400, never a 500; an unexpected fault is logged
with its traceback and answered in the reader's language, not with the framework's text."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from uuid import uuid4

import pytest
from litestar.testing import TestClient

from app.mail_rendering import SupportContact
from domain.bounds import LIMITS, bounded
from domain.candidate import Candidate, PortalProfile
from domain.errors import InvalidArgument
from domain.exam_attempt import ExamAttempt
from tests.acceptance.web import csrf, log_in, platform_on
from ui.journey import PARIS, Journey
from ui.web import app as web_app
from ui.web.app import create_app

SECRET = b"i" * 32
PASSWORD = "bad-input-pass-1"
BODIES = {
    "invalid UTF-8": b'{"resume_reason": "\xff\xfe"}',
    "100,000 nested brackets": b"[" * 100_000 + b"]" * 100_000,
    "truncated JSON": b'{"resume_reason": ',
}


@pytest.fixture
def signed_in() -> Iterator[tuple[Journey, TestClient[Any]]]:
    platform = platform_on(SECRET, 15)
    journey = Journey(platform, email="camille@example.org")
    journey.enrol()
    journey.set_password(PASSWORD)
    journey.create_session()
    platform.projections.catch_up(platform.ctx.store)
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/login", "camille@example.org", PASSWORD)
        yield journey, client
    platform.close()


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_a_malformed_api_body_is_a_400_problem(
    signed_in: tuple[Journey, TestClient[Any]], body: bytes
) -> None:
    journey, client = signed_in
    reply = client.post(
        f"/api/sessions/{journey.session_id}/enter",
        content=body,
        headers={**csrf(client), "content-type": "application/json"},
    )
    assert reply.status_code == 400, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert reply.json()["detail"]


def test_an_unexpected_fault_is_logged_and_answered_in_the_reader_language(
    signed_in: tuple[Journey, TestClient[Any]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, client = signed_in

    def broken(*_: Any, **__: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(web_app.site, "context", broken)
    with caplog.at_level(logging.ERROR, logger="vigie.web"):
        reply = client.get("/support")
    assert reply.status_code == 500
    assert "text/html" in reply.headers["content-type"]
    assert "Un problème est survenu de notre côté" in reply.text
    assert "Internal Server Error" not in reply.text
    (record,) = [r for r in caplog.records if r.name == "vigie.web"]
    assert record.exc_info is not None and "No space left" in str(record.exc_info[1])


@pytest.fixture
def in_exam(signed_in: tuple[Journey, TestClient[Any]]) -> tuple[Journey, TestClient[Any]]:
    journey, client = signed_in
    journey.through_checks()
    journey.start_exam()
    return journey, client


def test_a_10_mib_answer_is_refused_unread_and_nothing_is_recorded(
    in_exam: tuple[Journey, TestClient[Any]],
) -> None:
    """Issue 14: a 10 MiB answer was accepted into the log. The body is larger than the
    platform reads (413, before any parsing); the attempt is unchanged."""
    journey, client = in_exam
    assert journey.attempt_id is not None
    before = len(journey.ctx.store.history(journey.attempt_id))
    first_question = journey.ctx.store.get(journey.attempt_id, ExamAttempt).question_ids[0]
    reply = client.post(
        f"/api/attempts/{journey.attempt_id}/answers",
        json={"question_id": first_question, "answer": "a" * (10 * 1024 * 1024)},
        headers=csrf(client),
    )
    assert reply.status_code == 413, reply.text[:300]
    assert len(journey.ctx.store.history(journey.attempt_id)) == before


def test_an_answer_one_character_too_long_is_refused_at_the_edge_naming_the_field(
    in_exam: tuple[Journey, TestClient[Any]],
) -> None:
    """Point 5: the edge holds the field to the domain's own bound (`LIMITS`): 400 naming
    `answer` with the limit in words, before the use case runs; nothing is recorded."""
    journey, client = in_exam
    assert journey.attempt_id is not None
    before = len(journey.ctx.store.history(journey.attempt_id))
    first_question = journey.ctx.store.get(journey.attempt_id, ExamAttempt).question_ids[0]
    reply = client.post(
        f"/api/attempts/{journey.attempt_id}/answers",
        json={"question_id": first_question, "answer": "a" * (LIMITS["answer"] + 1)},
        headers=csrf(client),
    )
    assert reply.status_code == 400, reply.text[:300]
    assert reply.json()["field"] == "answer"
    said = "« Votre réponse » est trop long : pas plus de 10\u202f000 caractères."
    assert reply.json()["detail"] == said
    assert len(journey.ctx.store.history(journey.attempt_id)) == before
    kept = client.post(
        f"/api/attempts/{journey.attempt_id}/answers",
        json={"question_id": first_question, "answer": "a" * LIMITS["answer"]},
        headers=csrf(client),
    )
    assert kept.status_code == 201, kept.text[:300]


@pytest.mark.parametrize("field", sorted(LIMITS))
def test_every_bound_accepts_its_limit_and_refuses_one_more(field: str) -> None:
    limit = LIMITS[field]
    assert bounded(field, "x" * limit) == "x" * limit
    with pytest.raises(InvalidArgument) as refused:
        bounded(field, "x" * (limit + 1))
    assert refused.value.field == field


def test_an_8_mib_surname_is_refused_before_any_mail_is_written() -> None:
    with pytest.raises(InvalidArgument) as refused:
        Candidate.register(
            candidate_id=uuid4(),
            email="camille@example.org",
            surname="M" * (8 * 1024 * 1024),
            first_name="Camille",
            at=datetime(2025, 3, 4, 9, 0, tzinfo=PARIS),
        )
    assert refused.value.field == "surname"


@pytest.mark.parametrize("field", ["surname", "first_name", "birth_place"])
def test_a_portal_profile_field_one_character_too_long_is_refused(field: str) -> None:
    """A reviewer's tour: the portal profile (R11) took a 5,000-character birth place, printed
    on the certificate; its names and birth place are bounded as at enrolment."""
    at = datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)
    candidate = Candidate.register(
        candidate_id=uuid4(),
        email="camille@example.org",
        surname="Martin",
        first_name="Camille",
        at=at,
    )
    fields = {"surname": "Martin", "first_name": "Camille", "birth_place": "Nantes"}

    def profile(**given: str) -> PortalProfile:
        return PortalProfile("Madame", birth_date=date(1995, 4, 12), **{**fields, **given})

    with pytest.raises(InvalidArgument) as refused:
        candidate.save_portal_profile(
            at=at,
            email="camille@example.org",
            profile=profile(**{field: "x" * (LIMITS[field] + 1)}),
            password_hash="hash",
        )
    assert refused.value.field == field
    assert candidate.profile is None
    kept = candidate.save_portal_profile(
        at=at,
        email="camille@example.org",
        profile=profile(**{field: "x" * LIMITS[field]}),
        password_hash="hash",
    )
    assert kept == "Créer"
