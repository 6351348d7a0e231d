"""Aggregates with every kind of value in their state (ids, aware dates, enums, floats, tuples,
nested values), and how to compare them: what the event store contract saves and loads back."""

from __future__ import annotations

import struct
import typing
import zlib
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate, AggregateEvent

from domain.candidate import Candidate, PortalProfile
from domain.enrollment import Enrollment
from domain.evidence import Evidence, EvidenceKind, FlagKind, MediaSpan, ReasonCode, Verdict
from domain.exam_attempt import ExamAttempt, ExamWindow
from domain.proctored_session import EnvironmentPart, ProctoredSession
from domain.review import CitedReason, Review
from domain.rules import RULES_2025_03
from domain.scoring import Results, SectionResult

PARIS = ZoneInfo("Europe/Paris")
# A Monday in winter time, far from a DST change: a non-UTC offset without fold surprises.
T0 = datetime(2025, 3, 3, 9, 30, tzinfo=PARIS)


def minutes(n: float) -> datetime:
    """T0 plus that many minutes."""
    return T0 + timedelta(minutes=n)


# R1/R3: the days the sample exam may be taken on (enrolled on T0, session created on T0).
WINDOW = ExamWindow(
    last_day=T0.date() + timedelta(days=90), valid_until=T0.date() + timedelta(days=15)
)


def a_candidate() -> Candidate:
    """A registered candidate who accepted the terms and filled in their portal profile."""
    candidate = Candidate.register(
        candidate_id=uuid4(),
        email="Camille.Martin@example.org",
        surname="Martin",
        first_name="Camille",
        at=T0,
    )
    candidate.accept_terms(at=minutes(1))
    candidate.choose_language(at=minutes(2), language="en")
    profile = PortalProfile("Mx", "Martin", "Camille", date(1990, 2, 28), "Lyon")
    candidate.save_portal_profile(
        at=minutes(3), email="camille.martin@example.org", profile=profile, password_hash="h$1"
    )
    return candidate


def an_enrollment() -> Enrollment:
    """An enrolment with a live-supervision slot booked and its exam session renewed."""
    enrollment = Enrollment.enrol(
        enrollment_id=uuid4(),
        centre_id=uuid4(),
        candidate_id=uuid4(),
        certification_code="PCIE-BASE",
        exam_duration_minutes=90,
        rules=RULES_2025_03,
        at=T0,
    )
    enrollment.create_exam_session(exam_session_id=uuid4(), at=minutes(5), live_supervision=True)
    slot = datetime(2025, 3, 5, 10, 0, tzinfo=PARIS)  # a Wednesday, in office hours
    enrollment.book_live_supervision_slot(slot=slot, booked_by=uuid4(), at=minutes(10))
    enrollment.renew_exam_session(at=minutes(20))
    return enrollment


def an_entered_session(session_id: UUID | None = None) -> ProctoredSession:
    """A proctored session the candidate has just entered."""
    session = ProctoredSession.open(
        session_id=session_id or uuid4(),
        enrollment_id=uuid4(),
        candidate_id=uuid4(),
        certification_code="PCIE-BASE",
        exam_duration_minutes=90,
        rules=RULES_2025_03,
        live_supervision=False,
        at=T0,
    )
    session.enter(at=minutes(1), terms_accepted=True)
    return session


def a_closed_session() -> ProctoredSession:
    """A session through every check, recordings, a flag and a technical problem, closed."""
    session = an_entered_session()
    at = minutes(2)
    session.read_instructions(at=at)
    session.attest_designer_rules(at=at)
    session.acknowledge_secure_mode(at=at)
    session.attest_general_conditions(at=at)
    session.confirm_sound_heard(at=at)
    session.start_microphone_recording(at=at)
    session.stop_microphone_recording(at=at)
    session.check_camera(at=at, working=True)
    session.record_connection_test(at=at, round_trip_ms=42.5, upload_kbps=900.0, passed=True)
    session.take_face_photo(at=at, media_id="m-face", content_hash="sha256:f")
    session.confirm_face_photo(at=at)
    session.take_id_photo(at=at, media_id="m-id", content_hash="sha256:i")
    session.confirm_id_photo(at=at)
    for part in EnvironmentPart:
        session.start_environment_recording(at=at, part=part, media_id=f"m-{part.value}")
        session.stop_environment_recording(
            at=minutes(3),
            part=part,
            content_hash=f"sha256:{part.value}",
            duration_s=30.0,
            attempt_id=uuid4(),
        )
    session.record_proctoring_tab_closed(at=minutes(30), span=MediaSpan(1740.0, 1790.5))
    session.raise_flag(
        at=minutes(31),
        flag_id="f-1",
        kind=FlagKind.VOICE,
        span=MediaSpan(1.5, 3.0),
        confidence=0.7,
    )
    session.record_technical_problem(
        at=minutes(32), description="webcam froze", recorded_by=uuid4()
    )
    session.close(at=minutes(100))
    return session


def an_attempt_in_progress() -> ExamAttempt:
    """An exam attempt begun in its workspace after a practice questionnaire."""
    attempt = ExamAttempt.open(
        attempt_id=uuid4(),
        session_id=uuid4(),
        candidate_id=uuid4(),
        certification_code="PCIE-BASE",
        duration_minutes=90,
        practice_offered=True,
        rules=RULES_2025_03,
        at=T0,
        budget_ends_at=minutes(170),  # entered ten minutes before the attempt opened
        enrollment_id=uuid4(),
    )
    attempt.take_practice_questionnaire(at=minutes(1), score_percent=62.5)
    attempt.select_tile(at=minutes(2), certification_code="PCIE-BASE", profile_complete=True)
    attempt.start_now(at=minutes(3))
    attempt.workspace_connected(at=minutes(4), workspace_ref="vm-17")
    attempt.begin(at=minutes(5), window=WINDOW)
    return attempt


def finish(attempt: ExamAttempt, at: datetime) -> ExamAttempt:
    """The attempt finished, its results shown and its validation code typed back."""
    attempt.finish(at=at)
    results = Results(12, 20, True, (SectionResult("tableur", 7, 10), SectionResult("web", 5, 10)))
    attempt.show_results(at=at, results=results, validation_code="K7Q2")
    attempt.validate(at=at, window=WINDOW, typed_code="K7Q2")
    return attempt


def a_finished_attempt() -> ExamAttempt:
    """An attempt with answers (one changed), finished and validated."""
    attempt = an_attempt_in_progress()
    attempt.answer(at=minutes(10), window=WINDOW, question_id="q1", answer="SOMME(A1:A3)")
    attempt.answer(at=minutes(11), window=WINDOW, question_id="q2", answer="Générer")
    attempt.answer(at=minutes(12), window=WINDOW, question_id="q1", answer="=SOMME(A1:A3)")
    return finish(attempt, minutes(60))


def a_decided_review() -> Review:
    """A review assigned, with evidence, recommended, decided and released."""
    review = Review.open(
        review_id=uuid4(),
        session_id=uuid4(),
        attempt_id=uuid4(),
        candidate_id=uuid4(),
        certification_code="PCIE-BASE",
        rules=RULES_2025_03,
        at=T0,
    )
    examiner = uuid4()
    review.assign(at=minutes(1), examiner_id=examiner)
    stream = uuid4()
    evidence = (
        Evidence(f"{stream}/1", EvidenceKind.EXAM_LAUNCHED, minutes(-60)),
        Evidence(
            f"{stream}/2",
            EvidenceKind.FLAG_RAISED,
            minutes(-30),
            span=MediaSpan(12.0, 15.25),
            flag=FlagKind.PHONE,
            confidence=0.93,
            during_exam=True,
            note="téléphone à gauche",
        ),
    )
    review.gather_evidence(at=minutes(2), items=evidence)
    review.recommend(at=minutes(3))
    review.decide(
        at=minutes(4),
        examiner_id=examiner,
        verdict=Verdict.INVALIDATED,
        reasons=(CitedReason(ReasonCode.IDENTITY_NOT_VERIFIABLE, (f"{stream}/1",)),),
    )
    review.release_results(at=minutes(5), released_by=examiner)
    return review


# One of each aggregate, by name: the contract saves and loads every one.
BUILDERS: dict[str, Callable[[], Aggregate]] = {
    "candidate": a_candidate,
    "enrollment": an_enrollment,
    "proctored_session": a_closed_session,
    "exam_attempt": a_finished_attempt,
    "review": a_decided_review,
}


def state_of(aggregate: Aggregate) -> dict[str, Any]:
    """What a load must rebuild: everything but the events waiting to be saved."""
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def pending_events(aggregate: Aggregate) -> list[AggregateEvent]:
    """The events a save is about to record (save() drains them from the aggregate)."""
    return list(typing.cast(list[AggregateEvent], aggregate._pending_events))


def replay(events: Sequence[AggregateEvent]) -> Aggregate:
    """The aggregate as pure event sourcing defines it: a fold of its events."""
    aggregate: Any = None
    for event in events:
        aggregate = event.mutate(aggregate)
    assert isinstance(aggregate, Aggregate)
    return aggregate


def raise_flags(session: ProctoredSession, count: int, *, first: int = 0) -> None:
    """Raise `count` flags of every kind on the session, numbered from `first`."""
    kinds = list(FlagKind)
    for n in range(first, first + count):
        session.raise_flag(
            at=minutes(2 + n / 100),
            flag_id=f"flag-{n}",
            kind=kinds[n % len(kinds)],
            span=MediaSpan(float(n), n + 0.5),
            confidence=(n % 100) / 100,
        )


# --- media the media store accepts (app/media_content.py reads the first bytes) -------------


def jpeg_sample(tag: bytes = b"") -> bytes:
    """A JPEG's first bytes (SOI, a JFIF APP0, a frame header of 1 × 1 pixel) then `tag`: a
    photo as far as checks go (they read the headers, never decode the picture)."""
    return (
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        + b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00"  # SOF0: 8 bits, 1 × 1, grey
        + tag
    )


def png_sample(tag: bytes = b"") -> bytes:
    """A PNG's signature and its IHDR chunk (1 × 1 pixel, with its checksum), then `tag`."""
    header = b"IHDR" + struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    checksum = struct.pack(">I", zlib.crc32(header))
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0d" + header + checksum + tag


def ebml_sample(doc_type: bytes = b"webm", tag: bytes = b"") -> bytes:
    """An EBML header (version 1, the given DocType) as WebM and Matroska files begin."""
    body = (
        b"\x42\x86\x81\x01"  # EBMLVersion 1
        + b"\x42\xf7\x81\x01"  # EBMLReadVersion 1
        + b"\x42\x82"
        + bytes([0x80 | len(doc_type)])
        + doc_type
        + b"\x42\x87\x81\x04"  # DocTypeVersion 4
    )
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body + tag
