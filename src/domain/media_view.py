"""A view of a candidate's media (issue 14): who looked at which photo, recording, live
segment, still or live picture of an exam session, and when, so that the person can know who
saw their images (`vigie privacy export`) and an auditor can read it beside the decision.

One small stream per viewer, media (and how it was seen) and minute, its id derived from
them: a page that loads a photo twice, a player that asks for a video by ranges, or thirty
thumbnails of one segment record one view in that minute — the store refuses the second
stream with that id (no read before writing, no contention between views of different
media). The record holds ids only (the candidate's personal data stays in the candidate's
stream)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidArgument, require_aware

# What one view record stands for: every look within this minute is the same view.
VIEW_BUCKET = "%Y-%m-%dT%H:%MZ"
LIVE = "live"  # the media of a live supervision: the session's camera and microphone


class ViewedMedia(StrEnum):
    """What was looked at."""

    PHOTO = "photo"
    RECORDING = "recording"
    SEGMENT = "segment"
    STILL = "still"
    LIVE = "live"


def view_id(session_id: UUID, viewer_id: UUID, what: ViewedMedia, media: str, at: datetime) -> UUID:
    """The one record of this viewer's look at this media (as a photo, a playback, stills…)
    during this (UTC) minute."""
    require_aware("at", at)
    minute = at.astimezone(UTC).strftime(VIEW_BUCKET)
    return uuid5(session_id, f"media-view/{viewer_id}/{what.value}/{media}/{minute}")


class MediaView(Aggregate):
    """Someone looked at a candidate's media."""

    session_id: UUID
    candidate_id: UUID
    viewer_id: UUID
    viewer_role: str
    media: str
    what: ViewedMedia

    class MediaViewed(Aggregate.Created):
        session_id: UUID
        candidate_id: UUID
        viewer_id: UUID
        viewer_role: str
        media: str
        what: ViewedMedia

    @classmethod
    def record(
        cls,
        *,
        session_id: UUID,
        candidate_id: UUID,
        viewer_id: UUID,
        viewer_role: str,
        media: str,
        what: ViewedMedia,
        at: datetime,
    ) -> MediaView:
        """The view, under the id of its viewer, media and minute."""
        if not media:
            raise InvalidArgument("media", "required")
        return cls._create(
            cls.MediaViewed,
            id=view_id(session_id, viewer_id, what, media, at),
            timestamp=at,
            session_id=session_id,
            candidate_id=candidate_id,
            viewer_id=viewer_id,
            viewer_role=viewer_role,
            media=media,
            what=what,
        )

    @event(MediaViewed)
    def __init__(
        self,
        session_id: UUID,
        candidate_id: UUID,
        viewer_id: UUID,
        viewer_role: str,
        media: str,
        what: ViewedMedia,
    ) -> None:
        self.session_id = session_id
        self.candidate_id = candidate_id
        self.viewer_id = viewer_id
        self.viewer_role = viewer_role
        self.media = media
        self.what = what
