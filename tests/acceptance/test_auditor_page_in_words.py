"""The auditor's page of a decision reads in its reader's language (a reviewer's finding):
« Qui a regardé » named both environment videos alike and cited each media by its id, and a
replay that differs listed its differences in the command line's English on a French page.
Each media viewed is now named by its part and its kind (as the review page names it), and
each difference is a sentence in the page's language, the facts it names in words."""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app.mail_rendering import SupportContact
from app.recording import session_media
from app.use_cases import accounts
from domain.evidence import Verdict
from domain.review import AppealOutcome, Review
from domain.staff import Role
from tests.acceptance.test_audit_cli import OVERTURNED
from tests.acceptance.test_opening_is_not_playing import PASSWORD, recorded_and_decided
from tests.acceptance.web import log_in
from tests.property.test_appeal_replay_properties import appealed_journey, two_examiners
from ui.journey import make_platform
from ui.web.app import create_app

SECRET = b"w" * 32


def visible(page: str) -> str:
    """What a reader sees: tags and their attributes (titles included) removed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def section(page: str, marker: str, end: str) -> str:
    return page.split(marker, 1)[1].split(end, 1)[0]


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = make_platform()
    yield platform
    platform.close()


@pytest.mark.parametrize(
    ("language", "ears", "room", "camera", "environment"),
    [
        (
            "fr",
            "Enregistrement des oreilles",
            "Enregistrement de la pièce",
            "Caméra de surveillance, 1:00 – 2:00 de l'enregistrement",
            "un enregistrement de l'environnement",
        ),
        (
            "en",
            "Recording of the ears",
            "Recording of the room",
            "Proctoring camera, 1:00 – 2:00 into the recording",
            "an environment recording",
        ),
    ],
)
def test_who_viewed_names_each_media_by_its_part_and_kind_never_by_its_id(
    platform: Platform,
    tmp_path: Path,
    language: str,
    ears: str,
    room: str,
    camera: str,
    environment: str,
) -> None:
    review_id, _ = recorded_and_decided(platform, tmp_path)
    session_id = platform.ctx.store.get(review_id, Review).session_id
    refs = {m.label: m.media_id for m in session_media(platform.ctx.store.history(session_id))}
    app = create_app(platform, secret=SECRET, support=SupportContact())
    with TestClient(app) as eve:
        log_in(eve, "/staff/login", "eve@example.org", PASSWORD)
        for part in ("ears", "room"):  # Eve plays two environment recordings …
            played = eve.get(
                f"/examiner/reviews/{review_id}/media/{refs[part]}", headers={"Range": "bytes=0-"}
            )
            assert played.status_code in (200, 206), part
        # … and the exam's recording (its one segment, a minute long).
        segment = eve.get(f"/media/sessions/{session_id}/segment-1.mkv")
        assert segment.status_code in (200, 206)
    with TestClient(app) as ada:
        log_in(ada, "/staff/login", "ada@example.org", PASSWORD)
        if language == "en":
            ada.get("/lang/en")
        page = ada.get(f"/auditor/reviews/{review_id}").text
    rows = [visible(r) for r in section(page, 'id="media-views"', "</table>").split("<tr>")[2:]]
    # Each environment recording by its part, beside its kind: both read alike before.
    assert [r for r in rows if ears in r and environment in r], rows
    assert [r for r in rows if room in r and environment in r], rows
    assert [r for r in rows if camera in r], rows
    # No media by its reference (the session's id, a file's name) in what a reader sees.
    shown = visible(section(page, 'id="media-views"', "</section>"))
    assert str(session_id) not in shown and "segment-1" not in shown
    assert not [ref for ref in refs.values() if ref in shown]


@pytest.fixture
def differing() -> Iterator[tuple[Platform, UUID]]:
    """An invalidation the evidence forces (no ID photo, R9), appealed, whose appeal's
    decision was written as a faulty release could have written it: overturned, yet the
    verdict « invalidated ». The log is intact (its chain holds); its replay differs."""
    with two_examiners() as (platform, first, second):
        forced = dataclasses.replace(OVERTURNED, forced=True)
        review_id = appealed_journey(platform, forced, first, second)  # the overturn refused
        review = platform.ctx.store.get(review_id, Review)
        review._appeal_decided(  # the event alone, past the command's checks
            examiner_id=second,
            first_examiner_id=first,
            outcome=AppealOutcome.OVERTURNED,
            verdict=Verdict.INVALIDATED,
            reasons=(),
            answer="on voit le candidat seul",
            agrees=True,
            timestamp=platform.ctx.now(),
        )
        platform.ctx.store.save(review)
        accounts.register_staff(
            platform.ctx, email="ada@example.org", name="Ada", role=Role.AUDITOR, password=PASSWORD
        )
        yield platform, review_id


@pytest.mark.parametrize(
    ("language", "sentences", "foreign"),
    [
        (
            "fr",
            [
                "L'issue de la contestation est « Examen validé après contestation », mais elle "
                "a enregistré le verdict « invalidée ».",
                "L'invalidation a été annulée alors que la recommandation rejouée a des motifs "
                "d'invalidation.",
            ],
            ["the appeal was overturned", "final verdict differs", "overturned", "validated"],
        ),
        (
            "en",
            [
                "The appeal's outcome is “Exam validated on appeal” but it recorded the "
                "verdict “invalidated”.",
                "The invalidation was overturned although the replayed recommendation has "
                "grounds to invalidate.",
            ],
            ["diffère", "contestation"],
        ),
    ],
)
def test_a_replay_that_differs_lists_its_differences_in_the_pages_language(
    differing: tuple[Platform, UUID], language: str, sentences: list[str], foreign: list[str]
) -> None:
    platform, review_id = differing
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as ada:
        log_in(ada, "/staff/login", "ada@example.org", PASSWORD)
        if language == "en":
            ada.get("/lang/en")
        page: Any = ada.get(f"/auditor/reviews/{review_id}")
    assert page.status_code == 200
    differences = visible(section(page.text, 'class="alert alert--error mismatch"', "</div>"))
    for sentence in sentences:
        assert sentence in differences, differences
    assert not [word for word in foreign if word in differences], differences
