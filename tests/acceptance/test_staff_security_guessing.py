"""The security page counts the passwords and codes it checks (a follow-up of F7 and F8).

Whoever sat at a member's session left open could try her current password on the page's
forms (to change it, or to bind their own authenticator app), or codes to switch her second
factor off, as often as they liked: the log-in's counts never saw those tries. Now ten wrong
ones within fifteen minutes, whichever forms, and the page checks nothing more for that
member until the oldest ages out: the right password is then refused as well (HTTP 429),
said beside the field in the reader's language, and nothing changes."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app.login_throttle import MAX_FAILURES
from app.sessions import SessionPolicy
from app.use_cases import accounts
from domain.staff import Role
from tests.acceptance.web import Browsers, form_token, log_in, register_staff
from ui.journey import make_platform

PASSWORD = "examinateur-pass-1"
EMAIL = "eve@example.org"
WAIT_FR = "Trop de mots de passe ou de codes erronés sur cette page"
WAIT_EN = "Too many wrong passwords or codes on this page"


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    made = make_platform(f"sqlite:///{tmp_path}/store.sqlite")
    yield made
    made.close()


def _eve_logged_in(platform: Platform, attempts_per_minute: int) -> Iterator[TestClient[Any]]:
    """Eve, an examiner, logged in, in a browser of a platform with that per-address limit."""
    register_staff(platform, PASSWORD, {EMAIL: Role.EXAMINER}, name="Eve")
    platform.projections.catch_up(platform.ctx.store)
    browsers = Browsers(
        platform, attempts_per_minute=attempts_per_minute, session_policy=SessionPolicy()
    )
    client = browsers.open()
    log_in(client, "/staff/login", EMAIL, PASSWORD)
    yield client
    browsers.close()


@pytest.fixture
def desk(platform: Platform) -> Iterator[TestClient[Any]]:
    """Eve's browser, logged in as an examiner (many log-ins a minute allowed: the page's own
    count is the one tested)."""
    yield from _eve_logged_in(platform, attempts_per_minute=10_000)


def _send(desk: TestClient[Any], path: str, **fields: str) -> Any:
    token = form_token(desk, "/staff/security")
    return desk.post(f"/staff/security{path}", data={**fields, "_csrf_token": token})


def _turned_on(desk: TestClient[Any], clock: Any) -> tuple[str, str]:
    """Eve's second factor set up and confirmed from the page: its secret, and the code that
    confirmed it."""
    setup = _send(desk, "/second-factor", current=PASSWORD)
    secret = setup.text.split('id="totp-secret"')[1].split(">")[1].split("<")[0].strip()
    code = pyotp.TOTP(secret).at(clock.now())
    assert _send(desk, "/second-factor/confirm", code=code).status_code == 200
    return secret, code


def _change(desk: TestClient[Any], current: str) -> Any:
    return _send(desk, "/password", current=current, password="another-pass-3")


def test_ten_wrong_current_passwords_and_the_right_one_changes_nothing_for_15_minutes(
    platform: Platform, desk: TestClient[Any]
) -> None:
    clock: Any = platform.ctx.clock
    for _ in range(MAX_FAILURES):
        wrong = _change(desk, "not-the-password")
        assert wrong.status_code == 400 and "mot de passe actuel" in wrong.text
    refused = _change(desk, PASSWORD)
    assert refused.status_code == 429 and WAIT_FR in refused.text
    assert refused.headers["Retry-After"] == "900"
    # Said beside the field it is about, and the session goes on (the member may be the one).
    assert 'id="current-error"' in refused.text
    assert desk.get("/examiner/reviews", follow_redirects=False).status_code == 200
    # The second factor's set-up shares the count.
    setup = _send(desk, "/second-factor", current=PASSWORD)
    assert setup.status_code == 429 and 'id="setup-error"' in setup.text
    assert "otpauth" not in setup.text and "data:image/svg" not in setup.text

    desk.get("/lang/en")
    assert WAIT_EN in _change(desk, PASSWORD).text

    clock.advance(minutes=15, seconds=1)  # the oldest failures age out
    changed = _change(desk, PASSWORD)
    assert changed.status_code == 200 and "Log in again" in changed.text


def test_the_right_password_on_the_page_clears_nothing_but_its_own_try(
    platform: Platform, desk: TestClient[Any]
) -> None:
    """A right password is not a failure: nine wrong ones, the right one to set up a second
    factor, and the member still has one more try before the page stops checking."""
    for _ in range(MAX_FAILURES - 1):
        assert _change(desk, "not-the-password").status_code == 400
    assert _send(desk, "/second-factor", current=PASSWORD).status_code == 200
    assert _change(desk, "not-the-password").status_code == 400
    assert _change(desk, "not-the-password").status_code == 429


def test_codes_to_switch_the_second_factor_off_are_counted_too(
    platform: Platform, desk: TestClient[Any]
) -> None:
    clock: Any = platform.ctx.clock
    secret, _code = _turned_on(desk, clock)
    clock.advance(seconds=30)
    good = pyotp.TOTP(secret).at(clock.now())
    bad = "000000" if good != "000000" else "111111"
    for _ in range(MAX_FAILURES):
        assert _send(desk, "/second-factor/disable", code=bad).status_code == 400
    refused = _send(desk, "/second-factor/disable", code=good)
    assert refused.status_code == 429 and WAIT_FR in refused.text
    assert 'action="/staff/security/second-factor/disable"' in desk.get("/staff/security").text
    clock.advance(minutes=15, seconds=1)
    good = pyotp.TOTP(secret).at(clock.now())
    assert _send(desk, "/second-factor/disable", code=good).status_code == 200
    page = desk.get("/staff/security").text
    assert "/second-factor/disable" not in page
    # Her own on and off are in her history, newest first (a reviewer's tour: neither was,
    # so a factor switched off from a session left open left no trace).
    history = html.unescape(page.split('id="security-history"')[1].split("</ul>")[0])
    assert history.index("Vous avez désactivé le second facteur") < history.index(
        "Vous avez activé le second facteur"
    )
    desk.get("/lang/en")
    assert "You turned the second factor off" in desk.get("/staff/security").text


def test_the_code_that_just_turned_the_factor_on_is_refused_at_log_in_saying_why(
    platform: Platform, desk: TestClient[Any]
) -> None:
    """A reviewer's tour: logging in again within the same 30 seconds, the code that had just
    confirmed the set-up was refused as « not right », with « type the digits your app shows
    now », which were that very code."""
    clock: Any = platform.ctx.clock
    _secret, code = _turned_on(desk, clock)
    desk.post("/logout", data={"_csrf_token": form_token(desk, "/staff/security")})
    log_in_as_staff = desk.post(
        "/staff/login",
        data={
            "email": EMAIL,
            "password": PASSWORD,
            "_csrf_token": form_token(desk, "/staff/login"),
        },
        follow_redirects=False,
    )
    assert log_in_as_staff.headers["location"].endswith("/staff/login/code")
    token = form_token(desk, "/staff/login/code")
    again = desk.post("/staff/login/code", data={"code": code, "_csrf_token": token})
    assert again.status_code == 401
    assert "si vous venez de l'utiliser, attendez le suivant" in html.unescape(again.text)


@pytest.fixture
def limited_desk(platform: Platform) -> Iterator[TestClient[Any]]:
    """Eve's browser, logged in, with the platform's per-address limit (ten a minute)."""
    yield from _eve_logged_in(platform, attempts_per_minute=10)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fr", "Trop de tentatives en peu de temps. Attendez une minute, puis réessayez."),
        ("en", "Too many attempts in a short time. Wait a minute, then try again."),
    ],
)
@pytest.mark.parametrize(
    ("path", "fields", "beside"),
    [
        ("/password", {"current": PASSWORD, "password": "another-pass-3"}, "current-error"),
        ("/second-factor", {"current": PASSWORD}, "setup-error"),
    ],
)
def test_the_address_limit_on_the_page_s_forms_answers_with_the_page(
    platform: Platform,
    limited_desk: TestClient[Any],
    language: str,
    words: str,
    path: str,
    fields: dict[str, str],
    beside: str,
) -> None:
    """A user's tour with the page in two tabs: past the per-address limit (ten a minute,
    the log-in's included) the page's forms gave the candidates' error page, its hotline and
    « Back to my home page », the security page gone. It is the page again, the limit's words
    beside the form sent, 429 with a Retry-After, nothing checked: the right password
    changes nothing and the member's own count (ten in fifteen minutes) is not touched."""
    limited_desk.get(f"/lang/{language}")
    for _ in range(9):  # the log-in was the first of the minute
        assert _send(limited_desk, "/password", current="wrong", password="x" * 12).status_code in (
            400,
            429,
        )
    refused = _send(limited_desk, path, **fields)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    text = html.unescape(refused.text)
    assert f'id="{beside}"' in refused.text and words in text
    assert 'action="/staff/security/password"' in refused.text  # the page, not the error page
    assert 'href="/" role="button"' not in refused.text
    assert "otpauth" not in refused.text
    assert limited_desk.get("/examiner/reviews", follow_redirects=False).status_code == 200
    # The right password was not checked: it is unchanged, and no secret was handed out.
    member = platform.projections.staff_by_email[EMAIL]
    assert accounts.staff_password_matches(platform.ctx, member, PASSWORD)
    app: Any = limited_desk.app
    assert app.state.second_factors.pending(member) is None


@pytest.mark.parametrize(
    ("language", "off", "on"),
    [
        (
            "fr",
            "Le second facteur était déjà désactivé : rien n'a changé.",
            "Le second facteur était déjà activé : rien n'a changé.",
        ),
        (
            "en",
            "The second factor was already off: nothing changed.",
            "The second factor was already on: nothing changed.",
        ),
    ],
)
def test_a_tab_left_behind_by_the_other_says_the_factor_was_already_on_or_off(
    platform: Platform, desk: TestClient[Any], language: str, off: str, on: str
) -> None:
    """A user's tour with the page in two tabs: the factor turned off in one, the other
    (still showing it on) sent a right code to turn it off and read « This code is not
    right, or was already used », 400, a wrong code counted against her; and set up in one,
    the other's « Set up » answered with the page and no word."""
    desk.get(f"/lang/{language}")
    clock: Any = platform.ctx.clock
    secret, _code = _turned_on(desk, clock)
    # The other tab, still showing « Set up a second factor »: her password again.
    again = _send(desk, "/second-factor", current=PASSWORD)
    assert again.status_code == 200 and on in html.unescape(again.text)
    assert "otpauth" not in again.text
    # One tab turns it off; the other, still showing it on, sends a code as well.
    clock.advance(seconds=30)
    code = pyotp.TOTP(secret).at(clock.now())
    assert _send(desk, "/second-factor/disable", code=code).status_code == 200
    clock.advance(seconds=30)
    stale = _send(desk, "/second-factor/disable", code=pyotp.TOTP(secret).at(clock.now()))
    assert stale.status_code == 200 and off in html.unescape(stale.text)
    assert 'id="security-error"' not in stale.text
    # Nothing counted: ten wrong passwords still go before the page stops checking.
    for _ in range(MAX_FAILURES):
        assert _change(desk, "not-the-password").status_code == 400
    assert _change(desk, "not-the-password").status_code == 429
