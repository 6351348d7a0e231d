"""Tenancy in the use cases (issue 14): a centre acts only on its own enrolments and reviews,
the hotline on every centre's; an examiner reads their own reviews and the queue; only the
examiner who decided releases the results; every view of a candidate's media is recorded,
once a minute per viewer and media, and the person can read who looked (privacy export) as
an auditor can (the decision's page)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform
from app import reach
from app.mail_rendering import SupportContact
from app.media_views import record_view, starts_playback, views_of_session
from app.privacy import export_candidate
from app.recording import session_media
from app.tenancy import centre_of_operator
from app.use_cases import accommodations, accounts, enrolment, reviewing
from domain.access import OutOfReach
from domain.errors import RuleBroken
from domain.evidence import Verdict
from domain.media_view import MediaView, ViewedMedia
from domain.review import Review
from domain.staff import Role
from tests.acceptance.web import log_in
from ui.journey import PARIS, Journey, make_platform
from ui.web.app import create_app

PASSWORD = "tenancy-pass-12"
TUESDAY_2PM = datetime(2025, 1, 28, 14, 0, tzinfo=PARIS)


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = make_platform()
    yield platform
    platform.close()


def staff(platform: Platform, name: str, role: Role) -> UUID:
    return accounts.register_staff(
        platform.ctx, email=f"{name}@example.org", name=name.title(), role=role, password=PASSWORD
    )


def enrolled_by(platform: Platform, centre: UUID, email: str) -> Journey:
    journey = Journey(platform, email=email, centre_id=centre_of_operator(centre))
    journey.enrol()
    return journey


def test_a_centre_books_live_supervision_on_its_own_enrolment_never_on_another_centres(
    platform: Platform,
) -> None:
    ours, theirs = staff(platform, "ours", Role.CENTRE), staff(platform, "theirs", Role.CENTRE)
    hotline = staff(platform, "hotline", Role.SUPPORT)
    journey = enrolled_by(platform, ours, "a@example.org")
    journey.create_session(live_supervision=True)
    eid = journey.enrollment_id
    assert eid is not None
    head = platform.ctx.store.head()
    for unknown_or_foreign in (eid, uuid4()):
        with pytest.raises(OutOfReach) as refused:
            enrolment.book_live_supervision_slot(
                platform.ctx, unknown_or_foreign, slot=TUESDAY_2PM, booked_by=theirs
            )
        # The same words whether it exists or not: nothing is learnt from the refusal.
        assert str(refused.value) == "no enrolment of yours with that id"
    assert platform.ctx.store.head() == head
    enrolment.book_live_supervision_slot(platform.ctx, eid, slot=TUESDAY_2PM, booked_by=ours)
    enrolment.book_live_supervision_slot(platform.ctx, eid, slot=TUESDAY_2PM, booked_by=hotline)
    assert enrolment.find_enrollment(platform.ctx, eid).supervision_slot == TUESDAY_2PM


def test_an_examiner_or_an_unknown_account_books_nothing(platform: Platform) -> None:
    ours = staff(platform, "ours", Role.CENTRE)
    eve = staff(platform, "eve", Role.EXAMINER)
    journey = enrolled_by(platform, ours, "a@example.org")
    journey.create_session(live_supervision=True)
    for who in (eve, uuid4()):
        with pytest.raises(OutOfReach):
            enrolment.book_live_supervision_slot(
                platform.ctx,
                journey.enrollment_id,
                slot=TUESDAY_2PM,
                booked_by=who,  # type: ignore[arg-type]
            )


def test_a_centre_grants_accommodations_only_on_its_own_enrolments(platform: Platform) -> None:
    ours, theirs = staff(platform, "ours", Role.CENTRE), staff(platform, "theirs", Role.CENTRE)
    journey = enrolled_by(platform, ours, "a@example.org")
    eid = journey.enrollment_id
    assert eid is not None
    with pytest.raises(OutOfReach):
        accommodations.grant_accommodation(
            platform.ctx, eid, granted_by=theirs, extra_time_percent=33, arrangements=""
        )
    assert accommodations.accommodation_of_enrollment(platform.ctx, eid) is None
    accommodations.grant_accommodation(
        platform.ctx, eid, granted_by=ours, extra_time_percent=33, arrangements=""
    )
    granted = accommodations.accommodation_of_enrollment(platform.ctx, eid)
    assert granted is not None and granted.granted_by == ours


def sent(platform: Platform, centre: UUID, email: str) -> Journey:
    journey = Journey(platform, email=email, centre_id=centre_of_operator(centre))
    journey.sent_for_review()
    return journey


def test_a_centre_reassigns_its_own_candidates_reviews_and_lists_only_them(
    platform: Platform,
) -> None:
    ours, theirs = staff(platform, "ours", Role.CENTRE), staff(platform, "theirs", Role.CENTRE)
    hotline = staff(platform, "hotline", Role.SUPPORT)
    eve, max_ = staff(platform, "eve", Role.EXAMINER), staff(platform, "max", Role.EXAMINER)
    mine, other = sent(platform, ours, "a@example.org"), sent(platform, theirs, "b@example.org")
    rid = mine.review_id
    assert rid is not None and other.review_id is not None
    with pytest.raises(OutOfReach):
        reviewing.reassign_review(
            platform.ctx, rid, examiner_id=eve, reassigned_by=theirs, reason="congés"
        )
    with pytest.raises(OutOfReach):  # an examiner is no lead
        reviewing.reassign_review(
            platform.ctx, rid, examiner_id=eve, reassigned_by=max_, reason="x"
        )
    assert reviewing.reassign_review(
        platform.ctx, rid, examiner_id=eve, reassigned_by=ours, reason="congés"
    )
    assert reviewing.reassign_review(
        platform.ctx, rid, examiner_id=max_, reassigned_by=hotline, reason="retour"
    )
    platform.projections.catch_up(platform.ctx.store)
    today = platform.ctx.now().date()

    def listed(who: UUID) -> set[UUID]:
        return {
            r.review_id
            for r in reach.reviews_due_for(platform.ctx, platform.projections, who, today)
        }

    assert listed(ours) == {rid}
    assert listed(theirs) == {other.review_id}
    assert listed(hotline) == {rid, other.review_id}


def test_an_examiner_lists_their_own_reviews_and_the_queue_never_another_examiners(
    platform: Platform,
) -> None:
    centre = staff(platform, "centre", Role.CENTRE)
    eve, max_ = staff(platform, "eve", Role.EXAMINER), staff(platform, "max", Role.EXAMINER)
    evess, maxs, queued = (sent(platform, centre, f"{n}@example.org") for n in ("e", "m", "q"))
    reviewing.assign_examiner(platform.ctx, evess.review_id, eve)  # type: ignore[arg-type]
    reviewing.assign_examiner(platform.ctx, maxs.review_id, max_)  # type: ignore[arg-type]
    platform.projections.catch_up(platform.ctx.store)
    today = platform.ctx.now().date()
    seen = {
        r.review_id for r in reach.reviews_due_for(platform.ctx, platform.projections, eve, today)
    }
    assert seen == {evess.review_id, queued.review_id}
    with TestClient(create_app(platform, secret=b"t" * 32, support=SupportContact())) as client:
        log_in(client, "/staff/login", "eve@example.org", PASSWORD)
        page = client.get("/examiner/reviews").text
        assert str(evess.review_id) in page and str(queued.review_id) in page
        assert str(maxs.review_id) not in page
        assert client.get(f"/examiner/reviews/{maxs.review_id}").status_code == 404
        assert client.get(f"/examiner/reviews/{queued.review_id}").status_code == 200
        due = client.get("/api/reviews/due").json()
        assert {d["review_id"] for d in due} == {str(evess.review_id), str(queued.review_id)}


def test_only_the_examiner_who_decided_releases_the_results_r19(platform: Platform) -> None:
    centre = staff(platform, "centre", Role.CENTRE)
    eve, max_ = staff(platform, "eve", Role.EXAMINER), staff(platform, "max", Role.EXAMINER)
    auditor = staff(platform, "ada", Role.AUDITOR)
    journey = sent(platform, centre, "a@example.org")
    journey.decided(eve, Verdict.VALIDATED)
    rid = journey.review_id
    assert rid is not None
    for someone_else in (max_, auditor, centre):
        with pytest.raises(RuleBroken) as refused:
            reviewing.release_results(platform.ctx, rid, released_by=someone_else)
        assert refused.value.rule == "R19"
    with TestClient(create_app(platform, secret=b"t" * 32, support=SupportContact())) as client:
        log_in(client, "/staff/login", "max@example.org", PASSWORD)
        token = client.cookies.get("vigie_csrf") or ""
        refused_page = client.post(f"/examiner/reviews/{rid}/release", data={"_csrf_token": token})
        assert refused_page.status_code == 404  # not his review: not found
    assert not platform.ctx.store.get(rid, Review).released
    reviewing.release_results(platform.ctx, rid, released_by=eve)
    released = platform.ctx.store.history(rid)[-1]
    assert isinstance(released, Review.ResultsReleased) and released.released_by == eve


# --- every view of a candidate's media is recorded ---------------------------------------------


def test_a_play_starts_at_byte_zero_and_its_later_ranges_are_the_same_view() -> None:
    assert starts_playback(None) and starts_playback("") and starts_playback("bytes=0-")
    assert starts_playback("bytes=0-1023")
    assert not starts_playback("bytes=1024-") and not starts_playback("bytes=500-999")


def test_one_view_a_minute_per_viewer_and_media(platform: Platform) -> None:
    centre = staff(platform, "centre", Role.CENTRE)
    eve, max_ = staff(platform, "eve", Role.EXAMINER), staff(platform, "max", Role.EXAMINER)
    journey = sent(platform, centre, "a@example.org")
    sid = journey.session_id
    assert sid is not None

    def view(who: UUID, media: str = "face", what: ViewedMedia = ViewedMedia.PHOTO) -> bool:
        return record_view(
            platform.ctx,
            viewer_id=who,
            viewer_role="examiner",
            session_id=sid,
            media=media,
            what=what,
        )

    assert view(eve) and not view(eve)  # the page reloaded in the same minute
    assert view(max_) and view(eve, "id") and view(eve, "face", ViewedMedia.STILL)
    journey.clock.advance(seconds=61)
    assert view(eve)
    views = views_of_session(platform.ctx, platform.projections, sid)
    assert [(v.viewer_name, v.media, v.what) for v in views] == [
        ("Eve", "face", ViewedMedia.PHOTO),
        ("Max", "face", ViewedMedia.PHOTO),
        ("Eve", "id", ViewedMedia.PHOTO),
        ("Eve", "face", ViewedMedia.STILL),
        ("Eve", "face", ViewedMedia.PHOTO),
    ]
    # The record holds ids only: the candidate's name stays in the candidate's stream.
    record = platform.ctx.store.history(
        next(r.originator_id for r in _views(platform))  # any view
    )[0]
    assert journey.email not in repr(record)


def _views(platform: Platform) -> list[Any]:
    return [
        r.event
        for r in platform.ctx.store.read(0, 10_000)
        if isinstance(r.event, MediaView.MediaViewed)
    ]


def test_the_examiners_look_at_a_photo_is_kept_and_read_by_the_person_and_the_auditor(
    platform: Platform,
) -> None:
    centre = staff(platform, "centre", Role.CENTRE)
    eve = staff(platform, "eve", Role.EXAMINER)
    staff(platform, "ada", Role.AUDITOR)
    journey = sent(platform, centre, "a@example.org")
    rid, sid = journey.review_id, journey.session_id
    assert rid is not None and sid is not None and journey.candidate_id is not None
    reviewing.assign_examiner(platform.ctx, rid, eve)
    photo = next(
        m.media_id for m in session_media(platform.ctx.store.history(sid)) if m.kind == "image"
    )
    app = create_app(platform, secret=b"t" * 32, support=SupportContact())
    with TestClient(app) as client:
        log_in(client, "/staff/login", "eve@example.org", PASSWORD)
        page = client.get(f"/examiner/reviews/{rid}").text
        assert f"/examiner/reviews/{rid}/media/{photo}" in page
        for _ in range(3):  # the page shown three times in a minute: one view
            shown = client.get(f"/examiner/reviews/{rid}/media/{photo}")
            assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
        assert client.get(f"/examiner/reviews/{rid}/media/{sid}/not-recorded").status_code == 404
    assert len(_views(platform)) == 1
    export = export_candidate(platform.ctx, platform.projections, journey.candidate_id)
    assert [
        (v["viewer"], v["viewer_role"], v["what"], v["media"]) for v in export["media_views"]
    ] == [("Eve", "examiner", "photo", photo)]
    journey.decided(eve, Verdict.VALIDATED)
    with TestClient(app) as client:
        log_in(client, "/staff/login", "ada@example.org", PASSWORD)
        audit = client.get(f"/auditor/reviews/{rid}").text
        assert "Qui a regardé les images du candidat (1)" in audit
        assert "Eve (examinateur)" in audit and "une photo" in audit


def test_a_repeated_view_is_refused_by_postgresql_too_and_the_store_goes_on(
    postgres_url: str,
) -> None:
    """The dedupe is the store's own refusal of a second stream with the same id: on
    PostgreSQL as on SQLite, and the connection keeps working after it."""
    platform = make_platform(postgres_url)
    try:
        centre = staff(platform, "centre", Role.CENTRE)
        eve = staff(platform, "eve", Role.EXAMINER)
        journey = sent(platform, centre, "a@example.org")
        sid = journey.session_id
        assert sid is not None

        def view() -> bool:
            return record_view(
                platform.ctx,
                viewer_id=eve,
                viewer_role="examiner",
                session_id=sid,
                media="face",
                what=ViewedMedia.PHOTO,
            )

        assert [view(), view()] == [True, False]
        journey.clock.advance(minutes=1)
        assert view()
        assert len(views_of_session(platform.ctx, platform.projections, sid)) == 2
    finally:
        platform.close()
