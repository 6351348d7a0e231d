"""A live segment written from the packets the page sent: VP8 and Opus into WebM, no re-encoding.

Re-encoding every stream cost most of a recording's CPU (issue 15); the page already sends
what the examiner's Chromium plays natively (VP8 and Opus, both mandatory in WebRTC), so the
segment keeps the sender's frames as they came. The file is Matroska with the `webm` DocType
(still named `segment-NNNN.mkv`). Only the detectors need pictures and sound: when asked, the
writer decodes the audio (one-second mono windows) and one video frame a second, in its own
thread.

Decoding only the frames the detectors need (issue 15): a VP8 inter frame needs every frame
since the last keyframe, so the recorder asks the sender for a keyframe about once a second
(`KeyframeAsks`, a PLI), and the writer decodes a due sample from that keyframe alone. The
other frames are only muxed. A sender that ignores the asks costs what it did before: when no
keyframe comes in time, the writer decodes the frames since its last decoded one (the chain)
and samples the newest.

Not thread-safe: one writer is fed by one thread (the segment's worker).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from adapters.media.live_common import (
    AUDIO_RATE,
    AUDIO_WINDOW_S,
    DETECT_EVERY_S,
    HEIGHT,
    MS,
    VIDEO_FPS,
    WIDTH,
    SegmentStats,
)
from app.ports.live_media import AudioWindow, VideoSample

# The sender's own clocks (RFC 7741 for VP8, RFC 7587 for Opus).
CLOCK_RATES = {"video": 90_000, "audio": AUDIO_RATE}


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    """One frame as received: `kind` "video" (VP8) or "audio" (Opus), `t_s` seconds from the
    segment's start."""

    kind: str
    data: bytes
    t_s: float


def vp8_keyframe(data: bytes) -> bool:
    """Whether a VP8 frame is a keyframe (RFC 6386 9.1: the frame tag's first bit is 0)."""
    return bool(data) and not data[0] & 1


def vp8_size(data: bytes) -> tuple[int, int] | None:
    """A keyframe's width and height (RFC 6386 9.1: after the start code 9d 01 2a)."""
    if not vp8_keyframe(data) or len(data) < 10 or data[3:6] != b"\x9d\x01\x2a":
        return None
    width = int.from_bytes(data[6:8], "little") & 0x3FFF
    height = int.from_bytes(data[8:10], "little") & 0x3FFF
    return width, height


_OPUS_FRAME_SAMPLES = (
    # RFC 6716 3.1: the TOC's configuration number gives the frame's length at 48 kHz.
    [480, 960, 1920, 2880] * 3  # SILK-only: 10, 20, 40, 60 ms
    + [480, 960] * 2  # hybrid: 10, 20 ms
    + [120, 240, 480, 960] * 4  # CELT-only: 2.5, 5, 10, 20 ms
)


def opus_samples(data: bytes) -> int:
    """How many 48 kHz samples an Opus packet holds (RFC 6716 3.1), 0 if it is malformed."""
    if not data:
        return 0
    toc = data[0]
    per_frame = _OPUS_FRAME_SAMPLES[toc >> 3]
    code = toc & 3
    if code == 0:
        frames = 1
    elif code in (1, 2):
        frames = 2
    elif len(data) < 2:
        return 0
    else:
        frames = data[1] & 0x3F
    return per_frame * frames


Sample = tuple[float, VideoSample | AudioWindow]  # seconds from the segment's start, sample

# A keyframe this much before a sample is due is taken for it (the asks' keyframes land about
# a second apart, give or take a frame); a due sample waits this long for a keyframe before
# decoding the chain instead (the sender takes a frame or two and a round trip to answer).
SAMPLE_EARLY_S = 0.5
KEYFRAME_WAIT_S = 0.6


class KeyframeAsks:
    """When to ask the sender for a keyframe so that one arrives about every `every_s`.

    Fed every received video frame (seconds, whether a keyframe), on the event loop. It asks
    when the last keyframe is `every_s` old minus the time an answer takes to arrive: at first
    two and a half frame intervals (aiortc sends the PLI with the next packet, and the
    sender's next frame is the keyframe), then the last answer's delay as measured (a loaded
    or distant sender answers later), at most `max_lead_s`. A keyframe the sender sent of its
    own accord (Chromium after a loss, a supervisor's ask) counts; asks are at least
    `min_gap_s` apart, so a sender that ignores them gets about one a second.
    """

    def __init__(
        self, every_s: float = DETECT_EVERY_S, min_gap_s: float = 0.75, max_lead_s: float = 0.6
    ) -> None:
        self.every_s = every_s
        self.min_gap_s = min_gap_s
        self.max_lead_s = max_lead_s
        self.last_key_s: float | None = None
        self.last_frame_s: float | None = None
        self.interval_s = 0.0
        self.asked_s = float("-inf")
        self.answer_s: float | None = None  # from the last ask to its keyframe

    def frame(self, t_s: float, key: bool) -> bool:
        """Whether to ask for a keyframe now."""
        if self.last_frame_s is not None and t_s > self.last_frame_s:
            self.interval_s = t_s - self.last_frame_s
        self.last_frame_s = t_s
        if key:
            if self.last_key_s is not None and self.asked_s > self.last_key_s:
                self.answer_s = t_s - self.asked_s
            self.last_key_s = t_s
            return False
        if self.last_key_s is None:
            return False  # the stream's first keyframe is still to come: the writer waits
        if self.answer_s is None:
            lead = 2.5 * self.interval_s
        else:
            lead = self.answer_s + self.interval_s / 2  # half a frame: asks fall on frames
        lead = min(lead, self.max_lead_s)
        if t_s - self.last_key_s < self.every_s - lead or t_s - self.asked_s < self.min_gap_s:
            return False
        self.asked_s = t_s
        return True


LIVE_MUXER_OPTIONS = {"cluster_time_limit": "1000", "flush_packets": "1"}


class EncodedSegmentWriter:
    """Muxes VP8 and Opus frames into one WebM segment; decodes samples for the detectors."""

    def __init__(self, sink: str | Path | IO[bytes], *, decode: bool) -> None:
        # Each second's frames reach the disk as a cluster of their own, written out at once:
        # the muxer held five seconds in memory, and the file's buffer tens of kilobytes
        # more, which a process killed mid-segment lost (salvage.py publishes the rest).
        self.container = av.open(
            sink, mode="w", format="webm", container_options=LIVE_MUXER_OPTIONS
        )
        # The streams' encoders are never fed: PyAV opens them when the header is written,
        # which fills the codec parameters (size, OpusHead) the muxer needs.
        self.video = self.container.add_stream("libvpx", rate=VIDEO_FPS)
        self.video.width, self.video.height, self.video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        self.audio = self.container.add_stream("libopus", rate=AUDIO_RATE)
        self.audio.layout = "mono"
        self.video.time_base = self.audio.time_base = MS
        self.started = False
        self.keyed = False  # video waits for its first keyframe: nothing before it decodes
        # A video frame shows until the next one: each is muxed once the next gives its length.
        self.held: av.Packet[Any] | None = None
        self.frame_ms = round(1000 / VIDEO_FPS)
        self.last_ms = {"video": -1, "audio": -1}
        self.video_frames = 0
        self.keyframes = 0
        self.audio_samples = 0
        self.decode = decode
        self.video_decoder: av.VideoCodecContext | None = None
        self.audio_decoder: av.AudioCodecContext | None = None
        # Samples are decoded and converted in this writer's thread alone (issue 15): a frame's
        # own `to_ndarray(format=...)` set swscale up anew for each sample, with a pool of
        # threads of its own, and the decoder kept two threads per segment for one keyframe a
        # second. The same pixels (tests/property/test_decoding_for_detectors.py).
        self.reformatter = VideoReformatter()
        if decode:
            self.video_decoder = av.CodecContext.create("vp8", "r")
            self.video_decoder.thread_count = 1
            audio = av.CodecContext.create("libopus", "r")
            audio.format, audio.layout, audio.sample_rate = "s16", "mono", AUDIO_RATE
            self.audio_decoder = audio
        self.next_sample_s = 0.0
        self.chain: list[bytes] = []  # video frames since the decoder's last, not decoded
        self.video_decodes = 0  # frames handed to the video decoder (tests count them)
        self.window: list[np.ndarray] = []
        self.window_start_s: float | None = None
        self.window_samples = 0
        self.closed = False
        self.broken = False  # a video frame failed to decode: the caller asks for a keyframe

    def write(self, frames: Sequence[EncodedFrame]) -> list[Sample]:
        """Mux the frames (in arrival order); the detectors' samples they completed."""
        samples: list[Sample] = []
        for frame in frames:
            if frame.kind == "video":
                self._video(frame, samples)
            elif frame.kind == "audio":
                self._audio(frame, samples)
        return samples

    def _mux(self, stream: av.stream.Stream, kind: str, frame: EncodedFrame) -> av.Packet[Any]:
        if not self.started:
            self.started = True
            size = vp8_size(frame.data) if kind == "video" else None
            if size is not None:  # the page's own size, before the header is written
                self.video.width, self.video.height = size
        pts = max(round(frame.t_s * 1000), self.last_ms[kind] + 1)  # strictly increasing
        self.last_ms[kind] = pts
        packet = av.Packet(frame.data)
        packet.pts = packet.dts = pts
        packet.time_base = MS
        packet.stream = stream
        return packet

    def _video(self, frame: EncodedFrame, samples: list[Sample]) -> None:
        key = vp8_keyframe(frame.data)
        if not self.keyed and not key:
            return
        self.keyed = True
        packet = self._mux(self.video, "video", frame)
        packet.is_keyframe = key
        self._hold(packet)
        self.video_frames += 1
        self.keyframes += key
        if self.video_decoder is None:
            return
        if self.broken and not key:
            return  # inter frames lean on the picture that failed: wait for a keyframe
        self.broken = False
        if key:
            self.chain = []  # a keyframe needs nothing before it
        self.chain.append(frame.data)
        if key and frame.t_s >= self.next_sample_s - SAMPLE_EARLY_S:
            # The keyframe asked for this sample (give or take its own timing): it alone.
            late = frame.t_s + DETECT_EVERY_S - SAMPLE_EARLY_S
        elif frame.t_s >= self.next_sample_s + KEYFRAME_WAIT_S:
            # No keyframe in time (a sender that ignores the asks): the chain up to here.
            late = frame.t_s + DETECT_EVERY_S - KEYFRAME_WAIT_S
        else:
            return
        # A second apart, on the asks' rhythm; a gap in the stream restarts it.
        self.next_sample_s = max(self.next_sample_s + DETECT_EVERY_S, late)
        chain, self.chain = self.chain, []
        decoded: list[av.VideoFrame] = []
        try:
            for data in chain:
                self.video_decodes += 1
                decoded = self.video_decoder.decode(av.Packet(data))
        except av.FFmpegError:
            self.broken = True
            return
        if decoded:
            bgr = self.reformatter.reformat(
                decoded[-1], width=WIDTH, height=HEIGHT, format="bgr24", threads=1
            ).to_ndarray()
            samples.append((frame.t_s, VideoSample(WIDTH, HEIGHT, bgr.tobytes())))

    def _hold(self, packet: av.Packet[Any] | None) -> None:
        held, self.held = self.held, packet
        if held is None or held.pts is None:
            return
        if packet is not None and packet.pts is not None:
            self.frame_ms = packet.pts - held.pts
        held.duration = self.frame_ms
        self.container.mux(held)

    def _audio(self, frame: EncodedFrame, samples: list[Sample]) -> None:
        packet = self._mux(self.audio, "audio", frame)
        length = opus_samples(frame.data)
        packet.duration = round(length * 1000 / AUDIO_RATE)
        self.container.mux(packet)
        self.audio_samples += length
        if self.audio_decoder is None:
            return
        try:
            decoded = self.audio_decoder.decode(av.Packet(frame.data))
        except av.FFmpegError:
            return
        if self.window_start_s is None:
            self.window_start_s = frame.t_s
        for pcm in decoded:
            mono = pcm.to_ndarray().reshape(-1)
            self.window.append(mono)
            self.window_samples += len(mono)
        if self.window_samples >= AUDIO_WINDOW_S * AUDIO_RATE:
            pcm_bytes = np.concatenate(self.window).astype(np.int16).tobytes()
            samples.append((self.window_start_s, AudioWindow(AUDIO_RATE, pcm_bytes)))
            self.window, self.window_start_s, self.window_samples = [], None, 0

    def close(self) -> SegmentStats:
        if not self.closed:
            self.closed = True
            self._hold(None)
            # Nothing received still makes a file (a header, no frames): PyAV creates it only
            # when the header is written.
            self.container.start_encoding()
            self.container.close()
        return SegmentStats(self.video_frames, self.audio_samples / AUDIO_RATE)
