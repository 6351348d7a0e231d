"""Helpers for driving the web app in Litestar's test client (log in, send the CSRF token),
or served for real by uvicorn."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app.mail_rendering import SupportContact
from ui.web.app import create_app

_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')


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
