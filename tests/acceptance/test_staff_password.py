"""A password has one bound everywhere, and staff have a way back (a tester's tour, items 1, 3
and 21).

/staff/security and `vigie staff add` took a 2,000-character password that the log-in page
cut at 1,024 characters: the member was locked out for good, with no « forgot password » for
staff and a lock-out message telling them to « demandez un nouveau mot de passe », which they
could not. Now every way of setting a password refuses more than the log-in page takes, beside
the field, in the reader's language; an administrator gives a member a new password with
`vigie staff reset-password` (recorded as the administrator's act, every session of theirs
ended), which the staff log-in page names; and `reset-second-factor` with no second factor
changes nothing."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app.sessions import SessionPolicy
from domain.bounds import LIMITS
from domain.candidate import Candidate
from domain.staff import Role, StaffMember
from tests.acceptance.test_mail_language_and_portal_words import mails_to
from tests.acceptance.test_profile_birth_date import at_the_profile, profile
from tests.acceptance.web import (
    Browsers,
    candidate,
    form_token,
    log_in,
    plain,
    register_staff,
)
from ui.cli import main
from ui.journey import make_platform

PASSWORD = "examinateur-pass-1"
EMAIL = "eve@example.org"
LONGEST = LIMITS["password"]
TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "ui" / "web" / "templates"


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    made = make_platform(f"sqlite:///{tmp_path}/store.sqlite")  # the CLI opens it too
    yield made
    made.close()


@pytest.fixture
def examiner(platform: Platform) -> str:
    register_staff(platform, PASSWORD, {EMAIL: Role.EXAMINER}, name="Eve")
    platform.projections.catch_up(platform.ctx.store)
    return EMAIL


@pytest.fixture
def browser(platform: Platform) -> Iterator[Browsers]:
    """Browsers as test_sessions' are: many log-ins a minute from one address (the account's
    own limit is the one tested), the sessions' defaults whatever the environment says."""
    browsers = Browsers(platform, attempts_per_minute=10_000, session_policy=SessionPolicy())
    yield browsers
    browsers.close()


def _logged_in(client: TestClient[Any]) -> bool:
    return client.get("/examiner/reviews", follow_redirects=False).status_code == 200


def _log_in_as(desk: TestClient[Any], email: str, password: str) -> Any:
    """The staff log-in form sent, whatever its answer."""
    token = form_token(desk, "/staff/login")
    return desk.post(
        "/staff/login", data={"email": email, "password": password, "_csrf_token": token}
    )


def _new_password(desk: TestClient[Any], current: str, password: str) -> Any:
    """The security page's password form sent."""
    token = form_token(desk, "/staff/security")
    return desk.post(
        "/staff/security/password",
        data={"current": current, "password": password, "_csrf_token": token},
    )


def _cli(platform: Platform, monkeypatch: pytest.MonkeyPatch, stdin: str, *args: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin + "\n"))
    return main(["--database-url", str(platform.store.database_url), "staff", *args])


def test_every_password_field_takes_the_same_number_of_characters() -> None:
    """The log-in forms, the staff's security page, the candidate's reset link and portal
    profile: one `maxlength`, the table's (the security page had none)."""
    fields = {
        page.name: re.findall(r'<input[^>]*type="password"[^>]*>', page.read_text())
        for page in TEMPLATES.glob("*.html")
    }
    found = {name: inputs for name, inputs in fields.items() if inputs}
    assert set(found) >= {
        "staff_login.html",
        "login.html",
        "staff_security.html",
        "password.html",
        "_portal.html",
    }
    for name, inputs in found.items():
        for field in inputs:
            assert 'maxlength="{{ limits.password }}"' in field, (name, field)


@pytest.mark.parametrize(
    ("language", "said"),
    [
        (
            "fr",
            "Choisissez un mot de passe d'au plus 1 024 caractères : celui-ci en a 1 025, "
            "plus que la page de connexion n'en accepte.",
        ),
        (
            "en",
            "Choose a password of at most 1,024 characters: this one has 1,025, more than "
            "the log-in page takes.",
        ),
    ],
)
def test_a_new_staff_password_longer_than_the_log_in_takes_is_refused_beside_it(
    platform: Platform, examiner: str, browser: Browsers, language: str, said: str
) -> None:
    desk = browser.open(language=language)
    log_in(desk, "/staff/login", examiner, PASSWORD)
    page = desk.get("/staff/security").text
    assert re.search(rf'id="new-password"[^>]*maxlength="{LONGEST}"', page)
    position = platform.ctx.store.head()
    refused = _new_password(desk, PASSWORD, "x" * (LONGEST + 1))
    assert refused.status_code == 400
    assert (
        f'<small class="field-error" id="new-password-error" role="alert">{said}</small>'
        in plain(refused.text)
    )
    assert re.search(r'id="new-password"[^>]*aria-invalid="true"', refused.text)
    assert platform.ctx.store.head() == position  # nothing recorded
    assert _logged_in(desk)  # and the session goes on
    # The longest the log-in takes is set, and logs in.
    longest = "y" * LONGEST
    assert _new_password(desk, PASSWORD, longest).status_code == 200
    log_in(desk, "/staff/login", examiner, longest)
    assert _logged_in(desk)


def test_a_wrong_current_password_is_said_beside_its_field(
    examiner: str, browser: Browsers
) -> None:
    desk = browser.open()
    log_in(desk, "/staff/login", examiner, PASSWORD)
    wrong = _new_password(desk, "not-the-password", "another-pass-3")
    assert wrong.status_code == 400
    assert 'id="current-error" role="alert">Ce n\'est pas votre mot de passe actuel.' in (
        html.unescape(wrong.text)
    )


def test_the_command_line_refuses_a_password_the_log_in_cannot_take(
    platform: Platform,
    examiner: str,
    browser: Browsers,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    too_long = "z" * (LONGEST + 1)
    args = ("add", "long@example.org", "--name", "Long", "--role", "support")
    assert _cli(platform, monkeypatch, too_long, *args, "--password-stdin") == 2
    assert "password: keep it under 1,024 characters (1,025 given)" in capsys.readouterr().err
    assert _cli(platform, monkeypatch, too_long, "reset-password", EMAIL, "--password-stdin") == 2
    assert "password: keep it under 1,024 characters" in capsys.readouterr().err
    log_in(browser.open(), "/staff/login", examiner, PASSWORD)  # unchanged


def test_an_administrator_gives_a_member_a_new_password_and_their_sessions_end(
    platform: Platform,
    examiner: str,
    browser: Browsers,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    staff_id = platform.projections.staff_by_email[examiner]
    before = len(list(platform.ctx.store.history(staff_id)))
    desk, laptop = browser.open(), browser.open()
    log_in(desk, "/staff/login", examiner, PASSWORD)
    log_in(laptop, "/staff/login", examiner, PASSWORD)
    new = "un-nouveau-mot-2"
    assert _cli(platform, monkeypatch, new, "reset-password", examiner, "--password-stdin") == 0
    said = capsys.readouterr()
    assert f"{examiner}: password replaced; 2 session(s) ended" in said.out
    assert new not in said.out + said.err  # nothing secret on the screen
    assert not _logged_in(desk) and not _logged_in(laptop)
    assert _log_in_as(desk, examiner, PASSWORD).status_code == 401
    log_in(desk, "/staff/login", examiner, new)
    assert _logged_in(desk)
    # Recorded as the administrator's act, not as her own change (test_staff_resets_recorded).
    events = list(platform.ctx.store.history(staff_id))
    assert len(events) == before + 1
    assert isinstance(events[-1], StaffMember.StaffPasswordResetByAdministrator)
    assert new not in repr(events[-1])
    # An address with no account is said, and nothing is asked.
    assert _cli(platform, monkeypatch, new, "reset-password", "no@example.org") == 2
    assert "no staff account 'no@example.org'" in capsys.readouterr().err


def test_reset_second_factor_without_one_changes_nothing(
    platform: Platform,
    examiner: str,
    browser: Browsers,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    staff_id = platform.projections.staff_by_email[examiner]
    desk = browser.open()
    factors = desk.app.state.second_factors
    factors.begin(staff_id)  # one being set up, never confirmed: log-in does not ask for it
    log_in(desk, "/staff/login", examiner, PASSWORD)
    assert _cli(platform, monkeypatch, "", "reset-second-factor", examiner) == 1
    assert f"{examiner} had no second factor; nothing changed" in capsys.readouterr().out
    assert _logged_in(desk)  # the session goes on
    assert platform.sessions.second_factor(staff_id) is not None  # the set-up too
    # One enabled is removed, and the sessions end, as before.
    secret = factors.begin(staff_id)
    assert factors.confirm(staff_id, pyotp.TOTP(secret).at(platform.ctx.clock.now()))
    assert _cli(platform, monkeypatch, "", "reset-second-factor", examiner) == 0
    assert "second factor removed; 1 session(s) ended" in capsys.readouterr().out
    assert not factors.enabled(staff_id) and not _logged_in(desk)


@pytest.mark.parametrize(
    ("language", "wrong", "throttled"),
    [
        (
            "fr",
            "E-mail ou mot de passe incorrect. Mot de passe oublié ? Demandez-en un nouveau à "
            "l'administrateur de la plateforme.",
            "Trop de tentatives de connexion échouées pour ce compte depuis ce navigateur ou ce "
            "réseau. Réessayez dans 15 minutes. Mot de passe oublié ? Demandez-en un nouveau",
        ),
        (
            "en",
            "Wrong e-mail or password. Forgot your password? Ask the platform's administrator "
            "for a new one.",
            "Too many failed log-ins for this account from this browser or network. Try again in "
            "15 minutes. Forgot your password? Ask the platform's administrator",
        ),
    ],
)
def test_the_staff_log_in_says_who_gives_a_new_password(
    examiner: str, browser: Browsers, language: str, wrong: str, throttled: str
) -> None:
    desk = browser.open(language=language)
    page = plain(desk.get("/staff/login").text)
    assert 'id="forgotten"' in page and "reset-password" not in page  # no tool named
    replies = [_log_in_as(desk, examiner, "wrong-password") for _ in range(11)]
    assert replies[0].status_code == 401 and wrong in plain(replies[0].text)
    assert replies[-1].status_code == 429 and throttled in plain(replies[-1].text)
    assert "demandez un nouveau mot de passe" not in replies[-1].text
    assert "or ask for a new password" not in replies[-1].text


def test_a_candidates_reset_link_refuses_a_long_password_on_its_form(
    platform: Platform, browser: Browsers
) -> None:
    candidate(platform, "fr@example.org")
    welcome = mails_to(platform, "fr@example.org")[-1]
    token = welcome.text.split("/password/reset?t=")[1].split()[0].replace("%3A", ":")
    client = browser.open()
    refused = client.post(
        "/password/reset",
        data={
            "token": token,
            "password": "w" * (LONGEST + 1),
            "_csrf_token": form_token(client, f"/password/reset?t={token}"),
        },
    )
    assert refused.status_code == 400
    assert (
        '<small class="field-error" id="password-error">Choisissez un mot de passe '
        "d'au plus 1 024 caractères : celui-ci en a 1 025"
    ) in plain(refused.text)
    assert f'name="token" value="{token}"' in html.unescape(refused.text)  # form kept


def test_the_portal_profile_refuses_a_long_password_beside_its_field(
    platform: Platform, browser: Browsers
) -> None:
    journey, client, page = at_the_profile(platform, browser, "en")
    fragment = client.post(
        f"{page}/profile",
        data={
            "_csrf_token": form_token(client, page),
            **profile("en@example.org", "1990-05-17", password="v" * (LONGEST + 1)),
        },
        headers={"x-vigie-fragment": "1"},
    )
    assert fragment.status_code == 409
    assert 'data-field="password"' in fragment.text
    assert "“Password” is too long: keep it under 1,024 characters" in plain(fragment.text)
    assert journey.candidate_id is not None
    assert not platform.ctx.store.get(journey.candidate_id, Candidate).profile_complete


def test_a_member_who_signs_in_through_the_provider_gets_a_password_only_by_name(
    platform: Platform,
    examiner: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A reviewer's: for a member linked to the organisation's provider (single sign-on), a
    Vigie password would bypass the provider's second factor and leavers' list. Refused
    unless asked for with --force; nothing is recorded before."""
    staff_id = platform.projections.staff_by_email[examiner]
    member = platform.ctx.store.get(staff_id, StaffMember)
    member.link_to_provider(
        issuer="https://idp.example.org",
        subject="eve",
        group="examiners",
        role=member.role,
        centre_id=None,
        at=platform.ctx.now(),
    )
    platform.ctx.store.save(member)
    before = len(list(platform.ctx.store.history(staff_id)))
    new = "un-nouveau-mot-3"
    assert _cli(platform, monkeypatch, new, "reset-password", examiner, "--password-stdin") == 2
    said = capsys.readouterr().err
    assert "signs in through the organisation's provider (https://idp.example.org)" in said
    assert len(list(platform.ctx.store.history(staff_id))) == before
    forced = ("reset-password", examiner, "--password-stdin", "--force")
    assert _cli(platform, monkeypatch, new, *forced) == 0
    assert len(list(platform.ctx.store.history(staff_id))) == before + 1


def test_after_her_new_password_she_logs_in_again_back_to_the_security_page(
    examiner: str, browser: Browsers
) -> None:
    """A user's tour: the password changed, the log-in it shows took her to her reviews, not
    back to the page she was on (to set up a second factor next, or read the change in its
    history), as a tab whose session had ended does."""
    desk = browser.open()
    log_in(desk, "/staff/login", examiner, PASSWORD)
    changed = _new_password(desk, PASSWORD, "another-pass-3")
    assert changed.status_code == 200
    assert '<input type="hidden" name="next" value="/staff/security">' in changed.text
    token = form_token(desk, "/staff/login")
    back = desk.post(
        "/staff/login",
        data={
            "email": examiner,
            "password": "another-pass-3",
            "next": "/staff/security",
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert back.headers["location"] == "/staff/security"
