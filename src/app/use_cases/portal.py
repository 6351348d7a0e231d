"""Use cases of the exam portal: profile, tile, workspace, exam, results, validation (R11–R22)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from uuid import UUID

from app.context import Context, retrying, update
from app.passwords import hash_password
from domain.bounds import LIMITS
from domain.candidate import Candidate, PortalProfile
from domain.enrollment import Enrollment
from domain.errors import InvalidArgument, RuleBroken, TooLong, refuse_all
from domain.exam_attempt import AttemptStatus, ExamAttempt, ExamWindow
from domain.proctored_session import ProctoredSession
from domain.scoring import GivenAnswer, Results, is_answered, score


def _on_attempt(
    ctx: Context, attempt_id: UUID, command: Callable[[ExamAttempt, datetime], object]
) -> None:
    at = ctx.now()
    update(ctx, attempt_id, ExamAttempt, lambda a: command(a, at))


def exam_window(ctx: Context, attempt: ExamAttempt) -> ExamWindow:
    """R1/R3: the enrolment's last day and the exam session's validity as they stand now (a
    renewal moves the validity), read when the command is given."""
    # Read from the store (a decision never rests on what a process merely holds), two
    # fields each: no copy (issue 15: at every answer).
    enrollment_id = attempt.enrollment_id
    if enrollment_id is None:  # attempts opened before the enrolment was recorded on them
        session = ctx.store.get(attempt.session_id, ProctoredSession, to_read=True)
        enrollment_id = session.enrollment_id
    enrollment = ctx.store.get(enrollment_id, Enrollment, to_read=True)
    return ExamWindow(last_day=enrollment.last_day, valid_until=enrollment.session_valid_until)


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


# A practice answer is an answer to one of the exam's kinds of question: the exam's own bound
# (domain.bounds). It had none: any length was read, normalised and scored (a user's tour).
PRACTICE_ANSWER_MAX_CHARS = LIMITS["answer"]


def take_practice_questionnaire(
    ctx: Context, attempt_id: UUID, *, answers: Mapping[str, GivenAnswer | str]
) -> Results:
    """R12: the practice questionnaire, where offered; scored for the candidate, it never
    counts in the exam's results. Every answer longer than PRACTICE_ANSWER_MAX_CHARS is
    refused at once (TooLong, named by its question's id), nothing scored nor recorded. Sent
    with no question answered it is refused, nothing recorded: « Soumettre » on an empty
    form scored 0 % (a user's tour)."""
    refuse_all(
        [
            TooLong(question_id, PRACTICE_ANSWER_MAX_CHARS, len(text))
            for question_id, given in answers.items()
            if len(text := given if isinstance(given, str) else given.text)
            > PRACTICE_ANSWER_MAX_CHARS
        ]
    )
    at = ctx.now()

    def practise(attempt: ExamAttempt) -> Results:
        practice = ctx.catalogue.get(attempt.certification_code).practice
        if practice is None:
            raise RuleBroken("R12", "no practice questionnaire is offered on this session")
        if not any(is_answered(_given(answers.get(q.question_id, ""))) for q in practice.questions):
            raise InvalidArgument("practice", "answer at least one question before submitting")
        results = score(answers, practice.questions, 0)
        percent = 100.0 * results.score / results.max_score if results.max_score else 0.0
        attempt.take_practice_questionnaire(at=at, score_percent=round(percent, 1))
        return results

    return update(ctx, attempt_id, ExamAttempt, practise)


def _given(answer: GivenAnswer | str) -> GivenAnswer:
    return GivenAnswer(text=answer) if isinstance(answer, str) else answer


def select_tile(ctx: Context, attempt_id: UUID, *, certification_code: str) -> None:
    """R13: the tile 'À démarrer' (R11: the profile first)."""
    at = ctx.now()

    def once() -> None:
        attempt = ctx.store.get(attempt_id, ExamAttempt)
        candidate = ctx.store.get(attempt.candidate_id, Candidate)
        attempt.select_tile(
            at=at,
            certification_code=certification_code,
            profile_complete=candidate.profile_complete,
        )
        ctx.store.save(attempt)

    retrying(once)


def start_now(ctx: Context, attempt_id: UUID) -> None:
    """R15: 'Je démarre maintenant' asks for the workspace; a worker provisions it (never
    the web request) and records it connected or failed."""
    _on_attempt(ctx, attempt_id, lambda a, at: a.start_now(at=at))


def reopen_workspace(ctx: Context, attempt_id: UUID) -> None:
    """R23: after a blocked screen or a lost workspace, ask for a new one; time keeps running."""
    _on_attempt(ctx, attempt_id, lambda a, at: a.reopen_workspace(at=at))


def leave_workspace(ctx: Context, attempt_id: UUID) -> None:
    """R23: « Quitter » in the exam tab, recorded as the candidate's act, not as a lost tab."""
    _on_attempt(ctx, attempt_id, lambda a, at: a.leave_workspace(at=at))


def begin_exam(ctx: Context, attempt_id: UUID) -> datetime:
    """R15/R16: 'Commencer'; refused if the exam could not end before midnight. The seed
    drawn here fixes the order of the questions for this attempt."""
    at = ctx.now()
    seed = ctx.ids.new_id().hex
    return update(
        ctx,
        attempt_id,
        ExamAttempt,
        lambda a: a.begin(at=at, window=exam_window(ctx, a), seed=seed),
    )


def defer_exam(ctx: Context, attempt_id: UUID) -> None:
    """R14: leave before 'Commencer' and come back to the tile later."""
    _on_attempt(ctx, attempt_id, lambda a, at: a.defer(at=at))


class NotTheCandidatesAttempt(LookupError):
    """The attempt is another candidate's: the web answers as for one that does not exist."""


def answer_question(
    ctx: Context,
    attempt_id: UUID,
    *,
    question_id: str,
    answer: str = "",
    choices: tuple[str, ...] = (),
    candidate_id: UUID | None = None,
) -> None:
    """An answer is saved as soon as it is given (a text, or the ticked choices). With
    `candidate_id`, only that candidate's own attempt is answered, checked on the attempt the
    save decides on (issue 15: the web's save loads it once, not once to check and again to
    save: at a thousand candidates every round trip to the store counts)."""

    def give(attempt: ExamAttempt, at: datetime) -> None:
        if candidate_id is not None and attempt.candidate_id != candidate_id:
            raise NotTheCandidatesAttempt(attempt_id)
        attempt.answer(
            at=at,
            window=exam_window(ctx, attempt),
            question_id=question_id,
            answer=answer,
            choices=choices,
        )

    _on_attempt(ctx, attempt_id, give)


def finish_exam(ctx: Context, attempt_id: UUID) -> Results:
    """The exam ends; the detailed results and the code to type back are shown (R18)."""
    at = ctx.now()
    code = ctx.ids.validation_code()

    def finish(attempt: ExamAttempt) -> Results:
        certification = ctx.catalogue.get(attempt.certification_code)
        paper = ctx.catalogue.paper(attempt.certification_code, attempt.bank_hash)
        if attempt.status is AttemptStatus.IN_PROGRESS:
            attempt.finish(at=at)
        results = score(attempt.given_answers(), paper.questions, certification.pass_mark_percent)
        attempt.show_results(at=at, results=results, validation_code=code)
        return results

    return update(ctx, attempt_id, ExamAttempt, finish)


def _with_session(
    ctx: Context, attempt_id: UUID, command: Callable[[ExamAttempt, datetime], None]
) -> None:
    """Change the attempt and close its proctored session in one transaction."""

    def once() -> None:
        at = ctx.now()
        attempt = ctx.store.get(attempt_id, ExamAttempt)
        session = ctx.store.get(attempt.session_id, ProctoredSession)
        command(attempt, at)
        session.close(at=at)
        ctx.store.save(attempt, session)

    retrying(once)


def validate_exam(ctx: Context, attempt_id: UUID, *, typed_code: str) -> None:
    """R18: 'Valider l'examen', the code typed back, 'Oui, envoyer': the recording is sent."""
    _with_session(
        ctx,
        attempt_id,
        lambda a, at: a.validate(at=at, window=exam_window(ctx, a), typed_code=typed_code),
    )


def quit_certification(ctx: Context, attempt_id: UUID) -> None:
    """R22: 'Quitter la certification' then 'Quitter': no return."""
    _with_session(ctx, attempt_id, lambda a, at: a.quit(at=at))
