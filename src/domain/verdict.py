"""The recommended verdict: a pure, versioned function of the recorded evidence.

A review records which version recommended what. Old versions stay here unchanged so that
an auditor replays a decision with the function that made it; a new policy is a new version.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from domain.errors import InvalidArgument
from domain.evidence import Evidence, FlagKind, ReasonCode, Verdict
from domain.rules import RuleSet


@dataclass(frozen=True)
class Finding:
    """A reason the function found, with the evidence it rests on and the rule behind it."""

    reason: ReasonCode
    rule: str
    evidence_ids: tuple[str, ...]
    explanation: str


@dataclass(frozen=True)
class Recommendation:
    """Grounds decide the recommended verdict; hints only point the examiner to a moment."""

    version: str
    verdict: Verdict
    grounds: tuple[Finding, ...]
    hints: tuple[Finding, ...]


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


VerdictFunction = Callable[[Sequence[Evidence], RuleSet], Recommendation]

# Every version ever used stays here unchanged: a review is replayed with the one it recorded.
VERDICT_FUNCTIONS: dict[str, VerdictFunction] = {
    "verdict-2025-03": _verdict_2025_03,
    "verdict-2025-03-strict-faces": _verdict_2025_03_strict_faces,
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
