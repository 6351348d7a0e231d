"""Exam attempt (passage): the exam itself in the portal, R11–R18 and R22.

Times are aware datetimes in the candidate's time zone: the same-day rule (R16) reads the
local date.

Two bounds come from outside the attempt:

- R4's budget: the proctored session's 3 hours (plus an accommodation's extra time) run from
  its first entry. The session's budget end is fixed before the attempt opens (entry comes
  first, accommodations are refused after it), so it is frozen into ``AttemptOpened``: the
  attempt's own history explains every refusal it gives, and an answer needs no other stream.
  The exam ends at the earlier of its own end and the budget's end.
- R1/R3: the enrolment's last day and the exam session's validity are renewable, so they are
  read from the enrolment when the command is given and passed in (``ExamWindow``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.bounds import bounded
from domain.errors import InvalidArgument, RuleBroken, require, require_aware
from domain.exam_paper import presentation_order
from domain.rules import (
    RuleSet,
    check_can_finish_today,
    check_exam_duration,
    check_same_day,
    later,
    utc,
)
from domain.scoring import GivenAnswer, Results


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


# A question offers a handful of options; more ticks than this is a script, not a person.
MAX_CHOICES = 50

_DEFERRABLE = (
    AttemptStatus.TILE_SELECTED,
    AttemptStatus.WORKSPACE_REQUESTED,
    AttemptStatus.WORKSPACE_READY,
)


@dataclass(frozen=True)
class ExamWindow:
    """R1/R3: the local days (centre's time zone) an exam may be begun, answered and sent on,
    read from the enrolment when the command is given: the enrolment's last day, inclusive
    (R1), and the exam session's current validity, renewable (R3)."""

    last_day: date
    valid_until: date | None

    def check(self, at: datetime, doing: str) -> None:
        """Refuse `doing` on a day outside the window (the day of `at`, in its own zone)."""
        day = at.date()
        require(
            day <= self.last_day,
            "R1",
            f"the enrolment ended on {self.last_day:%d/%m/%Y} (last day inclusive): "
            f"you can no longer {doing}",
        )
        if self.valid_until is None or day > self.valid_until:
            until = f" (it was valid until {self.valid_until:%d/%m/%Y})" if self.valid_until else ""
            raise RuleBroken(
                "R3",
                f"the exam session is no longer valid{until}: you can no longer {doing}; "
                "ask for a renewal",
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
    deferred_at: datetime | None  # `last_deferral`: a snapshot taken before it has none
    question_ids: tuple[str, ...]
    bank_hash: str
    seed: str
    question_order: tuple[str, ...]
    choices_given: dict[str, tuple[str, ...]]
    workspace_ref: str | None
    workspace_url: str
    workspace_pending: bool
    # Accommodations: extra minutes on top of the certification's duration (a class default
    # keeps older snapshots readable).
    extra_minutes: int = 0
    # R4: when the proctored session's budget ends (None for attempts opened before it was
    # frozen here), and the enrolment the attempt belongs to (R1/R3 read it).
    budget_ends_at: datetime | None = None
    enrollment_id: UUID | None = None

    class AttemptOpened(Aggregate.Created):
        session_id: UUID
        candidate_id: UUID
        certification_code: str
        duration_minutes: int
        practice_offered: bool
        rules: RuleSet
        question_ids: tuple[str, ...] = ()
        bank_hash: str = ""
        extra_minutes: int = 0
        budget_ends_at: datetime | None = None
        enrollment_id: UUID | None = None

    class PracticeQuestionnaireTaken(Aggregate.Event):
        score_percent: float

    class TileSelected(Aggregate.Event):
        certification_code: str

    class WorkspaceRequested(Aggregate.Event):
        pass

    class WorkspaceConnected(Aggregate.Event):
        workspace_ref: str
        url: str = ""

    class WorkspaceFailed(Aggregate.Event):
        reason: str

    class WorkspaceLost(Aggregate.Event):
        workspace_ref: str
        reason: str

    class WorkspaceTornDown(Aggregate.Event):
        workspace_ref: str

    class WorkspaceLeft(Aggregate.Event):
        """R23's « Quitter » in the exam tab: the candidate left it on purpose (not lost)."""

        workspace_ref: str

    class ExamBegun(Aggregate.Event):
        ends_at: datetime
        seed: str = ""
        question_order: tuple[str, ...] = ()

    class ExamDeferred(Aggregate.Event):
        pass

    class AnswerGiven(Aggregate.Event):
        question_id: str
        answer: str
        choices: tuple[str, ...] = ()

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
        question_ids: tuple[str, ...] = (),
        bank_hash: str = "",
        extra_minutes: int = 0,
        budget_ends_at: datetime | None = None,
        enrollment_id: UUID | None = None,
    ) -> ExamAttempt:
        """Opened when the third environment recording stops (R10), with the paper's
        question ids and the hash of the bank they come from, the extra minutes an
        accommodation grants on top of the certification's duration, and when the
        proctored session's budget ends (R4)."""
        require_aware("at", at)
        if budget_ends_at is not None:
            require_aware("budget_ends_at", budget_ends_at)
        check_exam_duration(duration_minutes, rules)
        if extra_minutes < 0:
            raise InvalidArgument("extra_minutes", "extra time cannot be negative")
        if len(set(question_ids)) != len(question_ids):
            raise InvalidArgument("question_ids", "a question appears once in a paper")
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
            question_ids=question_ids,
            bank_hash=bank_hash,
            extra_minutes=extra_minutes,
            budget_ends_at=budget_ends_at,
            enrollment_id=enrollment_id,
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
        question_ids: tuple[str, ...],
        bank_hash: str,
        extra_minutes: int = 0,
        budget_ends_at: datetime | None = None,
        enrollment_id: UUID | None = None,
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
        self.deferred_at = None
        self.question_ids = question_ids
        self.bank_hash = bank_hash
        self.seed = ""
        self.question_order = ()
        self.choices_given = {}
        self.workspace_ref = None
        self.workspace_url = ""
        self.workspace_pending = False
        self.extra_minutes = extra_minutes
        self.budget_ends_at = budget_ends_at
        self.enrollment_id = enrollment_id

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

    def reopen_workspace(self, *, at: datetime) -> None:
        """R23: after a blocked screen or a lost workspace, the exam resumes in a new one;
        the time keeps running on the server's clock."""
        self._check(at, AttemptStatus.IN_PROGRESS, rule="R23", doing="reopen the workspace")
        assert self.ends_at is not None
        require(utc(at) < utc(self.ends_at), "R4", self._time_up())
        require(not self.workspace_pending, "R23", "the workspace is already being prepared")
        self._workspace_requested(timestamp=at)

    def workspace_connected(self, *, at: datetime, workspace_ref: str, url: str = "") -> None:
        """R15: the virtual machine connected; the instructions are shown."""
        self._check(
            at,
            AttemptStatus.WORKSPACE_REQUESTED,
            AttemptStatus.IN_PROGRESS,
            rule="R15",
            doing="connect the workspace",
        )
        require(self.workspace_pending, "R15", "no workspace was asked for")
        if not workspace_ref.strip():
            raise InvalidArgument("workspace_ref", "the workspace's reference is required")
        self._workspace_connected(workspace_ref=workspace_ref, url=url, timestamp=at)

    def workspace_failed(self, *, at: datetime, reason: str) -> None:
        """The workspace did not start: the candidate may press 'Je démarre maintenant'
        again (or, during the exam, reopen it)."""
        require_aware("at", at)
        require(self.workspace_pending, "R15", "no workspace was being prepared")
        self._workspace_failed(reason=reason.strip() or "unknown", timestamp=at)

    def workspace_lost(self, *, at: datetime, reason: str) -> None:
        """The workspace stopped answering (closed tab, crashed machine, lost network)."""
        require_aware("at", at)
        require(self.workspace_ref is not None, "R15", "there is no workspace to lose")
        assert self.workspace_ref is not None
        self._workspace_lost(
            workspace_ref=self.workspace_ref, reason=reason.strip() or "unknown", timestamp=at
        )

    def leave_workspace(self, *, at: datetime) -> bool:
        """R23: « Quitter » in the exam tab, the candidate's own act: recorded as hers, never
        as a lost tab, and the workspace can be reopened (the time keeps running). Nothing
        to record when the exam is over or its tab already gone (she still leaves it).
        True when something was recorded."""
        require_aware("at", at)
        if self.status is not AttemptStatus.IN_PROGRESS or self.workspace_ref is None:
            return False
        self._workspace_left(workspace_ref=self.workspace_ref, timestamp=at)
        return True

    def workspace_torn_down(self, *, at: datetime) -> None:
        """The workspace was destroyed at the end of the attempt."""
        require_aware("at", at)
        if self.workspace_ref is not None:
            self._workspace_torn_down(workspace_ref=self.workspace_ref, timestamp=at)

    def begin(self, *, at: datetime, window: ExamWindow, seed: str = "") -> datetime:
        """R15: 'Commencer'; R1/R3: within the enrolment and the session's validity; R4: the
        exam ends at its own end or the budget's end, whichever comes first; R16: refused if
        it could not end before midnight. The seed fixes the order of the questions."""
        self._check(at, AttemptStatus.WORKSPACE_READY, rule="R15", doing="press 'Commencer'")
        window.check(at, "begin the exam")
        budget = self.budget_ends_at
        if budget is not None and utc(at) >= utc(budget):
            raise RuleBroken(
                "R4",
                f"the proctored session's time ({self._budget_text}) ran out at "
                f"{budget:%H:%M}: the exam can no longer begin",
            )
        ends_at = later(at, self.accommodated_minutes)
        if budget is not None and utc(budget) < utc(ends_at):
            ends_at = budget.astimezone(at.tzinfo)
        check_can_finish_today(at, ends_at)
        order = presentation_order(self.question_ids, seed) if seed else self.question_ids
        self._begun(ends_at=ends_at, seed=seed, question_order=order, timestamp=at)
        return ends_at

    @property
    def _budget_text(self) -> str:
        """'3 hours', with the accommodation's extra time when there is some (R4)."""
        hours = f"{self.rules.session_budget_minutes // 60} hours"
        return f"{hours} plus {self.extra_minutes} minutes" if self.extra_minutes else hours

    @property
    def ended_by_budget(self) -> bool:
        """Whether the exam's end is the budget's (R4), not its own duration."""
        return (
            self.ends_at is not None
            and self.budget_ends_at is not None
            and utc(self.ends_at) == utc(self.budget_ends_at)
        )

    @property
    def _limit(self) -> str:
        """How a time limit ended the exam: its duration, or the session's budget (R4)."""
        return "budget" if self.ended_by_budget else "time_limit"

    def _time_up(self) -> str:
        assert self.ends_at is not None
        if self.ended_by_budget:
            return (
                f"the proctored session's time ({self._budget_text}) ran out at "
                f"{self.ends_at:%H:%M}"
            )
        return f"the exam's time ended at {self.ends_at:%H:%M}"

    @property
    def accommodated_minutes(self) -> int:
        """The exam's duration with the accommodation's extra time (R4)."""
        return self.duration_minutes + self.extra_minutes

    def remaining_seconds(self, at: datetime) -> float:
        """The exam's time left on the server's clock (0 before the start or after the end)."""
        if self.ends_at is None or self.status is not AttemptStatus.IN_PROGRESS:
            return 0.0
        return max(0.0, (utc(self.ends_at) - utc(at)).total_seconds())

    def last_deferral(self) -> datetime | None:
        """When the candidate last deferred (R14): the portal's « Exam deferred » is for one
        who has not come back since. (Kept out of the class's fields: they are the created
        event's; a snapshot taken before it was kept has none.)"""
        value: datetime | None = self.__dict__.get("deferred_at")
        return value

    def defer(self, *, at: datetime) -> None:
        """R14: before 'Commencer' the candidate may leave and come back to the tile."""
        self._check(at, *_DEFERRABLE, rule="R14", doing="defer (only before 'Commencer')")
        self._deferred(timestamp=at)

    def answer(
        self,
        *,
        at: datetime,
        window: ExamWindow,
        question_id: str,
        answer: str = "",
        choices: tuple[str, ...] = (),
    ) -> None:
        """Answers are recorded as given, until the exam's end (its own or the budget's, R4)
        and within the enrolment and the session's validity (R1/R3); the last one counts."""
        self._check(at, AttemptStatus.IN_PROGRESS, rule="R15", doing="answer")
        assert self.begun_at is not None and self.ends_at is not None
        check_same_day(self.begun_at, at, "an answer")
        require(utc(at) <= utc(self.ends_at), "R4", self._time_up())
        window.check(at, "answer")
        if not question_id.strip():
            raise InvalidArgument("question_id", "a question id is required")
        if self.question_ids and question_id not in self.question_ids:
            raise InvalidArgument("question_id", f"no question {question_id!r} in this paper")
        if len(set(choices)) != len(choices):
            raise InvalidArgument("choices", "a choice is ticked once")
        bounded("answer", answer)
        if len(choices) > MAX_CHOICES:
            raise InvalidArgument("choices", f"at most {MAX_CHOICES} choices per question")
        self._answered(question_id=question_id, answer=answer, choices=choices, timestamp=at)

    def close_at_time_limit(self, *, at: datetime) -> bool:
        """The server ends an exam whose time is up, or that reached midnight (R4, R16)."""
        if self.status is not AttemptStatus.IN_PROGRESS:
            return False
        assert self.ends_at is not None and self.begun_at is not None
        if utc(at) >= utc(self.ends_at):
            self._finished(ended_by=self._limit, finished_at=self.ends_at, timestamp=at)
            return True
        if at.date() != self.begun_at.date():
            self._finished(ended_by="midnight", finished_at=at, timestamp=at)
            return True
        return False

    def finish(self, *, at: datetime) -> None:
        """The exam ends: by the candidate, or at the time limit when that has passed."""
        self._check(at, AttemptStatus.IN_PROGRESS, rule="R18", doing="finish")
        assert self.ends_at is not None and self.begun_at is not None
        if utc(at) >= utc(self.ends_at):
            self._finished(ended_by=self._limit, finished_at=self.ends_at, timestamp=at)
        else:
            check_same_day(self.begun_at, at, "finishing")
            self._finished(ended_by="candidate", finished_at=at, timestamp=at)

    def show_results(self, *, at: datetime, results: Results, validation_code: str) -> None:
        """R18: detailed results full screen, with the code to type back."""
        self._check(at, AttemptStatus.FINISHED, rule="R18", doing="show the results")
        if not validation_code.strip():
            raise InvalidArgument("validation_code", "a validation code is required")
        self._results_shown(results=results, validation_code=validation_code.strip(), timestamp=at)

    def validate(self, *, at: datetime, window: ExamWindow, typed_code: str) -> None:
        """R18: 'Valider l'examen', the displayed code typed back, 'Oui, envoyer'; R1/R3:
        within the enrolment and the session's validity."""
        self._check(
            at,
            AttemptStatus.RESULTS_SHOWN,
            rule="R14",
            doing="use 'Valider l'examen' (only after the exam)",
        )
        window.check(at, "send the exam")
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
        if self.status is AttemptStatus.TILE_SELECTED:
            self.status = AttemptStatus.WORKSPACE_REQUESTED
        self.workspace_pending = True

    @event(WorkspaceConnected)
    def _workspace_connected(self, workspace_ref: str, url: str, timestamp: datetime) -> None:
        if self.status is AttemptStatus.WORKSPACE_REQUESTED:
            self.status = AttemptStatus.WORKSPACE_READY
        self.workspace_ref = workspace_ref
        self.workspace_url = url
        self.workspace_pending = False

    @event(WorkspaceFailed)
    def _workspace_failed(self, reason: str, timestamp: datetime) -> None:
        if self.status is AttemptStatus.WORKSPACE_REQUESTED:
            self.status = AttemptStatus.TILE_SELECTED
        self.workspace_pending = False

    @event(WorkspaceLost)
    def _workspace_lost(self, workspace_ref: str, reason: str, timestamp: datetime) -> None:
        self.workspace_ref = None
        self.workspace_url = ""

    @event(WorkspaceTornDown)
    def _workspace_torn_down(self, workspace_ref: str, timestamp: datetime) -> None:
        self.workspace_ref = None
        self.workspace_url = ""

    @event(WorkspaceLeft)
    def _workspace_left(self, workspace_ref: str, timestamp: datetime) -> None:
        self.workspace_ref = None
        self.workspace_url = ""

    @event(ExamBegun)
    def _begun(
        self, ends_at: datetime, seed: str, question_order: tuple[str, ...], timestamp: datetime
    ) -> None:
        self.status = AttemptStatus.IN_PROGRESS
        self.begun_at = timestamp
        self.ends_at = ends_at
        self.seed = seed
        self.question_order = question_order

    @event(ExamDeferred)
    def _deferred(self, timestamp: datetime) -> None:
        self.status = AttemptStatus.TO_START
        self.deferrals += 1
        self.deferred_at = timestamp
        self.workspace_pending = False

    @event(AnswerGiven)
    def _answered(
        self, question_id: str, answer: str, choices: tuple[str, ...], timestamp: datetime
    ) -> None:
        self.answers = {**self.answers, question_id: answer}
        self.choices_given = {**self.choices_given, question_id: choices}

    def given_answers(self) -> dict[str, GivenAnswer]:
        """The last answer to each question, as scoring reads it."""
        return {
            qid: GivenAnswer(text=text, choices=self.choices_given.get(qid, ()))
            for qid, text in self.answers.items()
        }

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
