"""Evidence: the facts of a session and its attempt, each citable by its place in the log."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.domain import AggregateEvent

from app.ports.event_store import EventStore
from domain.evidence import Evidence, EvidenceKind
from domain.exam_attempt import ExamAttempt
from domain.proctored_session import ProctoredSession

# Facts that weigh in a review (every kind the enum names); the rest of the timeline stays
# readable on the review page.
_EVIDENCE_KINDS = frozenset(kind.value for kind in EvidenceKind)

# Fields `to_evidence` fills for a kind since verdict-2026-12. Evidence gathered before holds
# their default there; it is still the same fact (an auditor's replay must not call it
# altered). Anything else differing is a difference.
FILLED_LATER: dict[EvidenceKind, tuple[str, ...]] = {
    EvidenceKind.PHOTO_WAIVED: ("waived_step",),
    EvidenceKind.EXAM_FINISHED: ("note",),  # how the exam ended: candidate, time_limit…
}


def evidence_id(event: AggregateEvent) -> str:
    """'<stream id>/<version>': one stored event, for ever."""
    return f"{event.originator_id}/{event.originator_version}"


def to_evidence(event: AggregateEvent) -> Evidence:
    """Plain data an auditor can read without this code."""
    kind = EvidenceKind(type(event).__name__)
    span = getattr(event, "span", None)
    note = ""
    waived_step = None
    if isinstance(event, ProctoredSession.TechnicalProblemRecorded):
        note = event.description
    elif isinstance(event, ProctoredSession.SessionLeft):
        note = event.cause
    elif isinstance(event, ProctoredSession.SessionEntered):
        note = event.resume_reason
    elif isinstance(event, ProctoredSession.PhotoWaived):
        note = f"{event.step.value}: {event.reason}"
        waived_step = event.step
    elif isinstance(event, ExamAttempt.ExamFinished):
        note = str(event.ended_by)
    return Evidence(
        id=evidence_id(event),
        kind=kind,
        at=event.timestamp,
        span=span,
        flag=getattr(event, "kind", None) if kind is EvidenceKind.FLAG_RAISED else None,
        confidence=getattr(event, "confidence", None),
        during_exam=bool(getattr(event, "during_exam", False)),
        note=note,
        waived_step=waived_step,
    )


def same_fact(item: Evidence, event: AggregateEvent) -> bool:
    """Whether gathered evidence is still exactly the stored event it names (for replays),
    allowing the fields filled only since (`FILLED_LATER`) to hold their old default."""
    if type(event).__name__ not in _EVIDENCE_KINDS:
        return False
    fresh = to_evidence(event)
    if fresh == item:
        return True
    defaults: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(Evidence)}
    later = FILLED_LATER.get(fresh.kind, ())
    if not later or any(getattr(item, name) != defaults[name] for name in later):
        return False
    return dataclasses.replace(fresh, **{name: defaults[name] for name in later}) == item


def gather(store: EventStore, *stream_ids: UUID) -> tuple[Evidence, ...]:
    """The evidence in the given streams, in the order it was recorded."""
    events: Iterable[AggregateEvent] = (e for sid in stream_ids for e in store.history(sid))
    return tuple(to_evidence(e) for e in events if type(e).__name__ in _EVIDENCE_KINDS)
