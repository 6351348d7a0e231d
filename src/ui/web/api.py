"""The JSON API: the same use cases as the pages, msgspec structs in and out, OpenAPI at
/schema, and errors as problem details (RFC 9457) naming the rule or the field."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.concurrency import sync_to_thread
from litestar.exceptions import PermissionDeniedException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody

from app import reach, tenancy
from app.ports.event_store import AggregateNotFound
from app.use_cases import portal, proctoring, reviewing
from domain.errors import DomainError, InvalidArgument, RuleBroken
from domain.evidence import ReasonCode, Verdict
from domain.exam_attempt import ExamAttempt
from domain.review import CitedReason, DecisionRefused, Override
from domain.staff import Role
from ui.web.candidate import perform_step
from ui.web.decision_problems import problem_words
from ui.web.edge import (
    UPLOAD_BODY_BYTES,
    Multipart,
    candidate_guard,
    candidate_id,
    edge_bound,
    own_session,
    platform_of,
    refusal_status,
    staff_guard,
    staff_member,
)
from ui.web.i18n import gettext_for
from ui.web.portal import own_attempt, perform_portal_action

PROBLEM = "application/problem+json"
# Guards run before a body is read (issue 14): an anonymous post is refused unread.
EXAMINERS = staff_guard(Role.EXAMINER)


class FieldProblem(msgspec.Struct, omit_defaults=True):
    """One problem of a refused decision: its field (`reasons`, `evidence`, `justification`,
    `excused`, `overrides`, `override`), the reason or the ground's place it is about, its
    rule, and a sentence in the reader's language (Accept-Language)."""

    field: str
    rule: str
    detail: str
    reason: str | None = None
    ground: int | None = None


class Problem(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details; `rule` or `field` says what to fix."""

    type: str
    title: str
    status: int
    detail: str
    rule: str | None = None
    field: str | None = None
    request_id: str | None = None  # on a 5xx: the reference to quote to support (issue 14)
    reason: str | None = None  # a refused API token: why (issue 16, ui.web.machine_api)
    # A refused decision: every problem at once, each naming its field (a user's tour).
    problems: list[FieldProblem] | None = None


def problem_response(
    error: DomainError, *, machine: bool = False, detail: str | None = None, language: str = "en"
) -> Response[Problem]:
    """A refusal as problem details: 409 for a rule, 422 for a malformed field (for the
    machine API, `reason` `invalid`, as its edge's 400 names `missing`, `too_long`…), 422
    for a refused decision, each of its problems named by field in `language`.
    `detail`: the sentence in the reader's language, where there is one (else the domain's
    English message)."""
    if isinstance(error, DecisionRefused):
        _ = gettext_for(language)
        body = Problem(
            type="https://vigie.example/problems/decision",
            title="The decision was refused",
            status=422,
            detail=_("The decision was not recorded: correct each problem (“problems”, by field)."),
            rule=error.rule,
            field=error.field,
            problems=[
                FieldProblem(
                    field=p.field.value,
                    rule=p.rule,
                    detail=problem_words(p, language),
                    reason=p.reason.value if p.reason is not None else None,
                    ground=p.ground,
                )
                for p in error.problems
            ],
        )
        return Response(body, status_code=422, media_type=PROBLEM)
    if isinstance(error, RuleBroken):
        body = Problem(
            type=f"https://vigie.example/problems/rules/{error.rule}",
            title=f"Rule {error.rule} refused this",
            status=409,
            detail=error.message,
            rule=error.rule,
        )
    elif isinstance(error, InvalidArgument):
        body = Problem(
            type="https://vigie.example/problems/invalid-field",
            title=f"Invalid field {error.field}",
            status=refusal_status(error, 422),
            detail=detail or error.message,
            field=error.field,
            reason="invalid" if machine else None,
        )
    else:
        body = Problem(type="about:blank", title="Refused", status=409, detail=str(error))
    return Response(body, status_code=body.status, media_type=PROBLEM)


class SessionOut(msgspec.Struct):
    session_id: UUID
    certification_code: str
    status: str
    entry_label: str
    valid_until: str | None
    attempt_id: UUID | None


class EnterIn(msgspec.Struct):
    resume_reason: Annotated[str, edge_bound("resume_reason")] | None = None


class EnterOut(msgspec.Struct):
    label: str


class AnswerIn(msgspec.Struct):
    question_id: str
    answer: Annotated[str, edge_bound("answer")] = ""
    choices: list[str] = []


class AttemptOut(msgspec.Struct):
    attempt_id: UUID
    status: str
    remaining_seconds: float
    ends_at: datetime | None
    question_order: list[str]


class ReviewDueOut(msgspec.Struct):
    review_id: UUID
    certification_code: str
    due_on: str
    overdue: bool
    assigned: bool


class CitedIn(msgspec.Struct):
    reason: str
    evidence_ids: list[str]
    justification: Annotated[str, edge_bound("justification")] = ""


class OverrideIn(msgspec.Struct):
    """R19: a ground of the recommendation decided against, named as the recommendation
    gives it, with a written justification (at least 10 words)."""

    rule: str
    reason: str
    evidence_ids: list[str]
    justification: Annotated[str, edge_bound("justification")]


class DecisionIn(msgspec.Struct):
    verdict: str
    reasons: list[CitedIn] = []
    overrides: list[OverrideIn] = []
    # The seal of the recommendation the examiner saw: refused (409) if it changed since.
    seen: str | None = None


@get("/api/me/sessions", sync_to_thread=True, guards=[candidate_guard])
def my_sessions(request: Request[Any, Any, Any]) -> list[SessionOut]:
    """The candidate's exam sessions ('Examen' or 'Reprendre l'examen', R6)."""
    platform = platform_of(request)
    platform.projections.catch_up(platform.ctx.store)
    return [
        SessionOut(
            s.session_id,
            s.certification_code,
            s.status,
            s.entry_label,
            s.valid_until.isoformat() if s.valid_until else None,
            s.attempt_id,
        )
        for s in platform.projections.my_sessions(candidate_id(request))
    ]


@post("/api/sessions/{session_id:uuid}/enter", guards=[candidate_guard])
async def enter_session(
    request: Request[Any, Any, Any], session_id: FromPath[UUID], data: JSONBody[EnterIn]
) -> EnterOut:
    """R6: enter, or resume with a reason of at least 10 words."""
    await sync_to_thread(own_session, request, session_id)
    label = await sync_to_thread(
        proctoring.enter_session,
        platform_of(request).ctx,
        session_id,
        resume_reason=data.resume_reason,
    )
    return EnterOut(label)


@get("/api/attempts/{attempt_id:uuid}", guards=[candidate_guard])
async def attempt(request: Request[Any, Any, Any], attempt_id: FromPath[UUID]) -> AttemptOut:
    """The attempt on the server's clock: status, time left, the questions' order. The exam
    tab's heartbeat: answered here on the event loop when this process holds the attempt
    and knows nothing was appended to it since (`EventStore.held`), else read in a thread."""
    held = platform_of(request).ctx.store.held(attempt_id, ExamAttempt)
    if held is not None and held.candidate_id == candidate_id(request):
        return _attempt_out(request, held)
    return await sync_to_thread(attempt_out, request, attempt_id)


def attempt_out(request: Request[Any, Any, Any], attempt_id: UUID) -> AttemptOut:
    """The attempt as the API shows it (the candidate's own only)."""
    # The heartbeat's reply: the attempt alone answers it (the desk view would rebuild every
    # question, 300 times a second at a thousand candidates), read without a copy of it.
    return _attempt_out(request, own_attempt(request, attempt_id, to_read=True))


def _attempt_out(request: Request[Any, Any, Any], found: ExamAttempt) -> AttemptOut:
    return AttemptOut(
        found.id,
        found.status.value,
        found.remaining_seconds(platform_of(request).ctx.now()),
        found.ends_at,
        list(found.question_order),
    )


@post("/api/attempts/{attempt_id:uuid}/answers", status_code=201, guards=[candidate_guard])
async def answer(
    request: Request[Any, Any, Any], attempt_id: FromPath[UUID], data: JSONBody[AnswerIn]
) -> AnswerIn:
    """An answer, saved before the reply (R4/R16: refused after the time or the day)."""

    def save() -> None:  # one trip to the thread pool, one load: the check and the save
        try:
            portal.answer_question(
                platform_of(request).ctx,
                attempt_id,
                question_id=data.question_id,
                answer=data.answer,
                choices=tuple(data.choices),
                candidate_id=candidate_id(request),
            )
        except (AggregateNotFound, portal.NotTheCandidatesAttempt):
            raise PermissionDeniedException() from None  # 403, even if absent (own_attempt)

    await sync_to_thread(save)
    return data


@get("/api/reviews/due", sync_to_thread=True, guards=[EXAMINERS])
def reviews_due(request: Request[Any, Any, Any]) -> list[ReviewDueOut]:
    """R19: undecided reviews, overdue first."""
    examiner = staff_member(request, Role.EXAMINER)
    platform = platform_of(request)
    platform.projections.catch_up(platform.ctx.store)
    today = platform.ctx.now().date()
    # Their own reviews and the queue, never another examiner's (issue 14).
    mine = reach.reviews_due_for(platform.ctx, platform.projections, examiner, today)
    return [
        ReviewDueOut(
            r.review_id,
            r.certification_code,
            r.due_on.isoformat(),
            r.overdue(today),
            bool(r.examiner_id),
        )
        for r in mine
    ]


@post(
    "/api/reviews/{review_id:uuid}/decision",
    status_code=201,
    guards=[EXAMINERS],
    responses={
        409: ResponseSpec(
            Problem,
            media_type=PROBLEM,
            description="A rule refuses any decision now (the review already decided, no "
            "examiner assigned, new evidence arrived since `seen`…): `rule` names it, "
            "`detail` says it; nothing was recorded",
        ),
        422: ResponseSpec(
            Problem,
            media_type=PROBLEM,
            description="The decision as sent was refused and nothing was recorded: "
            "`problems` lists every problem at once, each with its `field` (`verdict`, "
            "`reasons`, `justification`, `overrides`…), `rule`, `reason` and a `detail` in "
            "the request's Accept-Language (French or English)",
        ),
    },
)
async def decide(
    request: Request[Any, Any, Any], review_id: FromPath[UUID], data: JSONBody[DecisionIn]
) -> DecisionIn:
    """R19/R20: the assigned examiner's decision, each reason citing evidence."""
    examiner = staff_member(request, Role.EXAMINER)
    await sync_to_thread(tenancy.review_for, platform_of(request).ctx, examiner, review_id)
    try:
        verdict = Verdict(data.verdict)
        reasons = tuple(
            CitedReason(ReasonCode(r.reason), tuple(r.evidence_ids), r.justification)
            for r in data.reasons
        )
        overrides = tuple(
            Override(o.rule, ReasonCode(o.reason), tuple(o.evidence_ids), o.justification)
            for o in data.overrides
        )
    except ValueError as error:
        raise InvalidArgument("reasons", str(error)) from None
    await sync_to_thread(
        reviewing.decide_review,
        platform_of(request).ctx,
        review_id,
        examiner_id=examiner,
        verdict=verdict,
        reasons=reasons,
        overrides=overrides,
        seen=data.seen,
    )
    return data


class SessionStateOut(msgspec.Struct):
    session_id: UUID
    entries: int
    completed: list[str]
    next_step: str | None
    budget_ends_at: datetime | None
    attempt_id: UUID | None


@post(
    "/api/sessions/{session_id:uuid}/steps/{action:str}",
    status_code=200,
    request_max_body_size=UPLOAD_BODY_BYTES,
    guards=[candidate_guard],
)
async def session_step(
    request: Request[Any, Any, Any],
    session_id: FromPath[UUID],
    action: FromPath[str],
    data: Multipart,
) -> SessionStateOut:
    """One check (R7–R10), as the pages' buttons: form fields, and files for photos and
    recordings; the reply is the session's state after it."""
    await sync_to_thread(own_session, request, session_id)
    platform = platform_of(request)
    await sync_to_thread(perform_step, platform, session_id, action, data)
    session = await sync_to_thread(own_session, request, session_id)
    return SessionStateOut(
        session.id,
        session.entries,
        [step.value for step in session.completed],
        session.next_step.value if session.next_step else None,
        session.budget_ends_at(),
        session.attempt_id,
    )


@post(
    "/api/attempts/{attempt_id:uuid}/actions/{action:str}",
    status_code=200,
    guards=[candidate_guard],
)
async def attempt_action(
    request: Request[Any, Any, Any],
    attempt_id: FromPath[UUID],
    action: FromPath[str],
    data: JSONBody[dict[str, Any]],
) -> AttemptOut:
    """One portal button (R11–R22): profile, practice, tile, start, reopen, begin, defer,
    finish, validate {"code"}, quit {"confirm": "yes"}; the reply is the attempt after it."""
    found = await sync_to_thread(own_attempt, request, attempt_id)
    await sync_to_thread(perform_portal_action, platform_of(request), found, action, data)
    return await sync_to_thread(attempt_out, request, attempt_id)


ROUTES = [
    my_sessions,
    enter_session,
    attempt,
    answer,
    reviews_due,
    decide,
    session_step,
    attempt_action,
]
