"""Evidence: the facts of a session and its attempt, each citable by its place in the log."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from eventsourcing.domain import AggregateEvent

from app.ports.event_store import EventStore
from domain.evidence import Evidence
from domain.proctored_session import ProctoredSession

# Facts that weigh in a review; the rest of the timeline stays readable on the review page.
_EVIDENCE_KINDS = frozenset(
    {
        "SessionOpened",
        "SessionEntered",
        "SessionLeft",
        "CameraChecked",
        "ConnectionTested",
        "FacePhotoTaken",
        "FacePhotoConfirmed",
        "IdPhotoTaken",
        "IdPhotoConfirmed",
        "PhotoWaived",
        "EnvironmentRecordingStopped",
        "ExamLaunched",
        "ProctoringTabClosed",
        "FlagRaised",
        "TechnicalProblemRecorded",
        "SessionClosed",
        "ExamBegun",
        "ExamFinished",
        "ExamValidated",
        "ExamQuit",
    }
)


def evidence_id(event: AggregateEvent) -> str:
    """'<stream id>/<version>': one stored event, for ever."""
    return f"{event.originator_id}/{event.originator_version}"


def to_evidence(event: AggregateEvent) -> Evidence:
    """Plain data an auditor can read without this code."""
    kind = type(event).__name__
    span = getattr(event, "span", None)
    note = ""
    if isinstance(event, ProctoredSession.TechnicalProblemRecorded):
        note = event.description
    elif isinstance(event, ProctoredSession.SessionLeft):
        note = event.cause
    elif isinstance(event, ProctoredSession.SessionEntered):
        note = event.resume_reason
    elif isinstance(event, ProctoredSession.PhotoWaived):
        note = f"{event.step.value}: {event.reason}"
    return Evidence(
        id=evidence_id(event),
        kind=kind,
        at=event.timestamp,
        span=span,
        flag=getattr(event, "kind", None) if kind == "FlagRaised" else None,
        confidence=getattr(event, "confidence", None),
        during_exam=bool(getattr(event, "during_exam", False)),
        note=note,
    )


def gather(store: EventStore, *stream_ids: UUID) -> tuple[Evidence, ...]:
    """The evidence in the given streams, in the order it was recorded."""
    events: Iterable[AggregateEvent] = (e for sid in stream_ids for e in store.history(sid))
    return tuple(to_evidence(e) for e in events if type(e).__name__ in _EVIDENCE_KINDS)
