"""R8: the connection test's result stays shown, as it is recorded (a user's tour: it
vanished when she moved on or reloaded). In Chromium, the test run by the page's script: on
the next check, and after a reload, « Test de connexion enregistré : réussi » with its
measures; a failed test recorded is shown again on the connection step after a reload, with
« Relancer le test ». fr and en, at 390 px."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.use_cases import proctoring
from domain.guide import Step
from domain.proctored_session import ProctoredSession
from tests.browser.conftest import Server
from tests.browser.test_checks_screens import logged_in

SHOTS = Path("/tmp/shots-cand")
WORDS = {
    "fr": {
        "run": "Lancer le test",
        "recorded": "Test de connexion enregistré : réussi (réponse du serveur",
        "failed": "Votre connexion est trop lente pour l'examen",
        "again": "Relancer le test",
        "face": "Photo de votre visage",
    },
    "en": {
        "run": "Run the test",
        "recorded": "Connection test recorded: passed (server answer",
        "failed": "Your connection is too slow for the exam",
        "again": "Run the test again",
        "face": "Photo of your face",
    },
}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_connection_result_stays_shown_after_a_reload_and_on_the_next_check(
    page: Any, server: Server, language: str
) -> None:
    words = WORDS[language]
    page.set_viewport_size({"width": 390, "height": 844})
    journey = logged_in(page, server, language)
    ctx, sid = server.platform.ctx, journey.session_id
    assert sid is not None
    journey.pass_attestations()
    proctoring.confirm_sound_heard(ctx, sid)
    proctoring.start_microphone_recording(ctx, sid)
    proctoring.stop_microphone_recording(ctx, sid)
    proctoring.check_camera(ctx, sid, working=True)
    SHOTS.mkdir(parents=True, exist_ok=True)

    # A failed test recorded, then the page reloaded: still said, with its measures.
    proctoring.record_connection_test(
        ctx, sid, round_trip_ms=900.0, upload_kbps=120.0, passed=False
    )
    page.goto(f"{server.url}/exams/{sid}")
    result = page.locator("#connection-result")
    result.filter(has_text=words["failed"]).wait_for()
    assert "900 ms" in result.inner_text() and "120 kbit/s" in result.inner_text()
    assert page.locator("#run-connection").inner_text() == words["again"]
    page.screenshot(path=str(SHOTS / f"connection-failed-{language}-390.png"), full_page=True)

    # Run by the page's script: it passes and moves on; the next check still shows it.
    page.locator("#run-connection").click()
    page.get_by_role("heading", name=words["face"]).wait_for(timeout=30_000)
    kept = page.locator("#connection-recorded")
    kept.filter(has_text=words["recorded"]).wait_for()
    session = ctx.store.get(sid, ProctoredSession)
    assert Step.CONNECTION_TESTED in session.completed and session.connection_passed
    page.reload()
    kept.filter(has_text=words["recorded"]).wait_for()
    page.screenshot(path=str(SHOTS / f"connection-kept-{language}-390.png"), full_page=True)
