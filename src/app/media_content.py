"""What an uploaded photo or recording really is, read from its bytes, and how large each kind
may be (issue 12, item 9; issue 14, point 5).

The declared content type is the browser's word and proves nothing: a photo is kept only when
its bytes parse as a JPEG, PNG or WebP image header (signature, then the frame header that
gives its size: a JPEG's SOF, a PNG's IHDR with its checksum, a WebP's VP8/VP8L/VP8X chunk), a
recording only when they open as a container a browser's MediaRecorder writes (WebM or
Matroska: an EBML header whose DocType says so; MP4: an `ftyp` box of a video brand). SVG,
HTML and anything else are refused, so nothing a browser would run is ever served back to an
examiner from the media store. The parsing is pure (bytes in, a format out): no I/O, no codec.

`UPLOADS` is the one table of what each kind of upload accepts (formats, largest size); the
web edge reads it to bound what it reads, the use cases to refuse before anything is stored.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import InvalidArgument
from domain.proctored_session import EnvironmentPart


class MediaFormat(StrEnum):
    """The formats the media store keeps."""

    JPEG = "image/jpeg"
    PNG = "image/png"
    WEBP = "image/webp"
    WEBM = "video/webm"
    MATROSKA = "video/x-matroska"
    MP4 = "video/mp4"


PHOTO_FORMATS = frozenset({MediaFormat.JPEG, MediaFormat.PNG, MediaFormat.WEBP})
# What Chromium and Firefox (WebM), Safari (MP4) and the live recorder (Matroska) write. Ogg
# is what Firefox writes for sound alone: an environment recording must be filmed.
RECORDING_FORMATS = frozenset({MediaFormat.WEBM, MediaFormat.MATROSKA, MediaFormat.MP4})

MIB = 1024 * 1024
# A photo from a 4K camera as a JPEG is 2–5 MiB; a canvas at 320×240 a few KiB.
PHOTO_MAX_BYTES = 8 * MIB
# A side larger than this is no webcam picture: refused before anyone decodes it (a PNG of a
# few KiB can claim 60,000 × 60,000 pixels and take gigabytes once decoded).
PHOTO_MAX_SIDE = 10_000
# A browser's MediaRecorder writes about 2.5 Mbit/s by default; 4 Mbit/s leaves room.
RECORDING_BYTES_PER_SECOND = 512 * 1024
# How long a candidate may film each part, at most (R10 sets the least: 5, 10, 5 s).
MAX_RECORDING_S: dict[EnvironmentPart, int] = {
    EnvironmentPart.EARS: 60,
    EnvironmentPart.ROOM: 120,
    EnvironmentPart.DESK: 60,
}


@dataclass(frozen=True)
class Acceptable:
    """What one kind of upload accepts: its form field, its formats, its largest size."""

    field: str
    formats: frozenset[MediaFormat]
    max_bytes: int


def recording_kind(part: EnvironmentPart) -> str:
    """The upload kind (and media store kind) of an environment recording."""
    return f"environment-{part.value}"


UPLOADS: dict[str, Acceptable] = {
    "face-photo": Acceptable("photo", PHOTO_FORMATS, PHOTO_MAX_BYTES),
    "id-photo": Acceptable("photo", PHOTO_FORMATS, PHOTO_MAX_BYTES),
    **{
        recording_kind(part): Acceptable(
            "recording", RECORDING_FORMATS, seconds * RECORDING_BYTES_PER_SECOND
        )
        for part, seconds in MAX_RECORDING_S.items()
    },
}
# The largest upload of all: the web edge's limit on a body that carries one.
LARGEST_UPLOAD = max(rule.max_bytes for rule in UPLOADS.values())


class UnacceptedMedia(InvalidArgument):
    """The bytes are not a format this field takes; says so in French and English."""

    def __init__(self, field: str, french: str, english: str) -> None:
        super().__init__(field, english)
        self.messages = {"fr": french, "en": english}

    def in_language(self, language: str) -> str:
        """The message in the reader's language (French by default)."""
        return self.messages.get(language, self.messages["fr"])


class MediaTooLarge(InvalidArgument):
    """The upload is larger than its kind allows (issue 14: a 50 MiB "photo")."""

    def __init__(self, field: str, limit: int, given: int) -> None:
        super().__init__(field, f"at most {limit:,} bytes ({given:,} given)")
        self.limit = limit
        self.given = given


_REFUSED_WORDS = {
    "photo": (
        "la photo doit être une image JPEG, PNG ou WebP",
        "the photo must be a JPEG, PNG or WebP image",
    ),
    "recording": (
        "l'enregistrement doit être une vidéo WebM, Matroska ou MP4",
        "the recording must be a WebM, Matroska or MP4 video",
    ),
}


def accept_upload(kind: str, data: bytes) -> MediaFormat:
    """The upload's format if its kind takes it: MediaTooLarge or UnacceptedMedia (naming
    the field) otherwise, before anything is stored."""
    rule = UPLOADS[kind]
    if len(data) > rule.max_bytes:
        raise MediaTooLarge(rule.field, rule.max_bytes, len(data))
    found = media_format(data)
    if found not in rule.formats:
        french, english = _REFUSED_WORDS[rule.field]
        raise UnacceptedMedia(rule.field, french, english)
    assert found is not None
    return found


def require_photo(field: str, data: bytes) -> MediaFormat:
    """R9: a photo is a JPEG, PNG or WebP image, whatever the upload claimed."""
    found = media_format(data)
    if found not in PHOTO_FORMATS:
        raise UnacceptedMedia(field, *_REFUSED_WORDS["photo"])
    assert found is not None
    return found


def require_recording(field: str, data: bytes) -> MediaFormat:
    """R10: a recording is a WebM, Matroska or MP4 video, whatever the upload claimed."""
    found = media_format(data)
    if found not in RECORDING_FORMATS:
        raise UnacceptedMedia(field, *_REFUSED_WORDS["recording"])
    assert found is not None
    return found


# --- reading the bytes -----------------------------------------------------------------------

_JPEG = b"\xff\xd8\xff"
_PNG = b"\x89PNG\r\n\x1a\n"
_EBML = b"\x1a\x45\xdf\xa3"
_DOC_TYPE = b"\x42\x82"
_DOC_TYPES = {b"webm": MediaFormat.WEBM, b"matroska": MediaFormat.MATROSKA}
# MP4 brands of a video file (HEIF and AVIF pictures are `ftyp` boxes too: never these).
_MP4_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash", b"M4V "}
)


def media_format(data: bytes) -> MediaFormat | None:
    """The format the bytes open as, or None."""
    if data.startswith(_JPEG):
        return MediaFormat.JPEG if _fits(_jpeg_size(data)) else None
    if data.startswith(_PNG):
        return MediaFormat.PNG if _fits(_png_size(data)) else None
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return MediaFormat.WEBP if _fits(_webp_size(data)) else None
    if data.startswith(_EBML):
        return _ebml_doc_type(data)
    if data[4:8] == b"ftyp" and data[8:12] in _MP4_BRANDS:
        return MediaFormat.MP4 if struct.unpack(">I", data[:4])[0] >= 16 else None
    return None


Size = tuple[int, int] | None


def _fits(size: Size) -> bool:
    """A picture whose header gives a size a camera could take."""
    return size is not None and all(0 < side <= PHOTO_MAX_SIDE for side in size)


# JPEG frame headers (SOF0–SOF15 less DHT, JPG and DAC): the one that gives the size.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


def _jpeg_size(data: bytes) -> Size:
    """Width and height from the first frame header, walking the segments after SOI."""
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in _STANDALONE:
            at += 2
            continue
        if marker in (0xD8, 0xD9, 0xDA):  # a second SOI, the end, the scan: no frame header
            return None
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        if length < 2:
            return None
        if marker in _SOF:
            if length < 8 or at + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        at += 2 + length
    return None


def _png_size(data: bytes) -> Size:
    """Width and height from the IHDR chunk, the first one, whose checksum must hold."""
    chunk = data[8:33]
    if len(chunk) < 25 or chunk[:8] != b"\x00\x00\x00\x0dIHDR":
        return None
    (crc,) = struct.unpack(">I", chunk[21:25])
    if zlib.crc32(chunk[4:21]) != crc:
        return None
    width, height = struct.unpack(">II", chunk[8:16])
    return width, height


def _webp_size(data: bytes) -> Size:
    """Width and height from the first chunk: lossy (VP8), lossless (VP8L) or extended."""
    kind, body = data[12:16], data[20:30]
    if len(body) < 10:
        return None
    if kind == b"VP8 " and body[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", body[6:10])
        return width & 0x3FFF, height & 0x3FFF
    if kind == b"VP8L" and body[0] == 0x2F:
        (bits,) = struct.unpack("<I", body[1:5])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8X":
        width = int.from_bytes(body[4:7], "little") + 1
        height = int.from_bytes(body[7:10], "little") + 1
        return width, height
    return None


def _ebml_doc_type(data: bytes) -> MediaFormat | None:
    """The DocType inside the EBML header (the header's first element of interest)."""
    size, at = _vint(data, len(_EBML))
    if size is None:
        return None
    end = min(at + size, len(data))
    while at < end:
        element, at = data[at : at + 2], at + 2
        length, at = _vint(data, at)
        if length is None:
            return None
        if element == _DOC_TYPE:
            return _DOC_TYPES.get(data[at : at + length].rstrip(b"\0"))
        at += length
    return None


def _vint(data: bytes, at: int) -> tuple[int | None, int]:
    """An EBML variable-length size at `at`: (value, position after it); None if malformed."""
    if at >= len(data) or data[at] == 0:
        return None, at
    first = data[at]
    width = 8 - first.bit_length() + 1
    if at + width > len(data):
        return None, at
    value = first & (0xFF >> width)
    for byte in data[at + 1 : at + width]:
        value = (value << 8) | byte
    return value, at + width
