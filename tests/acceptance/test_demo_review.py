"""`make run` gives the examiner a review to open: the demo seeds Léa Petit's exam, sent for
review yesterday with a phone flagged seven minutes into it, with real photos and
environment recordings the examiner's page shows and plays (ui.demo_review)."""

from __future__ import annotations

import html
import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import av
import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from adapters.mail.memory import MemoryMailer
from adapters.media.duration import recording_seconds
from app import reach
from app.mail_rendering import SupportContact
from app.media_content import MediaFormat, media_format
from app.policies import PolicyRunner, default_policies
from app.recording import recording_of, session_media
from app.use_cases import portal, reviewing
from domain.evidence import FlagKind, Verdict
from domain.exam_attempt import ExamAttempt
from domain.proctored_session import MIN_RECORDING_S, EnvironmentPart, ProctoredSession
from domain.review import Review
from tests.acceptance.web import log_in
from ui import demo_review
from ui.journey import PARIS
from ui.serve import DEMO_PASSWORD, EXAMINER_EMAIL, seed_demo
from ui.web.app import create_app

SECRET = b"d" * 32
TODAY = datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = bootstrap(
        Settings(database_url="memory:", media_root=None, secret_key=SECRET.decode()),
        clock=ManualClock(TODAY),
        ids=SeededIds(21),
    )
    yield platform
    platform.close()


def examiner_of(platform: Platform) -> Any:
    platform.projections.catch_up(platform.ctx.store)
    return platform.projections.staff_by_email[EXAMINER_EMAIL]


def reviews_to_do(platform: Platform) -> list[reach.ReviewSummary]:
    platform.projections.catch_up(platform.ctx.store)
    return reach.reviews_due_for(
        platform.ctx, platform.projections, examiner_of(platform), TODAY.date()
    )


def sent(platform: Platform) -> tuple[ProctoredSession, ExamAttempt, Review]:
    progress = demo_review.progress_of(platform)
    assert progress.session is not None and progress.attempt is not None
    review = platform.ctx.store.get(reviewing.review_id_for(progress.attempt.id), Review)
    return progress.session, progress.attempt, review


def test_after_the_demo_seed_the_examiner_has_one_review_to_do_and_a_second_seed_adds_none(
    platform: Platform,
) -> None:
    seed_demo(platform)
    [due] = reviews_to_do(platform)
    _, _, review = sent(platform)
    assert due.review_id == review.id and due.examiner_id is None  # in the queue, to take
    assert demo_review.review_waiting(platform)  # the start's announcement says so
    head = platform.ctx.store.head()
    seed_demo(platform)  # the next start
    assert platform.ctx.store.head() == head
    assert [r.review_id for r in reviews_to_do(platform)] == [review.id]
    # Decided, it is no longer announced as waiting (nor seeded again).
    reviewing.assign_examiner(platform.ctx, review.id, examiner_of(platform))
    reviewing.decide_review(
        platform.ctx, review.id, examiner_id=examiner_of(platform), verdict=Verdict.VALIDATED
    )
    seed_demo(platform)
    assert not demo_review.review_waiting(platform)
    assert reviews_to_do(platform) == []


def test_the_accounts_alone_where_the_sample_exam_is_not_wanted(platform: Platform) -> None:
    """`--demo` on PostgreSQL (a shared platform and its bucket): the trial's accounts, no
    invented candidate's exam, photos and recordings among real ones."""
    seed_demo(platform, sample_exam=False)
    assert reviews_to_do(platform) == []
    assert not demo_review.review_waiting(platform)


def test_r16_r19_the_demo_exam_reads_as_yesterday_afternoon_and_its_review_is_due_not_overdue(
    platform: Platform,
) -> None:
    seed_demo(platform)
    session, attempt, review = sent(platform)
    yesterday = TODAY.date() - timedelta(days=1)
    history = [*platform.ctx.store.history(session.id), *platform.ctx.store.history(attempt.id)]
    for stream in (session.id, attempt.id, review.id):
        times = [e.timestamp for e in platform.ctx.store.history(stream)]
        assert times == sorted(times)  # each stream in time order
    assert {e.timestamp.astimezone(PARIS).date() for e in history} == {yesterday}
    assert attempt.begun_at is not None and attempt.finished_at is not None
    assert timedelta(minutes=50) <= attempt.finished_at - attempt.begun_at <= timedelta(minutes=70)
    assert len(attempt.answers) == len(attempt.question_ids)  # answered along the hour
    answered = [e.timestamp for e in history if isinstance(e, ExamAttempt.AnswerGiven)]
    assert max(answered) - min(answered) >= timedelta(minutes=45)
    # The phone, flagged seven minutes into the exam (its span counts from her entry).
    [entered] = [e for e in history if isinstance(e, ProctoredSession.SessionEntered)]
    [flag] = [e for e in history if isinstance(e, ProctoredSession.FlagRaised)]
    assert flag.kind is FlagKind.PHONE
    assert entered.timestamp + timedelta(seconds=flag.span.start_s) == attempt.begun_at + timedelta(
        minutes=7
    )
    opened = next(iter(platform.ctx.store.history(review.id)))
    assert isinstance(opened, Review.ReviewOpened)
    assert opened.timestamp.astimezone(PARIS).date() == yesterday
    assert review.due_on == yesterday + timedelta(days=8) > TODAY.date()  # R19: due, not late
    assert review.recommendation is not None
    assert [h.reason.value for h in review.recommendation.hints] == ["phone_used"]


def test_r9_r10_the_demo_photos_are_jpeg_pictures_and_its_recordings_webm_videos_with_a_length(
    platform: Platform,
) -> None:
    seed_demo(platform)
    session, _, _ = sent(platform)
    media = session_media(platform.ctx.store.history(session.id))
    photos = [m for m in media if m.kind == "image"]
    videos = [m for m in media if m.kind == "video"]
    assert [m.label for m in photos] == ["Visage", "Identité"]
    assert [m.label for m in videos] == [part.value for part in EnvironmentPart]
    for photo in photos:
        data = platform.ctx.media.load(photo.media_id)
        assert media_format(data) is MediaFormat.JPEG
        with av.open(io.BytesIO(data)) as container:
            picture = next(container.decode(video=0))
        assert (picture.width, picture.height) == (640, 480)
    for video in videos:
        data = platform.ctx.media.load(video.media_id)
        assert media_format(data) is MediaFormat.WEBM
        part = EnvironmentPart(video.label)
        assert recording_seconds(data) > MIN_RECORDING_S[part]
        with av.open(io.BytesIO(data)) as container:
            assert container.streams.video[0].codec_context.name == "vp8"
            frames = sum(1 for _ in container.decode(video=0))
        assert frames > 1


def test_the_examiner_opens_the_demo_review_and_its_photos_and_recordings_are_served(
    platform: Platform,
) -> None:
    seed_demo(platform)
    _, _, review = sent(platform)
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/staff/login", EXAMINER_EMAIL, DEMO_PASSWORD)
        listed = html.unescape(client.get("/examiner/reviews").text)
        assert "PETIT Léa" in listed and f"/examiner/reviews/{review.id}" in listed
        page = html.unescape(client.get(f"/examiner/reviews/{review.id}").text)
        assert "Signalement (téléphone)" in page
        served = {}
        for media in session_media(platform.ctx.store.history(review.session_id)):
            if media.kind == "segment":  # the player's (the next test)
                continue
            path = f"/examiner/reviews/{review.id}/media/{media.media_id}"
            assert f'src="{path}"' in page
            reply = client.get(path)
            assert reply.status_code == 200
            served[media.label] = reply.headers["content-type"]
    assert served == {
        "Visage": "image/jpeg",
        "Identité": "image/jpeg",
        "ears": "video/webm",
        "room": "video/webm",
        "desk": "video/webm",
    }


def test_the_first_worker_pass_after_the_seed_sends_her_mails_and_does_nothing_twice(
    platform: Platform,
) -> None:
    """The seed decides what a worker did for her (her workspace, her review) without moving
    any policy (a web process does no background work, issue 15): the worker's pass over her
    events then decides and sends her mails and finds the rest done, nothing parked."""
    seed_demo(platform)
    store = platform.ctx.store
    assert [store.position_of(p.name) for p in default_policies()] == [0] * len(default_policies())
    platform.settle()  # the worker's first pass
    assert platform.parked.catch_up(store) == []
    assert PolicyRunner(platform.ctx, default_policies()).run_until_quiet() == 0
    opened = [
        r for r in store.read(0, store.head() + 1) if isinstance(r.event, Review.ReviewOpened)
    ]
    assert len(opened) == 1
    mailer = platform.mailer
    assert isinstance(mailer, MemoryMailer)
    subjects = [m.subject for m in mailer.to(demo_review.EMAIL)]
    assert len(subjects) == 3, subjects  # invitation, welcome, « copie envoyée »
    assert any("envoyée" in s for s in subjects), subjects


def test_a_demo_review_seed_stopped_half_way_is_completed_by_the_next_start(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C in the middle of her exam: the next start goes on from the answer she was
    at, on her same day, and sends the exam once; the one after records nothing."""
    real = portal.answer_question
    given: list[str] = []

    def stopped_at_the_fourth(*args: Any, **kwargs: Any) -> None:
        if len(given) == 3:
            raise KeyboardInterrupt
        given.append(kwargs["question_id"])
        real(*args, **kwargs)

    monkeypatch.setattr(portal, "answer_question", stopped_at_the_fourth)
    with pytest.raises(KeyboardInterrupt):
        seed_demo(platform)
    monkeypatch.setattr(portal, "answer_question", real)
    platform.ctx.clock.advance(hours=3)  # type: ignore[attr-defined]
    seed_demo(platform)  # the next start
    head = platform.ctx.store.head()
    seed_demo(platform)
    assert platform.ctx.store.head() == head
    [due] = reviews_to_do(platform)
    session, attempt, review = sent(platform)
    assert due.review_id == review.id
    assert len(attempt.answers) == len(attempt.question_ids)
    for stream in (session.id, attempt.id):
        times = [e.timestamp for e in platform.ctx.store.history(stream)]
        assert times == sorted(times)
        assert {t.astimezone(PARIS).date() for t in times} == {TODAY.date() - timedelta(days=1)}


def _dark_pixels(segment: bytes, at_s: float) -> int:
    """How many pixels are nearly black in the segment's picture at that second."""
    with av.open(io.BytesIO(segment)) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time >= at_s:
                picture = frame.to_ndarray(format="rgb24")
                return int((picture.max(axis=2) < 60).sum())
    raise AssertionError(f"no picture at {at_s} s")


def test_the_demo_review_has_her_surveillance_recording_with_the_phone_in_view(
    platform: Platform,
) -> None:
    """The examiner's player said « Aucun enregistrement de la surveillance » and the phone's
    moment had no still (a reviewer's tour): her camera is recorded from her entry to the
    sending, in one segment without a gap, and the phone is in view when it was flagged."""
    seed_demo(platform)
    session, _, review = sent(platform)
    recording = recording_of(platform.ctx.store.history(session.id))
    [segment] = recording.segments
    assert segment.span.start_s == 0 and recording.gap_seconds == 0
    assert segment.span.end_s == (session.closed_at - session.started_at).total_seconds()
    [phone] = [f for f in review.evidence if f.flag is FlagKind.PHONE]
    assert phone.span is not None
    data = platform.ctx.media.load(platform.ctx.media.live_segment(segment.media_id))
    assert recording_seconds(data) >= segment.span.end_s
    assert _dark_pixels(data, phone.span.start_s + 1) > 200  # the phone, held up
    assert _dark_pixels(data, phone.span.start_s - 30) < 50  # before it: her at her desk
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/staff/login", EXAMINER_EMAIL, DEMO_PASSWORD)
        page = html.unescape(client.get(f"/examiner/reviews/{review.id}").text)
        assert "Aucun enregistrement de la surveillance" not in page
        # The phone is a hint: never cited for her, and the page says so where it said
        # « les moments que la recommandation cite pour un motif sont déjà cochés » (a
        # reviewer ticked « téléphone » and looked for the phone's moment ticked).
        reviewing.assign_examiner(platform.ctx, review.id, examiner_of(platform))
        taken = html.unescape(client.get(f"/examiner/reviews/{review.id}").text)
        assert "un indice à vérifier ne l'est jamais" in taken
        path = f"/media/sessions/{segment.media_id}"
        assert path in page
        played = client.get(path, headers={"range": "bytes=0-1023"})
        assert played.status_code == 206
        still = client.get(f"{path}/still/{int((phone.span.start_s + 1) * 1000)}")
        assert still.status_code == 200 and still.headers["content-type"] == "image/jpeg"
        # A fact at a recorded second has that second's still (its box stood empty): her
        # face photo, taken at 14:02:30, 260 s after her entry.
        face = next(e for e in review.evidence if e.kind == "FacePhotoTaken")
        row = page[page.index(f'id="m-{face.id.replace("/", "-")}"') :]
        row = row[: row.index("</li>")]
        assert f'src="{path}/still/260000"' in row
