"""The web benchmark's preparation (`benchmarks.bench_web`, step 1): candidates up to
'Commencer' through the use cases in memory, the log and its owners' keys copied into the
server's PostgreSQL schema, then each level's exams begun just before it."""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from benchmarks.harness import Progress
from benchmarks.web_load import PASSWORD, SEED

CERTIFICATION = "ENI-ACCESS"
SECRET_KEY = "bench-web-" + "k" * 32


# --- 1. preparation ----------------------------------------------------------------------


@dataclass
class Prepared:
    email: str
    candidate_id: str
    attempt_id: str
    answers: list[dict[str, Any]]  # the JSON bodies, in the attempt's question order


def light_hash(password: str) -> str:
    """A valid argon2id hash with cheap parameters (the product verifies any argon2 hash
    with the parameters it carries)."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(password)


def answer_bodies(catalogue: Any, paper: Sequence[str], number: int) -> list[dict[str, Any]]:
    """One answer per question of the paper, in a shuffled order: a short text, one choice,
    or two."""
    from domain.exam_paper import QuestionKind

    rng = random.Random(SEED + number)
    questions = {q.question_id: q for q in catalogue.get(CERTIFICATION).paper.questions}
    bodies = []
    for question_id in rng.sample(list(paper), len(paper)):
        question = questions[question_id]
        ids = [c.choice_id for c in question.choices]
        if question.kind is QuestionKind.SHORT:
            body = {"question_id": question_id, "answer": rng.choice([*question.expected, "?"])}
        elif question.kind is QuestionKind.SINGLE:
            body = {"question_id": question_id, "choices": [rng.choice(ids)]}
        else:
            body = {"question_id": question_id, "choices": rng.sample(ids, 2)}
        bodies.append(body)
    return bodies


def run_clock_offset_s() -> float:
    """The run's platforms' clock offset: bench_web sets VIGIE_CLOCK_OFFSET late in the day
    (its exams must end the same day, R16)."""
    return float(os.environ.get("VIGIE_CLOCK_OFFSET") or 0)


def prepare(count: int, urls: Sequence[str]) -> tuple[list[Prepared], float, int]:
    """`count` candidates with an exam in progress, through the use cases on an in-memory
    platform, the log then copied into the store at each of `urls` (one per deployment
    measured: each begins its own exams); returns them, the seconds it took and the number
    of events copied into each."""
    from adapters.bootstrap import Settings, bootstrap
    from adapters.clock import ManualClock
    from app.use_cases import enrolment, portal, proctoring
    from domain.candidate import Account, Candidate, PortalProfile
    from domain.exam_attempt import AttemptStatus, ExamAttempt
    from domain.proctored_session import EnvironmentPart
    from vigie_contracts.samples import ebml_sample, jpeg_sample

    started = time.perf_counter()
    profile = PortalProfile("Madame", "Martin", "Camille", date(1990, 5, 17), "Nantes")
    password_hash = light_hash(PASSWORD)
    offset = timedelta(seconds=run_clock_offset_s())  # the servers' time
    clock = ManualClock(datetime.now(UTC) + offset - timedelta(minutes=30))
    platform = bootstrap(
        Settings(database_url="memory:", media_root=None, secret_key=SECRET_KEY, launcher="memory"),
        clock=clock,
    )
    ctx = platform.ctx
    progress = Progress("prepare candidates (use cases, in memory)", count)
    made: list[tuple[str, uuid.UUID, uuid.UUID]] = []
    for number in range(count):
        email = f"candidate{number:05d}@example.org"
        enrolled = enrolment.enrol_candidate(
            ctx,
            platform.projections,
            centre_id=uuid.UUID(int=1),
            email=email,
            surname="Martin",
            first_name="Camille",
            certification_code=CERTIFICATION,
        )
        sid = enrolment.create_exam_session(ctx, enrolled.enrollment_id).session_id
        proctoring.accept_terms(ctx, enrolled.candidate_id)
        proctoring.enter_session(ctx, sid)
        for step in (
            proctoring.read_instructions,
            proctoring.attest_designer_rules,
            proctoring.acknowledge_secure_mode,
            proctoring.attest_general_conditions,
            proctoring.confirm_sound_heard,
            proctoring.start_microphone_recording,
            proctoring.stop_microphone_recording,
        ):
            step(ctx, sid)
        proctoring.check_camera(ctx, sid, working=True)
        proctoring.record_connection_test(
            ctx, sid, round_trip_ms=35.0, upload_kbps=8000.0, passed=True
        )
        proctoring.take_face_photo(ctx, sid, jpeg_sample(b"face"))
        proctoring.confirm_face_photo(ctx, sid)
        proctoring.take_id_photo(ctx, sid, jpeg_sample(b"identity card"))
        proctoring.confirm_id_photo(ctx, sid)
        attempt_id = None
        for part in EnvironmentPart:
            proctoring.start_environment_recording(ctx, sid, part)
            attempt_id = proctoring.stop_environment_recording(
                ctx, sid, part, ebml_sample(tag=part.value.encode()), duration_s=30.0
            )
        assert attempt_id is not None
        # The portal profile and the proctoring password, hashed once (see the docstring).
        at = ctx.now()
        candidate = ctx.store.get(enrolled.candidate_id, Candidate)
        candidate.save_portal_profile(
            at=at, email=email, profile=profile, password_hash=password_hash
        )
        candidate.request_password_reset(
            at=at,
            account=Account.PROCTORING,
            token_id=f"bench-{number}",
            expires_at=at + timedelta(hours=1),
            purpose="reset",
        )
        candidate.reset_password(
            at=at,
            account=Account.PROCTORING,
            token_id=f"bench-{number}",
            password_hash=password_hash,
        )
        ctx.store.save(candidate)
        portal.select_tile(ctx, attempt_id, certification_code=CERTIFICATION)
        portal.start_now(ctx, attempt_id)
        made.append((email, enrolled.candidate_id, attempt_id))
        progress.update(number + 1)
    platform.settle()  # mails decided and sent, workspaces provisioned (memory launcher)
    prepared = []
    for number, (email, candidate_id, attempt_id) in enumerate(made):
        attempt = ctx.store.get(attempt_id, ExamAttempt)
        if attempt.status is not AttemptStatus.WORKSPACE_READY:
            raise RuntimeError(f"attempt {attempt_id} is {attempt.status}, not ready to begin")
        bodies = answer_bodies(ctx.catalogue, attempt.question_ids, number)
        prepared.append(Prepared(email, str(candidate_id), str(attempt_id), bodies))
    platform.runner.run_until_quiet()
    copied = 0
    for url in urls:
        copied = copy_log(platform, url)
    platform.close()
    return prepared, time.perf_counter() - started, copied


class Beginner:
    """'Commencer' for the candidates of the next level, through the use case on the
    server's store and the system clock, just before that level: at each level exactly its
    candidates have an exam in progress (the server's worker watches every exam in progress
    for its time limit)."""

    def __init__(self, url: str, prepared: Sequence[Prepared]) -> None:
        from adapters.bootstrap import Settings, bootstrap

        self.prepared = prepared
        self.begun = 0
        self.seconds = 0.0
        self.platform = bootstrap(
            Settings(
                database_url=url,
                media_root=None,
                secret_key=SECRET_KEY,
                launcher="memory",
                clock_offset_s=run_clock_offset_s(),  # the servers' time
            )
        )

    def __call__(self, candidates: int) -> None:
        from app.use_cases import portal

        started = time.perf_counter()
        for spec in self.prepared[self.begun : candidates]:
            portal.begin_exam(self.platform.ctx, uuid.UUID(spec.attempt_id))
        self.begun = max(self.begun, candidates)
        self.seconds += time.perf_counter() - started

    def close(self) -> None:
        self.platform.close()


def copy_log(platform: Any, url: str, batch: int = 5000) -> int:
    """Every stored event of the in-memory platform into the store at `url`, in order, then
    each policy's position: the server finds nothing left to react to."""
    from eventsourcing.persistence import StoredEvent, Tracking

    from adapters.persistence.store import EventsourcingStore

    source = platform.store.app.recorder
    head = int(platform.store.head())
    target = EventsourcingStore(url)
    try:
        recorder = target._recorder  # the process recorder: events and tracking
        progress = Progress("copy the log into PostgreSQL", head)
        position = 0
        owners: set[uuid.UUID] = set()
        while True:
            page = source.select_notifications(
                start=position, limit=batch, inclusive_of_start=False
            )
            if not page:
                break
            recorder.insert_events(
                [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state) for n in page]
            )
            owners.update(n.originator_id for n in page)
            position = page[-1].id
            progress.update(position)
        if target.head() != head:
            raise RuntimeError(f"copied log ends at {target.head()}, not {head}")
        copy_keys(platform, url, owners)
        for policy in platform.runner.policies:
            reached = platform.store.position_of(policy.name)
            if reached:
                recorder.insert_tracking(Tracking(policy.name, reached))
        return head
    finally:
        target.close()


def copy_keys(platform: Any, url: str, owners: set[uuid.UUID]) -> int:
    """The sealing keys of the log's owners, from the in-memory key store into the table the
    server's key store reads (PostgreSQL, in the keys' own schema): without them the copied
    log's personal data, password hashes included, cannot be unsealed (log-in answers 401)."""
    from adapters.bootstrap import Settings, key_store
    from adapters.keys.postgres import PostgresKeyStore

    keys = {owner: key for owner in owners if (key := platform.keys.existing_key(owner))}
    target = key_store(Settings(database_url=url, secret_key=SECRET_KEY))
    if not isinstance(target, PostgresKeyStore):
        raise RuntimeError(f"the server's keys are not in PostgreSQL: {target!r}")
    try:
        target.adopt(keys)
    finally:
        target.close()
    return len(keys)


def store_head(url: str) -> int:
    """The store's last position (the demo's seeding, done before a node says it is ready,
    lies before it: its sample exam's answers are not the benchmark's)."""
    from adapters.persistence.store import EventsourcingStore

    store = EventsourcingStore(url)
    try:
        return store.head()
    finally:
        store.close()


def answers_recorded(url: str, after: int) -> int:
    """AnswerGiven events in the store after position `after`."""
    from adapters.persistence.store import EventsourcingStore
    from domain.exam_attempt import ExamAttempt

    topic = f"{ExamAttempt.AnswerGiven.__module__}:{ExamAttempt.AnswerGiven.__qualname__}"
    store = EventsourcingStore(url)
    try:
        recorder = store.app.recorder
        count, position = 0, after
        while True:
            page = recorder.select_notifications(
                start=position, limit=10_000, inclusive_of_start=False, topics=[topic]
            )
            if not page:
                return count
            count += len(page)
            position = page[-1].id
    finally:
        store.close()
