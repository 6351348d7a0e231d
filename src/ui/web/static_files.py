"""The platform's own files (styles, scripts, fonts, icons) served from memory with an ETag
(issue 15).

They are a few hundred kilobytes, shipped with the package and never changed while a
process runs, so they are read once at start. A browser revalidating its copy
(`If-None-Match`) gets a 304 and no body; Litestar's static files answered every request
with the whole file, and asked a thread three times to do it (stat, open, read): at a
thousand candidates loading their portal, a few per cent of a web process's time.
`Cache-Control: no-cache` keeps browsers asking (a new version of Vigie is seen at once)."""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Request, Response, route
from litestar.enums import HttpMethod
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    etag: str  # a strong validator: the content's hash, quoted
    media_type: str


def load(directories: Sequence[Path]) -> dict[str, StaticFile]:
    """Every file under the folders by its path relative to its folder (the first folder
    that has a name wins, as Litestar's router searched them)."""
    files: dict[str, StaticFile] = {}
    for directory in directories:
        for path in sorted(directory.rglob("*")):
            name = path.relative_to(directory).as_posix()
            if not path.is_file() or name in files:
                continue
            body = path.read_bytes()
            media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            if media_type.startswith(TEXT_TYPES):
                media_type += "; charset=utf-8"
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            files[name] = StaticFile(body, etag, media_type)
    return files


def _matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110's weak comparison: any listed tag (W/ or not) equal to ours, or `*`."""
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return any(tag == "*" or tag.removeprefix("W/") == etag for tag in tags)


def static_files(path: str, directories: Sequence[Path]) -> HTTPRouteHandler:
    """The route handler for `path`/{file_path} (GET and HEAD). A name is only ever looked
    up among the files read at start: no request reaches the file system, so a NUL byte, a
    `..` or an over-long segment is simply not found (404)."""
    files = load(directories)

    @route(
        f"{path}/{{file_path:path}}",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        include_in_schema=False,
    )
    async def static_file(
        request: Request[Any, Any, Any], file_path: FromPath[str]
    ) -> Response[bytes]:
        found = files.get(file_path.lstrip("/"))
        if found is None:
            raise NotFoundException()
        headers = {"ETag": found.etag, "Cache-Control": "no-cache"}
        if _matches(request.headers.get("if-none-match", ""), found.etag):
            return Response(b"", status_code=304, headers=headers)
        body = b"" if request.method == HttpMethod.HEAD else found.body
        headers["Content-Length"] = str(len(found.body))
        return Response(body, media_type=found.media_type, headers=headers)

    return static_file
