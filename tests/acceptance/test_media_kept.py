"""Issue 12, items 9 and 10: a photo or a recording is kept only when the session accepts the
command (R9, R10), only when its bytes are a photo (JPEG, PNG) or a recording (WebM,
Matroska), and is named by the media store's own reference, which erasure deletes whatever the
adapter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from adapters.media.memory import FileMedia, MemoryMedia
from app.live_recording import record_live_event
from app.mail_rendering import SupportContact
from app.media_content import UnacceptedMedia
from app.ports.live_media import Segment, SegmentId
from app.ports.media_capture import MediaCapture
from app.privacy import erase_candidate
from app.recording import stored_media_ids
from app.use_cases import proctoring
from domain.errors import DomainError
from domain.proctored_session import EnvironmentPart, ProctoredSession
from tests.acceptance.web import csrf, log_in
from ui.journey import FACE_PHOTO, PARIS, Journey, make_platform
from ui.web.app import create_app
from vigie_contracts.samples import ebml_sample, jpeg_sample, png_sample

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


def media_platform(media_root: Path | None) -> Platform:
    return bootstrap(
        Settings(
            database_url="memory:",
            media_root=None if media_root is None else str(media_root),
            time_zone="Europe/Paris",
            launcher="memory",
        ),
        clock=ManualClock(datetime(2025, 1, 27, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(7),
    )


def kept(media: MediaCapture, root: Path | None = None) -> frozenset[str]:
    """Every media the store holds, read from the store itself."""
    if isinstance(media, MemoryMedia):
        return frozenset(media.blobs)
    assert root is not None
    return frozenset(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# How far the honest journey goes before the command is tried: every state a refusal can
# come from (not entered, checks not done, photos done, exam launched, session closed).
STAGES: dict[str, Callable[[Journey], object]] = {
    "created": lambda j: None,
    "entered": lambda j: j.enter(),
    "equipment checked": lambda j: (j.enter(), j.pass_attestations(), j.pass_equipment()),
    "photos taken": lambda j: (
        j.enter(),
        j.pass_attestations(),
        j.pass_equipment(),
        j.take_photos(),
    ),
    "ears recording": lambda j: (
        j.enter(),
        j.pass_attestations(),
        j.pass_equipment(),
        j.take_photos(),
        proctoring.start_environment_recording(j.ctx, _sid(j), EnvironmentPart.EARS),
    ),
    "exam launched": lambda j: j.through_checks(),
    "closed": lambda j: (j.through_checks(), j.start_exam(), j.answer_and_send()),
}


def referred(platform: Platform, journey: Journey) -> set[str]:
    """The media the session's log refers to, as the platform's media store names them."""
    return set(stored_media_ids(platform.ctx.store.history(_sid(journey)), platform.ctx.media))


def _sid(journey: Journey) -> UUID:
    assert journey.session_id is not None
    return journey.session_id


COMMANDS: dict[str, Callable[[Journey, bytes], object]] = {
    "face photo": lambda j, data: proctoring.take_face_photo(j.ctx, _sid(j), data),
    "ID photo": lambda j, data: proctoring.take_id_photo(j.ctx, _sid(j), data),
    **{
        f"{part.value} recording stopped": (
            lambda j, data, part=part: proctoring.stop_environment_recording(
                j.ctx, _sid(j), part, data, duration_s=30.0
            )
        )
        for part in EnvironmentPart
    },
}

CONTENTS = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([SVG, HTML, b"", b"\x1a\x45\xdf\xa3", ebml_sample(b"html")]),
    st.binary(max_size=32).map(jpeg_sample),
    st.binary(max_size=32).map(png_sample),
    st.binary(max_size=32).map(lambda tag: ebml_sample(b"webm", tag)),
    st.binary(max_size=32).map(lambda tag: ebml_sample(b"matroska", tag)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stage=st.sampled_from(sorted(STAGES)),
    command=st.sampled_from(sorted(COMMANDS)),
    data=CONTENTS,
)
def test_a_refused_photo_or_recording_leaves_nothing_in_the_media_store(
    stage: str, command: str, data: bytes
) -> None:
    """Issue 12, item 9 (R9, R10): whatever the refusal (out of order, closed session, bytes
    that are no photo or recording) and whatever the bytes, the media store is unchanged; an
    accepted one adds exactly the media its event names."""
    platform = make_platform()
    try:
        journey = Journey(platform)
        journey.enrol()
        journey.create_session()
        STAGES[stage](journey)
        media = platform.ctx.media
        before = kept(media)
        history_before = len(list(platform.ctx.store.history(_sid(journey))))
        try:
            COMMANDS[command](journey, data)
        except DomainError:
            assert kept(media) == before
            assert len(list(platform.ctx.store.history(_sid(journey)))) == history_before
        else:
            added = kept(media) - before
            recorded = set(
                stored_media_ids(platform.ctx.store.history(_sid(journey)), platform.ctx.media)
            )
            assert len(added) == 1 and added <= recorded
    finally:
        platform.close()


@pytest.fixture
def on_disk(tmp_path: Path) -> Iterator[tuple[Platform, Path]]:
    platform = media_platform(tmp_path / "media")
    yield platform, tmp_path / "media"
    platform.close()


@pytest.mark.parametrize(
    ("content", "declared"),
    [(SVG, "image/svg+xml"), (HTML, "image/jpeg"), (b"GIF89a....", "image/gif")],
)
def test_an_svg_html_or_gif_sent_as_a_photo_is_refused_naming_the_photo_in_french_and_english(
    on_disk: tuple[Platform, Path], content: bytes, declared: str
) -> None:
    """R9: the bytes decide, not the declared type; nothing is written to the media folder."""
    platform, root = on_disk
    journey = Journey(platform)
    journey.enrol()
    journey.create_session()
    STAGES["equipment checked"](journey)
    with pytest.raises(UnacceptedMedia) as refused:
        proctoring.take_face_photo(platform.ctx, _sid(journey), content)
    assert refused.value.field == "photo"
    assert refused.value.in_language("fr") == "la photo doit être une image JPEG, PNG ou WebP"
    assert refused.value.in_language("en") == "the photo must be a JPEG, PNG or WebP image"
    assert kept(platform.ctx.media, root) == frozenset()


def test_a_photo_taken_before_the_checks_writes_no_file(on_disk: tuple[Platform, Path]) -> None:
    """R9 out of order: the session refuses before anything is written to disk."""
    platform, root = on_disk
    journey = Journey(platform)
    journey.enrol()
    journey.create_session()
    journey.enter()
    with pytest.raises(DomainError):
        proctoring.take_face_photo(platform.ctx, _sid(journey), FACE_PHOTO)
    assert kept(platform.ctx.media, root) == frozenset()


def test_a_recording_sent_after_the_session_closed_writes_no_file(
    on_disk: tuple[Platform, Path],
) -> None:
    """R10 on a closed session: refused, and the media folder holds only the accepted media."""
    platform, root = on_disk
    journey = Journey(platform)
    journey.sent_for_review()
    before = kept(platform.ctx.media, root)
    assert len(before) == 5  # two photos, three environment recordings
    with pytest.raises(DomainError):
        proctoring.stop_environment_recording(
            platform.ctx,
            _sid(journey),
            EnvironmentPart.DESK,
            ebml_sample(tag=b"late"),
            duration_s=30.0,
        )
    assert kept(platform.ctx.media, root) == before


class _ConflictingStore:
    """The real store, except that every save loses to another writer (a persistent
    ConcurrencyConflict, as under heavy contention)."""

    def __init__(self, store: object) -> None:
        self._store = store

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    def save(self, *aggregates: object, **kwargs: object) -> int:
        from app.ports.event_store import ConcurrencyConflict

        raise ConcurrencyConflict("another writer saved the session first")


def test_a_photo_whose_event_cannot_be_saved_is_deleted_again(
    on_disk: tuple[Platform, Path],
) -> None:
    """Item 9: written after the decision, removed when the save fails: no orphan file."""
    from dataclasses import replace

    from app.ports.event_store import ConcurrencyConflict

    platform, root = on_disk
    journey = Journey(platform)
    journey.enrol()
    journey.create_session()
    STAGES["equipment checked"](journey)
    losing = replace(platform.ctx, store=_ConflictingStore(platform.ctx.store))  # type: ignore[arg-type]
    with pytest.raises(ConcurrencyConflict):
        proctoring.take_face_photo(losing, _sid(journey), FACE_PHOTO)
    assert kept(platform.ctx.media, root) == frozenset()
    assert not platform.ctx.store.get(_sid(journey), ProctoredSession).face_photo_taken


@pytest.mark.parametrize("adapter", ["memory", "files"])
def test_erasure_deletes_every_media_the_adapter_kept_whatever_its_naming(
    tmp_path: Path, adapter: str
) -> None:
    """Item 10: the events record the adapter's references and erasure deletes by them, so
    the in-memory store (references of its own) and the file store end up equally empty."""
    root = tmp_path / "media"
    platform = media_platform(root if adapter == "files" else None)
    try:
        media = platform.ctx.media
        assert isinstance(media, MemoryMedia if adapter == "memory" else FileMedia)
        journey = Journey(platform)
        journey.sent_for_review()
        recorded = set(
            stored_media_ids(platform.ctx.store.history(_sid(journey)), platform.ctx.media)
        )
        assert kept(media, root) == recorded and len(recorded) == 5
        assert journey.candidate_id is not None
        report = erase_candidate(
            platform.ctx,
            platform.keys,
            platform.projections,
            journey.candidate_id,
            reason="the candidate asked",
            by="a test",
            system_account="tests@127.0.0.1",
        )
        assert set(report.media_deleted) == recorded and report.media_missing == []
        assert kept(media, root) == frozenset()
    finally:
        platform.close()


def test_erasure_deletes_the_live_segments_the_recorder_wrote_into_the_media_store(
    on_disk: tuple[Platform, Path],
) -> None:
    """Item 10: a segment is named by the recorder's id in the log; the file store says where
    it keeps it (`live_segment`), and erasure deletes it through the port."""
    platform, _ = on_disk
    media = platform.ctx.media
    assert isinstance(media, FileMedia)
    journey = Journey(platform)
    journey.enrol()
    journey.create_session()
    journey.enter()
    session = _sid(journey)
    started = platform.ctx.now()
    journey.clock.advance(seconds=30)
    segment_file = media.live_root / str(session) / "segment-1.mkv"  # where the recorder writes
    segment_file.parent.mkdir(parents=True)
    segment_file.write_bytes(ebml_sample(b"matroska", b"thirty seconds"))
    recorded = record_live_event(
        platform.ctx,
        Segment(
            SegmentId("segment-1"),
            session,
            started,
            platform.ctx.now(),
            f"{session}/segment-1.mkv",
            segment_file.stat().st_size,
            "sha256:" + "0" * 64,
        ),
    )
    assert recorded and referred(platform, journey) == {f"live/{session}/segment-1.mkv"}
    assert journey.candidate_id is not None
    report = erase_candidate(
        platform.ctx,
        platform.keys,
        platform.projections,
        journey.candidate_id,
        reason="asked",
        by="a test",
        system_account="tests@127.0.0.1",
    )
    assert report.media_deleted == [f"live/{session}/segment-1.mkv"]
    assert not segment_file.exists()


def test_an_svg_uploaded_as_a_jpeg_photo_is_refused_on_the_page_and_the_api(
    on_disk: tuple[Platform, Path],
) -> None:
    """R9 through the web, as a browser or a script would send it: the page says why in
    French, naming the field; the API answers 415 naming the field; nothing is written. The
    camera's real JPEG is then taken."""
    platform, root = on_disk
    journey = Journey(platform)
    journey.enrol()
    journey.create_session()
    STAGES["equipment checked"](journey)
    journey.set_password("candidat-pass-1")
    session = _sid(journey)
    with TestClient(create_app(platform, secret=b"t" * 32, support=SupportContact())) as client:
        log_in(client, "/login", journey.email, "candidat-pass-1")
        page = client.post(
            f"/exams/{session}/do/face-photo",
            files={"photo": ("visage.jpg", SVG, "image/jpeg")},
            headers=csrf(client),
            follow_redirects=False,
        )
        assert page.status_code == 415
        assert "Photo : la photo doit être une image JPEG, PNG ou WebP" in page.text
        api = client.post(
            f"/api/sessions/{session}/steps/face-photo",
            files={"photo": ("visage.html", HTML, "image/png")},
            headers=csrf(client),
        )
        assert api.status_code == 415 and api.json()["field"] == "photo"
        assert kept(platform.ctx.media, root) == frozenset()
        taken = client.post(
            f"/api/sessions/{session}/steps/face-photo",
            files={"photo": ("visage.jpg", FACE_PHOTO, "image/jpeg")},
            headers=csrf(client),
        )
        assert taken.status_code == 200
    assert kept(platform.ctx.media, root) == referred(platform, journey)
    assert len(referred(platform, journey)) == 1


def test_an_environment_recording_stopped_before_issue_12_is_still_found_and_erased(
    on_disk: tuple[Platform, Path],
) -> None:
    """Old events keep working: `EnvironmentRecordingStopped` had no reference (decoded as "")
    and the file store named the file after the hash; erasure still finds and deletes it."""
    import hashlib

    import msgspec
    from eventsourcing.persistence import StoredEvent

    from adapters.persistence.msgspec_mapper import MsgspecMapper, MsgspecTranscoder

    platform, root = on_disk
    journey = Journey(platform)
    journey.enrol()
    journey.create_session()
    STAGES["ears recording"](journey)
    session_id = _sid(journey)
    recording = ebml_sample(tag=b"ears, recorded in 2025")
    digest = hashlib.sha256(recording).hexdigest()
    old_file = root / str(session_id) / f"environment-ears-{digest[:16]}"  # the old name
    old_file.write_bytes(recording)
    session = platform.ctx.store.get(session_id, ProctoredSession)
    session.stop_environment_recording(  # as the use case did then: no reference
        at=platform.ctx.now(),
        part=EnvironmentPart.EARS,
        content_hash=f"sha256:{digest}",
        duration_s=30.0,
    )
    stopped = session.collect_events()[-1]
    mapper = MsgspecMapper(transcoder=MsgspecTranscoder())
    stored = mapper.to_stored_event(stopped)
    old_state = {k: v for k, v in msgspec.json.decode(stored.state).items() if k != "media_id"}
    decoded = mapper.to_domain_event(
        StoredEvent(
            stored.originator_id,
            stored.originator_version,
            stored.topic,
            msgspec.json.encode(old_state),
        )
    )
    assert isinstance(decoded, ProctoredSession.EnvironmentRecordingStopped)
    assert decoded.media_id == ""
    session = platform.ctx.store.get(session_id, ProctoredSession)
    session.stop_environment_recording(
        at=platform.ctx.now(),
        part=EnvironmentPart.EARS,
        content_hash=f"sha256:{digest}",
        duration_s=30.0,
    )
    platform.ctx.store.save(session)
    expected = f"{session_id}/environment-ears-{digest[:16]}"
    assert expected in referred(platform, journey)
    assert journey.candidate_id is not None
    report = erase_candidate(
        platform.ctx,
        platform.keys,
        platform.projections,
        journey.candidate_id,
        reason="asked",
        by="a test",
        system_account="tests@127.0.0.1",
    )
    assert expected in report.media_deleted and not old_file.exists()
    assert kept(platform.ctx.media, root) == frozenset()
