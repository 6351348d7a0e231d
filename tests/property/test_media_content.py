"""Issue 12, item 9: what a photo or a recording is, read from its bytes (app/media_content.py).
Real encoders' output is accepted; SVG, HTML and anything else are refused, whatever declared."""

from __future__ import annotations

import io
import struct
import zlib

import av
import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.media_content import (
    MediaFormat,
    UnacceptedMedia,
    media_format,
    require_photo,
    require_recording,
)
from vigie_contracts.samples import ebml_sample, png_sample

MAGICS = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"\x1a\x45\xdf\xa3")


def encoded_image(extension: str) -> bytes:
    picture = np.zeros((24, 32, 3), dtype=np.uint8)
    ok, data = cv2.imencode(extension, picture)
    assert ok
    return bytes(data.tobytes())


def encoded_video(container: str, codec: str) -> bytes:
    sink = io.BytesIO()
    with av.open(sink, mode="w", format=container) as output:
        stream = output.add_stream(codec, rate=5)
        stream.width, stream.height, stream.pix_fmt = 32, 24, "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((24, 32, 3), dtype=np.uint8), format="rgb24")
        output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return sink.getvalue()


def test_photos_from_a_real_encoder_open_as_jpeg_and_png() -> None:
    """R9: what a canvas or a camera gives is kept."""
    assert require_photo("photo", encoded_image(".jpg")) is MediaFormat.JPEG
    assert require_photo("photo", encoded_image(".png")) is MediaFormat.PNG


def test_recordings_from_a_real_muxer_open_as_webm_and_matroska() -> None:
    """R10: a browser's MediaRecorder writes WebM; the live recorder writes Matroska."""
    assert require_recording("recording", encoded_video("webm", "libvpx")) is MediaFormat.WEBM
    assert (
        require_recording("recording", encoded_video("matroska", "libx264")) is MediaFormat.MATROSKA
    )


def test_a_photo_is_not_a_recording_nor_the_other_way_round() -> None:
    """R9, R10: each field takes only its own formats."""
    with pytest.raises(UnacceptedMedia) as photo:
        require_recording("recording", encoded_image(".jpg"))
    assert photo.value.field == "recording"
    assert "WebM" in photo.value.in_language("fr")
    with pytest.raises(UnacceptedMedia):
        require_photo("photo", ebml_sample(b"webm"))


@given(st.binary(max_size=256).filter(lambda data: not data.startswith(MAGICS)))
def test_bytes_without_a_known_signature_are_never_a_photo_or_a_recording(data: bytes) -> None:
    """Item 9: SVG, HTML, GIF, text, nothing at all: no format, whatever the upload claimed."""
    assert media_format(data) is None


@given(st.binary(max_size=64), st.binary(min_size=1, max_size=12))
def test_an_ebml_file_of_another_doc_type_is_refused(tag: bytes, doc_type: bytes) -> None:
    """Only WebM and Matroska of the EBML family; a truncated header is no recording either."""
    sample = ebml_sample(doc_type, tag)
    expected = {b"webm": MediaFormat.WEBM, b"matroska": MediaFormat.MATROSKA}.get(
        doc_type.rstrip(b"\0")  # EBML strings may be padded with zeros
    )
    assert media_format(sample) is expected
    doc_type_ends = 16 + len(doc_type)  # magic, size, two versions, DocType id and size
    for cut in range(doc_type_ends):
        assert media_format(sample[:cut]) is None


def test_webp_photos_and_mp4_recordings_are_taken_too() -> None:
    """Issue 14: a canvas may give WebP (lossy or lossless); Safari records MP4."""
    assert require_photo("photo", encoded_image(".webp")) is MediaFormat.WEBP
    lossless = cv2.imencode(
        ".webp", np.zeros((24, 32, 3), np.uint8), [cv2.IMWRITE_WEBP_QUALITY, 101]
    )
    assert media_format(bytes(lossless[1].tobytes())) is MediaFormat.WEBP
    assert require_recording("recording", encoded_video("mp4", "libx264")) is MediaFormat.MP4


@pytest.mark.parametrize("extension", [".jpg", ".png", ".webp"])
def test_a_photo_cut_before_its_size_is_no_photo(extension: str) -> None:
    """The header that gives the picture's size must be whole: a signature alone (or a
    signature then HTML) is not a photo."""
    data = encoded_image(extension)
    for cut in range(0, 30):
        assert media_format(data[:cut]) is None, cut


@given(st.integers(min_value=16, max_value=28), st.integers(min_value=1, max_value=255))
def test_a_png_whose_header_was_altered_is_refused_by_its_checksum(at: int, flip: int) -> None:
    data = bytearray(encoded_image(".png"))
    data[at] ^= flip
    assert media_format(bytes(data)) is None


def test_a_picture_larger_than_a_camera_takes_is_refused_before_anyone_decodes_it() -> None:
    """A PNG header claiming 60,000 × 60,000 pixels: a few bytes, gigabytes once decoded."""
    header = b"IHDR" + struct.pack(">IIBBBBB", 60_000, 60_000, 8, 2, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0d" + header + struct.pack(">I", zlib.crc32(header))
    assert media_format(bomb) is None
    assert media_format(png_sample()) is MediaFormat.PNG
