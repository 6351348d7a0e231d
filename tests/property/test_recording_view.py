"""Issue 15: the examiner's recording view shows as gaps only what no segment covers. A gap
is recorded from the segments known when the next one arrives; across nodes a segment may
arrive after a later one (the node holding an earlier connection notices its end last), and
then lies inside a recorded gap. Whatever the order of arrival, the view's gaps never
overlap a segment, and gaps and segments together still cover every second the log's did."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from app.recording import TAIL_TOLERANCE_S, MarkKind, recording_of
from domain.evidence import MediaSpan
from domain.proctored_session import ProctoredSession
from domain.rules import CURRENT_RULES
from ui.web.review_moments import moments

AT = datetime(2025, 3, 17, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))


def entered() -> ProctoredSession:
    session = ProctoredSession.open(
        session_id=UUID(int=1),
        enrollment_id=UUID(int=2),
        candidate_id=UUID(int=3),
        certification_code="ENI-ACCESS",
        exam_duration_minutes=90,
        rules=CURRENT_RULES,
        live_supervision=False,
        at=AT,
    )
    session.enter(at=AT + timedelta(seconds=1), terms_accepted=True)
    return session


def recorded_in_order_of_arrival(
    spans: list[MediaSpan], closed_s: float | None = None, closed_after: int | None = None
) -> list[Any]:
    """An entered session's events once the segments of these spans arrived in this order;
    closed at second `closed_s` of its recording once `closed_after` of them had (all)."""
    session = entered()
    for n, span in enumerate(spans):
        if closed_s is not None and n == closed_after:
            session.close(at=AT + timedelta(seconds=1 + closed_s))
        session.record_segment(
            at=AT + timedelta(minutes=10 + n),
            segment_id=f"s{n}",
            media_id=f"s{n}.mkv",
            span=span,
            size=1,
            content_hash="sha256:00",
        )
    if closed_s is not None and (closed_after is None or closed_after >= len(spans)):
        session.close(at=AT + timedelta(seconds=1 + closed_s))
    return list(session.collect_events())


def union(spans: list[MediaSpan]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for span in sorted(spans, key=lambda s: s.start_s):
        if merged and span.start_s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], span.end_s))
        else:
            merged.append((span.start_s, span.end_s))
    return merged


def overlap(a: MediaSpan, b: MediaSpan) -> float:
    return max(0.0, min(a.end_s, b.end_s) - max(a.start_s, b.start_s))


def _laid_out(steps: list[tuple[float, float]]) -> list[MediaSpan]:
    spans, t = [], 0.0
    for pause, length in steps:
        spans.append(MediaSpan(t + pause, t + pause + length))
        t += pause + length
    return spans


# Connections of one session, in media order, each arriving in any order.
connections = st.lists(
    st.tuples(st.floats(0, 120), st.floats(0.5, 300)), min_size=1, max_size=6
).map(_laid_out)


@given(spans=connections, data=st.data())
def test_the_view_s_gaps_are_what_no_segment_covers_whatever_the_order_of_arrival(
    spans: list[MediaSpan], data: st.DataObject
) -> None:
    arrival = data.draw(st.permutations(spans))
    history = recorded_in_order_of_arrival(arrival)
    recorded_gaps = [e.span for e in history if isinstance(e, ProctoredSession.RecordingGap)]
    view = recording_of(history)
    shown_gaps = [m.span for m in view.marks if m.kind is MarkKind.GAP]
    segments = [m.span for m in view.segments]
    assert all(overlap(g, s) < 1e-9 for g in shown_gaps for s in segments)
    assert union(shown_gaps + segments) == union(recorded_gaps + spans)
    if arrival == sorted(spans, key=lambda s: s.start_s):  # in order: the view is the log
        assert shown_gaps == recorded_gaps


def test_a_gap_split_by_a_late_segment_is_two_rows_of_the_review_with_keys_of_their_own() -> None:
    """The review page's rows are anchors (`id="m-<key>"`) and citations (the key): the
    gap's first piece is the recorded fact, the second a row of its own."""
    history = recorded_in_order_of_arrival([MediaSpan(62, 65), MediaSpan(3, 60)])  # later first
    view = recording_of(history)
    gaps = [m.span for m in view.marks if m.kind is MarkKind.GAP]
    assert gaps == [MediaSpan(0, 3), MediaSpan(60, 62)]
    review = SimpleNamespace(evidence=(), recommendation=None)
    rows = moments(review, view, history, "fr")  # type: ignore[arg-type]
    keys = [row.key for row in rows]
    assert len(keys) == len(set(keys)) == 4


# Off the tolerance by a millisecond at least: the closure's time is kept to the microsecond.
afters = st.floats(0, 600).filter(lambda after: abs(after - TAIL_TOLERANCE_S) > 1e-3)


@given(spans=connections, after=afters, data=st.data())
def test_segments_and_gaps_reach_the_closure_whatever_the_order_of_arrival(
    spans: list[MediaSpan], after: float, data: st.DataObject
) -> None:
    """A recording whose end no segment reached (the node holding her last connection died,
    and she sent the exam before her page came back through another) ends with a gap up to
    the closure, where nothing in the log said the end was missing; within
    TAIL_TOLERANCE_S of it, nothing: her page closes its connection as she sends."""
    arrival = data.draw(st.permutations(spans))
    last = max(s.end_s for s in spans)
    closed_after = data.draw(st.integers(0, len(spans)), label="segments before the closure")
    view = recording_of(recorded_in_order_of_arrival(arrival, last + after, closed_after))
    shown = [m.span for m in view.marks if m.kind in (MarkKind.GAP, MarkKind.SEGMENT)]
    tails = [m.span for m in view.marks if m.kind is MarkKind.GAP and m.span.start_s == last]
    if after > TAIL_TOLERANCE_S:
        assert len(tails) == 1 and abs(tails[0].end_s - (last + after)) < 1e-5
        assert max(s.end_s for s in shown) == tails[0].end_s
    else:
        assert not tails and max(s.end_s for s in shown) == last
    assert all(overlap(g, s.span) < 1e-9 for g in tails for s in view.segments)


def test_a_recording_that_stopped_long_before_the_exam_was_sent_ends_with_a_gap_row() -> None:
    """The examiner's rows: the end without recording is a row of its own, not citable (no
    recorded fact says it), counted in the session's seconds without recording."""
    history = recorded_in_order_of_arrival([MediaSpan(3, 60), MediaSpan(65, 1500)], 1820.0)
    view = recording_of(history)
    assert [m.span for m in view.marks if m.kind is MarkKind.GAP] == [
        MediaSpan(60, 65),
        MediaSpan(1500, 1820),
    ]
    assert view.gap_seconds == 325
    review = SimpleNamespace(evidence=(), recommendation=None)
    rows = moments(review, view, history, "fr")  # type: ignore[arg-type]
    end = [row for row in rows if row.start_s == 1500 and row.kind == "gap"]
    assert len(end) == 1 and not end[0].citable
    assert len({row.key for row in rows}) == len(rows)


def test_a_session_without_segments_or_not_closed_has_no_end_gap() -> None:
    assert recording_of(recorded_in_order_of_arrival([], 1820.0)).marks == ()
    view = recording_of(recorded_in_order_of_arrival([MediaSpan(3, 60)]))
    assert [m.kind for m in view.marks] == [MarkKind.SEGMENT]
