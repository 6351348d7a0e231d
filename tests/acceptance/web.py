"""Helpers for driving the web app in Litestar's test client: log in, send the CSRF token."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient

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
