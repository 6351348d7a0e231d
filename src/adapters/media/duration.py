"""How long a recorded video lasts, read from the file itself (R10's minimum durations).

A browser's MediaRecorder writes WebM without a Duration in its header (it streams), so the
container's own figure is often absent: the length is the span of the packets' timestamps,
read by demuxing only (nothing is decoded, a 30 s recording takes milliseconds). A file that
does not open as a video lasts 0 s: the domain then refuses it as too short.
"""

from __future__ import annotations

import io

import av


def recording_seconds(data: bytes) -> float:
    """The span between the first and the last frame's end, in seconds (0.0 if unreadable)."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            streams = [s for s in container.streams if s.type in ("video", "audio")]
            if not streams:
                return 0.0
            first: float | None = None
            last = 0.0
            for packet in container.demux(*streams):
                if packet.pts is None or packet.time_base is None:
                    continue
                start = float(packet.pts * packet.time_base)
                end = start + float((packet.duration or 0) * packet.time_base)
                first = start if first is None else min(first, start)
                last = max(last, end)
            return 0.0 if first is None else max(0.0, last - first)
    except (av.FFmpegError, ValueError, EOFError):
        return 0.0
