"""The exam desk: what the exam tab shows, read from the attempt and its paper.

The questions come in the attempt's own order (fixed by the seed recorded at 'Commencer'),
each with the answer saved so far and the time left on the server's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from app.context import Context
from app.safe_exam_browser import SafeExamBrowser
from domain.candidate import Candidate
from domain.exam_attempt import AttemptStatus, ExamAttempt
from domain.exam_paper import Choice, QuestionKind, choice_order
from domain.scoring import GivenAnswer


@dataclass(frozen=True)
class DeskQuestion:
    """One question as the candidate sees it."""

    number: int
    question_id: str
    section: str
    kind: QuestionKind
    prompt: str
    choices: tuple[Choice, ...]
    given: GivenAnswer


@dataclass(frozen=True)
class DeskView:
    """The exam tab's whole content at one moment."""

    attempt_id: UUID
    title: str
    status: AttemptStatus
    duration_minutes: int
    remaining_seconds: float
    ends_at: datetime | None
    questions: tuple[DeskQuestion, ...]
    # The candidate's language (R25): the exam tab speaks it, as the portal does.
    language: str = "fr"
    # The accommodation's extra minutes, already in the timer (R4): its instructions say them.
    extra_minutes: int = 0


def desk_view(ctx: Context, attempt_id: UUID, attempt: ExamAttempt | None = None) -> DeskView:
    """The instructions before 'Commencer', the questions while the exam runs (pass the
    attempt when the caller already loaded it: a heartbeat should replay it once)."""
    at = ctx.now()
    attempt = attempt or ctx.store.get(attempt_id, ExamAttempt)
    certification = ctx.catalogue.get(attempt.certification_code)
    questions: tuple[DeskQuestion, ...] = ()
    if attempt.status is AttemptStatus.IN_PROGRESS:
        paper = ctx.catalogue.paper(attempt.certification_code, attempt.bank_hash)
        given = attempt.given_answers()
        questions = tuple(
            DeskQuestion(
                number=number,
                question_id=question.question_id,
                section=question.section,
                kind=question.kind,
                prompt=question.prompt,
                choices=choice_order(question, attempt.seed),
                given=given.get(question.question_id, GivenAnswer()),
            )
            for number, question in enumerate(
                (paper.question(qid) for qid in attempt.question_order), start=1
            )
        )
    return DeskView(
        attempt_id=attempt.id,
        title=certification.title,
        status=attempt.status,
        duration_minutes=attempt.duration_minutes,
        remaining_seconds=attempt.remaining_seconds(at),
        ends_at=attempt.ends_at,
        questions=questions,
        language=ctx.store.get(attempt.candidate_id, Candidate).language,
        extra_minutes=attempt.extra_minutes,
    )


def lockdown_of(ctx: Context, attempt_id: UUID) -> SafeExamBrowser | None:
    """The Safe Exam Browser requirement of an attempt's certification (issue 16), or None.
    The attempt is read only when some certification of the catalogue requires SEB: the
    exam tab's heartbeats of every other platform cost nothing more."""
    if not any(c.safe_exam_browser for c in ctx.catalogue):
        return None
    code = ctx.store.get(attempt_id, ExamAttempt).certification_code
    return ctx.catalogue.get(code).safe_exam_browser
