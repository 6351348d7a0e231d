"""Issue 8: the retention process deletes a session's photos and recordings some days after
its final decision (per certification), never while the appeal period runs or an appeal
waits, and records what it deleted; every decision still replays afterwards."""

from __future__ import annotations

from uuid import UUID

from app.recording import stored_media_ids
from app.replay import replay_review
from app.use_cases import accounts, appeals, reviewing
from domain.evidence import ReasonCode, Verdict
from domain.proctored_session import RETENTION, ProctoredSession
from domain.review import AppealOutcome, CitedReason, Review
from domain.staff import Role
from ui.journey import Journey, make_platform

RETENTION_DAYS = 365  # the shipped certification's (catalogue default)
APPEAL_DAYS = 14


def examiner(journey: Journey, name: str) -> UUID:
    return accounts.register_staff(
        journey.ctx,
        email=f"{name}@example.org",
        name=name,
        role=Role.EXAMINER,
        password="examiner-pass-1",
    )


def decided_and_sent(journey: Journey, verdict: Verdict) -> Review:
    review = journey.ctx.store.get(journey.sent_for_review(), Review)
    reasons: tuple[CitedReason, ...] = ()
    if verdict is Verdict.INVALIDATED:
        launched = next(e for e in review.evidence if e.kind == "ExamLaunched")
        reasons = (CitedReason(ReasonCode.HEADPHONES, (launched.id,)),)
    eve = examiner(journey, "eve")
    journey.decided(eve, verdict, reasons)
    reviewing.release_results(journey.ctx, review.id, released_by=eve)
    journey.platform.settle()
    return journey.ctx.store.get(review.id, Review)


def media_of(journey: Journey) -> tuple[str, ...]:
    assert journey.session_id is not None
    return stored_media_ids(journey.ctx.store.history(journey.session_id), journey.ctx.media)


def still_stored(journey: Journey, media_ids: tuple[str, ...]) -> list[str]:
    kept = []
    for media_id in media_ids:
        try:
            journey.ctx.media.load(media_id)
        except KeyError:
            continue
        kept.append(media_id)
    return kept


def test_media_go_a_retention_period_after_the_final_decision_and_the_deletion_is_recorded() -> (
    None
):
    journey = Journey(make_platform())
    decided_and_sent(journey, Verdict.VALIDATED)
    media = media_of(journey)
    assert len(media) == 5 and still_stored(journey, media) == list(media)  # 2 photos, 3 videos
    journey.clock.advance(days=RETENTION_DAYS)
    assert journey.platform.tick().media_purged == []  # the last day is kept
    assert still_stored(journey, media) == list(media)
    journey.clock.advance(days=1)
    report = journey.platform.tick()
    assert report.media_purged == [journey.session_id]
    assert still_stored(journey, media) == []
    assert journey.session_id is not None
    deleted = [
        e
        for e in journey.ctx.store.history(journey.session_id)
        if isinstance(e, ProctoredSession.MediaDeleted)
    ]
    assert len(deleted) == 1 and set(deleted[0].media_ids) == set(media)
    assert deleted[0].reason.startswith("retention")
    assert journey.platform.tick().media_purged == []  # once
    assert journey.review_id is not None
    assert replay_review(journey.ctx.store, journey.review_id).matches  # the audit holds


def test_an_open_appeal_keeps_the_media_until_its_decision_plus_the_period() -> None:
    journey = Journey(make_platform())
    review = decided_and_sent(journey, Verdict.INVALIDATED)
    assert journey.candidate_id is not None
    journey.clock.advance(days=APPEAL_DAYS)
    appeals.lodge_appeal(
        journey.ctx, review.id, candidate_id=journey.candidate_id, reason="bouchons prescrits"
    )
    media = media_of(journey)
    journey.clock.advance(days=RETENTION_DAYS + 30)
    assert journey.platform.tick().media_purged == []  # the appeal waits: nothing goes
    assert still_stored(journey, media) == list(media)
    second = examiner(journey, "paul")
    appeals.take_appeal(journey.ctx, review.id, second)
    appeals.decide_appeal(
        journey.ctx,
        review.id,
        examiner_id=second,
        outcome=AppealOutcome.UPHELD,
        answer="the recording shows headphones on the desk and worn during the exam",
    )
    journey.clock.advance(days=RETENTION_DAYS)
    assert journey.platform.tick().media_purged == []
    journey.clock.advance(days=1)
    assert journey.platform.tick().media_purged == [journey.session_id]
    assert still_stored(journey, media) == []


def test_nothing_is_deleted_while_the_candidate_may_still_appeal() -> None:
    journey = Journey(make_platform())
    decided_and_sent(journey, Verdict.INVALIDATED)
    media = media_of(journey)
    journey.clock.advance(days=APPEAL_DAYS)
    assert journey.platform.tick().media_purged == []
    assert still_stored(journey, media) == list(media)


def test_a_retention_pass_that_left_media_in_an_unreachable_store_is_done_only_once_they_go() -> (
    None
):
    """Issue 15: the fact says what the store deleted, did not hold, or could not be asked
    about; media left stay pending (the next pass tries them), and the retention pass is not
    done until none is left. A pass that only meets the same unreachable store records
    nothing new."""
    from vigie_contracts.samples import a_closed_session, minutes

    session = a_closed_session()
    session.collect_events()
    reason = f"{RETENTION}: 30 days after the final decision"
    session.record_media_deleted(
        at=minutes(60),
        media_ids=("s/photo",),
        reason=reason,
        not_found=("s/gone",),
        left=("s/rec",),
    )
    (first,) = session.collect_events()
    assert isinstance(first, ProctoredSession.MediaDeleted)
    assert (first.media_ids, first.not_found, first.left) == (("s/photo",), ("s/gone",), ("s/rec",))
    assert session.deleted_media == ("s/photo", "s/gone") and not session.retention_done
    session.record_media_deleted(at=minutes(61), media_ids=(), reason=reason, left=("s/rec",))
    assert session.collect_events() == []  # the store still down: nothing new to say
    session.record_media_deleted(at=minutes(62), media_ids=("s/rec",), reason=reason)
    (second,) = session.collect_events()
    assert isinstance(second, ProctoredSession.MediaDeleted) and second.media_ids == ("s/rec",)
    assert session.retention_done
