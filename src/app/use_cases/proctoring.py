"""Use cases of the proctored session: entry, checks, identity, environment (R5–R10, R17)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from app.context import Context, update
from domain.candidate import Candidate
from domain.enrollment import Enrollment
from domain.errors import require
from domain.evidence import FlagKind, MediaSpan
from domain.exam_attempt import ExamAttempt
from domain.guide import Step
from domain.proctored_session import EnvironmentPart, ProctoredSession


def _on_session(
    ctx: Context, session_id: UUID, command: Callable[[ProctoredSession, datetime], object]
) -> None:
    at = ctx.now()
    update(ctx, session_id, ProctoredSession, lambda s: command(s, at))


def accept_terms(ctx: Context, candidate_id: UUID) -> None:
    """R5: the terms of use, once, at the first connection."""
    at = ctx.now()
    update(ctx, candidate_id, Candidate, lambda c: c.accept_terms(at=at))


def enter_session(ctx: Context, session_id: UUID, *, resume_reason: str | None = None) -> str:
    """R6: 'Examen' the first time, 'Reprendre l'examen' with a reason after; R3 validity."""
    at = ctx.now()
    session = ctx.store.get(session_id, ProctoredSession)
    enrollment = ctx.store.get(session.enrollment_id, Enrollment)
    candidate = ctx.store.get(session.candidate_id, Candidate)
    valid_until = enrollment.session_valid_until
    require(
        enrollment.session_is_valid_on(at.date()),
        "R3",
        f"the exam session's validity ended on {valid_until}: ask the hotline for a renewal",
    )
    label = session.enter(
        at=at, terms_accepted=candidate.terms_accepted, resume_reason=resume_reason
    )
    ctx.store.save(session)
    return label


def leave_session(ctx: Context, session_id: UUID, *, cause: str) -> None:
    """An interruption: deferral, blocked screen (R23), lost connection."""
    _on_session(ctx, session_id, lambda s, at: s.leave(at=at, cause=cause))


def read_instructions(ctx: Context, session_id: UUID) -> None:
    """R7: instructions read."""
    _on_session(ctx, session_id, lambda s, at: s.read_instructions(at=at))


def attest_designer_rules(ctx: Context, session_id: UUID) -> None:
    """R7: the designer's rules attested."""
    _on_session(ctx, session_id, lambda s, at: s.attest_designer_rules(at=at))


def acknowledge_secure_mode(ctx: Context, session_id: UUID) -> None:
    """R7: secure mode acknowledged."""
    _on_session(ctx, session_id, lambda s, at: s.acknowledge_secure_mode(at=at))


def attest_general_conditions(ctx: Context, session_id: UUID) -> None:
    """R7: general conditions attested."""
    _on_session(ctx, session_id, lambda s, at: s.attest_general_conditions(at=at))


def confirm_sound_heard(ctx: Context, session_id: UUID) -> None:
    """R8: sound heard."""
    _on_session(ctx, session_id, lambda s, at: s.confirm_sound_heard(at=at))


def start_microphone_recording(ctx: Context, session_id: UUID) -> None:
    """R8: microphone recording started."""
    _on_session(ctx, session_id, lambda s, at: s.start_microphone_recording(at=at))


def stop_microphone_recording(ctx: Context, session_id: UUID) -> None:
    """R8: microphone recording stopped (required to go on)."""
    _on_session(ctx, session_id, lambda s, at: s.stop_microphone_recording(at=at))


def check_camera(ctx: Context, session_id: UUID, *, working: bool) -> None:
    """R8: camera checked."""
    _on_session(ctx, session_id, lambda s, at: s.check_camera(at=at, working=working))


def record_connection_test(
    ctx: Context, session_id: UUID, *, round_trip_ms: float, upload_kbps: float, passed: bool
) -> None:
    """R8: the connection test's result."""
    _on_session(
        ctx,
        session_id,
        lambda s, at: s.record_connection_test(
            at=at, round_trip_ms=round_trip_ms, upload_kbps=upload_kbps, passed=passed
        ),
    )


def take_face_photo(ctx: Context, session_id: UUID, image: bytes) -> str:
    """R9: 'Prendre une photo' of the face; the bytes go to media, the hash to the log."""
    stored = ctx.media.store(session_id, "face-photo", image)
    _on_session(
        ctx,
        session_id,
        lambda s, at: s.take_face_photo(
            at=at, media_id=stored.media_id, content_hash=stored.content_hash
        ),
    )
    return stored.media_id


def confirm_face_photo(ctx: Context, session_id: UUID) -> None:
    """R9: 'Suivant' after the face photo."""
    _on_session(ctx, session_id, lambda s, at: s.confirm_face_photo(at=at))


def take_id_photo(ctx: Context, session_id: UUID, image: bytes) -> str:
    """R9: 'Prendre une photo' of the ID document."""
    stored = ctx.media.store(session_id, "id-photo", image)
    _on_session(
        ctx,
        session_id,
        lambda s, at: s.take_id_photo(
            at=at, media_id=stored.media_id, content_hash=stored.content_hash
        ),
    )
    return stored.media_id


def confirm_id_photo(ctx: Context, session_id: UUID) -> None:
    """R9: 'Suivant' after the ID photo."""
    _on_session(ctx, session_id, lambda s, at: s.confirm_id_photo(at=at))


def waive_photo(
    ctx: Context, session_id: UUID, *, step: Step, reason: str, waived_by: UUID
) -> None:
    """Support lets a candidate on without a photo; the review will see it missing (R9)."""
    _on_session(
        ctx,
        session_id,
        lambda s, at: s.waive_photo(at=at, step=step, reason=reason, waived_by=waived_by),
    )


def start_environment_recording(ctx: Context, session_id: UUID, part: EnvironmentPart) -> None:
    """R10: 'Lancer l'enregistrement' for ears, room or desk."""
    media_id = f"{session_id}/environment-{part.value}"
    _on_session(
        ctx,
        session_id,
        lambda s, at: s.start_environment_recording(at=at, part=part, media_id=media_id),
    )


def stop_environment_recording(
    ctx: Context, session_id: UUID, part: EnvironmentPart, recording: bytes
) -> UUID | None:
    """R10: 'Arrêter l'enregistrement'; after the desk the exam attempt opens at once."""
    at = ctx.now()
    stored = ctx.media.store(session_id, f"environment-{part.value}", recording)
    session = ctx.store.get(session_id, ProctoredSession)
    attempt_id = ctx.ids.new_id() if part is EnvironmentPart.DESK else None
    launched = session.stop_environment_recording(
        at=at, part=part, content_hash=stored.content_hash, attempt_id=attempt_id
    )
    if not launched:
        ctx.store.save(session)
        return None
    assert attempt_id is not None
    certification = ctx.catalogue.get(session.certification_code)
    attempt = ExamAttempt.open(
        attempt_id=attempt_id,
        session_id=session.id,
        candidate_id=session.candidate_id,
        certification_code=session.certification_code,
        duration_minutes=session.exam_duration_minutes,
        practice_offered=certification.practice_offered,
        rules=session.rules,
        at=at,
        question_ids=certification.paper.question_ids,
        bank_hash=certification.paper.content_hash,
        extra_minutes=session.extra_minutes,  # an accommodation's extra time
    )
    ctx.store.save(session, attempt)
    return attempt_id


def record_proctoring_tab_closed(ctx: Context, session_id: UUID, *, span: MediaSpan) -> None:
    """R17: the proctoring tab was closed."""
    _on_session(ctx, session_id, lambda s, at: s.record_proctoring_tab_closed(at=at, span=span))


def raise_flag(
    ctx: Context,
    session_id: UUID,
    *,
    flag_id: str,
    kind: FlagKind,
    span: MediaSpan,
    confidence: float,
) -> None:
    """A detector's hint, recorded once per flag id."""
    _on_session(
        ctx,
        session_id,
        lambda s, at: s.raise_flag(
            at=at, flag_id=flag_id, kind=kind, span=span, confidence=confidence
        ),
    )


def record_technical_problem(
    ctx: Context, session_id: UUID, *, description: str, recorded_by: UUID
) -> None:
    """R20: support records a proven technical problem (the phone exception)."""
    _on_session(
        ctx,
        session_id,
        lambda s, at: s.record_technical_problem(
            at=at, description=description, recorded_by=recorded_by
        ),
    )
