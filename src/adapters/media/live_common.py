"""What the live recorders share: the Matroska segment writer, the data channel's messages, the
heartbeat watch and the per-session sampling for the detectors.

Nothing here touches the network; `webrtc.py` feeds it from aiortc tracks and `live_memory.py`
from frames a test hands over.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import IO
from uuid import UUID

import av
import numpy as np
from av.audio.frame import AudioFrame
from av.video.frame import VideoFrame

from app.ports.live_media import (
    AudioWindow,
    Detection,
    Detector,
    SignalKind,
    VideoSample,
)

WIDTH, HEIGHT = 320, 240  # proctoring quality: enough to see faces, hands and a phone
VIDEO_FPS = 5
AUDIO_RATE = 48_000  # opus' native rate; mono
DETECT_EVERY_S = 1.0  # one frame per second to the detectors
AUDIO_WINDOW_S = 1.0  # and one-second audio windows
MS = Fraction(1, 1000)


# --- data channel ------------------------------------------------------------------------


@dataclass(frozen=True)
class Heartbeat:
    """The page is alive."""


def parse_message(text: str | bytes) -> Heartbeat | SignalKind | None:
    """A data channel message: a heartbeat, a page signal, or None for anything unknown.

    Unknown or malformed messages are ignored rather than refused: a page from a newer release
    must not break the recording.
    """
    try:
        message = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(message, dict):
        return None
    if message.get("type") == "heartbeat":
        return Heartbeat()
    if message.get("type") == "signal":
        try:
            return SignalKind(str(message.get("kind")))
        except ValueError:
            return None
    return None


class HeartbeatWatch:
    """Notices when heartbeats stop for longer than `grace_s` (R17), once per silence."""

    def __init__(self, started: datetime, grace_s: float) -> None:
        self.grace_s = grace_s
        self.last_beat = started
        self.reported = False

    def beat(self, now: datetime) -> None:
        self.last_beat = max(self.last_beat, now)
        self.reported = False

    def silence(self, now: datetime) -> datetime | None:
        """The last heartbeat if the grace period just ran out (reported only once)."""
        if self.reported or (now - self.last_beat).total_seconds() <= self.grace_s:
            return None
        self.reported = True
        return self.last_beat


# --- the segment file --------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentStats:
    video_frames: int
    audio_seconds: float


class SegmentWriter:
    """Encodes decoded frames into one segment as the aiortc recorder keeps them (WebM: VP8
    320x240 at `fps`, Opus mono); the in-memory recorder's writer, whose page hands over frames.

    Not thread-safe: one writer is fed by one thread (the segment's worker). Times are seconds
    from the segment's start; frames arriving faster than `fps` are dropped by `wants_video`.
    """

    def __init__(self, sink: str | Path | IO[bytes], fps: int = VIDEO_FPS) -> None:
        self.fps = fps
        self.container = av.open(sink, mode="w", format="webm")
        self.video = self.container.add_stream(
            "libvpx", rate=fps, options={"deadline": "realtime", "cpu-used": "8"}
        )
        self.video.bit_rate = 300_000
        self.video.width, self.video.height, self.video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        self.video.codec_context.time_base = MS
        self.audio = self.container.add_stream("libopus", rate=AUDIO_RATE)
        self.audio.layout = "mono"
        self.resampler = av.AudioResampler(format="s16", layout="mono", rate=AUDIO_RATE)
        self.next_video_s = 0.0
        self.last_video_ms = -1
        self.video_frames = 0
        self.audio_samples = 0
        self.audio_origin: float | None = None
        self.closed = False

    def wants_video(self, t_s: float) -> bool:
        """Whether a frame at `t_s` is due (cheap; call it before handing the frame over)."""
        if t_s + 0.5 / self.fps < self.next_video_s:
            return False
        self.next_video_s = max(self.next_video_s + 1 / self.fps, t_s)
        return True

    def add_video(self, frame: VideoFrame, t_s: float) -> None:
        pts = max(round(t_s * 1000), self.last_video_ms + 1)  # strictly increasing
        self.last_video_ms = pts
        scaled = frame.reformat(width=WIDTH, height=HEIGHT, format="yuv420p")
        if scaled is frame:
            # reformat hands back the same frame when nothing changes; it is shared with the
            # supervisors' relay, whose encoder reads its pts: never rewrite it.
            scaled = VideoFrame.from_ndarray(frame.to_ndarray(), format="yuv420p")
        scaled.pts, scaled.time_base = pts, MS
        self.container.mux(self.video.encode(scaled))
        self.video_frames += 1

    def add_audio(self, frame: AudioFrame, t_s: float) -> None:
        if self.audio_origin is None:
            # Audio starts where it arrived; afterwards the samples themselves keep time.
            self.audio_origin = max(t_s, 0.0)
        for resampled in self.resampler.resample(frame):
            mono = resampled
            if mono is frame:  # a pass-through: copy before stamping (see add_video)
                mono = AudioFrame.from_ndarray(frame.to_ndarray(), format="s16", layout="mono")
                mono.sample_rate = AUDIO_RATE
            mono.pts = round(self.audio_origin * AUDIO_RATE) + self.audio_samples
            mono.time_base = Fraction(1, AUDIO_RATE)
            self.audio_samples += mono.samples
            self.container.mux(self.audio.encode(mono))

    def close(self) -> SegmentStats:
        if not self.closed:
            self.closed = True
            self.container.mux(self.video.encode(None))
            for mono in self.resampler.resample(None):
                self.container.mux(self.audio.encode(mono))
            self.container.mux(self.audio.encode(None))
            self.container.close()
        return SegmentStats(self.video_frames, self.audio_samples / AUDIO_RATE)


def sha256_file(path: Path) -> tuple[int, str]:
    """Size and "sha256:<hex>" of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size, f"sha256:{digest.hexdigest()}"


def publish_file(temporary: Path, final: Path) -> tuple[int, str]:
    """fsync then rename a finished file into place; returns its size and hash."""
    with temporary.open("rb+") as handle:
        os.fsync(handle.fileno())
    size, content_hash = sha256_file(temporary)
    os.replace(temporary, final)
    return size, content_hash


# --- detectors -----------------------------------------------------------------------------


def video_sample(frame: VideoFrame) -> VideoSample:
    """The frame at proctoring size, as BGR bytes for the detectors."""
    bgr = frame.to_ndarray(width=WIDTH, height=HEIGHT, format="bgr24")
    return VideoSample(WIDTH, HEIGHT, bgr.tobytes())


def mono_pcm(frames: Sequence[AudioFrame]) -> AudioWindow:
    """Frames (s16, any layout, one rate) folded to one mono int16 window."""
    if not frames:
        return AudioWindow(AUDIO_RATE, b"")
    rate = frames[0].sample_rate
    chunks: list[np.ndarray] = []
    for frame in frames:
        samples = frame.to_ndarray()
        channels = len(frame.layout.channels)
        if frame.format.is_planar:
            mono = samples.astype(np.int32).mean(axis=0)
        else:
            mono = samples.reshape(-1, channels).astype(np.int32).mean(axis=1)
        if samples.dtype != np.int16:  # float formats: scale to int16
            mono = np.clip(mono * 32767, -32768, 32767)
        chunks.append(mono.astype(np.int16))
    return AudioWindow(rate, np.concatenate(chunks).tobytes())


def run_frame(
    detectors: Sequence[Detector], session_id: UUID, t_s: float, frame: VideoFrame
) -> list[Detection]:
    sample = video_sample(frame)
    return [hit for detector in detectors for hit in detector.frame(session_id, t_s, sample)]


def run_audio(
    detectors: Sequence[Detector], session_id: UUID, t_s: float, frames: Sequence[AudioFrame]
) -> list[Detection]:
    window = mono_pcm(frames)
    return [hit for detector in detectors for hit in detector.audio(session_id, t_s, window)]


def run_sample(
    detectors: Sequence[Detector], session_id: UUID, t_s: float, sample: VideoSample | AudioWindow
) -> list[Detection]:
    """Detectors over a sample already decoded (the aiortc recorder's segment writer)."""
    if isinstance(sample, VideoSample):
        return [hit for detector in detectors for hit in detector.frame(session_id, t_s, sample)]
    return [hit for detector in detectors for hit in detector.audio(session_id, t_s, sample)]


def run_finish(detectors: Sequence[Detector], session_id: UUID, t_s: float) -> list[Detection]:
    return [hit for detector in detectors for hit in detector.finish(session_id, t_s)]


class Sampler:
    """Picks which media reaches the detectors: one frame per second, one-second audio."""

    def __init__(self) -> None:
        self.next_frame_s = 0.0
        self.audio: list[AudioFrame] = []
        self.audio_start_s: float | None = None
        self.audio_s = 0.0

    def frame_due(self, t_s: float) -> bool:
        if t_s < self.next_frame_s:
            return False
        self.next_frame_s = max(self.next_frame_s + DETECT_EVERY_S, t_s)
        return True

    def add_audio(self, frame: AudioFrame, t_s: float) -> tuple[float, list[AudioFrame]] | None:
        """Collect a frame; a full window (its start and frames) when one is complete."""
        if self.audio_start_s is None:
            self.audio_start_s = t_s
        self.audio.append(frame)
        self.audio_s += frame.samples / frame.sample_rate
        if self.audio_s < AUDIO_WINDOW_S:
            return None
        window = (self.audio_start_s, self.audio)
        self.audio, self.audio_start_s, self.audio_s = [], None, 0.0
        return window
