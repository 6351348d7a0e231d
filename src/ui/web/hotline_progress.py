"""Where a candidate is in her journey, and what came of it, as the hotline reads it on the
phone: in the checks, the step and screen she has in front of her in her own page's words
(`check_steps`, R7–R10); then, in the portal, whether she pressed « Commencer » (R13–R15):
the checks done and the exam not started yet (the screen she is at), the exam under way, the
exam finished and not sent yet (R18); once sent, « Examen envoyé au contrôle », and once the
result is sent to her, which result; and the outcome once there is one (R19): waiting for the
examiner, validated or invalidated, the day the result was sent to her or that it is not sent
yet, an appeal under review or decided. The header's badge says the same place in a word
(`state`), so the badge and the lines beside it never disagree; the command line
(`vigie hotline show`) prints these same lines.

Read from what the case file already holds (the session and attempt it loaded, the read
models' session, review and appeal): no store query of its own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

from app.use_cases.hotline import EnrolmentFile
from domain.evidence import Verdict
from domain.exam_attempt import AttemptStatus, ExamAttempt
from domain.proctored_session import ProctoredSession
from ui.web.check_steps import where
from ui.web.i18n import N_, Gettext, gettext_for
from ui.web.leaving import deferred_away

# The read model's states once the exam was sent: a review exists, whatever came of it.
SENT = frozenset({"under review", "validated", "invalidated", "under appeal"})

# The words the rest of the product already gives these places (the candidate's list, the
# centre's list, the webhooks' events): the hotline says what she and her centre read.
NOT_ENTERED = N_("Exam session created, not entered yet")
EXAM = N_("Exam under way")
SUBMITTED = N_("Exam submitted for review")
CLOSED = N_("Session closed")
QUIT = N_("Certification left")
# The checks done (R10) and « Commencer » not pressed yet (R14, R15): the read model says
# « exam » from the launch on, and the hotline read « Examen en cours » while the candidate
# still stood at her tile (a reviewer's check). The screen she is at, from her attempt.
CHECKS_DONE = N_("Checks done, exam not started yet")
FINISHED = N_("Exam finished, not sent for review yet")
NOT_BEGUN: dict[AttemptStatus, str] = {
    # The profile (R11) comes first the first time: the attempt cannot tell it from the tile.
    AttemptStatus.TO_START: N_(
        "Exam portal: the exam “To start” not opened yet (the profile first, the first time)"
    ),
    AttemptStatus.TILE_SELECTED: N_("Exam opened: “I start now” not clicked yet"),
    AttemptStatus.WORKSPACE_REQUESTED: N_("Exam workspace being prepared"),
    AttemptStatus.WORKSPACE_READY: N_("Exam instructions shown: “Start” not clicked yet"),
}
DEFERRED = N_("Exam deferred: the candidate may come back before “Start”")
FINISHED_SCREEN = {
    AttemptStatus.FINISHED: N_("Results being computed"),
    AttemptStatus.RESULTS_SHOWN: N_(
        "Detailed results shown: the code to type back, then “Yes, send”"
    ),
}
# The result sent to her (R19): the step says so, and which result (it read « Examen envoyé
# au contrôle » beside « résultat envoyé le … », a reviewer's check).
RESULT_SENT: dict[Verdict, str] = {
    Verdict.VALIDATED: N_("Result sent to the candidate: session validated"),
    Verdict.INVALIDATED: N_("Result sent to the candidate: session invalidated"),
}
APPEAL_SENT: dict[Verdict, str] = {
    Verdict.VALIDATED: N_("Appeal decided, decision sent to the candidate: session validated"),
    Verdict.INVALIDATED: N_("Appeal decided, decision sent to the candidate: session invalidated"),
}

VERDICT = {
    Verdict.VALIDATED: (N_("Session validated"), "success"),
    Verdict.INVALIDATED: (N_("Session invalidated"), "error"),
}
WAITING = N_("Being checked by an examiner, who decides by %(day)s")
NOT_SENT = N_("%(verdict)s — the result is not sent to the candidate yet")
SENT_ON = N_("%(verdict)s — result sent on %(day)s")
AFTER_APPEAL = N_("%(verdict)s after appeal — decision sent on %(day)s")
APPEAL_PENDING = N_("Appeal under review")

# The badge beside the certification's title: the place in a word, and its colour. The read
# model's codes, refined with what the case file holds (the attempt before « Commencer »; a
# decided review whose result is not sent: it read « en cours de contrôle » beside
# « Session validée — le résultat n'est pas encore envoyé », a reviewer's check).
STATE: dict[str, tuple[str, str]] = {
    "created": (N_("created, not entered yet"), "info"),
    "checks": (N_("in the checks"), "info"),
    "launched": (N_("checks done, exam not started"), "info"),
    "exam": (N_("exam in progress"), "warning"),
    "finished": (N_("exam finished, not sent yet"), "warning"),
    "closed": (N_("sent"), "success"),
    "quit": (N_("quit"), "error"),
    "under review": (N_("under review"), "info"),
    "validated, not sent": (N_("validated, result not sent yet"), "success"),
    "invalidated, not sent": (N_("invalidated, result not sent yet"), "error"),
    # A decided session read « envoyée », green even when invalidated.
    "validated": (N_("validated"), "success"),
    "invalidated": (N_("invalidated"), "error"),
    "under appeal": (N_("under appeal"), "warning"),
}
# The attempt's status while the read model says « exam » (from the launch, R10).
IN_PORTAL: dict[AttemptStatus, str] = {
    **{status: "launched" for status in NOT_BEGUN},
    AttemptStatus.IN_PROGRESS: "exam",
    AttemptStatus.FINISHED: "finished",
    AttemptStatus.RESULTS_SHOWN: "finished",
}


@dataclass(frozen=True)
class Progress:
    """Two lines of an enrolment's facts: where she is, and the outcome (empty before); and
    the header's badge, which says the same."""

    step: str
    screen: str = ""  # in the checks and the portal: the screen she is at
    outcome: str = ""
    tone: str = "info"  # the outcome's badge colour
    note: str = ""  # beside the outcome: an appeal under review
    state: str = ""  # the header's badge
    state_tone: str = "info"


def state_code(f: EnrolmentFile) -> str:
    """The read model's state of the session, refined with the attempt and the review."""
    status = f.summary.status if f.summary else "created"
    if status == "exam" and f.attempt is not None:
        return IN_PORTAL.get(f.attempt.status, status)
    review = f.review
    if status == "under review" and review and review.verdict and not review.released:
        return f"{review.verdict.value}, not sent"
    return status


def progress(
    f: EnrolmentFile, language: str, day: Callable[[datetime | date], str]
) -> Progress | None:
    """The enrolment's progress in `language` (None before the exam session exists); `day`
    formats an instant as the centre's local day."""
    if f.session is None:
        return None
    _ = gettext_for(language)
    words, tone = STATE.get(state_code(f), STATE["closed"])
    return replace(_place(f, language, _, day), state=_(words), state_tone=tone)


def _place(
    f: EnrolmentFile, language: str, _: Gettext, day: Callable[[datetime | date], str]
) -> Progress:
    session = f.session
    assert session is not None
    status = f.summary.status if f.summary else "created"
    if f.review is not None or status in SENT:
        return _outcome(f, _, day)
    if status == "quit":
        return Progress(_(QUIT))
    if session.closed_at is not None:
        return Progress(_(CLOSED))
    if session.entries == 0:
        return Progress(_(NOT_ENTERED))
    place = where(session, language)
    if place is not None:
        return Progress(place.stage_line, place.check_line)
    # The checks are done: the exam was launched (R10); « Commencer » pressed or not.
    return _in_portal(session, f.attempt, _)


def _in_portal(session: ProctoredSession, attempt: ExamAttempt | None, _: Gettext) -> Progress:
    if attempt is None:
        return Progress(_(EXAM))
    if attempt.status in NOT_BEGUN:
        screen = DEFERRED if deferred_away(session, attempt) else NOT_BEGUN[attempt.status]
        return Progress(_(CHECKS_DONE), _(screen))
    if attempt.status in FINISHED_SCREEN:
        return Progress(_(FINISHED), _(FINISHED_SCREEN[attempt.status]))
    return Progress(_(EXAM))


def _outcome(
    f: EnrolmentFile,
    _: Gettext,
    day: Callable[[datetime | date], str],
) -> Progress:
    review, appeal = f.review, f.appeal
    if review is None or review.verdict is None:
        due = day(review.due_on) if review else "—"
        return Progress(_(SUBMITTED), outcome=_(WAITING, day=due))
    if appeal is not None and appeal.verdict is not None and appeal.decided_at is not None:
        words, tone = VERDICT[appeal.verdict]
        text = _(AFTER_APPEAL, verdict=_(words), day=day(appeal.decided_at))
        return Progress(_(APPEAL_SENT[appeal.verdict]), outcome=text, tone=tone)
    words, tone = VERDICT[review.verdict]
    if not review.released:
        return Progress(_(SUBMITTED), outcome=_(NOT_SENT, verdict=_(words)), tone=tone)
    step = _(RESULT_SENT[review.verdict])
    sent = day(review.released_at) if review.released_at else "—"
    text = _(SENT_ON, verdict=_(words), day=sent)
    if appeal is not None:  # lodged, not decided yet
        return Progress(step, outcome=text, tone="warning", note=_(APPEAL_PENDING))
    return Progress(step, outcome=text, tone=tone)
