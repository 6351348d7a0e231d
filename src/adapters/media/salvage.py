"""Segments a dead process left half-written, published when the node starts again.

A live segment is written under `.partial-<name>.mkv` and renamed into place once its
connection ends (webrtc.py). A process killed mid-segment (SIGKILL, the machine out of memory,
a power cut) left that file behind, never recorded: the examiner saw a « coupure » over
minutes that were recorded on this node's disk, and the product promises that a crash never
loses a second that reached the server (product.md, Reliability).

So each recording writes a claim beside its partial file (`.partial-<name>.json`: which
segment, of which session, from when) and holds an exclusive `flock` on it for as long as it
records. The kernel drops that lock when the process dies, however it dies: a claim whose lock
can be taken belongs to no living recorder, whichever process of the node (one folder may
serve several web workers) looks. Its frames are copied into a proper file (the muxer's index
and duration written, nothing re-encoded), which is then published like any segment, its end
taken from its last frame.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import av

from adapters.media.encoded_segment import opus_samples
from adapters.media.live_common import AUDIO_RATE, VIDEO_FPS

log = logging.getLogger(__name__)

CLAIM_SUFFIX = ".json"
VIDEO_FRAME_S = 1 / VIDEO_FPS


@dataclass(frozen=True)
class ClaimFacts:
    """What a claim says of its segment: enough to report it as the recorder would have."""

    segment_id: str
    session_id: UUID
    started_at: datetime
    source: str


class Claim:
    """A recording's claim on its partial file, held (locked) while it records."""

    def __init__(self, partial: Path, facts: ClaimFacts) -> None:
        self.path = claim_path(partial)
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(self._fd, _encoded(facts))
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        """The segment is published or dropped: the claim goes, then its lock."""
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = None


def claim_path(partial: Path) -> Path:
    return partial.with_suffix(CLAIM_SUFFIX)


def partial_of(claim: Path) -> Path:
    return claim.with_suffix(".mkv")


@dataclass
class Leftover:
    """A claim no living process holds, locked now by the one salvaging it."""

    claim: Path
    facts: ClaimFacts | None  # None: unreadable (cut while being written)
    fd: int

    def release(self) -> None:
        """Its segment is published (or held nothing): the partial file and the claim go."""
        with contextlib.suppress(FileNotFoundError):
            partial_of(self.claim).unlink()
        with contextlib.suppress(FileNotFoundError):
            self.claim.unlink()
        self.let_go()

    def let_go(self) -> None:
        """Left as it is (unreadable, or its publishing failed): looked at again later."""
        os.close(self.fd)


def leftovers(root: Path) -> Iterator[Leftover]:
    """The claims under `root` (a folder per session) whose recorder is gone. Each is locked
    while the caller works on it, so two processes never salvage the same segment."""
    for claim in sorted(root.glob(f"*/.partial-*{CLAIM_SUFFIX}")):
        try:
            fd = os.open(claim, os.O_RDWR)
        except FileNotFoundError:  # released since the listing
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # a living recorder's
            os.close(fd)
            continue
        if not claim.exists():  # published and released between the open and the lock
            os.close(fd)
            continue
        yield Leftover(claim, _decoded(os.read(fd, 1 << 16)), fd)


@dataclass(frozen=True)
class Copied:
    video_frames: int
    audio_seconds: float
    end_s: float  # the last frame's end, in seconds from the segment's start


def copy_frames(partial: Path, copy: Path | None) -> Copied | None:
    """The frames a cut file holds, up to where it was cut, copied into a whole file (none
    re-encoded), or only counted (`copy` None); None if it holds none (cut before its first
    cluster reached the disk)."""
    try:
        source = av.open(str(partial), "r")
    except (av.error.FFmpegError, OSError):  # not even its header was written
        return None
    with source, contextlib.ExitStack() as stack:
        # The first video and audio streams, as the recorder writes them (a screen's
        # segment may hold no sound: its video alone is kept).
        kept = tuple(s[0] for s in (source.streams.video, source.streams.audio) if s)
        if not kept:
            return None
        out = None if copy is None else stack.enter_context(av.open(str(copy), "w", format="webm"))
        streams = {s.index: out.add_stream_from_template(s) for s in kept} if out else {}
        count = _Count()
        with contextlib.suppress(av.error.FFmpegError, EOFError):  # the cut
            for packet in source.demux(*kept):
                if packet.size == 0 or packet.pts is None:
                    continue
                count.add(packet, packet.pts)
                if out is not None:
                    packet.stream = streams[packet.stream.index]
                    out.mux(packet)
    if count.video == 0 and count.audio_s == 0:
        if copy is not None:
            copy.unlink(missing_ok=True)
        return None
    return Copied(count.video, count.audio_s, count.end_s)


@dataclass
class _Count:
    video: int = 0
    audio_s: float = 0.0
    end_s: float = 0.0

    def add(self, packet: av.Packet[Any], pts: int) -> None:
        start = float(pts * packet.time_base)
        if packet.stream.type == "video":
            self.video += 1
            length = VIDEO_FRAME_S  # a frame shows until the next (encoded_segment.py)
        else:
            length = opus_samples(bytes(packet)) / AUDIO_RATE
            self.audio_s += length
        self.end_s = max(self.end_s, start + length)


def ended_at(facts: ClaimFacts, copied: Copied) -> datetime:
    return facts.started_at + timedelta(seconds=copied.end_s)


def _encoded(facts: ClaimFacts) -> bytes:
    return json.dumps(
        {
            "segment_id": facts.segment_id,
            "session_id": str(facts.session_id),
            "started_at": facts.started_at.isoformat(),
            "source": facts.source,
        }
    ).encode()


def _decoded(data: bytes) -> ClaimFacts | None:
    try:
        raw = json.loads(data)
        return ClaimFacts(
            str(raw["segment_id"]),
            UUID(raw["session_id"]),
            datetime.fromisoformat(raw["started_at"]),
            str(raw["source"]),
        )
    except (ValueError, KeyError, TypeError):
        log.warning("an unreadable claim of a live segment: its file is left for an operator")
        return None
