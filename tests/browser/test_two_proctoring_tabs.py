"""The same exam session open in two tabs of one browser during the checks (a candidate's
tour: « Examen » clicked, then its address opened again in a new tab), with the WebRTC
recording on, in Chromium with a fake camera, in French and in English at a phone's width.

Each tab's offer replaced the other's connection on the server, which hung up, and each
reconnected at once: a new recording segment every 0.6 s for as long as both stayed open,
and a click in the older tab was refused as « Cochez la case… » under four ticked boxes.
Now the newest tab films; the older one lets the camera go, hides its step and says so in
the page's language, with « Continuer dans cet onglet », which hands the camera back to it.
Going to the older tab (a Vigie tab) raises no focus flag."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.evidence import FlagKind
from domain.proctored_session import ProctoredSession
from tests.browser.conftest import Server, _free_port, platform_on_disk, serve
from tests.browser.test_checks_screens import SHOTS, logged_in
from ui.journey import PARIS


class RealClock:
    """Real time from 9:00 in Paris: the recorder's segments and heartbeats need it."""

    def __init__(self) -> None:
        self._start = time.monotonic()

    def now(self) -> datetime:
        return datetime(2025, 3, 4, 9, 0, tzinfo=PARIS) + timedelta(
            seconds=time.monotonic() - self._start
        )


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[Server]:
    port = _free_port()
    platform = platform_on_disk(
        tmp_path,
        port,
        clock=RealClock(),
    )
    yield from serve(platform, port, live_media_root=tmp_path / "media" / "live")
    platform.close()


WORDS = {
    "fr": ("La surveillance continue dans votre autre onglet.", "Continuer dans cet onglet"),
    "en": ("Proctoring goes on in your other tab.", "Continue in this tab"),
}
LIVE = "[data-proctoring-session][data-state='live']"
ELSEWHERE = "[data-proctoring-session][data-state='elsewhere']"


def history(server: Server, sid: Any) -> list[Any]:
    return list(server.platform.ctx.store.history(sid))


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_checks_open_in_two_tabs_film_in_the_newest_only(
    page: Any, live_server: Server, language: str
) -> None:
    server = live_server
    page.set_viewport_size({"width": 390, "height": 800})
    journey = logged_in(page, server, language)
    sid = journey.session_id
    page.goto(f"{server.url}/exams/{sid}")
    page.locator(LIVE).wait_for(timeout=20_000)
    newer = page.context.new_page()
    newer.set_viewport_size({"width": 390, "height": 800})
    newer.goto(f"{server.url}/exams/{sid}")
    newer.locator(LIVE).wait_for(timeout=20_000)

    # The older tab stops filming and says so; the newest stays live, connected once.
    page.locator(ELSEWHERE).wait_for()
    said, button = WORDS[language]
    assert page.locator("#proctoring-status").inner_text() == said
    assert page.locator("#journey").is_hidden()
    assert page.get_by_role("button", name=button).is_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{language}-two-tabs-older.png"), full_page=True)
    newer.wait_for_timeout(6000)
    segments = [e for e in history(server, sid) if isinstance(e, ProctoredSession.SegmentRecorded)]
    assert len(segments) <= 1, [e.span for e in segments]  # the older tab's, ended once
    assert newer.locator(LIVE).count() == 1

    # Looking at the older tab (to close it) is looking at Vigie: no focus flag.
    newer.evaluate("window.dispatchEvent(new Event('blur'))")
    page.evaluate("window.dispatchEvent(new Event('focus'))")
    newer.wait_for_timeout(3500)
    flags = [e for e in history(server, sid) if isinstance(e, ProctoredSession.FlagRaised)]
    assert [f for f in flags if f.kind is FlagKind.TAB_FOCUS_LOST] == []

    # « Continuer dans cet onglet »: this tab films again, the other one stops.
    page.get_by_role("button", name=button).click()
    page.locator(LIVE).wait_for(timeout=20_000)
    newer.locator(ELSEWHERE).wait_for()
    assert page.locator("#journey").is_visible()
