"""The live recorder without a network: a `MemoryPeer` hands frames straight to the recorder,
time moves with a manual clock, segments are real Matroska kept in a dict.

It is a real implementation of the port (same segments, gaps, signals, heartbeat watch and
detector sampling as the aiortc adapter) that runs a three-second recording in a fraction of a
second. Detectors run inline, so tests see their hints at once.
"""

from __future__ import annotations

import hashlib
import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import BinaryIO
from uuid import UUID

import numpy as np
from av.audio.frame import AudioFrame
from av.video.frame import VideoFrame

from adapters.clock import ManualClock
from adapters.media.live_common import (
    HeartbeatWatch,
    Sampler,
    SegmentWriter,
    parse_message,
    run_audio,
    run_finish,
    run_frame,
)
from app.ports.clock import Clock
from app.ports.live_media import (
    CAMERA,
    SCREEN,
    SOURCES,
    BadOffer,
    Detector,
    Gap,
    LiveEventSink,
    NotLive,
    PageSignal,
    Segment,
    SegmentId,
    SegmentStarted,
    SignalKind,
    TabClosed,
    UnknownSegment,
    fresh_enough,
)

OFFER = "vigie-memory-offer"
ANSWER = "vigie-memory-answer"
WATCH = "vigie-memory-watch"


@dataclass
class _Session:
    origin: float | None  # clock seconds of the first entry
    watch: HeartbeatWatch
    lost_at: datetime | None = None  # an unexpected end, waiting for the next segment
    links: list[MemoryLink] = field(default_factory=list)
    watchers: list[MemoryPeer] = field(default_factory=list)


class MemoryLink:
    """One recorded connection: what a peer's frames and messages go through."""

    def __init__(
        self,
        recorder: MemoryLiveRecorder,
        session_id: UUID,
        segment_id: SegmentId,
        source: str = CAMERA,
    ) -> None:
        self.recorder = recorder
        self.source = source  # issue 16: the camera's connection, or the shared screen's
        self.session_id = session_id
        self.segment_id = segment_id
        self.started_at = recorder.clock.now()
        self.buffer = io.BytesIO()
        self.writer = SegmentWriter(self.buffer, fps=recorder.fps)
        self.sampler = Sampler()
        self.open = True
        self.last_media_at: datetime | None = None

    def _t(self) -> float:
        return (self.recorder.clock.now() - self.started_at).total_seconds()

    def video(self, frame: VideoFrame) -> None:
        if not self.open:
            return
        t = self._t()
        self.last_media_at = self.recorder.clock.now()
        for watcher in self.recorder.sessions[self.session_id].watchers:
            watcher.frames_seen += 1
        if self.writer.wants_video(t):
            self.writer.add_video(frame, t)
        if self.recorder.detectors and self.source == CAMERA and self.sampler.frame_due(t):
            media_t = self.recorder.media_time(self.session_id)
            for hit in run_frame(self.recorder.detectors, self.session_id, media_t, frame):
                self.recorder.sink(hit)

    def audio(self, frame: AudioFrame) -> None:
        if not self.open:
            return
        t = self._t()
        self.last_media_at = self.recorder.clock.now()
        self.writer.add_audio(frame, t)
        detecting = self.recorder.detectors and self.source == CAMERA
        window = self.sampler.add_audio(frame, t) if detecting else None
        if window is not None:
            start = self.recorder.media_time(self.session_id) - (t - window[0])
            for hit in run_audio(self.recorder.detectors, self.session_id, start, window[1]):
                self.recorder.sink(hit)

    def message(self, text: str) -> None:
        if self.open:
            self.recorder.on_message(self.session_id, text)

    def drop(self) -> None:
        """The connection is lost (network, reload, crash): the segment ends, a gap opens."""
        self.recorder.finish(self, expected=False)


class MemoryLiveRecorder:
    """`LiveRecorder` on a dict; `poll()` runs the heartbeat watch (the aiortc one has a task)."""

    def __init__(
        self,
        clock: Clock,
        sink: LiveEventSink,
        detectors: Sequence[Detector] = (),
        grace_s: float = 10.0,
        fps: int = 5,
    ) -> None:
        self.clock = clock
        self.sink = sink
        self.detectors = tuple(detectors)
        self.grace_s = grace_s
        self.fps = fps
        self.sessions: dict[UUID, _Session] = {}
        self.blobs: dict[str, bytes] = {}
        self.links: dict[str, MemoryLink] = {}
        self.view_viewers: dict[str, str] = {}  # each live view's answer: who asked for it
        self._numbers = itertools.count(1)
        self._screen_numbers = itertools.count(1)

    def media_time(self, session_id: UUID) -> float:
        session = self.sessions[session_id]
        now = self.clock.now().timestamp()
        if session.origin is None:
            session.origin = now
        return max(now - session.origin, 0.0)

    async def open(
        self,
        session_id: UUID,
        offer_sdp: str,
        origin: datetime | None = None,
        source: str = CAMERA,
    ) -> str:
        if not offer_sdp.startswith(OFFER):
            raise BadOffer("not a memory offer")
        if source not in SOURCES:
            raise BadOffer(f"unknown source {source!r}")
        now = self.clock.now()
        session = self.sessions.setdefault(
            session_id,
            _Session(origin.timestamp() if origin else None, HeartbeatWatch(now, self.grace_s)),
        )
        for previous in [link for link in session.links if link.open and link.source == source]:
            self.finish(previous, expected=False)  # the page offers again after a loss
        self.media_time(session_id)  # the first entry fixes the origin
        session.watch.beat(now)
        if source == SCREEN:  # issue 16: the shared screen's segments, numbered on their own
            segment_id = SegmentId(f"{session_id}/screen-{next(self._screen_numbers):04d}")
        else:
            segment_id = SegmentId(f"{session_id}/segment-{next(self._numbers):04d}")
        link = MemoryLink(self, session_id, segment_id, source)
        session.links.append(link)
        self.links[segment_id] = link
        if session.lost_at is not None and source == CAMERA:
            self.sink(Gap(session_id, session.lost_at, link.started_at))
            session.lost_at = None
        self.sink(SegmentStarted(segment_id, session_id, link.started_at))
        return f"{ANSWER} {segment_id}"

    async def watch(self, session_id: UUID, offer_sdp: str, viewer: str = "") -> str:
        if not offer_sdp.startswith(WATCH):
            raise BadOffer("not a memory watch offer")
        session = self.sessions.get(session_id)
        now = self.clock.now()
        if session is None or not any(
            link.source == CAMERA and fresh_enough(link.last_media_at or link.started_at, now)
            for link in session.links
        ):
            raise NotLive(f"no camera connection of {session_id} here")
        answer = f"{WATCH} {session_id} {len(self.view_viewers)}"
        self.view_viewers[answer] = viewer
        return answer

    def link(self, answer_sdp: str) -> MemoryLink:
        return self.links[answer_sdp.removeprefix(ANSWER).strip()]

    def on_message(self, session_id: UUID, text: str) -> None:
        message = parse_message(text)
        now = self.clock.now()
        session = self.sessions[session_id]
        if isinstance(message, SignalKind):
            self.sink(PageSignal(session_id, message, now))
        elif message is not None:
            session.watch.beat(now)
        self.poll()

    def poll(self) -> None:
        """Report every session whose heartbeats stopped past the grace period."""
        now = self.clock.now()
        for session_id, session in self.sessions.items():
            last = session.watch.silence(now)
            if last is not None:
                self.sink(TabClosed(session_id, last, now))

    def finish(self, link: MemoryLink, *, expected: bool) -> None:
        if not link.open:
            return
        link.open = False
        # A lost connection ends at its last frame (the aiortc recorder does the same).
        ended_at = self.clock.now() if expected else (link.last_media_at or self.clock.now())
        stats = link.writer.close()
        data = link.buffer.getvalue()
        media_id = f"{link.segment_id}.mkv"
        self.blobs[media_id] = data
        session = self.sessions[link.session_id]
        session.links.remove(link)
        if link.source == CAMERA:  # its live views end with it (their pages reconnect)
            for watcher in session.watchers:
                watcher.watch_ended = True
            session.watchers.clear()
        if self.detectors and link.source == CAMERA:
            media_t = self.media_time(link.session_id)
            for hit in run_finish(self.detectors, link.session_id, media_t):
                self.sink(hit)
        if not expected and link.source == CAMERA:
            session.lost_at = ended_at
        self.sink(
            Segment(
                link.segment_id,
                link.session_id,
                link.started_at,
                ended_at,
                media_id,
                len(data),
                f"sha256:{hashlib.sha256(data).hexdigest()}",
                stats.video_frames,
                stats.audio_seconds,
                link.source,
            )
        )

    def held(self) -> tuple[UUID, ...]:
        return tuple(self.sessions)

    def viewers(self) -> tuple[str, ...]:
        return tuple({w.viewer for s in self.sessions.values() for w in s.watchers})

    async def end_views(self, viewer: str) -> None:
        for session in self.sessions.values():
            for watcher in [w for w in session.watchers if w.viewer == viewer]:
                watcher.watch_ended = True
                session.watchers.remove(watcher)

    async def close(self, session_id: UUID) -> None:
        session = self.sessions.pop(session_id, None)
        if session is None:
            return
        self.sessions[session_id] = session  # finish() still reads it
        for link in list(session.links):
            self.finish(link, expected=True)
        del self.sessions[session_id]

    async def aclose(self) -> None:
        for session_id in list(self.sessions):
            await self.close(session_id)

    def open_segment(self, media_id: str) -> BinaryIO:
        try:
            return io.BytesIO(self.blobs[media_id])
        except KeyError:
            raise UnknownSegment(media_id) from None


# --- a peer for tests and demos --------------------------------------------------------------


def moving_pattern(width: int, height: int, n: int) -> np.ndarray:
    """A moving gradient, so consecutive frames differ as a camera's do."""
    x = np.arange(width, dtype=np.uint16)[None, :]
    y = np.arange(height, dtype=np.uint16)[:, None]
    plane = ((x + y + 4 * n) % 256).astype(np.uint8)
    return np.stack([plane, np.roll(plane, n, axis=1), 255 - plane], axis=2)


def tone(n_samples: int, start: int, frequency: float, amplitude: float) -> np.ndarray:
    t = (np.arange(n_samples) + start) / 48_000
    return (amplitude * 32767 * np.sin(2 * np.pi * frequency * t)).astype(np.int16)


class MemoryPeer:
    """The proctoring page, in memory: sends 15 fps video and 20 ms audio frames while the
    manual clock moves."""

    def __init__(self, recorder: MemoryLiveRecorder, clock: ManualClock) -> None:
        self.recorder = recorder
        self.clock = clock
        self.wire: MemoryLink | None = None
        self.frames_seen = 0
        self.watch_ended = False  # as a live view: hung up when the camera's connection ended
        self.viewer = ""  # as a live view: who asked for it (`watch`)
        self._video_n = 0
        self._audio_n = 0

    def offer(self) -> str:
        return f"{OFFER} v=0"

    def accept(self, answer_sdp: str) -> None:
        self.wire = self.recorder.link(answer_sdp)

    def play(
        self,
        seconds: float,
        *,
        image: np.ndarray | None = None,
        frequency: float = 440.0,
        amplitude: float = 0.3,
        fps: int = 15,
    ) -> None:
        """Send `seconds` of media (a test pattern or `image`, a sine), moving the clock."""
        assert self.wire is not None, "accept an answer first"
        step_ms = 20
        next_video = 0.0
        for tick in range(round(seconds * 1000 / step_ms)):
            now_s = tick * step_ms / 1000
            if now_s >= next_video:
                pixels = image if image is not None else moving_pattern(320, 240, self._video_n)
                self.wire.video(VideoFrame.from_ndarray(pixels, format="bgr24"))
                self._video_n += 1
                next_video += 1 / fps
            samples = tone(960, self._audio_n * 960, frequency, amplitude)
            frame = AudioFrame.from_ndarray(samples[None, :], format="s16", layout="mono")
            frame.sample_rate, frame.pts = 48_000, self._audio_n * 960
            frame.time_base = Fraction(1, 48_000)
            self.wire.audio(frame)
            self._audio_n += 1
            self.clock.advance(milliseconds=step_ms)
            self.recorder.poll()

    def watching(self, answer_sdp: str) -> None:
        """Receive a session's live frames (after `recorder.watch`); counts them."""
        session_id = UUID(answer_sdp.removeprefix(WATCH).split()[0])
        self.viewer = self.recorder.view_viewers[answer_sdp]
        self.recorder.sessions[session_id].watchers.append(self)

    def send(self, text: str) -> None:
        assert self.wire is not None
        self.wire.message(text)

    def hang_up(self) -> None:
        if self.wire is not None:
            self.wire.drop()
