"""A check clicked while the network is cut (a candidate's tour, Playwright offline), in
French and in English. « Prendre une photo » did nothing and said nothing; « Lancer
l'enregistrement » of the microphone test said « Rien n'a été enregistré : vérifiez que votre
micro est autorisé et branché », blaming a microphone that worked. Both now say the server
does not answer, in the page's language, keep their button, and work once the network is
back, the sentence gone."""

from __future__ import annotations

from typing import Any

import pytest

from app.use_cases import proctoring
from domain.guide import Step
from domain.proctored_session import ProctoredSession
from tests.browser.conftest import Server, wait_until
from tests.browser.test_checks_screens import SHOTS, logged_in

OFFLINE = {
    "fr": "Le serveur ne répond pas : réessayez dans un instant.",
    "en": "The server does not answer: try again in a moment.",
}
SILENT = {"fr": "Rien n'a été enregistré", "en": "Nothing was recorded"}
RECORDING = {"fr": "Enregistrement…", "en": "Recording…"}
TAKEN = {"fr": "✓ Photo prise", "en": "✓ Photo taken"}


def words(page: Any, selector: str) -> str:
    return " ".join(page.locator(selector).inner_text().split())  # the non-breaking spaces


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_check_clicked_offline_says_the_server_does_not_answer_then_works(
    page: Any, server: Server, language: str
) -> None:
    journey = logged_in(page, server, language)
    ctx, sid = server.platform.ctx, journey.session_id
    assert sid is not None
    journey.pass_attestations()
    proctoring.confirm_sound_heard(ctx, sid)
    page.goto(f"{server.url}/exams/{sid}")
    start, status = page.locator("#mic-start"), page.locator("#mic-status")
    start.wait_for()

    # The microphone works; the start cannot reach the server.
    page.context.set_offline(True)
    start.click()
    page.locator("#refusal").filter(has_text=OFFLINE[language][:20]).wait_for()
    assert words(page, "#refusal") == OFFLINE[language]
    assert SILENT[language] not in status.inner_text()
    wait_until(page, "!document.getElementById('mic-start').disabled")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{language}-offline-01-microphone.png"), full_page=True)
    page.context.set_offline(False)
    start.click()
    status.filter(has_text=RECORDING[language]).wait_for()
    assert page.locator("#refusal").inner_text().strip() == ""  # said, then gone
    page.wait_for_timeout(500)
    page.locator("#mic-stop").click()
    page.locator("#mic-next:visible").wait_for()
    store = server.platform.ctx.store
    assert Step.MICROPHONE_TESTED in store.get(sid, ProctoredSession).completed

    # The face photo, taken offline: said, not taken; taken once back online.
    proctoring.check_camera(ctx, sid, working=True)
    proctoring.record_connection_test(ctx, sid, round_trip_ms=35.0, upload_kbps=8000.0, passed=True)
    page.goto(f"{server.url}/exams/{sid}")
    wait_until(page, "(document.getElementById('preview') || {}).readyState >= 2")
    page.context.set_offline(True)
    page.locator("#take-photo").click()
    page.locator("#refusal").filter(has_text=OFFLINE[language][:20]).wait_for()
    assert page.locator("#photo-status").inner_text() == ""
    assert store.get(sid, ProctoredSession).face_photo_taken is False
    page.screenshot(path=str(SHOTS / f"{language}-offline-02-photo.png"), full_page=True)
    page.context.set_offline(False)
    page.locator("#take-photo").click()
    page.locator("#photo-status").filter(has_text=TAKEN[language]).wait_for()
    assert page.locator("#refusal").inner_text().strip() == ""
    assert store.get(sid, ProctoredSession).face_photo_taken
