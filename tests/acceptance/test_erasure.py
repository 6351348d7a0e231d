"""Issue 8: erasure that keeps the audit. A person's names, e-mail and birth data are sealed
in the log with their own key; `erase` destroys the key and deletes their photos and
recordings. Afterwards no trace of them is left in the raw bytes of the SQLite file, of the
PostgreSQL tables' files, or of the media folder, while every decision still replays and the
store's hash chain still verifies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from app.privacy import erase_candidate, export_candidate
from app.replay import replay_review
from app.use_cases import accounts, reviewing
from domain.candidate import ERASED, Candidate
from domain.errors import RuleBroken
from domain.staff import Role
from ui.journey import PARIS, Journey

EMAIL = "zephyrine.quatremare@example.org"
# What must vanish: the e-mail, the names given at enrolment and in the portal profile, the
# birth date and place (src/ui/journey.py's PROFILE), and a photo's bytes.
TRACES = {
    "e-mail": EMAIL.encode(),
    "surname": b"Martin",
    "first name": b"Camille",
    "birth date": b"1990-05-17",
    "birth place": b"Nantes",
}


def platform_on(database_url: str, media: Path) -> Platform:
    from datetime import datetime

    return bootstrap(
        Settings(
            database_url=database_url,
            media_root=str(media),
            time_zone="Europe/Paris",
            launcher="memory",
            secret_key="e" * 32,
        ),
        clock=ManualClock(datetime(2025, 1, 27, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(11),
    )


def decided_journey(platform: Platform) -> Journey:
    journey = Journey(platform, email=EMAIL)
    review_id = journey.sent_for_review()
    examiner = eve(platform)
    journey.decided(examiner)
    reviewing.release_results(platform.ctx, review_id, released_by=examiner)
    platform.settle()
    return journey


def eve(platform: Platform) -> UUID:
    return accounts.register_staff(
        platform.ctx, email="eve@example.org", name="Eve", role=Role.EXAMINER, password="p4ss-eve"
    )


def found_in(blob: bytes) -> list[str]:
    return [name for name, trace in TRACES.items() if trace in blob]


def folder_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def erase_and_check_the_audit(platform: Platform, journey: Journey) -> None:
    assert journey.candidate_id is not None and journey.review_id is not None
    before = replay_review(platform.ctx.store, journey.review_id)
    assert before.matches
    report = erase_candidate(
        platform.ctx,
        platform.keys,
        platform.projections,
        journey.candidate_id,
        reason="demande de la personne (RGPD art. 17)",
        by="a test",
        system_account="tests@127.0.0.1",
    )
    assert report.recorded and report.key_destroyed
    assert len(report.media_deleted) == 5 and report.media_missing == []
    # The person reads as erased everywhere; nobody logs in as them; nothing personal again.
    candidate = platform.ctx.store.get(journey.candidate_id, Candidate)
    assert (candidate.email, candidate.surname, candidate.first_name) == (ERASED,) * 3
    assert candidate.profile is not None and candidate.profile.birth_place == ERASED
    assert platform.projections.find_by_email(EMAIL) is None
    with pytest.raises(RuleBroken):
        candidate.accept_terms(at=platform.ctx.now())
    # Every decision still replays from the log, with the same verdict and reasons.
    after = replay_review(platform.ctx.store, journey.review_id)
    # (one more event read: the session now records its deleted media)
    assert after.matches and replace(after, events_read=before.events_read) == before
    chain = platform.store.verify_chain()
    assert chain.intact and chain.unchained == 0
    # A second erasure changes nothing.
    again = erase_candidate(
        platform.ctx,
        platform.keys,
        platform.projections,
        journey.candidate_id,
        reason="again",
        by="a test",
        system_account="tests@127.0.0.1",
    )
    assert not again.recorded and not again.key_destroyed and again.media_deleted == []


def test_erasure_on_sqlite_leaves_no_trace_in_the_file_or_the_media_folder(
    tmp_path: Path,
) -> None:
    database = tmp_path / "vigie.sqlite"
    media = tmp_path / "media"
    platform = platform_on(f"sqlite:///{database}", media)
    journey = decided_journey(platform)
    photo = platform.ctx.media.load(next(iter(sorted(_photos(journey, platform)))))
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("vigie.sqlite*"))
    # Before: sealed in the log already (only the media folder holds the person).
    assert found_in(stored) == []
    assert photo in folder_bytes(media)
    erase_and_check_the_audit(platform, journey)
    platform.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("vigie.sqlite*"))
    assert found_in(stored) == []
    assert photo not in folder_bytes(media)
    assert not (tmp_path / "keys" / f"{journey.candidate_id}.key").exists()
    assert (tmp_path / "keys" / f"{journey.candidate_id}.erased").exists()
    # Restarted on the same files, the platform still knows nothing of the person.
    reopened = platform_on(f"sqlite:///{database}", media)
    assert reopened.projections.find_by_email(EMAIL) is None
    assert journey.review_id is not None
    assert replay_review(reopened.ctx.store, journey.review_id).matches
    reopened.close()


def _photos(journey: Journey, platform: Platform) -> set[str]:
    from app.recording import stored_media_ids

    assert journey.session_id is not None
    return {
        m
        for m in stored_media_ids(
            platform.ctx.store.history(journey.session_id), platform.ctx.media
        )
        if "photo" in m
    }


@pytest.fixture
def postgres_data_files(postgres_url: str) -> Iterator[tuple[str, Path | None]]:
    """The test's schema and, when this process may read them, the server's data folder."""
    base = postgres_url.split("?", maxsplit=1)[0]
    with psycopg.connect(base, autocommit=True) as connection:
        row = connection.execute("SHOW data_directory").fetchone()
    folder = Path(row[0]) if row else None
    yield postgres_url, folder if folder is not None and _readable(folder) else None


def _readable(folder: Path) -> bool:
    try:
        return any(folder.iterdir())
    except OSError:
        return False


@pytest.mark.postgres
def test_erasure_on_postgresql_leaves_no_trace_in_the_tables_files(
    postgres_data_files: tuple[str, Path | None], tmp_path: Path
) -> None:
    url, data_folder = postgres_data_files
    platform = platform_on(url, tmp_path / "media")
    journey = decided_journey(platform)
    erase_and_check_the_audit(platform, journey)
    schema = url.split("schema=", maxsplit=1)[1]
    base = url.split("?", maxsplit=1)[0]
    with psycopg.connect(base, autocommit=True) as connection:
        tables = [
            r[0]
            for r in connection.execute(
                "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname IN (%s, %s) "
                "AND c.relkind IN ('r', 't')",
                (schema, f"{schema}_keys"),  # the log's schema, and the keys' (issue 15)
            )
        ]
        assert tables, "the store's tables are in the test's schema"
        rows = b""
        for table in tables:
            for row in connection.execute(f"SELECT * FROM {table}"):
                rows += repr(row).encode()
        assert found_in(rows) == [], "the tables' rows"
        if data_folder is None:
            pytest.skip("the rows are clean; the server's data files are not readable here")
        connection.execute("CHECKPOINT")  # what the server holds in memory goes to its files
        files = [
            data_folder / r[0]
            for r in connection.execute(
                "SELECT pg_relation_filepath(c.oid) FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = %s "
                "AND pg_relation_filepath(c.oid) IS NOT NULL",
                (schema,),
            )
        ]
    raw = b"".join(p.read_bytes() for p in files if p.exists())
    assert raw, "the tables' files were read"
    assert found_in(raw) == [], "the raw bytes of the tables' files"
    platform.close()


def test_the_subject_access_export_holds_everything_about_the_person(tmp_path: Path) -> None:
    platform = platform_on("memory:", tmp_path / "media")
    journey = decided_journey(platform)
    assert journey.candidate_id is not None
    export = export_candidate(platform.ctx, platform.projections, journey.candidate_id)
    text = json.dumps(export)
    assert export["personal_data"]["email"] == EMAIL
    assert export["personal_data"]["portal_profile"]["birth_date"] == "1990-05-17"
    whats = {fact["what"] for fact in export["history"]}
    assert {"CandidateRegistered", "Enrolled", "SessionOpened", "ExamBegun"} <= whats
    assert {"ReviewDecided", "ResultsReleased"} <= whats
    assert len(export["media"]) == 5 and not any(m["deleted"] for m in export["media"])
    assert "argon2" not in text  # password hashes are not the person's data to take away
    platform.close()


def test_nothing_is_mailed_to_an_erased_person(tmp_path: Path) -> None:
    platform = platform_on("memory:", tmp_path / "media")
    journey = Journey(platform, email=EMAIL)
    journey.sent_for_review()
    examiner = eve(platform)
    journey.decided(examiner)
    assert journey.candidate_id is not None and journey.review_id is not None
    erase_candidate(
        platform.ctx,
        platform.keys,
        platform.projections,
        journey.candidate_id,
        reason="request",
        by="a test",
        system_account="tests@127.0.0.1",
    )
    sent_before = len(platform.mailer.sent)  # type: ignore[attr-defined]
    # a result mail is decided
    reviewing.release_results(platform.ctx, journey.review_id, released_by=examiner)
    platform.settle()
    assert len(platform.mailer.sent) == sent_before  # type: ignore[attr-defined]
    [given_up] = platform.projections.failed_mails()
    assert given_up.kind == "results" and "erased" in given_up.last_error
    platform.close()
