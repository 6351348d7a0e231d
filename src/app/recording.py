"""The session's recording as the examiner plays it: segments, gaps, flags and closed-tab
spans on one media timeline (seconds from the first entry), read from the log alone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from eventsourcing.domain import AggregateEvent

from app.ports.media_capture import MediaCapture
from domain.evidence import MediaSpan
from domain.proctored_session import GAP_TOLERANCE_S, ProctoredSession
from domain.rules import elapsed_seconds


class MarkKind(StrEnum):
    """What a mark on the recording's timeline is (its value is the page's CSS class)."""

    SEGMENT = "segment"
    GAP = "gap"
    FLAG = "flag"
    TAB_CLOSED = "tab_closed"


@dataclass(frozen=True)
class TimelineMark:
    """One thing on the recording's timeline."""

    kind: MarkKind
    span: MediaSpan
    label: str
    evidence_id: str
    media_id: str = ""
    confidence: float | None = None


@dataclass(frozen=True)
class RecordingView:
    """Everything the player needs, in media-time order."""

    marks: tuple[TimelineMark, ...]
    # Issue 16: the shared screen's segments, played beside the camera on the same timeline.
    screens: tuple[TimelineMark, ...] = ()

    @property
    def segments(self) -> tuple[TimelineMark, ...]:
        return tuple(m for m in self.marks if m.kind is MarkKind.SEGMENT)

    @property
    def recorded_seconds(self) -> float:
        return sum(m.span.end_s - m.span.start_s for m in self.segments)

    @property
    def gap_seconds(self) -> float:
        return sum(m.span.end_s - m.span.start_s for m in self.marks if m.kind is MarkKind.GAP)

    @property
    def gap_tolerance_s(self) -> float:
        """The shortest hole recorded as a gap: a page load between two checks reconnects
        within it. The summary says so, where « coupures : 0 s » beside visible holes of a
        second between segments read as a sum that did not add up (a reviewer's remark)."""
        return GAP_TOLERANCE_S


# Her page closes its connection as the exam is sent, and the last segment ends then: a
# second or two after the closure, or before it by as much as the nodes' clocks differ.
TAIL_TOLERANCE_S = 10.0


def recording_of(history: Iterable[AggregateEvent]) -> RecordingView:
    """The recording of a session from its events."""
    marks: list[TimelineMark] = []
    screens: list[TimelineMark] = []
    started_at: datetime | None = None
    closed: ProctoredSession.SessionClosed | None = None
    for event in history:
        evidence_id = f"{event.originator_id}/{event.originator_version}"
        if isinstance(event, ProctoredSession.SessionEntered):
            started_at = started_at or event.timestamp
        elif isinstance(event, ProctoredSession.SessionClosed):
            closed = event
        elif isinstance(event, ProctoredSession.ScreenSegmentRecorded):
            screens.append(
                TimelineMark(
                    MarkKind.SEGMENT, event.span, event.segment_id, evidence_id, event.media_id
                )
            )
        elif isinstance(event, ProctoredSession.SegmentRecorded):
            marks.append(
                TimelineMark(
                    MarkKind.SEGMENT, event.span, event.segment_id, evidence_id, event.media_id
                )
            )
        elif isinstance(event, ProctoredSession.RecordingGap):
            marks.append(TimelineMark(MarkKind.GAP, event.span, "gap", evidence_id))
        elif isinstance(event, ProctoredSession.FlagRaised):
            marks.append(
                TimelineMark(
                    MarkKind.FLAG,
                    event.span,
                    event.kind.value,
                    evidence_id,
                    confidence=event.confidence,
                )
            )
        elif isinstance(event, ProctoredSession.ProctoringTabClosed):
            # Whether it fell inside the exam (« Commencer » to the end) or was the guide's
            # blocked-screen procedure is the recommendation's to say, not the player's.
            label = "proctoring tab closed"
            marks.append(TimelineMark(MarkKind.TAB_CLOSED, event.span, label, evidence_id))
    marks = _gaps_without_segments(marks)
    if started_at is not None and closed is not None:
        marks.extend(_unrecorded_end(marks, elapsed_seconds(started_at, closed.timestamp), closed))
    order = {MarkKind.SEGMENT: 0, MarkKind.FLAG: 1, MarkKind.TAB_CLOSED: 2, MarkKind.GAP: 3}
    marks.sort(key=lambda m: (m.span.start_s, order[m.kind]))
    screens.sort(key=lambda m: m.span.start_s)
    return RecordingView(tuple(marks), tuple(screens))


def _gaps_without_segments(marks: list[TimelineMark]) -> list[TimelineMark]:
    """Each gap as the part of its span no segment covers. A gap is recorded from the segments
    known when the next one arrives; a segment may come later from the node that held an
    earlier connection (it notices a lost connection last), and then lies inside a recorded
    gap (issue 15, a review: « gap 0-62 s » over a segment of 3-60 s). The log keeps both
    facts as recorded; the examiner sees what was really not recorded."""
    covered = sorted((m.span for m in marks if m.kind is MarkKind.SEGMENT), key=_start)
    kept: list[TimelineMark] = []
    for mark in marks:
        if mark.kind is not MarkKind.GAP:
            kept.append(mark)
            continue
        kept.extend(replace(mark, span=piece) for piece in _uncovered(mark.span, covered))
    return kept


def _unrecorded_end(
    marks: list[TimelineMark], closed_s: float, closed: ProctoredSession.SessionClosed
) -> list[TimelineMark]:
    """The end of a recorded session that no segment reached, as a gap: the node holding her
    last connection died, and she sent the exam before her page reconnected through another
    (issue 15). Nothing in the log says so (a gap is recorded when a later segment starts,
    and there is none), so the examiner saw a recording that stopped early, unexplained. Not
    a recorded fact, and so not citable: what the log's segments and its closure show."""
    recorded = [m.span.end_s for m in marks if m.kind is MarkKind.SEGMENT]
    if not recorded or closed_s - max(recorded) <= TAIL_TOLERANCE_S:
        return []
    evidence_id = f"{closed.originator_id}/{closed.originator_version}~end"
    return [TimelineMark(MarkKind.GAP, MediaSpan(max(recorded), closed_s), "gap", evidence_id)]


def _start(span: MediaSpan) -> float:
    return span.start_s


def _uncovered(span: MediaSpan, covered: list[MediaSpan]) -> list[MediaSpan]:
    """The parts of `span` outside every span of `covered` (sorted by start)."""
    pieces: list[MediaSpan] = []
    start = span.start_s
    for segment in covered:
        if segment.end_s <= start or segment.start_s >= span.end_s:
            continue
        if segment.start_s > start:
            pieces.append(MediaSpan(start, segment.start_s))
        start = max(start, segment.end_s)
    if start < span.end_s:
        pieces.append(MediaSpan(start, span.end_s))
    return pieces


@dataclass(frozen=True)
class StoredMediaRef:
    """A media the session's log refers to, named as the media port names it."""

    media_id: str
    label: str
    kind: str  # image | video | segment
    # An environment recording's length as the log says it (0: not said, an older event).
    seconds: float = 0.0


def session_media(history: Iterable[AggregateEvent]) -> tuple[StoredMediaRef, ...]:
    """The photos, the environment recordings and the live segments of a session, in log
    order, each by the reference its event recorded (a segment by the recorder's id)."""
    found: dict[str, StoredMediaRef] = {}
    for event in history:
        if isinstance(event, ProctoredSession.FacePhotoTaken | ProctoredSession.IdPhotoTaken):
            label = "Visage" if isinstance(event, ProctoredSession.FacePhotoTaken) else "Identité"
            ref = StoredMediaRef(event.media_id, label, "image")
        elif isinstance(event, ProctoredSession.EnvironmentRecordingStopped):
            media_id = event.media_id or _reference_before_issue_12(event)
            ref = StoredMediaRef(media_id, event.part.value, "video", event.duration_s)
        elif isinstance(
            event, ProctoredSession.SegmentRecorded | ProctoredSession.ScreenSegmentRecorded
        ):
            ref = StoredMediaRef(event.media_id, event.segment_id, "segment")
        else:
            continue
        found.setdefault(ref.media_id, ref)
    return tuple(found.values())


def _reference_before_issue_12(event: ProctoredSession.EnvironmentRecordingStopped) -> str:
    """Environment recordings stopped before issue 12 recorded only their hash; the file
    media store then named them `<session>/environment-<part>-<first 16 hex of the hash>`.
    Only those old events are read this way: newer ones carry the store's own reference."""
    digest = event.content_hash.removeprefix("sha256:")[:16]
    return f"{event.originator_id}/environment-{event.part.value}-{digest}"


def stored_media_ids(history: Iterable[AggregateEvent], media: MediaCapture) -> tuple[str, ...]:
    """Every media the session's log refers to, as `media` names them: the recorded
    references, and the live segments under the reference the store gives them."""
    return tuple(
        media.live_segment(ref.media_id) if ref.kind == "segment" else ref.media_id
        for ref in session_media(history)
    )
