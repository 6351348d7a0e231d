"""Issue 7: the examiner plays a session's recording in Chromium, with its gap and its flags on
the timeline; a click on a flag loads the segment holding that second and seeks to it.

The segments are real Matroska files made by the in-memory recorder (the same writer as the
aiortc one) on the journey's clock; the recording from a real browser is
test_live_media_browser.py's."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn

from adapters.bootstrap import Platform
from adapters.ids import SeededIds
from adapters.media.live_memory import MemoryLiveRecorder, MemoryPeer
from app.live_recording import media_origin, record_live_event
from app.mail_rendering import SupportContact
from app.media_views import views_of_session
from app.use_cases import accounts, proctoring
from domain.media_view import ViewedMedia
from domain.proctored_session import EnvironmentPart
from domain.staff import Role
from tests.browser.conftest import (
    ARTIFACTS,
    _free_port,
    platform_on_disk,
    serious_violations,
    wait_until,
)
from ui.journey import Journey
from ui.web import review_words
from ui.web.app import create_app

SECRET = b"p" * 32
HEARTBEAT = json.dumps({"type": "heartbeat"})
T = TypeVar("T")


@pytest.fixture
def reviewed(tmp_path: Path) -> Iterator[tuple[str, Platform, Journey]]:
    yield from serve_a_review(tmp_path)


def serve_a_review(
    tmp_path: Path, environment: bytes | None = None
) -> Iterator[tuple[str, Platform, Journey]]:
    """The session recorded with a cut, reviewed and served; its three environment
    recordings are `environment` when given (the journey's header-only samples otherwise)."""
    port = _free_port()
    live_root = tmp_path / "media" / "live"
    platform = platform_on_disk(
        tmp_path,
        port,
        secret=SECRET,
        launcher="memory",
        ids=SeededIds(17),
    )
    journey = Journey(platform, email="lea.playback@example.org")
    journey.enrol()
    journey.create_session()
    # Her page connects its camera as soon as she entered (proctoring.js), as here: a first
    # connection more than 30 s after the entry leaves a gap from it (issue 15).
    journey.enter()
    record_with_a_cut(journey, live_root)
    journey.pass_attestations()
    journey.pass_equipment()
    journey.take_photos()
    if environment is None:
        journey.record_environment()
    else:
        record_the_environment_with(journey, environment)
    journey.start_exam()
    journey.answer_and_send()
    app = create_app(platform, secret=SECRET, support=SupportContact(), live_media_root=live_root)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}", platform, journey
    server.should_exit = True
    thread.join(timeout=10)
    platform.close()


def record_the_environment_with(journey: Journey, recording: bytes) -> None:
    """The journey's `record_environment`, each part's file being `recording`."""
    session_id = journey.session_id
    assert session_id is not None
    for part in EnvironmentPart:
        proctoring.start_environment_recording(journey.ctx, session_id, part)
        journey.clock.advance(seconds=20)
        attempt_id = proctoring.stop_environment_recording(
            journey.ctx, session_id, part, recording, duration_s=10.5
        )
    assert attempt_id is not None
    journey.attempt_id = attempt_id
    journey.platform.settle()


# What the candidate's page uploads (journey.js): Chromium's MediaRecorder writes WebM as it
# goes, with no duration in its header. A drawn canvas stands in for her camera.
MEDIA_RECORDER = """async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 320;
    canvas.height = 240;
    document.body.appendChild(canvas);
    const g = canvas.getContext('2d');
    let n = 0;
    const draw = () => {
        n += 1;
        g.fillStyle = 'hsl(' + (n * 12) % 360 + ', 70%, 45%)';
        g.fillRect(0, 0, 320, 240);
        g.fillStyle = '#fff';
        g.font = '64px sans-serif';
        g.fillText(String(n), 40, 140);
    };
    draw();
    const ticking = setInterval(draw, 40);
    const recorder = new MediaRecorder(canvas.captureStream(25), {mimeType: 'video/webm'});
    const chunks = [];
    recorder.ondataavailable = e => chunks.push(e.data);
    const stopped = new Promise(resolve => { recorder.onstop = resolve; });
    recorder.start(500);
    await new Promise(resolve => setTimeout(resolve, 10500));
    recorder.stop();
    await stopped;
    clearInterval(ticking);
    const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
    let text = '';
    for (const b of bytes) text += String.fromCharCode(b);
    return btoa(text);
}"""


@pytest.fixture
def media_recorder_webm(browser: Any) -> bytes:
    """A 10.5 s WebM (the room takes 10 s at least, R10) made by Chromium's MediaRecorder,
    as the candidate's page records it."""
    context = browser.new_context()
    try:
        page = context.new_page()
        recorded: bytes = base64.b64decode(page.evaluate(MEDIA_RECORDER))
    finally:
        context.close()
    return recorded


@pytest.fixture
def reviewed_with_a_real_environment(
    tmp_path: Path, media_recorder_webm: bytes
) -> Iterator[tuple[str, Platform, Journey]]:
    yield from serve_a_review(tmp_path, media_recorder_webm)


def off_the_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end on a thread of its own: Playwright's sync API keeps an
    event loop running in the test's thread."""
    done: list[T] = []
    thread = threading.Thread(target=lambda: done.append(asyncio.run(coroutine)))
    thread.start()
    thread.join()
    return done[0]


def record_with_a_cut(journey: Journey, live_root: Path) -> None:
    """6 s recorded, the connection cut for 5 s, then 6 s more with the focus lost at its 2nd
    second; the segments' bytes go where the web app serves them from."""
    session_id = journey.session_id
    assert session_id is not None
    recorder = MemoryLiveRecorder(
        journey.clock, lambda event: record_live_event(journey.ctx, event), grace_s=30
    )
    origin = media_origin(journey.ctx, session_id)

    def connect() -> MemoryPeer:
        peer = MemoryPeer(recorder, journey.clock)
        peer.accept(off_the_loop(recorder.open(session_id, peer.offer(), origin)))
        return peer

    def play(peer: MemoryPeer, seconds: int) -> None:
        for _ in range(seconds):
            peer.send(HEARTBEAT)
            peer.play(1)

    peer = connect()
    play(peer, 6)
    peer.hang_up()
    journey.clock.advance(seconds=5)
    peer = connect()
    play(peer, 2)
    peer.send(json.dumps({"type": "signal", "kind": "focus_lost"}))
    play(peer, 4)
    off_the_loop(recorder.close(session_id))
    for media_id, data in recorder.blobs.items():
        path = live_root / media_id
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def test_the_examiner_plays_the_recording_and_a_flag_seeks_to_its_second(
    reviewed: tuple[str, Platform, Journey], page: Any
) -> None:
    url, platform, journey = reviewed
    sign_in_as_examiner(url, platform, page)
    page.goto(f"{url}/examiner/reviews/{journey.review_id}")
    timeline = page.locator("#recording-timeline")
    kinds = timeline.locator("li.mark").evaluate_all("els => els.map(e => e.dataset.kind)")
    # The recording's marks in order; the other facts of the exam are rows between them.
    # Its 17 s stop long before she sends the exam: the end shows as a gap of its own.
    assert [k for k in kinds if k != "fact"] == ["segment", "gap", "segment", "flag", "gap"]
    gap = timeline.locator("li.gap").first
    assert float(gap.get_attribute("data-end")) - float(gap.get_attribute("data-start")) == (
        pytest.approx(5, abs=0.2)
    )
    end = timeline.locator("li.gap").last
    assert float(end.get_attribute("data-start")) == pytest.approx(17, abs=0.2)
    # The summary says which holes count as gaps: « coupures : 0 s » beside a hole of a
    # second between two segments read as a sum that did not add up (a reviewer's remark).
    assert "coupures de plus de 2 s : " in page.locator("#player-summary").inner_text()
    player = page.locator("#player")
    first = player.get_attribute("data-segment")
    flag = timeline.locator("li.flag button")
    assert "Signalement (onglet quitté)" in flag.inner_text()  # words, never a raw code
    still = timeline.locator("li.flag img.still")
    wait_until(page, "img => img.complete && img.naturalWidth > 0", arg=still.element_handle())
    # The page is open, its stills and the player's first frame (its poster) shown, and
    # nothing played: no byte of a recording was asked, and none is recorded as played (an
    # auditor read « l'enregistrement de l'examen (lu) » for an examiner who only opened it).
    page.wait_for_load_state("networkidle")
    assert player.evaluate("p => p.readyState") == 0
    assert player.evaluate("p => p.poster.endsWith('/still/0')")
    assert looked_at(platform, journey) == {ViewedMedia.PHOTO, ViewedMedia.STILL}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "11-review-before-play.png"))
    flag.click()
    wait_until(
        page,
        """first => {
            const p = document.getElementById('player');
            return p.getAttribute('data-segment') !== first && p.readyState >= 1
                && Math.abs(p.currentTime - 2) < 0.6;
        }""",
        arg=first,
    )
    # Under the player, where it is in the recording (its own clock counts from 0:00). It
    # follows the seek once the player says « seeked »: waited for (a CI run read it before,
    # at the segment's first second, 11 for 13).
    flag_s = float(timeline.locator("li.flag").get_attribute("data-start"))
    clock = wait_until(
        page,
        """at => {
            const text = document.getElementById('player-clock').textContent;
            return Math.abs(clock_seconds(text) - at) <= 1.5 ? text : false;
        }""".replace("clock_seconds(text)", CLOCK_SECONDS),
        arg=flag_s,
        timeout=10_000,
    )
    assert clock.endswith(" de l'enregistrement"), clock
    assert ViewedMedia.SEGMENT in looked_at(platform, journey)  # played, and recorded so
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "11-review-playback.png"), full_page=True)
    assert serious_violations(page) == []


def test_the_evidence_the_recommendation_cites_plays_the_recording_from_its_moment(
    reviewed: tuple[str, Platform, Journey], page: Any
) -> None:
    """A reviewer's tour: « Preuves : Signalement … » under the recommended verdict only
    scrolled to the moment's row and left the player at 0:00; the row's own button played
    it. The link now plays from the moment too, in French and English."""
    url, platform, journey = reviewed
    sign_in_as_examiner(url, platform, page)
    for language in ("fr", "en"):
        if language == "en":
            page.goto(f"{url}/lang/en")
        page.goto(f"{url}/examiner/reviews/{journey.review_id}")
        row = page.locator("#recording-timeline li.flag")
        start = float(row.get_attribute("data-start"))
        key = row.get_attribute("id").removeprefix("m-")
        link = page.locator(
            f'section[aria-labelledby="rec-title"] a.evidence[href="#m-{key}"]'
        ).first
        assert page.locator("#player").evaluate("p => p.readyState") == 0
        link.click()
        wait_until(
            page,
            """at => {
                const p = document.getElementById('player');
                return parseFloat(p.getAttribute('data-seek-to')) === at && p.readyState >= 1
                    && Math.abs(parseFloat(p.getAttribute('data-segment-start')) + p.currentTime
                                - at) < 1;
            }""",
            arg=start,
        )
        assert "is-playing" in (row.get_attribute("class") or "")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"11-review-evidence-link-plays-{language}.png"))


def test_a_moment_reads_the_same_beside_the_player_under_it_and_in_the_log(
    reviewed: tuple[str, Platform, Journey], page: Any
) -> None:
    """One flag read « 1 010 s – 1 026 s » in the moments, « Seconde 1011 » under the player
    at its start and « de 16:50 à 17:06 de l'enregistrement » in the log (a reviewer's
    finding): an examiner could not tell they were one moment. Now one text, in both
    languages: its row and its line of the log say the same span, and the player held at
    its start says that start as they do."""
    url, platform, journey = reviewed
    sign_in_as_examiner(url, platform, page)
    for language in ("fr", "en"):
        if language == "en":
            page.goto(f"{url}/lang/en")
        page.goto(f"{url}/examiner/reviews/{journey.review_id}")
        row = page.locator("#recording-timeline li.flag")
        start = float(row.get_attribute("data-start"))
        span = review_words.span_words(start, float(row.get_attribute("data-end")), language)
        assert row.locator(".span").inner_text() == span
        # Its line of the full log (folded: its text, shown or not), by the fact's id.
        key = row.get_attribute("id").removeprefix("m-")
        assert span in page.locator(f"#ev-{key} td.details").text_content()
        # The player at the flag's start, held there: the caption says where it stands.
        row.locator("button.seek").click()
        wait_until(
            page,
            """at => {
                const p = document.getElementById('player');
                return parseFloat(p.getAttribute('data-seek-to')) === at && p.readyState >= 1;
            }""",
            arg=start,
        )
        page.locator("#player").evaluate(
            """(p, at) => {
                p.pause();
                p.currentTime = at - parseFloat(p.getAttribute('data-segment-start'));
            }""",
            start,
        )
        at = review_words.position_words(start, language)
        begins = review_words.recording_time(start, language) + " "
        assert span.startswith(begins) and at.startswith(begins), (span, at)
        wait_until(page, "at => document.getElementById('player-clock').textContent === at", arg=at)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.locator("#recording").screenshot(
            path=str(ARTIFACTS / f"11-review-moment-said-once-{language}.png")
        )


def test_the_caption_under_the_player_says_a_position_as_the_server_does(
    reviewed: tuple[str, Platform, Journey], page: Any
) -> None:
    """The caption is written in the page (playback.js `recordingTime`), the moments and the
    log on the server (review_words.recording_time): the two say every position alike, to
    each half tenth of the first minutes and across the hour."""
    url, platform, journey = reviewed
    sign_in_as_examiner(url, platform, page)
    page.goto(f"{url}/examiner/reviews/{journey.review_id}")
    seconds = [n * 0.05 for n in range(2400)] + [n * 0.05 for n in range(71_900, 72_100)]
    seconds += [3599.96, 4152.0, 4152.25, 36_000.0, 86_399.9]
    for language in ("fr", "en"):
        said = page.evaluate(
            "([values, mark]) => values.map(v => recordingTime(v, mark))",
            [seconds, review_words.decimal_mark(language)],
        )
        expected = [review_words.recording_time(s, language) for s in seconds]
        assert [(s, a) for s, a, b in zip(seconds, said, expected, strict=True) if a != b] == []


# The seconds a caption under the player says (« 0:13 de l'enregistrement », « 1:02:05,5 … »),
# read in the page and in Python.
CLOCK_SECONDS = """(text.split(' ')[0].replace(',', '.').split(':')
    .reduce((total, part) => total * 60 + parseFloat(part), 0))"""


def seconds_of(caption: str) -> float:
    total = 0.0
    for part in caption.split(" ", maxsplit=1)[0].replace(",", ".").split(":"):
        total = total * 60 + float(part)
    return total


def looked_at(platform: Platform, journey: Journey) -> set[ViewedMedia]:
    """What the auditor's page says was looked at in the session, by kind."""
    session_id = journey.session_id
    assert session_id is not None
    return {v.what for v in views_of_session(platform.ctx, platform.projections, session_id)}


def sign_in_as_examiner(url: str, platform: Platform, page: Any) -> None:
    accounts.register_staff(
        platform.ctx, email="eve@example.org", name="Eve", role=Role.EXAMINER, password="eve-pass-1"
    )
    page.goto(f"{url}/staff/login")
    page.get_by_label("Adresse e-mail").fill("eve@example.org")
    page.get_by_label("Mot de passe").fill("eve-pass-1")
    page.get_by_role("button", name="Se connecter").click()


def test_the_recording_plays_on_through_the_cut_into_the_next_segment_and_stops_at_the_last(
    reviewed: tuple[str, Platform, Journey], page: Any
) -> None:
    url, platform, journey = reviewed
    sign_in_as_examiner(url, platform, page)
    page.goto(f"{url}/examiner/reviews/{journey.review_id}")
    rows = page.locator("#recording-timeline li.mark.segment")
    assert rows.count() == 2  # 6 s, a 5 s cut, then 6 s more
    first, second = (rows.nth(i).locator("button").get_attribute("data-segment") for i in (0, 1))
    second_start = float(rows.nth(1).get_attribute("data-start"))
    # The examiner presses play (nothing is loaded before), then goes to the first
    # segment's last half second.
    page.locator("#player").evaluate("p => { p.play(); }")
    wait_until(page, "document.getElementById('player').readyState >= 1")
    page.locator("#player").evaluate("p => { p.currentTime = p.duration - 0.5; }")
    # Played with the player's own ▶, no moment clicked: its segment's row says so.
    wait_until(page, "li => li.classList.contains('is-playing')", arg=rows.nth(0).element_handle())
    # The first segment ends: the second is loaded and plays from its start, past the cut.
    wait_until(
        page,
        """second => {
            const p = document.getElementById('player');
            return p.getAttribute('data-segment') === second && !p.paused
                && p.currentTime > 0.2 && p.currentTime < 3;
        }""",
        arg=second,
    )
    # The row of the segment playing is marked, and the clock shows the session's second.
    assert rows.nth(1).evaluate("li => li.classList.contains('is-playing')")
    assert not rows.nth(0).evaluate("li => li.classList.contains('is-playing')")
    clock = page.locator("#player-clock").inner_text()
    assert second_start <= seconds_of(clock) <= second_start + 4, (clock, second_start)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "11-review-playback-next-segment.png"), full_page=True)
    # At the last segment's end it stops there: nothing after it to play.
    page.locator("#player").evaluate("p => { p.currentTime = p.duration - 0.5; }")
    wait_until(page, "document.getElementById('player').ended")
    page.wait_for_timeout(500)
    state = page.locator("#player").evaluate(
        "p => ({segment: p.getAttribute('data-segment'), paused: p.paused, ended: p.ended})"
    )
    assert state == {"segment": second, "paused": True, "ended": True}
    # A click on a moment still seeks back into the first segment.
    rows.nth(0).locator("button").click()
    wait_until(
        page,
        """first => {
            const p = document.getElementById('player');
            return p.getAttribute('data-segment') === first && p.readyState >= 1 && !p.paused;
        }""",
        arg=first,
    )
    assert serious_violations(page) == []


def test_the_environment_recordings_say_their_length_and_once_played_show_a_frame(
    reviewed_with_a_real_environment: tuple[str, Platform, Journey], page: Any
) -> None:
    url, platform, journey = reviewed_with_a_real_environment
    sign_in_as_examiner(url, platform, page)
    page.goto(f"{url}/examiner/reviews/{journey.review_id}")
    videos = page.locator(".cards.media video")
    assert videos.count() == 3  # ears, room, desk
    # Before play, nothing of their files is asked (a request is recorded as a look): their
    # length is the log's, under each.
    page.wait_for_load_state("networkidle")
    lengths = page.locator(".cards.media .media-length")
    assert [lengths.nth(i).inner_text() for i in range(3)] == ["Durée : 10,5 s"] * 3
    assert videos.evaluate_all("vs => vs.map(v => v.readyState)") == [0, 0, 0]
    assert ViewedMedia.RECORDING not in looked_at(platform, journey)
    # Played, each one learns its length from its file (its seek bar works) and plays on
    # from its start; paused, it shows its frame.
    for i in range(3):
        videos.nth(i).evaluate("v => { v.play(); }")
    for i in range(3):
        wait_until(
            page,
            """v => Number.isFinite(v.duration) && v.duration > 10 && v.duration < 11
                && v.currentTime > 0.5 && v.readyState >= 2 && !v.seeking && !v.paused""",
            arg=videos.nth(i).element_handle(),
        )
        videos.nth(i).evaluate("v => { v.pause(); }")
    assert ViewedMedia.RECORDING in looked_at(platform, journey)
    # Its length is written under it: at a card's width the controls show « 0:00 » alone.
    for i in range(3):
        wait_until(
            page,
            "el => /^Durée : 1[01](,\\d)? s$/.test(el.textContent)",
            arg=lengths.nth(i).element_handle(),
            timeout=5_000,
        )
    # The frame is a picture, not an empty box: drawn, it is the canvas's colours, not black.
    lit = videos.first.evaluate(
        """v => {
            const c = document.createElement('canvas');
            c.width = 32;
            c.height = 24;
            const g = c.getContext('2d');
            g.drawImage(v, 0, 0, 32, 24);
            const d = g.getImageData(0, 0, 32, 24).data;
            let sum = 0;
            for (let i = 0; i < d.length; i += 4) sum += d[i] + d[i + 1] + d[i + 2];
            return sum / (d.length / 4);
        }"""
    )
    assert lit > 60, lit
    # The examiner can seek in it as in any recording.
    videos.first.evaluate("v => { v.currentTime = 6; }")
    wait_until(
        page,
        "v => !v.seeking && Math.abs(v.currentTime - 6) < 0.3",
        arg=videos.first.element_handle(),
    )
    page.locator("#media-title").scroll_into_view_if_needed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "11-review-environment.png"), full_page=True)
    assert serious_violations(page) == []
