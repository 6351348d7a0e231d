"""Candidate pages of the exam portal: profile, tile, workspace, exam, results (R11–R22)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from babel.dates import format_date
from babel.numbers import format_decimal
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from markupsafe import Markup, escape

from adapters.bootstrap import Platform
from app.passwords import MAX_LENGTH, MIN_LENGTH
from app.time_format import LOCALES, TimeFormatter
from app.use_cases import portal, proctoring
from app.use_cases.reviewing import review_id_for
from domain.candidate import Candidate, PortalProfile, profile_problems
from domain.errors import (
    InvalidArgument,
    InvalidArguments,
    RuleBroken,
    TooLong,
    TooShort,
    refuse_all,
)
from domain.exam_attempt import AttemptStatus, ExamAttempt
from domain.exam_paper import ExamPaper, Question, QuestionKind
from domain.proctored_session import ProctoredSession
from domain.review import Review
from domain.rules import check_can_finish_today
from domain.scoring import GivenAnswer, is_answered, is_correct
from ui.web.edge import (
    Form,
    candidate_guard,
    candidate_id,
    context,
    language_of,
    live_session,
    platform_of,
    wants_fragment,
    within_kept_bound,
)
from ui.web.i18n import N_, gettext_for
from ui.web.leaving import LogoutPhase, deferred_away, logout_phase
from ui.web.refusals import field_name, refusal_message
from ui.web.scores import percent, score_facts


def own_attempt(
    request: Request[Any, Any, Any], attempt_id: UUID, *, to_read: bool = False
) -> ExamAttempt:
    """The attempt, if it is the logged-in candidate's own (403 otherwise, even if absent);
    `to_read` as the store's `get` says."""
    try:
        attempt = platform_of(request).ctx.store.get(attempt_id, ExamAttempt, to_read=to_read)
    except LookupError:
        raise PermissionDeniedException() from None
    if attempt.candidate_id != candidate_id(request):
        raise PermissionDeniedException()
    return attempt


def unanswered_count(attempt: ExamAttempt) -> tuple[int, int]:
    """The questions not answered yet and the exam's questions, as the exam tab counts them
    (domain.scoring.is_answered): the proctoring tab's « Terminer l'examen ? » says them, so
    that she does not finish by mistake with questions left (a user's tour)."""
    given = attempt.given_answers()
    order = attempt.question_order
    blank = sum(1 for qid in order if qid not in given or not is_answered(given[qid]))
    return blank, len(order)


def portal_phase(attempt: ExamAttempt) -> str:
    """What the portal shows, in a word its page compares with the server's to know it is
    behind: the attempt's state and, during the exam, whether its workspace is open, being
    prepared or closed (the link to the exam tab, « being prepared… », or « Reopen »)."""
    if attempt.status is not AttemptStatus.IN_PROGRESS:
        return attempt.status.value
    if attempt.workspace_url:
        return "in_progress:open"
    return "in_progress:preparing" if attempt.workspace_pending else "in_progress:closed"


@dataclass(frozen=True)
class Schedule:
    """The guide's « Date, Heure, Durée » above the instructions: the day and time the exam
    starts (now, if « Commencer » is clicked now; the real start once begun), how long it lasts
    (with any extra time) and the latest it can end (the session's 3-hour budget may end it
    sooner, R4)."""

    day: str
    time: str
    duration: str
    latest_end: datetime | None
    # « Commencer » now would be refused (R16: it would end after midnight): the page says
    # so in place of the button, where the click opened a blank tab and then refused.
    too_late_today: bool = False


def _schedule(attempt: ExamAttempt, now: datetime, language: str, times: TimeFormatter) -> Schedule:
    start = attempt.begun_at or now
    minutes = attempt.accommodated_minutes
    end = attempt.ends_at or start + timedelta(minutes=minutes)
    if attempt.ends_at is None and attempt.budget_ends_at is not None:
        end = min(end, attempt.budget_ends_at)
    locale = LOCALES.get(language, LOCALES["fr"])
    return Schedule(
        day=format_date(times.local(start).date(), "full", locale=locale),
        time=times.format(start, language, "clock"),
        duration=with_extra_time(minutes, attempt.extra_minutes, language),
        latest_end=end,
        too_late_today=attempt.begun_at is None and _ends_another_day(times, start, end),
    )


def _ends_another_day(times: TimeFormatter, start: datetime, end: datetime) -> bool:
    """The domain's own R16 check, asked of a start now (ExamAttempt.begin makes it)."""
    try:
        check_can_finish_today(times.local(start), times.local(end))
    except RuleBroken:
        return True
    return False


def duration_in_words(minutes: int, language: str) -> str:
    """'1 h 30 min', '2 h', '45 min': how an exam's length reads on the instructions."""
    _ = gettext_for(language)
    hours, rest = divmod(minutes, 60)
    if not hours:
        return _("%(minutes)s min", minutes=rest)
    if not rest:
        return _("%(hours)s h", hours=hours)
    return _("%(hours)s h %(minutes)s min", hours=hours, minutes=f"{rest:02d}")


# R4 with an accommodation: how every screen says a length that holds extra time (« Mes
# examens », the proctoring tab's checks and portal; the exam tab has the same words in its
# own catalogue, adapters.launcher.page). A user's tour read four wordings of one grant.
WITH_EXTRA_TIME = N_("%(total)s, of which %(extra)s of extra time granted by your training centre")


def with_extra_time(total_minutes: int, extra_minutes: int, language: str) -> str:
    """'2 h, of which 30 min of extra time granted by your training centre' (or '2 h'
    without extra time): `total_minutes` already holds the extra minutes
    (domain.accommodation.extra_minutes computes them, once)."""
    total = duration_in_words(total_minutes, language)
    if not extra_minutes:
        return total
    extra = duration_in_words(extra_minutes, language)
    return gettext_for(language)(WITH_EXTRA_TIME, total=total, extra=extra)


def _live(request: Request[Any, Any, Any], attempt: ExamAttempt) -> str:
    """The proctoring tab goes on recording on the portal (the session is loaded only on a
    server that records)."""
    if getattr(request.app.state, "live_media_root", None) is None:
        return ""
    store = platform_of(request).ctx.store
    # Two of its fields read, nothing changed: no copy of a session that may hold many flags.
    return live_session(request, store.get(attempt.session_id, ProctoredSession, to_read=True))


def perform_portal_action(
    platform: Platform, attempt: ExamAttempt, action: str, data: dict[str, Any]
) -> None:
    """The use case behind one portal button (shared by the pages and the API)."""
    ctx = platform.ctx
    attempt_id = attempt.id
    if action == "profile":
        portal.save_portal_profile(
            ctx,
            attempt.candidate_id,
            email=str(data.get("email", "")),
            profile=_profile(
                data,
                first=ctx.store.get(attempt.candidate_id, Candidate).profile is None,
                today=ctx.now().date(),
            ),
            password=str(data.get("password", "")) or None,
        )
    elif action == "practice":
        paper = ctx.catalogue.get(attempt.certification_code).practice
        answers = practice_answers(data, paper.questions if paper else ())
        portal.take_practice_questionnaire(ctx, attempt_id, answers=answers)
    elif action == "tile":
        portal.select_tile(ctx, attempt_id, certification_code=str(data.get("code", "")))
    elif action == "start":
        portal.start_now(ctx, attempt_id)
    elif action == "reopen":
        portal.reopen_workspace(ctx, attempt_id)
    elif action == "begin":
        portal.begin_exam(ctx, attempt_id)
    elif action == "defer":
        portal.defer_exam(ctx, attempt_id)
        # The candidate now closes both windows (R14): the session says why it was left, so
        # the closed tab that follows reads as the guide's interruption.
        proctoring.leave_session(ctx, attempt.session_id, cause="deferral before 'Commencer' (R14)")
    elif action == "finish":
        portal.finish_exam(ctx, attempt_id)
    elif action == "validate":
        portal.validate_exam(ctx, attempt_id, typed_code=str(data.get("code", "")))
    elif action == "quit":
        if data.get("confirm") != "yes":
            raise InvalidArgument("confirm", "confirm with 'Quitter' to leave for good (R22)")
        portal.quit_certification(ctx, attempt_id)
    else:
        raise InvalidArgument("action", f"unknown action {action!r}")


def practice_answers(
    data: Mapping[str, Any], questions: Sequence[Question]
) -> dict[str, GivenAnswer]:
    """The practice form's answer to each question (`q-<id>`): the text typed, or the ids of
    the choices ticked (a radio button's one, or each box's: the form sent them under one
    name). The form showed a text field for every question, and a choice question could
    never be answered right (a user's tour)."""
    answers: dict[str, GivenAnswer] = {}
    for question in questions:
        value = data.get(f"q-{question.question_id}")
        values = [str(v) for v in (value if isinstance(value, list) else [value]) if v]
        if question.kind is QuestionKind.SHORT:
            answers[question.question_id] = GivenAnswer(text=values[0] if values else "")
        else:
            # Only the question's own choices: a made-up POST's thousands of values were
            # scored and kept in the web session (a reviewer's check).
            offered = {c.choice_id for c in question.choices}
            chosen = tuple(dict.fromkeys(v for v in values if v in offered))
            answers[question.question_id] = GivenAnswer(choices=chosen)
    return answers


def _profile(data: dict[str, Any], *, first: bool, today: date) -> PortalProfile:
    """The profile as sent, every wrong field refused at once (the password too: needed the
    `first` time, « Créer », and any one given): the page said one field per « Créer », and
    « Mot de passe » without its 8 characters (a reviewer's tour). The domain checks the same
    again, with the same `today` (R11: no birth date to come)."""
    problems: list[InvalidArgument] = []
    password = str(data.get("password", ""))
    if (first or password) and len(password) < MIN_LENGTH:
        problems.append(TooShort("password", MIN_LENGTH, len(password)))
    elif len(password) > MAX_LENGTH:  # more than the log-in page takes (a tester's tour)
        problems.append(TooLong("password", MAX_LENGTH, len(password)))
    try:
        birth_date: date | None = date.fromisoformat(str(data.get("birth_date", "")))
    except ValueError:
        problems.append(InvalidArgument("birth_date", "a date such as 1990-05-17"))
        birth_date = None
    profile = PortalProfile(
        civility=str(data.get("civility", "")),
        surname=str(data.get("surname", "")),
        first_name=str(data.get("first_name", "")),
        birth_date=birth_date or date.min,  # refused above when it is not a date
        birth_place=str(data.get("birth_place", "")),
    )
    problems += [
        problem
        for problem in profile_problems(profile, today=today)
        # A date that could not be read is said once, as such, not as one from year 1.
        if birth_date is not None or problem.field != "birth_date"
    ]
    order = ("password", "civility", "surname", "first_name", "birth_date", "birth_place")
    refuse_all(sorted(problems, key=lambda p: order.index(p.field)))
    return profile


class Portal(Controller):
    """The exam portal: the logged-in candidate's own attempts only."""

    path = "/portal"
    guards = [candidate_guard]

    @get("/{attempt_id:uuid}", sync_to_thread=True)
    def portal_page(self, request: Request[Any, Any, Any], attempt_id: FromPath[UUID]) -> Template:
        return _portal_page(request, own_attempt(request, attempt_id))

    @get("/{attempt_id:uuid}/state", sync_to_thread=True)
    def portal_state(
        self, request: Request[Any, Any, Any], attempt_id: FromPath[UUID]
    ) -> Response[dict[str, str]]:
        """The portal's phase alone, for its page to move on by itself when the exam ends
        elsewhere (finished in the exam tab, its time up, its workspace lost): the page
        asks now and then, and reloads its fragment only when the phase differs."""
        attempt = own_attempt(request, attempt_id, to_read=True)
        # The unanswered count too: the answers are given in the exam tab, so the finish
        # dialog asks for it when it opens (a count from this page's load would be stale).
        blank, total = unanswered_count(attempt)
        return Response(
            {"phase": portal_phase(attempt), "unanswered": str(blank), "questions": str(total)},
            headers={"cache-control": "no-store"},
        )

    @post("/{attempt_id:uuid}/{action:str}", sync_to_thread=True)
    def portal_action(
        self,
        request: Request[Any, Any, Any],
        attempt_id: FromPath[UUID],
        action: FromPath[str],
        data: Form,
    ) -> Redirect | Template:
        """One button of the portal; the domain refuses what the guide does not allow."""
        attempt = own_attempt(request, attempt_id)
        platform = platform_of(request)
        if action == "practice":
            # An answer comes back in the form when too long, up to KEPT_TIMES its bound;
            # past that it is no typing, refused here and never echoed.
            for name in [key for key in data if key.startswith("q-")]:
                within_kept_bound(data, name, "answer")
            try:
                perform_portal_action(platform, attempt, action, data)
            except InvalidArgument as refusal:
                return _practice_refused(request, attempt, refusal, data)
            _keep_practice(request, attempt, data, platform)
        else:
            perform_portal_action(platform, attempt, action, data)
        return Redirect(f"/portal/{attempt_id}")


def _portal_page(
    request: Request[Any, Any, Any], attempt: ExamAttempt, *, status: int = 200, **shown: Any
) -> Template:
    """The portal as the attempt stands (the fragment alone for journey.js)."""
    platform = platform_of(request)
    candidate = platform.ctx.store.get(attempt.candidate_id, Candidate)
    certification = platform.ctx.catalogue.get(attempt.certification_code)
    now = platform.ctx.now()
    language = language_of(request)
    return Template(
        "_portal.html" if wants_fragment(request) else "portal.html",
        context=context(
            request,
            attempt=attempt,
            candidate=candidate,
            certification=certification,
            remaining=int(attempt.remaining_seconds(now)),
            schedule=_schedule(attempt, now, language, platform.ctx.times),
            practice_score=percent(
                attempt.practice_scores[-1] if attempt.practice_scores else None, language
            ),
            practice_review=_practice_review(request, attempt, certification.practice),
            # The questionnaire again: asked for (« Refaire »), or its refusal shown in it.
            practice_again=shown.pop(
                "practice_again", request.query_params.get("practice") == "again"
            ),
            **score_facts(attempt, certification.pass_mark_percent, language),
            proctoring_session=_live(request, attempt),
            proctoring_screen=certification.screen_capture,
            result_out=_result_out(platform, attempt),
            deferred_away=_deferred_away(platform, attempt),
            phase=portal_phase(attempt),
            unanswered=unanswered_count(attempt),
            # « Se déconnecter » asks first while the session runs (base.html, leaving.py).
            logout_phase=_logout_phase(platform, attempt),
            **shown,
        ),
        status_code=status,
    )


def _practice_refused(
    request: Request[Any, Any, Any],
    attempt: ExamAttempt,
    refusal: InvalidArgument,
    data: dict[str, Any],
) -> Template:
    """A practice answer refused (too long: R12's use case names its question), said beside
    its question with the answers as typed: in the fragment journey.js places beside each
    field (the form stays as typed), or on the whole portal page without the script. An
    answer of any length was read and scored (a user's tour)."""
    language = language_of(request)
    _ = gettext_for(language)
    practice = platform_of(request).ctx.catalogue.get(attempt.certification_code).practice
    prompts = {q.question_id: q.prompt for q in practice.questions} if practice else {}
    said: list[tuple[str, Markup]] = []
    for problem in refusal.problems if isinstance(refusal, InvalidArguments) else (refusal,):
        if isinstance(problem, TooLong):
            sentence = escape(
                _(
                    "Field “%(field)s”: %(limit)s characters at most, and your answer has "
                    "%(given)s. Shorten it, then press “Submit” again. Nothing was recorded.",
                    field=prompts.get(problem.field) or field_name(language, "answer"),
                    limit=format_decimal(problem.limit, locale=language),
                    given=format_decimal(problem.given, locale=language),
                )
            )
        else:
            sentence = refusal_message(language, problem)
        # The empty questionnaire's refusal is said beside « Soumettre » (named `practice`).
        said.append(
            (problem.field if problem.field == "practice" else f"q-{problem.field}", sentence)
        )
    if wants_fragment(request):
        return Template(
            "_refusal.html", context=context(request, message="", fields=said), status_code=409
        )
    # Each question's values as sent: the text typed (the first), or the choices ticked.
    given = {
        key: [str(v) for v in (value if isinstance(value, list) else [value])]
        for key, value in data.items()
        if key.startswith("q-")
    }
    # The form, not the last score, even on a retake (no `?practice=again` on the refusal's
    # address): the refusal and the answers were lost under the old score (a reviewer's).
    return _portal_page(
        request,
        attempt,
        status=409,
        practice_given=given,
        practice_refused=dict(said),
        practice_again=True,
    )


ROUTES = [Portal]


# R12: what the candidate gave in her last practice questionnaire, kept in her web session
# (never in the log, never for the exam) so the page after « Soumettre » says which answers
# were right: it gave a score alone, and the questionnaire was gone (a user's tour).
PRACTICE_KEY = "practice"
# A typed answer is echoed in the review up to this many characters (the session is read at
# every request: a 10,000-character answer is not carried along).
PRACTICE_ECHO_CHARS = 200


@dataclass(frozen=True)
class PracticeLine:
    """One question of the practice as the review shows it."""

    prompt: str
    given: str  # what she gave, in words ("" when left blank)
    right: bool
    expected: str  # the right answer, in words


def _keep_practice(
    request: Request[Any, Any, Any], attempt: ExamAttempt, data: dict[str, Any], platform: Platform
) -> None:
    paper = platform.ctx.catalogue.get(attempt.certification_code).practice
    if paper is None:
        return
    answers = practice_answers(data, paper.questions)
    request.session[PRACTICE_KEY] = {
        "attempt": str(attempt.id),
        "taken": len(attempt.practice_scores) + 1,  # the score this review goes with
        "answers": {
            question.question_id: {
                "text": answers[question.question_id].text.strip()[:PRACTICE_ECHO_CHARS],
                "choices": list(answers[question.question_id].choices),
                "right": is_correct(question, answers[question.question_id]),
            }
            for question in paper.questions
        },
    }


def _practice_review(
    request: Request[Any, Any, Any], attempt: ExamAttempt, paper: ExamPaper | None
) -> list[PracticeLine]:
    """The last practice's answers, right or not, with the right ones; none when this browser
    did not send the score shown (another device, or before this was kept)."""
    kept = request.session.get(PRACTICE_KEY) if request.scope.get("session") else None
    if (
        paper is None
        or not isinstance(kept, dict)
        or kept.get("attempt") != str(attempt.id)
        or kept.get("taken") != len(attempt.practice_scores)
    ):
        return []
    given = kept.get("answers", {})
    lines: list[PracticeLine] = []
    for question in paper.questions:
        one = given.get(question.question_id, {})
        answer = GivenAnswer(text=str(one.get("text", "")), choices=tuple(one.get("choices", ())))
        lines.append(
            PracticeLine(
                prompt=question.prompt,
                given=_in_words(question, answer) if is_answered(answer) else "",
                right=bool(one.get("right")),
                expected=_in_words(question, GivenAnswer(choices=question.expected))
                if question.kind is not QuestionKind.SHORT
                else question.expected[0],
            )
        )
    return lines


def _in_words(question: Question, given: GivenAnswer) -> str:
    """An answer as the candidate reads it: the text, or the ticked choices' texts."""
    if question.kind is QuestionKind.SHORT:
        return given.text
    return ", ".join(c.text for c in question.choices if c.choice_id in given.choices)


def _deferred_away(platform: Platform, attempt: ExamAttempt) -> bool:
    """Whether she deferred (R14) and has not come back since: « Exam deferred, you may close
    both windows » stayed on the portal after she had resumed (a reviewer's check)."""
    if attempt.status is not AttemptStatus.TO_START or not attempt.deferrals:
        return False
    return deferred_away(platform.ctx.store.get(attempt.session_id, ProctoredSession), attempt)


def _logout_phase(platform: Platform, attempt: ExamAttempt) -> LogoutPhase:
    session = platform.ctx.store.get(attempt.session_id, ProctoredSession, to_read=True)
    return logout_phase(session, attempt)


def _result_out(platform: Platform, attempt: ExamAttempt) -> bool:
    """Whether the exam's result was sent (R19): the portal then points to it, where it kept
    saying an examiner would check the recording, beside the decided outcome."""
    if attempt.status is not AttemptStatus.VALIDATED:  # only the sent screen says it; the
        return False  # portal is polled during the exam, one read of the store less each time
    try:
        review = platform.ctx.store.get(review_id_for(attempt.id), Review)
    except LookupError:
        return False
    return review.released or review.appeal is not None
