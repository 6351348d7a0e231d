"""Issue 14: sessions kept on the server, revocable. A logout, a new password or a reset end
sessions for good (a replayed cookie is refused), log-in issues a new id and CSRF token,
staff sessions end when idle, failed log-ins are throttled per account, and staff can add a
second factor (TOTP). Through the real app in Litestar's test client: each client is one
browser; the store is memory, SQLite or PostgreSQL where the store matters."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from adapters.clock import ManualClock
from app.sessions import SessionPolicy, session_key
from app.use_cases import accounts
from domain.staff import Role
from tests.acceptance.web import form_token, log_in, register_staff
from ui.journey import Journey, make_platform
from ui.web.app import create_app

SECRET = b"s" * 32
PASSWORD = "candidat-pass-1"
STAFF_EMAIL = "eve@example.org"


@pytest.fixture
def platform(request: pytest.FixtureRequest) -> Iterator[Platform]:
    url = getattr(request, "param", "memory:")
    if url == "postgres":
        url = request.getfixturevalue("postgres_url")
    elif url == "sqlite":
        url = f"sqlite:///{request.getfixturevalue('tmp_path')}/store.sqlite"
    made = make_platform(url)
    yield made
    made.close()


@pytest.fixture
def candidate(platform: Platform) -> Journey:
    journey = Journey(platform, email="camille@example.org")
    journey.enrol()
    journey.set_password(PASSWORD)
    platform.projections.catch_up(platform.ctx.store)
    return journey


@pytest.fixture
def examiner(platform: Platform) -> str:
    register_staff(platform, PASSWORD, {STAFF_EMAIL: Role.EXAMINER}, name="Eve")
    platform.projections.catch_up(platform.ctx.store)
    return STAFF_EMAIL


def _app(platform: Platform) -> Any:
    # Many log-ins from one test client: as if from many addresses (the per-address limit
    # is Litestar's own and tested elsewhere); the per-account limit is ours.
    return create_app(
        platform,
        secret=SECRET,
        support=_support(),
        attempts_per_minute=10_000,
        session_policy=SessionPolicy(),  # the defaults, whatever the environment says
    )


def _support() -> Any:
    from app.mail_rendering import SupportContact

    return SupportContact()


def _browser(app: Any) -> TestClient[Any]:
    return TestClient(app)


def _is_logged_out(client: TestClient[Any], path: str = "/exams") -> bool:
    reply = client.get(path, follow_redirects=False)
    where = urlsplit(reply.headers.get("location", "")).path  # its `?next=` aside
    return reply.status_code in (302, 303) and where.endswith("login")


@pytest.mark.parametrize(
    "platform",
    ["memory:", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_logout_ends_the_session_and_its_cookie_replayed_is_refused(
    platform: Platform, candidate: Journey
) -> None:
    app = _app(platform)
    with _browser(app) as browser, _browser(app) as thief:
        log_in(browser, "/login", candidate.email, PASSWORD)
        stolen = browser.cookies["vigie_session"]
        thief.cookies.set("vigie_session", stolen)
        assert thief.get("/exams", follow_redirects=False).status_code == 200
        browser.post("/logout", data={"_csrf_token": form_token(browser, "/exams")})
        assert _is_logged_out(browser)
        assert _is_logged_out(thief)  # the old cookie, replayed
        assert platform.sessions.get(session_key(stolen), platform.ctx.clock.now()) is None


def test_the_cookie_holds_an_opaque_id_and_the_store_only_its_hash(
    platform: Platform, candidate: Journey
) -> None:
    with _browser(_app(platform)) as browser:
        log_in(browser, "/login", candidate.email, PASSWORD)
        cookie = browser.cookies["vigie_session"]
        now = platform.ctx.clock.now()
        assert platform.sessions.get(cookie, now) is None
        kept = platform.sessions.get(session_key(cookie), now)
        assert kept is not None and kept.account == f"candidate:{candidate.candidate_id}"
        assert str(candidate.candidate_id) not in cookie and len(cookie) >= 40


def test_log_in_issues_a_new_session_id_and_a_new_csrf_token(
    platform: Platform, candidate: Journey
) -> None:
    with _browser(_app(platform)) as browser:
        browser.get("/lang/en")  # a visitor's session, as an attacker could plant one
        planted = browser.cookies["vigie_session"]
        csrf_before = browser.cookies["vigie_csrf"]
        reply = browser.post(
            "/login",
            data={
                "email": candidate.email,
                "password": PASSWORD,
                "_csrf_token": form_token(browser, "/login"),
            },
            follow_redirects=False,
        )
        assert reply.status_code in (302, 303)
        assert browser.cookies["vigie_session"] != planted
        assert browser.cookies["vigie_csrf"] != csrf_before
        assert platform.sessions.get(session_key(planted), platform.ctx.clock.now()) is None
        assert browser.get("/exams", follow_redirects=False).status_code == 200
        assert 'lang="en"' in browser.get("/exams").text  # what the visitor chose is kept
    with _browser(_app(platform)) as attacker:
        attacker.cookies.set("vigie_session", planted)
        assert _is_logged_out(attacker)


@pytest.mark.parametrize(
    "platform", ["memory:", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_password_reset_ends_every_session_of_the_candidate(
    platform: Platform, candidate: Journey
) -> None:
    app = _app(platform)
    with (
        _browser(app) as laptop,
        _browser(app) as phone,
        _browser(create_app(platform, secret=SECRET, support=_support())) as other_worker,
    ):
        for browser in (laptop, phone, other_worker):
            log_in(browser, "/login", candidate.email, PASSWORD)
        candidate.set_password("a-new-password-2")
        assert _is_logged_out(laptop) and _is_logged_out(phone) and _is_logged_out(other_worker)
        log_in(laptop, "/login", candidate.email, "a-new-password-2")
        assert not _is_logged_out(laptop)


def test_a_staff_password_change_ends_the_other_browsers_session(
    platform: Platform, examiner: str
) -> None:
    app = _app(platform)
    with _browser(app) as desk, _browser(app) as laptop:
        log_in(desk, "/staff/login", examiner, PASSWORD)
        log_in(laptop, "/staff/login", examiner, PASSWORD)
        wrong = desk.post(
            "/staff/security/password",
            data={
                "current": "not-the-password",
                "password": "another-pass-3",
                "_csrf_token": form_token(desk, "/staff/security"),
            },
        )
        assert wrong.status_code == 400 and "mot de passe actuel" in wrong.text
        assert not _is_logged_out(laptop, "/examiner/reviews")
        changed = desk.post(
            "/staff/security/password",
            data={
                "current": PASSWORD,
                "password": "another-pass-3",
                "_csrf_token": form_token(desk, "/staff/security"),
            },
        )
        assert changed.status_code == 200 and "Reconnectez-vous" in changed.text
        assert _is_logged_out(laptop, "/examiner/reviews")
        assert _is_logged_out(desk, "/examiner/reviews")
        log_in(laptop, "/staff/login", examiner, "another-pass-3")
        assert not _is_logged_out(laptop, "/examiner/reviews")


def test_a_staff_session_ends_when_idle_and_a_candidates_lasts_longer(
    platform: Platform, examiner: str, candidate: Journey
) -> None:
    app = _app(platform)
    clock = candidate.clock
    with _browser(app) as staff, _browser(app) as camille:
        log_in(staff, "/staff/login", examiner, PASSWORD)
        log_in(camille, "/login", candidate.email, PASSWORD)
        clock.advance(minutes=25)
        assert not _is_logged_out(staff, "/examiner/reviews")  # active: pushed back
        clock.advance(minutes=29)
        assert not _is_logged_out(staff, "/examiner/reviews")
        clock.advance(minutes=31)  # 31 minutes without a request
        assert _is_logged_out(staff, "/examiner/reviews")
        assert not _is_logged_out(camille)  # 85 minutes: a candidate's is longer
        clock.advance(hours=11)
        platform.tick()  # the worker purges what is over
        assert _is_logged_out(camille)  # past the absolute end (12 h)
        assert platform.sessions.purge(clock.now()) == 0  # nothing left to purge


def test_ten_failed_log_ins_throttle_an_account_for_a_while_known_or_not(
    platform: Platform, candidate: Journey
) -> None:
    with _browser(_app(platform)) as browser:
        for email in (candidate.email, "nobody@example.org"):
            for _ in range(10):
                reply = browser.post(
                    "/login",
                    data={
                        "email": email,
                        "password": "wrong-password",
                        "_csrf_token": form_token(browser, "/login"),
                    },
                )
                assert reply.status_code == 401
            refused = browser.post(
                "/login",
                data={
                    "email": email.upper(),  # the same account, typed otherwise
                    "password": PASSWORD,
                    "_csrf_token": form_token(browser, "/login"),
                },
            )
            assert refused.status_code == 429
            assert refused.headers["retry-after"] == "900"  # the throttle's 15 minutes
            assert "Trop de tentatives" in refused.text
        candidate.clock.advance(minutes=16)  # a window, never a lock for ever
        log_in(browser, "/login", candidate.email, PASSWORD)


def _totp_secret(page: str) -> str:
    found = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
    assert found is not None, page
    return found.group(1)


def test_a_member_of_staff_enables_totp_then_logs_in_with_a_code_used_once(
    platform: Platform, examiner: str
) -> None:
    app = _app(platform)
    clock = platform.ctx.clock
    with _browser(app) as desk:
        log_in(desk, "/staff/login", examiner, PASSWORD)
        setup = desk.post(
            "/staff/security/second-factor",
            data={"current": PASSWORD, "_csrf_token": form_token(desk, "/staff/security")},
        )
        assert 'src="data:image/svg+xml' in setup.text
        secret = _totp_secret(setup.text)
        totp = pyotp.TOTP(secret)
        refused = desk.post(
            "/staff/security/second-factor/confirm",
            data={"code": "000000", "_csrf_token": form_token(desk, "/staff/security")},
        )
        assert refused.status_code == 400 and _totp_secret(refused.text) == secret
        confirmed = desk.post(
            "/staff/security/second-factor/confirm",
            data={"code": totp.at(clock.now()), "_csrf_token": form_token(desk, "/staff/security")},
        )
        assert confirmed.status_code == 200 and "second facteur est activé" in confirmed.text
    for event in platform.ctx.store.history(platform.projections.staff_by_email[examiner]):
        assert secret not in repr(event)  # never in the append-only log
    platform.ctx.clock.advance(seconds=31)  # type: ignore[attr-defined]
    code = totp.at(clock.now())
    with _browser(app) as desk, _browser(app) as replay:
        for browser in (desk, replay):
            log_in(browser, "/staff/login", examiner, PASSWORD)  # the password step
            assert _is_logged_out(browser, "/examiner/reviews")  # not yet
        wrong = desk.post(
            "/staff/login/code",
            data={
                "code": "123456" if code != "123456" else "654321",
                "_csrf_token": form_token(desk, "/staff/login/code"),
            },
        )
        assert wrong.status_code == 401 and "pas le bon" in wrong.text
        right = desk.post(
            "/staff/login/code",
            data={"code": code, "_csrf_token": form_token(desk, "/staff/login/code")},
            follow_redirects=False,
        )
        assert right.headers["location"] == "/examiner/reviews"
        assert not _is_logged_out(desk, "/examiner/reviews")
        reused = replay.post(
            "/staff/login/code",
            data={"code": code, "_csrf_token": form_token(replay, "/staff/login/code")},
        )
        assert reused.status_code == 401
        assert _is_logged_out(replay, "/examiner/reviews")
        # Turning it off needs a current code (a stolen session alone cannot).
        kept = desk.post(
            "/staff/security/second-factor/disable",
            data={"code": code, "_csrf_token": form_token(desk, "/staff/security")},
        )
        assert kept.status_code == 400
        platform.ctx.clock.advance(seconds=31)  # type: ignore[attr-defined]
        off = desk.post(
            "/staff/security/second-factor/disable",
            data={"code": totp.at(clock.now()), "_csrf_token": form_token(desk, "/staff/security")},
        )
        assert off.status_code == 200
    with _browser(app) as desk:
        log_in(desk, "/staff/login", examiner, PASSWORD)
        assert not _is_logged_out(desk, "/examiner/reviews")


def test_wrong_second_factor_codes_are_throttled(platform: Platform, examiner: str) -> None:
    staff_id = platform.projections.staff_by_email[examiner]
    factors = _app(platform).state.second_factors
    secret = factors.begin(staff_id)
    assert factors.confirm(staff_id, pyotp.TOTP(secret).at(platform.ctx.clock.now()))
    with _browser(_app(platform)) as desk:
        log_in(desk, "/staff/login", examiner, PASSWORD)
        statuses = [
            desk.post(
                "/staff/login/code",
                data={"code": "999999", "_csrf_token": form_token(desk, "/staff/login/code")},
            ).status_code
            for _ in range(11)
        ]
        assert statuses == [401] * 10 + [429]


@pytest.mark.parametrize("platform", ["sqlite"], indirect=True)
def test_support_resets_a_lost_second_factor_from_the_command_line(
    platform: Platform, examiner: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from ui.cli import main

    staff_id = platform.projections.staff_by_email[examiner]
    factors = _app(platform).state.second_factors
    assert factors.confirm(
        staff_id, pyotp.TOTP(factors.begin(staff_id)).at(platform.ctx.clock.now())
    )
    with _browser(_app(platform)) as desk:
        log_in(desk, "/staff/login", examiner, PASSWORD)
        url = str(platform.store.database_url)
        assert main(["--database-url", url, "staff", "reset-second-factor", examiner]) == 0
        assert "second factor removed; 1 session(s) ended" in capsys.readouterr().out
        assert not factors.enabled(staff_id)
        assert _is_logged_out(desk, "/staff/login/code")  # the half-done log-in ended too
    assert main(["--database-url", url, "staff", "reset-second-factor", "no@example.org"]) == 2


_FORM_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')
STAFF_HOMES = {
    Role.EXAMINER: "/examiner/reviews",
    Role.CENTRE: "/operator",
    Role.SUPPORT: "/hotline",
    Role.AUDITOR: "/auditor",
}


@pytest.mark.parametrize(
    "platform",
    ["memory:", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
)
@pytest.mark.parametrize("role", list(STAFF_HOMES))
def test_an_unknown_address_is_drawn_for_the_member_logged_in_with_their_log_out(
    platform: Platform, role: Role
) -> None:
    """Litestar answers an address no route knows before the session's middleware: the 404
    page was drawn as for no one, without « Sécurité » nor « Se déconnecter », to a member
    of staff logged in (a user's tour). It reads their session now (read only), and its
    « Se déconnecter » works: its token is the browser's."""
    email = f"{role.value}@example.org"
    accounts.register_staff(platform.ctx, email=email, name="Eve", role=role, password=PASSWORD)
    with _browser(_app(platform)) as browser:
        log_in(browser, "/staff/login", email, PASSWORD)
        session = browser.cookies["vigie_session"]
        for answer in (browser.get("/no/such/page"), browser.put(STAFF_HOMES[role])):
            assert answer.status_code in (404, 405), answer.status_code
            assert 'action="/logout"' in answer.text and 'href="/staff/security"' in answer.text
        assert browser.cookies["vigie_session"] == session  # nothing written nor renewed
        page = browser.get("/nowhere")
        token = _FORM_TOKEN.search(page.text)
        assert token is not None
        out = browser.post("/logout", data={"_csrf_token": token.group(1)}, follow_redirects=False)
        assert out.status_code in (302, 303), out.text[-300:]
        assert _is_logged_out(browser, STAFF_HOMES[role])
        assert 'action="/logout"' not in browser.get("/nowhere").text


def test_an_unknown_address_without_a_living_session_is_drawn_for_no_one(
    platform: Platform, examiner: str
) -> None:
    """No cookie, a forged one, one whose session ended: the 404 page, for no one, never a
    500; nor does a missing file under /static/, which no session is read for."""
    with _browser(_app(platform)) as browser:
        for cookie in (None, "forged", "x" * 4_000, "%00%ff"):
            if cookie is not None:
                browser.cookies.set("vigie_session", cookie)
            page = browser.get("/no/such/page")
            assert page.status_code == 404 and 'action="/logout"' not in page.text, cookie
        browser.cookies.clear()
        log_in(browser, "/staff/login", examiner, PASSWORD)
        assert 'action="/logout"' in browser.get("/no/such/page").text
        clock = platform.ctx.clock
        assert isinstance(clock, ManualClock)
        clock.advance(minutes=31)  # past a staff session's idle end
        page = browser.get("/no/such/page")
        assert page.status_code == 404 and 'action="/logout"' not in page.text
        assert browser.get("/static/nowhere.css").status_code == 404
