"""What an uploaded photo or recording really is, read from its first bytes (issue 12, item 9).

The declared content type is the browser's word and proves nothing: a photo is kept only when
its bytes open as JPEG or PNG, a recording only as WebM or Matroska (an EBML header whose
DocType says so). SVG, HTML and anything else are refused, so nothing a browser would run is
ever served back to an examiner from the media store.
"""

from __future__ import annotations

from enum import StrEnum

from domain.errors import InvalidArgument


class MediaFormat(StrEnum):
    """The formats the media store keeps."""

    JPEG = "image/jpeg"
    PNG = "image/png"
    WEBM = "video/webm"
    MATROSKA = "video/x-matroska"


PHOTO_FORMATS = frozenset({MediaFormat.JPEG, MediaFormat.PNG})
RECORDING_FORMATS = frozenset({MediaFormat.WEBM, MediaFormat.MATROSKA})

_JPEG = b"\xff\xd8\xff"
_PNG = b"\x89PNG\r\n\x1a\n"
_EBML = b"\x1a\x45\xdf\xa3"
_DOC_TYPE = b"\x42\x82"
_DOC_TYPES = {b"webm": MediaFormat.WEBM, b"matroska": MediaFormat.MATROSKA}


class UnacceptedMedia(InvalidArgument):
    """The bytes are not a format this field takes; says so in French and English."""

    def __init__(self, field: str, french: str, english: str) -> None:
        super().__init__(field, english)
        self.messages = {"fr": french, "en": english}

    def in_language(self, language: str) -> str:
        """The message in the reader's language (French by default)."""
        return self.messages.get(language, self.messages["fr"])


def media_format(data: bytes) -> MediaFormat | None:
    """The format the bytes open as, or None."""
    if data.startswith(_JPEG):
        return MediaFormat.JPEG
    if data.startswith(_PNG):
        return MediaFormat.PNG
    if data.startswith(_EBML):
        return _ebml_doc_type(data)
    return None


def require_photo(field: str, data: bytes) -> MediaFormat:
    """R9: a photo is a JPEG or PNG image, whatever the upload claimed."""
    found = media_format(data)
    if found not in PHOTO_FORMATS:
        raise UnacceptedMedia(
            field,
            "la photo doit être une image JPEG ou PNG",
            "the photo must be a JPEG or PNG image",
        )
    assert found is not None
    return found


def require_recording(field: str, data: bytes) -> MediaFormat:
    """R10: a recording is a WebM or Matroska video, whatever the upload claimed."""
    found = media_format(data)
    if found not in RECORDING_FORMATS:
        raise UnacceptedMedia(
            field,
            "l'enregistrement doit être une vidéo WebM ou Matroska",
            "the recording must be a WebM or Matroska video",
        )
    assert found is not None
    return found


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
