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


@dataclass(frozen=True)
class MediaSpan:
    """A span of the session's recording, in seconds from the first entry."""

    start_s: float
    end_s: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start_s) and math.isfinite(self.end_s)):
            raise InvalidArgument("span", f"a media span needs finite seconds ({self})")
        if not 0 <= self.start_s <= self.end_s:
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


@dataclass(frozen=True)
class Evidence:
    """One recorded fact a review can cite: an event of the session or the attempt.

    `id` is '<stream id>/<version>', the event's place in the log, so a citation points to
    exactly one stored event.
    """

    id: str
    kind: str
    at: datetime
    span: MediaSpan | None = None
    flag: FlagKind | None = None
    confidence: float | None = None
    during_exam: bool = False
    note: str = ""


class Verdict(StrEnum):
    """R19: a review ends in 'validée' or 'invalidée'."""

    VALIDATED = "validated"
    INVALIDATED = "invalidated"
