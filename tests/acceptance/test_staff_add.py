"""Issue 15: a platform deployed without demo data gets its first staff accounts from
`vigie staff add`; the password is read at a prompt or from standard input, never from an
argument, and the account logs in at once."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Settings, bootstrap
from app.mail_rendering import SupportContact
from tests.acceptance.web import log_in
from ui.cli import main
from ui.web.app import create_app

SECRET = "k" * 40


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VIGIE_DATABASE_URL", f"sqlite:///{tmp_path}/vigie.sqlite")
    monkeypatch.setenv("VIGIE_SECRET_KEY", SECRET)
    monkeypatch.setenv("VIGIE_MEDIA_ROOT", str(tmp_path / "media"))
    return tmp_path


def _add(monkeypatch: pytest.MonkeyPatch, password: str, *args: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(["staff", "add", *args, "--password-stdin"])


def test_the_first_centre_account_is_created_from_the_command_line_and_logs_in(
    fresh: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    email = "Admin@Centre.example"
    assert (
        _add(monkeypatch, "premier-compte-2025", email, "--name", "Admin", "--role", "centre") == 0
    )
    assert "admin@centre.example: centre account created" in capsys.readouterr().out

    platform = bootstrap(Settings.from_env(launcher="memory"))
    try:
        app = create_app(platform, secret=SECRET.encode(), support=SupportContact())
        with TestClient(app) as client:
            log_in(client, "/staff/login", "admin@centre.example", "premier-compte-2025")
            assert client.get("/operator").status_code == 200
    finally:
        platform.close()

    # The same address again changes nothing, and says so.
    assert _add(monkeypatch, "autre-mot-de-passe", email, "--name", "X", "--role", "auditor") == 1
    assert "already has an account: nothing changed" in capsys.readouterr().out


def test_a_short_password_or_an_unknown_role_is_refused_with_the_reason(
    fresh: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _add(monkeypatch, "court", "a@b.example", "--name", "A", "--role", "examiner") == 2
    assert "password: at least 8 characters" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _add(monkeypatch, "assez-long-2025", "a@b.example", "--name", "A", "--role", "boss")
    assert "invalid choice: 'boss'" in capsys.readouterr().err
