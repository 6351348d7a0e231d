"""The MediaCapture contract: bytes come back as stored, with their sha256; every store gives a
reference of its own, which the log records and by which erasure deletes; deletion is final.

The `adapter` is an empty media store.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ports.media_capture import MediaCapture

__all__ = [
    "test_a_live_segment_has_a_reference_that_deleting_answers_for",
    "test_deleted_media_are_gone_and_deleting_twice_says_so",
    "test_each_store_gives_its_own_reference_and_deleting_one_keeps_the_other",
    "test_stored_media_come_back_byte_for_byte_with_their_sha256",
]


def test_stored_media_come_back_byte_for_byte_with_their_sha256(adapter: MediaCapture) -> None:
    media = adapter
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


def test_deleted_media_are_gone_and_deleting_twice_says_so(adapter: MediaCapture) -> None:
    media = adapter
    session = uuid4()
    kept = media.store(session, "id-photo", b"other person")
    gone = media.store(session, "face-photo", b"camille's face")
    assert media.delete(gone.media_id) is True
    with pytest.raises(KeyError):
        media.load(gone.media_id)
    assert media.delete(gone.media_id) is False
    assert media.load(kept.media_id) == b"other person"


def test_each_store_gives_its_own_reference_and_deleting_one_keeps_the_other(
    adapter: MediaCapture,
) -> None:
    """Issue 12, item 10: a photo taken twice with the same bytes is two media. Removing the
    one a refused command left behind must never remove the accepted one."""
    media = adapter
    session = uuid4()
    accepted = media.store(session, "face-photo", b"same bytes")
    retaken = media.store(session, "face-photo", b"same bytes")
    assert accepted.media_id != retaken.media_id
    assert accepted.content_hash == retaken.content_hash
    assert media.delete(retaken.media_id) is True
    assert media.load(accepted.media_id) == b"same bytes"


def test_a_live_segment_has_a_reference_that_deleting_answers_for(adapter: MediaCapture) -> None:
    """Issue 12, item 10: erasure asks the store for a segment's reference and deletes by it;
    a segment the store does not hold is simply not there (False), never an error, and the
    reference is the same each time it is asked (the log's deletion facts name it)."""
    media = adapter
    segment = f"{uuid4()}/segment-1.mkv"
    reference = media.live_segment(segment)
    assert reference and reference == media.live_segment(segment)
    assert media.delete(reference) is False
