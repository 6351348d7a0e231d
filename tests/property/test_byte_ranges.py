"""The player's range requests (ui/web/ranges.py, RFC 9110 §14.1.2): a span within the media
that is the bytes a browser expects for `bytes=a-b`, `bytes=a-` and `bytes=-n`."""

from __future__ import annotations

from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.media.memory import MemoryMedia
from ui.web.ranges import MAX_CHUNK, byte_range, ranged_media


@given(st.integers(1, 5000), st.integers(0, 6000), st.integers(0, 6000))
def test_a_first_last_range_is_the_inclusive_span_cut_at_the_end(
    size: int, first: int, last: int
) -> None:
    data = bytes(range(256)) * 20
    header = f"bytes={first}-{last}"
    if first >= size or last < first:
        with pytest.raises(ValueError):
            byte_range(header, size)
        return
    start, stop = byte_range(header, size) or (0, 0)
    assert data[:size][start:stop] == data[:size][first : last + 1]


@given(st.integers(1, 5000), st.integers(1, 6000))
def test_a_suffix_range_is_the_last_bytes_and_an_open_range_runs_to_the_end(
    size: int, n: int
) -> None:
    assert byte_range(f"bytes=-{n}", size) == (max(0, size - n), size)
    if n < size:
        assert byte_range(f"bytes={n}-", size) == (n, size)


def test_no_header_or_one_we_do_not_serve_means_the_whole_media() -> None:
    assert byte_range(None, 10) is None
    assert byte_range("bytes=0-1,4-5", 10) is None  # several ranges: the whole media
    assert byte_range("items=0-1", 10) is None


def test_an_answer_is_206_with_its_content_range_and_416_past_the_end() -> None:
    media = MemoryMedia()
    data = bytes(range(256)) * (MAX_CHUNK // 256 + 2)
    stored = media.store(uuid4(), "environment", data)
    whole = ranged_media(None, media, stored.media_id, "video/webm", {})
    assert whole.status_code == 200 and whole.content == data
    part = ranged_media("bytes=10-19", media, stored.media_id, "video/webm", {})
    assert part.status_code == 206 and part.content == data[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    capped = ranged_media("bytes=0-", media, stored.media_id, "video/webm", {})
    assert capped.content == data[:MAX_CHUNK]  # the player asks on from there
    past = ranged_media(f"bytes={len(data)}-", media, stored.media_id, "video/webm", {})
    assert past.status_code == 416 and past.headers["Content-Range"] == f"bytes */{len(data)}"
