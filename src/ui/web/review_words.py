"""The examiner's review in words (issue 13, item 5): verdicts, grounds, hints, evidence and
the reviews list read in the page's language, never as raw codes or walls of ids (the ids stay
in a `title` for the curious). Tables hold English messages marked with `N_`; the French is
in `locale/fr/LC_MESSAGES/examiner.po` and each message is translated where it is shown."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from babel.dates import format_date
from babel.numbers import format_decimal, get_decimal_symbol
from eventsourcing.domain import AggregateEvent

from app.context import Context
from app.person_names import name_in_list, name_in_text
from app.read_models import Projections
from app.time_format import LOCALES
from domain.candidate import Candidate
from domain.evidence import Evidence, EvidenceKind, FlagKind, ReasonCode, Verdict
from domain.proctored_session import EnvironmentPart, ProctoredSession
from domain.review import Review
from domain.rules import utc
from domain.verdict import Finding, InterruptionKind, exam_window, media_origin, moment_of
from ui.web.i18n import N_, gettext_for

# A session's verdict (« la session est validée »).
VERDICT_WORDS: dict[Verdict, str] = {
    Verdict.VALIDATED: N_("validated"),
    Verdict.INVALIDATED: N_("invalidated"),
}

REASON_WORDS: dict[ReasonCode, str] = {
    ReasonCode.THIRD_PARTY_HELP: N_("Help from or interaction with another person"),
    ReasonCode.IDENTITY_NOT_VERIFIABLE: N_("Identity cannot be verified"),
    ReasonCode.PERSON_MISMATCH: N_("The person at the start is not the one taking the exam"),
    ReasonCode.ID_NAME_MISMATCH: N_("ID document differs from the registered name"),
    ReasonCode.WEBCAM_UNUSABLE: N_("Webcam not working or video unusable"),
    ReasonCode.INFORMATION_SOURCES: N_("Use of information sources"),
    ReasonCode.DOCUMENTS_AROUND: N_("Documents on the desk or around"),
    ReasonCode.HEADPHONES: N_("Earphones or headset"),
    ReasonCode.PROCTORING_TAB_CLOSED: N_("Proctoring tab closed during the exam"),
    ReasonCode.PHONE_USED: N_("Use of a phone"),
    ReasonCode.OTHER_RULE_BREACH: N_("Other breach (written justification)"),
}

# The reasons whose written justification has a field of its own on the decision form (R20:
# the list is « non exhaustive », the other breach says what it was), by that field's name: a
# « Justification » alone, under the last reason, read as a general comment (a reviewer's
# finding).
JUSTIFICATION_FIELDS: dict[ReasonCode, str] = {
    ReasonCode.OTHER_RULE_BREACH: N_("Justification (Other breach)"),
}

# Why a ground counts against a validation, in a sentence; the title beside it says the
# guide's rule in words (`rule_title`), the domain's English explanation stays for the logs
# and the evidence bundle.
GROUND_SENTENCES: dict[ReasonCode, str] = {
    ReasonCode.THIRD_PARTY_HELP: N_(
        "Another person seems to have helped or talked to the candidate during the exam."
    ),
    ReasonCode.IDENTITY_NOT_VERIFIABLE: N_(
        "The face or ID photo is missing or does not allow the identity to be checked."
    ),
    ReasonCode.PERSON_MISMATCH: N_(
        "The person seen during the exam does not seem to be the one on the opening photos."
    ),
    ReasonCode.ID_NAME_MISMATCH: N_(
        "The name on the ID document does not seem to be the registered name."
    ),
    ReasonCode.WEBCAM_UNUSABLE: N_(
        "The recording is missing or does not show the candidate for part of the exam."
    ),
    ReasonCode.INFORMATION_SOURCES: N_(
        "The candidate seems to have looked at another source (another window, screen, copy-paste)."
    ),
    ReasonCode.DOCUMENTS_AROUND: N_("Documents seem to be on the desk or around the candidate."),
    ReasonCode.HEADPHONES: N_("The candidate seems to wear earphones or a headset."),
    ReasonCode.PROCTORING_TAB_CLOSED: N_(
        "The proctoring tab was closed during the exam while the exam tab stayed open."
    ),
    ReasonCode.PHONE_USED: N_("A phone seems to have been used during the exam."),
    ReasonCode.OTHER_RULE_BREACH: N_("Another breach of the rules was noted."),
}

# A later entry, with its reason to resume (R6): said apart from the first entry.
RESUMED = N_("Session resumed (“Resume the exam”)")

EVIDENCE_WORDS: dict[EvidenceKind, str] = {
    EvidenceKind.SESSION_OPENED: N_("Session opened"),
    EvidenceKind.SESSION_ENTERED: N_("Session entered"),
    EvidenceKind.SESSION_LEFT: N_("Session left"),
    EvidenceKind.CAMERA_CHECKED: N_("Camera checked"),
    EvidenceKind.CONNECTION_TESTED: N_("Connection tested"),
    EvidenceKind.FACE_PHOTO_TAKEN: N_("Face photo"),
    EvidenceKind.FACE_PHOTO_CONFIRMED: N_("Face photo confirmed"),
    EvidenceKind.ID_PHOTO_TAKEN: N_("ID photo"),
    EvidenceKind.ID_PHOTO_CONFIRMED: N_("ID photo confirmed"),
    EvidenceKind.PHOTO_WAIVED: N_("Photo waived"),
    # Its part when known (ENVIRONMENT_WORDS): this only for a fact read without its event.
    EvidenceKind.ENVIRONMENT_RECORDING_STOPPED: N_("Environment recording"),
    # R10: the exam is launched as the third recording stops; it starts with « Commencer »
    # (R15, EXAM_BEGUN), often minutes later. « Examen commencé » stood here, at the end of
    # the checks, above « Premier écran de l'examen » where « Commencer » was pressed.
    EvidenceKind.EXAM_LAUNCHED: N_("Checks done — exam launched"),
    EvidenceKind.PROCTORING_TAB_CLOSED: N_("Proctoring tab closed"),
    EvidenceKind.FLAG_RAISED: N_("Flag"),
    EvidenceKind.TECHNICAL_PROBLEM_RECORDED: N_("Technical problem"),
    EvidenceKind.SESSION_CLOSED: N_("Session closed"),
    # (No-break spaces inside the quotes: « Commencer » is never split from them.)
    EvidenceKind.EXAM_BEGUN: N_("Exam started (“Start”)"),
    EvidenceKind.EXAM_FINISHED: N_("Exam finished"),
    EvidenceKind.EXAM_VALIDATED: N_("Answers sent"),
    EvidenceKind.EXAM_QUIT: N_("Exam quit"),
    EvidenceKind.EXAM_DEFERRED: N_("Exam deferred"),
    EvidenceKind.WORKSPACE_CONNECTED: N_("Exam tab connected"),
    EvidenceKind.WORKSPACE_LOST: N_("Exam tab lost"),
    # R23's « Quitter »: her own act, never said « lost » (a user's tour).
    EvidenceKind.WORKSPACE_LEFT: N_("Exam tab left by the candidate (“Leave this tab”)"),
}

# R10: the three environment recordings by their part, as the candidate's checks name them:
# all three read « Enregistrement de l'environnement », and an examiner citing the ears'
# for « Écouteurs ou casque » guessed which by their order (a reviewer's finding).
ENVIRONMENT_WORDS: dict[EnvironmentPart, str] = {
    EnvironmentPart.EARS: N_("Recording of the ears"),
    EnvironmentPart.ROOM: N_("Recording of the room"),
    EnvironmentPart.DESK: N_("Recording of the desk"),
}
# The full log's other fact of each recording, its start.
ENVIRONMENT_STARTED_WORDS: dict[EnvironmentPart, str] = {
    EnvironmentPart.EARS: N_("Recording of the ears started"),
    EnvironmentPart.ROOM: N_("Recording of the room started"),
    EnvironmentPart.DESK: N_("Recording of the desk started"),
}

FLAG_WORDS: dict[FlagKind, str] = {
    FlagKind.SEVERAL_FACES: N_("several faces"),
    FlagKind.FACE_ABSENT: N_("face absent"),
    FlagKind.VOICE: N_("voice"),
    FlagKind.TAB_FOCUS_LOST: N_("tab left"),
    FlagKind.SECOND_SCREEN: N_("second screen"),
    FlagKind.PHONE: N_("phone"),
    FlagKind.HEADPHONES: N_("earphones"),
    FlagKind.VISIBILITY_LOST: N_("page hidden"),
    FlagKind.FULLSCREEN_LEFT: N_("full screen left"),
    FlagKind.COPY_PASTE: N_("copy-paste"),
    FlagKind.SCREEN_SHARE_STOPPED: N_("screen share stopped"),
}

# The photos and environment recordings, by the label `app.recording.session_media` gives.
MEDIA_WORDS: dict[str, str] = {
    "Visage": N_("Face photo"),
    "Identité": N_("ID photo"),
    "ears": N_("Environment: ears (no earphones)"),
    "room": N_("Environment: the room"),
    "desk": N_("Environment: the desk"),
}

# How an exam ended, by `ExamFinished.ended_by` (the evidence's note): the auditor's table
# showed the code, « candidate ».
ENDED_BY_WORDS: dict[str, str] = {
    "candidate": N_("ended by the candidate"),
    "time_limit": N_("the exam's time ran out"),
    "budget": N_("the session's time ran out"),
    "midnight": N_("ended at midnight: an exam starts and ends on the same day"),
}

ERASED_PERSON: str = N_("erased person")

CONFIRMATIONS: dict[str, str] = {
    "decided": N_(
        "Your decision is recorded. Release the result to the candidate when you are ready."
    ),
    "released": N_("The result is released: the candidate is told."),
}


# What each interruption means, in a sentence with no rule code: its rule is the line's title
# (`rule_title`), its code a reference there. The lines read « Report avant « Commencer »
# (R14) : … », under a tooltip of the domain's English explanation on the French page (a
# reviewer's tour); that explanation stays for the logs and the evidence bundle.
INTERRUPTION_WORDS: dict[InterruptionKind, str] = {
    InterruptionKind.DEFERRAL: N_(
        "Deferral before “Start”: the candidate left and came back later, as the guide allows."
    ),
    InterruptionKind.BLOCKED_SCREEN: N_(
        "Blocked screen: the guide's procedure was followed, the exam tab closed first, then "
        "the proctoring window, then back in with a reason to resume."
    ),
    InterruptionKind.OUTSIDE_EXAM: N_(
        "Proctoring tab closed outside the exam (before “Start” or after its end): the guide "
        "allows it, it is not a ground."
    ),
    InterruptionKind.EXAM_TAB_LEFT: N_(
        "Exam tab left with “Leave this tab”: the candidate's own choice, as the guide allows; the "
        "exam's time kept running and the tab could be reopened. Not a ground."
    ),
}


# The streams of the session's full log.
STREAM_WORDS: dict[str, str] = {
    "session": N_("session"),
    "attempt": N_("exam"),
    "review": N_("review"),
}


# The full log's other facts (not evidence a review cites), by their event's class name:
# the journal showed « InstructionsRead », « AnswerGiven » on French pages (a reviewer's finding).
FACT_WORDS: dict[str, str] = {
    "AccommodationApplied": N_("Accommodation applied"),
    "InstructionsRead": N_("Instructions read"),
    "DesignerRulesAttested": N_("Exam designer's rules attested"),
    "SecureModeAcknowledged": N_("Secure mode acknowledged"),
    "GeneralConditionsAttested": N_("General conditions attested"),
    "SoundHeard": N_("Sound heard"),
    "MicrophoneRecordingStarted": N_("Microphone recording started"),
    "MicrophoneRecordingStopped": N_("Microphone recording stopped"),
    "EnvironmentRecordingStarted": N_("Environment recording started"),
    "SegmentRecorded": N_("Recording segment"),
    "RecordingGap": N_("Recording gap"),
    "ScreenSegmentRecorded": N_("Screen recording segment"),
    "MediaDeleted": N_("Media deleted"),
    "AttemptOpened": N_("Exam opened"),
    "PracticeQuestionnaireTaken": N_("Practice questionnaire taken"),
    "TileSelected": N_("Certification chosen"),
    "WorkspaceRequested": N_("Exam tab requested"),
    "WorkspaceFailed": N_("Exam tab failed"),
    "WorkspaceTornDown": N_("Exam tab closed"),
    "AnswerGiven": N_("Answer given"),
    "ResultsShown": N_("Results shown"),
    "ReviewOpened": N_("Review opened"),
    "ExaminerAssigned": N_("Examiner assigned"),
    "EvidenceGathered": N_("Evidence gathered"),
    "VerdictRecommended": N_("Verdict recommended"),
    "ReviewDecided": N_("Review decided"),
    "ResultsReleased": N_("Result released"),
    "ReviewDueSoon": N_("Review due soon"),
    "ReviewOverdue": N_("Review overdue"),
    "ExaminerReassigned": N_("Examiner reassigned"),
    "AppealLodged": N_("Appeal lodged"),
    "AppealExaminerAssigned": N_("Appeal's examiner assigned"),
    "AppealDecided": N_("Appeal decided"),
}


# A rule set's or a verdict function's version in words (a reviewer's tour: the pages read
# « rules-2026-12 / verdict-2026-12 »): the month it took effect, and the variant a what-if
# study runs (domain.rules). The version itself stays beside it, in a title or the page's
# references: `vigie audit what-if --rules` takes it.
_VERSION = re.compile(r"^(rules|verdict)-(\d{4})-(\d{2})(?:-(.+))?$")
VERSION_WORDS: dict[str, str] = {
    "rules": N_("%(month)s rules"),
    "verdict": N_("%(month)s verdict function"),
    "": N_("%(month)s version"),  # beside a label that says which (« Règles : … »)
}
VARIANT_WORDS: dict[str, str] = {
    "strict-faces": N_("several faces at high confidence are a ground"),
    # Not a what-if: the rule set new enrolments get from December 2026 (R2's entry window).
    "live-slot": N_("a live-supervised exam opens only around its booked slot"),
    # From December 2026 too (FLAG-HINT), with the live-slot window.
    "flag-hint": N_(
        "a live-supervised exam opens only around its booked slot; invalidating a validated "
        "recommendation on detector flags alone takes written reasons"
    ),
}


def _version(version: str) -> tuple[str, date, str] | None:
    """A version's kind, month and variant; None for a version of another form."""
    found = _VERSION.match(version)
    if found is None or not 1 <= int(found.group(3)) <= 12:
        return None
    kind, year, month, variant = found.groups()
    return kind, date(int(year), int(month), 1), variant or ""


def version_words(version: str, lang: str, *, capital: bool = False, named: bool = True) -> str:
    """« règles de décembre 2026 », « fonction de verdict de décembre 2026 (variante :
    …) », or « version de décembre 2026 » when not `named` (a label says which); a version
    of another form as it is. `capital`: the first letter in capitals, to open a line."""
    parsed = _version(version)
    if parsed is None:
        return version
    kind, month, variant = parsed
    _ = gettext_for(lang)
    locale = LOCALES.get(lang, LOCALES["fr"])
    said = format_date(month, "LLLL y", locale=locale)
    text = _(VERSION_WORDS[kind if named else ""], month=said)
    if variant:
        which = _(VARIANT_WORDS[variant]) if variant in VARIANT_WORDS else variant
        text = _("%(version)s (variant: %(variant)s)", version=text, variant=which)
    return text[:1].upper() + text[1:] if capital else text


def versions_words(rules_version: str, verdict_version: str, lang: str) -> str:
    """The rule set and the verdict function a review was judged by, for a label that names
    both: « Version de décembre 2026 » when they go together (the same month and variant,
    as every rule set names its own), else each in words."""
    rules, verdict = _version(rules_version), _version(verdict_version)
    if rules is not None and verdict is not None and rules[1:] == verdict[1:]:
        return version_words(rules_version, lang, capital=True, named=False)
    # A rule set of the month that changed no verdict (rules-2026-12-live-slot, R2's entry
    # window, judges with verdict-2026-12): one version, its variant said.
    if rules is not None and verdict is not None and rules[1] == verdict[1] and not verdict[2]:
        return version_words(rules_version, lang, capital=True, named=False)
    return (
        version_words(rules_version, lang, capital=True)
        + ", "
        + version_words(verdict_version, lang)
    )


def environment_parts(history: Iterable[AggregateEvent]) -> dict[str, EnvironmentPart]:
    """The part of each environment recording's facts (started, stopped) in a session's
    history, by their place in the log (an evidence id, a full log's row): the evidence
    itself holds only the fact's kind (R10)."""
    return {
        f"{event.originator_id}/{event.originator_version}": event.part
        for event in history
        if isinstance(
            event,
            ProctoredSession.EnvironmentRecordingStarted
            | ProctoredSession.EnvironmentRecordingStopped,
        )
    }


def fact_words(what: str, lang: str, part: EnvironmentPart | None = None) -> str:
    """A fact of the full log in words: evidence by its kind (the event's class name), the
    others by FACT_WORDS; a name neither knows (a fact added later) stays as it is. An
    environment recording's facts name their `part` when it is given."""
    _ = gettext_for(lang)
    if part is not None and what == "EnvironmentRecordingStarted":
        return _(ENVIRONMENT_STARTED_WORDS[part])
    try:
        kind = EvidenceKind(what)
    except ValueError:
        return _(FACT_WORDS[what]) if what in FACT_WORDS else what
    if part is not None and kind is EvidenceKind.ENVIRONMENT_RECORDING_STOPPED:
        return _(ENVIRONMENT_WORDS[part])
    return _(EVIDENCE_WORDS[kind])


def ended_by_words(evidence: Evidence, lang: str) -> str:
    """How the exam ended, for an « Exam finished » fact; "" for any other fact."""
    if evidence.kind is not EvidenceKind.EXAM_FINISHED or evidence.note not in ENDED_BY_WORDS:
        return ""
    return gettext_for(lang)(ENDED_BY_WORDS[evidence.note])


def reason_words(reason: ReasonCode, lang: str) -> str:
    """The reason's label in the page's language."""
    return gettext_for(lang)(REASON_WORDS[reason])


def evidence_words(evidence: Evidence, lang: str, part: EnvironmentPart | None = None) -> str:
    """The kind in words, with the flag's kind when there is one, an environment recording's
    `part` (`environment_parts`) when given; the caller adds the local time (`local_time`
    filter)."""
    _ = gettext_for(lang)
    if part is not None and evidence.kind is EvidenceKind.ENVIRONMENT_RECORDING_STOPPED:
        return _(ENVIRONMENT_WORDS[part])
    if evidence.kind is EvidenceKind.SESSION_ENTERED and evidence.note.strip():
        return _(RESUMED)  # a return, with its reason to resume (R6)
    text = _(EVIDENCE_WORDS[evidence.kind])
    if evidence.flag is not None:
        text += f" ({_(FLAG_WORDS[evidence.flag])})"
    return text


def fact_moments(evidence: Sequence[Evidence]) -> dict[str, datetime]:
    """When each fact happened, as the examiner's moments show it and the verdict function
    reads it: a fact with a media span at its span's start on the session's clock (its first
    entry + start_s), the others when they were recorded. A detector's flag is recorded
    seconds after what it saw: the auditor's table read 22:09:11 where the examiner's
    moments read 22:08:41 for the same flag (a reviewer's finding)."""
    origin = media_origin(evidence)
    return {item.id: moment_of(item, origin) for item in evidence}


def flags_before_start(finding: Finding, evidence: Sequence[Evidence]) -> int:
    """How many of a hint's flags came before « Commencer », where someone may help (R21):
    counted as the verdict function counts them (an exam never begun: all of them)."""
    start = exam_window(evidence).start
    moments = fact_moments(evidence)
    return sum(
        1
        for evidence_id in finding.evidence_ids
        if evidence_id in moments and (start is None or utc(moments[evidence_id]) < utc(start))
    )


# --- a position in the recording -------------------------------------------------------------
# One way to say where in the recording, on every staff page (the moments beside the player,
# the evidence cited, the full log, the auditor's replay, an appeal) and under the player
# (playback.js `recordingTime`, its mirror): « 16:50 – 17:06 de l'enregistrement ». The
# moments read « 1 010 s – 1 026 s », the player « Seconde 1011 » and the log « de 16:50 à
# 17:06 » for one flag (a reviewer's finding): an examiner could not tell they were the same.
# The words say « of the recording » because a bare « 16:50 » beside the fact's local time
# (« 14:15:00 ») reads as an hour of the day.
RECORDING_SPAN = N_("%(start)s – %(end)s into the recording")
RECORDING_AT = N_("%(time)s into the recording")


def recording_time(seconds: float, lang: str = "fr") -> str:
    """« 16:50 », « 1:09:12 », « 0:11,9 »: a position in the recording as a player counts
    it, minutes:seconds from its start (hours past the first hour), rounded to the tenth of
    a second and its tenth shown only when it has one, in the reader's decimal mark: a gap's
    bounds then agree with its length shown to the tenth (« not recorded: 5,3 s »)."""
    tenths = math.floor(seconds * 10 + 0.5)  # half up, as playback.js's Math.round
    whole, tenth = divmod(tenths, 10)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    if tenth:
        text += f"{decimal_mark(lang)}{tenth}"
    return text


def decimal_mark(lang: str) -> str:
    """The reader's decimal mark (« , », « . »), for playback.js's `recordingTime`."""
    return str(get_decimal_symbol(lang))


def span_words(start_s: float, end_s: float, lang: str = "fr") -> str:
    """« 16:50 – 17:06 de l'enregistrement »: a span of the recording, its bounds by
    `recording_time`; an instant (a detector's signal) as one position, « 0:13 de
    l'enregistrement », not « 0:13 – 0:13 »."""
    start, end = recording_time(start_s, lang), recording_time(end_s, lang)
    if start == end:
        return gettext_for(lang)(RECORDING_AT, time=start)
    return gettext_for(lang)(RECORDING_SPAN, start=start, end=end)


def position_words(seconds: float, lang: str = "fr") -> str:
    """« 16:50 de l'enregistrement »: one position (the player's caption says it so)."""
    return gettext_for(lang)(RECORDING_AT, time=recording_time(seconds, lang))


def seconds_words(seconds: float, lang: str) -> str:
    """A number of seconds to the tenth, in the reader's language (« 5,3 », « 12 »)."""
    return str(format_decimal(round(seconds, 1), locale=lang))


def length_words(seconds: float, lang: str) -> str:
    """A length as people say it: « 45 s », « 12 min 05 s », « 1 h 09 min » (a reviewer's
    tour read « Enregistré : 4 140 s » for an hour-long exam)."""
    if seconds < 60:
        return f"{seconds_words(seconds, lang)} s"
    _ = gettext_for(lang)
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(hours)s h %(minutes)s min", hours=hours, minutes=f"{minutes:02d}")
    return _("%(minutes)s min %(seconds)s s", minutes=minutes, seconds=f"{secs:02d}")


@dataclass(frozen=True)
class RegisteredName:
    """The name the candidate was enrolled under for this exam (read through the sealed
    Candidate stream)."""

    surname: str
    first_name: str
    erased: bool

    def words(self, lang: str) -> str:
        """« Camille MARTIN »: the review's facts, the name beside the ID photo
        (app.person_names)."""
        if self.erased:
            return gettext_for(lang)(ERASED_PERSON)
        return name_in_text(self.surname, self.first_name)

    def listed(self, lang: str) -> str:
        """« MARTIN Camille »: a list of reviews or appeals (app.person_names)."""
        if self.erased:
            return gettext_for(lang)(ERASED_PERSON)
        return name_in_list(self.surname, self.first_name)


def registered_name(ctx: Context, projections: Projections, review: Review) -> RegisteredName:
    """The name the ID photo is judged against (R9; R20 « ID ≠ registered name »): the one
    the candidate was registered under for THIS exam, as the centre that enrolled her for it
    typed it (Candidate.names_for). Another centre may have typed other names for its own
    enrolment of the same person: they are that centre's, never shown for this exam (security
    finding F1), and the guide compares the ID with the name of the enrolment being sat. An
    erased person's name is gone (R-privacy)."""
    try:
        candidate = ctx.store.get(review.candidate_id, Candidate)
    except LookupError:
        return RegisteredName("", "", erased=True)
    if candidate.erased_at is not None:
        return RegisteredName("", "", erased=True)
    surname, first_name = candidate.names_for(enrolment_of(ctx, projections, review.session_id))
    return RegisteredName(surname, first_name, erased=False)


def enrolment_of(ctx: Context, projections: Projections, session_id: UUID) -> UUID:
    """The enrolment an exam session belongs to: from the read model (ids only), or the
    session's own stream when the read model has not met it yet."""
    summary = projections.sessions.get(session_id)
    if summary is not None:
        return summary.enrollment_id
    return ctx.store.get(session_id, ProctoredSession).enrollment_id
