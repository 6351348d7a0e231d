"""Proctored session (e-surveillance): the recorded side of an exam session.

It follows the guide's order: entry ("Examen" / "Reprendre l'examen", R5–R6), the four
attestations (R7), the equipment checks (R8), the two identity photos (R9), the three
environment recordings (R10) that launch the exam, then facts seen while the exam runs
(proctoring tab closed R17, detector flags, technical problems) and the closing.
Times are aware datetimes; the session's rule set was frozen when it was created.
"""

from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.accommodation import check_extra_time, closed_to_grants
from domain.accommodation import extra_minutes as accommodated_minutes
from domain.errors import (
    InvalidArgument,
    RecordingTooShort,
    RuleBroken,
    StepOutOfOrder,
    require,
    require_aware,
)
from domain.evidence import FlagKind, MediaSpan
from domain.guide import PHOTO_STEPS, STEP_LABEL, STEP_RULE, STEPS, Step
from domain.hotline import check_reason
from domain.rules import (
    LiveEntryWindow,
    RuleSet,
    budget_end,
    check_live_supervised_entry,
    check_resume_reason,
    check_within_budget,
    elapsed_seconds,
    live_entry_window,
    utc,
)

# A page load between two checks reconnects within a second or two: not a gap.
GAP_TOLERANCE_S = 2.0
# Her first connection opens some seconds after the entry: the next check's page loads and
# the browser asks her for the camera, a question she may take a while to answer. A first
# recorded second later than this is a gap from the entry on, which the examiner sees: a
# first connection lost with the node that held it (issue 15) leaves no segment at all.
FIRST_GAP_TOLERANCE_S = 30.0
RETENTION = "retention"  # the reason of the retention process's deletions (issue 8)


class EnvironmentPart(StrEnum):
    """R10: the three environment recordings, in order."""

    EARS = "ears"
    ROOM = "room"
    DESK = "desk"


PART_STEP: dict[EnvironmentPart, Step] = {
    EnvironmentPart.EARS: Step.EARS_RECORDED,
    EnvironmentPart.ROOM: Step.ROOM_RECORDED,
    EnvironmentPart.DESK: Step.DESK_RECORDED,
}

# R10: how long each part must be filmed at least, in seconds: long enough to turn the camera
# round both ears, the whole room, then the desk (a click-click recording shows nothing).
MIN_RECORDING_S: dict[EnvironmentPart, float] = {
    EnvironmentPart.EARS: 5.0,
    EnvironmentPart.ROOM: 10.0,
    EnvironmentPart.DESK: 5.0,
}


class ProctoredSession(Aggregate):
    """The candidate's proctored window for one enrolment (its id is the exam session's)."""

    enrollment_id: UUID
    candidate_id: UUID
    certification_code: str
    exam_duration_minutes: int
    rules: RuleSet
    live_supervision: bool
    entries: int
    entered_at: datetime | None  # `last_entry`: a snapshot taken before it has none
    started_at: datetime | None
    completed: tuple[Step, ...]
    microphone_recording: bool
    face_photo_taken: bool
    id_photo_taken: bool
    recording_part: EnvironmentPart | None
    attempt_id: UUID | None
    exam_launched_at: datetime | None
    closed_at: datetime | None
    flag_ids: tuple[str, ...]
    # Accommodations: the extra minutes added to the 3-hour budget (R4). A class default
    # keeps older snapshots readable (and comes last: the class is also a dataclass).
    extra_minutes: int = 0
    # The live recording (issue 7) and deleted media (issue 8): class defaults too.
    segment_ids: tuple[str, ...] = ()
    recorded_until_s: float | None = None
    deleted_media: tuple[str, ...] = ()
    retention_done: bool = False
    # R8: the last connection test's measures and outcome, kept so that the checks' pages
    # show it after a reload or the next step (it vanished with the page: a user's tour).
    connection_round_trip_ms: float | None = None
    connection_upload_kbps: float | None = None
    connection_passed: bool = False

    # --- events --------------------------------------------------------------------------

    class SessionOpened(Aggregate.Created):
        enrollment_id: UUID
        candidate_id: UUID
        certification_code: str
        exam_duration_minutes: int
        rules: RuleSet
        live_supervision: bool

    class AccommodationApplied(Aggregate.Event):
        extra_time_percent: int
        extra_minutes: int

    class SessionEntered(Aggregate.Event):
        entry_number: int
        label: str
        resume_reason: str

    class SessionLeft(Aggregate.Event):
        cause: str

    class InstructionsRead(Aggregate.Event):
        pass

    class DesignerRulesAttested(Aggregate.Event):
        pass

    class SecureModeAcknowledged(Aggregate.Event):
        pass

    class GeneralConditionsAttested(Aggregate.Event):
        pass

    class SoundHeard(Aggregate.Event):
        pass

    class MicrophoneRecordingStarted(Aggregate.Event):
        pass

    class MicrophoneRecordingStopped(Aggregate.Event):
        pass

    class CameraChecked(Aggregate.Event):
        working: bool

    class ConnectionTested(Aggregate.Event):
        round_trip_ms: float
        upload_kbps: float
        passed: bool

    class FacePhotoTaken(Aggregate.Event):
        media_id: str
        content_hash: str

    class FacePhotoConfirmed(Aggregate.Event):
        pass

    class IdPhotoTaken(Aggregate.Event):
        media_id: str
        content_hash: str

    class IdPhotoConfirmed(Aggregate.Event):
        pass

    class PhotoWaived(Aggregate.Event):
        step: Step
        reason: str
        waived_by: UUID

    class EnvironmentRecordingStarted(Aggregate.Event):
        part: EnvironmentPart
        media_id: str

    class EnvironmentRecordingStopped(Aggregate.Event):
        part: EnvironmentPart
        content_hash: str
        media_id: str = ""  # the media store's reference; "" in events before issue 12
        # How long the file lasts, measured from it (0: not recorded, events before it was
        # kept): the examiner's page says it without loading the file, a load being a view.
        duration_s: float = 0.0

    class ExamLaunched(Aggregate.Event):
        attempt_id: UUID

    class ProctoringTabClosed(Aggregate.Event):
        span: MediaSpan
        during_exam: bool

    class FlagRaised(Aggregate.Event):
        flag_id: str
        kind: FlagKind
        span: MediaSpan
        confidence: float

    class SegmentRecorded(Aggregate.Event):
        segment_id: str
        media_id: str
        span: MediaSpan
        size: int
        content_hash: str

    class RecordingGap(Aggregate.Event):
        span: MediaSpan

    class ScreenSegmentRecorded(Aggregate.Event):
        """Issue 16: a recording of the candidate's shared screen, beside the camera's."""

        segment_id: str
        media_id: str
        span: MediaSpan
        size: int
        content_hash: str

    class MediaDeleted(Aggregate.Event):
        media_ids: tuple[str, ...]  # deleted by this pass
        reason: str
        # Issue 15: what the media store did not hold (already gone, or kept on another
        # node's disk), and what it could not be asked about (still held: tried again).
        not_found: tuple[str, ...] = ()
        left: tuple[str, ...] = ()

    class TechnicalProblemRecorded(Aggregate.Event):
        description: str
        recorded_by: UUID

    class SessionClosed(Aggregate.Event):
        over_budget: bool

    # --- creation ------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        *,
        session_id: UUID,
        enrollment_id: UUID,
        candidate_id: UUID,
        certification_code: str,
        exam_duration_minutes: int,
        rules: RuleSet,
        live_supervision: bool,
        at: datetime,
    ) -> ProctoredSession:
        """Opened with the exam session; the rule set is frozen into it here."""
        require_aware("at", at)
        return cls._create(
            cls.SessionOpened,
            id=session_id,
            timestamp=at,
            enrollment_id=enrollment_id,
            candidate_id=candidate_id,
            certification_code=certification_code,
            exam_duration_minutes=exam_duration_minutes,
            rules=rules,
            live_supervision=live_supervision,
        )

    @event(SessionOpened)
    def __init__(
        self,
        enrollment_id: UUID,
        candidate_id: UUID,
        certification_code: str,
        exam_duration_minutes: int,
        rules: RuleSet,
        live_supervision: bool,
    ) -> None:
        self.enrollment_id = enrollment_id
        self.candidate_id = candidate_id
        self.certification_code = certification_code
        self.exam_duration_minutes = exam_duration_minutes
        self.rules = rules
        self.live_supervision = live_supervision
        self.entries = 0
        self.entered_at = None
        self.started_at = None
        self.completed = ()
        self.microphone_recording = False
        self.face_photo_taken = False
        self.id_photo_taken = False
        self.recording_part = None
        self.attempt_id = None
        self.exam_launched_at = None
        self.closed_at = None
        self.flag_ids = ()
        self.segment_ids = ()
        self.recorded_until_s = None
        self.deleted_media = ()

    # --- queries -------------------------------------------------------------------------

    @property
    def next_step(self) -> Step | None:
        """The first check not done yet, or None once the exam is launched."""
        done = len(self.completed)
        return STEPS[done] if done < len(STEPS) else None

    @property
    def entry_label(self) -> str:
        """R6: the button the candidate sees."""
        return "Examen" if self.entries == 0 else "Reprendre l'examen"

    def last_entry(self) -> datetime | None:
        """The last entry (R6: the first, or a return with « Reprendre l'examen »). (Kept out
        of the class's fields: they are the created event's; a snapshot taken before it was
        kept has none.)"""
        value: datetime | None = self.__dict__.get("entered_at")
        return value

    @property
    def exam_in_progress(self) -> bool:
        """Between the launch of the exam and the closing of the session."""
        return self.exam_launched_at is not None and self.closed_at is None

    def budget_ends_at(self) -> datetime | None:
        """R4: when the 3-hour budget runs out (None before the first entry)."""
        if self.started_at is None:
            return None
        return budget_end(self.started_at, self.rules, self.extra_minutes)

    def media_offset(self, at: datetime) -> float:
        """Seconds from the first entry, the origin of the session's media spans."""
        return 0.0 if self.started_at is None else max(0.0, elapsed_seconds(self.started_at, at))

    # --- guards --------------------------------------------------------------------------

    def _check_open(self, at: datetime) -> None:
        require_aware("at", at)
        require(self.closed_at is None, "R18", "the exam was sent: this session is closed")

    def _check_step(self, step: Step, at: datetime) -> None:
        """The step's own rule when done again, or out of order; the budget (R4)."""
        self._check_open(at)
        require(self.entries > 0, "R6", "enter the session first ('Examen')")
        check_within_budget(at, self.started_at, self.rules, self.extra_minutes)
        if step in self.completed:
            raise RuleBroken(
                STEP_RULE[step],
                f"'{STEP_LABEL[step]}' is already done (it stays ticked on resume)",
            )
        expected = self.next_step
        if step != expected:
            assert expected is not None
            raise StepOutOfOrder(
                STEP_RULE[step],
                f"'{STEP_LABEL[step]}' comes later: next is '{STEP_LABEL[expected]}' "
                f"({STEP_RULE[expected]})",
            )

    # --- commands: accommodations (before the first entry) -------------------------------

    def apply_accommodation(self, *, at: datetime, extra_time_percent: int) -> int:
        """The enrolment's extra time lengthens the 3-hour budget by the exam's extra
        minutes (R4); refused once the candidate entered. Returns the extra minutes."""
        require_aware("at", at)
        closed = closed_to_grants(
            expired=False, entered_at=self.started_at, closed=self.closed_at is not None
        )
        if closed is not None:
            raise closed
        check_extra_time(extra_time_percent)
        minutes = accommodated_minutes(self.exam_duration_minutes, extra_time_percent)
        if minutes != self.extra_minutes:
            self._accommodation_applied(
                extra_time_percent=extra_time_percent, extra_minutes=minutes, timestamp=at
            )
        return minutes

    # --- commands: entering (R5, R6) -----------------------------------------------------

    def live_entry(self, *, at: datetime, supervision_slot: datetime | None) -> LiveEntryWindow:
        """R2: where the first entry stands at `at`, for the slot the hotline booked on the
        enrolment (`supervision_slot`, None before one is booked): only a session created
        with live supervision, under a rule set with the window, waits for it."""
        return live_entry_window(
            live_supervision=self.live_supervision,
            slot=supervision_slot,
            at=at,
            rules=self.rules,
        )

    def enter(
        self,
        *,
        at: datetime,
        terms_accepted: bool,
        resume_reason: str | None = None,
        supervision_slot: datetime | None = None,
    ) -> str:
        """'Examen' the first time, 'Reprendre l'examen' with a 10-word reason after (R6).
        R2: a session supervised live is first entered only around the slot booked on the
        enrolment (`supervision_slot`, read by the use case); a resumption is bounded by the
        3-hour budget (R4) counted from that entry, not by the slot."""
        self._check_open(at)
        require(terms_accepted, "R5", "the terms of use must be accepted at the first connection")
        if supervision_slot is not None:
            require_aware("supervision_slot", supervision_slot)
        if self.entries == 0:
            check_live_supervised_entry(self.live_entry(at=at, supervision_slot=supervision_slot))
        check_within_budget(at, self.started_at, self.rules, self.extra_minutes)
        reason = ""
        if self.entries > 0:
            reason = check_resume_reason(resume_reason, self.rules)
        elif resume_reason:
            raise RuleBroken("R6", "the first entry is 'Examen': there is nothing to resume")
        label = self.entry_label
        self._entered(
            entry_number=self.entries + 1, label=label, resume_reason=reason, timestamp=at
        )
        return label

    def leave(self, *, at: datetime, cause: str) -> None:
        """An interruption (deferral, blocked screen R23, lost connection); resume needs R6."""
        self._check_open(at)
        require(self.entries > 0, "R6", "the session was never entered")
        if not cause.strip():
            raise InvalidArgument("cause", "say why the session was left")
        self._left(cause=cause.strip(), timestamp=at)

    # --- commands: attestations (R7) -----------------------------------------------------

    def read_instructions(self, *, at: datetime) -> None:
        """R7: exam instructions read ('Suivant')."""
        self._check_step(Step.INSTRUCTIONS_READ, at)
        self._instructions_read(timestamp=at)

    def attest_designer_rules(self, *, at: datetime) -> None:
        """R7: the designer's rules attested (checkbox)."""
        self._check_step(Step.DESIGNER_RULES_ATTESTED, at)
        self._designer_rules_attested(timestamp=at)

    def acknowledge_secure_mode(self, *, at: datetime) -> None:
        """R7: secure mode acknowledged ('Continuer')."""
        self._check_step(Step.SECURE_MODE_ACKNOWLEDGED, at)
        self._secure_mode_acknowledged(timestamp=at)

    def attest_general_conditions(self, *, at: datetime) -> None:
        """R7: general conditions attested (checkbox)."""
        self._check_step(Step.GENERAL_CONDITIONS_ATTESTED, at)
        self._general_conditions_attested(timestamp=at)

    # --- commands: equipment (R8) --------------------------------------------------------

    def confirm_sound_heard(self, *, at: datetime) -> None:
        """R8: the candidate heard the test sound."""
        self._check_step(Step.SOUND_HEARD, at)
        self._sound_heard(timestamp=at)

    def start_microphone_recording(self, *, at: datetime) -> None:
        """R8: the microphone test starts recording."""
        self._check_step(Step.MICROPHONE_TESTED, at)
        require(not self.microphone_recording, "R8", "the microphone is already recording")
        self._microphone_started(timestamp=at)

    def stop_microphone_recording(self, *, at: datetime) -> None:
        """R8: stopping the started recording is what lets the candidate go on."""
        self._check_step(Step.MICROPHONE_TESTED, at)
        require(
            self.microphone_recording, "R8", "start the microphone recording before stopping it"
        )
        self._microphone_stopped(timestamp=at)

    def check_camera(self, *, at: datetime, working: bool) -> None:
        """R8: a camera that does not work is recorded and keeps the candidate here."""
        self._check_step(Step.CAMERA_CHECKED, at)
        self._camera_checked(working=working, timestamp=at)

    def record_connection_test(
        self, *, at: datetime, round_trip_ms: float, upload_kbps: float, passed: bool
    ) -> None:
        """R8: the connection test's measures; only a passed test lets the candidate go on."""
        self._check_step(Step.CONNECTION_TESTED, at)
        measures = (round_trip_ms, upload_kbps)
        if not all(math.isfinite(m) and m >= 0 for m in measures):
            raise InvalidArgument("connection_test", "measures are finite and not negative")
        self._connection_tested(
            round_trip_ms=round_trip_ms, upload_kbps=upload_kbps, passed=passed, timestamp=at
        )

    # --- commands: identity (R9) ---------------------------------------------------------

    def take_face_photo(self, *, at: datetime, media_id: str, content_hash: str) -> None:
        """R9: 'Prendre une photo' of the face (may be taken again before 'Suivant')."""
        self._check_step(Step.FACE_PHOTO, at)
        _check_media(media_id, content_hash)
        self._face_photo_taken(media_id=media_id, content_hash=content_hash, timestamp=at)

    def confirm_face_photo(self, *, at: datetime) -> None:
        """R9: 'Suivant' needs a face photo first."""
        self._check_step(Step.FACE_PHOTO, at)
        require(self.face_photo_taken, "R9", "press 'Prendre une photo' before 'Suivant'")
        self._face_photo_confirmed(timestamp=at)

    def take_id_photo(self, *, at: datetime, media_id: str, content_hash: str) -> None:
        """R9: 'Prendre une photo' of the ID document."""
        self._check_step(Step.ID_PHOTO, at)
        _check_media(media_id, content_hash)
        self._id_photo_taken(media_id=media_id, content_hash=content_hash, timestamp=at)

    def confirm_id_photo(self, *, at: datetime) -> None:
        """R9: 'Suivant' needs an ID photo first."""
        self._check_step(Step.ID_PHOTO, at)
        require(self.id_photo_taken, "R9", "press 'Prendre une photo' before 'Suivant'")
        self._id_photo_confirmed(timestamp=at)

    def waive_photo(self, *, at: datetime, step: Step, reason: str, waived_by: UUID) -> None:
        """Support unblocks a candidate whose camera cannot take the photo. The exam may go
        on, but the photo stays missing, and a missing photo invalidates the exam (R9)."""
        require(
            step in PHOTO_STEPS,
            "R9",
            "only the face or ID photo can be waived",
        )
        self._check_step(step, at)
        why = check_reason("reason", reason)  # bounded too: the examiner reads it (issue 13)
        self._photo_waived(step=step, reason=why, waived_by=waived_by, timestamp=at)

    # --- commands: environment (R10) -----------------------------------------------------

    def start_environment_recording(
        self, *, at: datetime, part: EnvironmentPart, media_id: str
    ) -> None:
        """R10: ears, then room, then desk; one recording at a time."""
        self._check_step(PART_STEP[part], at)
        require(
            self.recording_part is None,
            "R10",
            f"the {self.recording_part.value if self.recording_part else ''} recording "
            "is still running",
        )
        _check_media(media_id, "-")
        self._environment_started(part=part, media_id=media_id, timestamp=at)

    def stop_environment_recording(
        self,
        *,
        at: datetime,
        part: EnvironmentPart,
        content_hash: str,
        duration_s: float,
        attempt_id: UUID | None = None,
        media_id: str = "",
    ) -> bool:
        """R10: stopping the desk recording launches the exam at once. True when it did.
        `media_id` is the stored recording's reference (the media store's own name for it);
        `duration_s` is how long the recording lasts, as measured from the file itself."""
        self._check_step(PART_STEP[part], at)
        require(
            self.recording_part == part,
            "R10",
            f"start the {part.value} recording before stopping it",
        )
        if not (math.isfinite(duration_s) and duration_s >= MIN_RECORDING_S[part]):
            raise RecordingTooShort(part.value, duration_s, MIN_RECORDING_S[part])
        _check_media("-", content_hash)
        if part is EnvironmentPart.DESK and attempt_id is None:
            raise InvalidArgument("attempt_id", "stopping the desk recording launches the exam")
        self._environment_stopped(
            part=part,
            content_hash=content_hash,
            media_id=media_id,
            duration_s=duration_s,
            timestamp=at,
        )
        if part is EnvironmentPart.DESK:
            assert attempt_id is not None
            self._exam_launched(attempt_id=attempt_id, timestamp=at)
            return True
        return False

    # --- commands: during the exam -------------------------------------------------------

    def record_proctoring_tab_closed(self, *, at: datetime, span: MediaSpan) -> None:
        """R17: the proctoring tab stopped answering. Whether that is a ground is the verdict's
        to say: from verdict-2026-12 only inside the exam window (« Commencer » to the end),
        and never when it is the blocked-screen procedure (R23). `during_exam` keeps what
        verdict-2025-03 reads (launched and not closed)."""
        self._check_open(at)
        require(self.entries > 0, "R17", "the session was never entered")
        self._tab_closed(span=span, during_exam=self.exam_in_progress, timestamp=at)

    def raise_flag(
        self, *, at: datetime, flag_id: str, kind: FlagKind, span: MediaSpan, confidence: float
    ) -> None:
        """A detector's hint with its media span; a flag is never a verdict."""
        require_aware("at", at)
        if not flag_id:
            raise InvalidArgument("flag_id", "a flag needs an id")
        if flag_id in self.flag_ids:
            return  # detectors may report twice; the fact is recorded once
        if not 0.0 <= confidence <= 1.0:
            raise InvalidArgument("confidence", "a confidence lies between 0 and 1")
        require(self.entries > 0, "R17", "no flag before the session is entered")
        # A flag after the session closed is refused, not recorded as late: the candidate
        # sent the exam and can no longer be seen or asked, and the review must not keep
        # receiving facts against them once it opened (issue 12, item 3).
        require(
            self.closed_at is None,
            "R18",
            "the exam was sent and the session is closed: a flag can no longer be raised",
        )
        self._flag_raised(
            flag_id=flag_id, kind=kind, span=span, confidence=confidence, timestamp=at
        )

    def record_segment(
        self,
        *,
        at: datetime,
        segment_id: str,
        media_id: str,
        span: MediaSpan,
        size: int,
        content_hash: str,
    ) -> bool:
        """A finished recording of one connection of the proctoring tab (complete on storage,
        with its hash). A hole of more than GAP_TOLERANCE_S since the last recorded second
        (FIRST_GAP_TOLERANCE_S since the entry, for the first one) is recorded first as a
        gap, which the examiner sees. Segments still arrive after the
        session closed (the last one ends when the tab is closed). False if already known."""
        require_aware("at", at)
        if not segment_id.strip():
            raise InvalidArgument("segment_id", "a segment needs an id")
        if segment_id in self.segment_ids:
            return False  # a recorder may report twice; the fact is recorded once
        _check_media(media_id, content_hash)
        if size < 0:
            raise InvalidArgument("size", "a segment's size cannot be negative")
        require(self.entries > 0, "R17", "nothing is recorded before the session is entered")
        gap = _gap_before(span, self.recorded_until_s)
        if gap is not None:
            self._recording_gap(span=gap, timestamp=at)
        self._segment_recorded(
            segment_id=segment_id,
            media_id=media_id,
            span=span,
            size=size,
            content_hash=content_hash,
            timestamp=at,
        )
        return True

    def record_screen_segment(
        self,
        *,
        at: datetime,
        segment_id: str,
        media_id: str,
        span: MediaSpan,
        size: int,
        content_hash: str,
    ) -> bool:
        """Issue 16: a finished recording of the candidate's shared screen. It runs beside
        the camera's segments and leaves no gap of its own: a stopped share is a flag
        (ScreenMustStayShared), raised by the page. False if already known."""
        require_aware("at", at)
        if not segment_id.strip():
            raise InvalidArgument("segment_id", "a segment needs an id")
        if segment_id in self.segment_ids:
            return False
        _check_media(media_id, content_hash)
        if size < 0:
            raise InvalidArgument("size", "a segment's size cannot be negative")
        require(self.entries > 0, "R17", "nothing is recorded before the session is entered")
        self._screen_segment_recorded(
            segment_id=segment_id,
            media_id=media_id,
            span=span,
            size=size,
            content_hash=content_hash,
            timestamp=at,
        )
        return True

    def record_media_deleted(
        self,
        *,
        at: datetime,
        media_ids: tuple[str, ...],
        reason: str,
        not_found: tuple[str, ...] = (),
        left: tuple[str, ...] = (),
    ) -> None:
        """Issue 8: photos and recordings deleted (retention, erasure); their hashes stay in
        the log, so every decision still verifies, with the media shown as deleted. Issue 15:
        the fact says truthfully what was deleted, what the store did not hold (`not_found`)
        and what it could not delete now (`left`: still pending, the next pass tries again;
        a retention pass is done only when nothing is left)."""
        require_aware("at", at)
        if not reason.strip():
            raise InvalidArgument("reason", "say why the media was deleted")
        fresh = tuple(m for m in dict.fromkeys(media_ids) if m not in self.deleted_media)
        missing = tuple(
            m for m in dict.fromkeys(not_found) if m not in self.deleted_media and m not in fresh
        )
        pending = tuple(
            m for m in dict.fromkeys(left) if m not in self.deleted_media + fresh + missing
        )
        retention = reason.strip().startswith(RETENTION)
        if fresh or missing or (retention and not self.retention_done and not pending):
            # The retention pass is recorded even with nothing left to delete: it ran once.
            self._media_deleted(
                media_ids=fresh,
                reason=reason.strip(),
                timestamp=at,
                not_found=missing,
                left=pending,
            )

    def record_technical_problem(
        self, *, at: datetime, description: str, recorded_by: UUID
    ) -> None:
        """R20: a proven technical problem, the one case where a phone is allowed."""
        require_aware("at", at)
        text = check_reason("description", description)
        self._technical_problem(description=text, recorded_by=recorded_by, timestamp=at)

    def close(self, *, at: datetime) -> None:
        """The recording is sent and the session closes (after 'Oui, envoyer' or a quit)."""
        self._check_open(at)
        ends = self.budget_ends_at()
        self._closed(over_budget=ends is not None and utc(at) > utc(ends), timestamp=at)

    # --- event appliers ------------------------------------------------------------------

    @event(AccommodationApplied)
    def _accommodation_applied(
        self, extra_time_percent: int, extra_minutes: int, timestamp: datetime
    ) -> None:
        self.extra_minutes = extra_minutes

    @event(SessionEntered)
    def _entered(
        self, entry_number: int, label: str, resume_reason: str, timestamp: datetime
    ) -> None:
        self.entries = entry_number
        self.entered_at = timestamp
        if self.started_at is None:
            self.started_at = timestamp

    @event(SessionLeft)
    def _left(self, cause: str, timestamp: datetime) -> None:
        self.microphone_recording = False
        self.recording_part = None

    def _complete(self, step: Step) -> None:
        self.completed = (*self.completed, step)

    @event(InstructionsRead)
    def _instructions_read(self, timestamp: datetime) -> None:
        self._complete(Step.INSTRUCTIONS_READ)

    @event(DesignerRulesAttested)
    def _designer_rules_attested(self, timestamp: datetime) -> None:
        self._complete(Step.DESIGNER_RULES_ATTESTED)

    @event(SecureModeAcknowledged)
    def _secure_mode_acknowledged(self, timestamp: datetime) -> None:
        self._complete(Step.SECURE_MODE_ACKNOWLEDGED)

    @event(GeneralConditionsAttested)
    def _general_conditions_attested(self, timestamp: datetime) -> None:
        self._complete(Step.GENERAL_CONDITIONS_ATTESTED)

    @event(SoundHeard)
    def _sound_heard(self, timestamp: datetime) -> None:
        self._complete(Step.SOUND_HEARD)

    @event(MicrophoneRecordingStarted)
    def _microphone_started(self, timestamp: datetime) -> None:
        self.microphone_recording = True

    @event(MicrophoneRecordingStopped)
    def _microphone_stopped(self, timestamp: datetime) -> None:
        self.microphone_recording = False
        self._complete(Step.MICROPHONE_TESTED)

    @event(CameraChecked)
    def _camera_checked(self, working: bool, timestamp: datetime) -> None:
        if working:
            self._complete(Step.CAMERA_CHECKED)

    @event(ConnectionTested)
    def _connection_tested(
        self, round_trip_ms: float, upload_kbps: float, passed: bool, timestamp: datetime
    ) -> None:
        self.connection_round_trip_ms = round_trip_ms
        self.connection_upload_kbps = upload_kbps
        self.connection_passed = passed
        if passed:
            self._complete(Step.CONNECTION_TESTED)

    @event(FacePhotoTaken)
    def _face_photo_taken(self, media_id: str, content_hash: str, timestamp: datetime) -> None:
        self.face_photo_taken = True

    @event(FacePhotoConfirmed)
    def _face_photo_confirmed(self, timestamp: datetime) -> None:
        self._complete(Step.FACE_PHOTO)

    @event(IdPhotoTaken)
    def _id_photo_taken(self, media_id: str, content_hash: str, timestamp: datetime) -> None:
        self.id_photo_taken = True

    @event(IdPhotoConfirmed)
    def _id_photo_confirmed(self, timestamp: datetime) -> None:
        self._complete(Step.ID_PHOTO)

    @event(PhotoWaived)
    def _photo_waived(self, step: Step, reason: str, waived_by: UUID, timestamp: datetime) -> None:
        self._complete(step)

    @event(EnvironmentRecordingStarted)
    def _environment_started(
        self, part: EnvironmentPart, media_id: str, timestamp: datetime
    ) -> None:
        self.recording_part = part

    @event(EnvironmentRecordingStopped)
    def _environment_stopped(
        self,
        part: EnvironmentPart,
        content_hash: str,
        timestamp: datetime,
        media_id: str = "",
        duration_s: float = 0.0,
    ) -> None:
        self.recording_part = None
        self._complete(PART_STEP[part])

    @event(ExamLaunched)
    def _exam_launched(self, attempt_id: UUID, timestamp: datetime) -> None:
        self.attempt_id = attempt_id
        self.exam_launched_at = timestamp

    @event(ProctoringTabClosed)
    def _tab_closed(self, span: MediaSpan, during_exam: bool, timestamp: datetime) -> None:
        pass

    @event(FlagRaised)
    def _flag_raised(
        self, flag_id: str, kind: FlagKind, span: MediaSpan, confidence: float, timestamp: datetime
    ) -> None:
        self.flag_ids = (*self.flag_ids, flag_id)

    @event(SegmentRecorded)
    def _segment_recorded(
        self,
        segment_id: str,
        media_id: str,
        span: MediaSpan,
        size: int,
        content_hash: str,
        timestamp: datetime,
    ) -> None:
        self.segment_ids = (*self.segment_ids, segment_id)
        until = self.recorded_until_s
        self.recorded_until_s = span.end_s if until is None else max(until, span.end_s)

    @event(ScreenSegmentRecorded)
    def _screen_segment_recorded(
        self,
        segment_id: str,
        media_id: str,
        span: MediaSpan,
        size: int,
        content_hash: str,
        timestamp: datetime,
    ) -> None:
        self.segment_ids = (*self.segment_ids, segment_id)

    @event(RecordingGap)
    def _recording_gap(self, span: MediaSpan, timestamp: datetime) -> None:
        pass

    @event(MediaDeleted)
    def _media_deleted(
        self,
        media_ids: tuple[str, ...],
        reason: str,
        timestamp: datetime,
        not_found: tuple[str, ...] = (),
        left: tuple[str, ...] = (),
    ) -> None:
        # What the store no longer holds, deleted now or not found: never tried again.
        self.deleted_media = (*self.deleted_media, *media_ids, *not_found)
        if reason.startswith(RETENTION) and not left:
            self.retention_done = True

    @event(TechnicalProblemRecorded)
    def _technical_problem(self, description: str, recorded_by: UUID, timestamp: datetime) -> None:
        pass

    @event(SessionClosed)
    def _closed(self, over_budget: bool, timestamp: datetime) -> None:
        self.closed_at = timestamp


def _check_media(media_id: str, content_hash: str) -> None:
    if not media_id.strip():
        raise InvalidArgument("media_id", "the stored media's id is required")
    if not content_hash.strip():
        raise InvalidArgument("content_hash", "the stored media's content hash is required")


def _gap_before(span: MediaSpan, recorded_until_s: float | None) -> MediaSpan | None:
    """The hole a segment starting at `span` leaves in the recording, if it is long enough to
    be one: since the last recorded second, or since the entry (second 0) for the first."""
    since, tolerance = (
        (0.0, FIRST_GAP_TOLERANCE_S)
        if recorded_until_s is None
        else (recorded_until_s, GAP_TOLERANCE_S)
    )
    return MediaSpan(since, span.start_s) if span.start_s - since > tolerance else None
