"""A camera the browser refuses (R8, R9): the checks say so under the preview and keep « Je
me vois » and « Prendre une photo » off. They stayed on, and a black face photo was taken and
sent, which R9 then held against an honest candidate (a reviewer's check). Chromium here has
a fake camera; the page's `getUserMedia` is made to refuse as a blocked camera's does."""

from __future__ import annotations

from typing import Any

from app.use_cases import proctoring
from domain.proctored_session import ProctoredSession
from tests.browser.conftest import Server, wait_until
from tests.browser.test_checks_screens import logged_in

REFUSED = """
navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
"""


def test_a_blocked_camera_is_said_and_no_photo_of_it_is_taken(page: Any, server: Server) -> None:
    page.add_init_script(REFUSED)
    journey = logged_in(page, server, "fr")
    ctx, sid = server.platform.ctx, journey.session_id
    assert sid is not None
    journey.pass_attestations()
    proctoring.confirm_sound_heard(ctx, sid)
    proctoring.start_microphone_recording(ctx, sid)
    proctoring.stop_microphone_recording(ctx, sid)
    page.goto(f"{server.url}/exams/{sid}")
    wait_until(page, "document.getElementById('camera-blocked') !== null")
    said = page.locator("#camera-blocked").inner_text()
    assert said.startswith("Votre caméra ne donne pas d'image : autorisez-la"), said
    assert page.locator("button[name=working][value=yes]").is_disabled()

    proctoring.check_camera(ctx, sid, working=True)  # say she got past it another way
    proctoring.record_connection_test(ctx, sid, round_trip_ms=35.0, upload_kbps=8000.0, passed=True)
    page.goto(f"{server.url}/exams/{sid}")
    wait_until(page, "document.getElementById('camera-blocked') !== null")
    assert page.locator("#take-photo").is_disabled()
    page.evaluate("document.getElementById('take-photo').click()")  # forced: still nothing sent
    page.wait_for_timeout(500)
    assert not ctx.store.get(sid, ProctoredSession).face_photo_taken
