"""The live recorder on aiortc: the proctoring tab's WebRTC connection, recorded on disk.

One server-side `RTCPeerConnection` per connection of the page, with the platform's ICE
servers (`adapters.media.ice`: none by default, never aiortc's default STUN server, which is
unreachable here and costs a 5 s gather timeout). Each connection becomes one WebM segment
holding the page's own VP8 and Opus frames, not re-encoded (issue 15: re-encoding was most of
a stream's cost), written under `<root>/<session>/.partial-*` by a worker thread and renamed
into place once complete, with its size and sha256; nothing half-written is ever referenced.
The answer accepts only VP8 and Opus (every WebRTC browser must send both, RFC 7742/7874).

The encoded frames are taken from aiortc's receivers before their decoders (`rtp_tap`); the
event loop batches them and the segment's worker muxes them, decoding only the detectors'
samples (`encoded_segment`): with detectors, the sender is asked for a keyframe about once a
second (`KeyframeAsks`), so a sample is one keyframe decoded, not the frames before it. aiortc
decodes a track only while a supervisor watches it: supervisors (`watch`) receive the decoded
tracks through one `MediaRelay`, unbuffered.

Times come from the injected `Clock`; media times (detections) are seconds from the session's
first entry into this recorder.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import uuid
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO
from uuid import UUID

import aioice.ice
from aiortc import (
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from adapters.media.encoded_segment import (
    EncodedFrame,
    EncodedSegmentWriter,
    KeyframeAsks,
    Sample,
    vp8_keyframe,
)
from adapters.media.ice import IceServers
from adapters.media.live_common import (
    HeartbeatWatch,
    SegmentStats,
    parse_message,
    publish_file,
    run_finish,
    run_sample,
    sha256_file,
)
from adapters.media.rtp_tap import request_keyframe, tap
from adapters.media.salvage import Claim, ClaimFacts, Leftover, copy_frames, leftovers, partial_of
from app.ports.clock import Clock
from app.ports.live_media import (
    CAMERA,
    SCREEN,
    BadOffer,
    Detection,
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

log = logging.getLogger(__name__)

# A segment's name: its number on this node, then its connection's own id. The number
# alone came from this node's folder, which an object store empties as it uploads: a session
# that moved to another node (its first died), or reconnected here, began again at 0001 and
# overwrote the bucket's recorded segments, the log's digests no longer matching (issue 15,
# an operator's review). Names from before the id still open.
SEGMENT_NAME = re.compile(r"segment-(\d+)(?:-[0-9a-f]{12})?\.mkv")
# Issue 16: the shared screen's segments, beside the camera's (numbered on their own).
SCREEN_NAME = re.compile(r"screen-(\d+)(?:-[0-9a-f]{12})?\.mkv")
NAMES = {CAMERA: ("segment", SEGMENT_NAME), SCREEN: ("screen", SCREEN_NAME)}
RECORDED_CODECS = {"video": "video/vp8", "audio": "audio/opus"}  # what the segment holds
# A segment a dead process left is published only within the review's period (R19, eight
# days): found later (a node's disk started again after weeks), it can serve no review, and a
# candidate's recording kept past it is what retention is there to prevent.
SALVAGE_WITHIN = timedelta(days=8)
FLUSH_S = 1.0  # media the event loop gathers before handing it to the segment's worker
KEYFRAME_ASK_S = 1.0  # how often to ask again while waiting for a keyframe


@contextlib.contextmanager
def loopback_ice() -> Iterator[None]:
    """Gather ICE candidates on 127.0.0.1 only (tests, benchmarks, a one-machine demo).

    aioice skips loopback addresses when it lists host candidates, so two peers in one process
    never connect over 127.0.0.1 without this. It swaps aioice's address lister for the time
    of the block; every peer connection created inside gathers 127.0.0.1 and nothing else, so
    no packet leaves the machine. Not for production: a browser on another host cannot reach it.
    """
    original = aioice.ice.get_host_addresses
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
    try:
        yield
    finally:
        aioice.ice.get_host_addresses = original


@dataclass
class _Recording:
    """One connection being recorded."""

    pc: RTCPeerConnection
    session_id: UUID
    segment_id: SegmentId
    started_at: datetime
    offset_s: float  # media time of the segment's start
    partial: Path
    final: Path
    writer: EncodedSegmentWriter
    worker: ThreadPoolExecutor
    batch: list[EncodedFrame] = field(default_factory=list)  # received, not yet handed over
    receivers: dict[str, RTCRtpReceiver] = field(default_factory=dict)
    decoding: set[str] = field(default_factory=set)  # kinds aiortc decodes (for supervisors)
    keyframe_asked_s: float = -KEYFRAME_ASK_S
    asks: KeyframeAsks | None = None  # keyframes for the detectors' samples (None: no detector)
    first: dict[str, tuple[float, float]] = field(default_factory=dict)  # kind -> (pts s, t)
    submitted: int = 0
    done: int = 0
    expected_end: bool = False
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    finishing: bool = False
    last_media_at: datetime | None = None  # arrival of the last frame: the segment's true end
    source: str = CAMERA  # issue 16: or the shared screen (no detectors, no live view)
    # Held while the segment is written, so that a process killed mid-segment leaves what
    # the node's next start publishes (salvage.py).
    claim: Claim | None = None


@dataclass
class _Session:
    origin: datetime
    watch: HeartbeatWatch
    numbers: Iterator[int]
    recordings: list[_Recording] = field(default_factory=list)
    # Recordings whose connection ended and whose segment is still being written: closing
    # the session (a shutdown) waits for them, or their segment would never be reported.
    finishing: list[_Recording] = field(default_factory=list)
    sources: dict[str, MediaStreamTrack] = field(default_factory=dict)
    watchers: list[RTCPeerConnection] = field(default_factory=list)
    lost_at: datetime | None = None
    watchdog: asyncio.Task[None] | None = None
    lane: asyncio.Future[None] | None = None
    lane_depth: int = 0
    screen_numbers: Iterator[int] | None = None  # issue 16: the screen's segments


class WebRtcRecorder:
    """`LiveRecorder` on aiortc, segments as files under `root` (a folder per session)."""

    def __init__(
        self,
        root: Path,
        clock: Clock,
        sink: LiveEventSink,
        detectors: Sequence[Detector] = (),
        *,
        grace_s: float = 10.0,
        fps: int = 5,
        detector_workers: int = 2,
        max_detector_backlog: int = 4,
        keep: Callable[[str, Path], None] | None = None,
        ice: IceServers | None = None,
        node: str = "vigie",
        ask_keyframes: bool = True,
    ) -> None:
        self.root = root
        # With detectors, ask the page for a keyframe about once a second, so that a sample
        # is one keyframe decoded (the page pays for the keyframes: more bits, or lower
        # quality at its bitrate); False: decode every frame from the page's own keyframes.
        self.ask_keyframes = ask_keyframes
        # STUN/TURN servers of every connection; TURN credentials are signed per connection
        # for `node` (coturn's REST scheme), fresh each time.
        self.ice = ice or IceServers()
        self.node = node
        # Hands a finished segment to the media store (MediaCapture.keep_live_segment: an
        # object store uploads it); None: the segment stays where it was written.
        self.keep = keep
        self.clock = clock
        self.sink = sink
        self.detectors = tuple(detectors)
        self.grace_s = grace_s
        self.fps = fps
        self.max_detector_backlog = max_detector_backlog
        self.pool = ThreadPoolExecutor(detector_workers, thread_name_prefix="vigie-detect")
        self.relay = MediaRelay()
        # Who asked for each live view (`watch`'s viewer); forgotten with the connection.
        self._viewer_of: weakref.WeakKeyDictionary[RTCPeerConnection, str] = (
            weakref.WeakKeyDictionary()
        )
        self.sessions: dict[UUID, _Session] = {}
        self.skipped_detections = 0  # samples dropped because the detectors lagged
        self.max_encode_backlog = 0  # frames waiting for a segment's worker, at worst
        self.video_frames_decoded = 0  # over finished segments: the detectors' cost
        self.keyframes_received = 0  # over finished segments: what the asks cost the sender

    # --- the port ------------------------------------------------------------------------

    async def open(
        self,
        session_id: UUID,
        offer_sdp: str,
        origin: datetime | None = None,
        source: str = CAMERA,
    ) -> str:
        offer = RTCSessionDescription(sdp=offer_sdp, type="offer")
        if source not in NAMES:
            raise BadOffer(f"unknown source {source!r}")
        if "m=audio" not in offer_sdp and "m=video" not in offer_sdp:
            raise BadOffer("the offer carries neither audio nor video")
        now = self.clock.now()
        session = self._session(session_id, now, origin)
        for previous in [r for r in session.recordings if r.source == source]:
            # The page offers again only when it lost its connection: ICE would notice much
            # later (consent checks), and the segment would overlap the next one.
            await self._finish(previous, expected=False)
        now = self.clock.now()
        session.watch.beat(now)  # offering is a sign of life
        pc = RTCPeerConnection(self._configuration())
        folder = self.root / str(session_id)
        number = next(
            session.numbers if source == CAMERA else self._screen_numbers(session, folder)
        )
        name = f"{NAMES[source][0]}-{number:04d}-{uuid.uuid4().hex[:12]}"
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".partial-{name}.mkv"
        segment_id = SegmentId(f"{session_id}/{name}")
        recording = _Recording(
            pc=pc,
            session_id=session_id,
            segment_id=segment_id,
            claim=Claim(partial, ClaimFacts(segment_id, session_id, now, source)),
            started_at=now,
            offset_s=(now - session.origin).total_seconds(),
            partial=partial,
            final=folder / f"{name}.mkv",
            writer=EncodedSegmentWriter(partial, decode=bool(self.detectors) and source == CAMERA),
            worker=ThreadPoolExecutor(1, thread_name_prefix="vigie-segment"),
            source=source,
            # Key frames asked of the camera only: the screen runs no detector.
            asks=(
                KeyframeAsks()
                if self.detectors and self.ask_keyframes and source == CAMERA
                else None
            ),
        )
        session.recordings.append(recording)
        self._wire(session, recording, offer_sdp)
        try:
            await pc.setRemoteDescription(offer)
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as error:
            await self._finish(recording, expected=True, publish=False)
            raise BadOffer(str(error)) from error
        if session.lost_at is not None and source == CAMERA:
            self.sink(Gap(session_id, session.lost_at, now))
            session.lost_at = None
        self.sink(SegmentStarted(recording.segment_id, session_id, now))
        return pc.localDescription.sdp

    async def watch(self, session_id: UUID, offer_sdp: str, viewer: str = "") -> str:
        session = self.sessions.get(session_id)
        now = self.clock.now()
        if (
            session is None
            or not session.sources
            or not any(
                r.source == CAMERA and fresh_enough(r.last_media_at or r.started_at, now)
                for r in session.recordings
            )
        ):
            raise NotLive(f"no camera connection of {session_id} on this node")
        pc = RTCPeerConnection(self._configuration())
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            for track in session.sources.values():
                pc.addTrack(self.relay.subscribe(track, buffered=False))
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as error:
            await pc.close()
            raise BadOffer(str(error)) from error
        session.watchers.append(pc)
        self._viewer_of[pc] = viewer

        @pc.on("connectionstatechange")
        async def _state() -> None:
            if pc.connectionState in ("failed", "closed") and pc in session.watchers:
                session.watchers.remove(pc)
                await pc.close()

        return pc.localDescription.sdp

    def held(self) -> tuple[UUID, ...]:
        return tuple(self.sessions)

    def viewers(self) -> tuple[str, ...]:
        return tuple(
            {self._viewer_of.get(pc, "") for s in self.sessions.values() for pc in s.watchers}
        )

    async def end_views(self, viewer: str) -> None:
        for session in self.sessions.values():
            for pc in [pc for pc in session.watchers if self._viewer_of.get(pc, "") == viewer]:
                session.watchers.remove(pc)
                await pc.close()

    async def close(self, session_id: UUID) -> None:
        session = self.sessions.get(session_id)
        if session is None:
            return
        for recording in [*session.recordings, *session.finishing]:
            await self._finish(recording, expected=True)
        for pc in list(session.watchers):
            await pc.close()
        if session.watchdog is not None:
            session.watchdog.cancel()
        if session.lane is not None:
            with contextlib.suppress(Exception):
                await session.lane
        del self.sessions[session_id]

    async def aclose(self) -> None:
        for session_id in list(self.sessions):
            await self.close(session_id)
        self.pool.shutdown(wait=True)

    def open_segment(self, media_id: str) -> BinaryIO:
        path = (self.root / media_id).resolve()
        named = SEGMENT_NAME.fullmatch(path.name) or SCREEN_NAME.fullmatch(path.name)
        if self.root.resolve() not in path.parents or not named:
            raise UnknownSegment(media_id)
        try:
            return path.open("rb")
        except FileNotFoundError:
            raise UnknownSegment(media_id) from None

    # --- figures for the benchmark -------------------------------------------------------

    def encode_backlog(self) -> int:
        """Frames handed to segment workers and not yet encoded, over all recordings."""
        return sum(r.submitted - r.done for s in self.sessions.values() for r in s.recordings)

    # --- inside ----------------------------------------------------------------------------

    def _configuration(self) -> RTCConfiguration:
        servers = self.ice.for_peer(f"node-{self.node}", self.clock.now())
        return RTCConfiguration(iceServers=[RTCIceServer(**server) for server in servers])

    def _session(self, session_id: UUID, now: datetime, origin: datetime | None = None) -> _Session:
        session = self.sessions.get(session_id)
        if session is None:
            folder = self.root / str(session_id)
            existing = [
                int(m.group(1))
                for p in (folder.iterdir() if folder.exists() else ())
                if (m := SEGMENT_NAME.fullmatch(p.name))
            ]
            session = _Session(
                origin=origin or now,
                watch=HeartbeatWatch(now, self.grace_s),
                numbers=itertools.count(max(existing, default=0) + 1),
            )
            self.sessions[session_id] = session
            session.watchdog = asyncio.ensure_future(self._watchdog(session_id, session))
        return session

    @staticmethod
    def _screen_numbers(session: _Session, folder: Path) -> Iterator[int]:
        """The screen's segment numbers, after those already on disk (issue 16)."""
        if session.screen_numbers is None:
            existing = [
                int(m.group(1))
                for p in (folder.iterdir() if folder.exists() else ())
                if (m := SCREEN_NAME.fullmatch(p.name))
            ]
            session.screen_numbers = itertools.count(max(existing, default=0) + 1)
        return session.screen_numbers

    def _wire(self, session: _Session, recording: _Recording, offer_sdp: str) -> None:
        pc = recording.pc
        for kind, mime in RECORDED_CODECS.items():
            # Made before the offer is applied, so the answer offers only what the segment
            # holds (and retransmissions): the offer's m-lines take these transceivers. Only
            # for kinds the offer has: aiortc cannot answer with a transceiver left unused.
            if f"m={kind} " not in offer_sdp:
                continue
            capabilities = RTCRtpReceiver.getCapabilities(kind)
            assert capabilities is not None
            transceiver = pc.addTransceiver(kind, direction="recvonly")
            transceiver.setCodecPreferences(
                [c for c in capabilities.codecs if c.mimeType.lower() in (mime, f"{kind}/rtx")]
            )

        @pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            if recording.source == CAMERA:  # what supervisors watch live: the camera only
                session.sources[track.kind] = track
            receiver = next(t.receiver for t in pc.getTransceivers() if t.receiver.track is track)
            recording.receivers[track.kind] = receiver

            def on_frame(codec: RTCRtpCodecParameters, frame: JitterFrame) -> bool:
                return self._on_frame(session, recording, track.kind, codec, frame)

            tap(receiver, on_frame)

        @pc.on("datachannel")
        def _channel(channel: RTCDataChannel) -> None:
            @channel.on("message")
            def _message(message: str | bytes) -> None:
                self._on_message(recording.session_id, session, message)

        @pc.on("connectionstatechange")
        async def _state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self._finish(recording, expected=recording.expected_end)

    def _on_message(self, session_id: UUID, session: _Session, message: str | bytes) -> None:
        parsed = parse_message(message)
        now = self.clock.now()
        if isinstance(parsed, SignalKind):
            self.sink(PageSignal(session_id, parsed, now))
        elif parsed is not None:
            session.watch.beat(now)

    async def _watchdog(self, session_id: UUID, session: _Session) -> None:
        period = min(1.0, self.grace_s / 4)
        while True:
            await asyncio.sleep(period)
            now = self.clock.now()
            last = session.watch.silence(now)
            if last is not None:
                self.sink(TabClosed(session_id, last, now))

    def _segment_time(self, recording: _Recording, kind: str, pts_s: float, now: datetime) -> float:
        """Seconds from the segment's start: arrival of the first frame, then the sender's
        own timestamps (RTP), so network jitter does not bend the recording's timeline."""
        first = recording.first.get(kind)
        if first is None:
            first = recording.first[kind] = (pts_s, (now - recording.started_at).total_seconds())
        return first[1] + pts_s - first[0]

    def _on_frame(
        self,
        session: _Session,
        recording: _Recording,
        kind: str,
        codec: RTCRtpCodecParameters,
        frame: JitterFrame,
    ) -> bool:
        """A frame aiortc reassembled (on the event loop); whether aiortc should decode it."""
        if recording.finishing:
            return False
        if codec.mimeType.lower() != RECORDED_CODECS.get(kind):
            # Not negotiated for the segment (see `_wire`): not recorded, shown to supervisors.
            return bool(session.watchers)
        now = recording.last_media_at = self.clock.now()
        t = self._segment_time(recording, kind, frame.timestamp / codec.clockRate, now)
        recording.batch.append(EncodedFrame(kind, frame.data, t))
        if t - recording.batch[0].t_s >= FLUSH_S:
            self._flush(recording)
        if kind == "video" and recording.asks is not None:
            receiver = recording.receivers.get("video")
            if recording.asks.frame(t, vp8_keyframe(frame.data)) and receiver is not None:
                request_keyframe(receiver)  # the next sample is decoded from that keyframe
        if not session.watchers or recording.source != CAMERA:
            recording.decoding.discard(kind)
            return False
        if kind == "video" and kind not in recording.decoding and not vp8_keyframe(frame.data):
            # A supervisor joined: aiortc's decoder needs a keyframe to start from.
            self._ask_keyframe(recording, t)
            return False
        recording.decoding.add(kind)
        return True

    async def _end_live_views(self, session: _Session, recording: _Recording) -> None:
        """The camera's connection ended: its tracks are no longer live, and its live views
        are hung up, so that a supervisor's page says so and reconnects to the next one (it
        showed a frozen picture « live »). A newer connection's tracks stay."""
        ended = {receiver.track for receiver in recording.receivers.values()}
        for kind, track in list(session.sources.items()):
            if track in ended:
                del session.sources[kind]
        if session.sources:
            return
        watchers, session.watchers = session.watchers, []
        for pc in watchers:
            await pc.close()

    def _ask_keyframe(self, recording: _Recording, t: float) -> None:
        receiver = recording.receivers.get("video")
        if receiver is not None and t - recording.keyframe_asked_s >= KEYFRAME_ASK_S:
            recording.keyframe_asked_s = t
            request_keyframe(receiver)

    def _flush(self, recording: _Recording) -> None:
        """Hand the gathered frames to the segment's worker; their samples go to detectors."""
        batch, recording.batch = recording.batch, []
        if not batch:
            return
        recording.submitted += len(batch)
        self.max_encode_backlog = max(self.max_encode_backlog, recording.submitted - recording.done)
        future = recording.worker.submit(self._write, recording, batch)
        if self.detectors:
            loop = asyncio.get_running_loop()
            future.add_done_callback(
                lambda done: loop.call_soon_threadsafe(self._samples, recording, done)
            )

    def _write(self, recording: _Recording, batch: list[EncodedFrame]) -> list[Sample]:
        """In the segment's worker thread (the writer's only user)."""
        try:
            samples = recording.writer.write(batch)
            receiver = recording.receivers.get("video")
            if recording.writer.broken and receiver is not None:
                request_keyframe(receiver)  # a thread-safe flag: aiortc sends the PLI
            return samples
        except Exception:
            log.exception("segment %s: frames could not be written", recording.segment_id)
            return []
        finally:
            recording.done += len(batch)  # one worker thread: the only writer

    def _samples(self, recording: _Recording, done: Future[list[Sample]]) -> None:
        if done.cancelled() or done.exception() is not None:
            return
        for t, sample in done.result():
            self._detect(recording, run_sample, recording.offset_s + t, sample)

    def _detect(
        self, recording: _Recording, job: Callable[..., list[Detection]], *args: Any
    ) -> None:
        """Run detectors in the pool, one session's samples in order; drop when lagging."""
        session = self.sessions.get(recording.session_id)
        if session is None:
            return
        if session.lane_depth >= self.max_detector_backlog:
            self.skipped_detections += 1
            return
        session.lane_depth += 1
        previous = session.lane
        loop = asyncio.get_running_loop()

        async def run() -> None:
            if previous is not None:
                with contextlib.suppress(Exception):
                    await previous
            try:
                hits = await loop.run_in_executor(
                    self.pool, job, self.detectors, recording.session_id, *args
                )
            except Exception:
                log.exception("session %s: a detector failed", recording.session_id)
                hits = []
            finally:
                session.lane_depth -= 1
            for hit in hits:
                self.sink(hit)

        session.lane = asyncio.ensure_future(run())

    async def _finish(self, recording: _Recording, *, expected: bool, publish: bool = True) -> None:
        if recording.finishing:
            await recording.finished.wait()
            return
        recording.finishing = True
        recording.expected_end = recording.expected_end or expected
        # A cut connection is noticed seconds after its last frame: the segment ends there.
        ended_at = self.clock.now() if expected else (recording.last_media_at or self.clock.now())
        session = self.sessions[recording.session_id]
        self._flush(recording)  # `finishing` lets no frame in any more
        await recording.pc.close()
        loop = asyncio.get_running_loop()
        stats: SegmentStats = await loop.run_in_executor(recording.worker, recording.writer.close)
        recording.worker.shutdown(wait=False)
        self.video_frames_decoded += recording.writer.video_decodes
        self.keyframes_received += recording.writer.keyframes
        if recording in session.recordings:
            session.recordings.remove(recording)
            session.finishing.append(recording)
        if recording.source == CAMERA:
            await self._end_live_views(session, recording)
        if self.detectors and recording.source == CAMERA:
            end_t = (ended_at - session.origin).total_seconds()
            self._detect(recording, run_finish, end_t)
        never_reached = stats.video_frames == 0 and stats.audio_seconds == 0
        if not publish or never_reached or not recording.partial.exists():
            # Refused, or answered and never reached (no frame written: ICE never connected,
            # as for a peer that cannot reach this node): there is no recording to keep.
            recording.partial.unlink(missing_ok=True)
            _release(recording)
            _done(session, recording)
            return
        size, content_hash = await loop.run_in_executor(
            None, publish_file, recording.partial, recording.final
        )
        media_id = f"{recording.final.parent.name}/{recording.final.name}"
        if self.keep is not None:
            try:
                await loop.run_in_executor(None, self.keep, media_id, recording.final)
            except Exception:
                # The segment stays on this node's disk (nothing is lost); it is recorded all
                # the same, as the recording's truth, and the log names it for an operator.
                log.exception("live segment %s not handed to the media store", media_id)
        if not recording.expected_end and recording.source == CAMERA:
            session.lost_at = ended_at
        _done(session, recording)  # its waiters resume after the report below
        self.sink(
            Segment(
                recording.segment_id,
                recording.session_id,
                recording.started_at,
                ended_at,
                media_id,
                size,
                content_hash,
                stats.video_frames,
                stats.audio_seconds,
                recording.source,
            )
        )
        _release(recording)

    # --- segments a dead process left (salvage.py) ---------------------------------------

    async def salvage(self, record: Callable[[Segment], object] | None = None) -> int:
        """Publishes and reports the segments that processes killed mid-segment left under
        this recorder's folder (none of a living recorder's); how many. With `record` (which
        writes the segment to the log and raises if it cannot), a leftover's files go only
        once it returned: the sink's write happens later, and a failure there (the store not
        back yet after a crash) left a published file no event named, and no claim to try
        again from (a reviewer's reading). Without it, the sink's report is trusted."""
        loop = asyncio.get_running_loop()
        found: list[Leftover] = await loop.run_in_executor(None, lambda: list(leftovers(self.root)))
        published = 0
        for leftover in found:
            try:
                segment = await loop.run_in_executor(None, self._salvaged, leftover)
                if segment is not None and record is not None:
                    await loop.run_in_executor(None, record, segment)
            except Exception:  # the disk, the media store or the log: left for the next look
                log.exception("could not publish the leftover segment %s", leftover.claim)
                leftover.let_go()
                continue
            if segment is None:
                continue
            if record is None:
                self.sink(segment)
            leftover.release()
            published += 1
        return published

    def _salvaged(self, leftover: Leftover) -> Segment | None:
        """The leftover's segment published as `_finish` would have (None: nothing to
        report, its files dealt with)."""
        facts = leftover.facts
        if facts is None:
            leftover.let_go()
            return None
        if self.clock.now() - facts.started_at > SALVAGE_WITHIN:
            log.warning("dropped %s, left half-written too long ago to be reviewed", leftover.claim)
            leftover.release()
            return None
        partial = partial_of(leftover.claim)
        final = partial.parent / partial.name.removeprefix(".partial-")
        if partial.exists():
            scratch = partial.parent / f".partial-salvage-{final.name}"  # never listed
            copied = copy_frames(partial, scratch)
            if copied is None:  # cut before any frame reached the disk
                leftover.release()
                return None
            size, content_hash = publish_file(scratch, final)
        else:  # killed after publishing, before reporting: reported again (recorded once)
            copied = copy_frames(final, None) if final.exists() else None
            if copied is None:
                leftover.release()
                return None
            size, content_hash = sha256_file(final)
        media_id = f"{final.parent.name}/{final.name}"
        if self.keep is not None:
            self.keep(media_id, final)
        log.warning(
            "recovered %s: %.1f s of camera from %s, left half-written by a process that "
            "stopped mid-segment (its last second or two were lost with it)",
            media_id,
            copied.end_s,
            facts.started_at.isoformat(timespec="seconds"),
        )
        return Segment(
            SegmentId(facts.segment_id),
            facts.session_id,
            facts.started_at,
            facts.started_at + timedelta(seconds=copied.end_s),
            media_id,
            size,
            content_hash,
            copied.video_frames,
            copied.audio_seconds,
            facts.source,
        )


def _release(recording: _Recording) -> None:
    if recording.claim is not None:
        recording.claim.release()
        recording.claim = None


def _done(session: _Session, recording: _Recording) -> None:
    if recording in session.finishing:
        session.finishing.remove(recording)
    recording.finished.set()
