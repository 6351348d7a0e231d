"""Issue 15: a live segment keeps the frames the page sent (VP8 and Opus, byte for byte: no
re-encoding), plays, and the detectors still get a frame a second and one-second windows
decoded from them. Also: the aiortc internals `rtp_tap` leans on are still there.

The page here is an aiortc peer that sends an encoded file as it is (`MediaPlayer(...,
decode=False)`), so the bytes the recorder was sent are known.
"""

from __future__ import annotations

import asyncio
import uuid
from fractions import Fraction
from pathlib import Path
from uuid import UUID

import av
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer

from adapters.clock import SystemClock
from adapters.media.encoded_segment import opus_samples, vp8_keyframe, vp8_size
from adapters.media.rtp_tap import TapUnavailable, request_keyframe, tap
from adapters.media.webrtc import WebRtcRecorder, loopback_ice
from app.ports.live_media import AudioWindow, Detection, LiveEvent, Segment, VideoSample

SECONDS = 3
FPS = 5


def page_file(path: Path, seconds: int = SECONDS) -> Path:
    """What a page sends: VP8 320x240 at 5 fps (one keyframe, then inter frames) and Opus
    mono in 20 ms packets, as a WebM file."""
    with av.open(str(path), "w", format="webm") as out:
        video = out.add_stream(
            "libvpx", rate=FPS, options={"deadline": "realtime", "cpu-used": "8", "g": "1000"}
        )
        video.width, video.height, video.pix_fmt = 320, 240, "yuv420p"
        audio = out.add_stream("libopus", rate=48_000)
        audio.layout = "mono"
        for i in range(seconds * FPS):
            picture = np.full((240, 320, 3), (i * 16) % 256, np.uint8)
            picture[40:200, 20 + i * 10 : 80 + i * 10] = 255  # something that moves
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        tone = (np.sin(np.arange(48_000 * seconds) * 2 * np.pi * 440 / 48_000) * 8000).astype(
            np.int16
        )
        for i in range(0, len(tone), 960):
            sound = av.AudioFrame.from_ndarray(tone[None, i : i + 960], format="s16", layout="mono")
            sound.sample_rate, sound.pts = 48_000, i
            out.mux(audio.encode(sound))
        out.mux(audio.encode(None))
    return path


def packets(source: Path | object, kind: str) -> list[bytes]:
    with av.open(source, "r") as container:  # type: ignore[call-overload]
        stream = container.streams.video[0] if kind == "video" else container.streams.audio[0]
        return [bytes(p) for p in container.demux(stream) if p.size]


class Spy:
    """A detector that keeps what it was shown."""

    def __init__(self) -> None:
        self.frames: list[tuple[float, VideoSample]] = []
        self.windows: list[tuple[float, AudioWindow]] = []

    def frame(self, session_id: UUID, t_s: float, sample: VideoSample) -> list[Detection]:
        self.frames.append((t_s, sample))
        return []

    def audio(self, session_id: UUID, t_s: float, window: AudioWindow) -> list[Detection]:
        self.windows.append((t_s, window))
        return []

    def finish(self, session_id: UUID, t_s: float) -> list[Detection]:
        return []


async def record(source: Path, root: Path, spy: Spy) -> tuple[WebRtcRecorder, Segment]:
    events: list[LiveEvent] = []
    recorder = WebRtcRecorder(root, SystemClock(), events.append, [spy])
    session = uuid.uuid4()
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    player = MediaPlayer(str(source), decode=False)
    assert player.video is not None and player.audio is not None
    pc.addTrack(player.video)
    pc.addTrack(player.audio)
    ended = asyncio.Event()
    player.video.on("ended", ended.set)
    await pc.setLocalDescription(await pc.createOffer())
    answer = await recorder.open(session, pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    await asyncio.wait_for(ended.wait(), SECONDS + 10)
    await asyncio.sleep(0.5)  # the last frames on the wire
    await recorder.close(session)
    await pc.close()
    await recorder.aclose()
    [segment] = [e for e in events if isinstance(e, Segment)]
    return recorder, segment


def test_a_segment_holds_the_pages_own_frames_and_plays(tmp_path: Path) -> None:
    source = page_file(tmp_path / "page.webm")
    spy = Spy()
    with loopback_ice():
        recorder, segment = asyncio.run(record(source, tmp_path / "media", spy))

    sent_video, sent_audio = packets(source, "video"), packets(source, "audio")
    kept_video = packets(recorder.open_segment(segment.media_id), "video")
    kept_audio = packets(recorder.open_segment(segment.media_id), "audio")
    # Byte for byte, in order, from the first keyframe: nothing decoded and encoded again.
    # aiortc's jitter buffer lets a frame go when the next one starts: the last one stays.
    assert kept_video == sent_video[: len(kept_video)]
    assert len(kept_video) >= len(sent_video) - 1, (len(kept_video), len(sent_video))
    assert kept_audio == sent_audio[: len(kept_audio)]
    assert len(kept_audio) >= 0.9 * len(sent_audio), (len(kept_audio), len(sent_audio))
    assert segment.video_frames == len(kept_video)
    assert segment.audio_seconds == pytest.approx(len(kept_audio) * 0.02)

    with av.open(recorder.open_segment(segment.media_id)) as container:
        assert container.format.name == "matroska,webm"
        [video], [audio] = container.streams.video, container.streams.audio
        assert (video.codec_context.name, video.width, video.height) == ("vp8", 320, 240)
        assert (audio.codec_context.name, audio.channels) == ("opus", 1)
        decoded = [f.to_ndarray() for f in container.decode(video=0)]
    assert len(decoded) == len(kept_video)  # every frame plays

    # The detectors: about a frame a second and one-second windows, decoded, in order.
    assert SECONDS - 1 <= len(spy.frames) <= SECONDS + 1, [t for t, _ in spy.frames]
    assert all(len(s.bgr) == 320 * 240 * 3 for _, s in spy.frames)
    times = [t for t, _ in spy.frames]
    # One per second of the segment's timeline (the session's first segment: media time).
    assert [int(t) for t in times] == sorted({int(t) for t in times}), times
    assert len(spy.windows) >= SECONDS - 1
    for _, window in spy.windows:
        assert window.sample_rate == 48_000 and window.seconds == pytest.approx(1, abs=0.05)
        level = np.abs(np.frombuffer(window.pcm, np.int16)).mean()
        assert level > 1000  # the tone, decoded (silence would be near 0)


def test_the_aiortc_receiver_internals_the_tap_needs_are_there() -> None:
    """Fails when aiortc changes how a receiver hands frames to its decoder (rtp_tap)."""

    async def run() -> None:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        receiver = pc.addTransceiver("video", direction="recvonly").receiver
        seen: list[object] = []
        tap(receiver, lambda codec, frame: seen.append(frame) or False)
        request_keyframe(receiver)
        await pc.close()
        with pytest.raises(TapUnavailable):
            tap(object(), lambda codec, frame: True)  # type: ignore[arg-type]

    asyncio.run(run())


def test_vp8_and_opus_headers_are_read_from_the_bytes() -> None:
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 320, 240, "yuv420p"  # type: ignore[attr-defined]
    encoder.time_base = Fraction(1, 5)
    frames = []
    for i in range(3):
        frame = av.VideoFrame.from_ndarray(np.full((240, 320, 3), i * 40, np.uint8), "rgb24")
        frame.pts = i
        frames += [bytes(p) for p in encoder.encode(frame.reformat(format="yuv420p"))]  # type: ignore[attr-defined]
    assert [vp8_keyframe(f) for f in frames] == [True, False, False]
    assert vp8_size(frames[0]) == (320, 240) and vp8_size(frames[1]) is None
    # Opus TOC (RFC 6716 3.1): config 31 (CELT 20 ms) one frame; config 1 (SILK 20 ms) two
    # frames; config 16 (CELT 2.5 ms), code 3 with 4 frames.
    assert opus_samples(bytes([31 << 3])) == 960
    assert opus_samples(bytes([1 << 3 | 1])) == 1920
    assert opus_samples(bytes([16 << 3 | 3, 4])) == 480
    assert opus_samples(b"") == 0


def test_the_answer_accepts_only_what_a_segment_holds(tmp_path: Path) -> None:
    """VP8 (with retransmissions) and Opus, whatever else the page offers; an offer without
    video is answered too."""

    async def answer(kinds: tuple[str, ...]) -> list[str]:
        recorder = WebRtcRecorder(tmp_path, SystemClock(), lambda event: None)
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        for kind in kinds:
            pc.addTransceiver(kind, direction="sendonly")  # aiortc offers VP8 and H.264
        await pc.setLocalDescription(await pc.createOffer())
        assert "H264" in pc.localDescription.sdp or kinds == ("audio",)
        session = uuid.uuid4()
        sdp = await recorder.open(session, pc.localDescription.sdp)
        await recorder.close(session)
        await pc.close()
        await recorder.aclose()
        return [line.split(" ", 1)[1] for line in sdp.splitlines() if line.startswith("a=rtpmap")]

    with loopback_ice():
        assert sorted(asyncio.run(answer(("video", "audio")))) == [
            "VP8/90000",
            "opus/48000/2",
            "rtx/90000",
        ]
        assert asyncio.run(answer(("audio",))) == ["opus/48000/2"]
