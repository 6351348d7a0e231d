"""Issue 16, point 4: the shared screen's recording and its stopped share, as the session
records them. The recorder is the in-memory one on the journey's clock (the aiortc one passes
the same contract in tests/property; Chromium is tests/browser/test_screen_capture_browser.py)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from adapters.media.live_memory import MemoryLiveRecorder, MemoryPeer
from app.catalogue import BankError, load_folder
from app.live_recording import media_origin
from app.ports.live_media import SCREEN
from app.recording import recording_of, session_media
from domain.evidence import FlagKind
from domain.proctored_session import ProctoredSession
from tests.acceptance.test_live_recording import (
    connect,
    play_with_heartbeats,
    session_events,
    wire,
)
from tests.acceptance.test_safe_exam_browser import seb_catalogue
from ui.journey import Journey, make_platform
from ui.web.review_words import FLAG_WORDS

STOPPED = json.dumps({"type": "signal", "kind": "screen_share_stopped"})


def share_screen(journey: Journey, recorder: MemoryLiveRecorder) -> MemoryPeer:
    assert journey.session_id is not None
    origin = media_origin(journey.ctx, journey.session_id)
    peer = MemoryPeer(recorder, journey.clock)
    peer.accept(asyncio.run(recorder.open(journey.session_id, peer.offer(), origin, SCREEN)))
    return peer


def test_a_shared_screen_is_recorded_beside_the_camera_and_a_stopped_share_is_flagged() -> None:
    journey = Journey(make_platform())
    journey.enrol()
    journey.create_session()
    journey.enter()
    recorder, _ = wire(journey, grace_s=30)
    camera = connect(journey, recorder)
    play_with_heartbeats(camera, 2)
    screen = share_screen(journey, recorder)
    screen.play(2)  # the screen shared for two seconds (the camera's frames wait)
    screen.hang_up()  # the candidate stops sharing: the page says so on its channel
    camera.send(STOPPED)
    journey.clock.advance(seconds=10)  # the screen not shared for ten seconds
    screen = share_screen(journey, recorder)  # shared again
    screen.play(1)
    assert journey.session_id is not None
    asyncio.run(recorder.close(journey.session_id))

    events = session_events(journey)
    cameras = [e for e in events if isinstance(e, ProctoredSession.SegmentRecorded)]
    screens = [e for e in events if isinstance(e, ProctoredSession.ScreenSegmentRecorded)]
    gaps = [e for e in events if isinstance(e, ProctoredSession.RecordingGap)]
    flags = [e for e in events if isinstance(e, ProctoredSession.FlagRaised)]
    assert len(cameras) == 1 and len(screens) == 2
    assert gaps == []  # ten seconds without the screen: a flag, not a gap of the recording
    assert [f.kind for f in flags] == [FlagKind.SCREEN_SHARE_STOPPED]
    assert screens[0].span.end_s <= flags[0].span.start_s <= screens[1].span.start_s
    assert [s.media_id.rsplit("/", 1)[1] for s in screens] == ["screen-0001.mkv", "screen-0002.mkv"]
    view = recording_of(events)  # type: ignore[arg-type]
    assert [m.media_id for m in view.segments] == [cameras[0].media_id]
    assert [m.media_id for m in view.screens] == [s.media_id for s in screens]
    kept = {ref.media_id for ref in session_media(events)}  # type: ignore[arg-type]
    assert {s.media_id for s in screens} <= kept  # deleted with the rest (retention, erasure)
    assert FLAG_WORDS[FlagKind.SCREEN_SHARE_STOPPED] == "screen share stopped"


def test_screen_capture_in_a_bank_file_is_true_or_false(tmp_path: Path) -> None:
    seb_catalogue(tmp_path, "")
    bank = tmp_path / "eni-access.toml"
    text = bank.read_text(encoding="utf-8").replace("\n[certification.safe_exam_browser]\n", "")
    bank.write_text(text.replace("[certification]\n", "[certification]\nscreen_capture = 1\n"))
    with pytest.raises(BankError, match="screen_capture"):
        load_folder(tmp_path)
    bank.write_text(text.replace("[certification]\n", "[certification]\nscreen_capture = true\n"))
    assert load_folder(tmp_path).get("ENI-ACCESS").screen_capture is True
