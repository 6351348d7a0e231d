"""The guide's checks before the exam, declared once (ÉTAPE 2 and 3 of the candidate guide).

One table says, for every step, its rule (R7–R10), the section of the guide it belongs to and
what the candidate does. The proctored session reads its order and rules from it, evidence
types its waived photo with it, and pages list the sections from it instead of repeating them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Step(StrEnum):
    """The checks before the exam, in the guide's order."""

    INSTRUCTIONS_READ = "instructions_read"
    DESIGNER_RULES_ATTESTED = "designer_rules_attested"
    SECURE_MODE_ACKNOWLEDGED = "secure_mode_acknowledged"
    GENERAL_CONDITIONS_ATTESTED = "general_conditions_attested"
    SOUND_HEARD = "sound_heard"
    MICROPHONE_TESTED = "microphone_tested"
    CAMERA_CHECKED = "camera_checked"
    CONNECTION_TESTED = "connection_tested"
    FACE_PHOTO = "face_photo"
    ID_PHOTO = "id_photo"
    EARS_RECORDED = "ears_recorded"
    ROOM_RECORDED = "room_recorded"
    DESK_RECORDED = "desk_recorded"


class GuideSection(StrEnum):
    """The guide's headings the checks are grouped under (the candidate's progress bar)."""

    CONDITIONS = "conditions"  # « Conditions générales »
    EQUIPMENT = "equipment"  # « Vérifications de l'équipement »
    IDENTITY = "identity"  # « Identification »
    ENVIRONMENT = "environment"  # « Environnement »


@dataclass(frozen=True)
class StepInfo:
    """What the guide says of one step: its rule, its section and what the candidate does
    (English, for refusals; pages translate the step's value through their catalogue)."""

    rule: str
    section: GuideSection
    label: str


GUIDE_STEPS: dict[Step, StepInfo] = {
    Step.INSTRUCTIONS_READ: StepInfo("R7", GuideSection.CONDITIONS, "read the exam instructions"),
    Step.DESIGNER_RULES_ATTESTED: StepInfo(
        "R7", GuideSection.CONDITIONS, "attest the designer's rules (checkbox)"
    ),
    Step.SECURE_MODE_ACKNOWLEDGED: StepInfo(
        "R7", GuideSection.CONDITIONS, "acknowledge secure mode ('Continuer')"
    ),
    Step.GENERAL_CONDITIONS_ATTESTED: StepInfo(
        "R7", GuideSection.CONDITIONS, "attest the general conditions (checkbox)"
    ),
    Step.SOUND_HEARD: StepInfo("R8", GuideSection.EQUIPMENT, "confirm the sound was heard"),
    Step.MICROPHONE_TESTED: StepInfo(
        "R8", GuideSection.EQUIPMENT, "start then stop the microphone recording"
    ),
    Step.CAMERA_CHECKED: StepInfo("R8", GuideSection.EQUIPMENT, "check the camera"),
    Step.CONNECTION_TESTED: StepInfo("R8", GuideSection.EQUIPMENT, "pass the connection test"),
    Step.FACE_PHOTO: StepInfo("R9", GuideSection.IDENTITY, "take the face photo, then 'Suivant'"),
    Step.ID_PHOTO: StepInfo(
        "R9", GuideSection.IDENTITY, "take the ID-document photo, then 'Suivant'"
    ),
    Step.EARS_RECORDED: StepInfo("R10", GuideSection.ENVIRONMENT, "record the ears"),
    Step.ROOM_RECORDED: StepInfo("R10", GuideSection.ENVIRONMENT, "record the room"),
    Step.DESK_RECORDED: StepInfo("R10", GuideSection.ENVIRONMENT, "record the desk"),
}

STEPS: tuple[Step, ...] = tuple(Step)
STEP_RULE: dict[Step, str] = {step: info.rule for step, info in GUIDE_STEPS.items()}
STEP_LABEL: dict[Step, str] = {step: info.label for step, info in GUIDE_STEPS.items()}
PHOTO_STEPS: tuple[Step, ...] = (Step.FACE_PHOTO, Step.ID_PHOTO)  # R9: the waivable ones


def steps_by_section() -> tuple[tuple[GuideSection, tuple[Step, ...]], ...]:
    """The sections in the guide's order, each with its steps in order (for pages)."""
    return tuple(
        (section, tuple(s for s in STEPS if GUIDE_STEPS[s].section is section))
        for section in GuideSection
    )
