"""Personal data on request (issue 8): erasure that keeps the audit, and the subject-access
export.

Erasure records the fact on the Candidate (no personal data in it), destroys the person's key
(their sealed fields in every event, copy and backup become unreadable), deletes their photos
and recordings (recorded on each session as `MediaDeleted`, hashes kept), and read models drop
them when they meet the erasure event. Decisions never read the sealed fields, so every review
still replays and verifies afterwards.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import AggregateEvent

from app.context import Context, update
from app.media_views import views_of_session
from app.ports.key_store import KeyStore
from app.ports.media_capture import MediaUnavailable
from app.read_models import Projections, describe
from app.recording import stored_media_ids
from app.sessions import candidate_account
from app.use_cases.reviewing import review_id_for
from domain.candidate import Candidate
from domain.proctored_session import ProctoredSession

ERASURE = "erasure"


@dataclass
class ErasureReport:
    """What one erasure did (idempotent: a second run does nothing new)."""

    candidate_id: UUID
    recorded: bool
    key_destroyed: bool
    sessions: list[UUID] = field(default_factory=list)
    media_deleted: list[str] = field(default_factory=list)
    media_missing: list[str] = field(default_factory=list)
    # The media store could not be reached for these: still held; erasing again retries them.
    media_left: list[str] = field(default_factory=list)


def erase_candidate(
    ctx: Context,
    keys: KeyStore,
    projections: Projections,
    candidate_id: UUID,
    *,
    reason: str,
    by: str,
    system_account: str,
) -> ErasureReport:
    """Forget a person: the erasure fact (with who erased her), then the key, then the
    media."""
    at = ctx.now()
    recorded = update(
        ctx,
        candidate_id,
        Candidate,
        lambda c: c.erase_personal_data(at=at, reason=reason, by=by, system_account=system_account),
    )
    report = ErasureReport(candidate_id, recorded, keys.erase(candidate_id))
    if ctx.sessions is not None:
        # Logged in on some browser: that session ends now (ERASED: nothing new for them).
        ctx.sessions.end_account(candidate_account(candidate_id))
    projections.catch_up(ctx.store)
    for session_id in projections.sessions_by_candidate.get(candidate_id, []):
        report.sessions.append(session_id)
        done = delete_session_media(ctx, session_id, at=at, reason=ERASURE)
        report.media_deleted += done.deleted
        report.media_missing += done.not_found
        report.media_left += done.left
    projections.catch_up(ctx.store)
    return report


@dataclass
class MediaDeletion:
    """What one deletion pass did to a session's media, as its `MediaDeleted` fact records."""

    deleted: list[str] = field(default_factory=list)  # the store deleted them now
    not_found: list[str] = field(default_factory=list)  # the store did not hold them
    left: list[str] = field(default_factory=list)  # the store could not be asked: still held


def delete_session_media(
    ctx: Context, session_id: UUID, *, at: datetime, reason: str
) -> MediaDeletion:
    """Delete the session's media not deleted yet and record truthfully what happened
    (erasure, retention): deleted, not found in the store, or left for the next pass when the
    store cannot be reached. The hashes stay in the log, so every decision still verifies,
    with the media shown as deleted."""
    session = ctx.store.get(session_id, ProctoredSession)
    pending = [
        m
        for m in stored_media_ids(ctx.store.history(session_id), ctx.media)
        if m not in session.deleted_media
    ]
    done = MediaDeletion()
    for media_id in pending:
        try:
            gone_now = ctx.media.delete(media_id)
        except KeyError:  # not a name the media store accepts: nothing of it kept
            gone_now = False
        except MediaUnavailable:
            done.left.append(media_id)
            continue
        (done.deleted if gone_now else done.not_found).append(media_id)
    # What the store holds for the session beyond the log's references (a media written just
    # before its process died, before its event was saved) is the person's too: deleted.
    try:
        orphans = [m for m in ctx.media.session_media(session_id) if m not in session.deleted_media]
    except MediaUnavailable:
        orphans = []
    for media_id in orphans:
        if media_id in pending:
            continue
        with contextlib.suppress(MediaUnavailable):
            if ctx.media.delete(media_id):
                done.deleted.append(media_id)
    update(
        ctx,
        session_id,
        ProctoredSession,
        lambda s: s.record_media_deleted(
            at=at,
            media_ids=tuple(done.deleted),
            reason=reason,
            not_found=tuple(done.not_found),
            left=tuple(done.left),
        ),
    )
    return done


def export_candidate(ctx: Context, projections: Projections, candidate_id: UUID) -> dict[str, Any]:
    """Everything held about a person (a subject-access request), as plain JSON data."""
    projections.catch_up(ctx.store)
    candidate = ctx.store.get(candidate_id, Candidate)
    enrollments = [
        e.enrollment_id for e in projections.enrollments.values() if e.candidate_id == candidate_id
    ]
    sessions = projections.sessions_by_candidate.get(candidate_id, [])
    streams: list[tuple[str, UUID]] = [("candidate", candidate_id)]
    streams += [("enrollment", e) for e in enrollments]
    media: list[dict[str, Any]] = []
    viewed: list[dict[str, Any]] = []
    for session_id in sessions:
        streams.append(("session", session_id))
        session = ctx.store.get(session_id, ProctoredSession)
        for media_id in stored_media_ids(ctx.store.history(session_id), ctx.media):
            media.append(
                {
                    "session_id": str(session_id),
                    "media_id": media_id,
                    "deleted": media_id in session.deleted_media,
                }
            )
        # Who looked at the person's images, and when (issue 14).
        viewed += [
            {
                "session_id": str(session_id),
                "at": view.at.isoformat(),
                "viewer": view.viewer_name,
                "viewer_role": view.viewer_role,
                "what": view.what.value,
                "media": view.media,
            }
            for view in views_of_session(ctx, projections, session_id)
        ]
        if session.attempt_id is not None:
            streams.append(("attempt", session.attempt_id))
            streams.append(("review", review_id_for(session.attempt_id)))
    profile = candidate.profile
    return {
        "candidate_id": str(candidate_id),
        "erased": candidate.erased_at is not None,
        "personal_data": {
            "email": candidate.email,
            "surname": candidate.surname,
            "first_name": candidate.first_name,
            "language": candidate.language,
            "terms_accepted_at": _iso(candidate.terms_accepted_at),
            "portal_profile": None
            if profile is None
            else {
                "civility": profile.civility,
                "surname": profile.surname,
                "first_name": profile.first_name,
                "birth_date": profile.birth_date.isoformat(),
                "birth_place": profile.birth_place,
            },
            # Issue 16: their id on each learning platform that launched Vigie.
            "learning_platform_ids": [
                {"issuer": issuer, "user_id": user} for issuer, user in candidate.lti_users
            ],
            # Security finding F1: the names a centre typed for its enrolment, where they
            # differ from the registered ones.
            "names_given_at_enrolment": [
                {
                    "enrollment_id": str(given.enrollment_id),
                    "centre_id": str(given.centre_id),
                    "surname": given.surname,
                    "first_name": given.first_name,
                }
                for given in candidate.enrolment_names
            ],
        },
        "history": [
            _fact(ctx, kind, event)
            for kind, stream_id in streams
            for event in _history(ctx, stream_id)
        ],
        "media": media,
        "media_views": viewed,
        "streams": {
            "enrollments": [str(e) for e in enrollments],
            "sessions": [str(s) for s in sessions],
        },
    }


def _history(ctx: Context, stream_id: UUID) -> list[AggregateEvent]:
    try:
        return list(ctx.store.history(stream_id))
    except LookupError:
        return []


# Secrets of the account, not data about the person: never handed out.
_SECRETS = ("password_hash=", "token_id=")


def _fact(ctx: Context, stream: str, event: AggregateEvent) -> dict[str, Any]:
    details = ", ".join(
        part for part in describe(event).split(", ") if not part.startswith(_SECRETS)
    )
    return {
        "stream": stream,
        "id": f"{event.originator_id}/{event.originator_version}",
        # ISO 8601 for programs, in the centre's zone like every time shown (issue 12).
        "at": ctx.local(event.timestamp).isoformat(),
        "what": type(event).__name__,
        "details": details,
    }


def _iso(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())
