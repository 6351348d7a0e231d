"""Issue 7: what the live recorder reports becomes the session's facts, and the examiner sees
the recording with its gaps and flags; a closed proctoring tab (R17) leads the review to
recommend invalidation. The recorder here is the in-memory one, driven by the journey's
clock (the aiortc one passes the same contract in tests/property)."""

from __future__ import annotations

import asyncio
import json

import pytest

from adapters.media.live_memory import MemoryLiveRecorder, MemoryPeer
from app.live_recording import media_origin, record_live_event
from app.ports.live_media import LiveEvent
from app.recording import recording_of
from domain.evidence import FlagKind, ReasonCode, Verdict
from domain.proctored_session import ProctoredSession
from domain.review import Review
from ui.journey import Journey, make_platform

HEARTBEAT = json.dumps({"type": "heartbeat"})


def wire(journey: Journey, grace_s: float) -> tuple[MemoryLiveRecorder, list[LiveEvent]]:
    """A recorder whose reports go straight to the use case, as the web app's sink does."""
    reported: list[LiveEvent] = []

    def sink(event: LiveEvent) -> None:
        reported.append(event)
        record_live_event(journey.ctx, event)

    return MemoryLiveRecorder(journey.clock, sink, grace_s=grace_s), reported


def connect(journey: Journey, recorder: MemoryLiveRecorder) -> MemoryPeer:
    assert journey.session_id is not None
    origin = media_origin(journey.ctx, journey.session_id)
    peer = MemoryPeer(recorder, journey.clock)
    peer.accept(asyncio.run(recorder.open(journey.session_id, peer.offer(), origin)))
    return peer


def play_with_heartbeats(peer: MemoryPeer, seconds: int) -> None:
    for _ in range(seconds):
        peer.send(HEARTBEAT)
        peer.play(1)


def session_events(journey: Journey) -> list[object]:
    assert journey.session_id is not None
    return list(journey.ctx.store.history(journey.session_id))


def test_a_cut_connection_leaves_two_segments_and_one_gap_of_its_span() -> None:
    journey = Journey(make_platform())
    journey.enrol()
    journey.create_session()
    journey.enter()
    recorder, _ = wire(journey, grace_s=30)
    journey.clock.advance(seconds=4)  # the page loads: media time starts at the entry
    peer = connect(journey, recorder)
    play_with_heartbeats(peer, 6)
    peer.send(json.dumps({"type": "signal", "kind": "focus_lost"}))
    peer.hang_up()  # the network drops
    journey.clock.advance(seconds=5)
    peer = connect(journey, recorder)  # the page reconnects on its own
    play_with_heartbeats(peer, 4)
    assert journey.session_id is not None
    asyncio.run(recorder.close(journey.session_id))

    events = session_events(journey)
    segments = [e for e in events if isinstance(e, ProctoredSession.SegmentRecorded)]
    gaps = [e for e in events if isinstance(e, ProctoredSession.RecordingGap)]
    flags = [e for e in events if isinstance(e, ProctoredSession.FlagRaised)]
    assert len(segments) == 2 and len(gaps) == 1
    assert segments[0].span.start_s == pytest.approx(4, abs=0.05)
    assert segments[0].span.end_s == pytest.approx(10, abs=0.05)
    assert gaps[0].span.start_s == pytest.approx(10, abs=0.05)
    assert gaps[0].span.end_s == pytest.approx(15, abs=0.05)
    assert segments[1].span.start_s == pytest.approx(15, abs=0.05)
    assert all(s.content_hash.startswith("sha256:") and s.size > 0 for s in segments)
    assert [f.kind for f in flags] == [FlagKind.TAB_FOCUS_LOST]
    assert not [e for e in events if isinstance(e, ProctoredSession.ProctoringTabClosed)]

    view = recording_of(events)  # what the examiner's player shows
    # The signal came after the last frame before the cut: inside the gap.
    assert [m.kind for m in view.marks] == ["segment", "gap", "flag", "segment"]
    assert view.gap_seconds == pytest.approx(5, abs=0.1)
    assert view.recorded_seconds == pytest.approx(10, abs=0.1)


def test_a_first_connection_lost_with_its_node_leaves_a_gap_from_the_entry() -> None:
    """Issue 15: the node holding her first connection is killed before its segment is kept;
    her page goes on through another node. The examiner sees that the recording starts late:
    a gap from the entry to the first kept second, where the log said nothing of it."""
    journey = Journey(make_platform())
    journey.enrol()
    journey.create_session()
    journey.enter()
    killed = MemoryLiveRecorder(journey.clock, lambda event: None, grace_s=30)  # reports nothing
    journey.clock.advance(seconds=3)
    play_with_heartbeats(connect(journey, killed), 60)
    journey.clock.advance(seconds=4)  # her page offers again, to the node still up
    recorder, _ = wire(journey, grace_s=30)
    play_with_heartbeats(connect(journey, recorder), 10)
    assert journey.session_id is not None
    asyncio.run(recorder.close(journey.session_id))

    events = session_events(journey)
    [gap] = [e for e in events if isinstance(e, ProctoredSession.RecordingGap)]
    [segment] = [e for e in events if isinstance(e, ProctoredSession.SegmentRecorded)]
    assert gap.span.start_s == 0
    assert gap.span.end_s == pytest.approx(67, abs=0.05) == segment.span.start_s
    view = recording_of(events)
    assert [m.kind for m in view.marks] == ["gap", "segment"]
    assert view.gap_seconds == pytest.approx(67, abs=0.1)


def test_a_first_connection_opened_while_she_answers_the_browser_leaves_no_gap() -> None:
    """The camera's first connection waits for her answer to the browser's question: some
    seconds after the entry, which is not a gap (FIRST_GAP_TOLERANCE_S)."""
    journey = Journey(make_platform())
    journey.enrol()
    journey.create_session()
    journey.enter()
    recorder, _ = wire(journey, grace_s=30)
    journey.clock.advance(seconds=25)
    play_with_heartbeats(connect(journey, recorder), 5)
    assert journey.session_id is not None
    asyncio.run(recorder.close(journey.session_id))

    events = session_events(journey)
    assert not [e for e in events if isinstance(e, ProctoredSession.RecordingGap)]
    assert [m.kind for m in recording_of(events).marks] == ["segment"]


def test_reports_repeated_by_the_recorder_are_recorded_once() -> None:
    journey = Journey(make_platform())
    journey.enrol()
    journey.create_session()
    journey.enter()
    recorder, reported = wire(journey, grace_s=30)
    peer = connect(journey, recorder)
    play_with_heartbeats(peer, 2)
    assert journey.session_id is not None
    asyncio.run(recorder.close(journey.session_id))
    before = len(session_events(journey))
    for event in reported:  # a worker restarted and reported everything again
        record_live_event(journey.ctx, event)
    assert len(session_events(journey)) == before


def sent_after_closing_the_proctoring_tab(
    journey: Journey,
) -> list[ProctoredSession.ProctoringTabClosed]:
    """The journey to its sent exam, the proctoring tab closed 3 s into the exam (the
    recorder's grace 5 s): the session's ProctoringTabClosed facts."""
    journey.in_exam()
    recorder, _ = wire(journey, grace_s=5)
    peer = connect(journey, recorder)
    play_with_heartbeats(peer, 3)
    peer.play(8)  # the tab is closed: media and heartbeats stop arriving
    journey.answer_and_send()
    return [
        e for e in session_events(journey) if isinstance(e, ProctoredSession.ProctoringTabClosed)
    ]


def test_closing_the_proctoring_tab_during_the_exam_leads_to_an_invalidation_r17() -> None:
    journey = Journey(make_platform())
    closed = sent_after_closing_the_proctoring_tab(journey)
    assert len(closed) == 1 and closed[0].during_exam
    assert closed[0].span.end_s - closed[0].span.start_s == pytest.approx(5, abs=1.1)
    assert journey.review_id is not None
    review = journey.ctx.store.get(journey.review_id, Review)
    recommendation = review.recommendation
    assert recommendation is not None and recommendation.verdict is Verdict.INVALIDATED
    cited = f"{closed[0].originator_id}/{closed[0].originator_version}"
    assert any(
        g.reason is ReasonCode.PROCTORING_TAB_CLOSED and cited in g.evidence_ids
        for g in recommendation.grounds
    )


def test_nothing_is_recorded_for_a_session_that_is_over() -> None:
    journey = Journey(make_platform())
    journey.in_exam()
    journey.answer_and_send()
    recorder, _ = wire(journey, grace_s=2)
    before = len(session_events(journey))
    peer = connect(journey, recorder)
    peer.play(4)  # heartbeats stop: a closed session takes no R17 fact
    closed = [
        e for e in session_events(journey) if isinstance(e, ProctoredSession.ProctoringTabClosed)
    ]
    assert closed == []
    assert len(session_events(journey)) == before
