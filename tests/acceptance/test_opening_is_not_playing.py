"""Issue 14, a reviewer's finding: the auditor read « Eve — l'enregistrement de l'examen (lu) »
for an examiner who had only opened the review page. Its players asked for the recording by
themselves (`preload="metadata"`), and that request is what records a playing. The page now
asks for no recording before play: opening it records only what it shows (the photos and
the stills), and a real playback (the player's GET with a Range from byte 0) is still read
as played. Environment recordings say their length from the log, not from their file."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app.live_recording import record_live_event
from app.mail_rendering import SupportContact
from app.ports.live_media import Segment, SegmentId
from app.use_cases import accounts, reviewing
from domain.evidence import Verdict
from domain.staff import Role
from tests.acceptance.web import log_in
from ui.journey import Journey, make_platform
from ui.web.app import create_app
from vigie_contracts.samples import ebml_sample

PASSWORD = "ouvrir-pas-lire-1"
PLAYED = "l'enregistrement de l'examen (lu)"
ENVIRONMENT = "un enregistrement de l'environnement"


class MediaAsked(HTMLParser):
    """The media requests a browser makes for a page by itself, before anyone presses play:
    every image (lazy ones too, as if scrolled to), every poster, and the file of each
    video or audio whose `preload` is not "none" (a missing one lets the browser load)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[str] = []
        self.media: list[str] = []
        self.players: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {k: v or "" for k, v in attrs}
        if tag == "img" and named.get("src"):
            self.images.append(named["src"])
        if tag in ("video", "audio"):
            if named.get("poster"):
                self.images.append(named["poster"])
            if named.get("src"):
                self.players.append(named["src"])
                if named.get("preload", "auto") != "none":
                    self.media.append(named["src"])

    @classmethod
    def of(cls, page: str) -> MediaAsked:
        asked = cls()
        asked.feed(page)
        return asked


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = make_platform()
    yield platform
    platform.close()


def recorded_and_decided(platform: Platform, tmp_path: Path) -> tuple[UUID, UUID]:
    """A session recorded live (one segment), sent and validated by Eve: (review, Eve)."""
    eve = accounts.register_staff(
        platform.ctx, email="eve@example.org", name="Eve", role=Role.EXAMINER, password=PASSWORD
    )
    accounts.register_staff(
        platform.ctx, email="ada@example.org", name="Ada", role=Role.AUDITOR, password=PASSWORD
    )
    journey = Journey(platform, email="lea@example.org")
    journey.in_exam()
    session = journey.session_id
    assert session is not None
    file = tmp_path / "segment-1.mkv"
    file.write_bytes(ebml_sample(b"matroska", b"a minute"))
    platform.ctx.media.keep_live_segment(f"{session}/segment-1.mkv", file)
    started = platform.ctx.now()
    journey.clock.advance(seconds=60)
    segment = Segment(
        SegmentId("segment-1"),
        session,
        started,
        platform.ctx.now(),
        f"{session}/segment-1.mkv",
        16,
        "sha256:" + "0" * 64,
    )
    assert record_live_event(platform.ctx, segment)
    journey.answer_and_send()
    assert journey.review_id is not None
    reviewing.assign_examiner(platform.ctx, journey.review_id, eve)
    journey.decided(eve, Verdict.VALIDATED)
    return journey.review_id, eve


def auditor_reads(app: Any, review_id: UUID) -> str:
    with TestClient(app) as auditor:
        log_in(auditor, "/staff/login", "ada@example.org", PASSWORD)
        page = auditor.get(f"/auditor/reviews/{review_id}")
        assert page.status_code == 200
        return page.text


def test_opening_the_review_page_is_not_playing_its_recording_and_pressing_play_is(
    platform: Platform, tmp_path: Path
) -> None:
    review_id, _ = recorded_and_decided(platform, tmp_path)
    app = create_app(platform, secret=b"o" * 32, support=SupportContact())
    with TestClient(app) as eve:
        log_in(eve, "/staff/login", "eve@example.org", PASSWORD)
        page = eve.get(f"/examiner/reviews/{review_id}")
        assert page.status_code == 200
        asked = MediaAsked.of(page.text)
        # The page has its players (the recording, three environment recordings) …
        assert len(asked.players) == 4, asked.players
        # … and a browser asks, by itself, for what it shows: no recording before play.
        assert asked.media == []
        for url in asked.images:
            assert eve.get(url).status_code == 200, url
        for url in asked.media:
            assert eve.get(url, headers={"Range": "bytes=0-"}).status_code in (200, 206), url
        # The environment recordings' lengths are said without their files: from the log.
        assert page.text.count("Durée : 30 s") == 3
        opened = auditor_reads(app, review_id)
        assert "Qui a regardé les images du candidat" in opened
        assert "une photo" in opened  # the photos the page shows are seen
        assert PLAYED not in opened and ENVIRONMENT not in opened
        # Eve presses play: her player asks for the recording from its first byte.
        [recording] = [u for u in asked.players if u.startswith("/media/sessions/")]
        played = eve.get(recording, headers={"Range": "bytes=0-"})
        assert played.status_code == 206
    after = auditor_reads(app, review_id)
    assert after.count(PLAYED) == 1 and "Eve (examinateur)" in after
