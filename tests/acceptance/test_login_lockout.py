"""Security findings F7 and F8 through the real app (Litestar's test client; each client one
browser, its address set per request as a proxy in front of the platform would give it).

F7: wrong passwords are counted per account and place (ten per address in fifteen minutes)
and per account from everywhere (a hundred); the ceiling shuts only the browsers the account
was never used from: a browser it logged in from, or one where its reset link was used (R24),
still gets in. The refusal says when to try again, in the reader's language, and says the same
for an address nobody registered. The counts are shared by every node (PostgreSQL).
F8: setting up a second factor asks for the member's current password, in the same session,
within ten minutes of the first code."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from litestar.testing import TestClient
from litestar.types import ASGIApp, Receive, Scope, Send

from adapters.bootstrap import Platform, Settings, bootstrap
from app.login_throttle import Attempt, Place
from app.mail_rendering import SupportContact
from app.sessions import SessionPolicy
from app.use_cases import accounts
from domain.candidate import Account
from domain.staff import Role
from tests.acceptance.web import form_token, register_staff
from ui.journey import Journey, make_platform
from ui.web.app import create_app

SECRET = b"k" * 32
PASSWORD = "candidat-pass-1"
EMAIL = "camille@example.org"
STAFF_EMAIL = "eve@example.org"
ADDRESS = "x-test-client-address"  # the test's stand-in for the address a proxy reports
_ALERT = re.compile(r'role="alert"[^>]*>\s*(?:<p>)?([^<]+)<')


def _from_address(app: ASGIApp) -> ASGIApp:
    """Each request's client address from the test's header: one test client plays browsers
    on many networks (the test client's own address is always "testclient")."""

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name.decode() == ADDRESS:
                    scope["client"] = (value.decode(), 40000)  # type: ignore[typeddict-unknown-key]
        await app(scope, receive, send)

    return handle


def _app(platform: Platform) -> Any:
    app = create_app(
        platform,
        secret=SECRET,
        support=SupportContact(),
        # Many log-ins from one test client: the per-address form limit (Litestar's, tested
        # elsewhere) stays out of the way; the counts of failures are what is tested.
        attempts_per_minute=100_000,
        session_policy=SessionPolicy(),
    )
    app.asgi_handler = _from_address(app.asgi_handler)
    return app


@pytest.fixture
def platform() -> Iterator[Platform]:
    made = make_platform("memory:")
    yield made
    made.close()


@pytest.fixture
def camille(platform: Platform) -> Journey:
    journey = Journey(platform, email=EMAIL)
    journey.enrol()
    journey.set_password(PASSWORD)
    platform.projections.catch_up(platform.ctx.store)
    return journey


def _log_in(
    browser: TestClient[Any],
    address: str,
    password: str,
    *,
    email: str = EMAIL,
    path: str = "/login",
) -> Any:
    return browser.post(
        path,
        data={"email": email, "password": password, "_csrf_token": form_token(browser, path)},
        headers={ADDRESS: address},
        follow_redirects=False,
    )


def _said(reply: Any) -> str:
    found = _ALERT.search(reply.text)
    # French puts a no-break space before some signs (« oublié ? »): read as a space here.
    return html.unescape(found.group(1)).replace("\xa0", " ").strip() if found else ""


def _guessed_from_everywhere(app: Any, email: str, *, path: str = "/login") -> None:
    """A hundred wrong passwords from a hundred addresses (a botnet's): five through the form,
    the others given to the throttle directly (each form post costs a password hash; the
    served test, tests/concurrency/test_login_lockout_served.py, sends all of them)."""
    with TestClient(app) as guesser:
        for n in range(5):
            reply = _log_in(guesser, f"198.51.100.{n}", f"guess-{n}", email=email, path=path)
            assert reply.status_code == 401, reply.text
    area = "staff" if path == "/staff/login" else "candidate"
    for n in range(5, 100):
        # Each a wrong password let through to be checked: its claimed attempt stays a failure.
        assert isinstance(
            app.state.throttle.attempt(email, area, Place(f"198.51.100.{n}")), Attempt
        )


def test_ten_failures_from_one_address_stop_it_and_no_one_else(
    platform: Platform, camille: Journey
) -> None:
    app = _app(platform)
    with TestClient(app) as guesser, TestClient(app) as laptop:
        replies = [_log_in(guesser, "203.0.113.7", f"guess-{n}") for n in range(10)]
        assert [r.status_code for r in replies] == [401] * 10
        stopped = _log_in(guesser, "203.0.113.7", PASSWORD)  # even the right password
        assert stopped.status_code == 429
        assert stopped.headers["retry-after"] == "900"
        assert _said(stopped) == (
            "Trop de tentatives de connexion échouées pour ce compte depuis ce navigateur ou ce "
            "réseau. Réessayez dans 15 minutes. Vous pouvez aussi demander un nouveau mot de "
            "passe."
        )
        # Camille, at home, is not locked out by it (issue 14's lock was per account).
        assert _log_in(laptop, "192.0.2.10", PASSWORD).status_code == 302
        camille.clock.advance(minutes=6)
        later = _log_in(guesser, "203.0.113.7", PASSWORD)
        assert later.status_code == 429 and later.headers["retry-after"] == "540"
        assert "Réessayez dans 9 minutes." in _said(later)
        camille.clock.advance(minutes=9)  # a window, never a lock for ever
        assert _log_in(guesser, "203.0.113.7", PASSWORD).status_code == 302


def test_the_accounts_ceiling_spares_the_browser_she_logged_in_from(
    platform: Platform, camille: Journey
) -> None:
    app = _app(platform)
    with TestClient(app) as laptop:
        assert _log_in(laptop, "192.0.2.10", PASSWORD).status_code == 302
        _guessed_from_everywhere(app, EMAIL)
        with TestClient(app) as stranger:
            shut = _log_in(stranger, "192.0.2.99", PASSWORD)
            assert shut.status_code == 429 and shut.headers["retry-after"] == "900"
            assert _said(shut).startswith(
                "Trop de tentatives de connexion échouées pour ce compte, depuis de nombreux "
                "endroits : pour le protéger, il ne s'ouvre plus que dans un navigateur depuis "
                "lequel il a déjà été utilisé. Réessayez dans 15 minutes."
            )
            stranger.get("/lang/en")
            said = _said(_log_in(stranger, "192.0.2.99", PASSWORD))
            assert said == (
                "Too many failed log-ins for this account, from many places: to protect it, it "
                "opens only in a browser it was used from before. Try again in 15 minutes. Or "
                "ask for a new password: its link lets you in from this browser."
            )
        # Her laptop logs in, at home and from a café's network (its cookie, not its address).
        assert _log_in(laptop, "192.0.2.10", PASSWORD).status_code == 302
        assert _log_in(laptop, "198.18.7.7", PASSWORD).status_code == 302
        # A cookie of its own making is no key.
        with TestClient(app, cookies={"vigie_device": "forged"}) as forger:
            assert _log_in(forger, "192.0.2.10", PASSWORD).status_code == 429


def test_an_address_nobody_registered_is_refused_in_the_same_words(
    platform: Platform, camille: Journey
) -> None:
    app = _app(platform)
    _guessed_from_everywhere(app, EMAIL)
    _guessed_from_everywhere(app, "nobody@example.org")
    with TestClient(app) as stranger:
        known = _log_in(stranger, "192.0.2.99", PASSWORD)
        unknown = _log_in(stranger, "192.0.2.99", PASSWORD, email="nobody@example.org")
    assert known.status_code == unknown.status_code == 429
    assert known.headers["retry-after"] == unknown.headers["retry-after"]
    assert _said(known) == _said(unknown) != ""


def test_a_reset_link_used_in_a_browser_lets_it_in_past_the_ceiling(
    platform: Platform, camille: Journey
) -> None:
    app = _app(platform)
    _guessed_from_everywhere(app, EMAIL)
    with TestClient(app) as phone, TestClient(app) as other:
        assert _log_in(phone, "192.0.2.50", PASSWORD).status_code == 429
        accounts.request_password_reset(
            platform.ctx, platform.projections, email=EMAIL, account=Account.PROCTORING
        )
        platform.settle()
        mail = [m for m in platform.mailer.to(EMAIL) if "/password/reset?t=" in m.text][-1]  # type: ignore[attr-defined]
        token = mail.text.split("/password/reset?t=")[1].split()[0].replace("%3A", ":")
        done = phone.post(
            "/password/reset",
            data={
                "token": token,
                "password": "a-new-pass-2",
                "_csrf_token": form_token(phone, f"/password/reset?t={token}"),
            },
            headers={ADDRESS: "192.0.2.50"},
        )
        assert done.status_code == 200
        assert _log_in(phone, "192.0.2.50", "a-new-pass-2").status_code == 302
        # Another browser still waits out the ceiling.
        assert _log_in(other, "192.0.2.51", "a-new-pass-2").status_code == 429


def test_a_member_of_staff_is_spared_too_after_her_code(platform: Platform) -> None:
    """Staff: the browser becomes known once the whole log-in succeeded (password and code)."""
    register_staff(platform, PASSWORD, {STAFF_EMAIL: Role.EXAMINER}, name="Eve")
    platform.projections.catch_up(platform.ctx.store)
    app = _app(platform)
    staff_id = platform.projections.staff_by_email[STAFF_EMAIL]
    factors = app.state.second_factors
    totp = pyotp.TOTP(factors.begin(staff_id))
    assert factors.confirm(staff_id, totp.at(platform.ctx.clock.now()))
    with TestClient(app) as desk:
        password_step = _log_in(
            desk, "192.0.2.10", PASSWORD, email=STAFF_EMAIL, path="/staff/login"
        )
        assert password_step.headers["location"] == "/staff/login/code"
        assert "vigie_device" not in desk.cookies  # the password alone makes no browser known
        platform.ctx.clock.advance(seconds=31)  # type: ignore[attr-defined]
        code = desk.post(
            "/staff/login/code",
            data={
                "code": totp.at(platform.ctx.clock.now()),
                "_csrf_token": form_token(desk, "/staff/login/code"),
            },
            follow_redirects=False,
        )
        assert code.status_code == 302 and "vigie_device" in desk.cookies
        _guessed_from_everywhere(app, STAFF_EMAIL, path="/staff/login")
        with TestClient(app) as stranger:
            shut = _log_in(stranger, "192.0.2.99", PASSWORD, email=STAFF_EMAIL, path="/staff/login")
            assert shut.status_code == 429
            assert _said(shut).endswith(
                "Réessayez dans 15 minutes. Mot de passe oublié ? Demandez-en un nouveau à "
                "l'administrateur de la plateforme."
            )
        again = _log_in(desk, "192.0.2.10", PASSWORD, email=STAFF_EMAIL, path="/staff/login")
        assert again.status_code == 302 and again.headers["location"] == "/staff/login/code"


@pytest.mark.postgres
def test_two_nodes_count_the_same_failures(postgres_url: str) -> None:
    """Two web apps on one PostgreSQL store, as two machines: five failures on each make ten
    for that address, and both refuse the next."""
    settings = Settings(
        database_url=postgres_url, media_root=None, secret_key="s" * 64, launcher="memory"
    )
    platform = bootstrap(settings)
    try:
        Journey(platform, email=EMAIL).enrol()
        platform.projections.catch_up(platform.ctx.store)
        with TestClient(_app(platform)) as first, TestClient(_app(platform)) as second:
            for node in (first, second):
                for n in range(5):
                    assert _log_in(node, "203.0.113.7", f"guess-{n}").status_code == 401
            assert _log_in(first, "203.0.113.7", "x").status_code == 429
            assert _log_in(second, "203.0.113.7", "x").status_code == 429
    finally:
        platform.close()


def _totp_secret(page: str) -> str | None:
    found = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
    return found.group(1) if found else None


@pytest.mark.parametrize(
    ("language", "wrong", "again"),
    [
        (
            "fr",
            "Ce n'est pas votre mot de passe actuel.",
            "Saisissez de nouveau votre mot de passe actuel pour configurer le second facteur",
        ),
        (
            "en",
            "Your current password is not this one.",
            "Type your current password again to set up the second factor",
        ),
    ],
)
def test_setting_up_a_second_factor_asks_for_the_current_password(
    platform: Platform, language: str, wrong: str, again: str
) -> None:
    """F8: someone at a session left open cannot bind their own authenticator app."""
    register_staff(platform, PASSWORD, {STAFF_EMAIL: Role.EXAMINER}, name="Eve")
    platform.projections.catch_up(platform.ctx.store)
    staff_id = platform.projections.staff_by_email[STAFF_EMAIL]
    clock = platform.ctx.clock
    with TestClient(_app(platform)) as desk:
        desk.get(f"/lang/{language}")
        logged_in = _log_in(desk, "192.0.2.10", PASSWORD, email=STAFF_EMAIL, path="/staff/login")
        assert logged_in.status_code == 302

        def post(path: str, **fields: str) -> Any:
            token = form_token(desk, "/staff/security")
            return desk.post(f"/staff/security{path}", data={**fields, "_csrf_token": token})

        for typed in ({}, {"current": "not-her-password"}):
            refused = post("/second-factor", **typed)
            assert refused.status_code == 400 and _totp_secret(refused.text) is None
            assert _said(refused) == wrong
        # Straight to the confirmation: no secret shown, none made.
        blind = post("/second-factor/confirm", code="123456")
        assert blind.status_code == 400 and _totp_secret(blind.text) is None
        assert again in _said(blind)
        assert platform.sessions.second_factor(staff_id) is None
        # With her password: the secret; its first code is awaited ten minutes at most.
        secret = _totp_secret(post("/second-factor", current=PASSWORD).text)
        assert secret is not None
        clock.advance(minutes=11)  # type: ignore[attr-defined]
        late = post("/second-factor/confirm", code=pyotp.TOTP(secret).at(clock.now()))
        assert late.status_code == 400 and _totp_secret(late.text) is None
        assert not desk.app.state.second_factors.enabled(staff_id)
        assert _totp_secret(post("/second-factor", current=PASSWORD).text) == secret  # kept
        on = post("/second-factor/confirm", code=pyotp.TOTP(secret).at(clock.now()))
        assert on.status_code == 200 and desk.app.state.second_factors.enabled(staff_id)
