"""Staff log-in and the examiner's pages: reviews due, a review with its timeline and the
recommended verdict, and the decision citing evidence (R19, R20)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

import msgspec
from babel.lists import format_list
from litestar import Controller, Request, Response, get, post
from litestar.concurrency import sync_to_thread
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler

from app import reach, tenancy
from app.login_throttle import Refusal
from app.media_content import media_format
from app.media_views import record_view, starts_playback
from app.read_models import timeline
from app.recording import recording_of, session_media
from app.replay import replay_review
from app.use_cases import accommodations, accounts, reviewing
from domain.errors import DomainError, InvalidArgument, RuleBroken
from domain.evidence import ReasonCode, Verdict
from domain.media_view import ViewedMedia
from domain.review import (
    OTHER_JUSTIFICATION_MIN_WORDS,
    OVERRIDE_JUSTIFICATION_MIN_WORDS,
    CitedReason,
    DecisionProblem,
    DecisionRefused,
    Override,
    Problem,
    Review,
    override_of,
)
from domain.staff import Role, StaffMember
from domain.verdict import Finding
from ui.web import log_words, review_moments, review_words
from ui.web.decision_problems import Said, said
from ui.web.edge import (
    NEXT,
    THROTTLED_RETRY_AFTER,
    Form,
    address_refused,
    context,
    edge_bound,
    forgotten,
    language_of,
    place_of,
    platform_of,
    remember_device,
    return_path,
    second_factors_of,
    session_ended_notice,
    staff_guard,
    staff_id,
    staff_logged_in,
    throttle_of,
    throttled,
    too_many_codes,
)
from ui.web.i18n import N_, gettext_for, ngettext_for
from ui.web.ranges import ranged_media
from ui.web.rule_words import rule_sentence

# The reasons of the closed list (R20), in English: translated where they are shown.
REASON_LABELS = review_words.REASON_WORDS
# The reasons with a written justification of their own (R20), and its field's name.
JUSTIFICATION_FIELDS = review_words.JUSTIFICATION_FIELDS


# The staff log-in form, in the log-in counts (app.login_throttle) and known devices.
AREA = "staff"


@get("/staff/login", sync_to_thread=False)
def staff_login_page(request: Request[Any, Any, Any]) -> Template:
    back_to = return_path(request.query_params.get(NEXT, ""), staff=True)
    return Template(
        "staff_login.html",
        context=context(request, error="", back_to=back_to, ended=session_ended_notice(request)),
    )


class StaffLogin(msgspec.Struct):
    """The staff log-in form (the CSRF token is checked before and ignored here)."""

    email: Annotated[str, edge_bound("email")] = ""
    password: Annotated[str, edge_bound("password")] = ""
    # The page that asked for the log-in (edge.return_path checks it before any use).
    back_to: str = msgspec.field(default="", name=NEXT)


@post("/staff/login")
async def staff_login(
    request: Request[Any, Any, Any],
    data: Annotated[StaffLogin, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    platform = platform_of(request)
    throttle = throttle_of(request)
    back_to = return_path(data.back_to, staff=True)  # kept by a refused attempt's form
    # F7: counted per account and place (this address, or this browser if the member logged
    # in here before), and per account from everywhere, a ceiling this browser then passes.
    # The attempt takes its place in the counts before the password is checked: a burst sent
    # at once gets ten checked, not one per request that read the counts before any failure.
    # This address's per-minute limit: its own page again, no password checked.
    refused = address_refused(request, "staff_login.html", back_to)
    if refused is not None:
        return refused
    place = place_of(request, data.email, AREA)
    attempt = await sync_to_thread(throttle.attempt, data.email, AREA, place)
    if isinstance(attempt, Refusal):
        error, retry_after = throttled(request, attempt, staff=True)
        return Template(
            "staff_login.html",
            context=context(request, error=error, back_to=back_to),
            status_code=429,
            headers=retry_after,
        )
    platform.projections.catch_up(platform.ctx.store)
    staff = await sync_to_thread(
        accounts.authenticate_staff,
        platform.ctx,
        platform.projections.staff_by_email,
        email=data.email,
        password=data.password,
    )
    if staff is None:  # the attempt stays counted: a failure
        language = language_of(request)
        _ = gettext_for(language)
        # What to do next too: staff get no « forgot password » mail (a tester's tour).
        wrong = _("Wrong e-mail or password.")
        error = f"{wrong} {forgotten(language)}"
        return Template(
            "staff_login.html",
            context=context(request, error=error, back_to=back_to),
            status_code=401,
        )
    await sync_to_thread(throttle.succeeded, attempt)
    if await sync_to_thread(second_factors_of(request).enabled, staff.id):
        # The password was right; the session is not a staff one until the code is typed.
        request.session.update(
            pending_staff=str(staff.id),
            pending_role=staff.role.value,
            pending_since=platform.ctx.clock.now().isoformat(),
            pending_next=back_to,
        )
        return Redirect("/staff/login/code")
    logged_in = staff_logged_in(request, str(staff.id), staff.role.value, back_to)
    remember_device(request, logged_in, staff.email, AREA)
    return logged_in


# How long the code may wait once the password was right: then the password is asked again.
CODE_WAIT = timedelta(minutes=5)


def _pending_staff(request: Request[Any, Any, Any]) -> tuple[UUID, str] | None:
    """The member whose password was right and whose code is awaited, if still in time."""
    pending, since = request.session.get("pending_staff"), request.session.get("pending_since")
    if not pending or not since:
        return None
    try:
        started = datetime.fromisoformat(since)
    except ValueError:
        return None
    if platform_of(request).ctx.clock.now() - started > CODE_WAIT:
        return None
    return UUID(pending), str(request.session.get("pending_role", ""))


@get("/staff/login/code", sync_to_thread=False)
def staff_code_page(request: Request[Any, Any, Any]) -> Response[Any]:
    if _pending_staff(request) is None:
        return Redirect("/staff/login")
    return Template("staff_code.html", context=context(request, error=""))


class CodeForm(msgspec.Struct):
    code: str = ""


@post("/staff/login/code")
async def staff_code(
    request: Request[Any, Any, Any],
    data: Annotated[CodeForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    """The second step: the code of the member's authenticator app (RFC 6238), once."""
    pending = _pending_staff(request)
    if pending is None:
        return Redirect("/staff/login")
    staff, role = pending
    # This address's per-minute limit: the code's page again, no code checked.
    refused = address_refused(request, "staff_code.html", "")
    if refused is not None:
        return refused
    _ = gettext_for(language_of(request))
    throttle = throttle_of(request)
    # Claimed before the code is checked, as a password is (a burst gets ten codes tried).
    attempt = await sync_to_thread(throttle.code_attempt, str(staff), "second-factor")
    if attempt is None:
        error = too_many_codes(language_of(request))
        return Template(
            "staff_code.html",
            context=context(request, error=error),
            status_code=429,
            headers=THROTTLED_RETRY_AFTER,
        )
    if not await sync_to_thread(second_factors_of(request).check, staff, data.code):
        error = _(
            "This code is not right, or was already used: a code opens once, so if you just "
            "used it, wait for the next one your app shows (within 30 seconds)."
        )
        return Template("staff_code.html", context=context(request, error=error), status_code=401)
    await sync_to_thread(throttle.succeeded, attempt)
    back_to = str(request.session.get("pending_next", ""))
    email = (await sync_to_thread(platform_of(request).ctx.store.get, staff, StaffMember)).email
    logged_in = staff_logged_in(request, str(staff), role, back_to)
    remember_device(request, logged_in, email, AREA)  # only once the code was right too
    return logged_in


def _review_page(
    request: Request[Any, Any, Any],
    review_id: UUID,
    *,
    error: str = "",
    error_at: str = "",
    status: int = 200,
    typed: dict[str, str] | None = None,
    sent: dict[str, list[str]] | None = None,
    problems: Sequence[Said] = (),
) -> Template:
    """The review; after a refused decision, its sentence (`error`) above the form, or beside
    the reasons it is about (`error_at="reasons"`); or every problem of the decision
    (`problems`), listed above the form and each said beside its field."""
    examiner = staff_id(request)
    platform = platform_of(request)
    review = platform.ctx.store.get(review_id, Review)
    report = replay_review(platform.ctx.store, review_id) if review.verdict else None
    history = list(platform.ctx.store.history(review.session_id))
    # The photos and environment recordings (the live segments have their own player).
    media = [m for m in session_media(history) if m.kind != "segment"]
    recording = recording_of(history)
    language = language_of(request)
    shown = review_moments.moments(review, recording, history, language)
    entries = timeline(platform.ctx.store, review.session_id)
    return Template(
        "review.html",
        context=context(
            request,
            review=review,
            examiner=examiner,
            entries=entries,
            # Each fact's details in words (the machine's own fields in the cell's title).
            words_of_log=log_words,
            reader=log_words.reader_of(
                platform.ctx, language, (e.event for e in entries if e.event is not None)
            ),
            reasons=REASON_LABELS,
            seal=reviewing.recommendation_seal(review.recommendation),
            min_words=OVERRIDE_JUSTIFICATION_MIN_WORDS,
            other_min_words=OTHER_JUSTIFICATION_MIN_WORDS,
            error=error,
            error_at=error_at,
            problems=problems,
            problems_at=_problems_at(problems),
            # FLAG-HINT: a justification field beside every reason, where the rule set asks
            # for one when a reason rests on detector flags alone.
            flag_words=_flag_words(review),
            flag_reasons={h.reason for h in review.recommendation.hints}
            if review.recommendation
            else set(),
            # Beside the recommendation, to the examiner deciding: its grounds' reasons are
            # hers to tick to invalidate on them.
            tick_note=_tick_note(review, language)
            if review.verdict is None and review.examiner_id == examiner
            else "",
            typed=typed or {},
            # A refused form's choices, ticked again as they were sent (None: as the
            # recommendation suggests).
            sent=sent,
            accommodation=accommodations.accommodation_of_session(platform.ctx, review.session_id),
            report=report,
            media=media,
            recording=recording,
            moments=shown,
            moment_at=review_moments.moment_times(shown),
            session_day=review_moments.session_day(history),
            format_number=lambda x: review_words.seconds_words(x, language),
            format_length=lambda x: review_words.length_words(x, language),
            words=review_words,
            candidate=review_words.registered_name(platform.ctx, platform.projections, review),
            evidence_by_id={e.id: e for e in review.evidence},
            # Each environment recording named by its part, wherever it is cited (R10).
            parts=review_words.environment_parts(history),
            done=review_words.CONFIRMATIONS.get(str(request.query_params.get("done", ""))),
        ),
        status_code=status,
    )


def _problems_at(problems: Sequence[Said]) -> dict[str, list[str]]:
    """The problems said beside each part of the form, by its anchor."""
    at: dict[str, list[str]] = {}
    for line in problems:
        at.setdefault(line.place, []).append(line.text)
    return at


def _flag_words(review: Review) -> int | None:
    """FLAG-HINT: the words a reason resting on flags alone needs, when this review's rule
    set asks for them against its « validée » recommendation with hints; else None."""
    rec = review.recommendation
    needed = review.rules.flag_hint_justification_min_words
    if needed is None or rec is None or rec.verdict is not Verdict.VALIDATED or not rec.hints:
        return None
    return needed


def ground_reasons(grounds: Sequence[Finding], language: str) -> tuple[int, str]:
    """The reasons of a recommendation's grounds (R20), each once, as the form names them:
    how many, and their names in a list (« « Onglet e-surveillance fermé » et « … » »)."""
    _ = gettext_for(language)
    reasons = list(dict.fromkeys(g.reason for g in grounds))
    named = [_("“%(reason)s”", reason=_(REASON_LABELS[r])) for r in reasons]
    return len(reasons), format_list(named, locale=language) if named else ""


def _recommended_reasons(review: Review, language: str) -> tuple[int, str]:
    grounds = review.recommendation.grounds if review.recommendation else ()
    return ground_reasons(grounds, language)


def _tick_note(review: Review, language: str) -> str:
    """Beside the recommendation, for the examiner deciding: its grounds' reasons are hers to
    tick to invalidate on them. The form ticks none (the examiner decides, R19), and « Invalidée »
    alone was refused below the player, « cochez au moins un motif » (a user's tour)."""
    count, reasons = _recommended_reasons(review, language)
    if not count:
        return ""
    ngettext = ngettext_for(language)
    return ngettext(
        "To invalidate on this ground, tick %(reasons)s in “Reasons to invalidate”: the "
        "recommendation cites its moments, but never ticks a reason for you.",
        "To invalidate on these grounds, tick %(reasons)s in “Reasons to invalidate”: the "
        "recommendation cites their moments, but never ticks a reason for you.",
        count,
        reasons=reasons,
    )


def _overrides(data: dict[str, Any], review: Review) -> tuple[Override, ...]:
    """R19: the written justification typed under each ground decided against (the page's
    grounds are the review's: the seal refuses a decision on a changed recommendation)."""
    grounds = review.recommendation.grounds if review.recommendation else ()
    return tuple(
        override_of(ground, text)
        for i, ground in enumerate(grounds)
        if (text := str(data.get(f"override-{i}", "")).strip())
    )


def _decision_refusal(
    refusal: DomainError,
    review: Review,
    language: str,
    verdict: Verdict | None,
    cited: tuple[CitedReason, ...],
    justified: tuple[ReasonCode, ...] = (),
) -> str:
    """A refused decision in the examiner's language: what to do next, the reason or field
    named in words, read from what the form sent (`cited`: the reasons ticked; `justified`:
    the reasons whose justification field holds words, ticked or not). (The domain's own
    message is English, for logs and the API: it read « Décision refusée : the reason
    other_rule_breach must cite at least one piece of evidence » in a user's review.)"""
    _ = gettext_for(language)
    n = OVERRIDE_JUSTIFICATION_MIN_WORDS
    grounds = review.recommendation.grounds if review.recommendation else ()
    if isinstance(refusal, reviewing.NewEvidenceArrived):
        return _(
            "New evidence arrived and changed the recommendation since you opened this review: "
            "look at it before deciding. Nothing was recorded."
        )
    field = refusal.field if isinstance(refusal, InvalidArgument) else ""
    stray = field.startswith("justification-")
    given = isinstance(refusal, RuleBroken) and refusal.rule == "R20" and bool(cited)
    if verdict is Verdict.VALIDATED and (stray or given):
        return _validation_refusal(cited, justified, language)
    said = _reasons_refusal(refusal, review, language, verdict, cited)
    if said:
        return said
    if isinstance(refusal, InvalidArgument) and refusal.field == "justification":
        return _(
            "Field “Justification”: to validate despite a ground, explain for each ground, in "
            "at least %(n)s words, why you do not retain it.",
            n=n,
        )
    if isinstance(refusal, RuleBroken) and any(g.rule == refusal.rule for g in grounds):
        ground = next(g for g in grounds if g.rule == refusal.rule)
        return _(
            "The ground “%(ground)s” stands against a validation: write in its "
            "“Justification” field (at least %(n)s words) why you validate anyway, or "
            "invalidate.",
            ground=_(REASON_LABELS[ground.reason]),
            n=n,
        )
    rule = refusal.rule if isinstance(refusal, RuleBroken) else ""
    if rule == "R19":  # whose review it is, or it was decided meanwhile
        held = "decided" if review.verdict else "untaken" if review.examiner_id is None else ""
        key = f"R19-{held or 'taken'}"
    else:
        key = rule or field  # R20 here is the phone exception, the only excuse
    return refusal_from(DECISION_REFUSALS, key, rule, language)


def _reasons_refusal(
    refusal: DomainError,
    review: Review,
    language: str,
    verdict: Verdict | None,
    cited: tuple[CitedReason, ...],
) -> str:
    """An invalidation refused for its reasons (R20), said beside them: none ticked (the
    recommendation's named), one citing no moment, the other breach without its words, a
    justification typed for a reason not ticked; "" for any other refusal."""
    if verdict is not Verdict.INVALIDATED:
        return ""
    _ = gettext_for(language)
    field = refusal.field if isinstance(refusal, InvalidArgument) else ""
    if field.startswith("justification-"):  # a reason's justification typed, not ticked
        code = ReasonCode(field.removeprefix("justification-"))
        return _(
            "The field “%(field)s” is filled but its reason is not ticked: tick “%(reason)s” "
            "and cite its moments, or empty the field. Nothing was recorded.",
            field=justification_label(code, _),
            reason=_(REASON_LABELS[code]),
        )
    if not (isinstance(refusal, RuleBroken) and refusal.rule == "R20"):
        return ""
    count, reasons = _recommended_reasons(review, language)
    ngettext = ngettext_for(language)
    if not cited and count:
        return ngettext(
            "To invalidate, tick at least one reason: the recommendation's is "
            "%(reasons)s, its moments already cited. Nothing was recorded.",
            "To invalidate, tick at least one reason: the recommendation's are "
            "%(reasons)s, their moments already cited. Nothing was recorded.",
            count,
            reasons=reasons,
        )
    if not cited:
        return _(
            "To invalidate, tick at least one reason, then the moments that show it in "
            "the list beside the player (“Cite”). Nothing was recorded."
        )
    bare = next((c for c in cited if not c.evidence_ids), None)
    if bare is not None:
        return _(
            "The reason “%(reason)s” cites no moment: tick at least one in the list beside "
            "the player (“Cite”). Nothing was recorded.",
            reason=_(REASON_LABELS[bare.reason]),
        )
    if any(c.reason is ReasonCode.OTHER_RULE_BREACH for c in cited):
        return _(
            "The reason “%(reason)s” needs a written justification of at least %(n)s "
            "words. Nothing was recorded.",
            reason=_(REASON_LABELS[ReasonCode.OTHER_RULE_BREACH]),
            n=OTHER_JUSTIFICATION_MIN_WORDS,
        )
    return ""  # R20 here is the phone exception: said at the top


def justification_label(code: ReasonCode, _: Callable[..., str]) -> str:
    """A reason's justification field as the form labels it: the other breach's own
    label, else « Justification (<reason>) » (FLAG-HINT gave every flag reason a field: a
    refusal naming it looked up the other breach's labels only, and answered 500)."""
    if code in JUSTIFICATION_FIELDS:
        return _(JUSTIFICATION_FIELDS[code])
    return _("Justification (%(reason)s)", reason=_(REASON_LABELS[code]))


def _validation_refusal(
    cited: tuple[CitedReason, ...], justified: tuple[ReasonCode, ...], language: str
) -> str:
    """R20: a validation cites no reason to invalidate. What to untick and which field to
    empty, by name, from what the form sent."""
    _ = gettext_for(language)
    ticked = format_list(
        [_("“%(reason)s”", reason=_(REASON_LABELS[c.reason])) for c in cited], locale=language
    )
    fields = format_list(
        [_("“%(field)s”", field=justification_label(code, _)) for code in justified],
        locale=language,
    )
    if cited and justified:
        return _(
            "A validation cites no reason to invalidate: untick %(reasons)s and empty the "
            "field %(fields)s, or choose “Invalidated”. Nothing was recorded.",
            reasons=ticked,
            fields=fields,
        )
    if cited:
        return _(
            "A validation cites no reason to invalidate: untick %(reasons)s, or choose "
            "“Invalidated”. Nothing was recorded.",
            reasons=ticked,
        )
    return _(
        "A validation cites no reason to invalidate: empty the field %(fields)s, or choose "
        "“Invalidated”. Nothing was recorded.",
        fields=fields,
    )


def refusal_from(table: dict[str, str], key: str, rule: str, language: str) -> str:
    """A decision's refusal from its table of sentences (a review's, an appeal's); anything
    else a sentence too, never the domain's English, with what the guide's rule says (it
    read « (règle R19) », a code)."""
    _ = gettext_for(language)
    sentence = table.get(key)
    if sentence:
        return _(sentence)
    guide = rule_sentence(language, rule)
    if not guide:
        return _("The decision was not recorded.")
    return _("The decision was not recorded. The guide: %(sentence)s", sentence=guide)


# The other refusals of a decision, by rule or refused field: what to do next.
DECISION_REFUSALS = {
    "R20": N_(
        "Only the use of a phone can be excused, for a technical problem recorded in this "
        "session: cite its record. Nothing was recorded."
    ),
    # A validation's reasons are R20's (`_validation_refusal`); what is left here is a
    # reason given twice: from the form, a phone ticked both as a reason and as excused.
    "reasons": N_(
        "Each reason is given once: the use of a phone is either a reason to invalidate or "
        "excused (“Phone exception”), not both. Nothing was recorded."
    ),
    "overrides": N_(
        "The justifications against a ground are for a validation: to invalidate, leave "
        "them empty. Nothing was recorded."
    ),
    "verdict": N_("Field “Verdict”: choose validated or invalidated. Nothing was recorded."),
    "R19-decided": N_("This review is already decided. Nothing was recorded."),
    "R19-untaken": N_("Take this review first (“Take this review”), then decide."),
    "R19-taken": N_("Another examiner has taken this review: only they can decide it."),
}


def _verdict(data: dict[str, Any]) -> Verdict | None:
    """The verdict the form sent; None if none or not one of the two (a page whose `required`
    was bypassed, a hand-made request): it answered a 500 (a reviewer's check)."""
    try:
        return Verdict(str(data.get("verdict", "")))
    except ValueError:
        return None


def _cited(data: dict[str, Any]) -> tuple[CitedReason, ...]:
    """Reasons ticked in the form, each with the evidence ids chosen for it (R20)."""
    chosen = data.get("reason", [])
    chosen = [chosen] if isinstance(chosen, str) else list(chosen)
    cited = []
    for code in chosen:
        try:
            reason = ReasonCode(code)
        except ValueError:
            raise InvalidArgument("reason", f"not in the closed list: {code!r}") from None
        evidence = data.get(f"evidence-{code}", [])
        evidence = [evidence] if isinstance(evidence, str) else list(evidence)
        cited.append(
            CitedReason(reason, tuple(evidence), str(data.get(f"justification-{code}", "")))
        )
    return tuple(cited)


def _justified(data: dict[str, Any]) -> tuple[ReasonCode, ...]:
    """The reasons whose justification field holds words, ticked or not."""
    return tuple(code for code in ReasonCode if str(data.get(f"justification-{code}", "")).strip())


def _strays(data: dict[str, Any]) -> tuple[ReasonCode, ...]:
    """The justifications typed for a reason that is not ticked: they would be lost, the
    domain hearing only of the reasons cited (R20)."""
    chosen = data.get("reason", [])
    chosen = {chosen} if isinstance(chosen, str) else set(chosen)
    return tuple(code for code in _justified(data) if code.value not in chosen)


def _said(
    problems: tuple[DecisionProblem, ...],
    strays: tuple[ReasonCode, ...],
    verdict: Verdict | None,
    data: dict[str, Any],
    language: str,
    review: Review,
) -> list[Said]:
    """Every problem of the decision in words, beside its field. A validation's reasons and
    justifications are said in one sentence naming each of them (what to untick, which
    field to empty), beside the reasons."""
    rest = tuple(p for p in problems if p.problem is not Problem.VALIDATION_CITES_REASONS)
    if verdict is not Verdict.VALIDATED or (len(rest) == len(problems) and not strays):
        lines = said(problems, strays, language)
        # No reason ticked: the recommendation's named, its moments already cited (a user's
        # tour: « cochez au moins un motif », the recommended one unnamed).
        named = _reasons_refusal(RuleBroken("R20", ""), review, language, verdict, ())
        return [
            Said(line.place, named) if named and p.problem is Problem.NO_REASON else line
            for p, line in zip(problems, lines, strict=False)
        ] + lines[len(problems) :]
    try:
        cited = _cited(data)
    except DomainError:
        cited = ()
    whole = _validation_refusal(cited, _justified(data), language)
    return [Said("reasons", whole), *said(rest, (), language)]


class StrayJustifications(InvalidArgument):
    """Justifications typed for reasons not ticked, refused at the edge, with the domain's
    problems of the rest of the form: everything is said at once."""

    def __init__(self, strays: tuple[ReasonCode, ...], problems: tuple[DecisionProblem, ...]):
        code = strays[0].value
        super().__init__(f"justification-{code}", f"a justification for {code}, not ticked")
        self.strays = strays
        self.problems = problems


def _excused(data: dict[str, Any]) -> tuple[CitedReason, ...]:
    """R20: a phone allowed for a proven technical problem, citing its record."""
    if data.get("phone_excused") != "yes":
        return ()
    evidence = data.get("evidence-phone-excused", [])
    evidence = [evidence] if isinstance(evidence, str) else list(evidence)
    return (CitedReason(ReasonCode.PHONE_USED, tuple(evidence)),)


class ExaminerDesk(Controller):
    """The examiner's reviews: for the examiner role only (the log-in pages stay open)."""

    path = "/examiner"
    guards = [staff_guard(Role.EXAMINER)]

    @get("/reviews", sync_to_thread=True)
    def reviews_due(self, request: Request[Any, Any, Any]) -> Template:
        """R19: undecided reviews, overdue first."""
        platform = platform_of(request)
        platform.projections.catch_up(platform.ctx.store)
        today = platform.ctx.now().date()
        # Their own reviews and the queue (nobody's yet), never another examiner's (issue 14).
        reviews = reach.reviews_due_for(
            platform.ctx, platform.projections, staff_id(request), today
        )
        to_send = reach.results_to_send_for(platform.ctx, platform.projections, staff_id(request))
        sent = reach.results_sent_for(platform.ctx, platform.projections, staff_id(request))
        # The name beside each line, read through the sealed Candidate stream (never projected).
        names = {
            r.review_id: review_words.registered_name(
                platform.ctx, platform.projections, platform.ctx.store.get(r.review_id, Review)
            )
            for r in (*reviews, *to_send, *sent)
        }
        return Template(
            "reviews.html",
            context=context(
                request,
                reviews=reviews,
                to_send=to_send,
                sent=sent,
                words=review_words,
                today=today,
                names=names,
                examiner=staff_id(request),
                # A number beside the link, as beside the reviews: a link alone was missed.
                appeals_due=len(
                    reach.appeals_due_for(platform.ctx, platform.projections, staff_id(request))
                ),
            ),
        )

    @get("/reviews/{review_id:uuid}", sync_to_thread=True)
    def review_page(self, request: Request[Any, Any, Any], review_id: FromPath[UUID]) -> Template:
        """The timeline, the evidence, the recommendation and the decision form."""
        ctx = platform_of(request).ctx
        review = tenancy.review_for(ctx, staff_id(request), review_id)  # else 404 (issue 14)
        if review.verdict is None and review.evidence:
            # Facts recorded since the review opened are shown before anyone decides (R19).
            reviewing.refresh_evidence(ctx, review_id)
        return _review_page(request, review_id)

    @post("/reviews/{review_id:uuid}/{action:str}", sync_to_thread=True)
    def review_action(
        self,
        request: Request[Any, Any, Any],
        review_id: FromPath[UUID],
        action: FromPath[str],
        data: Form,
    ) -> Response[Any]:
        examiner = staff_id(request)
        ctx = platform_of(request).ctx
        tenancy.review_for(ctx, examiner, review_id)  # another examiner's: 404 (issue 14)
        if action == "assign":
            reviewing.assign_examiner(ctx, review_id, examiner)
        elif action == "decide":
            review = ctx.store.get(review_id, Review)
            verdict = _verdict(data)
            try:
                if verdict is None:  # the form's `required` bypassed: said, not a 500
                    raise InvalidArgument("verdict", "choose validated or invalidated")
                strays = _strays(data)
                if strays:
                    # The rest of the form is checked too, so every problem is said at once.
                    raise StrayJustifications(
                        strays,
                        review.decision_problems(
                            verdict=verdict,
                            reasons=_cited(data),
                            excused=_excused(data),
                            overrides=_overrides(data, review),
                        )
                        if review.recommendation is not None
                        else (),
                    )
                # Everything the form sent goes to the domain, whatever the verdict: the
                # reasons of a validation (and the justifications against a ground of an
                # invalidation) were dropped here, and a comment typed in the other breach's
                # « Justification » was lost under « Session validée » (a reviewer's finding).
                # The domain refuses them (R20; `overrides`), and the page says so.
                reviewing.decide_review(
                    ctx,
                    review_id,
                    examiner_id=examiner,
                    verdict=verdict,
                    reasons=_cited(data),
                    excused=_excused(data),
                    overrides=_overrides(data, review),
                    seen=str(data.get("seen", "")) or None,
                )
            except DomainError as refusal:
                # Shown on the review itself, with the fresh evidence, in the examiner's words.
                try:
                    sent = _cited(data)
                except DomainError:
                    sent = ()
                language = language_of(request)
                # What the examiner wrote and ticked stays in the form (a refusal loses
                # nothing: the verdict, the reasons and their moments were all cleared).
                typed = {k: str(v) for k, v in data.items() if k.startswith("override-")}
                sent_back = {
                    k: [str(x) for x in v] if isinstance(v, list) else [str(v)]
                    for k, v in data.items()
                }
                if isinstance(refusal, DecisionRefused | StrayJustifications):
                    # Every problem at once, each beside its field (a user's tour: the first
                    # only, one per « Enregistrer la décision »).
                    strayed = refusal.strays if isinstance(refusal, StrayJustifications) else ()
                    return _review_page(
                        request,
                        review_id,
                        status=409,
                        typed=typed,
                        sent=sent_back,
                        problems=_said(refusal.problems, strayed, verdict, data, language, review),
                    )
                message = _decision_refusal(
                    refusal, review, language, verdict, sent, _justified(data)
                )
                # About the reasons: said beside them, where the examiner ticks (it stood
                # above the form, below the player, the recommended reason unnamed).
                beside = bool(_reasons_refusal(refusal, review, language, verdict, sent))
                return _review_page(
                    request,
                    review_id,
                    error=message,
                    error_at="reasons" if beside else "",
                    status=409,
                    typed=typed,
                    sent=sent_back,
                )
            # To the decision: its confirmation and « Release the result » (the form's
            # #decision-error would otherwise stay in the address, the browser keeping a
            # fragment across a redirect that gives none).
            return Redirect(f"/examiner/reviews/{review_id}?done=decided#decision-title")
        elif action == "release":
            reviewing.release_results(ctx, review_id, released_by=examiner)
            return Redirect(f"/examiner/reviews/{review_id}?done=released#decision-title")
        else:
            raise InvalidArgument("action", f"unknown action {action!r}")
        # Taken: the page from its top (#main), not the form's #decision-error, which the
        # browser kept in the address across this redirect (a reviewer's remark).
        return Redirect(f"/examiner/reviews/{review_id}#main")

    @get("/reviews/{review_id:uuid}/{action:str}", sync_to_thread=True)
    def action_page(
        self, request: Request[Any, Any, Any], review_id: FromPath[UUID], action: FromPath[str]
    ) -> Redirect:
        """An action's address opened as a page (a refused decision leaves it in the address
        bar; a reload or a bookmark asks it): the review, where it answered 405."""
        tenancy.review_for(platform_of(request).ctx, staff_id(request), review_id)  # else 404
        return Redirect(f"/examiner/reviews/{review_id}")

    @get("/reviews/{review_id:uuid}/media/{media_id:path}", sync_to_thread=True)
    def media(
        self, request: Request[Any, Any, Any], review_id: FromPath[UUID], media_id: FromPath[str]
    ) -> Response[bytes]:
        """A photo or an environment recording of the review's session, for an examiner who
        may see the review; the view is recorded (who, what, when: issue 14)."""
        examiner = staff_id(request)
        platform = platform_of(request)
        ctx = platform.ctx
        review = tenancy.review_for(ctx, examiner, review_id)
        reference = media_id.lstrip("/")
        kinds = {
            m.media_id: m.kind
            for m in session_media(ctx.store.history(review.session_id))
            if m.kind != "segment"
        }
        if reference not in kinds:
            raise NotFoundException()
        try:
            ctx.media.size(reference)
        except KeyError:
            raise NotFoundException() from None
        if starts_playback(request.headers.get("range")):
            record_view(
                ctx,
                viewer_id=examiner,
                viewer_role=Role.EXAMINER.value,
                session_id=review.session_id,
                media=reference,
                what=ViewedMedia.PHOTO if kinds[reference] == "image" else ViewedMedia.RECORDING,
            )
        # The type is read from the bytes (never from the reference, the adapter's own name);
        # media kept before issue 12 that open as nothing known are only downloaded. Served by
        # ranges: the player seeks in a recording (issue 15, ui/web/ranges.py).
        headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
        try:
            return ranged_media(
                request.headers.get("range"),
                ctx.media,
                reference,
                lambda head: media_format(head) or "application/octet-stream",
                headers,
            )
        except KeyError:  # deleted between the two reads (erasure, retention)
            raise NotFoundException() from None


ROUTES: list[ControllerRouterHandler] = [
    staff_login_page,
    staff_login,
    staff_code_page,
    staff_code,
    ExaminerDesk,
]
