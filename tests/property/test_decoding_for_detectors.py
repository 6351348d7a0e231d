"""Issue 15: the live recorder decodes only the video frames its consumers need.

The detectors need one picture a second; nothing else on the server needs pictures (the
segment keeps the page's own frames; a supervisor's live view is decoded by aiortc only while
someone watches). The recorder asks the page for a keyframe about once a second
(`KeyframeAsks`) and the segment writer decodes a sample from that keyframe alone; a page that
ignores the asks is decoded frame by frame from its last keyframe, as before, and its samples
are the same pictures. Counted, not timed: `EncodedSegmentWriter.video_decodes`.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import math
import uuid
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer
from av.video.frame import PictureType
from benchmarks.bench_media import AsCamera
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.clock import SystemClock
from adapters.media.encoded_segment import EncodedFrame, EncodedSegmentWriter, KeyframeAsks
from adapters.media.webrtc import WebRtcRecorder, loopback_ice
from app.ports.live_media import LiveEvent, Segment, VideoSample

FPS = 5
SECONDS = 10


def page_video(keyframe_every: int | None, size: tuple[int, int] = (320, 240)) -> list[bytes]:
    """VP8 320x240 (or `size`) at 5 fps, something moving; a keyframe every `keyframe_every`
    frames (a page answering the asks) or only the first (a page ignoring them)."""
    width, height = size
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"  # type: ignore[attr-defined]
    encoder.time_base = Fraction(1, FPS)
    encoder.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    encoder.gop_size = 100_000  # type: ignore[attr-defined]
    encoder.thread_count = 1  # type: ignore[attr-defined]  # threads only slow 50 small frames
    frames: list[bytes] = []
    for i in range(SECONDS * FPS):
        picture = np.full((height, width, 3), (i * 7) % 256, np.uint8)
        picture[40:200, (i * 6) % 260 : (i * 6) % 260 + 60] = 255
        picture[:, ::7, 2] = 40  # fine detail, which scaling has to filter
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        key = keyframe_every is not None and i % keyframe_every == 0
        frame.pict_type = PictureType.I if key else PictureType.NONE
        frames += [bytes(p) for p in encoder.encode(frame)]  # type: ignore[attr-defined]
    return frames


def everything_decoded(video: list[bytes]) -> list[np.ndarray]:
    """Each frame's picture, every frame decoded in order (what a player shows)."""
    decoder = av.CodecContext.create("vp8", "r")
    return [
        f.to_ndarray(width=320, height=240, format="bgr24")
        for data in video
        for f in decoder.decode(av.Packet(data))  # type: ignore[attr-defined]
    ]


def write(video: list[bytes], *, decode: bool) -> tuple[EncodedSegmentWriter, list]:
    writer = EncodedSegmentWriter(io.BytesIO(), decode=decode)
    frames = [EncodedFrame("video", data, i / FPS) for i, data in enumerate(video)]
    samples = writer.write(frames)
    writer.close()
    return writer, [(t, s) for t, s in samples if isinstance(s, VideoSample)]


def test_a_page_answering_the_asks_has_only_its_keyframes_decoded() -> None:
    video = page_video(keyframe_every=FPS)
    writer, samples = write(video, decode=True)
    assert [round(t, 1) for t, _ in samples] == [float(s) for s in range(SECONDS)]
    # One decoded frame per sample: the other four of every second are only muxed.
    assert writer.video_decodes == len(samples) == SECONDS
    assert writer.video_frames == len(video) and writer.keyframes == SECONDS
    truth = everything_decoded(video)
    for t, sample in samples:
        picture = np.frombuffer(sample.bgr, np.uint8).reshape(240, 320, 3)
        assert np.array_equal(picture, truth[round(t * FPS)])


def test_a_page_ignoring_the_asks_is_decoded_from_its_keyframe_and_sampled_each_second() -> None:
    video = page_video(keyframe_every=None)
    writer, samples = write(video, decode=True)
    times = [t for t, _ in samples]
    # The first sample waits a little for a keyframe that never comes; then one a second.
    assert len(samples) >= SECONDS - 2
    assert all(0.9 <= b - a <= 1.7 for a, b in itertools.pairwise(times)), times
    # Each frame decoded once at most (the chain up to each sample), the same pictures.
    last = round(times[-1] * FPS)
    assert writer.video_decodes == last + 1
    truth = everything_decoded(video)
    for t, sample in samples:
        picture = np.frombuffer(sample.bgr, np.uint8).reshape(240, 320, 3)
        assert np.array_equal(picture, truth[round(t * FPS)])


def test_a_larger_page_is_sampled_at_proctoring_size_as_its_frames_convert_alone() -> None:
    # The writer converts its samples with one converter of its own, in its thread (issue 15:
    # each frame's own set up swscale and a pool of threads anew); the detectors' pictures are
    # the same as each frame converted alone, scaled down from a larger camera too.
    video = page_video(keyframe_every=FPS, size=(640, 480))
    writer, samples = write(video, decode=True)
    assert len(samples) == SECONDS and writer.video_decodes == SECONDS
    truth = everything_decoded(video)
    assert truth[0].shape == (240, 320, 3)
    for t, sample in samples:
        assert (sample.width, sample.height) == (320, 240)
        picture = np.frombuffer(sample.bgr, np.uint8).reshape(240, 320, 3)
        assert np.array_equal(picture, truth[round(t * FPS)])


def test_without_detectors_no_frame_is_decoded() -> None:
    writer, samples = write(page_video(keyframe_every=FPS), decode=False)
    assert writer.video_decodes == 0 and samples == []


@settings(max_examples=80, deadline=None)
@given(fps=st.sampled_from([5, 10, 15, 24, 30]), answer=st.floats(min_value=0.0, max_value=0.5))
def test_asks_bring_a_keyframe_about_every_second(fps: int, answer: float) -> None:
    """A sender whose keyframe comes `answer` seconds after an ask, rounded up to its next
    frame (aiortc sends the PLI with the next packet: two frames for a sender nearby)."""
    asks = KeyframeAsks()
    due: set[int] = {0}  # the stream starts with a keyframe
    keys: list[float] = []
    asked = 0
    for i in range(20 * fps):
        t = i / fps
        key = i in due
        keys += [t] if key else []
        if asks.frame(t, key):
            asked += 1
            due.add(i + max(1, math.ceil(answer * fps - 1e-9)))
    gaps = [b - a for a, b in itertools.pairwise(keys)]
    # After the first answer is measured, a second apart to a frame (asks fall on frames).
    assert all(abs(gap - 1.0) <= 1 / fps + 1e-9 for gap in gaps[1:]), gaps
    assert 0.5 <= gaps[0] <= 1.0 + 0.6, gaps
    # One ask per keyframe, none wasted (the last one's keyframe may fall after the end).
    assert asked - (len(keys) - 1) in (0, 1), (asked, keys)


def test_a_sender_that_never_answers_is_asked_about_once_a_second() -> None:
    asks = KeyframeAsks()
    asked = [i / 30 for i in range(30 * 10) if asks.frame(i / 30, i == 0)]
    assert 10 <= len(asked) <= 14 and all(b - a >= 0.75 for a, b in itertools.pairwise(asked))


@pytest.mark.parametrize("ask", [True, False], ids=["asking", "not-asking"])
def test_an_aiortc_page_is_asked_for_keyframes_and_only_they_are_decoded(
    tmp_path: Path, ask: bool
) -> None:
    """The asks reach a real sender (aiortc's encoder, which honours PLIs like a browser);
    without them (`ask_keyframes=False`), every frame from the first keyframe is decoded."""

    async def run() -> tuple[WebRtcRecorder, Segment]:
        events: list[LiveEvent] = []
        recorder = WebRtcRecorder(
            tmp_path, SystemClock(), events.append, [_Nothing()], ask_keyframes=ask
        )
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        player = MediaPlayer(f"testsrc=size=320x240:rate={FPS}", format="lavfi")
        assert player.video is not None
        pc.addTrack(AsCamera(player.video))
        await pc.setLocalDescription(await pc.createOffer())
        session = uuid.uuid4()
        answer = await recorder.open(session, pc.localDescription.sdp)
        await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        await asyncio.sleep(4)
        await recorder.close(session)
        await pc.close()
        player.video.stop()
        await recorder.aclose()
        [segment] = [e for e in events if isinstance(e, Segment)]
        return recorder, segment

    with loopback_ice():
        recorder, segment = asyncio.run(run())
    if ask:
        # About 4 s at 5 fps: the first keyframe, then about one a second, each decoded once.
        assert recorder.keyframes_received >= 3
        assert recorder.video_frames_decoded <= recorder.keyframes_received + 1
    else:
        assert recorder.keyframes_received <= 2
        assert recorder.video_frames_decoded >= segment.video_frames - FPS


class _Nothing:
    """A detector that finds nothing (the recorder decodes samples only for detectors)."""

    def frame(self, session_id: uuid.UUID, t_s: float, sample: VideoSample) -> list:
        return []

    def audio(self, session_id: uuid.UUID, t_s: float, window: object) -> list:
        return []

    def finish(self, session_id: uuid.UUID, t_s: float) -> list:
        return []
