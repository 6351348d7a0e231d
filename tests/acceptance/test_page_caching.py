"""Pages whose state changes are never kept by the browser (`Cache-Control: no-store`), so its
back button asks again. A user's tour: after the examiner's decision, « Précédent » showed the
review as it stood, « Pris par vous, à décider », with a live decision form. Files under
/static keep being cached (revalidated by their ETag), and the icon for a day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app.mail_rendering import SupportContact
from domain.staff import Role
from tests.acceptance.test_review_page import decide, seal_on
from tests.acceptance.web import form_token, log_in, platform_on, register_staff
from ui.journey import PARIS, Journey
from ui.web.app import create_app

SECRET = b"c" * 32
PASSWORD = "cache-pass-12"


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = platform_on(SECRET, 55, datetime(2026, 12, 7, 9, 0, tzinfo=PARIS), launcher="memory")
    staff = {
        "eve@example.org": Role.EXAMINER,
        "cat@example.org": Role.CENTRE,
        "sam@example.org": Role.SUPPORT,
    }
    register_staff(platform, PASSWORD, staff)
    yield platform
    platform.close()


def client_of(platform: Platform) -> TestClient[Any]:
    return TestClient(create_app(platform, secret=SECRET, support=SupportContact()))


def test_the_review_page_is_asked_again_after_the_decision_r19(platform: Platform) -> None:
    journey = Journey(platform)
    journey.sent_with_a_phone_flag()
    page = f"/examiner/reviews/{journey.review_id}"
    with client_of(platform) as examiner:
        log_in(examiner, "/staff/login", "eve@example.org", PASSWORD)
        for path in ("/examiner/reviews", page):
            assert examiner.get(path).headers["cache-control"] == "no-store", path
        taken = examiner.post(
            f"{page}/assign",
            data={"_csrf_token": form_token(examiner, page)},
            follow_redirects=False,
        )
        assert taken.status_code in (302, 303)
        before = examiner.get(page)
        assert before.headers["cache-control"] == "no-store"
        assert 'id="decision-form"' in before.text
        decided = decide(examiner, page, seen=seal_on(examiner, page))
        assert decided.status_code in (302, 303), decided.text[-300:]
        after = examiner.get(page)
        assert after.headers["cache-control"] == "no-store"
        assert 'id="decision-form"' not in after.text  # what « Précédent » now gets


@pytest.mark.parametrize(
    ("email", "paths"),
    [
        ("cat@example.org", ["/operator", "/operator/reviews", "/staff/security"]),
        ("sam@example.org", ["/hotline", "/hotline?q=camille"]),
    ],
)
def test_every_staff_page_with_forms_is_not_stored(
    platform: Platform, email: str, paths: list[str]
) -> None:
    with client_of(platform) as client:
        assert client.get("/staff/login").headers["cache-control"] == "no-store"
        log_in(client, "/staff/login", email, PASSWORD)
        for path in paths:
            reply = client.get(path)
            assert reply.status_code == 200, path
            assert reply.headers["cache-control"] == "no-store", path


def test_the_candidates_journey_is_not_stored_and_the_files_stay_cached(
    platform: Platform,
) -> None:
    journey = Journey(platform, email="camille@example.org")
    journey.enrol()
    journey.create_session()
    journey.set_password(PASSWORD)
    attempt_id = journey.through_checks()
    with client_of(platform) as client:
        assert client.get("/login").headers["cache-control"] == "no-store"
        log_in(client, "/login", "camille@example.org", PASSWORD)
        for path in ("/exams", f"/exams/{journey.session_id}", f"/portal/{attempt_id}"):
            reply = client.get(path)
            assert reply.status_code == 200, path
            assert reply.headers["cache-control"] == "no-store", path
        # The fragment journey.js swaps in place, and an error page, are pages too.
        fragment = client.get(f"/portal/{attempt_id}", headers={"x-vigie-fragment": "1"})
        assert fragment.headers["cache-control"] == "no-store"
        assert client.get("/nowhere").headers["cache-control"] == "no-store"
        # What is not a page keeps its own caching.
        style = client.get("/static/vigie.css")
        assert style.status_code == 200 and style.headers["cache-control"] == "no-cache"
        assert style.headers["etag"]
        assert client.get("/static/journey.js").headers["cache-control"] == "no-cache"
        assert "max-age=86400" in client.get("/favicon.ico").headers["cache-control"]
