"""Where a candidate is in her journey, and what came of it, as the hotline reads it on the
phone: in the checks, the step and screen she has in front of her in her own page's words
(`check_steps`, R7–R10); then « Examen en cours », « Examen envoyé au contrôle »; and the
outcome once there is one (R19): waiting for the examiner, validated or invalidated, the day
the result was sent to her or that it is not sent yet, an appeal under review or decided.

Read from what the case file already holds (the session it loaded, the read models' session,
review and appeal): no store query of its own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from app.use_cases.hotline import EnrolmentFile
from domain.evidence import Verdict
from ui.web.check_steps import where
from ui.web.i18n import N_, gettext_for

# The read model's states once the exam was sent: a review exists, whatever came of it.
SENT = frozenset({"under review", "validated", "invalidated", "under appeal"})

# The words the rest of the product already gives these places (the candidate's list, the
# centre's list, the webhooks' events): the hotline says what she and her centre read.
NOT_ENTERED = N_("Exam session created, not entered yet")
EXAM = N_("Exam under way")
SUBMITTED = N_("Exam submitted for review")
CLOSED = N_("Session closed")
QUIT = N_("Certification left")

VERDICT = {
    Verdict.VALIDATED: (N_("Session validated"), "success"),
    Verdict.INVALIDATED: (N_("Session invalidated"), "error"),
}
WAITING = N_("Being checked by an examiner, who decides by %(day)s")
NOT_SENT = N_("%(verdict)s — the result is not sent to the candidate yet")
SENT_ON = N_("%(verdict)s — result sent on %(day)s")
AFTER_APPEAL = N_("%(verdict)s after appeal — decision sent on %(day)s")
APPEAL_PENDING = N_("Appeal under review")


@dataclass(frozen=True)
class Progress:
    """Two lines of an enrolment's facts: where she is, and the outcome (empty before)."""

    step: str
    screen: str = ""  # in the checks: the screen within the step
    outcome: str = ""
    tone: str = "info"  # the outcome's badge colour
    note: str = ""  # beside the outcome: an appeal under review


def progress(
    f: EnrolmentFile, language: str, day: Callable[[datetime | date], str]
) -> Progress | None:
    """The enrolment's progress in `language` (None before the exam session exists); `day`
    formats an instant as the centre's local day."""
    session = f.session
    if session is None:
        return None
    _ = gettext_for(language)
    status = f.summary.status if f.summary else "created"
    if f.review is not None or status in SENT:
        return _outcome(f, _(SUBMITTED), _, day)
    if status == "quit":
        return Progress(_(QUIT))
    if session.closed_at is not None:
        return Progress(_(CLOSED))
    if session.entries == 0:
        return Progress(_(NOT_ENTERED))
    place = where(session, language)
    if place is not None:
        return Progress(place.stage_line, place.check_line)
    return Progress(_(EXAM))  # the checks are done: the exam was launched (R10)


def _outcome(
    f: EnrolmentFile,
    step: str,
    _: Callable[..., str],
    day: Callable[[datetime | date], str],
) -> Progress:
    review, appeal = f.review, f.appeal
    if review is None or review.verdict is None:
        due = day(review.due_on) if review else "—"
        return Progress(step, outcome=_(WAITING, day=due))
    if appeal is not None and appeal.verdict is not None and appeal.decided_at is not None:
        words, tone = VERDICT[appeal.verdict]
        text = _(AFTER_APPEAL, verdict=_(words), day=day(appeal.decided_at))
        return Progress(step, outcome=text, tone=tone)
    words, tone = VERDICT[review.verdict]
    if not review.released:
        return Progress(step, outcome=_(NOT_SENT, verdict=_(words)), tone=tone)
    sent = day(review.released_at) if review.released_at else "—"
    text = _(SENT_ON, verdict=_(words), day=sent)
    if appeal is not None:  # lodged, not decided yet
        return Progress(step, outcome=text, tone="warning", note=_(APPEAL_PENDING))
    return Progress(step, outcome=text, tone=tone)
