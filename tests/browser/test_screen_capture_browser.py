"""Issue 16, point 4, in a real browser: a certification that requires screen capture. The
proctoring page of Chromium (fake camera, microphone and screen: `--use-fake-ui-for-media-
stream` accepts the screen picker) shares the screen on the candidate's click, as a second
recorded connection beside the camera's; the recorder (aiortc) writes its own segments; and
when the share stops, the page says so and the session records the flag (rule
ScreenMustStayShared). The network is two namespaces, as for the live media test (ICE does not
gather on loopback).

The stop is the shared track's `ended` event dispatched in the page: what the browser fires
when its « Stop sharing » bar is used or the shared window goes, which no flag of a headless
Chromium can press.
"""

from __future__ import annotations

import time
from pathlib import Path

import av

from domain.evidence import FlagKind
from domain.proctored_session import ProctoredSession
from tests.acceptance.test_safe_exam_browser import seb_catalogue
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_live_media_browser import (
    candidate_page,
    entered_session,
    live_chromium,
    run_in_namespace,
    staged,
)

STOP_SHARING = (
    "document.getElementById('screen-preview').srcObject"
    ".getVideoTracks()[0].dispatchEvent(new Event('ended'))"
)


def screen_catalogue(folder: Path) -> Path:
    """The Access certification, recording the screen too."""
    folder.mkdir(parents=True, exist_ok=True)
    seb_catalogue(folder, "")  # the bank files copied (the SEB table is not what is tested)
    bank = folder / "eni-access.toml"
    text = bank.read_text(encoding="utf-8").replace("\n[certification.safe_exam_browser]\n", "")
    bank.write_text(text.replace("[certification]\n", "[certification]\nscreen_capture = true\n"))
    return folder


def video_size(path: Path) -> tuple[int, int, int]:
    """Width, height and frames of the first video track."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return stream.codec_context.width, stream.codec_context.height, frames


def test_a_screen_capture_session_records_two_tracks_and_a_stopped_share_is_flagged(
    tmp_path: Path,
) -> None:
    seen: dict[str, str] = {}
    catalogue = str(screen_catalogue(tmp_path / "banks"))
    with staged(tmp_path, "screen capture", catalogue_dir=catalogue) as stage:
        platform, url, live_root = stage.platform, stage.url, stage.live_root
        session_id = entered_session(platform)

        def drive_the_browser() -> None:
            with live_chromium(url) as context:
                page = candidate_page(context, url, session_id)
                share = page.locator("#screen-share")
                seen["before"] = share.inner_text()
                page.get_by_role("button", name="Partager mon écran").click()
                page.locator("#screen-share[data-state='live']").wait_for()
                seen["live"] = share.inner_text()
                page.wait_for_timeout(5_000)  # five seconds of screen
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "screen-capture-shared.png"))
                page.evaluate(STOP_SHARING)
                page.locator("#screen-share[data-state='off']").wait_for()
                seen["stopped"] = share.inner_text()
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and not _flagged(platform, session_id):
                    page.wait_for_timeout(200)
                page.wait_for_timeout(1_000)

        run_in_namespace(stage.browser_ns, drive_the_browser)
        stage.server.stop()  # finishes and records every open segment
        history = list(platform.ctx.store.history(session_id))
    assert "Votre écran n'est pas partagé" in seen["before"]
    assert "Votre écran est partagé et enregistré" in seen["live"]
    assert "Votre écran n'est pas partagé" in seen["stopped"]
    camera = [e for e in history if isinstance(e, ProctoredSession.SegmentRecorded)]
    screen = [e for e in history if isinstance(e, ProctoredSession.ScreenSegmentRecorded)]
    assert len(camera) == 1 and len(screen) == 1, [type(e).__name__ for e in history]
    flags = [e for e in history if isinstance(e, ProctoredSession.FlagRaised)]
    stopped = [f for f in flags if f.kind is FlagKind.SCREEN_SHARE_STOPPED]
    assert len(stopped) == 1, [f.kind for f in flags]
    # The camera's segment holds the camera (and the microphone); the screen's, the screen at
    # the size the page asked for, for the seconds it was shared.
    camera_width, _, camera_frames = video_size(live_root / camera[0].media_id)
    width, height, frames = video_size(live_root / screen[0].media_id)
    assert (camera_width, camera_frames > 0) == (320, True)
    assert (width, height) == (1280, 720) and frames >= 5
    shared = screen[0].span
    assert shared.end_s - shared.start_s >= 3.0
    assert shared.start_s <= stopped[0].span.start_s <= shared.end_s + 3.0
    print(f"camera {camera[0].span}; screen {shared} ({frames} frames); flag {stopped[0].span}")


def _flagged(platform: object, session_id: object) -> bool:
    from adapters.bootstrap import Platform

    assert isinstance(platform, Platform)
    session = platform.ctx.store.get(session_id, ProctoredSession)  # type: ignore[arg-type]
    return any(flag.startswith("page:screen_share_stopped") for flag in session.flag_ids)
