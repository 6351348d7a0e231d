"""A request body read no further than a limit, whatever its headers say (issue 14: the
built-in workspace's 64 KiB limit was bypassed with `Content-Length: -1`, which made
`rfile.read(-1)` read to the end of the connection).

`http.server` leaves the body to the handler: this reads it from `Content-Length` when that is
a plain decimal number within the limit, or from `Transfer-Encoding: chunked` chunk by chunk,
stopping as soon as the total would pass the limit. A negative, signed, non-numeric or repeated
length is a 400; a length beyond the limit is a 413 before anything is read; a body shorter
than it said (the client stopped, or the socket's timeout struck) is a 400."""

from __future__ import annotations

from email.message import Message
from http import HTTPStatus
from typing import Protocol

# A chunk-size line ("1a2b;ext=…\r\n") longer than this is no chunk size.
_CHUNK_LINE = 1024


class Stream(Protocol):
    """What the body is read from (a request handler's `rfile`)."""

    def read(self, size: int, /) -> bytes: ...

    def readline(self, size: int, /) -> bytes: ...


class BodyRefused(Exception):
    """The body cannot be read within the rules: answer with `status`, then close."""

    def __init__(self, status: HTTPStatus, why: str) -> None:
        super().__init__(why)
        self.status = status


def read_body(headers: Message, stream: Stream, limit: int) -> bytes:
    """The body: at most `limit` bytes, or BodyRefused (400 or 413)."""
    encodings = headers.get_all("Transfer-Encoding") or []
    if any("chunked" in e.lower() for e in encodings):
        return _chunked(stream, limit)
    lengths = headers.get_all("Content-Length") or []
    if not lengths:
        return b""  # no length and not chunked: no body (HTTP/1.1, RFC 9112 § 6.3)
    if len(set(lengths)) > 1:
        raise BodyRefused(HTTPStatus.BAD_REQUEST, "several Content-Length values")
    declared = lengths[0].strip()
    if not (declared.isascii() and declared.isdigit()):
        raise BodyRefused(HTTPStatus.BAD_REQUEST, f"Content-Length {declared[:20]!r}")
    length = int(declared)
    if length > limit:
        raise BodyRefused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"{length} bytes announced")
    return _exactly(stream, length)


def _exactly(stream: Stream, length: int) -> bytes:
    try:
        data = stream.read(length)
    except TimeoutError:  # the client announced more than it sends
        raise BodyRefused(HTTPStatus.BAD_REQUEST, "the body stopped short") from None
    if len(data) != length:
        raise BodyRefused(HTTPStatus.BAD_REQUEST, "the body stopped short")
    return data


def _chunked(stream: Stream, limit: int) -> bytes:
    body = bytearray()
    while True:
        try:
            line = stream.readline(_CHUNK_LINE + 1)
        except TimeoutError:
            raise BodyRefused(HTTPStatus.BAD_REQUEST, "the body stopped short") from None
        size_text = line.split(b";", 1)[0].strip()
        if len(line) > _CHUNK_LINE or not size_text or size_text.strip(b"0123456789abcdefABCDEF"):
            raise BodyRefused(HTTPStatus.BAD_REQUEST, "malformed chunk size")
        size = int(size_text, 16)
        if size == 0:
            _trailers(stream)
            return bytes(body)
        if len(body) + size > limit:
            raise BodyRefused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "chunks beyond the limit")
        body += _exactly(stream, size)
        if _exactly(stream, 2) != b"\r\n":
            raise BodyRefused(HTTPStatus.BAD_REQUEST, "a chunk without its line end")


def _trailers(stream: Stream) -> None:
    """Skip trailer lines up to the blank line that ends the body (a few at most)."""
    for _ in range(32):
        line = stream.readline(_CHUNK_LINE + 1)
        if line in (b"\r\n", b"\n", b""):
            return
    raise BodyRefused(HTTPStatus.BAD_REQUEST, "too many trailer lines")
