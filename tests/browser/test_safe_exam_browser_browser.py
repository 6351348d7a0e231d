"""Issue 16, point 3, in Chromium: the exam tab of a certification that requires Safe Exam
Browser. Chromium is no SEB, so the test plays SEB's part as SEB documents it: every request
of the tab carries `X-SafeExamBrowser-ConfigKeyHash` and `X-SafeExamBrowser-RequestHash`,
SHA-256 of the request's URL followed by the Config Key (of the `.seb` file the centre
downloads, computed here by the test's own code) and by an accepted Browser Exam Key. Without
them the tab is refused with a page in the candidate's language; with them it is served, and
its own requests (heartbeats, answers) pass too."""

from __future__ import annotations

import hashlib
from typing import Any

from adapters.bootstrap import Platform
from domain.exam_attempt import ExamAttempt
from tests.acceptance.test_safe_exam_browser import (
    ACCEPTED_BEK,
    config_key_of,
    download_seb,
    platform_at,  # noqa: F401 (the fixture)
)
from tests.acceptance.web import served
from tests.browser.conftest import ARTIFACTS, log_her_in, serious_violations
from ui.journey import Journey


def as_seb(config_key: str) -> Any:
    """A route handler adding SEB's two hashes to a request, over its own URL."""

    def handler(route: Any) -> None:
        url = route.request.url.split("#", 1)[0]
        headers = {
            **route.request.headers,
            "x-safeexambrowser-configkeyhash": hashlib.sha256(
                (url + config_key).encode()
            ).hexdigest(),
            "x-safeexambrowser-requesthash": hashlib.sha256(
                (url + ACCEPTED_BEK).encode()
            ).hexdigest(),
        }
        route.continue_(headers=headers)

    return handler


def test_the_exam_tab_refuses_a_browser_without_seb_and_serves_seb(
    platform_at: tuple[Platform, int],  # noqa: F811
    page: Any,
) -> None:
    platform, port = platform_at
    content, _ = download_seb(platform)
    key = config_key_of(content)
    journey = Journey(platform)
    journey.in_exam()
    attempt = platform.ctx.store.get(journey.attempt_id, ExamAttempt)  # type: ignore[arg-type]
    url = attempt.workspace_url
    assert url is not None
    with served(platform, port):
        log_her_in(page, journey)  # a browser where she is logged in, but not SEB
        reply = page.goto(url)
        assert reply is not None and reply.status == 403
        alert = page.locator("#refusal")
        assert "n'a pas été ouverte dans Safe Exam Browser" in alert.inner_text()
        assert page.get_by_role("heading", level=1).inner_text() == (
            "Cet examen ne s'ouvre que dans Safe Exam Browser"
        )
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "16-seb-refused.png"), full_page=True)
        assert serious_violations(page) == []

        page.route(f"http://127.0.0.1:{port}/**", as_seb(key))
        reply = page.goto(url)
        assert reply is not None and reply.status == 200
        page.locator("#remaining").wait_for()  # the exam, its time left
        with page.expect_response(lambda r: "/answer" in r.url) as answered:
            page.locator("article.question input[type=radio]").first.check()
        assert answered.value.status == 200  # the page's own save, sent as SEB sends it
        with page.expect_response(lambda r: "/beat" in r.url, timeout=10_000) as beat:
            pass
        assert beat.value.status == 204
        page.unroute(f"http://127.0.0.1:{port}/**")
        with page.expect_response(lambda r: "/beat" in r.url, timeout=10_000) as beat:
            pass
        assert beat.value.status == 403  # the same page, its requests no longer SEB's
        page.wait_for_timeout(500)  # its answer read: SEB's refusal is not a log-out (F6)
        assert page.locator("#session-lost").is_hidden()
