"""A still of a recorded segment at one second, as a small JPEG (issue 13: the thumbnail
beside each flag in the examiner's list). PyAV is here already for the recorder; its MJPEG
encoder makes the JPEG, so no imaging library is needed."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import av

THUMBNAIL_WIDTH = 160


def still_jpeg(
    source: Path | BinaryIO, offset_s: float, width: int = THUMBNAIL_WIDTH
) -> bytes | None:
    """The first frame at or after `offset_s` seconds into the segment (the last one if the
    segment ends before), scaled to `width`; None when the file holds no video. The source is
    a file or the segment's bytes read from the media store (the caller caches)."""
    try:
        with av.open(str(source) if isinstance(source, Path) else source, "r") as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            if offset_s > 1 and stream.time_base:
                # To the keyframe before the second (a long segment is not decoded whole).
                try:
                    container.seek(int(offset_s / stream.time_base), stream=stream)
                except av.error.FFmpegError:
                    container.seek(0, stream=stream)
            found = None
            for frame in container.decode(stream):
                found = frame
                if frame.time is not None and frame.time >= offset_s:
                    break
            if found is None:
                return None
            height = max(2, round(found.height * width / found.width / 2) * 2)
            image = found.reformat(width=width, height=height, format="yuvj420p")
            encoder = av.CodecContext.create("mjpeg", "w")
            encoder.width, encoder.height = width, height
            encoder.pix_fmt = "yuvj420p"
            encoder.time_base = stream.time_base or av.time_base  # type: ignore[assignment]
            packets = [*encoder.encode(image), *encoder.encode(None)]
            return b"".join(bytes(p) for p in packets) or None
    except (av.error.FFmpegError, OSError):
        return None
