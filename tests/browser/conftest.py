"""Browser tests: the real app served by uvicorn on 127.0.0.1, driven by Playwright in
Debian's Chromium with a fake camera and microphone. Screenshots go to test-artifacts/."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from app.mail_rendering import SupportContact
from tests.acceptance.journey import PARIS
from ui.serve import work
from ui.web.app import create_app

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


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    port = _free_port()
    platform = bootstrap(
        Settings(
            database_url=f"sqlite:///{tmp_path}/vigie.sqlite",
            media_root=str(tmp_path / "media"),
            secret_key=SECRET.decode(),
            base_url=f"http://127.0.0.1:{port}",
        ),
        clock=ManualClock(datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(99),
    )
    app = create_app(platform, secret=SECRET, support=SupportContact())
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
        yield browser
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
    """axe-core's serious and critical violations on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.response["passes"], "axe-core did not run on the page"
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
