"""Issue 13, point 9: the checks the tour relies on, proved to catch what they must, and the
focus ring on every control of the pages anyone meets first (both log-ins, support, the
error page), reached with Tab, in both languages.

axe-core comes from PyPI's axe-playwright-python, which bundles axe.min.js (no network)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import BROKEN, Server, focus_problem, serious_violations
from tests.browser.test_tour import overflow

FIRST_PAGES = ("/login", "/staff/login", "/support", "/password/forgot", "/no-such-page")
MOST_STOPS = 40


def test_the_watch_catches_a_missing_stylesheet_a_console_error_and_a_script_error(
    page: Any, server: Server
) -> None:
    page.goto(f"{server.url}/login")
    page.evaluate(
        """() => {
            const sheet = document.createElement('link');
            sheet.rel = 'stylesheet';
            sheet.href = '/static/no-such-sheet.css';
            document.head.append(sheet);
            console.error('something broke');
            setTimeout(() => { throw new Error('uncaught on purpose'); });
        }"""
    )
    page.wait_for_timeout(500)
    broken = "\n".join(BROKEN.take())  # taken: this test's own breakage is expected
    # Reported as a 404, or (with X-Content-Type-Options: nosniff, issue 14) as the browser's
    # refusal to apply the error page as a stylesheet: either way, named.
    assert "no-such-sheet.css" in broken
    assert "404 for a stylesheet" in broken or "Refused to apply style" in broken
    assert "console error: something broke" in broken
    assert "uncaught on purpose" in broken


def test_the_checks_catch_an_overflowing_page_and_an_unlabelled_field(
    page: Any, server: Server
) -> None:
    page.goto(f"{server.url}/support")
    page.set_viewport_size({"width": 360, "height": 800})
    assert overflow(page, 360) == []
    assert serious_violations(page) == []
    page.evaluate(
        """() => {
            const wide = document.createElement('div');
            wide.id = 'too-wide';
            wide.style.width = '900px';
            wide.style.height = '10px';
            document.querySelector('main').append(wide);
            const field = document.createElement('input');
            field.type = 'text';
            document.querySelector('main').append(field);
        }"""
    )
    [wide] = overflow(page, 360)
    assert "div#too-wide" in wide
    assert any(v.startswith("label ") for v in serious_violations(page))


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_control_of_the_first_pages_shows_where_the_focus_is(
    page: Any, server: Server, language: str
) -> None:
    page.goto(f"{server.url}/lang/{language}")
    unseen: list[str] = []
    for path in FIRST_PAGES:
        page.goto(server.url + path)
        stops = 0
        first = None
        while stops < MOST_STOPS:
            page.keyboard.press("Tab")
            here = page.evaluate("() => document.activeElement && document.activeElement.outerHTML")
            if here == first:  # round the page once
                break
            first = first or here
            stops += 1
            problem = focus_problem(page)
            if problem and problem != "nothing has the focus":  # (the browser's own bar)
                unseen.append(f"{path}: {problem}")
        assert stops > 1, f"{path}: nothing to reach with Tab"
    assert unseen == [], "\n".join(unseen)
