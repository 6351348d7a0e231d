"""The candidate's checks screen by screen (issue 13), in Chromium with a fake camera and
microphone: every screen fits a 360 px phone and a 1440 px desktop without sideways
scrolling, says where the candidate is in words (« Étape 2 sur 4 »), and each check's helper
works: the sound gates « J'ai entendu le son », the microphone plays back with « Réessayer »,
the connection result is said, a photo is shown back with « Reprendre », the ID photo has its
frame, « Je ne me vois pas » gives advice in place, and a recording waits for its minimum.
Screenshots go to test-artifacts/browser/checks/ (or $VIGIE_SHOTS)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from app.use_cases import proctoring
from domain.proctored_session import EnvironmentPart
from tests.browser.conftest import ARTIFACTS, Server, serious_violations, wait_until
from ui.journey import FACE_PHOTO, Journey
from vigie_contracts.samples import ebml_sample

PASSWORD = "checks-pass-42"
SHOTS = Path(os.environ.get("VIGIE_SHOTS", str(ARTIFACTS / "checks")))
WIDTHS = {"desktop": (1440, 900), "phone": (360, 740)}


def logged_in(page: Any, server: Server, language: str) -> Journey:
    journey = Journey(server.platform, email=f"checks-{language}@example.org")
    journey.enrol()
    journey.set_password(PASSWORD)
    journey.create_session()
    journey.enter()
    server.platform.projections.catch_up(server.platform.ctx.store)
    page.goto(f"{server.url}/lang/{language}")
    page.goto(f"{server.url}/login")
    page.fill("#email", journey.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    return journey


def look(page: Any, server: Server, journey: Journey, name: str) -> None:
    """The step's page at both widths: a screenshot each, no sideways scrolling, no serious
    accessibility violation."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width_name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{server.url}/exams/{journey.session_id}")
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / f"{name}-{width_name}.png"), full_page=True)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} scrolls sideways by {overflow} px at {width} px"
    assert serious_violations(page) == [], name


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_check_fits_a_phone_and_says_where_the_candidate_is(
    page: Any, server: Server, language: str
) -> None:
    journey = logged_in(page, server, language)
    ctx, sid = server.platform.ctx, journey.session_id
    assert sid is not None
    look(page, server, journey, f"{language}-01-instructions")
    where = page.locator(".stepper__where").inner_text()
    assert where.startswith("Étape 1 sur 4" if language == "fr" else "Step 1 of 4"), where
    assert "/ 13" not in page.content()
    # « Règles à respecter »: each rule is ticked before « Suivant ».
    assert page.locator(".checks-rules input[type=checkbox][required]").count() == 4
    journey.pass_attestations()
    look(page, server, journey, f"{language}-02-sound")
    where = page.locator(".stepper__where").inner_text()
    expected = (
        "Étape 2 sur 4 — Vérifications de l'équipement"
        if language == "fr"
        else ("Step 2 of 4 — Equipment checks")
    )
    assert where.startswith(expected), where
    assert page.locator("#sound-heard").is_disabled()
    page.click("#play-sound")
    page.locator("#sound-heard:enabled").wait_for()
    proctoring.confirm_sound_heard(ctx, sid)
    look(page, server, journey, f"{language}-03-microphone")
    proctoring.start_microphone_recording(ctx, sid)
    proctoring.stop_microphone_recording(ctx, sid)
    look(page, server, journey, f"{language}-04-camera")
    page.locator("#camera-help summary").click()
    page.locator("#camera-help a[data-dialog='equipment']").wait_for()  # advice, no reload
    page.screenshot(path=str(SHOTS / f"{language}-04b-camera-help-phone.png"), full_page=True)
    proctoring.check_camera(ctx, sid, working=True)
    look(page, server, journey, f"{language}-05-connection")
    proctoring.record_connection_test(ctx, sid, round_trip_ms=30, upload_kbps=900, passed=True)
    look(page, server, journey, f"{language}-06-face")
    proctoring.take_face_photo(ctx, sid, FACE_PHOTO)
    proctoring.confirm_face_photo(ctx, sid)
    look(page, server, journey, f"{language}-07-id")
    assert page.locator(".checks-photo__frame").count() == 1
    proctoring.take_id_photo(ctx, sid, FACE_PHOTO)
    proctoring.confirm_id_photo(ctx, sid)
    look(page, server, journey, f"{language}-08-ears")
    proctoring.start_environment_recording(ctx, sid, EnvironmentPart.EARS)
    look(page, server, journey, f"{language}-09-ears-recording")
    assert page.locator("#stop-recording").is_disabled()  # the minimum is counted down
    page.locator("#recording-countdown").filter(has_text="5").wait_for()


def test_the_checks_helpers_work_in_the_page(page: Any, server: Server) -> None:
    """In French: microphone playback and « Réessayer », the connection result in words, a
    photo shown back then retaken, the room recording's stop waiting for its 10 s."""
    journey = logged_in(page, server, "fr")
    ctx, sid = server.platform.ctx, journey.session_id
    assert sid is not None
    journey.pass_attestations()
    proctoring.confirm_sound_heard(ctx, sid)
    page.goto(f"{server.url}/exams/{sid}")
    page.get_by_role("button", name="Lancer l'enregistrement").click()
    page.locator("#mic-status").filter(has_text="Enregistrement…").wait_for()
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Arrêter l'enregistrement").click()
    page.locator("#mic-playback:visible").wait_for()
    page.get_by_role("button", name="Réessayer").click()
    page.get_by_role("button", name="Arrêter l'enregistrement").click()
    page.locator("#mic-status").filter(has_text="Réécoutez votre voix").wait_for()
    page.get_by_role("button", name="Suivant").click()  # a link shown as the guide's button
    page.get_by_role("button", name="Je me vois : la caméra fonctionne").click()
    SHOTS.mkdir(parents=True, exist_ok=True)

    # A server slower than the threshold (1 s) is said, recorded, and can be run again.
    def slow(route: Any) -> None:
        time.sleep(1.2)
        route.continue_()

    page.route("**/upload-test", slow)
    page.get_by_role("button", name="Lancer le test").click()
    failed = page.locator("#connection-result .alert--error")
    failed.wait_for()
    assert "trop lent" in failed.inner_text()
    page.screenshot(path=str(SHOTS / "fr-09a-connection-failed.png"), full_page=True)
    page.unroute("**/upload-test")
    page.get_by_role("button", name="Relancer le test").click()
    result = page.locator("#connection-result .alert--success")  # said in words, then on
    result.wait_for()
    assert "Votre connexion a réussi le test." in result.inner_text()
    assert "Réponse du serveur\N{NO-BREAK SPACE}:" in result.inner_text()
    # It says it goes on, and offers to go at once (it moved on with nothing said).
    assert "L'étape suivante s'ouvre dans quelques secondes" in result.inner_text()
    assert page.locator("#run-connection").inner_text() == "Continuer"
    page.screenshot(path=str(SHOTS / "fr-09b-connection-passed.png"), full_page=True)
    page.get_by_role("heading", name="Photo de votre visage").wait_for()
    wait_until(page, "(document.getElementById('preview') || {}).readyState >= 2")
    assert page.locator("#photo-reminder").is_visible()  # « Appuyez sur … avant Suivant »
    page.get_by_role("button", name="Prendre une photo").click()
    page.locator("#photo-taken:visible").wait_for()  # the photo is shown back
    page.locator("#photo-reminder").wait_for(state="hidden")  # it stayed (an operator's review)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "fr-10-face-taken.png"), full_page=True)
    page.get_by_role("button", name="Reprendre").click()
    page.locator("#preview:visible").wait_for()
    page.get_by_role("button", name="Prendre une photo").click()
    page.locator("#photo-status").filter(has_text="Photo prise").wait_for()
    page.get_by_role("button", name="Suivant").click()
    page.get_by_role("heading", name="Photo de votre pièce d'identité").wait_for()
    proctoring.take_id_photo(ctx, sid, FACE_PHOTO)
    proctoring.confirm_id_photo(ctx, sid)
    for part in (EnvironmentPart.EARS,):
        proctoring.start_environment_recording(ctx, sid, part)
        proctoring.stop_environment_recording(
            ctx, sid, part, ebml_sample(tag=b"ears"), duration_s=30.0
        )
    page.goto(f"{server.url}/exams/{sid}")
    page.get_by_role("button", name="Lancer l'enregistrement").click()
    stop = page.get_by_role("button", name="Arrêter l'enregistrement")
    stop.wait_for()
    page.wait_for_timeout(3000)
    assert stop.is_disabled()  # the room is filmed for 10 s at least
    assert "Vous pourrez arrêter dans" in page.locator("#recording-countdown").inner_text()
    page.screenshot(path=str(SHOTS / "fr-11-room-countdown.png"), full_page=True)
    stop.click(timeout=15_000)  # waits until the countdown enables it
    page.get_by_role("heading", name="(3/3)").wait_for()


def test_leaving_full_screen_shows_the_banner_to_go_back(page: Any, server: Server) -> None:
    """The guide's « Retour en plein écran »: secure mode's « Continuer » goes full screen;
    leaving it (Échap) shows the banner, whose button goes back."""
    journey = logged_in(page, server, "fr")
    ctx, sid = server.platform.ctx, journey.session_id
    assert sid is not None
    proctoring.read_instructions(ctx, sid)
    proctoring.attest_designer_rules(ctx, sid)
    page.goto(f"{server.url}/exams/{sid}")
    banner = page.locator("#fullscreen-banner")
    assert banner.is_hidden()
    page.get_by_role("button", name="Continuer").click()
    wait_until(page, "document.fullscreenElement !== null")
    page.evaluate("document.exitFullscreen()")
    banner.wait_for(state="visible")
    assert "Veuillez retourner en plein écran" in banner.inner_text()
    page.screenshot(path=str(SHOTS / "fr-12-fullscreen-banner.png"), full_page=True)
    page.get_by_role("button", name="Retour en plein écran").click()
    banner.wait_for(state="hidden")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_terms_and_the_equipment_test_fit_a_phone(
    page: Any, server: Server, language: str
) -> None:
    journey = Journey(server.platform, email=f"terms-{language}@example.org")
    journey.enrol()
    journey.set_password(PASSWORD)
    server.platform.projections.catch_up(server.platform.ctx.store)
    page.goto(f"{server.url}/lang/{language}")
    page.goto(f"{server.url}/login")
    page.fill("#email", journey.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for path, name in (("/terms", "terms"), ("/equipment", "equipment")):
        for width_name, (width, height) in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            page.goto(f"{server.url}{path}")
            page.wait_for_timeout(300)
            page.screenshot(path=str(SHOTS / f"{language}-{name}-{width_name}.png"), full_page=True)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} scrolls sideways at {width} px"
        assert serious_violations(page) == [], path
    page.click("#equipment-mic")
    wait_until(page, "document.getElementById('playback').src !== ''", timeout=10_000)
