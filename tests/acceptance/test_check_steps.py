"""Where the candidate is in the checks, in words (issue 13): the guide's four stages, « Étape
2 sur 4 — Vérifications de l'équipement » and the check inside the stage, in both languages,
never a raw count of the thirteen steps."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.use_cases import proctoring
from domain.guide import Step
from domain.proctored_session import ProctoredSession
from ui.journey import Journey, make_platform
from ui.web.check_steps import just_done, where

# (how far the journey goes, English lines, French lines, the stages' states)
PLACES: list[tuple[Callable[[Journey], object], tuple[str, str], tuple[str, str], str]] = [
    (
        lambda j: j.enter(),
        ("Step 1 of 4 — General conditions", "Exam instructions — screen 1 of 4 of this step"),
        (
            "Étape 1 sur 4 — Conditions générales",
            "Instructions de l'examen — écran 1 sur 4 de cette étape",
        ),
        "current next next next",
    ),
    (
        Journey.pass_attestations,
        ("Step 2 of 4 — Equipment checks", "Sound test — screen 1 of 4 of this step"),
        (
            "Étape 2 sur 4 — Vérifications de l'équipement",
            "Test du son — écran 1 sur 4 de cette étape",
        ),
        "done current next next",
    ),
    (
        Journey.pass_equipment,
        ("Step 3 of 4 — Identification", "Photo of your face — screen 1 of 2 of this step"),
        ("Étape 3 sur 4 — Identification", "Photo de votre visage — écran 1 sur 2 de cette étape"),
        "done done current next",
    ),
    (
        Journey.take_photos,
        ("Step 4 of 4 — Surroundings", "Recording of your ears — screen 1 of 3 of this step"),
        (
            "Étape 4 sur 4 — Environnement",
            "Enregistrement des oreilles — écran 1 sur 3 de cette étape",
        ),
        "done done done current",
    ),
]


@pytest.mark.parametrize("upto", range(len(PLACES)))
def test_each_stage_is_said_in_words_in_french_and_english(upto: int) -> None:
    journey = Journey(make_platform())
    journey.enrol()
    journey.create_session()
    for go, *_ in PLACES[: upto + 1]:
        go(journey)
    _, english, french, states = PLACES[upto]
    session = journey.ctx.store.get(journey.session_id, ProctoredSession)
    for language, lines in (("en", english), ("fr", french)):
        found = where(session, language)
        assert found is not None
        assert (found.stage_line, found.check_line) == lines
        assert " ".join(stage.state for stage in found.stages) == states


def test_once_the_exam_is_launched_there_is_no_stage_left() -> None:
    journey = Journey(make_platform())
    journey.enrol()
    journey.create_session()
    journey.through_checks()
    session = journey.ctx.store.get(journey.session_id, ProctoredSession)
    assert where(session, "fr") is None


def test_the_microphone_test_just_done_is_shown_done_only_until_the_next_check() -> None:
    """After the microphone's « Arrêter » the page's address names it: reloaded there, the
    page shows the microphone test done (with « Suivant »), not the camera test; once the
    camera is checked, or for any other name, the address changes nothing."""
    journey = Journey(make_platform())
    journey.enrol()
    journey.create_session()
    journey.enter()
    journey.pass_attestations()
    sid = journey.session_id
    assert sid is not None
    ctx = journey.ctx

    def session() -> ProctoredSession:
        return ctx.store.get(sid, ProctoredSession)

    proctoring.confirm_sound_heard(ctx, sid)
    assert just_done(session(), "microphone_tested") is None  # not done yet
    proctoring.start_microphone_recording(ctx, sid)
    proctoring.stop_microphone_recording(ctx, sid)
    assert just_done(session(), "microphone_tested") is Step.MICROPHONE_TESTED
    shown = where(session(), "fr", Step.MICROPHONE_TESTED)
    assert shown is not None and shown.check_line.startswith("Test du micro — écran 2 sur 4")
    for other in ("sound_heard", "camera_checked", "", "nonsense"):
        assert just_done(session(), other) is None, other
    proctoring.check_camera(ctx, sid, working=False)  # recorded, not passed: still just done
    assert just_done(session(), "microphone_tested") is Step.MICROPHONE_TESTED
    proctoring.check_camera(ctx, sid, working=True)
    assert just_done(session(), "microphone_tested") is None
