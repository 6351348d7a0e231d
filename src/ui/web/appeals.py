"""Appeals on the web: the candidate's result page with its 'Contester' form, and the second
examiner's appeal pages (the APPEAL-* rules are in domain/review.py)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from babel.numbers import format_decimal
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from app import reach, tenancy
from app.media_views import played_recording
from app.recording import recording_of, session_media
from app.use_cases import accommodations, appeals
from app.use_cases.reviewing import review_id_for
from domain.errors import DomainError, InvalidArgument, RuleBroken
from domain.evidence import ReasonCode
from domain.exam_attempt import ExamAttempt
from domain.proctored_session import ProctoredSession
from domain.review import (
    APPEAL_ANSWER_MAX_CHARS,
    APPEAL_ANSWER_MIN_WORDS,
    APPEAL_REASON_MAX_CHARS,
    AppealOutcome,
    Review,
)
from domain.rules import count_words
from domain.staff import Role
from ui.web import review_moments, review_words
from ui.web.edge import (
    Form,
    candidate_guard,
    candidate_id,
    context,
    kept_bound,
    language_of,
    own_session,
    platform_of,
    staff_guard,
    staff_id,
    within_kept_bound,
)
from ui.web.examiner import REASON_LABELS, _cited, ground_reasons, refusal_from
from ui.web.i18n import N_, gettext_for, ngettext_for
from ui.web.scores import score_facts


def _review_of(request: Request[Any, Any, Any], session: ProctoredSession) -> Review | None:
    """The review of the session's exam, once it was sent for review."""
    if session.attempt_id is None:
        return None
    try:
        return platform_of(request).ctx.store.get(review_id_for(session.attempt_id), Review)
    except LookupError:
        return None


def _reason_words(request: Request[Any, Any, Any]) -> dict[ReasonCode, str]:
    """The closed list's reasons in the page's language (the result page shows them)."""
    _ = gettext_for(language_of(request))
    return {code: _(label) for code, label in REASON_LABELS.items()}


def _score(request: Request[Any, Any, Any], session: ProctoredSession) -> dict[str, Any]:
    """R19: the score, pass mark and outcome beside the verdict (portal area's words)."""
    ctx = platform_of(request).ctx
    attempt = ctx.store.get(session.attempt_id, ExamAttempt) if session.attempt_id else None
    certification = ctx.catalogue.get(session.certification_code)
    return {
        "certification": certification,
        "attempt": attempt,
        **score_facts(attempt, certification.pass_mark_percent, language_of(request)),
    }


class AppealForm(msgspec.Struct):
    """The 'Contester' form (a missing reason reads as empty). Its length is the domain's
    rule (APPEAL-REASON), refused on the result page with the reason kept: bounded at the
    edge, a longer one gave a page of its own and lost it (a reviewer's tour). Only past
    KEPT_TIMES the rule is it refused at the edge (`kept_bound`)."""

    reason: Annotated[str, kept_bound("appeal_reason")] = ""


class Results(Controller):
    """The candidate: the result and 'Contester' (their own sessions only)."""

    path = "/results"
    guards = [candidate_guard]

    @get("/{session_id:uuid}", sync_to_thread=True)
    def result_page(self, request: Request[Any, Any, Any], session_id: FromPath[UUID]) -> Template:
        """R19: the result once sent; the appeal's verdict when there was one."""
        return _result_page(request, own_session(request, session_id))

    @post("/{session_id:uuid}/appeal", sync_to_thread=True)
    def lodge_appeal(
        self,
        request: Request[Any, Any, Any],
        session_id: FromPath[UUID],
        data: Annotated[AppealForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        """'Contester': once, within the period, with a written reason. A refusal is said on
        the result page, the reason kept; the same reason sent twice (a double click) lands
        on the appeal lodged, where the second click's refusal said « not possible now »
        over an appeal that was recorded (a reviewer's check)."""
        session = own_session(request, session_id)
        review = _review_of(request, session)
        if review is None:
            raise InvalidArgument("session", "this exam has no result to contest yet")
        ctx = platform_of(request).ctx
        try:
            appeals.lodge_appeal(
                ctx, review.id, candidate_id=candidate_id(request), reason=data.reason
            )
        except DomainError as refusal:
            lodged = ctx.store.get(review.id, Review).appeal
            if lodged is not None and lodged.reason == data.reason.strip():
                return Redirect(f"/results/{session_id}#appeal")
            if lodged is not None:
                # Sent already, from another tab or window: this text was not; the page
                # says so, shows the appeal recorded and keeps this text to copy.
                return _result_page(request, session, unsent=data.reason, status=409)
            message = _contest_refusal(language_of(request), refusal, data.reason.strip())
            return _result_page(request, session, error=message, typed=data.reason, status=409)
        return Redirect(f"/results/{session_id}#appeal")


def _result_page(
    request: Request[Any, Any, Any],
    session: ProctoredSession,
    *,
    error: str = "",
    typed: str = "",
    unsent: str = "",
    status: int = 200,
) -> Template:
    review = _review_of(request, session)
    released = review is not None and review.released
    today = platform_of(request).ctx.now().date()
    return Template(
        "result.html",
        context=context(
            request,
            session=session,
            review=review if released else None,
            appealable=bool(review and released and review.may_be_appealed(today)),
            reasons=_reason_words(request),
            error=error,
            typed=typed,
            unsent=unsent,
            **_score(request, session),
        ),
        status_code=status,
    )


def _rule_of(refusal: DomainError) -> str:
    return refusal.rule if isinstance(refusal, RuleBroken) else ""


def _contest_refusal(language: str, refusal: DomainError, reason: str) -> str:
    """What a refused « Contester » says: a reason too long says how long it is and may be
    (the limit from the domain's table), the others their rule's sentence."""
    _ = gettext_for(language)
    limit = format_decimal(APPEAL_REASON_MAX_CHARS, locale=language)
    if _rule_of(refusal) == "APPEAL-REASON" and len(reason) > APPEAL_REASON_MAX_CHARS:
        return _(
            "Field “Why do you contest the decision?”: %(limit)s characters at most, and "
            "your reason has %(given)s. Shorten it, then press “Contest” again. Nothing was "
            "sent.",
            limit=limit,
            given=format_decimal(len(reason), locale=language),
        )
    return _(CONTEST_REFUSALS.get(_rule_of(refusal), GENERAL_CONTEST_REFUSAL), limit=limit)


# A candidate's refused appeal, by rule: what to do, in her words (never a rule's code).
# %(limit)s is the reason's length at most (APPEAL_REASON_MAX_CHARS).
CONTEST_REFUSALS = {
    "APPEAL-REASON": N_(
        "Field “Why do you contest the decision?”: write your reason (%(limit)s characters "
        "at most). Nothing was sent."
    ),
    "APPEAL-PERIOD": N_("The period to contest this decision has passed. Nothing was sent."),
    "APPEAL-ONCE": N_("This decision was already contested: an exam is contested once."),
}
GENERAL_CONTEST_REFUSAL = N_(
    "Your appeal could not be sent. Nothing was recorded: try again, or contact the hotline."
)


class AppealDesk(Controller):
    """The second examiner's appeal pages: for the examiner role only."""

    path = "/examiner/appeals"
    guards = [staff_guard(Role.EXAMINER)]

    @get("/", sync_to_thread=True)
    def appeals_due(self, request: Request[Any, Any, Any]) -> Template:
        """Appeals not decided yet, the soonest due first, and the examiners' agreement."""
        platform = platform_of(request)
        platform.projections.catch_up(platform.ctx.store)
        # Theirs and those waiting for a second examiner they could be (issue 14).
        due = reach.appeals_due_for(platform.ctx, platform.projections, staff_id(request))
        # The name beside each line, as the reviews list gives it (read through the sealed
        # Candidate stream, never projected): the list named no one (a reviewer's remark).
        names = {
            a.review_id: review_words.registered_name(
                platform.ctx, platform.projections, platform.ctx.store.get(a.review_id, Review)
            )
            for a in due
        }
        return Template(
            "appeals.html",
            context=context(
                request,
                appeals=due,
                names=names,
                agreement=platform.projections.appeal_agreement(),
                today=platform.ctx.now().date(),
            ),
        )

    @get("/{review_id:uuid}", sync_to_thread=True)
    def appeal_page(self, request: Request[Any, Any, Any], review_id: FromPath[UUID]) -> Template:
        """The first decision, the candidate's reason, the evidence, and the second decision."""
        return _appeal_page(request, review_id)

    @get("/{review_id:uuid}/{action:str}", sync_to_thread=True)
    def action_page(
        self, request: Request[Any, Any, Any], review_id: FromPath[UUID], action: FromPath[str]
    ) -> Redirect:
        """An action's address opened as a page (a refused decision leaves it in the address
        bar; a reload asks it): the appeal, where it answered 405 (a reviewer's remark)."""
        tenancy.review_for(platform_of(request).ctx, staff_id(request), review_id)  # else 404
        return Redirect(f"/examiner/appeals/{review_id}")

    @post("/{review_id:uuid}/{action:str}", sync_to_thread=True)
    def appeal_action(
        self,
        request: Request[Any, Any, Any],
        review_id: FromPath[UUID],
        action: FromPath[str],
        data: Form,
    ) -> Redirect | Template:
        """'take' the appeal, or 'decide' it (upheld or overturned, with a written answer)."""
        examiner = staff_id(request)
        ctx = platform_of(request).ctx
        tenancy.review_for(ctx, examiner, review_id)  # another examiner's appeal: 404
        if action == "take":
            appeals.take_appeal(ctx, review_id, examiner)
        elif action == "decide":
            # The answer comes back in the form when too long (APPEAL-DECISION), up to
            # KEPT_TIMES its bound; past that it is no typing, refused here, never echoed.
            within_kept_bound(data, "answer", "appeal_answer")
            try:
                outcome = AppealOutcome(str(data.get("outcome", "")))
            except ValueError:
                raise InvalidArgument("outcome", "upheld or overturned") from None
            answer = str(data.get("answer", ""))
            try:
                appeals.decide_appeal(
                    ctx,
                    review_id,
                    examiner_id=examiner,
                    outcome=outcome,
                    answer=answer,
                    # Whatever the outcome: reasons ticked with « Annuler l'invalidation »
                    # were dropped in silence; the domain refuses them, said in place.
                    reasons=_cited(data),
                    # APPEAL-VIEWED: overturning needs the recording played (issue 14's
                    # views), recorded with the decision whatever its outcome.
                    recording_viewed=_played(request, review_id),
                )
            except DomainError as refusal:
                # On the appeal itself, in the examiner's words, the form as it was sent: a
                # short answer led to an error page naming APPEAL-DECISION, the form lost.
                sent = {
                    k: [str(x) for x in v] if isinstance(v, list) else [str(v)]
                    for k, v in data.items()
                }
                review = ctx.store.get(review_id, Review)
                message = _appeal_refusal(refusal, outcome, answer, review, language_of(request))
                return _appeal_page(
                    request,
                    review_id,
                    error=message,
                    # Said beside the answer when it is the answer that was refused.
                    error_field="answer" if _answer_refused(refusal, answer) else "",
                    status=409,
                    sent=sent,
                )
            # To the decision shown (the form's #decision-error would otherwise stay in the
            # address, a redirect without a fragment keeping the request's).
            return Redirect(f"/examiner/appeals/{review_id}?done=decided#appeal-decision")
        else:
            raise InvalidArgument("action", f"unknown action {action!r}")
        return Redirect(f"/examiner/appeals/{review_id}")


def _appeal_page(
    request: Request[Any, Any, Any],
    review_id: UUID,
    *,
    error: str = "",
    error_field: str = "",
    status: int = 200,
    sent: dict[str, list[str]] | None = None,
) -> Template:
    """The appeal's page; after a refused decision, with the refusal in words (beside the
    field it names, `error_field`) and the form as it was sent (`sent`)."""
    examiner = staff_id(request)
    platform = platform_of(request)
    review = tenancy.review_for(platform.ctx, examiner, review_id)  # else 404 (issue 14)
    if review.appeal is None:
        raise NotFoundException()
    language = language_of(request)
    history = list(platform.ctx.store.history(review.session_id))
    recording = recording_of(history)
    shown = review_moments.moments(review, recording, history, language)
    return Template(
        "appeal.html",
        context=context(
            request,
            review=review,
            appeal=review.appeal,
            examiner=examiner,
            accommodation=accommodations.accommodation_of_session(platform.ctx, review.session_id),
            reasons=REASON_LABELS,
            words=review_words,
            candidate=review_words.registered_name(platform.ctx, platform.projections, review),
            evidence_by_id={e.id: e for e in review.evidence},
            # Each environment recording named by its part, wherever it is cited (R10).
            parts=review_words.environment_parts(history),
            # The second examiner sees the recording and cites its moments as the first did.
            recording=recording,
            moments=shown,
            moment_at=review_moments.moment_times(shown),
            session_day=review_moments.session_day(history),
            format_number=lambda x: review_words.seconds_words(x, language),
            format_length=lambda x: review_words.length_words(x, language),
            error=error,
            error_field=error_field,
            sent=sent,
            no_overturn=_no_overturn(review, language),
            # APPEAL-VIEWED: whether the examiner deciding has played the recording yet.
            played=_played(request, review_id),
            # After « Enregistrer » (post/redirect/get), once decided: the page gave no word.
            decided=request.query_params.get("done") == "decided"
            and review.appeal.outcome is not None,
        ),
        status_code=status,
    )


def _played(request: Request[Any, Any, Any], review_id: UUID) -> bool | None:
    """Whether the examiner asking played this review's recording (APPEAL-VIEWED); None
    when the session has no recording to play (nothing was filmed: the camera failed)."""
    platform = platform_of(request)
    review = platform.ctx.store.get(review_id, Review)
    history = list(platform.ctx.store.history(review.session_id))
    if not recording_of(history).segments and not any(
        m.kind != "image" for m in session_media(history)
    ):
        return None
    return played_recording(
        platform.ctx, platform.projections, review.session_id, staff_id(request)
    )


def _answer_refused(refusal: DomainError, answer: str) -> bool:
    """Whether APPEAL-DECISION refused the written answer itself: too long or too short."""
    text = answer.strip()
    return getattr(refusal, "rule", "") == "APPEAL-DECISION" and (
        len(text) > APPEAL_ANSWER_MAX_CHARS or count_words(text) < APPEAL_ANSWER_MIN_WORDS
    )


def _no_overturn(review: Review, lang: str) -> str:
    """Why « Valider l'examen » is not offered, when the evidence alone establishes a ground
    an appeal cannot lift (the domain's own test, `Review.grounds_no_appeal_lifts`): it was
    offered, then refused once chosen (a user's tour). "" when it may be chosen."""
    count, grounds = ground_reasons(review.grounds_no_appeal_lifts, lang)
    if not count:
        return ""
    ngettext = ngettext_for(lang)
    return ngettext(
        "“Validate the exam” is not offered: the evidence alone establishes the ground "
        "%(grounds)s, and an appeal cannot lift an invalidation on it. Uphold the "
        "invalidation, with your written answer.",
        "“Validate the exam” is not offered: the evidence alone establishes the grounds "
        "%(grounds)s, and an appeal cannot lift an invalidation on them. Uphold the "
        "invalidation, with your written answer.",
        count,
        grounds=grounds,
    )


def _appeal_refusal(
    refusal: DomainError, outcome: AppealOutcome, answer: str, review: Review, lang: str
) -> str:
    """What to do next, in the examiner's language (APPEAL-DECISION and the reasons' rules):
    never the domain's English, never a bare rule."""
    _ = gettext_for(lang)
    rule = getattr(refusal, "rule", "")
    field = refusal.field if isinstance(refusal, InvalidArgument) else ""
    if rule == "APPEAL-DECISION" and len(answer.strip()) > APPEAL_ANSWER_MAX_CHARS:
        return _(
            "Field “Written answer to the candidate”: %(limit)s characters at most, and your "
            "answer has %(given)s. Shorten it, then press “Record the decision” again. Nothing "
            "was recorded.",
            limit=format_decimal(APPEAL_ANSWER_MAX_CHARS, locale=lang),
            given=format_decimal(len(answer.strip()), locale=lang),
        )
    if rule == "APPEAL-DECISION" and count_words(answer.strip()) < APPEAL_ANSWER_MIN_WORDS:
        # A count said as a plural, not « 0 word(s) » (a user's tour).
        ngettext = ngettext_for(lang)
        return ngettext(
            "Your answer has %(num)s word: write at least %(n)s, it goes to the "
            "candidate with the decision. Nothing was recorded.",
            "Your answer has %(num)s words: write at least %(n)s, it goes to the "
            "candidate with the decision. Nothing was recorded.",
            count_words(answer.strip()),
            n=APPEAL_ANSWER_MIN_WORDS,
        )
    # Overturning against one of the recommendation's grounds raises the ground's own rule
    # (R9, R17: domain/review.py, APPEAL-DECISION).
    # It read « …: elle ne peut pas être levée en appel », « elle » with no clear antecedent
    # (a user's tour): the ground is named, and what cannot be lifted.
    count, grounds = ground_reasons(review.grounds_no_appeal_lifts, lang)
    if outcome is AppealOutcome.OVERTURNED and rule and not rule.startswith("APPEAL-") and count:
        ngettext = ngettext_for(lang)
        return ngettext(
            "The evidence alone establishes the ground %(grounds)s: an invalidation on it "
            "cannot be lifted on appeal. Uphold the invalidation, with your written answer. "
            "Nothing was recorded.",
            "The evidence alone establishes the grounds %(grounds)s: an invalidation on them "
            "cannot be lifted on appeal. Uphold the invalidation, with your written answer. "
            "Nothing was recorded.",
            count,
            grounds=grounds,
        )
    return refusal_from(APPEAL_REFUSALS, rule or field, rule, lang)


# The other refusals of an appeal's decision, by rule or refused field: what to do next.
APPEAL_REFUSALS = {
    "reasons": N_(
        "To validate the exam, untick the reasons: they are for upholding the invalidation. "
        "Nothing was recorded."
    ),
    "R20": N_(
        "Each reason cites at least one moment: tick them in the list beside the player "
        "(“Cite”). Nothing was recorded."
    ),
    "APPEAL-OPEN": N_("This appeal is already decided. Nothing was recorded."),
    "APPEAL-VIEWED": N_(
        "To validate the exam on appeal, play the recording first (the player above): the "
        "first decision rests on it. Nothing was recorded."
    ),
    "APPEAL-SECOND-EXAMINER": N_(
        "Only the second examiner who took this appeal can decide it. Nothing was recorded."
    ),
}


ROUTES = [Results, AppealDesk]
