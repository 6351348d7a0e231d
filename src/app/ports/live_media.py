"""The live media port: the proctoring tab's WebRTC stream, recorded in segments, with the page's
signals and the detectors' hints reported as plain values.

An adapter reports what happened through one `LiveEventSink` callback (called on the adapter's
event loop, never from a worker thread); the application turns each value into a domain event
(`SegmentRecorded`, `RecordingGap`, `ProctoringTabClosed`, a flag...). Media times are seconds
from the session's media origin (its first entry), as `MediaSpan` counts them. Instants are
aware readings of the clock the recorder is given (the platform's one clock, in whatever zone
it answers); the application stores them in the centre's zone, as every other fact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import BinaryIO, NewType, Protocol
from uuid import UUID

from domain.evidence import FlagKind, MediaSpan

SegmentId = NewType("SegmentId", str)


class LiveMediaError(Exception):
    """The live media side refused a request."""


class UnknownSegment(LiveMediaError, KeyError):
    """No recorded segment has this media id."""


class BadOffer(LiveMediaError, ValueError):
    """The offer cannot be answered (not an SDP offer, or no audio/video to record)."""


# A camera connection whose last frame is older than this is not shown live: a closed tab is
# noticed by the server tens of seconds later (ICE consent checks), its frames stop at once.
LIVE_FRESH_S = 3.0


def fresh_enough(last_media_at: datetime, now: datetime) -> bool:
    """Whether a camera connection whose last frame came at `last_media_at` (or which opened
    then, before any frame) is shown live now (`LIVE_FRESH_S`)."""
    return (now - last_media_at).total_seconds() <= LIVE_FRESH_S


class NotLive(LiveMediaError):
    """No camera connection of the session's candidate here at the moment (not open yet, the
    tab closed or the connection lost): a live view waits for the next one."""


# Issue 16: what a connection of the proctoring page carries. The camera's (with the
# microphone, the heartbeat and the signals) is the recording; a certification that requires
# screen capture adds the screen's, recorded in segments of its own beside it.
CAMERA, SCREEN = "camera", "screen"
SOURCES = (CAMERA, SCREEN)


class SignalKind(StrEnum):
    """What the proctoring page reports through its data channel (R17 and the flags)."""

    VISIBILITY_LOST = "visibility_lost"
    FULLSCREEN_LEFT = "fullscreen_left"
    FOCUS_LOST = "focus_lost"
    SECOND_SCREEN = "second_screen"
    COPY_PASTE = "copy_paste"
    SCREEN_SHARE_STOPPED = "screen_share_stopped"  # issue 16: the shared screen's track ended


@dataclass(frozen=True)
class SegmentStarted:
    """A connection began to be recorded; nothing is referenced until `Segment` arrives."""

    segment_id: SegmentId
    session_id: UUID
    started_at: datetime


@dataclass(frozen=True)
class Segment:
    """A finished recording of one connection: complete on storage, with its size and hash."""

    segment_id: SegmentId
    session_id: UUID
    started_at: datetime
    ended_at: datetime
    media_id: str
    size: int
    content_hash: str  # "sha256:<hex>", as StoredMedia
    video_frames: int = 0
    audio_seconds: float = 0.0
    source: str = "camera"  # issue 16: "camera" (and microphone) or "screen" (SOURCES)


@dataclass(frozen=True)
class Gap:
    """Nothing was recorded between two segments of a session (a lost connection)."""

    session_id: UUID
    start: datetime
    end: datetime


@dataclass(frozen=True)
class PageSignal:
    """The page said something happened (visibility lost, copy/paste...)."""

    session_id: UUID
    kind: SignalKind
    at: datetime


@dataclass(frozen=True)
class TabClosed:
    """Heartbeats stopped for longer than the grace period (R17).

    `last_heartbeat` is the last sign of life; `noticed_at` is when the grace period ran out.
    The tab has been gone at least from `last_heartbeat` to `noticed_at`.
    """

    session_id: UUID
    last_heartbeat: datetime
    noticed_at: datetime


@dataclass(frozen=True)
class Detection:
    """A detector's hint on a span of the recording. A hint, never a verdict."""

    kind: FlagKind
    span: MediaSpan
    confidence: float
    note: str = ""
    session_id: UUID | None = field(default=None, compare=False)


LiveEvent = SegmentStarted | Segment | Gap | PageSignal | TabClosed | Detection
LiveEventSink = Callable[[LiveEvent], None]


@dataclass(frozen=True)
class VideoSample:
    """One decoded video frame for the detectors: `bgr` holds height*width*3 bytes."""

    width: int
    height: int
    bgr: bytes


@dataclass(frozen=True)
class AudioWindow:
    """A window of microphone sound for the detectors: signed 16-bit mono PCM."""

    sample_rate: int
    pcm: bytes

    @property
    def seconds(self) -> float:
        """How long the window lasts."""
        return len(self.pcm) / 2 / self.sample_rate


class Detector(Protocol):
    """Looks at sampled frames and audio windows; runs in a worker thread, never on the loop.

    A detector may keep per-session state (to merge consecutive seconds into one span), so
    calls for one session arrive in media-time order.
    """

    def frame(self, session_id: UUID, t_s: float, sample: VideoSample) -> list[Detection]:
        """Hints from the frame shown at `t_s` seconds of media time (usually none)."""
        ...

    def audio(self, session_id: UUID, t_s: float, window: AudioWindow) -> list[Detection]:
        """Hints from the audio window that starts at `t_s` seconds of media time."""
        ...

    def finish(self, session_id: UUID, t_s: float) -> list[Detection]:
        """Hints still open when the session's stream stops at `t_s` (then forget it)."""
        ...


class LiveRecorder(Protocol):
    """Records the proctoring tab's connections, one segment per connection."""

    async def open(
        self,
        session_id: UUID,
        offer_sdp: str,
        origin: datetime | None = None,
        source: str = CAMERA,
    ) -> str:
        """Answer the page's offer and record the connection; returns the answer SDP.
        `origin` is the session's media origin (its first entry: media spans count seconds
        from it); without it, the session's first connection here. A new connection of a
        session ends the one before of the same `source` (a page has one proctoring
        connection at a time, and one screen connection: issue 16)."""
        ...

    async def watch(self, session_id: UUID, offer_sdp: str, viewer: str = "") -> str:
        """Answer a supervisor's offer with the session's live tracks, leaving recording be
        (NotLive while the candidate's camera is not connected here). When the camera's
        connection ends, so do its live views: their pages reconnect to the next one.
        `viewer` names who asked (their web session): `end_views` hangs up their views."""
        ...

    def viewers(self) -> tuple[str, ...]:
        """Who watches a live view held here, as each `watch` was told (no repeats)."""
        ...

    async def end_views(self, viewer: str) -> None:
        """Hang up that viewer's live views (logged out, or their session ended elsewhere:
        a view went on showing her camera to an agent who had logged out, issue 15)."""
        ...

    async def close(self, session_id: UUID) -> None:
        """The session ended: hang up its connections and finish its segments."""
        ...

    def held(self) -> tuple[UUID, ...]:
        """The sessions this recorder holds a connection of (what a closed session's
        check goes over: their connections are hung up once the session closes)."""
        ...

    async def aclose(self) -> None:
        """Hang up everything (shutdown); every open segment is finished first."""
        ...

    def open_segment(self, media_id: str) -> BinaryIO:
        """The recorded bytes of a finished segment, for playback (UnknownSegment if none)."""
        ...
