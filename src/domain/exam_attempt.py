"""Exam attempt (passage): the exam itself in the portal, R11–R18 and R22.

Times are aware datetimes in the candidate's time zone: the same-day rule (R16) reads the
local date.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidArgument, RuleBroken, require, require_aware
from domain.rules import (
    RuleSet,
    check_can_finish_today,
    check_exam_duration,
    check_same_day,
    later,
    utc,
)
from domain.scoring import Results


class AttemptStatus(StrEnum):
    """Where the attempt stands; TO_START is the tile's 'À démarrer' (R13)."""

    TO_START = "to_start"
    TILE_SELECTED = "tile_selected"
    WORKSPACE_REQUESTED = "workspace_requested"
    WORKSPACE_READY = "workspace_ready"
    IN_PROGRESS = "in_progress"
    FINISHED = "finished"
    RESULTS_SHOWN = "results_shown"
    VALIDATED = "validated"
    QUIT = "quit"


_DEFERRABLE = (
    AttemptStatus.TILE_SELECTED,
    AttemptStatus.WORKSPACE_REQUESTED,
    AttemptStatus.WORKSPACE_READY,
)


class ExamAttempt(Aggregate):
    """One exam taken in the portal, opened when the proctored session launches it."""

    session_id: UUID
    candidate_id: UUID
    certification_code: str
    duration_minutes: int
    practice_offered: bool
    rules: RuleSet
    status: AttemptStatus
    begun_at: datetime | None
    ends_at: datetime | None
    finished_at: datetime | None
    answers: dict[str, str]
    practice_scores: tuple[float, ...]
    results: Results | None
    validation_code: str | None
    deferrals: int

    class AttemptOpened(Aggregate.Created):
        session_id: UUID
        candidate_id: UUID
        certification_code: str
        duration_minutes: int
        practice_offered: bool
        rules: RuleSet

    class PracticeQuestionnaireTaken(Aggregate.Event):
        score_percent: float

    class TileSelected(Aggregate.Event):
        certification_code: str

    class WorkspaceRequested(Aggregate.Event):
        pass

    class WorkspaceConnected(Aggregate.Event):
        workspace_ref: str

    class ExamBegun(Aggregate.Event):
        ends_at: datetime

    class ExamDeferred(Aggregate.Event):
        pass

    class AnswerGiven(Aggregate.Event):
        question_id: str
        answer: str

    class ExamFinished(Aggregate.Event):
        ended_by: str
        finished_at: datetime

    class ResultsShown(Aggregate.Event):
        results: Results
        validation_code: str

    class ExamValidated(Aggregate.Event):
        pass

    class ExamQuit(Aggregate.Event):
        pass

    @classmethod
    def open(
        cls,
        *,
        attempt_id: UUID,
        session_id: UUID,
        candidate_id: UUID,
        certification_code: str,
        duration_minutes: int,
        practice_offered: bool,
        rules: RuleSet,
        at: datetime,
    ) -> ExamAttempt:
        """Opened when the third environment recording stops (R10)."""
        require_aware("at", at)
        check_exam_duration(duration_minutes, rules)
        return cls._create(
            cls.AttemptOpened,
            id=attempt_id,
            timestamp=at,
            session_id=session_id,
            candidate_id=candidate_id,
            certification_code=certification_code,
            duration_minutes=duration_minutes,
            practice_offered=practice_offered,
            rules=rules,
        )

    @event(AttemptOpened)
    def __init__(
        self,
        session_id: UUID,
        candidate_id: UUID,
        certification_code: str,
        duration_minutes: int,
        practice_offered: bool,
        rules: RuleSet,
    ) -> None:
        self.session_id = session_id
        self.candidate_id = candidate_id
        self.certification_code = certification_code
        self.duration_minutes = duration_minutes
        self.practice_offered = practice_offered
        self.rules = rules
        self.status = AttemptStatus.TO_START
        self.begun_at = None
        self.ends_at = None
        self.finished_at = None
        self.answers = {}
        self.practice_scores = ()
        self.results = None
        self.validation_code = None
        self.deferrals = 0

    # --- guards --------------------------------------------------------------------------

    def _check(self, at: datetime, *allowed: AttemptStatus, rule: str, doing: str) -> None:
        require_aware("at", at)
        require(self.status is not AttemptStatus.QUIT, "R22", "the certification was quit for good")
        require(
            self.status is not AttemptStatus.VALIDATED,
            "R18",
            "the exam was validated and sent for review",
        )
        if self.status not in allowed:
            raise RuleBroken(rule, f"cannot {doing} now (the attempt is {self.status.value})")

    # --- commands ------------------------------------------------------------------------

    def take_practice_questionnaire(self, *, at: datetime, score_percent: float) -> None:
        """R12: a practice questionnaire, where offered; it never counts."""
        self._check(at, AttemptStatus.TO_START, rule="R12", doing="take the practice questionnaire")
        require(
            self.practice_offered, "R12", "no practice questionnaire is offered on this session"
        )
        if not 0 <= score_percent <= 100:
            raise InvalidArgument("score_percent", "a percentage lies between 0 and 100")
        self._practice_taken(score_percent=score_percent, timestamp=at)

    def select_tile(self, *, at: datetime, certification_code: str, profile_complete: bool) -> None:
        """R13: the exam to start is the tile 'À démarrer'; R11: the profile comes first."""
        self._check(at, AttemptStatus.TO_START, rule="R13", doing="select the tile")
        require(profile_complete, "R11", "complete the portal profile ('Créer') first")
        require(
            certification_code == self.certification_code,
            "R13",
            f"the tile 'À démarrer' is {self.certification_code}, not {certification_code}",
        )
        self._tile_selected(certification_code=certification_code, timestamp=at)

    def start_now(self, *, at: datetime) -> None:
        """R15: 'Je démarre maintenant' asks for the workspace (virtual machine)."""
        self._check(
            at, AttemptStatus.TILE_SELECTED, rule="R15", doing="press 'Je démarre maintenant'"
        )
        self._workspace_requested(timestamp=at)

    def workspace_connected(self, *, at: datetime, workspace_ref: str) -> None:
        """R15: the virtual machine connected; the instructions are shown."""
        self._check(
            at, AttemptStatus.WORKSPACE_REQUESTED, rule="R15", doing="connect the workspace"
        )
        if not workspace_ref.strip():
            raise InvalidArgument("workspace_ref", "the workspace's reference is required")
        self._workspace_connected(workspace_ref=workspace_ref, timestamp=at)

    def begin(self, *, at: datetime) -> datetime:
        """R15: 'Commencer'; R16: refused if the exam could not end before midnight."""
        self._check(at, AttemptStatus.WORKSPACE_READY, rule="R15", doing="press 'Commencer'")
        ends_at = later(at, self.duration_minutes)
        check_can_finish_today(at, ends_at)
        self._begun(ends_at=ends_at, timestamp=at)
        return ends_at

    def defer(self, *, at: datetime) -> None:
        """R14: before 'Commencer' the candidate may leave and come back to the tile."""
        self._check(at, *_DEFERRABLE, rule="R14", doing="defer (only before 'Commencer')")
        self._deferred(timestamp=at)

    def answer(self, *, at: datetime, question_id: str, answer: str) -> None:
        """Answers are recorded as given; the last one for a question counts."""
        self._check(at, AttemptStatus.IN_PROGRESS, rule="R15", doing="answer")
        assert self.begun_at is not None and self.ends_at is not None
        check_same_day(self.begun_at, at, "an answer")
        require(
            utc(at) <= utc(self.ends_at), "R4", f"the exam's time ended at {self.ends_at:%H:%M}"
        )
        if not question_id.strip():
            raise InvalidArgument("question_id", "a question id is required")
        self._answered(question_id=question_id, answer=answer, timestamp=at)

    def finish(self, *, at: datetime) -> None:
        """The exam ends: by the candidate, or at the time limit when that has passed."""
        self._check(at, AttemptStatus.IN_PROGRESS, rule="R18", doing="finish")
        assert self.ends_at is not None and self.begun_at is not None
        if utc(at) >= utc(self.ends_at):
            self._finished(ended_by="time_limit", finished_at=self.ends_at, timestamp=at)
        else:
            check_same_day(self.begun_at, at, "finishing")
            self._finished(ended_by="candidate", finished_at=at, timestamp=at)

    def show_results(self, *, at: datetime, results: Results, validation_code: str) -> None:
        """R18: detailed results full screen, with the code to type back."""
        self._check(at, AttemptStatus.FINISHED, rule="R18", doing="show the results")
        if not validation_code.strip():
            raise InvalidArgument("validation_code", "a validation code is required")
        self._results_shown(results=results, validation_code=validation_code.strip(), timestamp=at)

    def validate(self, *, at: datetime, typed_code: str) -> None:
        """R18: 'Valider l'examen', the displayed code typed back, 'Oui, envoyer'."""
        self._check(
            at,
            AttemptStatus.RESULTS_SHOWN,
            rule="R14",
            doing="use 'Valider l'examen' (only after the exam)",
        )
        require(
            typed_code.strip() == self.validation_code,
            "R18",
            "the typed code differs from the displayed one",
        )
        self._validated(timestamp=at)

    def quit(self, *, at: datetime) -> None:
        """R22: 'Quitter la certification' then 'Quitter': no return."""
        self._check(
            at,
            *(s for s in AttemptStatus if s not in (AttemptStatus.VALIDATED, AttemptStatus.QUIT)),
            rule="R22",
            doing="quit",
        )
        self._quit(timestamp=at)

    # --- event appliers ------------------------------------------------------------------

    @event(PracticeQuestionnaireTaken)
    def _practice_taken(self, score_percent: float, timestamp: datetime) -> None:
        self.practice_scores = (*self.practice_scores, score_percent)

    @event(TileSelected)
    def _tile_selected(self, certification_code: str, timestamp: datetime) -> None:
        self.status = AttemptStatus.TILE_SELECTED

    @event(WorkspaceRequested)
    def _workspace_requested(self, timestamp: datetime) -> None:
        self.status = AttemptStatus.WORKSPACE_REQUESTED

    @event(WorkspaceConnected)
    def _workspace_connected(self, workspace_ref: str, timestamp: datetime) -> None:
        self.status = AttemptStatus.WORKSPACE_READY

    @event(ExamBegun)
    def _begun(self, ends_at: datetime, timestamp: datetime) -> None:
        self.status = AttemptStatus.IN_PROGRESS
        self.begun_at = timestamp
        self.ends_at = ends_at

    @event(ExamDeferred)
    def _deferred(self, timestamp: datetime) -> None:
        self.status = AttemptStatus.TO_START
        self.deferrals += 1

    @event(AnswerGiven)
    def _answered(self, question_id: str, answer: str, timestamp: datetime) -> None:
        self.answers = {**self.answers, question_id: answer}

    @event(ExamFinished)
    def _finished(self, ended_by: str, finished_at: datetime, timestamp: datetime) -> None:
        self.status = AttemptStatus.FINISHED
        self.finished_at = finished_at

    @event(ResultsShown)
    def _results_shown(self, results: Results, validation_code: str, timestamp: datetime) -> None:
        self.status = AttemptStatus.RESULTS_SHOWN
        self.results = results
        self.validation_code = validation_code

    @event(ExamValidated)
    def _validated(self, timestamp: datetime) -> None:
        self.status = AttemptStatus.VALIDATED

    @event(ExamQuit)
    def _quit(self, timestamp: datetime) -> None:
        self.status = AttemptStatus.QUIT
