# ruff: noqa: F811 (the fixtures imported from test_exam_delivery are parameters here)
"""R26: the hotline's phone number is one piece wherever a page gives it. On a phone the
footer broke it as « 02 40 92 / 45 68 » (a user's tour): it is kept on one line
(`white-space: nowrap`), its digits and spaces as they are (a reader copies them as such)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app.mail_rendering import SupportContact
from tests.acceptance.test_exam_delivery import (  # noqa: F401 (fixtures)
    clock,
    in_exam,
    platform,
)
from tests.acceptance.test_exam_tab import addresses, http
from tests.acceptance.web import her_browser
from ui.web.app import create_app

PHONE = SupportContact().phone
ON_ONE_LINE = f'<span class="nowrap">{PHONE}</span>'
STYLES = Path(__file__).resolve().parents[2] / "src" / "ui" / "web" / "static" / "vigie.css"


def test_the_page_style_keeps_it_on_one_line() -> None:
    assert re.search(r"\.nowrap \{ white-space: nowrap; \}", STYLES.read_text())


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_footer_and_the_support_page_keep_the_number_whole_r26(
    platform: Platform, language: str
) -> None:
    app = create_app(platform, secret=b"n" * 32, support=SupportContact())
    with TestClient(app) as client:
        client.get(f"/lang/{language}")
        footer = client.get("/login").text.split('class="site-footer"')[1]
        assert ON_ONE_LINE in footer
        support = client.get("/support").text
        assert f'class="nowrap">{PHONE}</a>' in support


def test_the_exam_tabs_footer_keeps_it_whole_r26(platform: Platform) -> None:
    journey = in_exam(platform)
    me = her_browser(journey)
    base, token = addresses(journey)
    page = http(f"{base}?t={token}", cookie=me)[1]
    assert ON_ONE_LINE in page.split('class="site-footer"')[1]
