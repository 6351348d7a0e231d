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


def test_r8_record_3_seconds_gives_a_clip_of_3_seconds_that_plays_from_its_start(
    page: Any, server: Server
) -> None:
    """« Enregistrer 3 secondes » gave a clip the player read « 0:02 » (2.8 to 2.94 s): the 3 s
    were counted from the moment the recorder was asked to start, before it recorded, and the
    last piece encoded fell outside them (a user's tour). The clip now lasts 3 s by its own
    clock, the player knows its length, and it plays from its start."""
    journey = Journey(server.platform, email="trois-secondes@example.org")
    journey.enrol()
    journey.set_password(PASSWORD)
    server.platform.projections.catch_up(server.platform.ctx.store)
    page.goto(f"{server.url}/login")
    page.fill("#email", journey.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{server.url}/equipment")
    page.click("#equipment-mic")
    # The length the player shows, once it knows it (a recording made in pieces says it
    # only once read to its end, which the page does).
    duration = wait_until(
        page,
        """() => {
          const audio = document.getElementById('playback');
          const known = Number.isFinite(audio.duration) && audio.currentTime === 0;
          return audio.getAttribute('src') && known ? audio.duration : 0;
        }""",
        timeout=15_000,
    )
    assert 3.0 <= duration < 4.0, duration
    assert not page.locator("#equipment-mic").is_disabled()  # ready to record again
    # It plays from its start to its end (the button's click lets the page play sound).
    played = page.evaluate(
        """() => new Promise((resolve) => {
          const audio = document.getElementById('playback');
          const from = audio.currentTime;
          audio.addEventListener('ended', () => resolve([from, audio.currentTime]), { once: true });
          audio.play();
        })"""
    )
    assert played[0] == 0 and played[1] >= 3.0, played
