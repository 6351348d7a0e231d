"""The per-address limit on the log-in forms (Litestar's, ten a minute): a member of staff, or
a candidate, refused by it sees her own log-in page again with the limit's words as its error,
her e-mail kept, status 429 and Retry-After, and no password checked (a reviewer's tour: the
candidates' error page, its hotline and « Back to my home page », the e-mail lost)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from litestar.testing import TestClient

from app.mail_rendering import SupportContact
from domain.staff import Role
from tests.acceptance.web import candidate, form_token, platform_on, register_staff
from ui.web.app import create_app

SECRET = b"q" * 32
PASSWORD = "staff-pass-12"
HER_PASSWORD = "candidat-pass-1"
SUPPORT = SupportContact(email="hotline@vigie.example", phone="01 02 03 04 05")


@pytest.fixture
def client() -> Iterator[TestClient[Any]]:
    platform = platform_on(SECRET, 71)
    register_staff(platform, PASSWORD, {"eve@example.org": Role.EXAMINER})
    candidate(platform, "ines@example.org", password=HER_PASSWORD)
    platform.projections.catch_up(platform.ctx.store)
    with TestClient(create_app(platform, secret=SECRET, support=SUPPORT)) as browser:
        yield browser


def _refused_by_the_limit(
    client: TestClient[Any], path: str, email: str, right: str, language: str
) -> Any:
    """Ten wrong passwords from one address, then the right one: the limit's refusal."""
    client.get(f"/lang/{language}")
    token = form_token(client, path)
    for _ in range(10):
        wrong = client.post(path, data={"email": email, "password": "wrong", "_csrf_token": token})
        assert wrong.status_code == 401
    return client.post(path, data={"email": email, "password": right, "_csrf_token": token})


IN_BOTH_LANGUAGES = pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fr", "Trop de tentatives en peu de temps"),
        ("en", "Too many attempts in a short time"),
    ],
)


def _its_log_in_page(refused: Any, path: str, email: str, words: str) -> str:
    """The refusal is the log-in form at `path` again: 429 with a Retry-After, its error
    said, the e-mail kept; its HTML."""
    assert refused.status_code == 429
    assert refused.headers["retry-after"].isdigit() and int(refused.headers["retry-after"]) > 0
    page: str = refused.text
    assert f'action="{path}"' in page and 'id="login-error"' in page and words in page
    assert _email_field(page) == email
    return page


def _email_field(page: str) -> str:
    found = re.search(r'<input id="email"[^>]*value="([^"]*)"', page)
    assert found is not None, "no e-mail field"
    return found.group(1)


@IN_BOTH_LANGUAGES
def test_staff_refused_by_the_address_limit_see_their_log_in_page(
    client: TestClient[Any], language: str, words: str
) -> None:
    refused = _refused_by_the_limit(client, "/staff/login", "eve@example.org", PASSWORD, language)
    page = _its_log_in_page(refused, "/staff/login", "eve@example.org", words)
    assert "hotline@vigie.example" not in page and "01 02 03 04 05" not in page
    assert 'href="/" role="button"' not in page  # not the error page's « home »
    assert f'<html lang="{language}"' in page
    # The right password was not checked: no staff session came of it.
    assert client.get("/examiner/reviews", follow_redirects=False).status_code in (302, 303)


@IN_BOTH_LANGUAGES
def test_a_candidate_refused_by_the_address_limit_sees_her_log_in_page(
    client: TestClient[Any], language: str, words: str
) -> None:
    refused = _refused_by_the_limit(client, "/login", "ines@example.org", HER_PASSWORD, language)
    page = _its_log_in_page(refused, "/login", "ines@example.org", words)
    assert 'id="password"' in page  # she tries again from here
    assert client.get("/exams", follow_redirects=False).status_code in (302, 303)


@IN_BOTH_LANGUAGES
def test_a_member_at_her_code_refused_by_the_address_limit_sees_the_code_page(
    client: TestClient[Any], language: str, words: str
) -> None:
    """Between her password and her code: the code's page again with the limit's words (it
    was the candidates' error page, its hotline and « Back to my home page »), no code
    checked, and the right code still opens once the minute has passed."""
    app: Any = client.app
    platform = app.state.platform
    member = platform.projections.staff_by_email["eve@example.org"]
    factors = app.state.second_factors
    totp = pyotp.TOTP(factors.begin(member))
    assert factors.confirm(member, totp.at(platform.ctx.clock.now()))
    platform.ctx.clock.advance(seconds=31)
    client.get(f"/lang/{language}")
    token = form_token(client, "/staff/login")
    password = client.post(
        "/staff/login",
        data={"email": "eve@example.org", "password": PASSWORD, "_csrf_token": token},
        follow_redirects=False,
    )
    assert password.headers["location"] == "/staff/login/code"
    token = form_token(client, "/staff/login/code")
    for _ in range(9):  # with the password's, ten posts this minute from this address
        wrong = client.post("/staff/login/code", data={"code": "000000", "_csrf_token": token})
        assert wrong.status_code == 401
    refused = client.post(
        "/staff/login/code",
        data={"code": totp.at(platform.ctx.clock.now()), "_csrf_token": token},
    )
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    page = refused.text
    assert 'action="/staff/login/code"' in page and 'id="code-error"' in page and words in page
    assert "hotline@vigie.example" not in page and 'href="/" role="button"' not in page
    assert f'<html lang="{language}"' in page
    assert client.get("/examiner/reviews", follow_redirects=False).status_code in (302, 303)


def test_the_other_throttled_forms_keep_the_error_page(client: TestClient[Any]) -> None:
    """Only the log-in forms (and the code's step) answer the limit themselves; a reset
    request is refused as before (and never reaches its handler)."""
    token = form_token(client, "/password/forgot")
    codes = [
        client.post(
            "/password/forgot", data={"email": "ines@example.org", "_csrf_token": token}
        ).status_code
        for _ in range(11)
    ]
    assert codes[-1] == 429 and 429 not in codes[:10]
