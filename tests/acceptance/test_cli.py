"""The `vigie` command as a user runs it, on the embedded defaults in a fresh folder."""

from __future__ import annotations

import json
import os
import pwd
import socket
from pathlib import Path

import pytest

from ui.cli import main


@pytest.fixture
def fresh_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("VIGIE_DATABASE_URL", "VIGIE_SMTP_URL", "VIGIE_MEDIA_ROOT", "VIGIE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_the_demo_plays_the_journey_and_its_ids_work_with_history_and_replay(
    fresh_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "Replay of the decision: MATCHES" in out
    assert "✗ resume with a 5-word reason: refused, R6" in out
    assert (fresh_folder / "vigie-data" / "vigie.sqlite").exists()
    session_id = out.split(".venv/bin/vigie history ")[1].split()[0]
    review_id = out.split(".venv/bin/vigie replay ")[1].split()[0]

    assert main(["history", session_id]) == 0
    history = capsys.readouterr().out
    assert "SessionOpened" in history and "ExamLaunched" in history

    assert main(["replay", review_id]) == 0
    assert "MATCHES" in capsys.readouterr().out

    assert main(["mailbox", "--last", "50"]) == 0
    mailbox = capsys.readouterr().out
    assert "Bienvenue sur votre espace de passage de certification" in mailbox
    assert "Reminder: 3 days left" in mailbox

    # No worker runs beside this terminal: `mail failed` says so, and exits 1 for a cron
    # check to alert on (docs/operations.md).
    assert main(["mail", "failed"]) == 1
    said = capsys.readouterr()
    assert "0 failed mail(s)" in said.out and "no worker has held" in said.err


def test_unknown_ids_and_bad_urls_get_clear_errors(
    fresh_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "00000000-0000-0000-0000-000000000000"]) == 2
    assert "no events for" in capsys.readouterr().err
    assert main(["replay", "00000000-0000-0000-0000-000000000000"]) == 2
    assert "no review" in capsys.readouterr().err
    assert main(["--database-url", "mysql://x/y", "history", "0" * 32]) == 2
    assert "VIGIE_DATABASE_URL" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["history", "not-an-id"])
    assert main(["mailbox"]) == 1
    said = capsys.readouterr().err
    # Where the mails are, from whichever folder it was run (a reviewer ran it one folder
    # away from `make run`'s and read « run `vigie demo` first »).
    assert str(Path("vigie-data/mailbox").resolve()) in said and "vigie serve" in said


def test_the_mailbox_of_a_platform_sending_through_a_relay_says_where_mail_goes(
    fresh_folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """« no mailbox at … » sent an operator looking for a folder, where the mail had gone to
    the relay VIGIE_SMTP_URL names (an operator's review); its password is not repeated."""
    monkeypatch.setenv("VIGIE_SMTP_URL", "smtp://user:s3cret@relay.example.org:587?starttls=yes")
    assert main(["mailbox"]) == 1
    said = capsys.readouterr().err
    assert "VIGIE_SMTP_URL" in said and "relay.example.org:587" in said
    assert "s3cret" not in said and "no mailbox" not in said


def test_privacy_export_then_erase_and_the_decision_still_replays(
    fresh_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 8 from the command line, on the demo's SQLite file."""
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    session_id = out.split(".venv/bin/vigie history ")[1].split()[0]
    review_id = out.split(".venv/bin/vigie replay ")[1].split()[0]
    assert main(["history", session_id]) == 0
    candidate_id = capsys.readouterr().out.split("candidate_id=")[1].split(",")[0].strip()

    assert main(["privacy", "export", candidate_id, "-o", "export.json"]) == 0
    exported = json.loads((fresh_folder / "export.json").read_text(encoding="utf-8"))
    email = exported["personal_data"]["email"]
    assert "@" in email and exported["erased"] is False
    capsys.readouterr()

    erase = ["privacy", "erase", candidate_id, "--reason", "request #42", "--yes"]
    # A --by the log cannot keep (a line break would forge a line of the history) is refused
    # before anything is erased, naming the field.
    assert main([*erase, "--by", "Alice\nforged line"]) == 2
    assert "by" in capsys.readouterr().err
    assert main([*erase, "--by", "Alice Martin (DPO)"]) == 0
    assert "erased now; key destroyed: True" in capsys.readouterr().out
    # Who erased her is in the log, as for a staff reset: the name given and the machine's
    # account the command ran as (an erasure cannot be undone; an auditor asks who).
    assert main(["history", candidate_id]) == 0
    erased = next(
        line for line in capsys.readouterr().out.splitlines() if "PersonalDataErased" in line
    )
    assert "reason=request #42, by=Alice Martin (DPO), " in erased
    assert f"system_account={pwd.getpwuid(os.geteuid()).pw_name}@{socket.gethostname()}" in erased
    assert main(["replay", review_id]) == 0
    assert "MATCHES" in capsys.readouterr().out
    assert main(["audit", "verify-store"]) == 0
    capsys.readouterr()
    assert main(["privacy", "export", candidate_id]) == 0
    after = json.loads(capsys.readouterr().out)
    assert after["erased"] is True and after["personal_data"]["email"] != email
    database = (fresh_folder / "vigie-data" / "vigie.sqlite").read_bytes()
    assert email.encode() not in database
