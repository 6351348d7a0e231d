"""The recommended verdict: a pure, versioned function of the recorded evidence.

A review records which version recommended what. Old versions stay here unchanged so that
an auditor replays a decision with the function that made it; a new policy is a new version.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.errors import InvalidArgument
from domain.evidence import Evidence, EvidenceKind, FlagKind, ReasonCode, Verdict
from domain.guide import Step
from domain.rules import RuleSet, utc


@dataclass(frozen=True)
class Finding:
    """A reason the function found, with the evidence it rests on and the rule behind it."""

    reason: ReasonCode
    rule: str
    evidence_ids: tuple[str, ...]
    explanation: str


class InterruptionKind(StrEnum):
    """A way of leaving the exam the guide allows: shown to the examiner, never a ground."""

    DEFERRAL = "deferral"  # R14: left before « Commencer », to come back later
    BLOCKED_SCREEN = "blocked_screen"  # R23: exam tab, then proctoring window, then resume
    OUTSIDE_EXAM = "outside_exam"  # R17: the proctoring tab closed before or after the exam
    EXAM_TAB_LEFT = "exam_tab_left"  # R23: the exam tab left with « Quitter », then reopened


@dataclass(frozen=True)
class Interruption:
    """An interruption recognised from the facts, with the evidence it rests on."""

    kind: InterruptionKind
    rule: str
    evidence_ids: tuple[str, ...]
    explanation: str


@dataclass(frozen=True)
class Recommendation:
    """Grounds decide the recommended verdict; hints only point the examiner to a moment;
    interruptions (from verdict-2026-12) say where the candidate left as the guide allows."""

    version: str
    verdict: Verdict
    grounds: tuple[Finding, ...]
    hints: tuple[Finding, ...]
    # Added with verdict-2026-12: the default keeps older recommendations readable and
    # equal to what the older versions still compute.
    interruptions: tuple[Interruption, ...] = ()


_FLAG_REASON: dict[FlagKind, ReasonCode] = {
    FlagKind.SEVERAL_FACES: ReasonCode.THIRD_PARTY_HELP,
    FlagKind.VOICE: ReasonCode.THIRD_PARTY_HELP,
    FlagKind.FACE_ABSENT: ReasonCode.WEBCAM_UNUSABLE,
    FlagKind.PHONE: ReasonCode.PHONE_USED,
    FlagKind.HEADPHONES: ReasonCode.HEADPHONES,
    FlagKind.TAB_FOCUS_LOST: ReasonCode.INFORMATION_SOURCES,
    FlagKind.SECOND_SCREEN: ReasonCode.INFORMATION_SOURCES,
    # The proctoring page's own signals (issue 7): hints of other sources on screen. No
    # decision before them could have met them, so earlier replays are unchanged.
    FlagKind.VISIBILITY_LOST: ReasonCode.INFORMATION_SOURCES,
    FlagKind.FULLSCREEN_LEFT: ReasonCode.INFORMATION_SOURCES,
    FlagKind.COPY_PASTE: ReasonCode.INFORMATION_SOURCES,
    # Issue 16: a screen no longer shared may hide other sources. No earlier decision met it.
    FlagKind.SCREEN_SHARE_STOPPED: ReasonCode.INFORMATION_SOURCES,
}


def _anchor(evidence: Sequence[Evidence]) -> tuple[str, ...]:
    """What an absence is cited against: the exam's launch, else the first fact."""
    for item in evidence:
        if item.kind == "ExamLaunched":
            return (item.id,)
    return (evidence[0].id,) if evidence else ()


def _waived(evidence: Sequence[Evidence], step: str) -> tuple[str, ...]:
    """The support's waiver of a photo, when that is why it is missing."""
    return tuple(i.id for i in evidence if i.kind == "PhotoWaived" and i.note.startswith(step))


def _verdict_2025_03(evidence: Sequence[Evidence], rules: RuleSet) -> Recommendation:
    kinds = {item.kind for item in evidence}
    grounds: list[Finding] = []
    if "FacePhotoConfirmed" not in kinds:
        grounds.append(
            Finding(
                ReasonCode.IDENTITY_NOT_VERIFIABLE,
                "R9",
                _waived(evidence, "face_photo") or _anchor(evidence),
                "no face photo was taken: a missing face photo invalidates the exam",
            )
        )
    if "IdPhotoConfirmed" not in kinds:
        grounds.append(
            Finding(
                ReasonCode.IDENTITY_NOT_VERIFIABLE,
                "R9",
                _waived(evidence, "id_photo") or _anchor(evidence),
                "no ID-document photo was taken: a missing ID photo invalidates the exam",
            )
        )
    closed = tuple(i.id for i in evidence if i.kind == "ProctoringTabClosed" and i.during_exam)
    if closed:
        grounds.append(
            Finding(
                ReasonCode.PROCTORING_TAB_CLOSED,
                "R17",
                closed,
                "the proctoring tab was closed during the exam",
            )
        )
    flagged: dict[ReasonCode, list[str]] = {}
    for item in evidence:
        if item.kind == "FlagRaised" and item.flag is not None:
            flagged.setdefault(_FLAG_REASON[item.flag], []).append(item.id)
    excusable = any(i.kind == "TechnicalProblemRecorded" for i in evidence)
    hints = tuple(
        Finding(
            reason,
            "R20",
            tuple(ids),
            f"{len(ids)} detector flag(s) to check in the recording"
            + (
                " (a technical problem was recorded: a phone may be allowed)"
                if reason is ReasonCode.PHONE_USED and excusable
                else ""
            ),
        )
        for reason, ids in sorted(flagged.items(), key=lambda kv: list(ReasonCode).index(kv[0]))
    )
    verdict = Verdict.INVALIDATED if grounds else Verdict.VALIDATED
    return Recommendation("verdict-2025-03", verdict, tuple(grounds), hints)


# A stricter alternative for what-if studies: several faces seen by the detector with a high
# confidence become a ground (R21: from the exam's start the candidate must be alone), not a
# hint. Never the default: a detector's flag is a hint in the product (design/product.md).
SEVERAL_FACES_GROUND_CONFIDENCE = 0.8


def _verdict_2025_03_strict_faces(evidence: Sequence[Evidence], rules: RuleSet) -> Recommendation:
    base = _verdict_2025_03(evidence, rules)
    faces = tuple(
        i.id
        for i in evidence
        if i.kind == "FlagRaised"
        and i.flag is FlagKind.SEVERAL_FACES
        and (i.confidence or 0.0) >= SEVERAL_FACES_GROUND_CONFIDENCE
    )
    grounds = base.grounds
    if faces:
        grounds = (
            *grounds,
            Finding(
                ReasonCode.THIRD_PARTY_HELP,
                "R21",
                faces,
                f"{len(faces)} several-faces flag(s) with confidence ≥ "
                f"{SEVERAL_FACES_GROUND_CONFIDENCE}: the candidate was not alone",
            ),
        )
    verdict = Verdict.INVALIDATED if grounds else Verdict.VALIDATED
    return Recommendation("verdict-2025-03-strict-faces", verdict, grounds, base.hints)


# --- verdict-2026-12: R17 inside the exam window, R23 and R14 as interruptions, R21 ----------
#
# The window is the exam itself: from « Commencer » (ExamBegun) to the end (ExamValidated,
# ExamQuit, or ExamFinished when the time ran out). A fact that points to the recording is
# placed on the clock by its media span: seconds from the first SessionEntered.

# How an exam that the candidate did not end themselves finished (ExamFinished.ended_by).
_TIME_RAN_OUT = frozenset({"time_limit", "midnight"})
_WINDOW_ENDS = frozenset({EvidenceKind.EXAM_VALIDATED, EvidenceKind.EXAM_QUIT})

# The exam tab gone: lost (closed, noticed by the server) or left with its « Quitter » (R23).
# WorkspaceLeft is recorded from December 2026 on, in no log before: reading it changes no
# earlier review's replay (test_verdict_2026_12 checks both).
_TAB_GONE = frozenset({EvidenceKind.WORKSPACE_LOST, EvidenceKind.WORKSPACE_LEFT})

# R23 asks to close the exam tab first; the server notices the workspace is gone only after
# its heartbeat grace (30 s) and the worker's next round, while the proctoring tab's closure
# dates from its last heartbeat. A loss recorded up to this long after the proctoring tab
# went quiet still came first. It bounds what a candidate could do unwatched by closing the
# proctoring tab first: at most this long, and shown to the examiner as an interruption.
WORKSPACE_LOSS_NOTICE_S = 60.0


@dataclass(frozen=True)
class ExamWindow:
    """From « Commencer » to the end of the exam; empty when the exam never began."""

    start: datetime | None
    end: datetime | None  # None: the exam had not ended when the evidence was gathered

    def holds(self, moment: datetime) -> bool:
        if self.start is None or utc(moment) < utc(self.start):
            return False
        return self.end is None or utc(moment) <= utc(self.end)


def exam_window(evidence: Sequence[Evidence]) -> ExamWindow:
    """The exam window derived from the attempt's facts among the evidence."""
    begun = [i.at for i in evidence if i.kind == EvidenceKind.EXAM_BEGUN]
    if not begun:
        return ExamWindow(None, None)
    start = min(begun, key=utc)
    ends = [
        i.at
        for i in evidence
        if (
            i.kind in _WINDOW_ENDS
            or (i.kind == EvidenceKind.EXAM_FINISHED and i.note in _TIME_RAN_OUT)
        )
        and utc(i.at) >= utc(start)
    ]
    return ExamWindow(start, min(ends, key=utc) if ends else None)


def media_origin(evidence: Sequence[Evidence]) -> datetime | None:
    """The wall time of the recording's second 0 (the session's first entry), from which
    every media span counts."""
    entered = [i.at for i in evidence if i.kind == EvidenceKind.SESSION_ENTERED]
    return min(entered, key=utc) if entered else None


def moment_of(item: Evidence, origin: datetime | None) -> datetime:
    """When a fact happened: its media span's start on the session's clock when it has one
    (a closure is noticed after its grace period, a detector reports late), else when it
    was recorded."""
    if item.span is None or origin is None:
        return item.at
    return utc(origin) + timedelta(seconds=item.span.start_s)


def _blocked_screen(
    closure: Evidence, moment: datetime, evidence: Sequence[Evidence], window: ExamWindow
) -> tuple[str, ...]:
    """R23, recognised from the facts: the exam's workspace was lost (its tab closed) before
    the proctoring tab went and not reconnected in between, and the candidate entered again
    afterwards (with the resume reason R6 asks). The evidence of the procedure, or ()."""
    at = utc(moment)
    notice = timedelta(seconds=WORKSPACE_LOSS_NOTICE_S)
    reconnections = [utc(i.at) for i in evidence if i.kind == EvidenceKind.WORKSPACE_CONNECTED]
    losses = [
        i
        for i in evidence
        if i.kind in _TAB_GONE
        and window.holds(i.at)
        and utc(i.at) <= at + notice
        and not any(utc(i.at) < back < at for back in reconnections)
    ]
    reentries = [
        i for i in evidence if i.kind == EvidenceKind.SESSION_ENTERED and i.note and utc(i.at) > at
    ]
    if not losses or not reentries:
        return ()
    loss = max(losses, key=lambda i: utc(i.at))
    reentry = min(reentries, key=lambda i: utc(i.at))
    return (loss.id, closure.id, reentry.id)


def _photo_grounds_2026_12(evidence: Sequence[Evidence]) -> list[Finding]:
    """R9 as before, the waived photo read from its typed step."""
    kinds = {item.kind for item in evidence}
    grounds: list[Finding] = []
    for confirmed, step, what in (
        (EvidenceKind.FACE_PHOTO_CONFIRMED, Step.FACE_PHOTO, "face photo"),
        (EvidenceKind.ID_PHOTO_CONFIRMED, Step.ID_PHOTO, "ID-document photo"),
    ):
        if confirmed not in kinds:
            waived = tuple(
                i.id
                for i in evidence
                if i.kind == EvidenceKind.PHOTO_WAIVED and i.waived_step is step
            )
            grounds.append(
                Finding(
                    ReasonCode.IDENTITY_NOT_VERIFIABLE,
                    "R9",
                    waived or _anchor(evidence),
                    f"no {what} was taken: a missing {what} invalidates the exam",
                )
            )
    return grounds


def _hints_2026_12(
    evidence: Sequence[Evidence], window: ExamWindow, origin: datetime | None
) -> tuple[Finding, ...]:
    """Every flag is a hint; those before « Commencer » are said to be (R21: someone may
    help at connection time)."""
    flagged: dict[ReasonCode, list[Evidence]] = {}
    for item in evidence:
        if item.kind == EvidenceKind.FLAG_RAISED and item.flag is not None:
            flagged.setdefault(_FLAG_REASON[item.flag], []).append(item)
    excusable = any(i.kind == EvidenceKind.TECHNICAL_PROBLEM_RECORDED for i in evidence)
    hints = []
    for reason, items in sorted(flagged.items(), key=lambda kv: list(ReasonCode).index(kv[0])):
        before = sum(
            1
            for i in items
            if window.start is None or utc(moment_of(i, origin)) < utc(window.start)
        )
        text = f"{len(items)} detector flag(s) to check in the recording"
        if before:
            text += f" ({before} before « Commencer »: help at connection time is allowed, R21)"
        if reason is ReasonCode.PHONE_USED and excusable:
            text += " (a technical problem was recorded: a phone may be allowed)"
        hints.append(Finding(reason, "R20", tuple(i.id for i in items), text))
    return tuple(hints)


def _verdict_2026_12(evidence: Sequence[Evidence], rules: RuleSet) -> Recommendation:
    window = exam_window(evidence)
    origin = media_origin(evidence)
    grounds = _photo_grounds_2026_12(evidence)
    interruptions: list[Interruption] = []
    deferrals = tuple(i.id for i in evidence if i.kind == EvidenceKind.EXAM_DEFERRED)
    if deferrals:
        interruptions.append(
            Interruption(
                InterruptionKind.DEFERRAL,
                "R14",
                deferrals,
                f"{len(deferrals)} deferral(s) before « Commencer », as the guide allows",
            )
        )
    closed: list[str] = []
    for item in evidence:
        if item.kind != EvidenceKind.PROCTORING_TAB_CLOSED:
            continue
        moment = moment_of(item, origin)
        if not window.holds(moment):
            interruptions.append(
                Interruption(
                    InterruptionKind.OUTSIDE_EXAM,
                    "R17",
                    (item.id,),
                    "the proctoring tab was closed outside the exam (before « Commencer » "
                    "or after its end): not a ground",
                )
            )
        elif procedure := _blocked_screen(item, moment, evidence, window):
            interruptions.append(
                Interruption(
                    InterruptionKind.BLOCKED_SCREEN,
                    "R23",
                    procedure,
                    "blocked screen: the exam tab was closed first, then the proctoring "
                    "window, and the candidate came back with a resume reason (R6)",
                )
            )
        else:
            closed.append(item.id)
    cited = {i for it in interruptions for i in it.evidence_ids}
    left = tuple(
        i.id for i in evidence if i.kind == EvidenceKind.WORKSPACE_LEFT and i.id not in cited
    )
    if left:
        interruptions.append(
            Interruption(
                InterruptionKind.EXAM_TAB_LEFT,
                "R23",
                left,
                f"the candidate left the exam tab with « Quitter » {len(left)} time(s), as "
                "the guide allows (the exam's time kept running)",
            )
        )
    if closed:
        grounds.append(
            Finding(
                ReasonCode.PROCTORING_TAB_CLOSED,
                "R17",
                tuple(closed),
                "the proctoring tab was closed during the exam (from « Commencer » to its end)",
            )
        )
    verdict = Verdict.INVALIDATED if grounds else Verdict.VALIDATED
    return Recommendation(
        "verdict-2026-12",
        verdict,
        tuple(grounds),
        _hints_2026_12(evidence, window, origin),
        tuple(interruptions),
    )


def _verdict_2026_12_strict_faces(evidence: Sequence[Evidence], rules: RuleSet) -> Recommendation:
    """What-if only: several faces at high confidence inside the exam window are grounds
    (R21); before « Commencer » they stay hints, as help at connection time is allowed."""
    base = _verdict_2026_12(evidence, rules)
    window = exam_window(evidence)
    origin = media_origin(evidence)
    faces = tuple(
        i.id
        for i in evidence
        if i.kind == EvidenceKind.FLAG_RAISED
        and i.flag is FlagKind.SEVERAL_FACES
        and (i.confidence or 0.0) >= SEVERAL_FACES_GROUND_CONFIDENCE
        and window.holds(moment_of(i, origin))
    )
    grounds = base.grounds
    if faces:
        grounds = (
            *grounds,
            Finding(
                ReasonCode.THIRD_PARTY_HELP,
                "R21",
                faces,
                f"{len(faces)} several-faces flag(s) with confidence ≥ "
                f"{SEVERAL_FACES_GROUND_CONFIDENCE} during the exam: the candidate was not "
                "alone",
            ),
        )
    verdict = Verdict.INVALIDATED if grounds else Verdict.VALIDATED
    return Recommendation(
        "verdict-2026-12-strict-faces", verdict, grounds, base.hints, base.interruptions
    )


VerdictFunction = Callable[[Sequence[Evidence], RuleSet], Recommendation]

# Every version ever used stays here unchanged: a review is replayed with the one it recorded.
VERDICT_FUNCTIONS: dict[str, VerdictFunction] = {
    "verdict-2025-03": _verdict_2025_03,
    "verdict-2025-03-strict-faces": _verdict_2025_03_strict_faces,
    "verdict-2026-12": _verdict_2026_12,
    "verdict-2026-12-strict-faces": _verdict_2026_12_strict_faces,
}


def recommend(evidence: Sequence[Evidence], rules: RuleSet) -> Recommendation:
    """Run the verdict function named by the frozen rule set over the evidence."""
    return recommend_with(rules.verdict_version, evidence, rules)


def recommend_with(version: str, evidence: Sequence[Evidence], rules: RuleSet) -> Recommendation:
    """Run a named version of the verdict function (an audit replays the recorded one)."""
    try:
        function = VERDICT_FUNCTIONS[version]
    except KeyError:
        known = ", ".join(sorted(VERDICT_FUNCTIONS))
        raise InvalidArgument(
            "verdict_version", f"unknown verdict function {version!r} (known: {known})"
        ) from None
    return function(evidence, rules)
