"""What an operator of several nodes is told at start and by the operators' commands (an
operator's two-node review): a node with another secret key is refused; demo accounts left
with their public password are named; no terminal or a taken metrics port is a sentence; and
`vigie mail pending` says when no worker holds the mails' leases."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.bootstrap import Platform, Settings, bootstrap
from domain.lease import Lease
from ui import serve
from ui.cli import main
from ui.serve import DEMO_PASSWORD, EXAMINER_EMAIL, seed_demo

KEY, OTHER_KEY = "a" * 64, "b" * 64


def public_demo_accounts(platform: Platform) -> list[str]:
    found: list[str] = serve.public_demo_accounts(platform)
    return found


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VIGIE_DATABASE_URL", f"sqlite:///{tmp_path}/vigie.sqlite")
    monkeypatch.setenv("VIGIE_SECRET_KEY", KEY)
    monkeypatch.setenv("VIGIE_MEDIA_ROOT", str(tmp_path / "media"))
    monkeypatch.setenv("VIGIE_SMTP_URL", "smtp://127.0.0.1:1")
    return tmp_path


@pytest.mark.postgres
def test_a_node_given_another_secret_key_is_refused_until_the_new_key_is_adopted(
    postgres_url: str,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("VIGIE_DATABASE_URL", postgres_url)
    assert main(["worker", "--once"]) == 0  # the first node records its key's fingerprint
    assert main(["worker", "--once"]) == 0  # and the same key starts again
    capsys.readouterr()
    monkeypatch.setenv("VIGIE_SECRET_KEY", OTHER_KEY)
    assert main(["worker", "--once"]) == 2
    said = capsys.readouterr().err
    assert "VIGIE_SECRET_KEY differs from the one this platform's other nodes use" in said
    assert "Traceback" not in said and OTHER_KEY not in said and KEY not in said
    # The operator changed the key on every node on purpose.
    assert main(["secret-key", "adopt"]) == 0
    assert "now the platform's" in capsys.readouterr().out
    assert main(["worker", "--once"]) == 0
    monkeypatch.setenv("VIGIE_SECRET_KEY", KEY)
    assert main(["worker", "--once"]) == 2  # the old key is the odd one out now


@pytest.fixture
def demo_platform() -> Iterator[Platform]:
    platform = bootstrap(
        Settings(database_url="memory:", media_root=None, secret_key=KEY, launcher="memory")
    )
    yield platform
    platform.close()


def test_a_start_without_demo_names_the_demo_accounts_left_with_their_public_password(
    demo_platform: Platform, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert public_demo_accounts(demo_platform) == []
    seed_demo(demo_platform, sample_exam=False)
    left = public_demo_accounts(demo_platform)
    assert (
        EXAMINER_EMAIL in left and serve.DEMO_EMAIL in left and len(left) == 7
    )  # Jules has no password
    out = io.StringIO()
    serve._announce(
        out, "http://x", "http://x", None, 1, "none", None, "a PostgreSQL platform", left_open=left
    )
    said = out.getvalue()
    assert "no demo accounts" not in said
    assert f"demo accounts with the public password {DEMO_PASSWORD} are in this store" in said
    assert "vigie staff reset-password" in said
    # Given a password of its own, an account is no longer named.
    from app.use_cases import accounts

    accounts.reset_staff_password(
        demo_platform.ctx,
        demo_platform.projections.staff_by_email[EXAMINER_EMAIL],
        new="x" * 16,
        by="",
        system_account="root@vigie-1",
    )
    assert EXAMINER_EMAIL not in public_demo_accounts(demo_platform)


def test_staff_reset_password_replaces_a_demo_password(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings.from_env(launcher="memory")
    platform = bootstrap(settings)
    try:
        seed_demo(platform, sample_exam=False)
    finally:
        platform.close()
    monkeypatch.setattr("sys.stdin", io.StringIO("un-mot-de-passe-long\n"))
    assert main(["staff", "reset-password", EXAMINER_EMAIL, "--password-stdin"]) == 0
    assert f"{EXAMINER_EMAIL}: password replaced" in capsys.readouterr().out
    platform = bootstrap(settings)
    try:
        assert EXAMINER_EMAIL not in public_demo_accounts(platform)
    finally:
        platform.close()


def test_staff_add_without_a_terminal_asks_for_password_stdin(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # </dev/null: no terminal
    assert main(["staff", "add", "x@y.example", "--name", "X", "--role", "centre"]) == 2
    said = capsys.readouterr().err
    assert "no terminal to ask the password on" in said and "--password-stdin" in said


def test_a_worker_whose_metrics_port_is_taken_says_so_in_a_sentence(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert main(["worker", "--once", "--metrics-port", str(port)]) == 2
    said = capsys.readouterr().err
    assert f"--metrics-port {port}: 127.0.0.1:{port} cannot be used" in said


def test_mail_pending_says_when_no_worker_holds_the_mails_leases(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["mail", "pending"]) == 1  # no worker ever ran
    said = capsys.readouterr()
    assert "0 pending mail(s)" in said.out
    assert "no worker has held the policies and the outbox lease" in said.err
    platform = bootstrap(Settings.from_env(launcher="memory"))
    try:
        now = datetime.now(UTC)
        for kind in ("policies", "outbox"):
            assert platform.leases.put(Lease(kind, "w:1:a", now + timedelta(minutes=1)), None)
    finally:
        platform.close()
    assert main(["mail", "pending"]) == 0  # a worker holds them
    assert "no worker" not in capsys.readouterr().err


def test_a_demo_start_with_a_relay_says_where_mail_goes_not_vigie_mailbox() -> None:
    def announced(relay: str | None) -> str:
        out = io.StringIO()
        serve._announce(
            out,
            "http://x",
            "http://x",
            "http://x/sessions/new",
            1,
            "none",
            **({"relay": relay} if relay else {}),
        )
        return out.getvalue()

    said = announced(serve._relay("smtp://user:secret@relay.example:587?starttls=yes"))
    assert "mails: sent to relay.example:587 (VIGIE_SMTP_URL)" in said
    assert "mailbox" not in said and "secret" not in said
    assert "vigie mailbox" in announced(None)  # the embedded capture: read it there
