"""Issue 15, point 3: media on S3-compatible object storage. A candidate's photos and
environment recordings sent through the web app land in the bucket (moto's S3 server on
127.0.0.1), with the live recorder's segment; the examiner plays them back by range requests;
`vigie privacy erase` then deletes every object of the candidate and records what it deleted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from adapters.media.s3 import S3Media
from app.live_recording import record_live_event
from app.mail_rendering import SupportContact
from app.ports.live_media import Segment, SegmentId
from app.ports.media_capture import MediaUnavailable
from app.privacy import delete_session_media
from app.recording import stored_media_ids
from app.use_cases import proctoring, reviewing
from domain.proctored_session import EnvironmentPart, ProctoredSession
from domain.staff import Role
from tests.acceptance.test_recording_length import webm
from tests.acceptance.test_tenancy import PASSWORD as STAFF_PASSWORD
from tests.acceptance.test_tenancy import enrolled_by, staff
from tests.acceptance.web import csrf, log_in
from tests.concurrency.served import free_port
from tests.s3_server import KEYS, client, endpoint, keys_in, new_bucket
from ui.cli import main
from ui.journey import FACE_PHOTO, ID_PHOTO, Journey
from ui.web.app import create_app
from vigie_contracts.samples import ebml_sample

SECRET = b"s" * 32
CANDIDATE_PASSWORD = "s3-candidate-1"


@pytest.fixture
def on_s3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Settings, str]]:
    """Settings for a platform whose media go to a fresh bucket, also set in the environment
    for the command line (the same SQLite file, keys folder and bucket)."""
    bucket = new_bucket()
    env = {
        "VIGIE_DATABASE_URL": f"sqlite:///{tmp_path}/vigie.sqlite",
        "VIGIE_MEDIA_ROOT": str(tmp_path / "spool"),
        "VIGIE_MEDIA_URL": f"s3://{bucket}/media",
        "VIGIE_S3_ENDPOINT_URL": endpoint(),
        "VIGIE_S3_ACCESS_KEY_ID": KEYS["aws_access_key_id"],
        "VIGIE_S3_SECRET_ACCESS_KEY": KEYS["aws_secret_access_key"],
        "VIGIE_SECRET_KEY": SECRET.decode(),
        "VIGIE_LAUNCHER": "memory",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    yield Settings.from_env(), bucket


def _platform(settings: Settings) -> Platform:
    return bootstrap(
        settings,
        clock=ManualClock(datetime(2025, 3, 4, 8, 0, tzinfo=UTC)),
        ids=SeededIds(23),
    )


def _checks_through_the_web(journey: Journey, app: Any) -> dict[str, bytes]:
    """The candidate's photos and recordings, sent as the checks page's script sends them."""
    sid = journey.session_id
    sent: dict[str, bytes] = {}
    with TestClient(app) as client:
        log_in(client, "/login", journey.email, CANDIDATE_PASSWORD)

        def step(action: str, **files: tuple[str, bytes, str]) -> None:
            reply = client.post(
                f"/api/sessions/{sid}/steps/{action}", files=files or None, headers=csrf(client)
            )
            assert reply.status_code == 200, reply.text

        step("face-photo", photo=("visage.jpg", FACE_PHOTO, "image/jpeg"))
        proctoring.confirm_face_photo(journey.ctx, sid)  # type: ignore[arg-type]
        step("id-photo", photo=("identite.jpg", ID_PHOTO, "image/jpeg"))
        proctoring.confirm_id_photo(journey.ctx, sid)  # type: ignore[arg-type]
        for part in EnvironmentPart:
            step(f"env-start-{part.value}")
            journey.clock.advance(seconds=15)
            video = webm(12, rate=2)
            sent[part.value] = video
            step(f"env-stop-{part.value}", recording=(f"{part.value}.webm", video, "video/webm"))
    return sent


def test_a_candidates_media_live_in_the_bucket_play_by_ranges_and_erasure_empties_it(
    on_s3: tuple[Settings, str], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, bucket = on_s3
    platform = _platform(settings)
    try:
        assert isinstance(platform.ctx.media, S3Media)
        centre = staff(platform, "centre", Role.CENTRE)
        eve = staff(platform, "eve", Role.EXAMINER)
        journey = enrolled_by(platform, centre, "camille.s3@example.org")
        journey.set_password(CANDIDATE_PASSWORD)
        journey.create_session()
        journey.enter()
        journey.pass_attestations()
        journey.pass_equipment()
        app = create_app(
            platform,
            secret=SECRET,
            support=SupportContact(),
            live_media_root=Path(settings.media_root or "") / "live",
        )
        recordings = _checks_through_the_web(journey, app)
        sid = journey.session_id
        assert sid is not None
        journey.attempt_id = platform.ctx.store.get(sid, ProctoredSession).attempt_id
        platform.settle()
        journey.start_exam()
        # The live recorder finishes a segment on this node's disk and hands it to the store.
        segment_file = Path(settings.media_root or "") / "live" / str(sid) / "segment-1.mkv"
        segment_file.parent.mkdir(parents=True)
        segment_bytes = ebml_sample(b"matroska", b"one minute of the exam" * 50)
        segment_file.write_bytes(segment_bytes)
        platform.ctx.media.keep_live_segment(f"{sid}/segment-1.mkv", segment_file)
        assert not segment_file.exists()  # uploaded, then gone from the node
        started = platform.ctx.now()
        journey.clock.advance(seconds=60)
        assert record_live_event(
            platform.ctx,
            Segment(
                SegmentId("segment-1"),
                sid,
                started,
                platform.ctx.now(),
                f"{sid}/segment-1.mkv",
                len(segment_bytes),
                "sha256:" + "0" * 64,
            ),
        )
        journey.answer_and_send()
        assert journey.review_id is not None
        reviewing.assign_examiner(platform.ctx, journey.review_id, eve)

        # Every media the log refers to is an object of the bucket, and nothing else is.
        referred = stored_media_ids(platform.ctx.store.history(sid), platform.ctx.media)
        assert len(referred) == 2 + len(EnvironmentPart) + 1
        assert keys_in(bucket) == sorted(f"media/{m}" for m in referred)

        with TestClient(app) as examiner:
            log_in(examiner, "/staff/login", "eve@example.org", STAFF_PASSWORD)
            face = next(m for m in referred if "face-photo" in m)
            shown = examiner.get(f"/examiner/reviews/{journey.review_id}/media/{face}")
            assert shown.status_code == 200 and shown.content == FACE_PHOTO
            assert shown.headers["content-type"] == "image/jpeg"
            room = next(m for m in referred if "environment" in m)
            whole = examiner.get(f"/examiner/reviews/{journey.review_id}/media/{room}").content
            assert whole in recordings.values()
            seek = examiner.get(
                f"/examiner/reviews/{journey.review_id}/media/{room}",
                headers={"Range": "bytes=100-199"},
            )
            assert seek.status_code == 206 and seek.content == whole[100:200]
            assert seek.headers["content-range"] == f"bytes 100-199/{len(whole)}"
            assert seek.headers["content-type"] == "video/webm"
            played = examiner.get(
                f"/media/sessions/{sid}/segment-1.mkv", headers={"Range": "bytes=-10"}
            )
            assert played.status_code == 206 and played.content == segment_bytes[-10:]
        # A photo written just before its process died, its event never saved: an orphan
        # the log does not name, which erasure finds by listing the session's objects.
        orphan = platform.ctx.media.store(sid, "face-photo", FACE_PHOTO).media_id
        candidate_id = journey.candidate_id
    finally:
        platform.close()

    assert main(["privacy", "erase", str(candidate_id), "--reason", "request #15", "--yes"]) == 0
    assert f"{len(referred) + 1} media deleted in 1 session(s)" in capsys.readouterr().out
    assert keys_in(bucket) == []  # nothing of hers is left in the bucket
    platform = _platform(settings)
    try:
        (deleted,) = [
            e
            for e in platform.ctx.store.history(sid)
            if isinstance(e, ProctoredSession.MediaDeleted)
        ]
        assert sorted(deleted.media_ids) == sorted([*referred, orphan])
        assert deleted.not_found == () and deleted.left == ()
    finally:
        platform.close()


def test_an_object_store_that_cannot_delete_leaves_the_media_pending_and_says_so(
    on_s3: tuple[Settings, str],
) -> None:
    """Erasure records only what the store did: a media it could not reach stays listed as
    left (tried again by the next run), never recorded as deleted."""
    settings, bucket = on_s3
    platform = _platform(settings)
    try:
        journey = Journey(platform, email="lea.s3@example.org")
        journey.enrol()
        journey.create_session()
        journey.enter()
        journey.pass_attestations()
        journey.pass_equipment()
        journey.take_photos()
        sid = journey.session_id
        assert sid is not None
        photos = stored_media_ids(platform.ctx.store.history(sid), platform.ctx.media)
        # The ID photo was already removed around Vigie (another node's folder, a hand).
        assert platform.ctx.media.delete(photos[1]) is True

        class Flaky(S3Media):
            def delete(self, media_id: str) -> bool:
                if media_id == photos[0]:
                    raise MediaUnavailable("the object store is down")
                return super().delete(media_id)

        flaky = Flaky(
            settings.media_url or "",
            endpoint_url=endpoint(),
            access_key_id=KEYS["aws_access_key_id"],
            secret_access_key=KEYS["aws_secret_access_key"],
        )
        at = platform.ctx.now() + timedelta(days=1)
        done = delete_session_media(
            replace(platform.ctx, media=flaky), sid, at=at, reason="erasure"
        )
        assert (done.deleted, done.not_found, done.left) == ([], [photos[1]], [photos[0]])
        event = platform.ctx.store.history(sid)[-1]
        assert isinstance(event, ProctoredSession.MediaDeleted)
        assert event.media_ids == () and event.not_found == (photos[1],)
        assert event.left == (photos[0],)
        assert keys_in(bucket) == [f"media/{photos[0]}"]
        again = delete_session_media(platform.ctx, sid, at=at, reason="erasure")
        assert (again.deleted, again.not_found, again.left) == ([photos[0]], [], [])
        assert keys_in(bucket) == []
    finally:
        platform.close()


def test_ready_says_whether_the_bucket_answers(on_s3: tuple[Settings, str]) -> None:
    """/ready's media check on object storage: the bucket answers, or it is named failed."""
    from ui.readiness import media_problem_at_start, run_checks

    settings, bucket = on_s3
    platform = _platform(settings)
    try:
        [media] = [check for check in run_checks(platform) if check.name == "media"]
        assert media.ok and bucket in media.detail
        client().delete_bucket(Bucket=bucket)  # type: ignore[attr-defined]
        [media] = [check for check in run_checks(platform) if check.name == "media"]
        assert not media.ok and bucket in media.detail
        # Which setting to check, for an operator: a missing bucket is not a network fault.
        assert "VIGIE_MEDIA_URL" in media.detail and "does not answer" not in media.detail
        assert media_problem_at_start(platform) == media.detail.split(": ", 1)[1]
    finally:
        platform.close()


def test_an_s3_server_that_does_not_answer_names_its_setting(
    on_s3: tuple[Settings, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui.readiness import media_problem_at_start

    monkeypatch.setenv("VIGIE_S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    platform = _platform(Settings.from_env())
    try:
        problem = media_problem_at_start(platform)
        assert problem is not None and "VIGIE_S3_ENDPOINT_URL" in problem
    finally:
        platform.close()


def test_verify_media_reads_back_every_file_the_log_names_and_names_the_altered_and_missing(
    on_s3: tuple[Settings, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """The chain check (`verify-store`) proves the log unchanged, not the files it points
    to: two live segments overwritten in the bucket after a node died read INTACT (an
    operator's review). `vigie audit verify-media` hashes each file again."""
    settings, bucket = on_s3
    platform = _platform(settings)
    try:
        journey = Journey(platform, email="camille.verify@example.org")
        journey.in_exam()
        # A live segment, as a node hands it to the store, with its digest in the log.
        sid = journey.session_id
        assert sid is not None
        data = ebml_sample(b"matroska", b"one minute of the exam" * 50)
        node_file = Path(settings.media_root or "") / "live" / str(sid) / "segment-1.mkv"
        node_file.parent.mkdir(parents=True)
        node_file.write_bytes(data)
        platform.ctx.media.keep_live_segment(f"{sid}/segment-1.mkv", node_file)
        started = platform.ctx.now()
        journey.clock.advance(seconds=60)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        segment = Segment(
            SegmentId("segment-1"), sid, started, platform.ctx.now(), f"{sid}/segment-1.mkv",
            len(data), digest,
        )  # fmt: skip
        assert record_live_event(platform.ctx, segment)
        kept = stored_media_ids(platform.ctx.store.history(sid), platform.ctx.media)
    finally:
        platform.close()
    assert len(kept) == 6  # two photos, three environment recordings, one segment
    assert main(["audit", "verify-media"]) == 0
    said = capsys.readouterr().out
    assert "6 files named by the log: 6 kept" in said and "INTACT" in said
    s3 = client()
    # The segment overwritten, as a second node's segment-0001 did; a photo gone.
    s3.put_object(Bucket=bucket, Key=f"media/{kept[-1]}", Body=b"another node's")  # type: ignore[attr-defined]
    s3.delete_object(Bucket=bucket, Key=f"media/{kept[0]}")  # type: ignore[attr-defined]
    assert main(["audit", "verify-media"]) == 1
    said = capsys.readouterr().out
    assert f"ALTERED: {kept[-1]}" in said and f"MISSING: {kept[0]}" in said
    assert "NOT INTACT: 1 missing, 1 altered" in said
