"""Browser tests: the real app served by uvicorn on 127.0.0.1, driven by Playwright in
Debian's Chromium with a fake camera and microphone. Screenshots go to test-artifacts/.

Every browser test also fails on what a person would see as broken (issue 13): an error in the
console, an uncaught script error, an asset (script, stylesheet, image, font, media) answered
4xx/5xx, or any response 5xx. Every browser context made from the `browser` fixture, or given
to `watch()`, is watched; the check runs after the test's own assertions."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from app.mail_rendering import SupportContact
from tests.acceptance.web import her_browser
from ui.journey import PARIS, Journey
from ui.web.app import create_app
from ui.worker import work

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
SECRET = b"b" * 32


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    """The running app and its platform (to read the log and move the clock)."""

    url: str
    platform: Platform

    @property
    def clock(self) -> ManualClock:
        assert isinstance(self.platform.ctx.clock, ManualClock)
        return self.platform.ctx.clock


# What a page loads to look and work right: a 4xx for one of these is a broken page. A 4xx
# for a document, a fetch or an XHR is the app's answer (a refusal, the error page), never one.
ASSET_TYPES = frozenset({"script", "stylesheet", "image", "font", "media"})


@dataclass
class BrokenThings:
    """What the watched browser contexts met since the last `take()`: one line each."""

    seen: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, line: str) -> None:
        with self._lock:  # the live tests drive the browser from another thread
            self.seen.append(line)

    def take(self) -> list[str]:
        with self._lock:
            taken, self.seen = self.seen, []
            return taken


BROKEN = BrokenThings()


def _on_console(message: Any) -> None:
    if message.type != "error":
        return
    # Chromium also logs every 4xx as "Failed to load resource": the responses are judged
    # below, where an asset's 4xx is told from a refusal's.
    if message.text.startswith("Failed to load resource"):
        return
    where = (message.location or {}).get("url", "")
    BROKEN.add(f"console error: {message.text} ({where})")


def _on_response(response: Any) -> None:
    kind = response.request.resource_type
    if response.status >= 500 or (response.status >= 400 and kind in ASSET_TYPES):
        BROKEN.add(f"{response.status} for a {kind}: {response.url}")


def _on_page_error(error: Any) -> None:
    BROKEN.add(f"uncaught script error: {error.error}")


def log_her_in(page: Any, journey: Journey) -> None:
    """The journey's candidate logged in in `page`'s browser (her session cookie, as her
    log-in sets it): the exam tab is served only there (sec-findings F6)."""
    name, _, value = her_browser(journey).partition("=")
    cookie = {"name": name, "value": value, "url": journey.platform.links.base_url}
    page.context.add_cookies([{**cookie, "httpOnly": True, "sameSite": "Lax"}])


def open_exam_tab(page: Any, journey: Journey, url: str) -> Any:
    """The exam tab at `url` in `page`, in the browser where its candidate is logged in."""
    log_her_in(page, journey)
    return page.goto(url)


def wait_until(page: Any, expression: str, arg: Any = None, timeout: float = 30_000) -> Any:
    """Playwright's `wait_for_function`, without string evaluation inside the page: the
    pages' Content-Security-Policy (issue 14) forbids `eval`, which `wait_for_function`
    uses, while `evaluate` goes through the DevTools protocol and is allowed."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        found = page.evaluate(expression, arg)
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout / 1000:g} s: {expression}")
        page.wait_for_timeout(100)


def watch(context: Any) -> Any:
    """Report the context's console errors, script errors and broken assets to BROKEN."""
    context.on("console", _on_console)
    context.on("response", _on_response)
    context.on("weberror", _on_page_error)
    return context


class WatchedBrowser:
    """The Playwright browser, whose new contexts are watched."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser

    def new_context(self, **options: Any) -> Any:
        return watch(self._browser.new_context(**options))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, None]:
    """Fail a browser test that passed its own checks but broke something on the way."""
    BROKEN.take()  # what an earlier test left behind is that test's
    outcome = yield
    broken = BROKEN.take()
    if broken and outcome.excinfo is None:
        outcome.force_exception(
            AssertionError("the browser met broken things:\n" + "\n".join(broken))
        )


def serve(platform: Platform, port: int, **app_options: Any) -> Iterator[Server]:
    """Serve `platform` with uvicorn on 127.0.0.1:`port` with the worker loop beside it until
    the generator is closed (use it as a fixture's body)."""
    app = create_app(platform, secret=SECRET, support=SupportContact(), **app_options)
    # The worker loop `vigie serve` runs: requests only record, the worker reacts (issue 12).
    stop = threading.Event()
    worker = threading.Thread(target=work, args=(platform, stop), daemon=True)
    worker.start()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    uvi = uvicorn.Server(config)
    thread = threading.Thread(target=uvi.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uvi.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uvi.started, "the app did not start"
    yield Server(f"http://127.0.0.1:{port}", platform)
    uvi.should_exit = True
    thread.join(timeout=10)
    stop.set()
    worker.join(timeout=10)


def platform_on_disk(
    tmp_path: Path,
    port: int,
    *,
    clock: Any = None,
    ids: SeededIds | None = None,
    secret: bytes = SECRET,
    **settings: Any,
) -> Platform:
    """A platform on a SQLite file and a media folder under `tmp_path`, its links to
    `port` (where `serve` puts it), on a manual clock at 9:00 on 2025-03-04 in Paris unless
    `clock` is given; `settings` adds to the Settings (a launcher, a catalogue folder…)."""
    return bootstrap(
        Settings(
            database_url=f"sqlite:///{tmp_path}/vigie.sqlite",
            media_root=str(tmp_path / "media"),
            secret_key=secret.decode(),
            base_url=f"http://127.0.0.1:{port}",
            **settings,
        ),
        clock=clock or ManualClock(datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)),
        ids=ids,
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    port = _free_port()
    platform = platform_on_disk(tmp_path, port, ids=SeededIds(99))
    yield from serve(platform, port)
    platform.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    # Module scope: Playwright's sync API keeps an event loop in this thread while it runs,
    # which other tests' own loops must not meet.
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        message = "Debian's chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: {message}", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-component-update",
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
            ],
        )
        yield WatchedBrowser(browser)
        browser.close()


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    context = browser.new_context(locale="fr-FR")  # type: ignore[attr-defined]
    context.grant_permissions(["camera", "microphone"])
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-last.png"), full_page=True)
    context.close()


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now. The bundled
    axe.min.js is injected once per document (half a megabyte to parse each time otherwise)."""
    from axe_playwright_python.base import AXE_SCRIPT

    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    response = page.evaluate("() => axe.run({resultTypes: ['violations']})")
    assert response["passes"], "axe-core did not run on the page"
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


# Is the focused element's focus ring visible: an outline, or a box-shadow that is neither
# transparent nor of zero size (Pico draws its focus rings as box-shadows)?
FOCUS_RING = """() => {
    const e = document.activeElement;
    if (!e || e === document.body) return 'nothing has the focus';
    const s = getComputedStyle(e);
    const name = e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
        + ' « ' + (e.innerText || e.value || e.getAttribute('aria-label') || '')
            .trim().slice(0, 40) + ' »';
    if (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 1) return '';
    const shadows = (s.boxShadow || 'none') === 'none'
        ? [] : s.boxShadow.split(/,(?![^(]*\\))/);
    const seen = shadows.some(part => {
        const colour = part.match(/rgba?\\(([^)]*)\\)/);
        const alpha = colour && colour[1].split(',')[3] !== undefined
            ? parseFloat(colour[1].split(',')[3]) : 1;
        const sizes = (part.replace(/rgba?\\([^)]*\\)/, '').match(/-?[\\d.]+px/g) || [])
            .map(parseFloat);
        return alpha > 0 && sizes.some(n => Math.abs(n) >= 1);
    });
    return seen ? '' : 'no visible focus ring on ' + name;
}"""


def focus_problem(page: Any) -> str:
    """Why the focused element's focus cannot be seen ('' when it can)."""
    found: str = page.evaluate(FOCUS_RING)
    return found


def headings_out_of_order(page: Any) -> list[str]:
    """Headings a level down drawn larger than the level above (Pico's h3 stood bigger than
    our h2: « Interruptions prévues… » outsized « Verdict recommandé », a helper's tour)."""
    return list(
        page.evaluate(
            """() => {
                const size = e => parseFloat(getComputedStyle(e).fontSize);
                const found = [];
                for (let level = 1; level < 4; level++) {
                    const upper = Array.from(document.querySelectorAll("h" + level))
                        .filter(e => e.offsetParent !== null).map(size);
                    const lower = Array.from(document.querySelectorAll("h" + (level + 1)))
                        .filter(e => e.offsetParent !== null).map(size);
                    if (upper.length && lower.length
                            && Math.max(...lower) > Math.min(...upper)) {
                        found.push("h" + (level + 1) + " " + Math.max(...lower)
                            + " px > h" + level + " " + Math.min(...upper) + " px");
                    }
                }
                return found;
            }"""
        )
    )
