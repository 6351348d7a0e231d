"""Use cases of the proctored session: entry, checks, identity, environment (R5–R10, R17)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from app.context import RETRIES, Context, update
from app.media_content import accept_upload, recording_kind
from app.ports.event_store import ConcurrencyConflict
from app.ports.media_capture import MediaNotKept
from domain.candidate import Candidate, refuse_if_erased
from domain.enrollment import Enrollment
from domain.errors import require
from domain.evidence import FlagKind, MediaSpan
from domain.exam_attempt import ExamAttempt
from domain.guide import Step
from domain.proctored_session import EnvironmentPart, ProctoredSession
from domain.rules import LiveEntryWindow, live_entry_window

log = logging.getLogger(__name__)


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
    """R6: 'Examen' the first time, 'Reprendre l'examen' with a reason after; R3 validity;
    R2: a live-supervised session first entered only around its booked slot."""
    at = ctx.now()
    session = ctx.store.get(session_id, ProctoredSession)
    enrollment = ctx.store.get(session.enrollment_id, Enrollment)
    candidate = ctx.store.get(session.candidate_id, Candidate)
    refuse_if_erased(candidate)
    valid_until = enrollment.session_valid_until
    require(
        enrollment.session_is_valid_on(at.date()),
        "R3",
        f"the exam session's validity ended on {valid_until}: ask the hotline for a renewal",
    )
    label = session.enter(
        at=at,
        terms_accepted=candidate.terms_accepted,
        resume_reason=resume_reason,
        supervision_slot=enrollment.supervision_slot,  # R2: a live session waits for it
    )
    ctx.store.save(session)
    return label


def live_entry_of(ctx: Context, enrollment_id: UUID) -> LiveEntryWindow:
    """R2: where the first entry of the enrolment's session stands now (no slot yet, too
    early, open, missed; or not waiting for any), for « Mes examens ». Read from the
    enrolment alone, which holds the slot and the rule set its session was given: a
    quarantined session's list of exams stays readable."""
    enrollment = ctx.store.get(enrollment_id, Enrollment)
    return live_entry_window(
        live_supervision=enrollment.live_supervision,
        slot=enrollment.supervision_slot,
        at=ctx.now(),
        rules=enrollment.rules,
    )


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
    """R9: 'Prendre une photo' of the face; the bytes go to media, the reference and the hash
    to the log. Returns the media store's reference."""
    accept_upload("face-photo", image)  # issue 14: its format and size, before anything
    return _keep_media(
        ctx,
        session_id,
        "face-photo",
        image,
        lambda s, at, media_id, digest: s.take_face_photo(
            at=at, media_id=media_id, content_hash=digest
        ),
    )


def confirm_face_photo(ctx: Context, session_id: UUID) -> None:
    """R9: 'Suivant' after the face photo."""
    _on_session(ctx, session_id, lambda s, at: s.confirm_face_photo(at=at))


def take_id_photo(ctx: Context, session_id: UUID, image: bytes) -> str:
    """R9: 'Prendre une photo' of the ID document."""
    accept_upload("id-photo", image)
    return _keep_media(
        ctx,
        session_id,
        "id-photo",
        image,
        lambda s, at, media_id, digest: s.take_id_photo(
            at=at, media_id=media_id, content_hash=digest
        ),
    )


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
    """R10: 'Lancer l'enregistrement' for ears, room or desk. The recording has no reference
    yet (the media store gives one when it is stopped): this names only the part."""
    _on_session(
        ctx,
        session_id,
        lambda s, at: s.start_environment_recording(
            at=at, part=part, media_id=f"environment-{part.value}"
        ),
    )


def stop_environment_recording(
    ctx: Context, session_id: UUID, part: EnvironmentPart, recording: bytes, *, duration_s: float
) -> UUID | None:
    """R10: 'Arrêter l'enregistrement'; after the desk the exam attempt opens at once.
    `duration_s` is the recording's length as the caller measured it from the file."""
    accept_upload(recording_kind(part), recording)
    attempt_id = ctx.ids.new_id() if part is EnvironmentPart.DESK else None

    def stop(
        session: ProctoredSession, at: datetime, media_id: str, digest: str
    ) -> list[Aggregate]:
        launched = session.stop_environment_recording(
            at=at,
            part=part,
            content_hash=digest,
            duration_s=duration_s,
            attempt_id=attempt_id,
            media_id=media_id,
        )
        if not launched:
            return []
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
            budget_ends_at=session.budget_ends_at(),  # R4: fixed since the first entry
            enrollment_id=session.enrollment_id,  # R1/R3 read the enrolment's validity
        )
        return [attempt]

    _keep_media(ctx, session_id, recording_kind(part), recording, stop)
    return attempt_id


# A command that records a stored media: given the session, the instant, the media store's
# reference and the content hash; returns other aggregates to save with the session.
MediaCommand = Callable[[ProctoredSession, datetime, str, str], list[Aggregate] | None]

# What the first decision records in place of the reference it does not have yet.
_NOT_YET_STORED = "not-yet-stored"


def _keep_media(
    ctx: Context, session_id: UUID, kind: str, data: bytes, command: MediaCommand
) -> str:
    """Decide, then write, then save (issue 12, item 9): a refused command writes nothing, and
    media whose events could not be saved are deleted again, so the store holds only media
    the log refers to.

    The session decides first with the content's hash (its answer is thrown away: it only
    tells whether the command is accepted); the media store then keeps the bytes under a
    reference of its own, and the command is decided again with that reference and saved."""
    at = ctx.now()
    digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
    command(ctx.store.get(session_id, ProctoredSession), at, _NOT_YET_STORED, digest)
    try:
        stored = ctx.media.store(session_id, kind, data)
    except OSError as error:  # a full disk: nothing written, nothing recorded; try again
        raise MediaNotKept(f"{kind} for session {session_id}: {error.strerror or error}") from error
    try:
        for attempt in range(RETRIES):
            session = ctx.store.get(session_id, ProctoredSession)
            others = command(session, at, stored.media_id, stored.content_hash)
            try:
                ctx.store.save(session, *(others or []))
            except ConcurrencyConflict:
                if attempt == RETRIES - 1:
                    raise
                continue
            return stored.media_id
        raise AssertionError("unreachable")
    except BaseException:
        try:
            ctx.media.delete(stored.media_id)
        except Exception:  # the save's failure is the one to report; this one is logged
            log.exception("media %s kept although its event was not saved", stored.media_id)
        raise


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
