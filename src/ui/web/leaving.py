"""« Se déconnecter » while the proctored session runs asks first, saying what it does.

Logging out stops the proctoring tab; during the exam that is recorded as the proctoring tab
closed (R17), which the examiner's page reads as a ground to invalidate. A candidate pressed
it by mistake on the checks' page with the portal in it, during her exam, and it logged out
at once (a reviewer's tour). Every candidate page with the header asks while her session is
entered and not closed, in words fitting the moment (`LogoutPhase`); the page's script picks
the moment again from the portal shown, which moves on in place (journey.js swaps it).
Without the script the form logs out as before: no proctoring runs without it either.

Only the words change: what is recorded and what the verdict makes of it stay the guide's.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from adapters.bootstrap import Platform
from app.ports.event_store import StreamQuarantined
from domain.exam_attempt import AttemptStatus, ExamAttempt
from domain.proctored_session import ProctoredSession


class LogoutPhase(StrEnum):
    """What logging out would interrupt, for the words of « Se déconnecter »'s question."""

    NONE = ""  # nothing runs: it logs out at once
    BEFORE = "before"  # entered, the exam not begun (« Différer » is the guide's pause, R14)
    EXAM = "exam"  # from « Commencer » to its end: the tab closed is an interruption (R17)
    AFTER = "after"  # the exam over, its results shown, not yet sent (R18)


_AFTER = frozenset({AttemptStatus.FINISHED, AttemptStatus.RESULTS_SHOWN})
_SENT = frozenset({AttemptStatus.VALIDATED, AttemptStatus.QUIT})


def deferred_away(session: ProctoredSession, attempt: ExamAttempt) -> bool:
    """Whether she deferred (R14) and has not come back since: closing both windows is then
    what the guide tells her to do."""
    if attempt.status is not AttemptStatus.TO_START or not attempt.deferrals:
        return False
    deferred = attempt.last_deferral()
    if deferred is None:  # deferred before this was kept
        return True
    entered = session.last_entry()
    return entered is None or entered <= deferred


def logout_phase(session: ProctoredSession, attempt: ExamAttempt | None) -> LogoutPhase:
    """The moment a log-out would interrupt: none unless the session is entered and open."""
    if session.entries == 0 or session.closed_at is not None:
        return LogoutPhase.NONE
    if attempt is None:
        return LogoutPhase.BEFORE
    if attempt.status is AttemptStatus.IN_PROGRESS:
        return LogoutPhase.EXAM
    if attempt.status in _AFTER:
        return LogoutPhase.AFTER
    if attempt.status in _SENT or deferred_away(session, attempt):
        return LogoutPhase.NONE
    return LogoutPhase.BEFORE


_ORDER = (LogoutPhase.EXAM, LogoutPhase.AFTER, LogoutPhase.BEFORE, LogoutPhase.NONE)


def candidates_logout_phase(platform: Platform, candidate_id: UUID) -> LogoutPhase:
    """The phase over the candidate's open, entered sessions (the most at stake first), for
    the pages that show no session of their own (« Mes examens », the equipment test)."""
    platform.projections.catch_up(platform.ctx.store)
    store = platform.ctx.store
    phases = [LogoutPhase.NONE]
    for summary in platform.projections.my_sessions(candidate_id):
        if summary.entries == 0 or summary.status not in ("checks", "exam"):
            continue
        try:
            session = store.get(summary.session_id, ProctoredSession, to_read=True)
            attempt = (
                store.get(session.attempt_id, ExamAttempt, to_read=True)
                if session.attempt_id is not None
                else None
            )
        except (LookupError, StreamQuarantined):  # its page says so; this one still works
            continue
        phases.append(logout_phase(session, attempt))
    return min(phases, key=_ORDER.index)
