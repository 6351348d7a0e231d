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

from app.recording import MarkKind, recording_of
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


def recorded_in_order_of_arrival(spans: list[MediaSpan]) -> list[Any]:
    """An entered session's events once the segments of these spans arrived in this order."""
    session = entered()
    for n, span in enumerate(spans):
        session.record_segment(
            at=AT + timedelta(minutes=10 + n),
            segment_id=f"s{n}",
            media_id=f"s{n}.mkv",
            span=span,
            size=1,
            content_hash="sha256:00",
        )
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
