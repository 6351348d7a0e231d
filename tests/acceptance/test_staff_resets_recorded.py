"""An administrator's reset of a member's password or second factor is the administrator's act
in the log, naming them; the member's own change stays hers (a reviewer's finding).

`vigie staff reset-password` recorded the same `StaffPasswordSet` fact as the member's own
change at /staff/security: years later nobody could tell whether she changed her password or
an administrator reset it, nor who did, and `reset-second-factor` recorded nothing at all.
Now a reset is `StaffPasswordResetByAdministrator` (or `StaffSecondFactorResetByAdministrator`)
with the name the operator gave (`--by`) and the machine's account the command ran as; her
own change is a `StaffPasswordSet` saying `set_by=member`; one stored before that field reads
« unrecorded », never « hers ». Her security page lists them in her language."""

from __future__ import annotations

import html
import io
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from adapters.clock import ManualClock
from app.passwords import hash_password
from app.sessions import SessionPolicy
from app.use_cases import accounts
from domain.staff import Role, StaffMember
from tests.acceptance.web import form_token, log_in
from ui.cli import main
from ui.journey import make_platform
from ui.web.app import create_app

SECRET = b"r" * 32
PASSWORD = "examinateur-pass-1"
NEW = "un-nouveau-mot-9"
EMAIL = "eve@example.org"


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    made = make_platform(f"sqlite:///{tmp_path}/store.sqlite")  # the CLI opens it too
    yield made
    made.close()


@pytest.fixture
def examiner(platform: Platform) -> str:
    accounts.register_staff(
        platform.ctx, email=EMAIL, name="Eve", role=Role.EXAMINER, password=PASSWORD
    )
    platform.projections.catch_up(platform.ctx.store)
    return EMAIL


def _app(platform: Platform) -> Any:
    from app.mail_rendering import SupportContact

    return create_app(
        platform,
        secret=SECRET,
        support=SupportContact(),
        attempts_per_minute=10_000,
        session_policy=SessionPolicy(),
    )


def _cli(platform: Platform, monkeypatch: pytest.MonkeyPatch, stdin: str, *args: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin + "\n"))
    return main(["--database-url", str(platform.store.database_url), *args])


def _history(platform: Platform, staff_id: Any) -> list[Any]:
    return list(platform.ctx.store.history(staff_id))


def _state(member: StaffMember) -> dict[str, Any]:
    return {name: value for name, value in vars(member).items() if name != "_pending_events"}


def test_a_reset_from_the_command_line_records_the_administrators_act(
    platform: Platform,
    examiner: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    staff_id = platform.projections.staff_by_email[examiner]
    said = ("staff", "reset-password", examiner, "--password-stdin", "--by", "Alice Martin")
    assert _cli(platform, monkeypatch, NEW, *said) == 0
    capsys.readouterr()
    reset = _history(platform, staff_id)[-1]
    assert type(reset).__name__ == "StaffPasswordResetByAdministrator"  # not her change
    assert not isinstance(reset, StaffMember.StaffPasswordSet)
    assert reset.by == "Alice Martin"
    # The machine's account too, always: on this host, as whoever runs the tests.
    assert reset.system_account.split(" ")[0].endswith(f"@{socket.gethostname()}")
    # Without --by, the machine's account alone names who did it.
    assert (
        _cli(platform, monkeypatch, NEW, "staff", "reset-password", examiner, "--password-stdin")
        == 0
    )
    unnamed = _history(platform, staff_id)[-1]
    assert type(unnamed).__name__ == "StaffPasswordResetByAdministrator"
    assert unnamed.by == "" and unnamed.system_account == reset.system_account
    # The operator's timeline (`vigie history`) says whose act each password is.
    capsys.readouterr()
    assert main(["--database-url", str(platform.store.database_url), "history", str(staff_id)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "StaffMember.StaffPasswordSet" in lines[1] and "set_by=account-creation" in lines[1]
    assert "StaffMember.StaffPasswordResetByAdministrator" in lines[2]
    assert "by=Alice Martin" in lines[2]
    assert f"system_account={reset.system_account}" in lines[2]
    # A password's hash is a secret of its own (an offline guess needs only it): the
    # timeline says one was set, never which.
    assert "password_hash=(hidden)" in lines[2]
    assert reset.password_hash not in "\n".join(lines) and "$argon2" not in "\n".join(lines)


@pytest.mark.parametrize(
    ("by", "said"),
    [
        ("Alice\nroot@vigie-1", "by: one line of text, without control characters"),
        ("A" * 201, "by: keep it under 200 characters (201 given)"),
    ],
)
def test_a_by_the_log_cannot_keep_is_refused_before_the_password_is_asked(
    platform: Platform,
    examiner: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    by: str,
    said: str,
) -> None:
    staff_id = platform.projections.staff_by_email[examiner]
    factors = _app(platform).state.second_factors
    secret = factors.begin(staff_id)
    assert factors.confirm(staff_id, pyotp.TOTP(secret).at(platform.ctx.clock.now()))
    before = len(_history(platform, staff_id))
    asked: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt="": asked.append(prompt) or NEW)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    assert (
        main(
            [
                "--database-url",
                str(platform.store.database_url),
                "staff",
                "reset-password",
                examiner,
                "--by",
                by,
            ]
        )
        == 2
    )
    assert said in capsys.readouterr().err
    assert asked == []  # refused before the prompt
    assert (
        _cli(platform, monkeypatch, "", "staff", "reset-second-factor", examiner, "--by", by) == 2
    )
    assert said in capsys.readouterr().err
    assert factors.enabled(staff_id)  # kept
    assert len(_history(platform, staff_id)) == before  # nothing recorded


def test_a_second_factor_reset_records_the_administrators_act(
    platform: Platform,
    examiner: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    staff_id = platform.projections.staff_by_email[examiner]
    factors = _app(platform).state.second_factors
    before = len(_history(platform, staff_id))
    # None enabled: nothing changes, nothing is recorded.
    assert _cli(platform, monkeypatch, "", "staff", "reset-second-factor", examiner) == 1
    assert len(_history(platform, staff_id)) == before
    secret = factors.begin(staff_id)
    assert factors.confirm(staff_id, pyotp.TOTP(secret).at(platform.ctx.clock.now()))
    said = ("staff", "reset-second-factor", examiner, "--by", "Alice Martin")
    assert _cli(platform, monkeypatch, "", *said) == 0
    assert "second factor removed" in capsys.readouterr().out
    assert not factors.enabled(staff_id)
    events = _history(platform, staff_id)
    assert len(events) == before + 1
    assert type(events[-1]).__name__ == "StaffSecondFactorResetByAdministrator"
    assert events[-1].by == "Alice Martin" and "@" in events[-1].system_account


def test_the_members_own_change_still_records_hers(platform: Platform, examiner: str) -> None:
    staff_id = platform.projections.staff_by_email[examiner]
    with TestClient(_app(platform)) as desk:
        log_in(desk, "/staff/login", examiner, PASSWORD)
        changed = desk.post(
            "/staff/security/password",
            data={
                "current": PASSWORD,
                "password": NEW,
                "_csrf_token": form_token(desk, "/staff/security"),
            },
        )
        assert changed.status_code == 200
    first, own = _history(platform, staff_id)[-2:]
    assert isinstance(own, StaffMember.StaffPasswordSet) and own.set_by == "member"
    # The one given with her account (`vigie staff add`, here) is not hers either.
    assert isinstance(first, StaffMember.StaffPasswordSet) and first.set_by == "account-creation"


def test_a_reset_replays_to_the_state_it_left(platform: Platform, examiner: str) -> None:
    """The state after a reset is the one a member's own change leaves (her password
    replaced, nothing else), and the log replays to it."""
    staff_id = platform.projections.staff_by_email[examiner]
    store = platform.ctx.store
    member = store.get(staff_id, StaffMember)
    before = _state(member)
    clock = platform.ctx.clock
    assert isinstance(clock, ManualClock)
    clock.advance(minutes=5)
    password_hash = hash_password(NEW)
    member.reset_password_by_administrator(
        at=platform.ctx.now(), password_hash=password_hash, by="Alice", system_account="root@v"
    )
    store.save(member)
    live = _state(member)
    assert {k: v for k, v in live.items() if before.get(k) != v} == {
        "_version": before["_version"] + 1,
        "_modified_on": platform.ctx.now(),
        "password_hash": password_hash,
    }
    again = make_platform(str(platform.store.database_url))
    try:
        assert _state(again.ctx.store.get(staff_id, StaffMember)) == live
    finally:
        again.close()


def _stored_before_set_by(platform: Platform, staff_id: Any, password_hash: str) -> None:
    """A `StaffPasswordSet` row as the code before `set_by` stored it (its timestamp and hash
    alone), chained as any row: the event's new field taken out before it is written."""
    from domain.staff import PasswordSetBy  # here: the rest of the file runs on the old code

    member = platform.ctx.store.get(staff_id, StaffMember)
    member.set_password(
        at=platform.ctx.now(), password_hash=password_hash, set_by=PasswordSetBy.MEMBER
    )
    (pending,) = member.pending_events
    del pending.__dict__["set_by"]
    platform.ctx.store.save(member)


@pytest.fixture(params=["sqlite", "postgres"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Platform]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/store.sqlite"
    else:
        url = request.getfixturevalue("postgres_url")
    made = make_platform(url)
    yield made
    made.close()


def test_a_password_set_stored_before_set_by_decodes_as_unrecorded(
    any_store: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    platform = any_store
    staff_id = accounts.register_staff(
        platform.ctx, email=EMAIL, name="Eve", role=Role.EXAMINER, password=PASSWORD
    )
    _stored_before_set_by(platform, staff_id, hash_password(NEW))
    rows = platform.store.app.recorder.select_events(staff_id)
    payload = bytes(rows[-1].state)
    assert b'"password_hash"' in payload and b"set_by" not in payload  # the old shape
    again = make_platform(str(platform.store.database_url))
    try:
        old = list(again.ctx.store.history(staff_id))[-1]
        assert isinstance(old, StaffMember.StaffPasswordSet)
        # Her change or an administrator's reset: the log of that time does not say which.
        assert old.set_by == "unrecorded"
        assert again.ctx.store.get(staff_id, StaffMember).password_hash == old.password_hash
        again.projections.catch_up(again.ctx.store)  # the bulk reads decode it too
        assert again.projections.staff_by_email[EMAIL] == staff_id
    finally:
        again.close()
    url = str(platform.store.database_url)
    assert main(["--database-url", url, "audit", "verify-store"]) == 0  # its chain holds
    capsys.readouterr()
    with TestClient(_app(platform)) as desk:
        log_in(desk, "/staff/login", EMAIL, NEW)  # the password it set is hers to use


def _plain(text: str) -> str:
    return html.unescape(text).replace("\u00a0", " ").replace("\u202f", " ")


def _history_lines(page: str) -> list[str]:
    found = re.search(r'<article id="security-history">(.*?)</article>', page, re.S)
    assert found is not None, "no history on the security page"
    items = re.findall(r"<li>(.*?)</li>", found.group(1), re.S)
    return [" ".join(_plain(re.sub(r"<[^>]+>", "", item)).split()) for item in items]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "fr",
            [
                "27/01/2025 13:00 Second facteur retiré par l'administration (Alice Martin)",
                "27/01/2025 12:00 Mot de passe réinitialisé par l'administration (Alice Martin)",
                "27/01/2025 11:00 Mot de passe changé, par vous ou réinitialisé par "
                "l'administration (le journal de cette époque ne le distingue pas)",
                "27/01/2025 10:00 Vous avez changé votre mot de passe",
                "27/01/2025 09:00 Mot de passe donné à la création de votre compte",
            ],
        ),
        (
            "en",
            [
                "27/01/2025 13:00 Second factor removed by the administration (Alice Martin)",
                "27/01/2025 12:00 Password reset by the administration (Alice Martin)",
                "27/01/2025 11:00 Password changed, by you or reset by the administration (the "
                "log of that time does not say which)",
                "27/01/2025 10:00 You changed your password",
                "27/01/2025 09:00 Password given with your account",
            ],
        ),
    ],
)
def test_her_security_page_tells_her_change_from_the_administrations(
    platform: Platform, examiner: str, language: str, expected: list[str]
) -> None:
    staff_id = platform.projections.staff_by_email[examiner]
    clock = platform.ctx.clock
    assert isinstance(clock, ManualClock)
    ctx = platform.ctx
    clock.advance(hours=1)
    assert accounts.change_staff_password(ctx, staff_id, current=PASSWORD, new="le-sien-1234")
    clock.advance(hours=1)
    _stored_before_set_by(platform, staff_id, hash_password("avant-1234"))
    clock.advance(hours=1)
    accounts.reset_staff_password(
        ctx, staff_id, new=NEW, by="Alice Martin", system_account="root@vigie-1"
    )
    factors = _app(platform).state.second_factors
    secret = factors.begin(staff_id)
    assert factors.confirm(staff_id, pyotp.TOTP(secret).at(clock.now()))
    clock.advance(hours=1)
    assert (
        accounts.reset_staff_second_factor(
            ctx, staff_id, by="Alice Martin", system_account="root@vigie-1"
        )
        == 0
    )
    with TestClient(_app(platform)) as desk:
        log_in(desk, "/staff/login", examiner, NEW)
        desk.get(f"/lang/{language}")
        page = desk.get("/staff/security")
        assert page.status_code == 200
        assert _history_lines(page.text) == expected
