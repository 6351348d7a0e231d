"""Where the candidate is in the checks, in words (issue 13): the guide's four stages for the
stepper, "Step 2 of 4 — Equipment checks", and the check inside the stage ("Sound test,
1 of 4"). The order and grouping come from the domain's guide table; only the words are here.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.guide import GUIDE_STEPS, GuideSection, Step
from domain.proctored_session import MIN_RECORDING_S, PART_STEP, ProctoredSession
from ui.web.i18n import N_, gettext_for

STAGE_LABEL: dict[GuideSection, str] = {
    GuideSection.CONDITIONS: N_("General conditions"),
    GuideSection.EQUIPMENT: N_("Equipment checks"),
    GuideSection.IDENTITY: N_("Identification"),
    GuideSection.ENVIRONMENT: N_("Surroundings"),
}
STAGES: tuple[GuideSection, ...] = tuple(GuideSection)

CHECK_LABEL: dict[Step, str] = {
    Step.INSTRUCTIONS_READ: N_("Exam instructions"),
    Step.DESIGNER_RULES_ATTESTED: N_("Your teacher's instructions"),
    Step.SECURE_MODE_ACKNOWLEDGED: N_("Secure mode"),
    Step.GENERAL_CONDITIONS_ATTESTED: N_("General conditions"),
    Step.SOUND_HEARD: N_("Sound test"),
    Step.MICROPHONE_TESTED: N_("Microphone test"),
    Step.CAMERA_CHECKED: N_("Camera test"),
    Step.CONNECTION_TESTED: N_("Connection test"),
    Step.FACE_PHOTO: N_("Photo of your face"),
    Step.ID_PHOTO: N_("Photo of your ID document"),
    Step.EARS_RECORDED: N_("Recording of your ears"),
    Step.ROOM_RECORDED: N_("Recording of the room"),
    Step.DESK_RECORDED: N_("Recording of your desk"),
}

# R10: the minimum length of each recording, by step (the page's countdown).
MIN_SECONDS: dict[Step, float] = {PART_STEP[p]: s for p, s in MIN_RECORDING_S.items()}


@dataclass(frozen=True)
class Stage:
    label: str
    state: str  # "done", "current" or "next"


@dataclass(frozen=True)
class Where:
    """What the stepper and the line under it say."""

    stages: tuple[Stage, ...]
    stage_line: str  # "Step 2 of 4 — Equipment checks"
    check_line: str  # "Sound test (1 of 4)"


def where(session: ProctoredSession, language: str, shown: Step | None = None) -> Where | None:
    """The candidate's place in the checks, or None once they are done; `shown`: the check
    the page shows done (`just_done`), where the next one is not shown yet."""
    step = shown or session.next_step
    if step is None:
        return None
    _ = gettext_for(language)
    current = GUIDE_STEPS[step].section
    at = STAGES.index(current)
    stages = tuple(
        Stage(_(STAGE_LABEL[s]), "done" if i < at else "current" if i == at else "next")
        for i, s in enumerate(STAGES)
    )
    in_stage = [s for s, info in GUIDE_STEPS.items() if info.section is current]
    return Where(
        stages=stages,
        stage_line=_(
            "Step %(n)s of %(count)s — %(stage)s",
            n=at + 1,
            count=len(STAGES),
            stage=_(STAGE_LABEL[current]),
        ),
        # « Instructions de l'examen (1 sur 4) » under « Étape 1 sur 4 » read as a second
        # count of the same thing (a reviewer's finding): this one says it is within the step.
        check_line=_(
            "%(check)s — screen %(n)s of %(count)s of this step",
            check=_(CHECK_LABEL[step]),
            n=in_stage.index(step) + 1,
            count=len(in_stage),
        ),
    )


# A check whose completion does not move the page on by itself: after the microphone's
# « Arrêter » the candidate listens to her voice, then clicks « Suivant ». The page's address
# then names it (`?after=microphone_tested`): reloaded there, the page showed the camera test
# without a word, the microphone test counted done behind her back (a user tour).
SHOWN_DONE = frozenset({Step.MICROPHONE_TESTED})


def just_done(session: ProctoredSession, after: str) -> Step | None:
    """The check the address names, if it is one shown done and the last one done (nothing
    after it done yet): the page shows it done, with « Suivant »; otherwise None."""
    try:
        step = Step(after)
    except ValueError:
        return None
    if step not in SHOWN_DONE or session.next_step is None or not session.completed:
        return None
    return step if session.completed[-1] is step else None
