"""Candidates brought to a given screen with the use cases in the test process (faster than
through pages), on a served platform's store; the served workers react (provisioning, mails,
opening reviews). What the fault tests then do goes through HTTP, against `vigie serve`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from adapters.bootstrap import Platform
from adapters.clock import ManualClock
from app.use_cases import portal
from domain.exam_attempt import ExamAttempt
from tests.concurrency.served import Served
from ui.journey import Journey

PASSWORD = "fault-pass-2025"


@dataclass(frozen=True)
class Candidate:
    """A candidate a test drives over HTTP: their log-in and where they are."""

    email: str
    session_id: UUID
    attempt_id: UUID | None = None
    questions: tuple[str, ...] = ()


def at_the_photos(platform: Platform, email: str) -> Candidate:
    """Enrolled, a session created, terms, attestations and equipment done: the face photo is
    next. Logs in with `PASSWORD`."""
    journey = Journey(platform, email=email)
    journey.enrol()
    journey.create_session()
    journey.set_password(PASSWORD)
    journey.enter()
    journey.pass_attestations()
    journey.pass_equipment()
    assert journey.session_id is not None
    return Candidate(email, journey.session_id)


def through_checks(platform: Platform, email: str) -> Journey:
    """Enrolled, every check done, the profile saved and the tile chosen; nothing started."""
    journey = Journey(platform, email=email)
    journey.enrol()
    journey.create_session()
    journey.set_password(PASSWORD)
    journey.through_checks()
    journey.to_tile()
    return journey


def in_exam(served: Served, emails: list[str]) -> list[Candidate]:
    """Candidates whose exam has begun (« Commencer »), on the served platform's clock: the
    served workers provision each workspace first."""
    platform = served.platform(served.now() - timedelta(minutes=15))
    try:
        journeys = [through_checks(platform, email) for email in emails]
        clock = platform.ctx.clock
        assert isinstance(clock, ManualClock)
        clock.set(served.now())
        for journey in journeys:
            assert journey.attempt_id is not None
            portal.start_now(platform.ctx, journey.attempt_id)
        store = platform.ctx.store
        served.wait_for(
            lambda: (
                not any(
                    store.get(j.attempt_id, ExamAttempt).workspace_pending
                    for j in journeys
                    if j.attempt_id
                )
            ),
            "the served workers provision the workspaces",
        )
        clock.set(served.now())
        begun = []
        for journey in journeys:
            assert journey.attempt_id is not None and journey.session_id is not None
            portal.begin_exam(platform.ctx, journey.attempt_id)
            attempt = store.get(journey.attempt_id, ExamAttempt)
            begun.append(
                Candidate(
                    journey.email,
                    journey.session_id,
                    journey.attempt_id,
                    tuple(attempt.question_order),
                )
            )
        return begun
    finally:
        platform.close()
