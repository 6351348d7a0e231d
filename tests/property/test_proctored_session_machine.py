"""ProctoredSession against a small model: the step commands in any order.

R5 terms at entry, R6 "Examen" then "Reprendre l'examen" with a reason of at least 10 words,
R7 the four attestations in order, R8 equipment (microphone started then stopped; a camera or
connection result completes its step only when working/passed), R9 a photo before each
"Suivant", R10 ears → room → desk with the exam launched right after the desk, R4 the 3-hour
budget from the first entry, R17 the proctoring tab closed during the exam or not, flags,
technical problems and the closing. The invariant that matters most: no exam before the
environment recording.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.errors import RuleBroken
from domain.evidence import FlagKind, MediaSpan
from domain.proctored_session import (
    FIRST_GAP_TOLERANCE_S,
    GAP_TOLERANCE_S,
    MIN_RECORDING_S,
    EnvironmentPart,
    ProctoredSession,
    Step,
)
from domain.rules import CURRENT_RULES
from tests.property.aggregate_checks import expect_refusal, expect_success, replay, state_of

BUDGET = timedelta(hours=3)  # R4
RESUME_MIN_WORDS = 10  # R6

# The guide's order of the checks, written out again so the model does not borrow it.
GUIDE_ORDER = (
    Step.INSTRUCTIONS_READ,
    Step.DESIGNER_RULES_ATTESTED,
    Step.SECURE_MODE_ACKNOWLEDGED,
    Step.GENERAL_CONDITIONS_ATTESTED,
    Step.SOUND_HEARD,
    Step.MICROPHONE_TESTED,
    Step.CAMERA_CHECKED,
    Step.CONNECTION_TESTED,
    Step.FACE_PHOTO,
    Step.ID_PHOTO,
    Step.EARS_RECORDED,
    Step.ROOM_RECORDED,
    Step.DESK_RECORDED,
)
GUIDE_RULE = ("R7",) * 4 + ("R8",) * 4 + ("R9",) * 2 + ("R10",) * 3
PART_INDEX = {EnvironmentPart.EARS: 10, EnvironmentPart.ROOM: 11, EnvironmentPart.DESK: 12}

WORDS = ("suite", "à", "plantage", "je", "dois", "reprendre", "mon", "examen", "en", "me")
PUNCTUATION = ("-", "…", "!", "—")  # tokens a reader does not count as words

# Zones without a clock change in the generated weeks: the change itself has its own test.
TIME_ZONES = ("Europe/Paris", "UTC", "America/Cayenne", "Indian/Reunion")
SUMMER = (date(2025, 4, 7), date(2025, 10, 10))


@dataclass
class SessionModel:
    """The proctored session as the guide tells it."""

    attempt_id: UUID
    entries: int = 0
    started: datetime | None = None
    closed: bool = False
    done: int = 0
    microphone_on: bool = False
    face_taken: bool = False
    id_taken: bool = False
    recording: EnvironmentPart | None = None
    launched_at: datetime | None = None
    flags: set[str] = field(default_factory=set)
    segments: set[str] = field(default_factory=set)
    recorded_until_s: float | None = None

    def over_budget(self, now: datetime) -> bool:
        return self.started is not None and now > self.started + BUDGET

    def step_refusal(self, command: StepCommand, now: datetime) -> str | None:
        if self.closed:
            return "R18"
        if self.entries == 0:
            return "R6"
        if self.over_budget(now):
            return "R4"
        if command.step != self.done:  # done already, or not yet its turn
            return GUIDE_RULE[command.step]
        return command.needs(self)


@dataclass(frozen=True)
class StepCommand:
    """One button of the checks: which step it belongs to, what it needs, what it does."""

    name: str
    step: int
    call: Callable[[ProctoredSession, datetime, UUID], object]
    needs: Callable[[SessionModel], str | None] = lambda model: None
    completes: bool = True
    effect: Callable[[SessionModel], None] = lambda model: None

    def __repr__(self) -> str:
        return self.name


def _set(name: str, value: object) -> Callable[[SessionModel], None]:
    return lambda model: setattr(model, name, value)


def _environment(part: EnvironmentPart) -> tuple[StepCommand, StepCommand]:
    step = PART_INDEX[part]
    start = StepCommand(
        f"start_{part.value}_recording",
        step,
        lambda s, at, _: s.start_environment_recording(
            at=at, part=part, media_id=f"{part.value}.webm"
        ),
        needs=lambda m: None if m.recording is None else "R10",
        completes=False,
        effect=_set("recording", part),
    )
    stop = StepCommand(
        f"stop_{part.value}_recording",
        step,
        lambda s, at, attempt: s.stop_environment_recording(
            at=at,
            part=part,
            content_hash=f"sha256:{part.value}",
            duration_s=MIN_RECORDING_S[part],
            attempt_id=attempt if part is EnvironmentPart.DESK else None,
        ),
        needs=lambda m: None if m.recording is part else "R10",
        effect=_set("recording", None),
    )
    return start, stop


STEP_COMMANDS: tuple[StepCommand, ...] = (
    StepCommand("read_instructions", 0, lambda s, at, _: s.read_instructions(at=at)),
    StepCommand("attest_designer_rules", 1, lambda s, at, _: s.attest_designer_rules(at=at)),
    StepCommand("acknowledge_secure_mode", 2, lambda s, at, _: s.acknowledge_secure_mode(at=at)),
    StepCommand(
        "attest_general_conditions", 3, lambda s, at, _: s.attest_general_conditions(at=at)
    ),
    StepCommand("confirm_sound_heard", 4, lambda s, at, _: s.confirm_sound_heard(at=at)),
    StepCommand(
        "start_microphone_recording",
        5,
        lambda s, at, _: s.start_microphone_recording(at=at),
        needs=lambda m: "R8" if m.microphone_on else None,
        completes=False,
        effect=_set("microphone_on", True),
    ),
    StepCommand(
        "stop_microphone_recording",
        5,
        lambda s, at, _: s.stop_microphone_recording(at=at),
        needs=lambda m: None if m.microphone_on else "R8",
        effect=_set("microphone_on", False),
    ),
    StepCommand("camera_working", 6, lambda s, at, _: s.check_camera(at=at, working=True)),
    StepCommand(
        "camera_not_working",
        6,
        lambda s, at, _: s.check_camera(at=at, working=False),
        completes=False,
    ),
    StepCommand(
        "connection_test_passed",
        7,
        lambda s, at, _: s.record_connection_test(
            at=at, round_trip_ms=40.0, upload_kbps=2000.0, passed=True
        ),
    ),
    StepCommand(
        "connection_test_failed",
        7,
        lambda s, at, _: s.record_connection_test(
            at=at, round_trip_ms=900.0, upload_kbps=80.0, passed=False
        ),
        completes=False,
    ),
    StepCommand(
        "take_face_photo",
        8,
        lambda s, at, _: s.take_face_photo(at=at, media_id="face.jpg", content_hash="sha256:f"),
        completes=False,
        effect=_set("face_taken", True),
    ),
    StepCommand(
        "confirm_face_photo",
        8,
        lambda s, at, _: s.confirm_face_photo(at=at),
        needs=lambda m: None if m.face_taken else "R9",
    ),
    StepCommand(
        "take_id_photo",
        9,
        lambda s, at, _: s.take_id_photo(at=at, media_id="id.jpg", content_hash="sha256:i"),
        completes=False,
        effect=_set("id_taken", True),
    ),
    StepCommand(
        "confirm_id_photo",
        9,
        lambda s, at, _: s.confirm_id_photo(at=at),
        needs=lambda m: None if m.id_taken else "R9",
    ),
    *_environment(EnvironmentPart.EARS),
    *_environment(EnvironmentPart.ROOM),
    *_environment(EnvironmentPart.DESK),
)
BY_NAME = {command.name: command for command in STEP_COMMANDS}


def guided_next(model: SessionModel) -> StepCommand | None:
    """The button a candidate following the guide presses next (None: enter, or nothing)."""
    if model.closed or model.entries == 0 or model.done == len(GUIDE_ORDER):
        return None
    names_by_step = {
        5: "stop_microphone_recording" if model.microphone_on else "start_microphone_recording",
        8: "confirm_face_photo" if model.face_taken else "take_face_photo",
        9: "confirm_id_photo" if model.id_taken else "take_id_photo",
    }
    for part, step in PART_INDEX.items():
        verb = "start" if model.recording is None else "stop"
        names_by_step[step] = f"{verb}_{part.value}_recording"
    if model.done in names_by_step:
        return BY_NAME[names_by_step[model.done]]
    return next(c for c in STEP_COMMANDS if c.step == model.done and c.completes)


reasons = st.one_of(
    st.none(),
    st.just(""),
    st.lists(st.sampled_from(WORDS + PUNCTUATION), min_size=1, max_size=16).map(" ".join),
)
spans = st.tuples(st.floats(0, 10_000), st.floats(0, 600)).map(
    lambda t: MediaSpan(t[0], t[0] + t[1])
)


def words_in(reason: str | None) -> int:
    return sum(1 for token in (reason or "").split() if token not in PUNCTUATION)


class ProctoredSessionMachine(RuleBasedStateMachine):
    """A candidate pressing any button at any time, against the guide's model."""

    def __init__(self) -> None:
        super().__init__()
        self.session: ProctoredSession | None = None
        self.log: list[Any] = []

    # --- helpers -------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.clock.astimezone(self.zone)

    def _press(self, command: StepCommand) -> None:
        session = self.session
        assert session is not None
        at = self.now
        refusal = self.model.step_refusal(command, self.clock)
        if refusal:
            expect_refusal(
                session, lambda: command.call(session, at, self.model.attempt_id), refusal
            )
            return
        launches = command.name == "stop_desk_recording"
        expect_success(
            session,
            lambda: command.call(session, at, self.model.attempt_id),
            self.log,
            events=2 if launches else 1,
        )
        command.effect(self.model)
        if command.completes:
            self.model.done += 1
        if launches:
            self.model.launched_at = self.clock
            # R10: the exam starts right after the third recording is stopped.
            assert session.exam_launched_at == at

    def _enter(self, terms_accepted: bool, reason: str | None) -> None:
        session = self.session
        assert session is not None
        at = self.now
        model = self.model
        if model.closed:
            expected: str | None = "R18"
        elif not terms_accepted:
            expected = "R5"
        elif model.over_budget(self.clock):
            expected = "R4"
        elif model.entries > 0:
            expected = "R6" if words_in(reason) < RESUME_MIN_WORDS else None
        else:
            expected = "R6" if reason else None  # nothing to resume at the first entry

        def command() -> str:
            return session.enter(at=at, terms_accepted=terms_accepted, resume_reason=reason)

        if expected:
            expect_refusal(session, command, expected)
            return
        label = "Examen" if model.entries == 0 else "Reprendre l'examen"
        expect_success(session, command, self.log)
        assert session.entry_label == "Reprendre l'examen"
        assert self.log[-1].label == label
        model.entries += 1
        if model.started is None:
            model.started = self.clock

    # --- setup ---------------------------------------------------------------------------

    @initialize(
        zone=st.sampled_from(TIME_ZONES),
        day=st.dates(*SUMMER),
        minute_of_day=st.integers(0, 24 * 60 - 1),
        ids=st.lists(st.uuids(), min_size=4, max_size=4, unique=True),
    )
    def open_the_session(self, zone: str, day: date, minute_of_day: int, ids: list[UUID]) -> None:
        self.zone = ZoneInfo(zone)
        local = datetime(day.year, day.month, day.day, tzinfo=self.zone)
        self.clock = (local + timedelta(minutes=minute_of_day)).astimezone(UTC)
        self.model = SessionModel(attempt_id=ids[3])
        self.session = ProctoredSession.open(
            session_id=ids[0],
            enrollment_id=ids[1],
            candidate_id=ids[2],
            certification_code="ACCESS-2019",
            exam_duration_minutes=90,
            rules=CURRENT_RULES,
            live_supervision=False,
            at=self.now,
        )
        self.log.extend(self.session.collect_events())

    # --- time ----------------------------------------------------------------------------

    @rule(minutes=st.one_of(st.integers(0, 20), st.integers(60, 200)))
    def time_passes_or_jumps_towards_the_3_hour_budget_r4(self, minutes: int) -> None:
        self.clock += timedelta(minutes=minutes)

    # --- entering ------------------------------------------------------------------------

    @rule(terms_accepted=st.booleans(), reason=reasons)
    def enter_or_resume_r5_r6(self, terms_accepted: bool, reason: str | None) -> None:
        self._enter(terms_accepted, reason)

    @rule(cause=st.sampled_from(["écran bloqué", "connexion perdue", "   "]))
    def leave_the_session(self, cause: str) -> None:
        session = self.session
        assert session is not None
        at = self.now

        def command() -> None:
            session.leave(at=at, cause=cause)

        if self.model.closed:
            expect_refusal(session, command, "R18")
        elif self.model.entries == 0:
            expect_refusal(session, command, "R6")
        elif not cause.strip():
            expect_refusal(session, command, "invalid:cause")
        else:
            expect_success(session, command, self.log)
            # A running recording is lost with the page: it must be started again.
            self.model.microphone_on = False
            self.model.recording = None

    # --- the checks ----------------------------------------------------------------------

    @rule(command=st.sampled_from(STEP_COMMANDS))
    def press_any_button_of_the_checks_r7_to_r10(self, command: StepCommand) -> None:
        self._press(command)

    @rule(data=st.data())
    def press_a_button_near_the_current_check(self, data: st.DataObject) -> None:
        """Mistakes next to where the candidate stands: twice, too early, the wrong part."""
        near = [c for c in STEP_COMMANDS if abs(c.step - self.model.done) <= 1]
        if near:
            self._press(data.draw(st.sampled_from(near), label="button"))

    @rule(presses=st.integers(1, 25))
    def follow_the_guide_for_a_while(self, presses: int) -> None:
        """Without this, random presses rarely get through the 13 checks to the exam."""
        for _ in range(presses):
            self.clock += timedelta(minutes=1)
            if self.model.entries == 0:
                self._enter(True, None)
                continue
            command = guided_next(self.model)
            if command is None:
                return
            self._press(command)

    # --- facts during the session --------------------------------------------------------

    @rule(span=spans)
    def the_proctoring_tab_is_closed_r17(self, span: MediaSpan) -> None:
        session = self.session
        assert session is not None
        at = self.now

        def command() -> None:
            session.record_proctoring_tab_closed(at=at, span=span)

        if self.model.closed:
            expect_refusal(session, command, "R18")
        elif self.model.entries == 0:
            expect_refusal(session, command, "R17")
        else:
            expect_success(session, command, self.log)
            assert self.log[-1].during_exam is (self.model.launched_at is not None)

    @rule(
        flag_id=st.sampled_from(["f1", "f2", "f3", "f4", ""]),
        kind=st.sampled_from(FlagKind),
        span=spans,
        confidence=st.one_of(st.floats(0, 1), st.sampled_from([-0.1, 1.5])),
    )
    def a_detector_raises_a_flag(
        self, flag_id: str, kind: FlagKind, span: MediaSpan, confidence: float
    ) -> None:
        session = self.session
        assert session is not None
        at = self.now

        def command() -> None:
            session.raise_flag(at=at, flag_id=flag_id, kind=kind, span=span, confidence=confidence)

        if not flag_id:
            expect_refusal(session, command, "invalid:flag_id")
        elif flag_id in self.model.flags:
            # Detectors may report twice; the fact is recorded once (expect_success checks
            # that recording nothing leaves the state unchanged).
            expect_success(session, command, self.log, events=0)
        elif not 0 <= confidence <= 1:
            expect_refusal(session, command, "invalid:confidence")
        elif self.model.entries == 0:
            expect_refusal(session, command, "R17")
        elif self.model.closed:
            # Issue 12: a flag after the session closed is refused, nothing recorded (R18).
            expect_refusal(session, command, "R18")
        else:
            expect_success(session, command, self.log)
            self.model.flags.add(flag_id)

    @rule(
        segment_id=st.sampled_from(["s1", "s2", "s3", " "]),
        span=spans,
        size=st.sampled_from([0, 48_000, -1]),
    )
    def a_segment_of_the_recording_is_finished(
        self, segment_id: str, span: MediaSpan, size: int
    ) -> None:
        """Issue 7: one segment per connection; a hole of more than GAP_TOLERANCE_S since
        the last recorded second (FIRST_GAP_TOLERANCE_S since the entry, before the first
        segment) becomes a gap, recorded just before the segment."""
        session = self.session
        assert session is not None
        at = self.now

        def command() -> bool:
            return session.record_segment(
                at=at,
                segment_id=segment_id,
                media_id=f"{segment_id}.mkv",
                span=span,
                size=size,
                content_hash="sha256:00",
            )

        model = self.model
        if not segment_id.strip():
            expect_refusal(session, command, "invalid:segment_id")
        elif segment_id in model.segments:
            assert expect_success(session, command, self.log, events=0) is False
        elif size < 0:
            expect_refusal(session, command, "invalid:size")
        elif model.entries == 0:
            expect_refusal(session, command, "R17")
        else:
            until = model.recorded_until_s
            # Issue 15: before the first segment, the hole runs from the entry (second 0).
            since, tolerance = (
                (0.0, FIRST_GAP_TOLERANCE_S) if until is None else (until, GAP_TOLERANCE_S)
            )
            gap = span.start_s - since > tolerance
            assert expect_success(session, command, self.log, events=2 if gap else 1) is True
            if gap:
                gap_event = self.log[-2]
                assert isinstance(gap_event, ProctoredSession.RecordingGap)
                assert gap_event.span == MediaSpan(since, span.start_s)
            model.segments.add(segment_id)
            model.recorded_until_s = span.end_s if until is None else max(until, span.end_s)

    @rule(
        segment_id=st.sampled_from(["screen-1", "screen-2", " "]),
        span=spans,
        size=st.sampled_from([0, 48_000, -1]),
    )
    def a_segment_of_the_shared_screen_is_finished(
        self, segment_id: str, span: MediaSpan, size: int
    ) -> None:
        """Issue 16: the shared screen's segments are recorded once each, beside the
        camera's, and never open a gap nor move where the camera's recording ends."""
        session = self.session
        assert session is not None
        at = self.now

        def command() -> bool:
            return session.record_screen_segment(
                at=at,
                segment_id=segment_id,
                media_id=f"{segment_id}.mkv",
                span=span,
                size=size,
                content_hash="sha256:00",
            )

        model = self.model
        if not segment_id.strip():
            expect_refusal(session, command, "invalid:segment_id")
        elif segment_id in model.segments:
            assert expect_success(session, command, self.log, events=0) is False
        elif size < 0:
            expect_refusal(session, command, "invalid:size")
        elif model.entries == 0:
            expect_refusal(session, command, "R17")
        else:
            assert expect_success(session, command, self.log, events=1) is True
            assert isinstance(self.log[-1], ProctoredSession.ScreenSegmentRecorded)
            model.segments.add(segment_id)
        assert session.recorded_until_s == model.recorded_until_s

    @rule(description=st.sampled_from(["micro coupé par le pilote", " "]), by=st.uuids())
    def support_records_a_technical_problem(self, description: str, by: UUID) -> None:
        session = self.session
        assert session is not None
        at = self.now

        def command() -> None:
            session.record_technical_problem(at=at, description=description, recorded_by=by)

        if description.strip():
            expect_success(session, command, self.log)
        else:
            expect_refusal(session, command, "invalid:description")

    @rule()
    def close_the_session(self) -> None:
        session = self.session
        assert session is not None
        at = self.now

        def command() -> None:
            session.close(at=at)

        if self.model.closed:
            expect_refusal(session, command, "R18")
            return
        expect_success(session, command, self.log)
        assert self.log[-1].over_budget is self.model.over_budget(self.clock)
        self.model.closed = True

    # --- invariants ----------------------------------------------------------------------

    @invariant()
    def replaying_the_log_rebuilds_the_live_state(self) -> None:
        if self.session is None:
            return
        assert state_of(replay(self.log)) == state_of(self.session)

    @invariant()
    def no_exam_before_the_environment_recording_r10(self) -> None:
        session = self.session
        if session is None:
            return
        assert session.completed == GUIDE_ORDER[: len(session.completed)]
        all_done = len(session.completed) == len(GUIDE_ORDER)
        assert (session.exam_launched_at is not None) is all_done
        assert (session.attempt_id is not None) is all_done
        if session.microphone_recording:
            assert session.next_step is Step.MICROPHONE_TESTED
        if session.recording_part is not None:
            assert session.next_step is GUIDE_ORDER[PART_INDEX[session.recording_part]]
        assert (session.started_at is not None) is (session.entries > 0)

    @invariant()
    def the_session_matches_its_model(self) -> None:
        session = self.session
        if session is None:
            return
        model = self.model
        assert len(session.completed) == model.done
        assert session.entries == model.entries
        assert session.started_at == model.started
        assert session.microphone_recording is model.microphone_on
        assert session.face_photo_taken is model.face_taken
        assert session.id_photo_taken is model.id_taken
        assert session.recording_part is model.recording
        assert session.exam_launched_at == model.launched_at
        assert (session.closed_at is not None) is model.closed
        assert session.exam_in_progress is (model.launched_at is not None and not model.closed)
        assert sorted(session.flag_ids) == sorted(model.flags)


ProctoredSessionMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None
)
TestAProctoredSessionBehavesLikeTheGuidesModel = ProctoredSessionMachine.TestCase


PARIS = ZoneInfo("Europe/Paris")


def _paris(utc: datetime) -> datetime:
    return utc.replace(tzinfo=UTC).astimezone(PARIS)


@pytest.mark.parametrize(
    ("entered_utc", "step_utc", "within_budget"),
    [
        # 26/10/2025: 01:30+02:00 → 04:15+01:00 is 3 h 45 of real time.
        (datetime(2025, 10, 25, 23, 30), datetime(2025, 10, 26, 3, 15), False),
        # 30/03/2025: 01:00+01:00 → 04:30+02:00 is 2 h 30 of real time.
        (datetime(2025, 3, 30, 0, 0), datetime(2025, 3, 30, 2, 30), True),
    ],
    ids=["autumn-3h45-accepted", "spring-2h30-refused"],
)
def test_the_3_hour_budget_r4_counts_real_time_across_a_clock_change(
    entered_utc: datetime, step_utc: datetime, within_budget: bool
) -> None:
    session = ProctoredSession.open(
        session_id=UUID(int=1),
        enrollment_id=UUID(int=2),
        candidate_id=UUID(int=3),
        certification_code="ACCESS-2019",
        exam_duration_minutes=90,
        rules=CURRENT_RULES,
        live_supervision=False,
        at=_paris(entered_utc),
    )
    session.enter(at=_paris(entered_utc), terms_accepted=True)
    if within_budget:
        session.read_instructions(at=_paris(step_utc))
    else:
        with pytest.raises(RuleBroken) as refusal:
            session.read_instructions(at=_paris(step_utc))
        assert refusal.value.rule == "R4"
