"""A reload in the middle of a check (a user tour), in Chromium with a fake camera and
microphone. The microphone test done (« Arrêter »), a reload jumped to the camera test without
« Suivant », the test counted done behind the candidate's back: the page now comes back to
the microphone test, done, with « Suivant ». A recording cut by a reload (the microphone's,
the room's) cannot go on: the page says so and records afresh, the room's countdown from its
full length. Screenshots: test-artifacts/browser/checks/fr-reload-*.png."""

from __future__ import annotations

import re
from typing import Any

from app.use_cases import proctoring
from domain.guide import Step
from domain.proctored_session import EnvironmentPart, ProctoredSession
from tests.browser.conftest import Server, serious_violations, wait_until
from tests.browser.test_checks_screens import SHOTS, logged_in
from ui.journey import FACE_PHOTO
from vigie_contracts.samples import ebml_sample

CUT = "Votre enregistrement a été coupé quand la page a été rechargée ou fermée"


def session(server: Server, sid: Any) -> ProctoredSession:
    return server.platform.ctx.store.get(sid, ProctoredSession)


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"fr-reload-{name}.png"), full_page=True)
    assert serious_violations(page) == [], name


def test_a_reload_mid_check_shows_the_microphone_test_done_and_says_a_recording_restarts(
    page: Any, server: Server
) -> None:
    journey = logged_in(page, server, "fr")
    ctx, sid = server.platform.ctx, journey.session_id
    assert sid is not None
    journey.pass_attestations()
    proctoring.confirm_sound_heard(ctx, sid)
    page.goto(f"{server.url}/exams/{sid}")
    status = page.locator("#mic-status")

    # Reloaded while the microphone records: said, recorded again, « Arrêter » plays it back.
    page.get_by_role("button", name="Lancer l'enregistrement").click()
    status.filter(has_text="Enregistrement…").wait_for()
    page.reload()
    status.filter(has_text=CUT).wait_for()
    shot(page, "01-microphone-cut")
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Arrêter l'enregistrement").click()
    page.locator("#mic-playback:visible").wait_for()
    assert "Réécoutez votre voix" in status.inner_text()  # not « Rien n'a été enregistré »
    assert Step.MICROPHONE_TESTED in session(server, sid).completed

    # Reloaded after « Arrêter »: the microphone test again, done, with « Suivant ».
    page.reload()
    page.get_by_role("heading", name="Test du micro").wait_for()
    assert "Test du micro" in page.locator(".stepper__where").inner_text()
    assert "Votre test du micro est enregistré" in status.inner_text()
    assert page.get_by_role("button", name="Suivant").is_visible()
    assert page.get_by_role("button", name="Lancer l'enregistrement").is_disabled()
    shot(page, "02-microphone-done")
    # « Réessayer » records again, to listen; the test stays done.
    page.get_by_role("button", name="Réessayer").click()
    status.filter(has_text="Enregistrement…").wait_for()
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Arrêter l'enregistrement").click()
    page.locator("#mic-playback:visible").wait_for()
    page.get_by_role("button", name="Suivant").click()
    page.get_by_role("heading", name="Test de la caméra").wait_for()
    assert page.url == f"{server.url}/exams/{sid}"
    page.reload()  # on the camera test now, it stays there
    page.get_by_role("heading", name="Test de la caméra").wait_for()

    # The room filmed for some seconds, then the page reloaded: said, filmed afresh.
    proctoring.check_camera(ctx, sid, working=True)
    proctoring.record_connection_test(ctx, sid, round_trip_ms=35.0, upload_kbps=8000.0, passed=True)
    proctoring.take_face_photo(ctx, sid, FACE_PHOTO)
    proctoring.confirm_face_photo(ctx, sid)
    proctoring.take_id_photo(ctx, sid, FACE_PHOTO)
    proctoring.confirm_id_photo(ctx, sid)
    proctoring.start_environment_recording(ctx, sid, EnvironmentPart.EARS)
    proctoring.stop_environment_recording(
        ctx, sid, EnvironmentPart.EARS, ebml_sample(tag=b"ears"), duration_s=30.0
    )
    page.goto(f"{server.url}/exams/{sid}")
    page.get_by_role("heading", name="(2/3)").wait_for()
    cut = page.locator("#recording-cut")
    page.get_by_role("button", name="Lancer l'enregistrement").click()
    countdown = page.locator("#recording-countdown")
    countdown.filter(has_text="Vous pourrez arrêter dans").wait_for()
    page.wait_for_timeout(4000)
    assert cut.is_hidden()  # nothing was cut: nothing said
    page.reload()
    cut.wait_for()
    assert CUT in cut.inner_text() and "recommence depuis le début" in cut.inner_text()
    countdown.filter(has_text="Vous pourrez arrêter dans").wait_for()
    wait_until(page, "(document.getElementById('preview') || {}).readyState >= 2")
    said = re.search(r"dans (\d+) s", countdown.inner_text())
    assert said is not None and int(said[1]) >= 9, countdown.inner_text()  # from the start
    stop = page.get_by_role("button", name="Arrêter l'enregistrement")
    assert stop.is_disabled()
    shot(page, "03-room-cut")
    stop.click(timeout=20_000)  # once the new film is long enough
    page.get_by_role("heading", name="(3/3)").wait_for()
    assert session(server, sid).recording_part is None


def test_a_photo_taken_before_a_reload_is_said_recorded_with_a_retake_button(
    page: Any, server: Server
) -> None:
    """A reviewer's tour: after F5 on the ID photo, the page said « ✓ Photo prise.
    Vérifiez-la » above the live camera and « Prendre une photo »: nothing to check. It says
    the photo is recorded and offers to retake it; « Suivant » goes on."""
    journey = logged_in(page, server, "fr")
    ctx, sid = server.platform.ctx, journey.session_id
    assert sid is not None
    journey.pass_attestations()
    journey.pass_equipment()
    proctoring.take_face_photo(ctx, sid, FACE_PHOTO)
    proctoring.confirm_face_photo(ctx, sid)
    proctoring.take_id_photo(ctx, sid, FACE_PHOTO)
    page.goto(f"{server.url}/exams/{sid}")
    page.get_by_role("heading", name="Photo de votre pièce d'identité").wait_for()
    status = page.locator("#photo-status").inner_text()
    assert status == "✓ Votre photo est enregistrée. Cliquez sur « Suivant », ou reprenez-la."
    assert "Vérifiez" not in status
    assert page.get_by_role("button", name="Reprendre la photo").is_visible()
    assert page.get_by_role("button", name="Prendre une photo").count() == 0
    # The connection test's result stays on the check after it (the face photo), not here.
    assert page.locator("#connection-recorded").count() == 0
    shot(page, "04-id-photo-taken")
    page.get_by_role("button", name="Suivant").click()
    page.get_by_role("heading", name="(1/3)").wait_for()
