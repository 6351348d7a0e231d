"""Candidate pages of the proctored session: create, log in, terms, entry, checks (R1–R10).

Every page is one of the guide's screens and every button one use case; a refusal comes back
as a sentence naming its rule. Ids in URLs are checked against the logged-in candidate.

The checks and the portal live in one document once the session is entered (issue 12): the
page's script posts each button with fetch and asks for the next step as a fragment
(`FRAGMENT_HEADER`), so the proctoring connection and its recording are never cut by a page
load. Without the script the same forms work with full pages.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar
from urllib.parse import quote, urlsplit
from uuid import UUID

import anyio
import msgspec
from babel.numbers import format_decimal
from litestar import Controller, Request, Response, get, post
from litestar.concurrency import sync_to_thread
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler
from markupsafe import Markup

from adapters.bootstrap import Platform
from adapters.media.duration import recording_seconds
from app.login_throttle import Refusal
from app.media_content import UPLOADS, MediaTooLarge, accept_upload, recording_kind
from app.ports.event_store import StreamQuarantined
from app.read_models import SessionSummary
from app.use_cases import accommodations, accounts, enrolment, proctoring
from domain.accommodation import extra_minutes
from domain.candidate import Account, Candidate, PersonErased, check_email
from domain.enrollment import Enrollment
from domain.errors import DomainError, InvalidArgument, RuleBroken
from domain.proctored_session import EnvironmentPart, ProctoredSession
from domain.rules import LiveEntry
from ui.web import check_steps
from ui.web.edge import (
    LANGUAGE_COOKIE,
    NEXT,
    STAFF_AREAS,
    UPLOAD_BODY_BYTES,
    Multipart,
    address_refused,
    candidate_guard,
    candidate_id,
    context,
    edge_bound,
    kept_bound,
    language_of,
    live_session,
    own_session,
    place_of,
    platform_of,
    remember_device,
    return_path,
    screen_capture_of,
    session_ended_notice,
    throttle_of,
    throttled,
    wants_fragment,
)
from ui.web.i18n import LANGUAGES, N_, Gettext, gettext_for
from ui.web.leaving import candidates_logout_phase, logout_phase
from ui.web.portal import duration_in_words, with_extra_time
from ui.web.refusals import password_refusal, refusal_message

# What a connection must reach to pass (R8): a usable video stream and answers in time.
MAX_ROUND_TRIP_MS = 1000.0
MIN_UPLOAD_KBPS = 500.0
# The connection test sends 256 KiB (checks.js); its target reads no more than this.
UPLOAD_TEST_BYTES = 1024 * 1024


# --- language, login, password (R11, R24, R25) ----------------------------------------------

# The forms' bodies, typed: a missing field reads as empty and is refused by the use case
# with a sentence (never a 400 from the framework); the CSRF token is checked before.
T = TypeVar("T")
Typed = Annotated[T, Body(media_type=RequestEncodingType.URL_ENCODED)]


class LogInForm(msgspec.Struct):
    email: Annotated[str, edge_bound("email")] = ""
    password: Annotated[str, edge_bound("password")] = ""
    # The page that asked for the log-in (edge.return_path checks it before any use).
    back_to: str = msgspec.field(default="", name=NEXT)


class TermsForm(msgspec.Struct):
    back_to: str = msgspec.field(default="", name=NEXT)


class PasswordForm(msgspec.Struct):
    token: str = ""
    # Checked by the handler, said beside the field (a megabyte is refused at the edge).
    password: Annotated[str, kept_bound("password")] = ""


class ForgotForm(msgspec.Struct):
    email: Annotated[str, edge_bound("email")] = ""
    account: str = "proctoring"  # or "portal"


class CreateSessionForm(msgspec.Struct):
    token: str = ""
    live: str = ""  # "yes" when live supervision was agreed with the hotline (R2)


class EnterForm(msgspec.Struct):
    reason: Annotated[str, edge_bound("resume_reason")] = (
        ""  # 'Reprendre l'examen' only (R6); 'Examen' sends none
    )


@get("/lang/{code:str}", sync_to_thread=True)
def choose_language(request: Request[Any, Any, Any], code: FromPath[str]) -> Redirect:
    """R25: French or English, from any page. A logged-in candidate's choice becomes their
    account's (their mails follow); before log-in it is remembered as chosen, so the
    account's language does not override it at log-in. Only a choice made on Vigie's own
    pages reaches the account: a link on another site (« /lang/en » in a mail or a forum)
    turns the pages it opens into English, never her mails (a security review's)."""
    referer = request.headers.get("referer", "/")
    if code in LANGUAGES:
        request.session["lang"] = code
        request.session["lang_chosen"] = True
        who = request.session.get("candidate")
        if who and _from_our_pages(request, referer):
            accounts.choose_language(platform_of(request).ctx, UUID(who), code)
    back = Redirect(referer if referer.startswith(str(request.base_url)) else "/")
    if code in LANGUAGES:  # also for pages served without a session (an unknown address)
        back.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 86400, httponly=True, samesite="lax")
    return back


def _from_our_pages(request: Request[Any, Any, Any], referer: str) -> bool:
    """Whether the request comes from one of Vigie's pages or the address bar, as the browser
    says (Sec-Fetch-Site), or else by its Referer: another site's link is neither."""
    fetched_from = request.headers.get("sec-fetch-site")
    if fetched_from is not None:
        return fetched_from in ("same-origin", "none")
    return referer in ("", "/") or referer.startswith(str(request.base_url))


def _back_to(value: str) -> str:
    """The candidate's page a log-in returns to, if it may (edge.return_path), else ""."""
    return return_path(value, staff=False)


def _after_terms(back_to: str) -> str:
    """Where the terms (R5) lead: the page that asked for the log-in, else « Mes examens »."""
    return _back_to(back_to) or "/exams"


# The candidates' log-in form, in the log-in counts (app.login_throttle) and known devices.
AREA = "candidate"


@get("/login", sync_to_thread=False)
def login_page(request: Request[Any, Any, Any]) -> Template:
    back_to = _back_to(request.query_params.get(NEXT, ""))
    return Template(
        "login.html",
        context=context(request, error="", back_to=back_to, ended=session_ended_notice(request)),
    )


@post("/login")
async def login(request: Request[Any, Any, Any], data: Typed[LogInForm]) -> Response[Any]:
    platform = platform_of(request)
    throttle = throttle_of(request)
    back_to = _back_to(data.back_to)  # kept by a refused attempt's form
    # F7: counted per account and place (this address, or this browser if the account logged
    # in here before), and per account from everywhere, a ceiling this browser then passes.
    # The attempt takes its place in the counts before the password is checked: a burst sent
    # at once gets ten checked, not one per request that read the counts before any failure.
    # This address's per-minute limit: its own page again, no password checked.
    refused = address_refused(request, "login.html", back_to)
    if refused is not None:
        return refused
    place = place_of(request, data.email, AREA)
    attempt = await sync_to_thread(throttle.attempt, data.email, AREA, place)
    if isinstance(attempt, Refusal):
        error, retry_after = throttled(request, attempt)
        return Template(
            "login.html",
            context=context(request, error=error, back_to=back_to),
            status_code=429,
            headers=retry_after,
        )
    # Hashing is slow on purpose: it runs in a thread, off the event loop.
    found = await sync_to_thread(
        accounts.authenticate,
        platform.ctx,
        platform.projections,
        email=data.email,
        password=data.password,
    )
    if found is None:  # the attempt stays counted: a failure
        _ = gettext_for(language_of(request))
        error = _("This e-mail address and password do not match. Check them and try again.")
        return Template(
            "login.html", context=context(request, error=error, back_to=back_to), status_code=401
        )
    await sync_to_thread(throttle.succeeded, attempt)
    request.session["candidate"] = str(found)
    await sync_to_thread(_follow_language, request, found)
    # The terms first (R5: accepted at the first connection), then the page that asked.
    after = Redirect(f"/terms?{NEXT}={quote(back_to, safe='/')}" if back_to else "/terms")
    remember_device(request, after, data.email, AREA)
    return after


def _follow_language(request: Request[Any, Any, Any], candidate: UUID) -> None:
    """R25: the pages after log-in speak the account's language, unless the candidate chose
    one on the page (that choice then becomes the account's, for the mails too)."""
    ctx = platform_of(request).ctx
    if request.session.get("lang_chosen"):
        accounts.choose_language(ctx, candidate, language_of(request))
    else:
        request.session["lang"] = ctx.store.get(candidate, Candidate).language


@post("/logout", sync_to_thread=False)
def logout(request: Request[Any, Any, Any]) -> Redirect:
    # Forget who it was, keep the language the pages were read in (R25); it counts as chosen
    # at the next log-in only if it was chosen on a page, not taken from the account.
    # Only a language the session holds (chosen, or the account's): a staff member who chose
    # none reads the log-in page in their browser's, as before logging in.
    kept: dict[str, Any] = {}
    if request.session.get("lang") in LANGUAGES:
        kept["lang"] = request.session["lang"]
    if request.session.get("lang_chosen"):
        kept["lang_chosen"] = True
    # Staff go back to their own log-in page (they landed on the candidates': a review),
    # also from a staff page whose session had already ended (a live view, issue 15).
    came_from = urlsplit(request.headers.get("referer", "")).path
    staff = request.session.get("staff") or came_from.startswith(STAFF_AREAS)
    back = "/staff/login" if staff else "/login"
    request.set_session(kept)
    return Redirect(back)


@get("/password/reset")
async def password_page(request: Request[Any, Any, Any], t: FromQuery[str] = "") -> Template:
    """The e-mailed link's form; a link that no longer works says so at once, without the
    form (R24)."""
    await _follow_link_language(request, "password-reset", t)  # R25
    platform = platform_of(request)
    refused = (
        await sync_to_thread(accounts.reset_link_refusal, platform.ctx, platform.links, t)
        if t
        else None
    )
    if refused is not None:
        _ = gettext_for(language_of(request))
        error = _(_LINK_REFUSALS[_link_fault(refused)])
        return Template(
            "password.html", context=context(request, token="", done=False, error=error)
        )
    return Template("password.html", context=context(request, token=t, done=False))


@post("/password/reset", sync_to_thread=True)
def password_reset(request: Request[Any, Any, Any], data: Typed[PasswordForm]) -> Template:
    """R24: the e-mailed link, once, before it expires. A refused link or password is said
    on the form itself, in the page's language, with what to do next."""
    platform = platform_of(request)
    token, password = data.token, data.password
    _ = gettext_for(language_of(request))
    error = password_refusal(language_of(request), password)
    if error:
        return Template(
            "password.html",
            context=context(request, token=token, done=False, error=error),
            status_code=400,
        )
    try:
        reset = accounts.reset_password(
            platform.ctx, platform.links, signed_token=token, password=password
        )
    except RuleBroken as refused:
        return Template(
            "password.html",
            context=context(
                request, token="", done=False, error=_(_LINK_REFUSALS[_link_fault(refused)])
            ),
            status_code=409,
        )
    done = Template("password.html", context=context(request, token="", done=True))
    # F7: she read the account's mail; this browser now logs in past the account's ceiling.
    remember_device(request, done, platform.ctx.store.get(reset, Candidate).email, AREA)
    return done


# Why a reset link was refused (R24), as the candidate reads it: what happened, what to do.
_LINK_REFUSALS = {
    "used": N_(
        "This link was already used: it sets a password once. Log in with your e-mail and "
        "password, or ask for a new link below."
    ),
    "expired": N_("This link has expired. Ask for a new link below: it arrives in a minute."),
    "invalid": N_(
        "This link is not valid: it may have been cut in your mail. Open it again from the "
        "e-mail, or ask for a new link below."
    ),
}


def _link_fault(refused: RuleBroken) -> str:
    return next((fault for fault in ("used", "expired") if fault in refused.message), "invalid")


def _email_refusal(email: str, language: str) -> str:
    """Why the forgot-password form's address is refused, in `language`, or ""."""
    _ = gettext_for(language)
    if not email.strip():
        return _("E-mail address missing: type the address you were enrolled with.")
    try:
        check_email(email)
    except InvalidArgument:
        return _(
            "Invalid e-mail address: type it whole, as in the mail you received "
            "(for example camille.martin@example.org)."
        )
    return ""


@get("/password/forgot", sync_to_thread=False)
def forgot_page(request: Request[Any, Any, Any]) -> Template:
    return Template("forgot.html", context=context(request, sent=False))


# Issue 14: the reset form answered in 7 ms for an unknown address and 66 ms for a known one
# (the known one records a fact and queues a mail). Both answers now leave at the same moment
# after the form arrived: the work is done, then the answer waits out this floor, which is
# well above the known path's cost (so the wait, not the work, sets the time).
FORGOT_ANSWER_S = 0.25


@post("/password/forgot")
async def forgot(request: Request[Any, Any, Any], data: Typed[ForgotForm]) -> Template:
    """R24: the same answer, in the same time, whether the address is known or not; the
    mail comes in the language of the page it was asked from (R25)."""
    account = Account.PORTAL if data.account == "portal" else Account.PROCTORING
    # A malformed address is said beside the field, what was typed kept: no account has one,
    # so refusing it tells nothing about who is registered. A well-formed one, known or not,
    # gets the answer below.
    refused = _email_refusal(data.email, language_of(request))
    if refused:
        return Template(
            "forgot.html",
            context=context(request, sent=False, account=account.value, error=refused),
            status_code=400,
        )
    started = time.monotonic()
    platform = platform_of(request)
    # The address was checked above; nothing else is expected to refuse it, and were it to,
    # the answer must still be the unknown one's.
    with contextlib.suppress(InvalidArgument):
        await sync_to_thread(
            functools.partial(
                accounts.request_password_reset,
                platform.ctx,
                platform.projections,
                email=data.email,
                account=account,
                language=language_of(request),
            )
        )
    await anyio.sleep(max(0.0, FORGOT_ANSWER_S - (time.monotonic() - started)))
    return Template("forgot.html", context=context(request, sent=True, account=account.value))


# --- creating the exam session (R1–R3) --------------------------------------------------------


@get("/sessions/new")
async def create_session_page(request: Request[Any, Any, Any], t: FromQuery[str] = "") -> Template:
    await _follow_link_language(request, "create-session", t)  # R25
    # A link that cannot work says why at once, without the form: erased, broken, expired.
    refused = await sync_to_thread(_invitation_refusal, platform_of(request), t)
    if refused is not None:
        return _refused_link_page(request, refused, status_code=200)
    return Template("create_session.html", context=context(request, token=t))


# The invitation of a person whose data was erased (ERASED), as whoever holds the old mail
# reads it: a tester's tour was told « Votre session d'examen a été créée avec succès ! ».
_ERASED_LINK = N_(
    "This link is no longer valid: the account it was sent for was erased, with its personal "
    "data. Nothing was created."
)
# A link cut short or altered on its way (a mis-copied mail, no `?t=` at all): it was said
# « la date limite de votre inscription est passée », after the form, to a candidate whose
# enrolment ran three months more, who believed her exam lost (a reviewer's tour).
_BROKEN_LINK = N_(
    "This link is incomplete or damaged: open it again from your invitation mail (the whole "
    "link), or ask your centre or the hotline for a new one. Your enrolment is not affected."
)
# R1: the enrolment's last day has really passed.
_EXPIRED_LINK = N_("This link is no longer valid: your enrolment's last day has passed.")


def _invitation_refusal(platform: Platform, token: str) -> str | None:
    """Why the invitation link cannot create a session (its sentence), None if it can: its
    holder erased, the link broken (missing, altered, naming no enrolment), or R1."""
    try:
        enrollment = platform.ctx.store.get(
            UUID(platform.links.verify("create-session", token, rule="R1")), Enrollment
        )
    except (DomainError, ValueError, LookupError):
        return _BROKEN_LINK
    try:
        enrolment.refuse_if_holder_erased(platform.ctx, enrollment)
    except PersonErased:
        return _ERASED_LINK
    return _EXPIRED_LINK if enrollment.expired else None


def _refused_link_page(
    request: Request[Any, Any, Any], sentence: str, *, status_code: int
) -> Template:
    _ = gettext_for(language_of(request))
    return Template(
        "create_session.html",
        context=context(request, token="", error=_(sentence)),
        status_code=status_code,
    )


def _link_language(platform: Platform, purpose: str, token: str) -> str | None:
    """The language of the candidate an e-mailed link names (an invitation names her
    enrolment, a password link her account); None for a broken link, which its page
    refuses in the default language."""
    ctx = platform.ctx
    try:
        value = platform.links.verify(purpose, token)
        if purpose == "create-session":
            candidate_id = ctx.store.get(UUID(value), Enrollment).candidate_id
        else:  # "password-reset": "<candidate>:<token id>"
            candidate_id = UUID(value.partition(":")[0])
        return ctx.store.get(candidate_id, Candidate).language
    except (DomainError, ValueError, LookupError):
        return None


async def _follow_link_language(request: Request[Any, Any, Any], purpose: str, token: str) -> None:
    """R25: a page opened from one of her mails speaks the mail's language, hers, unless a
    language was chosen on this browser: an English candidate's invitation and password
    link opened in French (a reviewer's check). What the page answers follows it."""
    if not token or request.session.get("lang_chosen") or request.cookies.get(LANGUAGE_COOKIE):
        return
    language = await sync_to_thread(_link_language, platform_of(request), purpose, token)
    if language is not None:
        request.session["lang"] = language


@post("/sessions/new", sync_to_thread=True)
def create_session(request: Request[Any, Any, Any], data: Typed[CreateSessionForm]) -> Template:
    """R2: created, already exists, or created with live supervision."""
    platform = platform_of(request)
    try:
        enrollment_id = UUID(platform.links.verify("create-session", data.token, rule="R1"))
        platform.ctx.store.get(enrollment_id, Enrollment)
    except (DomainError, ValueError, LookupError):
        return _refused_link_page(request, _BROKEN_LINK, status_code=400)
    _keep_chosen_language(request, platform, enrollment_id)
    try:
        created = enrolment.create_exam_session(
            platform.ctx, enrollment_id, live_supervision=data.live == "yes"
        )
    except PersonErased:
        return _refused_link_page(request, _ERASED_LINK, status_code=409)
    _ = gettext_for(language_of(request))
    return Template(
        "outcome.html",
        context=context(
            request,
            outcome=created.outcome.value,
            outcome_text=_(_OUTCOMES[created.outcome.value]),
            valid_until=created.valid_until,
        ),
    )


def _keep_chosen_language(
    request: Request[Any, Any, Any], platform: Platform, enrollment: UUID
) -> None:
    """R25: a language chosen on the invitation page becomes her account's before the session
    is created, so the welcome mail and every later one speak it (a user's tour: she chose
    English there and the welcome came in French). The signed link names her enrolment."""
    if not request.session.get("lang_chosen"):
        return
    # An erased holder's link is refused just after, by the creation itself.
    with contextlib.suppress(LookupError, PersonErased):
        candidate_id = platform.ctx.store.get(enrollment, Enrollment).candidate_id
        accounts.choose_language(platform.ctx, candidate_id, language_of(request))


# R2: what the candidate reads after « Créer ma session », per outcome.
_OUTCOMES = {
    "created": N_(
        "Your exam session was created! You will soon receive an e-mail with your login "
        "details. Remember to check your spam folder."
    ),
    "already_exists": N_(
        "Your exam session already exists. You should have received an e-mail with your "
        "login details. Please check your spam folder."
    ),
    "created_with_live_supervision": N_(
        "Your session was created and, as agreed, it will be supervised live by our examiner "
        "during office hours. If you have not booked your slot yet, contact us to agree a "
        "date and time."
    ),
}


# --- the exam list (R6) ----------------------------------------------------------------------


# A session's state as the candidate reads it (the read model's codes never show): the words
# and the badge's colour.
SESSION_STATES: dict[str, tuple[str, str]] = {
    "created": (N_("Exam to take"), "info"),
    "checks": (N_("Checks under way"), "warning"),
    "exam": (N_("Exam under way"), "warning"),
    "closed": (N_("Session closed"), "info"),
    "quit": (N_("Certification left"), "error"),
    "under review": (N_("Being checked by an examiner"), "info"),
    "validated": (N_("Exam validated"), "success"),
    "invalidated": (N_("Exam invalidated"), "error"),
    "under appeal": (N_("Appeal under review"), "info"),
}
# The read model says « exam » from the launch (R10) until the exam is sent (R18): the list
# read « Examen en cours » while she was still at her profile, her tile or the instructions,
# before « Commencer » (R15), a user's tour. What it says before and after the exam itself,
# in the hotline's words.
EXAM_NOT_BEGUN = (N_("Checks done, exam not started yet"), "info")
EXAM_FINISHED = (N_("Exam finished, not sent for review yet"), "warning")


# A validated session is one that followed the rules, not a pass: once its result is out
# (R19), the card says whether the certification is obtained (a candidate with 0/10 read a
# green « Examen validé », a reviewer's finding).
VALIDATED_OUTCOMES: dict[bool, tuple[str, str]] = {
    True: (N_("Certification obtained"), "success"),
    False: (N_("Session validated, certification not obtained"), "warning"),
}


def _state(session: SessionSummary, _: Gettext) -> tuple[str, str]:
    """The words and badge colour of a session's state (a new code reads 'In progress')."""
    results = session.results
    if session.status == "validated" and results is not None and results.max_score:
        words, tone = VALIDATED_OUTCOMES[results.passed]
    elif session.status == "exam" and not session.exam_begun:
        words, tone = EXAM_NOT_BEGUN
    elif session.status == "exam" and session.exam_finished:
        words, tone = EXAM_FINISHED
    else:
        words, tone = SESSION_STATES.get(session.status, (N_("In progress"), "info"))
    return _(words), tone


def _title(platform: Platform, code: str) -> str:
    """The certification's title (its code if the catalogue no longer has it)."""
    try:
        return platform.ctx.catalogue.get(code).title
    except InvalidArgument:
        return code


# --- the checks (R7–R10) ----------------------------------------------------------------------


def _step_values(session: ProctoredSession, language: str, after: str = "") -> dict[str, Any]:
    """What one check's page says beyond the session: where it is, the connection's
    thresholds (R8) and the recording's minimum length (R10), in words and as raw numbers
    for the page's script; `after`: the check just done the address names, shown done
    (check_steps.just_done)."""
    step = session.next_step
    minimum = check_steps.MIN_SECONDS.get(step, 0.0) if step else 0.0
    shown = check_steps.just_done(session, after)
    return {
        "where": check_steps.where(session, language, shown),
        "shown_done": shown.value if shown else "",
        "max_round_trip_ms": format_decimal(MAX_ROUND_TRIP_MS, locale=language),
        "max_round_trip_ms_value": f"{MAX_ROUND_TRIP_MS:g}",
        "min_upload_kbps": format_decimal(MIN_UPLOAD_KBPS, locale=language),
        "min_upload_kbps_value": f"{MIN_UPLOAD_KBPS:g}",
        "min_seconds": format_decimal(minimum, locale=language),
        "min_seconds_value": f"{minimum:g}",
        # R4 with any extra time, in the words of every screen (portal.with_extra_time).
        "exam_length": with_extra_time(
            session.exam_duration_minutes + session.extra_minutes, session.extra_minutes, language
        ),
        "session_budget": with_extra_time(
            session.rules.session_budget_minutes + session.extra_minutes,
            session.extra_minutes,
            language,
        ),
        "connection_test": _connection_test(session, language),
        "session_budget_total": duration_in_words(
            session.rules.session_budget_minutes + session.extra_minutes, language
        ),
    }


@dataclass(frozen=True)
class ConnectionResult:
    """R8: the recorded connection test in the reader's numbers, and whether each measure
    passed (the thresholds the page's script applies)."""

    round_trip: str
    round_trip_ok: bool
    upload: str
    upload_ok: bool
    passed: bool


def _connection_test(session: ProctoredSession, language: str) -> ConnectionResult | None:
    """The last connection test recorded on the session, None before any."""
    rtt, upload = session.connection_round_trip_ms, session.connection_upload_kbps
    if rtt is None or upload is None:
        return None
    return ConnectionResult(
        round_trip=format_decimal(round(rtt), locale=language),
        round_trip_ok=rtt <= MAX_ROUND_TRIP_MS,
        upload=format_decimal(round(upload), locale=language),
        upload_ok=upload >= MIN_UPLOAD_KBPS,
        passed=session.connection_passed,
    )


_SIMPLE = {
    "instructions": proctoring.read_instructions,
    "secure": proctoring.acknowledge_secure_mode,
    "sound": proctoring.confirm_sound_heard,
    "mic-start": proctoring.start_microphone_recording,
    "mic-stop": proctoring.stop_microphone_recording,
    "face-next": proctoring.confirm_face_photo,
    "id-next": proctoring.confirm_id_photo,
}
_ATTESTED = {
    "designer": proctoring.attest_designer_rules,
    "conditions": proctoring.attest_general_conditions,
}


def perform_step(platform: Platform, session_id: UUID, action: str, data: dict[str, Any]) -> None:
    """The use case behind one button of the checks (shared by the pages and the API)."""
    ctx = platform.ctx
    if action in _SIMPLE:
        _SIMPLE[action](ctx, session_id)
    elif action in _ATTESTED:
        if data.get("attest") != "yes":
            raise RuleBroken("R7", "tick the box to attest you have read the rules")
        _ATTESTED[action](ctx, session_id)
    elif action == "camera":
        proctoring.check_camera(ctx, session_id, working=data.get("working") == "yes")
    elif action == "connection":
        rtt, upload = _number(data, "round_trip_ms"), _number(data, "upload_kbps")
        passed = rtt <= MAX_ROUND_TRIP_MS and upload >= MIN_UPLOAD_KBPS
        proctoring.record_connection_test(
            ctx, session_id, round_trip_ms=rtt, upload_kbps=upload, passed=passed
        )
    elif action in ("face-photo", "id-photo"):
        image = _upload(data, action)
        take = proctoring.take_face_photo if action == "face-photo" else proctoring.take_id_photo
        take(ctx, session_id, image)
    elif action.startswith("env-start-") or action.startswith("env-stop-"):
        part = _part(action.rsplit("-", 1)[1])
        if action.startswith("env-start-"):
            proctoring.start_environment_recording(ctx, session_id, part)
        else:
            recording = _upload(data, recording_kind(part))
            # R10: the length is measured here, from the file, never taken from the browser.
            proctoring.stop_environment_recording(
                ctx, session_id, part, recording, duration_s=recording_seconds(recording)
            )
    else:
        raise InvalidArgument("action", f"unknown step {action!r}")


def _number(data: dict[str, Any], field: str) -> float:
    try:
        return float(data.get(field, ""))
    except ValueError:
        raise InvalidArgument(field, "a number is required") from None


def _part(name: str) -> EnvironmentPart:
    try:
        return EnvironmentPart(name)
    except ValueError:
        raise InvalidArgument("part", f"ears, room or desk, not {name!r}") from None


def _upload(data: dict[str, Any], kind: str) -> bytes:
    """The uploaded file of this kind, if its bytes are what the kind takes (issue 14): read
    no further than its largest size, then its format from the bytes (the declared type is
    the browser's word), before anything is measured or stored."""
    rule = UPLOADS[kind]
    upload = data.get(rule.field)
    if not isinstance(upload, UploadFile):
        raise InvalidArgument(rule.field, "a file is required")
    size = upload.file.seek(0, os.SEEK_END)  # parsed already: its size, without reading it
    if size > rule.max_bytes:
        raise MediaTooLarge(rule.field, rule.max_bytes, size)
    upload.file.seek(0)
    content = upload.file.read(rule.max_bytes + 1)
    if not content:
        raise InvalidArgument(rule.field, "the file is empty")
    accept_upload(kind, content)
    return content


class CandidateArea(Controller):
    """The logged-in candidate's pages: terms, exams, the checks, the equipment test (the
    log-in, password, language and session-creation pages stay open; a session in a URL is
    checked to be the candidate's own)."""

    guards = [candidate_guard]

    # --- terms and the exam list (R5, R6) ---

    @get("/terms")
    async def terms_page(self, request: Request[Any, Any, Any]) -> Response[Any]:
        store = platform_of(request).ctx.store
        candidate = await sync_to_thread(store.get, candidate_id(request), Candidate)
        back_to = request.query_params.get(NEXT, "")
        if candidate.terms_accepted:
            return Redirect(_after_terms(back_to))
        return Template("terms.html", context=context(request, back_to=_back_to(back_to)))

    @post("/terms", sync_to_thread=True)
    def accept_terms(self, request: Request[Any, Any, Any], data: Typed[TermsForm]) -> Redirect:
        """R5: once, at the first connection; then the page that asked for the log-in."""
        platform = platform_of(request)
        proctoring.accept_terms(platform.ctx, candidate_id(request))
        return Redirect(_after_terms(data.back_to))

    @get("/exams", sync_to_thread=True)
    def exams(self, request: Request[Any, Any, Any]) -> Template:
        return _exams_page(request)

    @post("/exams/{session_id:uuid}/enter", sync_to_thread=True)
    def enter(
        self, request: Request[Any, Any, Any], session_id: FromPath[UUID], data: Typed[EnterForm]
    ) -> Redirect | Template:
        """R6: 'Examen', or 'Reprendre l'examen' with a reason of at least 10 words. A
        refusal is said beside the form, the reason kept: a short reason led to an error
        page with only « Retour à mon accueil », the reason lost (a reviewer's check)."""
        own_session(request, session_id)
        reason = data.reason.strip() or None
        try:
            proctoring.enter_session(platform_of(request).ctx, session_id, resume_reason=reason)
        except DomainError as refusal:
            said = refusal_message(language_of(request), refusal)
            return _exams_page(request, refused=(session_id, said, data.reason), status=409)
        return Redirect(f"/exams/{session_id}")

    # --- the checks (R7–R10) ---

    @get("/exams/{session_id:uuid}")
    async def step_page(
        self,
        request: Request[Any, Any, Any],
        session_id: FromPath[UUID],
        after: FromQuery[str] = "",
    ) -> Response[Any]:
        session = await sync_to_thread(own_session, request, session_id)
        if session.attempt_id is not None:
            return Redirect(f"/portal/{session.attempt_id}")
        return Template(
            "_step.html" if wants_fragment(request) else "step.html",
            context=context(
                request,
                session=session,
                proctoring_session=live_session(request, session),
                proctoring_screen=screen_capture_of(request, session.certification_code),
                logout_phase=logout_phase(session, None),  # asks first (leaving.py)
                **_step_values(session, language_of(request), after),
            ),
        )

    @post(
        "/exams/{session_id:uuid}/do/{action:str}",
        sync_to_thread=True,
        request_max_body_size=UPLOAD_BODY_BYTES,
    )
    def do_step(
        self,
        request: Request[Any, Any, Any],
        session_id: FromPath[UUID],
        action: FromPath[str],
        data: Multipart,
    ) -> Redirect:
        """One button of the checks; the domain refuses it when out of order."""
        own_session(request, session_id)
        perform_step(platform_of(request), session_id, action, data)
        return Redirect(f"/exams/{session_id}")

    @post("/exams/{session_id:uuid}/upload-test", request_max_body_size=UPLOAD_TEST_BYTES)
    async def upload_test(
        self, request: Request[Any, Any, Any], session_id: FromPath[UUID]
    ) -> dict[str, str]:
        """The connection test's upload target (R8): the browser times it, the server reads
        it and answers. Only for the candidate's own session (issue 14: it was an anonymous
        upload sink), and no larger than the test sends."""
        await sync_to_thread(own_session, request, session_id)
        await request.body()  # read to the end: what the browser times is the upload
        return {"ok": "yes"}

    @get("/equipment", sync_to_thread=True)
    def equipment(self, request: Request[Any, Any, Any]) -> Template:
        """R8: 'Test du matériel', camera and microphone on their own. Its way back says
        « Retour à l'examen » only while an exam is still to take or under way: it said so
        under a finished exam too (a user's tour); « Retour à mes examens » then."""
        platform = platform_of(request)
        platform.projections.catch_up(platform.ctx.store)
        sessions = platform.projections.my_sessions(candidate_id(request))
        exam_open = any(s.status in OPEN_SESSION for s in sessions)
        # Opened beside the proctoring tab: « Se déconnecter » here stops it too (leaving.py).
        phase = candidates_logout_phase(platform, candidate_id(request))
        return Template(
            "equipment.html", context=context(request, exam_open=exam_open, logout_phase=phase)
        )


ROUTES: list[ControllerRouterHandler] = [
    choose_language,
    login_page,
    login,
    logout,
    password_page,
    password_reset,
    forgot_page,
    forgot,
    create_session_page,
    create_session,
    CandidateArea,
]


# A session whose exam is still to take or under way (« Mes examens » offers « Examen » or
# « Reprendre l'examen », or the portal to send it), as the read model names them.
OPEN_SESSION = frozenset({"created", "checks", "exam"})

# R4: the guide tells candidates to plan 20 minutes more than the exam, for the checks.
CHECKS_MINUTES = 20


@dataclass(frozen=True)
class ExamDay:
    """Whether today still holds the exam (R16: it ends before midnight, in her zone):
    `too_late` once even the exam alone would end tomorrow; otherwise `last_start`, the
    latest time to begin the checks so that they and the exam fit (None: no hurry)."""

    too_late: bool = False
    last_start: datetime | None = None
    # The exam's, extra time included, said as every screen says it (portal.with_extra_time).
    duration: str = ""
    valid_tomorrow: bool = True


def _exam_day(platform: Platform, summary: SessionSummary, language: str) -> ExamDay:
    """Said on « Mes examens » before « Examen »: at 23:04 she went through every check and
    the three recordings, then read « Il est trop tard pour commencer l'examen aujourd'hui »
    (a reviewer's check). The domain refuses the start itself (ExamAttempt.begin, R16)."""
    if summary.status not in ("created", "checks"):
        return ExamDay()
    ctx = platform.ctx
    try:
        certification = ctx.catalogue.get(summary.certification_code)
    except LookupError:
        return ExamDay()
    # The enrolment's grant, never the session's stream: a quarantined session's list of
    # exams stayed readable (its projections only), and read the session here it answered 503.
    try:
        granted = accommodations.accommodation_of_enrollment(ctx, summary.enrollment_id)
    except (LookupError, StreamQuarantined):
        granted = None
    percent = granted.extra_time_percent if granted is not None else 0
    extra = extra_minutes(certification.duration_minutes, percent)
    minutes = certification.duration_minutes + extra
    now = ctx.times.local(ctx.now())
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
    latest_exam_start = midnight - timedelta(minutes=minutes)
    # The duration is said beside « Prévoyez 20 minutes de plus que la durée de l'examen »,
    # which gave none: it first appeared after « Examen » had started the 3 hours.
    words = with_extra_time(minutes, extra, language)
    tomorrow = summary.valid_until is None or summary.valid_until > now.date()
    if now > latest_exam_start:
        return ExamDay(too_late=True, duration=words, valid_tomorrow=tomorrow)
    last_start = latest_exam_start - timedelta(minutes=CHECKS_MINUTES)
    if now > last_start - timedelta(hours=1):  # said within the hour before it
        return ExamDay(last_start=last_start, duration=words, valid_tomorrow=tomorrow)
    return ExamDay(duration=words)


@dataclass(frozen=True)
class LiveSlot:
    """R2: what « Mes examens » says of a live-supervised session before its first entry:
    where it stands (a `LiveEntry` value: no_slot, too_early, open, missed) and the booked
    slot and its window in the reader's words, in the centre's time zone."""

    state: str
    slot: str = ""  # « mercredi 29 janvier 2025 à 10:00 (heure de Paris) »
    opens: str = ""  # « 09:45 »
    closes: str = ""  # « 10:30 »
    before: int = 0  # minutes the entry opens before the slot


def _live_slot(platform: Platform, summary: SessionSummary, language: str) -> LiveSlot | None:
    """R2: a session created « avec surveillance en direct » opens only around the slot the
    hotline booked; a candidate took and sent the whole exam at once, no slot, nothing said
    (a user's tour). None when the session waits for no slot (not live, a rule set of old,
    already entered)."""
    if not summary.live_supervision or summary.entries or summary.status != "created":
        return None
    try:
        window = proctoring.live_entry_of(platform.ctx, summary.enrollment_id)
    except (LookupError, StreamQuarantined):
        return None
    if window.state is LiveEntry.NOT_REQUIRED:
        return None
    if window.slot is None or window.opens_at is None or window.closes_at is None:
        return LiveSlot(window.state.value)
    _ = gettext_for(language)
    times = platform.ctx.times
    slot_day = times.local(window.slot).date()

    def clock(moment: datetime) -> str:  # the day is the slot's; said if another
        same_day = times.local(moment).date() == slot_day
        return times.format(moment, language, "clock" if same_day else "moment")

    return LiveSlot(
        window.state.value,
        slot=_(
            "%(day)s at %(time)s (%(city)s time)",
            day=times.format(window.slot, language, "full_day"),
            time=times.format(window.slot, language, "clock"),
            city=times.zone_city(language),
        ),
        opens=clock(window.opens_at),
        closes=clock(window.closes_at),
        before=round((window.slot - window.opens_at).total_seconds() / 60),
    )


def _exams_page(
    request: Request[Any, Any, Any],
    *,
    refused: tuple[UUID, Markup, str] | None = None,
    status: int = 200,
) -> Template:
    """« Mes examens »; `refused`: a session's refused entry, its sentence and the reason
    typed, shown beside that session's form."""
    platform = platform_of(request)
    platform.projections.catch_up(platform.ctx.store)
    sessions = platform.projections.my_sessions(candidate_id(request))
    _ = gettext_for(language_of(request))
    return Template(
        "exams.html",
        context=context(
            request,
            sessions=sessions,
            titles={s.certification_code: _title(platform, s.certification_code) for s in sessions},
            states={s.session_id: _state(s, _) for s in sessions},
            today={s.session_id: _exam_day(platform, s, language_of(request)) for s in sessions},
            live={
                s.session_id: slot
                for s in sessions
                if (slot := _live_slot(platform, s, language_of(request))) is not None
            },
            refused=refused,
            # Opened beside the proctoring tab: « Se déconnecter » here stops it too.
            logout_phase=candidates_logout_phase(platform, candidate_id(request)),
        ),
        status_code=status,
    )
