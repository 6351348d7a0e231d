"""The MediaCapture contract: bytes come back as stored, with their sha256, whole or by range;
every store gives a reference of its own, which the log records and by which erasure deletes;
a session's media are listed by the store itself; deletion is final; a write the store cannot
make is MediaNotKept.

The `adapter` is an empty media store, or a `Harness` that also gives a store whose writes
fail (a full disk, an object store that refuses), sharing nothing with the first.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ports.media_capture import MediaCapture, MediaNotKept, MediaUnavailable

__all__ = [
    "Harness",
    "harness",
    "media",
    "test_a_candidates_media_erased_leave_nothing_listed_for_their_sessions",
    "test_a_live_segment_has_a_reference_that_deleting_answers_for",
    "test_a_write_the_store_cannot_make_is_media_not_kept_and_leaves_nothing",
    "test_deleted_media_are_gone_and_deleting_twice_says_so",
    "test_each_store_gives_its_own_reference_and_deleting_one_keeps_the_other",
    "test_ranges_of_a_media_are_its_bytes_in_that_span",
    "test_stored_media_come_back_byte_for_byte_with_their_sha256",
]


@dataclass(frozen=True)
class Harness:
    """One media store, and how to make a store whose writes fail (None: not checked)."""

    media: MediaCapture
    failing: Callable[[], MediaCapture] | None = None

    def close(self) -> None:
        close = getattr(self.media, "close", None)
        if callable(close):
            close()


@pytest.fixture
def harness(adapter: MediaCapture | Harness) -> Harness:
    """The adapter as a Harness (a bare store: the failing write is not checked)."""
    return adapter if isinstance(adapter, Harness) else Harness(media=adapter)


@pytest.fixture
def media(harness: Harness) -> MediaCapture:
    """The empty media store under test."""
    return harness.media


def test_stored_media_come_back_byte_for_byte_with_their_sha256(media: MediaCapture) -> None:
    session = uuid4()

    @settings(max_examples=25, deadline=timedelta(seconds=2))
    @given(st.binary(max_size=4096), st.sampled_from(["face-photo", "id-photo", "environment"]))
    def round_trip(data: bytes, kind: str) -> None:
        stored = media.store(session, kind, data)
        assert stored.content_hash == f"sha256:{hashlib.sha256(data).hexdigest()}"
        assert stored.size == len(data)
        assert media.load(stored.media_id) == data

    round_trip()
    with pytest.raises(KeyError):
        media.load(f"{session}/unknown")


def test_deleted_media_are_gone_and_deleting_twice_says_so(media: MediaCapture) -> None:
    session = uuid4()
    kept = media.store(session, "id-photo", b"other person")
    gone = media.store(session, "face-photo", b"camille's face")
    assert media.delete(gone.media_id) is True
    with pytest.raises(KeyError):
        media.load(gone.media_id)
    assert media.delete(gone.media_id) is False
    assert media.load(kept.media_id) == b"other person"


def test_each_store_gives_its_own_reference_and_deleting_one_keeps_the_other(
    media: MediaCapture,
) -> None:
    """Issue 12, item 10: a photo taken twice with the same bytes is two media. Removing the
    one a refused command left behind must never remove the accepted one."""
    session = uuid4()
    accepted = media.store(session, "face-photo", b"same bytes")
    retaken = media.store(session, "face-photo", b"same bytes")
    assert accepted.media_id != retaken.media_id
    assert accepted.content_hash == retaken.content_hash
    assert media.delete(retaken.media_id) is True
    assert media.load(accepted.media_id) == b"same bytes"


def test_a_live_segment_has_a_reference_that_deleting_answers_for(media: MediaCapture) -> None:
    """Issue 12, item 10: erasure asks the store for a segment's reference and deletes by it;
    a segment the store does not hold is simply not there (False), never an error, and the
    reference is the same each time it is asked (the log's deletion facts name it)."""
    segment = f"{uuid4()}/segment-1.mkv"
    reference = media.live_segment(segment)
    assert reference and reference == media.live_segment(segment)
    assert media.delete(reference) is False


def test_ranges_of_a_media_are_its_bytes_in_that_span(media: MediaCapture) -> None:
    """Issue 15: the examiner's player seeks; a range is the bytes of that span, shorter at
    the end, empty past it; the size is the stored size; an unknown media is a KeyError."""
    session = uuid4()

    @settings(max_examples=25, deadline=timedelta(seconds=2))
    @given(st.binary(min_size=1, max_size=2048), st.integers(0, 2100), st.integers(0, 2100))
    def ranges(data: bytes, start: int, length: int) -> None:
        stored = media.store(session, "environment", data)
        assert media.size(stored.media_id) == len(data)
        assert (
            media.load_range(stored.media_id, start, start + length) == data[start : start + length]
        )
        assert media.delete(stored.media_id) is True

    ranges()
    with pytest.raises(KeyError):
        media.size(f"{session}/unknown")
    with pytest.raises(KeyError):
        media.load_range(f"{session}/unknown", 0, 10)


def test_a_candidates_media_erased_leave_nothing_listed_for_their_sessions(
    media: MediaCapture, tmp_path: Path
) -> None:
    """Issue 15: erasure deletes every object of the person's sessions, photos, recordings and
    live segments alike, by the references the store lists; another person's stay."""
    camille, other = uuid4(), uuid4()
    photo = media.store(camille, "face-photo", b"camille's face")
    recording = media.store(camille, "environment", b"the room")
    segment_file = tmp_path / "segment-1.mkv"
    segment_file.write_bytes(b"live segment bytes")
    media.keep_live_segment(f"{camille}/segment-1.mkv", segment_file)
    segment = media.live_segment(f"{camille}/segment-1.mkv")
    kept = media.store(other, "face-photo", b"someone else")
    listed = media.session_media(camille)
    assert listed == sorted([photo.media_id, recording.media_id, segment])
    assert media.load(segment) == b"live segment bytes"
    assert media.session_media(other) == [kept.media_id]
    assert all(media.delete(reference) for reference in listed)
    assert media.session_media(camille) == []
    assert [media.delete(reference) for reference in listed] == [False] * len(listed)
    assert media.load(kept.media_id) == b"someone else"


def test_a_write_the_store_cannot_make_is_media_not_kept_and_leaves_nothing(
    harness: Harness,
) -> None:
    """A full disk or an object store's error on write is MediaNotKept (the edge answers 503
    with a retry): never a bare OSError or a client library's error, never a half media."""
    if harness.failing is None:
        pytest.skip("the adapter gave no failing store (a bare MediaCapture)")
    broken = harness.failing()
    session = uuid4()
    with pytest.raises(MediaNotKept):
        broken.store(session, "face-photo", b"x" * 4096)
    with contextlib.suppress(MediaUnavailable):  # a store that cannot even list kept nothing
        assert broken.session_media(session) == []
