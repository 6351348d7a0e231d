"""The live recording's reports become the proctored session's facts (issue 7).

The recorder (a `LiveRecorder` adapter) says what happened on the proctoring tab's connection:
a segment finished, the heartbeats stopped, the page signalled something, a detector noticed
something. Here each report becomes a command on the session, which decides (R17 for a closed
tab, a flag for a hint, a gap when a segment starts after a hole). Media times are seconds
from the session's first entry, as `MediaSpan` counts them.

Instants: the recorder reads the clock itself; each instant it reports is stored as the use
cases store theirs (`Context.local`: the centre's zone), so a flag and a step of the same
instant carry the same time, on the examiner's timeline too.

Gaps are not taken from the recorder: the session derives them from its segments, so a page
that reconnects to another web worker still leaves the right gap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from app.context import Context, update
from app.ports.live_media import (
    SCREEN,
    Detection,
    Gap,
    LiveEvent,
    PageSignal,
    Segment,
    SegmentStarted,
    SignalKind,
    TabClosed,
)
from domain.errors import DomainError
from domain.evidence import FlagKind, MediaSpan
from domain.proctored_session import ProctoredSession

log = logging.getLogger(__name__)

# The page's own signals, as flags the examiner sees (hints, never a verdict). Only real
# focus loss reaches here (issue 12): the proctoring page sends `focus_lost` only when
# neither Vigie tab (it and the exam tab, which tells it by postMessage) has had the focus
# for 2 s, never on a page load or when closing, and `fullscreen_left` only during the exam.
# Moving between the checks, to the portal and between the two tabs is therefore no flag.
# `visibility_lost` is no longer sent by the page; it is kept for pages of older releases.
SIGNAL_FLAGS: dict[SignalKind, FlagKind] = {
    SignalKind.VISIBILITY_LOST: FlagKind.VISIBILITY_LOST,
    SignalKind.FULLSCREEN_LEFT: FlagKind.FULLSCREEN_LEFT,
    SignalKind.FOCUS_LOST: FlagKind.TAB_FOCUS_LOST,
    SignalKind.SECOND_SCREEN: FlagKind.SECOND_SCREEN,
    SignalKind.COPY_PASTE: FlagKind.COPY_PASTE,
    # Issue 16, rule ScreenMustStayShared: the candidate ended the screen share their
    # certification requires (the browser's « Stop sharing », or the shared window closed).
    SignalKind.SCREEN_SHARE_STOPPED: FlagKind.SCREEN_SHARE_STOPPED,
}


def media_origin(ctx: Context, session_id: UUID) -> datetime | None:
    """The session's first entry (None before it): where its media spans start."""
    return ctx.store.get(session_id, ProctoredSession).started_at


def closed_among(ctx: Context, session_ids: tuple[UUID, ...]) -> list[UUID]:
    """Those of these sessions that are closed (R18: nothing more of them is recorded or
    shown live); their connections are to be hung up."""
    return [
        session_id
        for session_id in session_ids
        if ctx.store.get(session_id, ProctoredSession).closed_at is not None
    ]


def record_live_event(ctx: Context, event: LiveEvent) -> bool:
    """Record what the recorder reported; False when the session no longer takes facts
    (closed, or never entered): the recorder should then hang up."""
    session_id = event.session_id
    if session_id is None or isinstance(event, SegmentStarted | Gap):
        return True
    try:
        now = ctx.now()
        update(ctx, session_id, ProctoredSession, lambda s: _decide(s, event, now, ctx.local))
    except DomainError as refusal:
        log.info("session %s: %s not recorded: %s", session_id, type(event).__name__, refusal)
        return isinstance(event, Segment | Detection)  # a refused hint does not end a session
    except LookupError:
        log.warning("live media for an unknown session %s", session_id)
        return False
    return True


def _decide(
    session: ProctoredSession,
    event: LiveEvent,
    now: datetime,
    local: Callable[[datetime], datetime],
) -> None:
    if isinstance(event, Segment) and event.source == SCREEN:
        session.record_screen_segment(
            at=local(event.ended_at),
            segment_id=str(event.segment_id),
            media_id=event.media_id,
            span=_span(session, event.started_at, event.ended_at),
            size=event.size,
            content_hash=event.content_hash,
        )
    elif isinstance(event, Segment):
        session.record_segment(
            at=local(event.ended_at),
            segment_id=str(event.segment_id),
            media_id=event.media_id,
            span=_span(session, event.started_at, event.ended_at),
            size=event.size,
            content_hash=event.content_hash,
        )
    elif isinstance(event, TabClosed):
        session.record_proctoring_tab_closed(
            at=local(event.noticed_at), span=_span(session, event.last_heartbeat, event.noticed_at)
        )
    elif isinstance(event, PageSignal):
        offset = session.media_offset(event.at)
        session.raise_flag(
            at=local(event.at),
            flag_id=f"page:{event.kind.value}:{offset:.1f}",
            kind=SIGNAL_FLAGS[event.kind],
            span=MediaSpan(offset, offset),
            confidence=1.0,
        )
    elif isinstance(event, Detection):
        span = event.span
        session.raise_flag(
            at=now,
            flag_id=f"detector:{event.kind.value}:{span.start_s:.1f}",
            kind=event.kind,
            span=span,
            confidence=event.confidence,
        )


def _span(session: ProctoredSession, start: datetime, end: datetime) -> MediaSpan:
    first, last = session.media_offset(start), session.media_offset(end)
    return MediaSpan(first, max(first, last))
