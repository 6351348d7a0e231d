"""Every view of a candidate's media is recorded (issue 14): who, what, when. The web edge
calls `record_view` once it has checked that the viewer may see the media and before it
serves the bytes; `views_of_session` reads them back for the auditor and the privacy export.

Recording costs one insert per viewer, media and minute: the record's id is derived from the
three (domain.media_view), so a repeat in the same minute is refused by the store and
ignored here; a player's byte-range requests are recorded only when they start at byte 0
(`starts_playback`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from app.context import Context
from app.ports.event_store import ConcurrencyConflict, EventStore
from app.read_models import Projections
from domain.media_view import MediaView, ViewedMedia
from domain.proctored_session import ProctoredSession
from domain.staff import StaffMember


def starts_playback(range_header: str | None) -> bool:
    """A request for the whole file or for its beginning: a new playback. The later ranges
    a player asks for while playing (or seeking) are the same view."""
    if not range_header:
        return True
    unit, _, spec = range_header.strip().partition("=")
    return unit.strip().lower() == "bytes" and spec.split(",")[0].strip().startswith("0-")


def record_view(
    ctx: Context,
    *,
    viewer_id: UUID,
    viewer_role: str,
    session_id: UUID,
    media: str,
    what: ViewedMedia,
) -> bool:
    """Record that the viewer looked at this media of the session now; False when it was
    recorded already this minute."""
    session = ctx.store.get(session_id, ProctoredSession)
    view = MediaView.record(
        session_id=session_id,
        candidate_id=session.candidate_id,
        viewer_id=viewer_id,
        viewer_role=viewer_role,
        media=media,
        what=what,
        at=ctx.now(),
    )
    try:
        ctx.store.save(view)
    except ConcurrencyConflict:  # the same viewer, media and minute: one view
        return False
    return True


@dataclass(frozen=True)
class ViewLine:
    """One recorded view, as a person reads it."""

    at: datetime
    viewer_id: UUID
    viewer_name: str
    viewer_role: str
    what: ViewedMedia
    media: str


def views_of_session(ctx: Context, projections: Projections, session_id: UUID) -> list[ViewLine]:
    """Who looked at the session's media, oldest first (the viewer named by their account)."""
    projections.catch_up(ctx.store)
    return [
        ViewLine(
            ctx.local(v.at),
            v.viewer_id,
            staff_name(ctx.store, v.viewer_id),
            v.viewer_role,
            v.what,
            v.media,
        )
        for v in projections.media_views.get(session_id, [])
    ]


def played_recording(
    ctx: Context, projections: Projections, session_id: UUID, viewer_id: UUID
) -> bool:
    """Whether this staff member played the session's recording (a playback or a live
    segment; a photo is not the recording): APPEAL-VIEWED reads it before an appeal is
    overturned. The log is read up to now first, so a playback just made counts."""
    projections.catch_up(ctx.store)
    return any(
        v.viewer_id == viewer_id and v.what in (ViewedMedia.RECORDING, ViewedMedia.SEGMENT)
        for v in projections.media_views.get(session_id, [])
    )


def staff_name(store: EventStore, staff_id: UUID) -> str:
    """A staff member's name as their account gives it; the id if there is no account."""
    try:
        return store.get(staff_id, StaffMember).name
    except LookupError:
        return str(staff_id)
