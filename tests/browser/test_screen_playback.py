"""Issue 16, point 4: the examiner's player shows the shared screen beside the camera, at the
camera's second. The camera's segments are the in-memory recorder's (test_playback.py); the
screen's segment is a real WebM file reported as the aiortc recorder reports one (the screen
recorded from a real Chromium is test_screen_capture_browser.py's)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from adapters.bootstrap import Platform
from adapters.ids import SeededIds
from app.live_recording import record_live_event
from app.mail_rendering import SupportContact
from app.ports.live_media import SCREEN, Segment, SegmentId
from domain.proctored_session import ProctoredSession
from tests.browser.conftest import (
    ARTIFACTS,
    _free_port,
    platform_on_disk,
    serious_violations,
    wait_until,
)
from tests.browser.test_playback import record_with_a_cut, sign_in_as_examiner
from ui.journey import Journey
from ui.web.app import create_app

SECRET = b"q" * 32


def screen_beside(journey: Journey, live_root: Path) -> str:
    """A screen segment over the second camera segment's span (a real WebM: the camera's
    file, standing for a screen), reported as the recorder reports one."""
    session_id = journey.session_id
    assert session_id is not None
    origin = journey.ctx.store.get(session_id, ProctoredSession).started_at
    assert origin is not None
    last = [
        e
        for e in journey.ctx.store.history(session_id)
        if isinstance(e, ProctoredSession.SegmentRecorded)
    ][-1]
    data = (live_root / last.media_id).read_bytes()
    media_id = f"{session_id}/screen-0001.mkv"
    (live_root / media_id).write_bytes(data)
    segment = Segment(
        SegmentId(f"{session_id}/screen-0001"),
        session_id,
        origin + timedelta(seconds=last.span.start_s),
        origin + timedelta(seconds=last.span.end_s),
        media_id,
        len(data),
        "sha256:" + hashlib.sha256(data).hexdigest(),
        source=SCREEN,
    )
    assert record_live_event(journey.ctx, segment)
    return media_id


@pytest.fixture
def reviewed(tmp_path: Path) -> Iterator[tuple[str, Platform, Journey, str]]:
    port = _free_port()
    live_root = tmp_path / "media" / "live"
    platform = platform_on_disk(
        tmp_path,
        port,
        secret=SECRET,
        launcher="memory",
        ids=SeededIds(18),
    )
    journey = Journey(platform, email="sam.screen@example.org")
    journey.in_exam()
    record_with_a_cut(journey, live_root)
    media_id = screen_beside(journey, live_root)
    journey.answer_and_send()
    app = create_app(platform, secret=SECRET, support=SupportContact(), live_media_root=live_root)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}", platform, journey, media_id
    server.should_exit = True
    thread.join(timeout=10)
    platform.close()


def test_the_examiners_player_shows_the_shared_screen_beside_the_camera(
    reviewed: tuple[str, Platform, Journey, str], page: Any
) -> None:
    url, platform, journey, media_id = reviewed
    sign_in_as_examiner(url, platform, page)
    page.goto(f"{url}/examiner/reviews/{journey.review_id}")
    screen = page.locator("#screen-player")
    assert screen.get_attribute("data-segment") == media_id
    assert screen.get_attribute("aria-label") == "Enregistrement de l'écran partagé"
    camera_box = page.locator("#player").bounding_box()
    screen_box = screen.bounding_box()
    assert camera_box is not None and screen_box is not None
    assert screen_box["x"] > camera_box["x"] + camera_box["width"] / 2  # beside, not below
    # Nothing is loaded before play (preload="none": a request is recorded as a look).
    assert screen.evaluate("s => s.readyState") == 0
    # The flag lies 2 s into the second camera segment, which the screen's segment spans.
    page.locator("#recording-timeline li.flag button").click()
    wait_until(
        page,
        """() => {
            const s = document.getElementById('screen-player');
            return s.readyState >= 1 && Math.abs(s.currentTime - 2) < 1.1;
        }""",
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "16-review-screen-beside-camera.png"), full_page=True)
    assert serious_violations(page) == []
