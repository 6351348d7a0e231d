"""Read models: projections of the log, rebuilt from scratch by replaying it.

"My sessions" for a candidate, "reviews due" for examiners, candidates by e-mail for the
centre, and a session's timeline. They live in memory here and catch up from their position;
the web platform moves them to a database with the same projection code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from uuid import UUID

from eventsourcing.domain import AggregateEvent

from app.ports.event_store import EventStore, Recorded
from app.use_cases.reviewing import review_id_for
from domain.candidate import Candidate
from domain.enrollment import Enrollment
from domain.evidence import Verdict
from domain.exam_attempt import ExamAttempt
from domain.proctored_session import ProctoredSession
from domain.review import Review


@dataclass(frozen=True)
class SessionSummary:
    """A line of 'my sessions'."""

    session_id: UUID
    enrollment_id: UUID
    certification_code: str
    valid_until: date | None
    entries: int
    status: str
    attempt_id: UUID | None = None
    review_id: UUID | None = None
    verdict: Verdict | None = None

    @property
    def entry_label(self) -> str:
        """R6: 'Examen' first, 'Reprendre l'examen' after."""
        return "Examen" if self.entries == 0 else "Reprendre l'examen"


@dataclass(frozen=True)
class ReviewSummary:
    """A line of 'reviews due'."""

    review_id: UUID
    session_id: UUID
    certification_code: str
    opened_at: datetime
    due_on: date
    examiner_id: UUID | None = None
    verdict: Verdict | None = None

    def overdue(self, today: date) -> bool:
        """R19: the 8 days have passed without a decision."""
        return self.verdict is None and today > self.due_on


@dataclass(frozen=True)
class TimelineEntry:
    """One fact of a session, as the examiner and the auditor read it."""

    position_in_stream: str
    at: datetime
    stream: str
    what: str
    details: str


class Projections:
    """Every in-memory read model, fed by the notification log."""

    def __init__(self) -> None:
        self.position = 0
        self.candidates_by_email: dict[str, UUID] = {}
        self.sessions: dict[UUID, SessionSummary] = {}
        self.sessions_by_candidate: dict[UUID, list[UUID]] = {}
        self.enrollment_valid_until: dict[UUID, date] = {}
        self.session_of_attempt: dict[UUID, UUID] = {}
        self.reviews: dict[UUID, ReviewSummary] = {}

    # --- feeding ---------------------------------------------------------------------------

    def catch_up(self, store: EventStore, batch: int = 1000) -> int:
        """Apply everything recorded after this projection's position."""
        applied = 0
        while True:
            page = store.read(self.position, batch)
            if not page:
                return applied
            for recorded in page:
                self.apply(recorded)
                applied += 1

    def apply(self, recorded: Recorded) -> None:
        """Fold one event into the read models."""
        self.position = recorded.position
        event = recorded.event
        if isinstance(event, Candidate.CandidateRegistered):
            self.candidates_by_email[event.email] = event.originator_id
        elif isinstance(event, Enrollment.ExamSessionCreated | Enrollment.ExamSessionRenewed):
            self.enrollment_valid_until[event.originator_id] = event.valid_until
            for session_id, summary in self.sessions.items():
                if summary.enrollment_id == event.originator_id:
                    self.sessions[session_id] = replace(summary, valid_until=event.valid_until)
        elif isinstance(event, ProctoredSession.Event):
            self._apply_session(event)
        elif isinstance(event, ExamAttempt.Event):
            self._apply_attempt(event)
        elif isinstance(event, Review.Event):
            self._apply_review(event)

    def _apply_session(self, event: AggregateEvent) -> None:
        sid = event.originator_id
        if isinstance(event, ProctoredSession.SessionOpened):
            self.sessions[sid] = SessionSummary(
                session_id=sid,
                enrollment_id=event.enrollment_id,
                certification_code=event.certification_code,
                valid_until=self.enrollment_valid_until.get(event.enrollment_id),
                entries=0,
                status="created",
            )
            self.sessions_by_candidate.setdefault(event.candidate_id, []).append(sid)
        elif sid in self.sessions:
            summary = self.sessions[sid]
            if isinstance(event, ProctoredSession.SessionEntered):
                summary = replace(summary, entries=event.entry_number, status="checks")
            elif isinstance(event, ProctoredSession.ExamLaunched):
                summary = replace(summary, status="exam", attempt_id=event.attempt_id)
                self.session_of_attempt[event.attempt_id] = sid
            elif isinstance(event, ProctoredSession.SessionClosed) and summary.status in (
                "created",
                "checks",
                "exam",
            ):
                summary = replace(summary, status="closed")
            self.sessions[sid] = summary

    def _apply_attempt(self, event: AggregateEvent) -> None:
        sid = self.session_of_attempt.get(event.originator_id)
        if sid is None or sid not in self.sessions:
            return
        if isinstance(event, ExamAttempt.ExamQuit):
            self.sessions[sid] = replace(self.sessions[sid], status="quit")
        elif isinstance(event, ExamAttempt.ExamValidated):
            self.sessions[sid] = replace(self.sessions[sid], status="under review")

    def _apply_review(self, event: AggregateEvent) -> None:
        rid = event.originator_id
        if isinstance(event, Review.ReviewOpened):
            self.reviews[rid] = ReviewSummary(
                review_id=rid,
                session_id=event.session_id,
                certification_code=event.certification_code,
                opened_at=event.timestamp,
                due_on=event.due_on,
            )
            if event.session_id in self.sessions:
                self.sessions[event.session_id] = replace(
                    self.sessions[event.session_id], review_id=rid
                )
        elif rid in self.reviews:
            summary = self.reviews[rid]
            if isinstance(event, Review.ExaminerAssigned):
                self.reviews[rid] = replace(summary, examiner_id=event.examiner_id)
            elif isinstance(event, Review.ReviewDecided):
                self.reviews[rid] = replace(summary, verdict=event.verdict)
            elif isinstance(event, Review.ResultsReleased):
                sid = summary.session_id
                if sid in self.sessions:
                    self.sessions[sid] = replace(
                        self.sessions[sid], status=f"{event.verdict.value}", verdict=event.verdict
                    )

    # --- queries ---------------------------------------------------------------------------

    def find_by_email(self, email: str) -> UUID | None:
        """The candidate registered with that e-mail (lower-cased), if any."""
        return self.candidates_by_email.get(email.strip().lower())

    def my_sessions(self, candidate_id: UUID) -> list[SessionSummary]:
        """The candidate's exam sessions, newest last."""
        return [self.sessions[s] for s in self.sessions_by_candidate.get(candidate_id, [])]

    def reviews_due(self, today: date) -> list[ReviewSummary]:
        """Undecided reviews, overdue first, then by due date (R19)."""
        pending = [r for r in self.reviews.values() if r.verdict is None]
        return sorted(pending, key=lambda r: (not r.overdue(today), r.due_on, r.opened_at))


def timeline(store: EventStore, session_id: UUID) -> list[TimelineEntry]:
    """Every fact of a session, its attempt and its review, in time order."""
    streams: list[tuple[str, UUID]] = [("session", session_id)]
    for event in store.history(session_id):
        if isinstance(event, ProctoredSession.ExamLaunched):
            streams.append(("attempt", event.attempt_id))
            streams.append(("review", review_id_for(event.attempt_id)))
    entries = [
        TimelineEntry(
            position_in_stream=f"{event.originator_id}/{event.originator_version}",
            at=event.timestamp,
            stream=name,
            what=type(event).__name__,
            details=describe(event),
        )
        for name, stream_id in streams
        for event in store.history(stream_id)
    ]
    return sorted(entries, key=lambda e: (e.at, e.stream != "session"))


_HIDDEN = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "rules"}
)


def describe(event: AggregateEvent) -> str:
    """The event's own fields in one line (the rule set is long: only its version)."""
    parts = []
    for name, value in vars(event).items():
        if name in _HIDDEN:
            continue
        parts.append(f"{name}={_short(value)}")
    rules = getattr(event, "rules", None)
    if rules is not None:
        parts.append(f"rules={rules.version}")
    return ", ".join(parts)


def _short(value: object) -> str:
    if hasattr(value, "value") and isinstance(value.value, str):
        return str(value.value)
    text = str(value)
    return text if len(text) <= 120 else text[:117] + "..."
