"""`vigie audit` as an auditor runs it, on a SQLite store holding decided reviews."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import msgspec
import pytest

from adapters.persistence.chain import HEADER_BYTES
from adapters.persistence.settings import eventsourcing_env
from domain.evidence import FlagKind
from tests.property.test_audit_properties import Plan, decided_journey, platform_with_examiner
from ui.cli import main

CLEAN = Plan(False, [], False, False, False)
FACES = Plan(False, [(FlagKind.SEVERAL_FACES, 0.92)], False, False, False)
PHONE = Plan(False, [(FlagKind.PHONE, 0.7)], False, True, True)


@pytest.fixture
def audited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, list[UUID]]]:
    """Three decided reviews in a SQLite file: clean, several faces (validated), a phone."""
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'vigie.sqlite'}"
    with platform_with_examiner(url) as (platform, examiner):
        reviews = [decided_journey(platform, plan, examiner) for plan in (CLEAN, FACES, PHONE)]
    yield url, reviews


def vigie(url: str, *args: str) -> int:
    return main(["--database-url", url, "audit", *args])


def test_replaying_one_decision_prints_evidence_recommendation_decision_and_a_match(
    audited: tuple[str, list[UUID]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, reviews = audited
    assert vigie(url, "replay", str(reviews[2])) == 0
    out = capsys.readouterr().out
    assert "evidence: " in out and "FlagRaised  phone 0.70" in out
    assert "recorded: validated (verdict-2026-12)" in out
    assert "replayed: validated (verdict-2026-12)" in out
    assert "decision: invalidated by examiner" in out
    assert "reason phone_used citing" in out
    assert "MATCHES" in out
    assert main(["--database-url", url, "replay", str(reviews[0])]) == 0  # the old spelling


def test_an_unknown_review_is_a_clear_error(
    audited: tuple[str, list[UUID]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = audited
    assert vigie(url, "replay", "00000000-0000-0000-0000-000000000000") == 1
    assert "no review" in capsys.readouterr().err


def test_replaying_all_decisions_resumes_where_it_stopped_and_reports_no_mismatch(
    audited: tuple[str, list[UUID]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url, _ = audited
    checkpoint = tmp_path / "cp.json"
    common = ("replay", "--all", "--checkpoint", str(checkpoint), "--batch", "1")
    assert vigie(url, *common, "--stop-after", "2") == 0
    assert "run the same command to continue" in capsys.readouterr().err
    assert json.loads(checkpoint.read_text())["reviews"] == 2
    assert vigie(url, *common) == 0
    captured = capsys.readouterr()
    assert (
        "resuming after log position" in captured.err and "audit replay: 3 reviews" in captured.err
    )
    assert "replayed 3 decided reviews (1 in this run)" in captured.out
    assert "reviews/s" in captured.out and "events read" in captured.out
    assert "mismatches: none" in captured.out
    assert json.loads(checkpoint.read_text())["complete"] is True


@contextlib.contextmanager
def _sqlite(url: str) -> Iterator[sqlite3.Connection]:
    with contextlib.closing(sqlite3.connect(eventsourcing_env(url)["SQLITE_DBNAME"])) as db:
        yield db
        db.commit()


def test_an_altered_stored_flag_is_a_replay_mismatch_and_a_broken_chain(
    audited: tuple[str, list[UUID]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = audited
    with _sqlite(url) as db:
        originator, version, state = db.execute(
            "SELECT originator_id, originator_version, state FROM stored_events "
            "WHERE topic LIKE '%FlagRaised' LIMIT 1"
        ).fetchone()
        payload = msgspec.json.decode(state[HEADER_BYTES:])
        payload["confidence"] = 0.1
        db.execute(
            "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = ?",
            (state[:HEADER_BYTES] + msgspec.json.encode(payload), originator, version),
        )
    assert vigie(url, "replay", "--all", "--checkpoint", "cp.json") == 1
    out = capsys.readouterr().out
    assert f"{UUID(originator)}/{version} differs from the stored event" in out
    assert vigie(url, "verify-store") == 1
    out = capsys.readouterr().out
    assert f"first: stream {UUID(originator)} version {version}: altered" in out


def test_what_if_with_the_same_rules_finds_nothing_and_stricter_rules_name_the_reviews(
    audited: tuple[str, list[UUID]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, reviews = audited
    with _sqlite(url) as db:
        before = db.execute("SELECT count(*) FROM stored_events").fetchone()
    assert vigie(url, "what-if", "--rules", "rules-2026-12") == 0
    out = capsys.readouterr().out
    assert "over 3 decided reviews: 0 would differ (nothing was written)" in out
    assert (
        vigie(url, "what-if", "--rules", "rules-2026-12-strict-faces", "--since", "2025-01-01") == 0
    )
    out = capsys.readouterr().out
    assert "1 would differ" in out
    assert f"{reviews[1]} ENI-ACCESS" in out and "verdict validated → invalidated" in out
    assert "ENI-ACCESS" in out.split("certification")[1]
    with _sqlite(url) as db:
        assert db.execute("SELECT count(*) FROM stored_events").fetchone() == before
    assert vigie(url, "what-if", "--rules", "rules-1999") == 2


def test_an_exported_bundle_verifies_offline_and_an_altered_line_is_named(
    audited: tuple[str, list[UUID]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url, reviews = audited
    folder, archive = tmp_path / "bundle", tmp_path / "bundle.zip"
    assert vigie(url, "export", str(reviews[2]), "-o", str(folder)) == 0
    assert vigie(url, "export", str(reviews[2]), "-o", str(archive)) == 0
    capsys.readouterr()
    assert sorted(p.name for p in folder.iterdir()) == [
        "decision.json",
        "events.jsonl",
        "manifest.json",
        "media.json",
        "rules.json",
    ]
    # Offline: the store is gone.
    Path(eventsourcing_env(url)["SQLITE_DBNAME"]).unlink()
    for bundle in (folder, archive):
        assert main(["audit", "verify", str(bundle)]) == 0
        assert "INTACT" in capsys.readouterr().out
    lines = (folder / "events.jsonl").read_bytes().split(b"\n")
    lines[4] = lines[4].replace(b'"timestamp":"', b'"timestamp":"1', 1)
    (folder / "events.jsonl").write_bytes(b"\n".join(lines))
    assert main(["audit", "verify", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "ALTERED: first altered entry: events.jsonl line 5 (" in out
