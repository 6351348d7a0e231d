"""Evidence values shared by the proctored session, the review and the verdict function.

Everything here is plain data (strings, numbers, dates, enums) so that an auditor can read it
from the log years later without this code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.errors import InvalidArgument
from domain.guide import Step


# Slots: a replay makes one span per flag and segment (issue 15); a slotted instance is made
# in half the time of one with a `__dict__`, by its constructor and by a decoder alike.
@dataclass(frozen=True, slots=True)
class MediaSpan:
    """A span of the session's recording, in seconds from the first entry."""

    start_s: float
    end_s: float

    def __post_init__(self) -> None:
        # One chained comparison accepts every sound span (NaN compares false, and the
        # bounds are ordered): the cost of a check that a replay runs for each span.
        if 0 <= self.start_s <= self.end_s < math.inf:
            return
        if not (math.isfinite(self.start_s) and math.isfinite(self.end_s)):
            raise InvalidArgument("span", f"a media span needs finite seconds ({self})")
        raise InvalidArgument("span", f"a media span needs 0 <= start <= end ({self})")


class FlagKind(StrEnum):
    """What an automated detector noticed. A flag is a hint, never a verdict."""

    SEVERAL_FACES = "several_faces"
    FACE_ABSENT = "face_absent"
    VOICE = "voice"
    TAB_FOCUS_LOST = "tab_focus_lost"
    SECOND_SCREEN = "second_screen"
    PHONE = "phone"
    HEADPHONES = "headphones"
    # Signals of the proctoring page itself (its data channel).
    VISIBILITY_LOST = "visibility_lost"
    FULLSCREEN_LEFT = "fullscreen_left"
    COPY_PASTE = "copy_paste"
    # Issue 16: the candidate stopped sharing their screen, which their certification
    # requires (the rule ScreenMustStayShared).
    SCREEN_SHARE_STOPPED = "screen_share_stopped"


class ReasonCode(StrEnum):
    """R20: the closed list of invalidation reasons ('liste non exhaustive' → other)."""

    THIRD_PARTY_HELP = "third_party_help"
    IDENTITY_NOT_VERIFIABLE = "identity_not_verifiable"
    PERSON_MISMATCH = "person_mismatch"
    ID_NAME_MISMATCH = "id_name_mismatch"
    WEBCAM_UNUSABLE = "webcam_unusable"
    INFORMATION_SOURCES = "information_sources"
    DOCUMENTS_AROUND = "documents_around"
    HEADPHONES = "headphones"
    PROCTORING_TAB_CLOSED = "proctoring_tab_closed"
    PHONE_USED = "phone_used"
    OTHER_RULE_BREACH = "other_rule_breach"


class EvidenceKind(StrEnum):
    """The facts a review can cite. Each value is the name of the event class it was taken
    from, so evidence stored before this enum existed decodes into it unchanged; an event
    class is never renamed (docs: schema evolution)."""

    SESSION_OPENED = "SessionOpened"
    SESSION_ENTERED = "SessionEntered"
    SESSION_LEFT = "SessionLeft"
    CAMERA_CHECKED = "CameraChecked"
    CONNECTION_TESTED = "ConnectionTested"
    FACE_PHOTO_TAKEN = "FacePhotoTaken"
    FACE_PHOTO_CONFIRMED = "FacePhotoConfirmed"
    ID_PHOTO_TAKEN = "IdPhotoTaken"
    ID_PHOTO_CONFIRMED = "IdPhotoConfirmed"
    PHOTO_WAIVED = "PhotoWaived"
    ENVIRONMENT_RECORDING_STOPPED = "EnvironmentRecordingStopped"
    EXAM_LAUNCHED = "ExamLaunched"
    PROCTORING_TAB_CLOSED = "ProctoringTabClosed"
    FLAG_RAISED = "FlagRaised"
    TECHNICAL_PROBLEM_RECORDED = "TechnicalProblemRecorded"
    SESSION_CLOSED = "SessionClosed"
    EXAM_BEGUN = "ExamBegun"
    EXAM_FINISHED = "ExamFinished"
    EXAM_VALIDATED = "ExamValidated"
    EXAM_QUIT = "ExamQuit"
    # Gathered from verdict-2026-12 on: the attempt's side of an interruption (R14, R23).
    EXAM_DEFERRED = "ExamDeferred"
    WORKSPACE_CONNECTED = "WorkspaceConnected"
    WORKSPACE_LOST = "WorkspaceLost"
    # R23's « Quitter » in the exam tab, the candidate's own act (never in a log before it
    # was recorded: every earlier review replays as it was judged).
    WORKSPACE_LEFT = "WorkspaceLeft"


@dataclass(frozen=True)
class Evidence:
    """One recorded fact a review can cite: an event of the session or the attempt.

    `id` is '<stream id>/<version>', the event's place in the log, so a citation points to
    exactly one stored event.
    """

    id: str
    kind: EvidenceKind
    at: datetime
    span: MediaSpan | None = None
    flag: FlagKind | None = None
    confidence: float | None = None
    during_exam: bool = False
    note: str = ""
    # Added with verdict-2026-12 (defaults keep older evidence readable): the waived photo's
    # step, typed, instead of the note's first word.
    waived_step: Step | None = None


class Verdict(StrEnum):
    """R19: a review ends in 'validée' or 'invalidée'."""

    VALIDATED = "validated"
    INVALIDATED = "invalidated"
