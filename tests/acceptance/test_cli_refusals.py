"""The `vigie` command on an id it does not hold, or a refused command: one English sentence
on standard error and exit 2, never a traceback; the sentence first, a rule's code at its end
in brackets; an erased person's data in the command's words (a tester's tour: `hotline show`
and `privacy export` on an unknown id crashed with AggregateNotFound, `audit replay` and
`history` exited 0 or 1, « R2: … » opened a line, « [effacé] [EFFACÉ] » in the English
output)."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

import pytest

from adapters.bootstrap import Settings, bootstrap
from app.privacy import erase_candidate
from app.use_cases import accounts, enrolment
from domain.staff import Role
from ui.cli import main

NOBODY = "00000000-0000-0000-0000-000000000000"
BY = ("--by", "support@example.org")


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the embedded store, a support account and two enrolled candidates, one
    of them erased."""
    monkeypatch.chdir(tmp_path)
    for name in ("VIGIE_DATABASE_URL", "VIGIE_SMTP_URL", "VIGIE_MEDIA_ROOT", "VIGIE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    platform = bootstrap(Settings.from_env())
    try:
        accounts.register_staff(
            platform.ctx, email="support@example.org", name="Hotline", role=Role.SUPPORT
        )
        for email in ("zoe.durand@example.org", "lea.petit@example.org"):
            enrolment.enrol_candidate(
                platform.ctx,
                platform.projections,
                centre_id=UUID(int=1),
                email=email,
                surname="Durand" if email.startswith("zoe") else "Petit",
                first_name="Zoé" if email.startswith("zoe") else "Léa",
                certification_code="ENI-ACCESS",
            )
        platform.projections.catch_up(platform.ctx.store)
        zoe = platform.projections.find_by_email("zoe.durand@example.org")
        assert zoe is not None
        erase_candidate(
            platform.ctx,
            platform.keys,
            platform.projections,
            zoe,
            reason="RGPD",
            by="a test",
            system_account="tests@127.0.0.1",
        )
        (tmp_path / "ids").write_text(
            json.dumps(
                {
                    "zoe": str(zoe),
                    "zoe_enrolment": _enrolment_of(platform, zoe),
                    "lea_enrolment": _enrolment_of(
                        platform, platform.projections.find_by_email("lea.petit@example.org")
                    ),
                }
            )
        )
    finally:
        platform.close()
    return tmp_path


def _enrolment_of(platform: object, candidate: UUID | None) -> str:
    projections = platform.projections  # type: ignore[attr-defined]
    [found] = [e for e in projections.enrollments.values() if e.candidate_id == candidate]
    return str(found.enrollment_id)


def ids(folder: Path) -> dict[str, str]:
    return dict(json.loads((folder / "ids").read_text()))


# Every command that takes an id, given one the store does not hold: what it says.
UNKNOWN = [
    (["hotline", "show", NOBODY], "no candidate with id"),
    (["hotline", "renew", NOBODY, *BY, "--reason", "x"], "no enrolment with id"),
    (["hotline", "unblock", NOBODY, *BY, "--reason", "x"], "no enrolment with id"),
    (
        ["hotline", "resend", NOBODY, *BY, "--mail", "invitation", "--reason", "lost"],
        "no enrolment with id",
    ),
    (["hotline", "technical-problem", NOBODY, *BY, "--description", "x"], "no enrolment"),
    (["hotline", "waive-photo", NOBODY, *BY, "--photo", "face", "--reason", "x"], "no enrol"),
    (["hotline", "send-live-link", NOBODY, *BY, "--link", "https://x.org/a"], "no enrolment"),
    (["privacy", "export", NOBODY], "no candidate with id"),
    (["privacy", "erase", NOBODY, "--reason", "x", "--yes"], "no candidate with id"),
    (["audit", "replay", NOBODY], "no review with id"),
    (["audit", "export", NOBODY], "no review with id"),
    (["replay", NOBODY], "no review with id"),
    (["history", NOBODY], "no events for"),
    (["policies", "retry", NOBODY], "no parked reaction with id"),
]


@pytest.mark.parametrize(("words", "said"), UNKNOWN, ids=[" ".join(w[:2]) for w, _ in UNKNOWN])
def test_an_unknown_id_is_one_sentence_and_exit_2(
    folder: Path, capsys: pytest.CaptureFixture[str], words: list[str], said: str
) -> None:
    assert main(words) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "AggregateNotFound" not in err
    [line] = err.strip().splitlines()
    assert line.startswith(f"vigie: {said}") and NOBODY in line


def test_a_candidates_id_where_an_enrolments_is_wanted_says_where_to_find_one(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`hotline show` prints enrolment ids; `privacy export` wants a candidate's."""
    assert main(["privacy", "export", ids(folder)["lea_enrolment"]]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vigie: no candidate with id") and "vigie hotline find" in err


def test_a_refusal_says_its_sentence_first_and_its_rule_last(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lea = ids(folder)["lea_enrolment"]
    assert main(["hotline", "technical-problem", lea, *BY, "--description", "webcam"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "vigie: the candidate has not created the exam session yet [R2]"
    # Spaces only: the description is what is wrong, said first.
    assert main(["hotline", "technical-problem", lea, *BY, "--description", "   "]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("vigie: description: ") and "[R2]" not in err


def test_an_erased_persons_enrolment_refuses_from_the_command_line_too(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zoe = ids(folder)["zoe_enrolment"]
    for words in (
        ["hotline", "resend", zoe, *BY, "--mail", "invitation", "--reason", "lost"],
        ["hotline", "renew", zoe, *BY, "--reason", "ticket 2"],
        ["hotline", "unblock", zoe, *BY, "--reason", "ticket 3"],
    ):
        assert main(words) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("vigie: this person's data was erased") and err.endswith("[ERASED]")


def test_erased_data_reads_erased_in_the_english_command_and_export(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zoe = ids(folder)["zoe"]
    assert main(["hotline", "show", zoe]) == 0
    shown = capsys.readouterr().out
    assert "[erased] (personal data erased on " in shown
    assert "nothing more happens on it" in shown
    assert main(["privacy", "export", zoe]) == 0
    exported = capsys.readouterr().out
    data = json.loads(exported)
    assert data["erased"] is True
    assert data["personal_data"]["email"] == "[erased]"
    assert main(["history", zoe]) == 0
    history = capsys.readouterr().out
    for text in (shown, exported, history):
        assert "effacé" not in text.lower()
