"""The deadline process: the clock's facts (expiry, reminders, lapses, reviews due/overdue).

Driven only by the clock port, it records each fact once: the aggregates know what they
already recorded, so running it twice, or after a restart, emits nothing new. The read
models only pre-select candidates; every decision is the aggregate's own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate, AggregateEvent

from app.context import Context, update
from app.ports.event_store import StreamQuarantined
from app.privacy import delete_session_media
from app.read_models import DEFAULT_RETENTION_DAYS, Projections
from app.workspaces import watch
from domain.enrollment import Enrollment
from domain.exam_attempt import ExamAttempt
from domain.proctored_session import RETENTION, ProctoredSession
from domain.review import Review

A = TypeVar("A", bound=Aggregate)


@dataclass
class DeadlineReport:
    """What one pass recorded."""

    expired: list[UUID] = field(default_factory=list)
    reminded: list[tuple[UUID, int]] = field(default_factory=list)
    lapsed: list[UUID] = field(default_factory=list)
    due_soon: list[UUID] = field(default_factory=list)
    overdue: list[UUID] = field(default_factory=list)
    exams_closed: list[UUID] = field(default_factory=list)
    workspaces_lost: list[UUID] = field(default_factory=list)
    media_purged: list[UUID] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many facts were recorded."""
        return sum(
            len(x)
            for x in (
                self.expired,
                self.reminded,
                self.lapsed,
                self.due_soon,
                self.overdue,
                self.exams_closed,
                self.workspaces_lost,
                self.media_purged,
            )
        )


def run_deadlines(ctx: Context, projections: Projections) -> DeadlineReport:
    """Record every time-driven fact that has come due at the clock's now."""
    projections.catch_up(ctx.store)
    start = ctx.store.head()
    now = ctx.now()
    today = now.date()
    report = DeadlineReport()
    for summary in list(projections.enrollments.values()):
        if summary.expired:
            continue
        # No reminder to an erased person (ERASED): it would be a mail to nobody.
        reminder_due = (
            not summary.has_session
            and not summary.holder_erased
            and any(
                d not in summary.reminded and today >= summary.last_day - timedelta(days=d)
                for d in summary.reminder_days
            )
        )
        lapse_due = (
            summary.valid_until is not None
            and today > summary.valid_until
            and summary.lapsed_until != summary.valid_until
        )
        if today > summary.last_day or reminder_due or lapse_due:
            _decide(ctx, summary.enrollment_id, Enrollment, lambda e: _enrollment_facts(e, now))
    for review in list(projections.reviews.values()):
        if review.verdict is not None:
            continue
        # A coarse pre-selection by day; the review decides to the minute.
        warn_from = review.due_on - timedelta(days=-(-review.warning_hours // 24))
        if (not review.warned and today >= warn_from) or (
            not review.marked_overdue and today > review.due_on
        ):
            _decide(ctx, review.review_id, Review, lambda r: _review_facts(r, now))
    in_progress = sorted(projections.attempts_in_progress.values(), key=lambda a: a.attempt_id)
    silent = ctx.launcher.silent([a.workspace_ref for a in in_progress if a.workspace_ref])
    for attempt in in_progress:
        # Loading every exam in progress at each pass costs more than the whole web load at
        # a thousand candidates: only those whose time may be up, or whose workspace stopped
        # answering (the built-in's heartbeat is read from the store, so whichever process
        # runs this pass judges every built-in workspace, issue 15), are loaded to decide.
        if attempt.time_may_be_up(now) or attempt.workspace_ref in silent:
            _decide(ctx, attempt.attempt_id, ExamAttempt, lambda a: watch(ctx, a))
    retention_days = {c.code: c.media_retention_days for c in ctx.catalogue}
    for session_id in projections.retention_due(today, retention_days):
        with contextlib.suppress(StreamQuarantined):  # as in _decide
            _purge_media(ctx, session_id, now, retention_days)
    projections.catch_up(ctx.store)
    for recorded in ctx.store.read(start, ctx.store.head() - start):
        _count(recorded.event, report)
    return report


def _purge_media(
    ctx: Context, session_id: UUID, at: datetime, retention_days: dict[str, int]
) -> None:
    """Issue 8: the session's photos and recordings are deleted, and the deletion recorded."""
    certification = ctx.store.get(session_id, ProctoredSession).certification_code
    days = retention_days.get(certification, DEFAULT_RETENTION_DAYS)
    reason = f"{RETENTION}: {days} days after the final decision"
    delete_session_media(ctx, session_id, at=at, reason=reason)


def _enrollment_facts(enrollment: Enrollment, at: datetime) -> None:
    if at.date() > enrollment.last_day:
        enrollment.expire(at=at)
        return
    enrollment.remind_of_deadline(at=at)
    enrollment.lapse_session_validity(at=at)


def _review_facts(review: Review, at: datetime) -> None:
    review.warn_due_soon(at=at)
    review.mark_overdue(at=at)


def _count(event: AggregateEvent, report: DeadlineReport) -> None:
    """Report what this pass recorded, from the log itself."""
    if isinstance(event, Enrollment.EnrollmentExpired):
        report.expired.append(event.originator_id)
    elif isinstance(event, Enrollment.DeadlineReminderDue):
        report.reminded.append((event.originator_id, event.days_before))
    elif isinstance(event, Enrollment.ExamSessionValidityLapsed):
        report.lapsed.append(event.originator_id)
    elif isinstance(event, Review.ReviewDueSoon):
        report.due_soon.append(event.originator_id)
    elif isinstance(event, Review.ReviewOverdue):
        report.overdue.append(event.originator_id)
    elif isinstance(event, ExamAttempt.ExamFinished):
        report.exams_closed.append(event.originator_id)
    elif isinstance(event, ExamAttempt.WorkspaceLost):
        report.workspaces_lost.append(event.originator_id)
    elif isinstance(event, ProctoredSession.MediaDeleted) and event.reason.startswith(RETENTION):
        report.media_purged.append(event.originator_id)


def _decide(ctx: Context, aggregate_id: UUID, kind: type[A], decide: Callable[[A], object]) -> None:
    """A command may change the aggregate meanwhile: then decide again on fresh state. A
    quarantined stream is left alone (the store logged it, `verify-store` names it): one
    forged row must not hold back every other deadline (issue 14)."""
    with contextlib.suppress(StreamQuarantined):
        update(ctx, aggregate_id, kind, decide)
