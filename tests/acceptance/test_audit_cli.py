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
from app.use_cases import reviewing
from domain.evidence import FlagKind, Verdict
from domain.review import AppealOutcome, Review, override_of
from tests.property.test_appeal_replay_properties import AppealPlan, appealed_journey, two_examiners
from ui.cli import main
from ui.journey import Journey, Plan, decided_journey, platform_with_examiner

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
    assert vigie(url, "replay", "00000000-0000-0000-0000-000000000000") == 2
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


def test_a_complete_replay_says_it_read_the_whole_log_after_the_last_review(
    audited: tuple[str, list[UUID]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An operator's check: a complete run ended on « 163/175 (93%) », the events after the
    last decided review (a later enrolment, say) left out of its share."""
    url, _ = audited
    with platform_with_examiner(url) as (platform, _examiner):
        Journey(platform, email="later@example.org").enrol()
    assert vigie(url, "replay", "--all", "--checkpoint", str(tmp_path / "cp.json")) == 0
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("audit replay: 3 reviews") and "(100%)" in last, last


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
        "signature.json",
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


# --- decisions with an appeal (issue 12, item 4) -------------------------------------------

OVERTURNED = AppealPlan(False, (), AppealOutcome.OVERTURNED, False, "on voit le candidat seul")
UPHELD = AppealPlan(False, (), AppealOutcome.UPHELD, True, "des notes sont visibles sur le bureau")


@pytest.fixture
def appealed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, list[UUID], UUID, UUID]]:
    """Two invalidations contested in a SQLite file: one overturned, one upheld with the
    second examiner's own reason."""
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'vigie.sqlite'}"
    with two_examiners(url) as (platform, first, second):
        reviews = [appealed_journey(platform, p, first, second) for p in (OVERTURNED, UPHELD)]
    yield url, reviews, first, second


def test_replaying_an_overturned_invalidation_prints_both_examiners_and_the_final_verdict(
    appealed: tuple[str, list[UUID], UUID, UUID], capsys: pytest.CaptureFixture[str]
) -> None:
    url, reviews, first, second = appealed
    assert vigie(url, "replay", str(reviews[0])) == 0
    out = capsys.readouterr().out
    assert f"decision: invalidated by examiner {first}" in out
    assert "reason headphones citing" in out
    assert "appeal: lodged on" in out and "«je portais des bouchons»" in out
    assert f"overturned by second examiner {second}" in out
    assert "(disagrees with the first examiner)" in out
    assert "answer: «on voit le candidat seul»" in out
    assert "final verdict: validated (on appeal)" in out
    assert "MATCHES" in out and "the final verdict follows from the appeal" in out


def test_replaying_an_upheld_invalidation_prints_the_second_examiners_own_reason(
    appealed: tuple[str, list[UUID], UUID, UUID], capsys: pytest.CaptureFixture[str]
) -> None:
    url, reviews, _, second = appealed
    assert vigie(url, "replay", str(reviews[1])) == 0
    out = capsys.readouterr().out
    appeal = out.split("appeal: ")[1]
    assert f"upheld by second examiner {second}" in appeal
    assert "(agrees with the first examiner)" in appeal
    assert "reason other_rule_breach citing" in appeal and "notes from a paper" in appeal
    assert "final verdict: invalidated (on appeal)" in out


def test_an_appeal_decision_altered_in_the_store_is_a_replay_mismatch(
    appealed: tuple[str, list[UUID], UUID, UUID], capsys: pytest.CaptureFixture[str]
) -> None:
    url, reviews, _, _ = appealed
    with _sqlite(url) as db:
        version, state = db.execute(
            "SELECT originator_version, state FROM stored_events "
            "WHERE topic LIKE '%AppealDecided' AND originator_id = ?",
            (reviews[0].hex,),
        ).fetchone()
        payload = msgspec.json.decode(state[HEADER_BYTES:])
        payload["verdict"] = "invalidated"  # what the candidate was told, changed afterwards
        db.execute(
            "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = ?",
            (state[:HEADER_BYTES] + msgspec.json.encode(payload), reviews[0].hex, version),
        )
    assert vigie(url, "replay", str(reviews[0])) == 1
    out = capsys.readouterr().out
    assert "DIFFERS: the appeal was overturned but recorded the verdict invalidated" in out
    assert "DIFFERS: final verdict differs: the appeal gives validated" in out
    assert vigie(url, "verify-store") == 1


def test_replaying_all_counts_an_appealed_review_once_and_what_if_counts_final_verdicts(
    appealed: tuple[str, list[UUID], UUID, UUID], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _, _, _ = appealed
    assert vigie(url, "replay", "--all", "--checkpoint", "cp.json") == 0
    out = capsys.readouterr().out
    assert "replayed 2 decided reviews" in out and "mismatches: none" in out
    assert vigie(url, "what-if", "--rules", "rules-2026-12") == 0
    out = capsys.readouterr().out
    assert "over 2 decided reviews: 0 would differ" in out
    row = next(line for line in out.splitlines() if line.startswith("ENI-ACCESS"))
    # Two first invalidations, one overturned: 50 % finally invalidated, 1 overturned.
    assert row.split()[6:8] == ["50.0%", "1"]


def test_an_appealed_decisions_bundle_carries_the_appeal_and_still_verifies(
    appealed: tuple[str, list[UUID], UUID, UUID],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    url, reviews, first, second = appealed
    folder = tmp_path / "bundle"
    assert vigie(url, "export", str(reviews[0]), "-o", str(folder)) == 0
    decision = json.loads((folder / "decision.json").read_bytes())
    assert (decision["verdict"], decision["first_verdict"]) == ("validated", "invalidated")
    assert decision["examiner_id"] == str(first)
    assert decision["appeal"]["examiner_id"] == str(second)
    assert decision["appeal"]["outcome"] == "overturned"
    assert decision["appeal"]["answer"] == "on voit le candidat seul"
    capsys.readouterr()
    assert main(["audit", "verify", str(folder)]) == 0
    assert "INTACT" in capsys.readouterr().out
    lines = (folder / "events.jsonl").read_bytes().split(b"\n")
    number = next(n for n, line in enumerate(lines) if b"AppealDecided" in line)
    lines[number] = lines[number].replace(b"overturned", b"upheld", 1)
    (folder / "events.jsonl").write_bytes(b"\n".join(lines))
    assert main(["audit", "verify", str(folder)]) == 1
    assert f"first altered entry: events.jsonl line {number + 1} (" in capsys.readouterr().out


# --- a decision against a ground (R19: the examiner's written justification) -----------------

JUSTIFICATION = "the ID card was shown to the hotline by video call before the exam started"


@pytest.fixture
def overridden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, UUID]]:
    """An exam without its ID photo (an R9 ground) that the examiner validates anyway,
    justifying it in writing."""
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'vigie.sqlite'}"
    with platform_with_examiner(url) as (platform, examiner):
        journey = Journey(platform, email="sans.photo@example.org")
        review_id = journey.sent_for_review(waive_id_photo=True)
        reviewing.assign_examiner(platform.ctx, review_id, examiner)
        review = platform.ctx.store.get(review_id, Review)
        assert review.recommendation is not None and review.recommendation.grounds
        reviewing.decide_review(
            platform.ctx,
            review_id,
            examiner_id=examiner,
            verdict=Verdict.VALIDATED,
            overrides=tuple(override_of(g, JUSTIFICATION) for g in review.recommendation.grounds),
        )
    yield url, review_id


def test_a_validation_against_a_ground_replays_with_the_examiners_justification(
    overridden: tuple[str, UUID], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url, review_id = overridden
    assert vigie(url, "replay", str(review_id)) == 0
    out = capsys.readouterr().out
    assert "decision: validated by examiner" in out
    assert "decided against ground R9 identity_not_verifiable" in out
    assert f"«{JUSTIFICATION}»" in out and "MATCHES" in out
    assert vigie(url, "export", str(review_id), "-o", str(tmp_path / "b")) == 0
    decision = json.loads((tmp_path / "b" / "decision.json").read_bytes())
    assert [o["justification"] for o in decision["overrides"]] == [JUSTIFICATION]


def test_a_justification_removed_from_the_store_is_a_replay_mismatch(
    overridden: tuple[str, UUID], capsys: pytest.CaptureFixture[str]
) -> None:
    url, review_id = overridden
    with _sqlite(url) as db:
        version, state = db.execute(
            "SELECT originator_version, state FROM stored_events "
            "WHERE topic LIKE '%ReviewDecided' AND originator_id = ?",
            (review_id.hex,),
        ).fetchone()
        payload = msgspec.json.decode(state[HEADER_BYTES:])
        payload["overrides"] = []
        db.execute(
            "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = ?",
            (state[:HEADER_BYTES] + msgspec.json.encode(payload), review_id.hex, version),
        )
    assert vigie(url, "replay", str(review_id)) == 1
    out = capsys.readouterr().out
    assert "DIFFERS: validated although the recommendation has a ground to invalidate (R9" in out
