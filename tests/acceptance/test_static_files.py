"""Issue 15: the platform's files are served from memory with an ETag; a browser that
revalidates its copy gets a 304 without the body; a name that is not a file is a 404."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Settings, bootstrap
from app.mail_rendering import SupportContact
from ui.web.app import create_app

STATIC = Path(__file__).parents[2] / "src" / "ui" / "web" / "static"


@pytest.fixture
def client() -> Iterator[TestClient[Any]]:
    platform = bootstrap(Settings(database_url="memory:", media_root=None, launcher="memory"))
    app = create_app(platform, secret=b"s" * 32, support=SupportContact())
    with TestClient(app) as test_client:
        yield test_client
    platform.close()


def test_a_file_comes_whole_with_its_type_and_etag_then_a_304_when_revalidated(
    client: TestClient[Any],
) -> None:
    first = client.get("/static/vigie.css")
    assert first.status_code == 200
    assert first.content == (STATIC / "vigie.css").read_bytes()
    assert first.headers["content-type"].startswith("text/css")
    assert first.headers["cache-control"] == "no-cache"
    etag = first.headers["etag"]

    again = client.get("/static/vigie.css", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    weak = client.get("/static/vigie.css", headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status_code == 304
    stale = client.get("/static/vigie.css", headers={"If-None-Match": '"an-older-version"'})
    assert stale.status_code == 200 and stale.content == first.content

    head = client.head("/static/vigie.css")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(first.content))


NOT_FILES = [
    "/static/nothing.css",
    "/static/../app.py",
    "/static/%00",
    "/static/vendor",
    "/static/",
]


@pytest.mark.parametrize("path", NOT_FILES)
def test_what_is_not_a_shipped_file_is_a_404(client: TestClient[Any], path: str) -> None:
    assert client.get(path).status_code == 404
