"""ExamAttempt against a small model: the portal's buttons in any order.

R12 practice only where offered, R11 the profile before R13 the tile "À démarrer", R15
"Je démarre maintenant" → workspace → "Commencer", R14 defer only before "Commencer", R16
"Commencer" refused when the exam could not end before midnight, R4 no answer after the time
limit — the exam's own end or the proctored session's 3-hour budget, whichever comes first —
R1/R3 nothing begun, answered or sent after the enrolment's last day or outside the exam
session's validity (renewals move it), R18 results then the displayed code typed back, R22
quitting is final.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.errors import RuleBroken
from domain.exam_attempt import AttemptStatus, ExamAttempt, ExamWindow
from domain.rules import CURRENT_RULES
from domain.scoring import KeyedQuestion, score
from tests.property.aggregate_checks import expect_refusal, expect_success, replay, state_of

CERTIFICATION = "ACCESS-2019"
ANSWER_KEY = (
    KeyedQuestion("q1", "tables", ("clé primaire",)),
    KeyedQuestion("q2", "requêtes", ("jointure",)),
    KeyedQuestion("q3", "formulaires", ("sous-formulaire",)),
)
PASS_MARK = 70
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

# Zones without a clock change in the generated weeks: the change itself has its own test.
TIME_ZONES = ("Europe/Paris", "UTC", "America/Cayenne", "Indian/Reunion")
SUMMER = (date(2025, 4, 7), date(2025, 10, 10))

BEFORE_COMMENCER = {"tile_selected", "workspace_requested", "workspace_ready"}
ALL_STATES = {
    "to_start",
    *BEFORE_COMMENCER,
    "in_progress",
    "finished",
    "results_shown",
    "validated",
    "quit",
}


@dataclass
class AttemptModel:
    """The portal's journey as the guide tells it; times are real instants (UTC)."""

    duration: timedelta
    practice_offered: bool
    budget_end: datetime | None
    last_day: date
    valid_until: date
    status: str = "to_start"
    begun: datetime | None = None
    begun_day: date | None = None
    ends: datetime | None = None
    finished: datetime | None = None
    answers: dict[str, str] = field(default_factory=dict)
    practice_scores: list[float] = field(default_factory=list)
    code: str | None = None
    deferrals: int = 0

    def gate(self, allowed: set[str], rule: str) -> str | None:
        """Quit is final (R22) and a validated exam is sent (R18) before any other rule."""
        if self.status == "quit":
            return "R22"
        if self.status == "validated":
            return "R18"
        return None if self.status in allowed else rule

    def window(self, day: date) -> str | None:
        """R1 (the enrolment's last day, inclusive) before R3 (the session's validity)."""
        if day > self.last_day:
            return "R1"
        return "R3" if day > self.valid_until else None


# Answering or finishing often comes after a while: near, at or past the limit and midnight.
later = st.one_of(st.just(0), st.integers(1, 240))

Outcome = str | None  # a rule id, "invalid:<field>", or None when the command succeeds


class ExamAttemptMachine(RuleBasedStateMachine):
    """A candidate in the portal pressing any button at any time."""

    def __init__(self) -> None:
        super().__init__()
        self.attempt: ExamAttempt | None = None
        self.log: list[Any] = []

    # --- helpers -------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.clock.astimezone(self.zone)

    def _run(self, command: Callable[[], object], expected: Outcome) -> bool:
        """Check the model's prediction; True when the command went through."""
        if expected is None:
            expect_success(self.attempt, command, self.log)
            return True
        event(f"refused: {expected}")  # --hypothesis-show-statistics: which rules were hit
        expect_refusal(self.attempt, command, expected)
        return False

    # --- setup ---------------------------------------------------------------------------

    @initialize(
        zone=st.sampled_from(TIME_ZONES),
        day=st.dates(*SUMMER),
        hour=st.one_of(st.integers(0, 23), st.integers(20, 23)),  # late evenings test R16
        minute=st.integers(0, 59),
        duration=st.integers(60, 150),
        extra=st.sampled_from([0, 0, 20, 50]),
        budget_left=st.one_of(st.none(), st.integers(0, 200)),
        days_left=st.integers(0, 2),
        validity_left=st.integers(0, 2),
        practice_offered=st.booleans(),
        ids=st.lists(st.uuids(), min_size=3, max_size=3, unique=True),
    )
    def open_the_attempt(
        self,
        zone: str,
        day: date,
        hour: int,
        minute: int,
        duration: int,
        extra: int,
        budget_left: int | None,
        days_left: int,
        validity_left: int,
        practice_offered: bool,
        ids: list[UUID],
    ) -> None:
        """`budget_left`: minutes of the proctored session's budget left when the attempt
        opens (None: an attempt opened before the budget was frozen into it)."""
        self.zone = ZoneInfo(zone)
        self.clock = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)
        self.clock = self.clock.astimezone(UTC)
        budget_end = None if budget_left is None else self.clock + timedelta(minutes=budget_left)
        last_day = day + timedelta(days=days_left)
        self.model = AttemptModel(
            duration=timedelta(minutes=duration + extra),
            practice_offered=practice_offered,
            budget_end=budget_end,
            last_day=last_day,
            valid_until=min(day + timedelta(days=validity_left), last_day),
        )
        self.attempt = ExamAttempt.open(
            attempt_id=ids[0],
            session_id=ids[1],
            candidate_id=ids[2],
            certification_code=CERTIFICATION,
            duration_minutes=duration,
            practice_offered=practice_offered,
            rules=CURRENT_RULES,
            at=self.now,
            extra_minutes=extra,
            budget_ends_at=None if budget_end is None else budget_end.astimezone(self.zone),
        )
        self.log.extend(self.attempt.collect_events())

    @property
    def window(self) -> ExamWindow:
        """What the use case reads from the enrolment when the command is given."""
        return ExamWindow(last_day=self.model.last_day, valid_until=self.model.valid_until)

    # --- time ----------------------------------------------------------------------------

    @rule(minutes=st.one_of(st.integers(0, 30), st.integers(30, 240)))
    def time_passes(self, minutes: int) -> None:
        self.clock += timedelta(minutes=minutes)

    @rule(days=st.integers(1, 15))
    def the_exam_session_is_renewed_r3(self, days: int) -> None:
        """A renewal on the enrolment: the attempt reads the new validity at the next command."""
        self.model.valid_until = min(
            self.model.valid_until + timedelta(days=days), self.model.last_day
        )

    # --- before the exam -----------------------------------------------------------------

    @rule(score_percent=st.one_of(st.floats(0, 100), st.sampled_from([-1.0, 100.5])))
    def take_the_practice_questionnaire_r12(self, score_percent: float) -> None:
        attempt, at, model = self.attempt, self.now, self.model
        assert attempt is not None
        expected = model.gate({"to_start"}, "R12")
        if expected is None and not model.practice_offered:
            expected = "R12"
        if expected is None and not 0 <= score_percent <= 100:
            expected = "invalid:score_percent"

        def command() -> None:
            attempt.take_practice_questionnaire(at=at, score_percent=score_percent)

        if self._run(command, expected):
            model.practice_scores.append(score_percent)

    @rule(right_tile=st.booleans(), profile_complete=st.booleans())
    def select_the_tile_a_demarrer_r11_r13(self, right_tile: bool, profile_complete: bool) -> None:
        attempt, at, model = self.attempt, self.now, self.model
        assert attempt is not None
        code = CERTIFICATION if right_tile else "WORD-2019"
        expected = model.gate({"to_start"}, "R13")
        if expected is None and not profile_complete:
            expected = "R11"
        if expected is None and not right_tile:
            expected = "R13"

        def command() -> None:
            attempt.select_tile(at=at, certification_code=code, profile_complete=profile_complete)

        if self._run(command, expected):
            model.status = "tile_selected"

    @rule()
    def press_je_demarre_maintenant_r15(self) -> None:
        attempt, at, model = self.attempt, self.now, self.model
        assert attempt is not None
        if self._run(lambda: attempt.start_now(at=at), model.gate({"tile_selected"}, "R15")):
            model.status = "workspace_requested"

    @rule(workspace_ref=st.sampled_from(["vm-17", "  "]))
    def the_virtual_machine_connects_r15(self, workspace_ref: str) -> None:
        attempt, at, model = self.attempt, self.now, self.model
        assert attempt is not None
        expected = model.gate({"workspace_requested"}, "R15")
        if expected is None and not workspace_ref.strip():
            expected = "invalid:workspace_ref"

        def command() -> None:
            attempt.workspace_connected(at=at, workspace_ref=workspace_ref)

        if self._run(command, expected):
            model.status = "workspace_ready"

    @rule()
    def press_commencer_only_if_the_exam_ends_before_midnight_r16(self) -> None:
        attempt, at, model = self.attempt, self.now, self.model
        assert attempt is not None
        expected = model.gate({"workspace_ready"}, "R15") or model.window(at.date())
        budget = model.budget_end
        if expected is None and budget is not None and self.clock >= budget:
            expected = "R4"
        ends = self.clock + model.duration
        if budget is not None:
            ends = min(ends, budget)
        if expected is None and ends.astimezone(self.zone).date() != at.date():
            expected = "R16"
        window = self.window
        if self._run(lambda: attempt.begin(at=at, window=window), expected):
            model.status = "in_progress"
            model.begun, model.begun_day, model.ends = self.clock, at.date(), ends

    @rule()
    def defer_only_before_commencer_r14(self) -> None:
        attempt, at, model = self.attempt, self.now, self.model
        assert attempt is not None
        if self._run(lambda: attempt.defer(at=at), model.gate(BEFORE_COMMENCER, "R14")):
            model.status = "to_start"
            model.deferrals += 1

    # --- during and after the exam -------------------------------------------------------

    @rule(
        question_id=st.sampled_from(["q1", "q2", "q3", " "]),
        text=st.sampled_from(["clé primaire", "Jointure", "sous-formulaire", "je ne sais pas"]),
        minutes_later=later,
    )
    def answer_a_question_before_the_time_limit_r4(
        self, question_id: str, text: str, minutes_later: int = 0
    ) -> None:
        self.clock += timedelta(minutes=minutes_later)
        attempt, at, model = self.attempt, self.now, self.model
        assert attempt is not None
        expected = model.gate({"in_progress"}, "R15")
        if expected is None and at.date() != model.begun_day:
            expected = "R16"
        if expected is None and model.ends is not None and self.clock > model.ends:
            expected = "R4"
        expected = expected or model.window(at.date())
        if expected is None and not question_id.strip():
            expected = "invalid:question_id"
        window = self.window

        def command() -> None:
            attempt.answer(at=at, window=window, question_id=question_id, answer=text)

        if self._run(command, expected):
            model.answers[question_id] = text

    @rule(minutes_later=later)
    def finish_the_exam(self, minutes_later: int = 0) -> None:
        self.clock += timedelta(minutes=minutes_later)
        attempt, at, model = self.attempt, self.now, self.model
        assert attempt is not None
        expected = model.gate({"in_progress"}, "R18")
        at_time_limit = model.ends is not None and self.clock >= model.ends
        if expected is None and not at_time_limit and at.date() != model.begun_day:
            expected = "R16"
        if self._run(lambda: attempt.finish(at=at), expected):
            model.status = "finished"
            model.finished = model.ends if at_time_limit else self.clock
            by_budget = model.ends is not None and model.ends == model.budget_end
            ended_by = ("budget" if by_budget else "time_limit") if at_time_limit else "candidate"
            assert self.log[-1].ended_by == ended_by

    @rule(code=st.one_of(st.text(CODE_ALPHABET, min_size=6, max_size=6), st.just(" ")))
    def show_the_detailed_results_r18(self, code: str) -> None:
        attempt, at, model = self.attempt, self.now, self.model
        assert attempt is not None
        expected = model.gate({"finished"}, "R18")
        if expected is None and not code.strip():
            expected = "invalid:validation_code"
        results = score(model.answers, ANSWER_KEY, PASS_MARK)

        def command() -> None:
            attempt.show_results(at=at, results=results, validation_code=code)

        if self._run(command, expected):
            model.status = "results_shown"
            model.code = code
            assert attempt.results == results

    @rule(typed=st.sampled_from(["as displayed", "with spaces around", "mistyped"]))
    def type_back_the_displayed_code_r18(self, typed: str) -> None:
        attempt, at, model = self.attempt, self.now, self.model
        assert attempt is not None
        displayed = model.code or "ABC234"
        text = {
            "as displayed": displayed,
            "with spaces around": f"  {displayed} ",
            "mistyped": displayed[::-1] + "X",
        }[typed]
        expected = model.gate({"results_shown"}, "R14") or model.window(at.date())
        if expected is None and typed == "mistyped":
            expected = "R18"
        window = self.window
        if self._run(lambda: attempt.validate(at=at, window=window, typed_code=text), expected):
            model.status = "validated"

    @rule()
    def quit_the_certification_for_good_r22(self) -> None:
        attempt, at, model = self.attempt, self.now, self.model
        assert attempt is not None
        if self._run(lambda: attempt.quit(at=at), model.gate(ALL_STATES, "R22")):
            model.status = "quit"

    @rule(steps=st.integers(1, 10), finish=st.booleans(), pause=later)
    def follow_the_guide_for_a_while(self, steps: int, finish: bool, pause: int) -> None:
        """Without this, random presses seldom get past "Commencer" to the results."""
        path = {
            "to_start": lambda: self.select_the_tile_a_demarrer_r11_r13(True, True),
            "tile_selected": self.press_je_demarre_maintenant_r15,
            "workspace_requested": lambda: self.the_virtual_machine_connects_r15("vm-17"),
            "workspace_ready": self.press_commencer_only_if_the_exam_ends_before_midnight_r16,
            "finished": lambda: self.show_the_detailed_results_r18("K7P2QX"),
            "results_shown": lambda: self.type_back_the_displayed_code_r18("as displayed"),
        }
        for n in range(steps):
            self.clock += timedelta(minutes=2)
            if self.model.status == "in_progress":
                question = f"q{n % 3 + 1}"
                self.answer_a_question_before_the_time_limit_r4(question, "jointure", pause)
                pause = 0
                if finish:
                    self.finish_the_exam()
                elif n == steps - 1:
                    return
            elif self.model.status in path:
                path[self.model.status]()
            else:
                return

    # --- invariants ----------------------------------------------------------------------

    @invariant()
    def replaying_the_log_rebuilds_the_live_state(self) -> None:
        if self.attempt is None:
            return
        assert state_of(replay(self.log)) == state_of(self.attempt)

    @invariant()
    def the_attempt_matches_its_model(self) -> None:
        attempt = self.attempt
        if attempt is None:
            return
        model = self.model
        assert attempt.status is AttemptStatus(model.status)
        assert attempt.begun_at == model.begun
        assert attempt.ends_at == model.ends
        assert attempt.finished_at == model.finished
        assert attempt.answers == model.answers
        assert list(attempt.practice_scores) == model.practice_scores
        assert attempt.validation_code == model.code
        assert attempt.deferrals == model.deferrals

    @invariant()
    def an_exam_is_begun_and_ended_on_the_same_day_r16_within_the_budget_r4(self) -> None:
        attempt = self.attempt
        if attempt is None or attempt.begun_at is None:
            return
        assert attempt.ends_at is not None
        length = timedelta(minutes=attempt.accommodated_minutes)
        assert attempt.ends_at - attempt.begun_at <= length
        if attempt.budget_ends_at is not None:
            assert attempt.ends_at <= attempt.budget_ends_at
            assert attempt.ends_at in (attempt.begun_at + length, attempt.budget_ends_at)
        else:
            assert attempt.ends_at - attempt.begun_at == length
        assert attempt.ends_at.date() == attempt.begun_at.date()
        if attempt.finished_at is not None:
            assert attempt.begun_at <= attempt.finished_at <= attempt.ends_at

    @invariant()
    def practice_never_counts_and_needs_an_offer_r12(self) -> None:
        attempt = self.attempt
        if attempt is None:
            return
        if attempt.practice_scores:
            assert attempt.practice_offered
        assert (attempt.results is None) is (attempt.validation_code is None)


ExamAttemptMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None
)
TestAnExamAttemptBehavesLikeTheGuidesModel = ExamAttemptMachine.TestCase


PARIS = ZoneInfo("Europe/Paris")


def test_no_answer_after_the_time_limit_r4_across_the_autumn_clock_change() -> None:
    begun = datetime(2025, 10, 25, 23, 30, tzinfo=UTC).astimezone(PARIS)  # 01:30+02:00
    late = datetime(2025, 10, 26, 1, 15, tzinfo=UTC).astimezone(PARIS)  # 02:15+01:00
    attempt = ExamAttempt.open(
        attempt_id=UUID(int=1),
        session_id=UUID(int=2),
        candidate_id=UUID(int=3),
        certification_code=CERTIFICATION,
        duration_minutes=60,
        practice_offered=False,
        rules=CURRENT_RULES,
        at=begun,
    )
    attempt.select_tile(at=begun, certification_code=CERTIFICATION, profile_complete=True)
    attempt.start_now(at=begun)
    attempt.workspace_connected(at=begun, workspace_ref="vm-17")
    window = ExamWindow(last_day=date(2025, 12, 31), valid_until=date(2025, 11, 5))
    attempt.begin(at=begun, window=window)
    with pytest.raises(RuleBroken) as refusal:
        attempt.answer(at=late, window=window, question_id="q1", answer="jointure")
    assert refusal.value.rule == "R4"
