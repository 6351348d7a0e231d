"""Media played from the media store with HTTP range requests (RFC 9110 §14): the examiner's
player seeks in a recording, and only the bytes asked for are read from the store (a file or
an S3 object alike).

Ranges through the app rather than signed URLs to the object store: the store need not be
reachable from examiners' browsers (it stays on the private network), the pages' CSP stays
'self', and every access is checked and recorded by the app (issue 14), range by range.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from litestar import Response

from app.ports.media_capture import MediaCapture

# One range only: what a video element asks for (`bytes=0-`, `bytes=1000-`, `bytes=-500`).
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
# At most this much in one answer: a player asking `bytes=0-` of a long segment gets the
# first part and asks on (a 206 may be shorter than the range asked).
MAX_CHUNK = 4 * 1024 * 1024
HEAD_BYTES = 64 * 1024  # where a media's format is read (media_content.media_format)


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The span `[start, stop)` a Range header asks for within `size` bytes; None for no
    header, or one we do not serve (several ranges, another unit): the whole media then.
    ValueError when it is unsatisfiable (416)."""
    if not header:
        return None
    found = _RANGE.fullmatch(header.strip())
    if found is None:
        return None
    first, last = found.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        start, stop = max(0, size - int(last)), size
    else:
        start = int(first)
        stop = min(size, int(last) + 1) if last else size
    if start >= size or stop <= start:
        raise ValueError(f"bytes {start}- of {size}")
    return start, stop


def ranged_media(
    range_header: str | None,
    media: MediaCapture,
    reference: str,
    media_type: str | Callable[[bytes], str],
    headers: dict[str, str],
) -> Response[bytes]:
    """The media, whole (200) or the range asked (206), or 416; KeyError if the store has no
    such media. A `media_type` callable reads the type from the first bytes."""
    size = media.size(reference)
    try:
        span = byte_range(range_header, size)
    except ValueError:
        return Response(
            b"", status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"}
        )
    headers = {**headers, "Accept-Ranges": "bytes"}
    start, stop = (0, size) if span is None else span
    stop = stop if span is None else min(stop, start + MAX_CHUNK)
    content = media.load(reference) if span is None else media.load_range(reference, start, stop)
    if callable(media_type):
        # From the media's head, whatever the range (a header a few kB in: EXIF, EBML).
        whole_head = start == 0 and len(content) >= min(size, HEAD_BYTES)
        head = content[:HEAD_BYTES] if whole_head else media.load_range(reference, 0, HEAD_BYTES)
        kind = media_type(head)
    else:
        kind = media_type
    if span is None:
        return Response(content, status_code=200, media_type=kind, headers=headers)
    headers["Content-Range"] = f"bytes {start}-{start + len(content) - 1}/{size}"
    return Response(content, status_code=206, media_type=kind, headers=headers)
