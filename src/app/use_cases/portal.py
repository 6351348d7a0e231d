"""Use cases of the exam portal: profile, tile, workspace, exam, results, validation (R11–R22)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from app.context import Context, update
from app.passwords import hash_password
from app.ports.event_store import ConcurrencyConflict
from domain.candidate import Candidate, PortalProfile
from domain.exam_attempt import ExamAttempt
from domain.proctored_session import ProctoredSession
from domain.scoring import Results, score


def _on_attempt(
    ctx: Context, attempt_id: UUID, command: Callable[[ExamAttempt, datetime], object]
) -> None:
    at = ctx.now()
    update(ctx, attempt_id, ExamAttempt, lambda a: command(a, at))


def save_portal_profile(
    ctx: Context,
    candidate_id: UUID,
    *,
    email: str,
    profile: PortalProfile,
    password: str | None = None,
) -> str:
    """R11: 'Créer' (with a password) the first time, 'Enregistrer' after."""
    at = ctx.now()
    password_hash = hash_password(password) if password else None
    return update(
        ctx,
        candidate_id,
        Candidate,
        lambda c: c.save_portal_profile(
            at=at, email=email, profile=profile, password_hash=password_hash
        ),
    )


def take_practice_questionnaire(ctx: Context, attempt_id: UUID, *, score_percent: float) -> None:
    """R12: the practice questionnaire, where offered; it never counts."""
    _on_attempt(
        ctx,
        attempt_id,
        lambda a, at: a.take_practice_questionnaire(at=at, score_percent=score_percent),
    )


def select_tile(ctx: Context, attempt_id: UUID, *, certification_code: str) -> None:
    """R13: the tile 'À démarrer' (R11: the profile first)."""
    at = ctx.now()
    attempt = ctx.store.get(attempt_id, ExamAttempt)
    candidate = ctx.store.get(attempt.candidate_id, Candidate)
    attempt.select_tile(
        at=at, certification_code=certification_code, profile_complete=candidate.profile_complete
    )
    ctx.store.save(attempt)


def start_now(ctx: Context, attempt_id: UUID) -> str:
    """R15: 'Je démarre maintenant' → the workspace connects → the instructions."""
    _on_attempt(ctx, attempt_id, lambda a, at: a.start_now(at=at))
    workspace = ctx.launcher.provision(attempt_id)
    _on_attempt(
        ctx, attempt_id, lambda a, at: a.workspace_connected(at=at, workspace_ref=workspace.ref)
    )
    return workspace.ref


def begin_exam(ctx: Context, attempt_id: UUID) -> datetime:
    """R15/R16: 'Commencer'; refused if the exam could not end before midnight."""
    at = ctx.now()
    return update(ctx, attempt_id, ExamAttempt, lambda a: a.begin(at=at))


def defer_exam(ctx: Context, attempt_id: UUID) -> None:
    """R14: leave before 'Commencer' and come back to the tile later."""
    _on_attempt(ctx, attempt_id, lambda a, at: a.defer(at=at))


def answer_question(ctx: Context, attempt_id: UUID, *, question_id: str, answer: str) -> None:
    """An answer is saved as soon as it is given."""
    _on_attempt(
        ctx, attempt_id, lambda a, at: a.answer(at=at, question_id=question_id, answer=answer)
    )


def finish_exam(ctx: Context, attempt_id: UUID) -> Results:
    """The exam ends; the detailed results and the code to type back are shown (R18)."""
    at = ctx.now()
    code = ctx.ids.validation_code()

    def finish(attempt: ExamAttempt) -> Results:
        certification = ctx.catalogue.get(attempt.certification_code)
        attempt.finish(at=at)
        results = score(attempt.answers, certification.questions, certification.pass_mark_percent)
        attempt.show_results(at=at, results=results, validation_code=code)
        return results

    return update(ctx, attempt_id, ExamAttempt, finish)


def _with_session(
    ctx: Context, attempt_id: UUID, command: Callable[[ExamAttempt, datetime], None]
) -> None:
    """Change the attempt and close its proctored session in one transaction."""
    for attempt_number in range(3):
        at = ctx.now()
        attempt = ctx.store.get(attempt_id, ExamAttempt)
        session = ctx.store.get(attempt.session_id, ProctoredSession)
        command(attempt, at)
        session.close(at=at)
        try:
            ctx.store.save(attempt, session)
            return
        except ConcurrencyConflict:
            if attempt_number == 2:
                raise


def validate_exam(ctx: Context, attempt_id: UUID, *, typed_code: str) -> None:
    """R18: 'Valider l'examen', the code typed back, 'Oui, envoyer': the recording is sent."""
    _with_session(ctx, attempt_id, lambda a, at: a.validate(at=at, typed_code=typed_code))


def quit_certification(ctx: Context, attempt_id: UUID) -> None:
    """R22: 'Quitter la certification' then 'Quitter': no return."""
    _with_session(ctx, attempt_id, lambda a, at: a.quit(at=at))
