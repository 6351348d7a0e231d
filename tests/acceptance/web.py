"""Helpers for driving the web app in Litestar's test client (log in, send the CSRF token),
or served for real by uvicorn."""

from __future__ import annotations

import contextlib
import html
import re
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

import uvicorn
from litestar.testing import TestClient

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from app.mail_rendering import SupportContact
from app.ports.sessions import StoredSession
from app.sessions import candidate_account, new_session_id, session_key
from app.use_cases import accounts
from domain.staff import Role
from ui.journey import PARIS, Journey
from ui.web.app import create_app
from ui.web.sessions import COOKIE as SESSION_COOKIE

_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')

# The password a candidate made by `candidate` logs in with.
CANDIDATE_PASSWORD = "candidat-pass-1"


def form_token(client: TestClient[Any], path: str) -> str:
    """The CSRF token a page's form carries (GET first, as a browser does)."""
    found = _TOKEN.search(client.get(path).text)
    assert found is not None, f"no form token on {path}"
    return found.group(1)


def log_in(client: TestClient[Any], path: str, email: str, password: str) -> None:
    """Log in through the form at `path` (candidate or staff)."""
    reply = client.post(
        path,
        data={"email": email, "password": password, "_csrf_token": form_token(client, path)},
        follow_redirects=False,
    )
    assert reply.status_code in (302, 303), reply.text


def her_browser(journey: Journey, language: str = "fr") -> str:
    """The `Cookie` header of the journey's candidate's own browser, logged in: a session put
    in the platform's store as her log-in puts it (the exam tab is served only there, F6).
    It outlives any clock the test moves."""
    candidate = journey.candidate_id
    assert candidate is not None
    platform = journey.platform
    session_id = new_session_id()
    now = platform.ctx.clock.now()
    platform.sessions.put(
        session_key(session_id),
        StoredSession(
            data={"candidate": str(candidate), "lang": language},
            account=candidate_account(candidate),
            expires_at=now + timedelta(days=3650),
            idle_until=now + timedelta(days=3650),
        ),
    )
    return f"{SESSION_COOKIE}={session_id}"


def csrf(client: TestClient[Any]) -> dict[str, str]:
    """The header a script sends for the CSRF check."""
    return {"x-csrftoken": client.cookies.get("vigie_csrf") or ""}


@contextlib.contextmanager
def served(platform: Platform, port: int, secret: bytes = b"s" * 32) -> Iterator[str]:
    """The web app over `platform`, served for real by uvicorn on 127.0.0.1:`port` (no
    worker loop: the test settles when it means to); yields its address."""
    app = create_app(platform, secret=secret, support=SupportContact())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "the app did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def platform_on(
    secret: bytes,
    seed: int,
    start: datetime = datetime(2025, 3, 4, 9, 0, tzinfo=PARIS),
    **settings: Any,
) -> Platform:
    """The real composition root on the in-memory store, its secret key `secret`, its clock
    standing at `start` for the test to move, its ids seeded with `seed`."""
    return bootstrap(
        Settings(database_url="memory:", media_root=None, secret_key=secret.decode(), **settings),
        clock=ManualClock(start),
        ids=SeededIds(seed),
    )


def register_staff(
    platform: Platform, password: str, staff: Mapping[str, Role], name: str = "X"
) -> None:
    """Each staff member's account (e-mail: role), all with `password`."""
    for email, role in staff.items():
        accounts.register_staff(platform.ctx, email=email, name=name, role=role, password=password)


def candidate(
    platform: Platform, email: str, language: str = "fr", password: str = CANDIDATE_PASSWORD
) -> Journey:
    """A candidate enrolled (her pages and mails in `language`), her `password` set and her
    exam session created."""
    journey = Journey(platform, email=email, language=language)
    journey.enrol()
    journey.set_password(password)
    journey.create_session()
    return journey


class Browsers:
    """Browsers onto the web app over one platform (the `browser` fixture), each closed after
    the test."""

    def __init__(self, platform: Platform, secret: bytes = b"p" * 32, **app_options: Any) -> None:
        """`app_options`: create_app's own (a session policy, the log-ins a minute)."""
        self._platform = platform
        self._secret = secret
        self._app_options = app_options
        self._opened: list[TestClient[Any]] = []

    def open(self, journey: Journey | None = None, language: str | None = None) -> TestClient[Any]:
        """A new browser; given a candidate's journey, she is logged in on it (with
        CANDIDATE_PASSWORD); given a language, its pages are chosen in it."""
        client = TestClient(
            create_app(
                self._platform,
                secret=self._secret,
                support=SupportContact(),
                **self._app_options,
            )
        )
        client.__enter__()
        self._opened.append(client)
        if journey is not None:
            log_in(client, "/login", journey.email, CANDIDATE_PASSWORD)
        if language is not None:
            client.get(f"/lang/{language}")
        return client

    def close(self) -> None:
        for client in reversed(self._opened):
            client.__exit__(None, None, None)


def plain(text: str) -> str:
    """A page's text with its entities read and its no-break spaces (French typography's
    narrow ones too) read as spaces."""
    return html.unescape(text).replace("\u00a0", " ").replace("\u202f", " ")
