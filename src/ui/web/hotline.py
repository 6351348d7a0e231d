"""The hotline's desk (support role, issue 13 point 7): find a candidate, read their case
file, and act for them — renew the session (R3), waive a photo (R9), record a technical
problem (R20), book live supervision and send its link (R2), resend a mail, unblock a
blocked screen (R23). Every action keeps who acted and why; a refusal is a sentence shown
beside the form it answers, with what was typed kept."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.context import Context
from app.use_cases import hotline
from domain.enrollment import Enrollment, SlotCanNoLongerMatter
from domain.errors import DomainError, InvalidArgument, RuleBroken
from domain.guide import Step
from domain.hotline import REASON_LIMIT, MailToResend
from domain.rules import CURRENT_RULES, LiveEntry
from domain.staff import Role
from ui.web.edge import Form, context, platform_of, staff_guard, staff_id
from ui.web.hotline_progress import progress
from ui.web.i18n import N_, gettext_for
from ui.web.operator import LIVE_STATES
from ui.web.refusals import action_refusal

# The hotline's pages are for the support role: others get the log-in page or a 403.
support_only = staff_guard(Role.SUPPORT)


def _me(request: Request[Any, Any, Any]) -> UUID:
    return staff_id(request)


F = TypeVar("F", bound=msgspec.Struct)


def _read(data: dict[str, Any], kind: type[F]) -> F:
    """The form as its struct; a field of another shape (sent twice, say) is refused naming
    it (issue 14: msgspec's error was a 500). Lengths are the domain's to refuse, with the
    same bound as everywhere (`LIMITS["hotline_reason"]`), said on the case file itself."""
    try:
        return msgspec.convert(data, kind, strict=False)
    except msgspec.ValidationError as error:
        found = re.search(r"\$\.(\w+)", str(error))
        raise InvalidArgument(found.group(1) if found else "form", str(error)) from None


class Reason(msgspec.Struct):
    """A form with a reason (renew, resend, unblock)."""

    reason: str = ""
    mail: str = ""


class Waiver(msgspec.Struct):
    step: str = ""
    reason: str = ""


class Problem(msgspec.Struct):
    description: str = ""


class Slot(msgspec.Struct):
    slot: str = ""  # an <input type="datetime-local">: the centre's local time
    note: str = ""


class Link(msgspec.Struct):
    link: str = ""


# What a success says, shown at the top of the case file after the redirect.
DONE = {
    "renewed": N_(
        "Session renewed: it is now valid until %(day)s. A mail tells the candidate, in "
        "their language."
    ),
    "waived": N_("Photo waived: the candidate can go on; the examiner will see why."),
    "problem": N_("Technical problem recorded: the examiner will read it beside any phone seen."),
    "booked": N_("Live-supervision slot booked for %(moment)s."),
    "link_sent": N_("The screen-sharing link is on its way to the candidate, in their language."),
    "resent_invitation": N_("The invitation is on its way to the candidate."),
    "resent_log_in": N_("The log-in mail, with a new single-use link, is on its way."),
    "unblocked": N_("Unblocked: a new log-in link is on its way to the candidate."),
}

# What a refusal says, per action and rule (or field), "*" for any (`action_refusal`).
# The rule shows as a reference.
REFUSED: dict[tuple[str, str], str] = {
    ("renew", "R3"): N_(
        "This session cannot be renewed: it already runs to the enrolment's last day (day 90), "
        "or that day has passed. The centre can enrol the candidate again."
    ),
    ("renew", "R1"): N_("The enrolment has expired: the centre can enrol the candidate again."),
    ("renew", "R18"): N_(
        "The candidate's exam was sent, or they left it for good: this session is over and "
        "cannot be renewed."
    ),
    ("waive", "R4"): N_("The candidate's time for this session is up."),
    ("waive", "*"): N_(
        "The candidate is not at that photo now: ask where they are, then reload this page."
    ),
    ("book", "R2"): N_(
        "Choose a future slot in office hours (a weekday, %(start)s:00 to %(end)s:00), for a "
        "session created with live supervision."
    ),
    ("book", "R3"): N_(
        "Choose a slot before the session's validity ends (%(day)s), or renew the session first."
    ),
    ("link", "R2"): N_("Book a slot first: the link is sent for a booked slot still to come."),
    ("resend", "R2"): N_(
        "The candidate has not created the exam session yet: send the invitation instead."
    ),
    ("resend", "R1"): N_("The enrolment has expired: the centre can enrol the candidate again."),
    ("unblock", "R23"): N_(
        "The candidate has not entered the exam session yet: no screen can be blocked. Send "
        "the invitation, or the log-in mail, again instead."
    ),
    ("unblock", "R18"): N_("The exam was already sent: there is no screen left to unblock."),
    ("unblock", "R1"): N_("The enrolment has expired: the centre can enrol the candidate again."),
    # Any action on an erased person's enrolment (domain.candidate.PersonErased).
    ("*", "ERASED"): N_(
        "Nothing more can be done for this person: their personal data was erased."
    ),
    # Naming the field, as its label does (« Renvoyer un e-mail » had none required).
    ("*", "reason"): N_(
        "Say why in the field “Why”, in a few words (at most %(limit)s characters): it is "
        "kept with your name."
    ),
    ("*", "note"): N_("Keep the note under %(limit)s characters."),
    ("*", "description"): N_(
        "Describe the technical problem in a few words (at most %(limit)s characters)."
    ),
    ("*", "link"): N_("Give the screen-sharing tool's full address, starting with https://."),
    ("*", "slot"): N_("Give the slot's date and time."),
    ("*", "step"): N_("Only the face or the ID photo can be waived."),
    ("*", "*"): N_("This could not be done. Reload the page and try again."),
}

# Why « Réserver le créneau » is not offered, said in its place (`EnrolmentFile.
# booking_refusal`): it was offered for an exam already sent, a dead end (a user's tour).
NO_BOOKING: dict[str, str] = {
    "R1": N_("The enrolment has expired: the centre can enrol the candidate again."),
    "R18": N_(
        "The candidate's exam was sent, or they left it for good: this session is over, a "
        "slot would serve no purpose."
    ),
    "R2": N_("The candidate has already entered the exam session: a new slot changes nothing."),
    "R3": N_(
        "The session's validity ended on %(day)s: renew the session first, then book the slot."
    ),
}

# Where a booked slot stands for the candidate now (R2: the exam opens around it).
SLOT_STATE: dict[str, str] = {
    "too_early": N_("the exam opens to the candidate at %(time)s"),
    "open": N_("the exam is open to the candidate until %(time)s"),
    "missed": N_("missed: the entry closed at %(time)s. Agree another slot with the candidate."),
}

# A line of the history, per kind of hotline action.
ACTION = {
    "renewed": N_("Session renewed until %(day)s"),
    "slot_booked": N_("Live-supervision slot booked for %(moment)s"),
    "link_sent": N_("Screen-sharing link sent for %(moment)s"),
    "resent_invitation": N_("Invitation sent again"),
    "resent_log_in": N_("Log-in mail sent again"),
    "unblocked": N_("Unblocked: new log-in link sent"),
    "unblocked_left": N_("Unblocked: session recorded as left, new log-in link sent"),
    "waived_face_photo": N_("Face photo waived"),
    "waived_id_photo": N_("ID photo waived"),
    "technical_problem": N_("Technical problem recorded"),
}
PHOTO = {Step.FACE_PHOTO: N_("face photo"), Step.ID_PHOTO: N_("ID card photo")}
# Where the mail an action called for stands (a MailStatus value), beside its history line.
MAILED = {
    "pending": N_("mail to the candidate on its way"),
    "sent": N_("mail sent to the candidate"),
    "failed": N_("mail to the candidate given up"),
}


@dataclass(frozen=True)
class Refusal:
    """A refused action, shown beside its form with the input kept."""

    form: str  # which form (its action name) and which enrolment it answered
    enrollment_id: UUID
    sentence: str
    rule: str
    typed: dict[str, str]


def _refusal_sentence(language: str, action: str, error: DomainError, valid: str) -> str:
    rules = CURRENT_RULES
    return action_refusal(
        language,
        REFUSED,
        action,
        error,
        limit=REASON_LIMIT,
        start=rules.office_hours_start,
        end=rules.office_hours_end,
        day=valid,
    )


def _sentence(language: str, action: str, error: DomainError, valid: str) -> str:
    """A refusal as the case file says it: no slot can be booked now (R1, R2, R3, R18:
    `SlotCanNoLongerMatter`) by why not (NO_BOOKING), any other by its action's words."""
    if isinstance(error, SlotCanNoLongerMatter) and error.rule in NO_BOOKING:
        return gettext_for(language)(NO_BOOKING[error.rule], day=valid)
    return _refusal_sentence(language, action, error, valid)


def _slot_state(file: hotline.EnrolmentFile, ctx: Context, language: str) -> str:
    """R2: where the booked slot stands for the candidate now, beside it on the case file
    (the exam opens at, open until, missed); "" when there is nothing to say (no slot, a
    rule set of old without the window, a session entered or over)."""
    session, slot = file.session, file.enrollment.supervision_slot
    if session is None or slot is None or session.entries or file.session_over:
        return ""
    window = session.live_entry(at=ctx.now(), supervision_slot=slot)
    moment = window.opens_at if window.state is LiveEntry.TOO_EARLY else window.closes_at
    if window.state.value not in SLOT_STATE or moment is None:
        return ""
    _ = gettext_for(language)
    return _(SLOT_STATE[window.state.value], time=ctx.times.format(moment, language, "clock"))


class HotlineDesk(Controller):
    path = "/hotline"
    guards = [support_only]

    @get("/", sync_to_thread=True)
    def search(self, request: Request[Any, Any, Any], q: FromQuery[str] = "") -> Template:
        """Find a candidate by e-mail or name (every word must match)."""
        platform = platform_of(request)
        query = q.strip()[:200]
        if query:  # a candidate enrolled a moment ago, through any process, is found
            platform.projections.catch_up(platform.ctx.store)
        found = hotline.find_candidates(platform.ctx, platform.projections, query) if query else []
        return Template(
            "hotline.html",
            context=context(request, query=query, found=found, most=hotline.MOST_FOUND),
        )

    @get("/candidates/{candidate_id:uuid}", sync_to_thread=True)
    def candidate(
        self,
        request: Request[Any, Any, Any],
        candidate_id: FromPath[UUID],
        done: FromQuery[str] = "",
        e: FromQuery[str] = "",
    ) -> Template:
        # A refusal comes here after its post (post/redirect/get): a reload no longer posts
        # the form again, and the address is the case file's (a tester's tour).
        kept = request.session.pop("hotline_refusal", None)
        refusal = None
        if isinstance(kept, dict) and kept.get("candidate_id") == str(candidate_id):
            refusal = Refusal(
                kept["form"],
                UUID(kept["enrollment_id"]),
                kept["sentence"],
                kept["rule"],
                kept["typed"],
            )
        return self._page(request, candidate_id, done=done, done_for=e, refusal=refusal)

    def _page(
        self,
        request: Request[Any, Any, Any],
        candidate_id: UUID,
        *,
        done: str = "",
        done_for: str = "",
        refusal: Refusal | None = None,
    ) -> Template:
        platform = platform_of(request)
        try:
            case = hotline.case_file(platform.ctx, platform.projections, candidate_id)
        except LookupError:
            raise NotFoundException() from None
        language = context(request)["lang"]
        _ = gettext_for(language)
        notice = ""
        if done in DONE:
            files = {str(f.enrollment.id): f.enrollment for f in case.enrolments}
            enrollment = files.get(done_for)
            notice = _(
                DONE[done],
                day=_day(request, enrollment.session_valid_until if enrollment else None),
                moment=_moment(request, enrollment.supervision_slot if enrollment else None),
            )
        times = platform.ctx.times
        where = {  # where she is and what came of it, per enrolment (R7–R10, R19)
            f.enrollment.id: progress(f, language, lambda v: times.format(v, language, "day"))
            for f in case.enrolments
        }
        # Why « Renouveler la session » is not offered: the sentence its refusal would say
        # (R3, R18), in its place (it was offered, and said no only once opened).
        no_renewal = {
            f.enrollment.id: _refusal_sentence(
                language, "renew", refused, _day(request, f.enrollment.session_valid_until)
            )
            for f in case.enrolments
            if (refused := f.renewal_refusal) is not None
        }
        # Why « Réserver le créneau » is not offered: the sentence its refusal would say
        # (R1, R2, R3, R18), in its place, as for the renewal.
        no_booking = {
            f.enrollment.id: _sentence(
                language, "book", refused, _day(request, f.enrollment.session_valid_until)
            )
            for f in case.enrolments
            if f.enrollment.live_supervision and (refused := f.booking_refusal) is not None
        }
        slot_state = {
            f.enrollment.id: said
            for f in case.enrolments
            if (said := _slot_state(f, platform.ctx, language))
        }
        return Template(
            "hotline_candidate.html",
            context=context(
                request,
                case=case,
                notice=notice,
                done=done,
                done_for=done_for,
                refusal=refusal,
                actions=ACTION,
                photos=PHOTO,
                mailed=MAILED,
                limit=REASON_LIMIT,
                titles=_titles(platform.ctx, case),
                progress=where,
                no_renewal=no_renewal,
                no_booking=no_booking,
                slot_state=slot_state,
                live_states=LIVE_STATES,  # a session support may watch (R2): a link to it
            ),
            status_code=409 if refusal else 200,
        )

    def _act(
        self,
        request: Request[Any, Any, Any],
        enrollment_id: UUID,
        action: str,
        typed: dict[str, str],
        command: Any,
        done: str,
    ) -> Template | Redirect:
        """Run one action; back to the case file with its success, or the refusal in place."""
        platform = platform_of(request)
        try:
            enrollment = platform.ctx.store.get(enrollment_id, Enrollment)
        except LookupError:
            raise NotFoundException() from None
        try:
            outcome = command()
        except DomainError as error:
            language = context(request)["lang"]
            valid = _day(request, enrollment.session_valid_until)
            request.session["hotline_refusal"] = {
                "candidate_id": str(enrollment.candidate_id),
                "form": action,
                "enrollment_id": str(enrollment_id),
                "sentence": _sentence(language, action, error, valid),
                "rule": error.rule if isinstance(error, RuleBroken) else "",
                "typed": typed,
            }
            return Redirect(f"/hotline/candidates/{enrollment.candidate_id}#refusal")
        # The mails these facts call for are decided and sent by the worker (app.outbox).
        if done == "resent":
            done = f"resent_{outcome}"
        return Redirect(
            f"/hotline/candidates/{enrollment.candidate_id}?done={done}&e={enrollment_id}"
        )

    @post("/enrolments/{enrollment_id:uuid}/renew", sync_to_thread=True)
    def renew(
        self, request: Request[Any, Any, Any], enrollment_id: FromPath[UUID], data: Form
    ) -> Template | Redirect:
        form = _read(data, Reason)
        ctx = platform_of(request).ctx
        return self._act(
            request,
            enrollment_id,
            "renew",
            {"reason": form.reason},
            lambda: hotline.renew(ctx, enrollment_id, by=_me(request), reason=form.reason),
            "renewed",
        )

    @post("/enrolments/{enrollment_id:uuid}/waive-photo", sync_to_thread=True)
    def waive_photo(
        self, request: Request[Any, Any, Any], enrollment_id: FromPath[UUID], data: Form
    ) -> Template | Redirect:
        form = _read(data, Waiver)
        ctx = platform_of(request).ctx

        def waive() -> None:
            try:
                step = Step(form.step)
            except ValueError:
                raise InvalidArgument("step", "only the face or ID photo can be waived") from None
            hotline.waive_photo(ctx, enrollment_id, step=step, by=_me(request), reason=form.reason)

        typed = {"reason": form.reason, "step": form.step}
        return self._act(request, enrollment_id, "waive", typed, waive, "waived")

    @post("/enrolments/{enrollment_id:uuid}/technical-problem", sync_to_thread=True)
    def technical_problem(
        self, request: Request[Any, Any, Any], enrollment_id: FromPath[UUID], data: Form
    ) -> Template | Redirect:
        form = _read(data, Problem)
        ctx = platform_of(request).ctx
        return self._act(
            request,
            enrollment_id,
            "problem",
            {"description": form.description},
            lambda: hotline.record_technical_problem(
                ctx, enrollment_id, by=_me(request), description=form.description
            ),
            "problem",
        )

    @post("/enrolments/{enrollment_id:uuid}/book-live", sync_to_thread=True)
    def book_live(
        self, request: Request[Any, Any, Any], enrollment_id: FromPath[UUID], data: Form
    ) -> Template | Redirect:
        form = _read(data, Slot)
        platform = platform_of(request)

        def book() -> None:
            slot = hotline.local_slot(form.slot, ZoneInfo(platform.ctx.time_zone))
            hotline.book_live(
                platform.ctx, enrollment_id, slot=slot, by=_me(request), note=form.note
            )

        typed = {"slot": form.slot, "note": form.note}
        return self._act(request, enrollment_id, "book", typed, book, "booked")

    @post("/enrolments/{enrollment_id:uuid}/send-live-link", sync_to_thread=True)
    def send_live_link(
        self, request: Request[Any, Any, Any], enrollment_id: FromPath[UUID], data: Form
    ) -> Template | Redirect:
        form = _read(data, Link)
        ctx = platform_of(request).ctx
        return self._act(
            request,
            enrollment_id,
            "link",
            {"link": form.link},
            lambda: hotline.send_live_link(ctx, enrollment_id, link=form.link, by=_me(request)),
            "link_sent",
        )

    @post("/enrolments/{enrollment_id:uuid}/resend", sync_to_thread=True)
    def resend(
        self, request: Request[Any, Any, Any], enrollment_id: FromPath[UUID], data: Form
    ) -> Template | Redirect:
        form = _read(data, Reason)
        ctx = platform_of(request).ctx

        def send() -> str:
            try:
                mail = MailToResend(form.mail)
            except ValueError:
                raise InvalidArgument("mail", "choose a mail") from None
            hotline.resend(ctx, enrollment_id, mail=mail, by=_me(request), reason=form.reason)
            return mail.value

        typed = {"reason": form.reason, "mail": form.mail}
        return self._act(request, enrollment_id, "resend", typed, send, "resent")

    @post("/enrolments/{enrollment_id:uuid}/unblock", sync_to_thread=True)
    def unblock(
        self, request: Request[Any, Any, Any], enrollment_id: FromPath[UUID], data: Form
    ) -> Template | Redirect:
        form = _read(data, Reason)
        ctx = platform_of(request).ctx
        return self._act(
            request,
            enrollment_id,
            "unblock",
            {"reason": form.reason},
            lambda: hotline.unblock(ctx, enrollment_id, by=_me(request), reason=form.reason),
            "unblocked",
        )


def _titles(ctx: Context, case: hotline.CaseFile) -> dict[str, str]:
    """Each enrolment's certification by its title (its code if the catalogue lost it)."""
    titles = {}
    for f in case.enrolments:
        code = f.enrollment.certification_code
        try:
            titles[code] = ctx.catalogue.get(code).title
        except ValueError:
            titles[code] = code
    return titles


def _day(request: Request[Any, Any, Any], value: Any) -> str:
    language = context(request)["lang"]
    return platform_of(request).ctx.times.format(value, language, "day") if value else ""


def _moment(request: Request[Any, Any, Any], value: Any) -> str:
    language = context(request)["lang"]
    return platform_of(request).ctx.times.format(value, language, "moment") if value else ""


ROUTES = [HotlineDesk]
