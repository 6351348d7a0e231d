"""R8: « Test du matériel » as its own page (/equipment) in Chromium with a fake camera and
microphone: it loads without a script error, shows the camera and plays the microphone back."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Server, wait_until
from ui.journey import Journey

PASSWORD = "equipment-pass-1"


def test_r8_the_equipment_page_loads_without_a_script_error_and_plays_the_microphone_back(
    page: Any, server: Server
) -> None:
    journey = Journey(server.platform, email="materiel@example.org")
    journey.enrol()
    journey.set_password(PASSWORD)
    server.platform.projections.catch_up(server.platform.ctx.store)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server.url}/login")
    page.fill("#email", journey.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{server.url}/equipment")
    wait_until(page, "document.getElementById('preview').srcObject !== null")
    page.click("#equipment-mic")
    wait_until(page, "document.getElementById('playback').src !== ''", timeout=10_000)
    assert errors == []
    # The player keeps inside the microphone's card (it stood 28 px out of it on a desktop).
    page.set_viewport_size({"width": 1280, "height": 800})
    inside = page.evaluate(
        """() => {
          const audio = document.getElementById('playback');
          const player = audio.getBoundingClientRect();
          const card = audio.closest('article').getBoundingClientRect();
          return player.right <= card.right + 0.5 && player.left >= card.left - 0.5;
        }"""
    )
    assert inside
