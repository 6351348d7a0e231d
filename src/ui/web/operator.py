"""Operator pages (training centre and support): enrol one by one or by CSV (a preview, then
the import), see each candidate's state, book a live-supervision slot, resend a mail, read the
captured mailbox.

Problems with a form or a CSV line are codes with the column they name (`Problem`); the pages
word them in the reader's language from the tables below (issue 13)."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from adapters.bootstrap import Platform
from adapters.mail.capture import read_maildir
from app import reach, tenancy
from app import safe_exam_browser as seb
from app.catalogue import Certification
from app.person_names import folded_for_search, name_in_text
from app.read_models import EnrollmentSummary, Projections, SessionSummary, closed_to_grants
from app.use_cases import enrolment
from domain.errors import InvalidArgument, RuleBroken
from domain.imports import CsvImport, import_id
from domain.outbound_mail import MailKind, MailStatus, OutboundMail
from domain.scoring import Results
from domain.staff import Role
from ui.web import mail_view
from ui.web.centres import centre_of
from ui.web.edge import (
    Multipart,
    context,
    kept_bound,
    language_of,
    platform_of,
    staff_guard,
    staff_id,
)
from ui.web.enrolment_file import (
    CSV_COLUMNS,
    MAX_CSV_LINES,
    YES,
    FileRefused,
    Header,
    LineReport,
    as_written,
    check_csv,
    digest_of,
    email_problem,
    form_problems,
    header_of,
)
from ui.web.i18n import N_
from ui.web.scores import percent

MAILBOX = Path("vigie-data/mailbox")
# A long list is cut in pages of this many, each page linked to the next and the previous:
# « the first 200 are shown: narrow the search » left a centre of 300 unable to read the
# list past « M » (a user's tour).
ROSTER_LIMIT = 200


def roster_page(wanted: str, found: int) -> tuple[int, int]:
    """The page asked for (`?page=`, from 1; anything else is the first, past the last is
    the last) and how many pages `found` rows make."""
    pages = max(1, -(-found // ROSTER_LIMIT))
    try:
        page = int(wanted)
    except ValueError:
        page = 1
    return min(max(page, 1), pages), pages


# Each column in words, beside its name in the file.
COLUMN_WORDS = {
    "email": N_("E-mail address"),
    "surname": N_("Surname"),
    "first_name": N_("First name"),
    "certification_code": N_("Certification"),
    "language": N_("Language"),
    "re_enrol": N_("Enrol again"),
}
# The language a line enrols in, in words ("": none written, so French).
LANGUAGE_WORDS = {"fr": N_("French"), "en": N_("English"), "": N_("French (by default)")}
# What is wrong with a value: %(value)s is the value, or the other line it repeats.
PROBLEM_WORDS = {
    "bad_email": N_("“%(value)s” is not an e-mail address"),
    "not_an_email": N_("“%(value)s” cannot be in an e-mail address"),
    "twice": N_("this address is already on line %(value)s of the file"),
    "required": N_("this field is required"),
    "too_long": N_("%(value)s characters at most"),
    "not_a_name": N_(
        "“%(value)s” cannot be in a name: letters, with spaces, hyphens or apostrophes"
    ),
    "unknown_certification": N_("unknown certification “%(value)s”"),
    "bad_language": N_("write fr or en, not “%(value)s”"),
    "bad_re_enrol": N_("write yes or no, not “%(value)s”"),
}
# A file refused whole: %(value)s is what it names.
FILE_PROBLEM_WORDS = {
    "missing_columns": N_(
        "Nothing was enrolled: missing column(s): %(value)s. The first line names the "
        "expected columns, separated by commas or semicolons: email (e-mail address), "
        "surname, first_name, certification_code, and if needed language (fr or en) and "
        "re_enrol (yes to enrol again)."
    ),
    "too_long": N_("Nothing was enrolled: at most %(value)s lines per file."),
    "empty": N_("Nothing was enrolled: the file has no line."),
    "not_utf8": N_(
        "Nothing was enrolled: the file must be UTF-8 (in Excel: “CSV UTF-8” when saving)."
    ),
    "no_file": N_("Choose a CSV file first."),
    "changed": N_(
        "The file is not the one previewed, so nothing was enrolled: choose it again to see "
        "its preview."
    ),
}

# What becomes of one enrolment (form or CSV line), before and after the import.
NEW = "new"
AGAIN = "again"
ALREADY = "already"
OUTCOME_WORDS = {
    NEW: (N_("will be enrolled"), N_("enrolled")),
    AGAIN: (N_("will be enrolled again"), N_("enrolled again")),
    ALREADY: (N_("already enrolled: unchanged"), N_("already enrolled: nothing changed")),
}

# A candidate's state as the centre reads it: words and a badge colour.
STATE_WORDS = {
    "invited": (N_("Invited"), "info"),
    "created": (N_("Exam session created"), "info"),
    "checks": (N_("Checks under way"), "warning"),
    # The session's status is « exam » from the launch (R10) until the exam is sent (R18):
    # the list read « En examen » while she was still at her profile, and after she finished
    # (a helper's tour). The three moments, in the hotline's and the candidate's words.
    "ready": (N_("Checks done, exam not started yet"), "info"),
    "exam": (N_("Taking the exam"), "warning"),
    "finished": (N_("Exam finished, not sent for review yet"), "warning"),
    "closed": (N_("Exam finished"), "info"),
    "quit": (N_("Left the exam"), "warning"),
    "under review": (N_("Under review"), "info"),
    # The session followed the rules: whether the certification is obtained is the outcome
    # shown beside it (« Validé » alone read as a success when the score was below the mark).
    "validated": (N_("Session validated"), "info"),
    "invalidated": (N_("Session invalidated"), "error"),  # as « Session validée » beside it
    "under appeal": (N_("Under appeal"), "warning"),
    "expired": (N_("Expired"), "error"),
    # The candidate was erased (ERASED) before her exam was done: nothing more will happen.
    # The row stays, as the centre's record of the enrolment, named in words, not left blank.
    "erased": (N_("Personal data erased"), "info"),
}
# The states an erasure ends: the review's outcomes stay as they were decided.
ENDED_BY_ERASURE = frozenset(
    {"invited", "created", "expired", "checks", "ready", "exam", "finished"}
)
LIVE_STATES = frozenset({"checks", "ready", "exam", "finished"})
# A given-up mail, named by what it was for.
MAIL_WORDS = {
    MailKind.INVITATION: N_("Invitation to create the exam session"),
    MailKind.WELCOME: N_("Welcome and log-in link"),
    MailKind.LIVE_SUPERVISION: N_("Live-supervision appointment"),
    MailKind.LIVE_SUPERVISION_LINK: N_("Live-supervision slot and screen-sharing link"),
    MailKind.PASSWORD_RESET: N_("Password reset"),
    MailKind.SUBMISSION_RECEIPT: N_("Receipt of the exam"),
    MailKind.RESULTS: N_("Results"),
    MailKind.DEADLINE_REMINDER: N_("Deadline reminder"),
    MailKind.REVIEW_DUE_SOON: N_("Review due soon (examiner)"),
    MailKind.APPEAL_DECIDED: N_("Appeal decided"),
    MailKind.APPEAL_RECEIVED: N_("Appeal received"),
    MailKind.EXAM_SESSION_RENEWED: N_("Exam session renewed"),
}

# A parked reaction in words (a tester's tour: « mail-decisions — Enrollment.ExamSessionCreated
# (…), 3 essais — RuleBroken: ERASED: … » on the French page): what failed, by its policy…
PARKED_WHAT = {
    "mail-decisions": N_("A mail to a candidate or an examiner was not sent"),
    "open-review-on-submission": N_("The review of a sent exam was not opened"),
    "provision-workspaces": N_("An exam workspace was not prepared"),
    "tear-down-workspaces": N_("An exam workspace was not removed"),
    "webhook-decisions": N_("A centre's webhook was not sent"),
    "lti-score-decisions": N_("A score was not sent back to the learning platform"),
}
PARKED_WHAT_ELSE = N_("An automatic reaction failed")
# … and why, by the rule its error names (`RuleBroken: CODE: …`), with what to do.
PARKED_WHY = {
    "ERASED": N_(
        "the person's data was erased on request, so it can no longer be done. Nothing to "
        "do: a retry fails again."
    ),
}
PARKED_WHY_ELSE = N_("the server's log says why. Fix the cause, then retry.")
# The causes a retry cannot fix: no « Relancer » beside them (the CLI still may).
PARKED_HOPELESS = frozenset({"ERASED"})


def parked_rule(error: str) -> str:
    """The rule code a parked reaction's error names (`RuleBroken: ERASED: …` → `ERASED`), of
    whichever refusal type (`PersonErased: ERASED: …`, a RuleBroken of its own since the
    erased person's refusals: a reviewer found those read as an unknown failure again)."""
    _kind, _, rest = error.partition(": ")
    code = rest.partition(": ")[0]
    return code if _RULE_CODE.fullmatch(code) else ""


# A rule's code as the domain writes it: R1…R26, ERASED, APPEAL-DECISION.
_RULE_CODE = re.compile(r"R\d+|[A-Z][A-Z]+(?:-[A-Z]+)*")


@dataclass(frozen=True)
class RosterRow:
    """One enrolment on the centre's list."""

    enrollment_id: UUID
    surname: str
    first_name: str
    email: str
    certification: str
    last_day: date
    state: str
    session: SessionSummary | None
    certification_code: str = ""
    # The state was decided by a second examiner on the candidate's appeal (R19): a centre
    # reading « Session validée » after « Invalidée » should know why it changed.
    after_appeal: bool = False
    # Her personal data was erased: no name or address to show (the page says so in words).
    erased: bool = False
    # « Aménagements » is offered where a grant would be taken (read_models.closed_to_grants,
    # the domain's rule, and not for an erased holder): it was offered on every row, and
    # refused only after « Accorder » (a tester's tour).
    takes_accommodations: bool = False
    candidate_id: UUID | None = None  # the hotline's page of the person (support's list links it)

    @property
    def can_book_a_slot(self) -> bool:
        """R2: a slot is booked for a session created with live supervision, before it
        starts. « Réserver un créneau » was offered on every row, finished and invalidated
        ones too, and answered a refusal there (a reviewer's check)."""
        return (
            self.session is not None and self.session.live_supervision and self.state == "created"
        )

    @property
    def can_be_watched(self) -> bool:
        return self.session is not None and self.state in LIVE_STATES

    @property
    def released_results(self) -> Results | None:
        """The exam's results once a validated session's result was released (R19: the
        results reach the candidate after the review, and the centre with them); before,
        none, whatever the exam's end showed the candidate."""
        if self.state != "validated" or self.session is None:
            return None
        return self.session.results


class EnrolForm(msgspec.Struct):
    """The one-candidate form (every field may be missing: the page says which). Its lengths
    are checked by the handler (`form_problems`), not at the edge: a 300-character surname
    gave a page of its own, « Nom » is too long, and lost the form (a reviewer's tour); it
    now comes back in place, as typed, up to KEPT_TIMES its bound (`kept_bound`)."""

    email: Annotated[str, kept_bound("email")] = ""
    surname: Annotated[str, kept_bound("surname")] = ""
    first_name: Annotated[str, kept_bound("first_name")] = ""
    certification_code: str = ""
    language: str = "fr"
    re_enrol: str = ""


class SlotForm(msgspec.Struct):
    """A live-supervision slot, as the browser's date-and-time field sends it."""

    slot: str = ""


class ConfirmForm(msgspec.Struct):
    """The preview's « Import » button: the file's text as previewed, and its digest."""

    content: str = ""
    digest: str = ""


# The platform's own mails (every centre's candidates): the hotline's, not a centre's.
hotline_only = staff_guard(Role.SUPPORT)
# A training centre enrols (product.md): the hotline's enrolments were made for a centre
# derived from its own account, which no centre sees or manages (a tester's tour).
centre_only = staff_guard(Role.CENTRE)


def _seb_config_keys(platform: Platform) -> dict[str, str]:
    """Each certification requiring Safe Exam Browser → its configuration's Config Key."""
    start_url = platform.links.base_url + "/"
    return {
        c.code: seb.config_key(seb.exam_settings(start_url, c.safe_exam_browser))
        for c in platform.ctx.catalogue
        if c.safe_exam_browser is not None
    }


def _is_support(request: Request[Any, Any, Any]) -> bool:
    return request.session.get("role") == Role.SUPPORT.value


# --- the list ------------------------------------------------------------------------------


def state_of(summary: EnrollmentSummary, session: SessionSummary | None) -> str:
    """The enrolment's state, a key of STATE_WORDS."""
    if summary.expired:
        return "expired"
    if session is None:
        return "invited"
    if session.status == "exam" and not session.exam_begun:
        return "ready"
    if session.status == "exam" and session.exam_finished:
        return "finished"
    return session.status if session.status in STATE_WORDS else "created"


def roster(
    projections: Projections, titles: dict[str, str], summaries: list[EnrollmentSummary]
) -> list[RosterRow]:
    """These enrolments (one centre's, every centre's for the hotline: app.reach), by
    surname."""
    emails = {cid: email for email, cid in projections.candidates_by_email.items()}
    rows = []
    for summary in summaries:
        sessions = projections.sessions_of_enrollment(summary.enrollment_id)
        session = sessions[-1] if sessions else None
        # The names this enrolment's centre typed, never another centre's (security finding
        # F1: a centre enrolling another's candidate read the names that centre typed).
        surname, first_name = projections.names_of_enrolment(summary.enrollment_id)
        code = summary.certification_code or (session.certification_code if session else "")
        state = state_of(summary, session)
        if summary.holder_erased and state in ENDED_BY_ERASURE:
            state = "erased"
        rows.append(
            RosterRow(
                enrollment_id=summary.enrollment_id,
                surname=surname,
                first_name=first_name,
                email=emails.get(summary.candidate_id, ""),
                certification=titles.get(code, code),
                last_day=summary.last_day,
                state=state,
                session=session,
                certification_code=code,
                after_appeal=_appeal_decided(projections, session),
                erased=summary.holder_erased,
                takes_accommodations=not summary.holder_erased
                and closed_to_grants(summary, session) is None,
                candidate_id=summary.candidate_id,
            )
        )
    # By the names as a reader orders them, accents aside: « Élodie » sorted after « Raphaël »
    # (a user's tour).
    return sorted(
        rows,
        key=lambda r: (folded_for_search(r.surname), folded_for_search(r.first_name), r.email),
    )


def _appeal_decided(projections: Projections, session: SessionSummary | None) -> bool:
    if session is None or session.review_id is None:
        return False
    appeal = projections.appeals.get(session.review_id)
    return appeal is not None and appeal.verdict is not None


def matches(row: RosterRow, search: str, state: str) -> bool:
    """The search looks in the name, the e-mail and the certification, by its title or its
    code (`ENI-ACCESS` found nobody: a reviewer's tour); the state filters. Case and accents
    are ignored, as the hotline's search ignores them: « helene » found « Hélène » only
    when her e-mail was spelled so (a user's tour with 300 candidates)."""
    words = folded_for_search(
        " ".join(
            (row.surname, row.first_name, row.email, row.certification, row.certification_code)
        )
    )
    wanted = folded_for_search(search).split()
    return all(w in words for w in wanted) and state in ("", row.state)


def result_words(
    rows: list[RosterRow], certifications: dict[str, Certification], language: str
) -> dict[UUID, dict[str, str]]:
    """Each released result's percentage and the pass mark it was scored against, as the reader
    writes numbers (the template words the outcome beside them)."""
    words = {}
    for row in rows:
        results = row.released_results
        if results is None or not results.max_score:
            continue
        certification = certifications.get(row.certification_code)
        today = certification.pass_mark_percent if certification is not None else None
        words[row.enrollment_id] = {
            "score_percent": percent(round(100 * results.score / results.max_score), language),
            "pass_mark": percent(results.pass_mark(today), language),  # as scored
        }
    return words


# --- one candidate -------------------------------------------------------------------------


def _outcome(done: enrolment.Enrolled) -> str:
    if done.already_enrolled:
        return ALREADY
    return AGAIN if done.re_enrolled else NEW


# --- a file: preview, then import ----------------------------------------------------------


def foreseen(
    projections: Projections, centre: UUID, wanted: enrolment.Enrolment, today: date
) -> str:
    """What the import would do with a line, read from the lists (the import decides, and
    its report says what it did)."""
    candidate = projections.find_by_email(wanted.email)
    if candidate is None:
        return NEW
    under_way = any(
        s.centre_id == centre
        and s.candidate_id == candidate
        and s.certification_code == wanted.certification_code
        and not s.expired
        and s.last_day >= today
        for s in projections.enrollments.values()
    )
    if not under_way:
        return NEW
    return AGAIN if wanted.re_enrol else ALREADY


def _titled(reports: list[LineReport], titles: dict[str, str]) -> list[LineReport]:
    return [replace(r, certification=titles.get(r.certification, r.certification)) for r in reports]


def _read_upload(data: dict[str, Any]) -> str:
    upload = data.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise FileRefused("no_file")
    try:
        return upload.file.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefused("not_utf8") from None


# The refused lines a preview names above its table, each a link to its line; the others are
# counted there, marked in the table.
ERRORS_NAMED_ABOVE = 20


def _report(request: Request[Any, Any, Any], page: dict[str, Any]) -> dict[str, Any]:
    """The preview's or the report's page, with the tables that word it."""
    return context(
        request,
        column_words=COLUMN_WORDS,
        problem_words=PROBLEM_WORDS,
        file_words=FILE_PROBLEM_WORDS,
        outcome_words=OUTCOME_WORDS,
        language_words=LANGUAGE_WORDS,
        read_columns=CSV_COLUMNS,
        shown_errors=ERRORS_NAMED_ABOVE,
        **page,
    )


def _counts(reports: list[LineReport]) -> dict[str, int]:
    return {
        "error": sum(1 for r in reports if r.problems),
        **{key: sum(1 for r in reports if r.outcome == key) for key in OUTCOME_WORDS},
    }


def _imported_at(platform: Platform, centre: UUID, digest: str) -> datetime | None:
    """When this centre imported this file, if it did (the preview says so before)."""
    try:
        done: datetime = platform.ctx.store.get(import_id(centre, digest), CsvImport).created_on
    except LookupError:
        return None
    return done


# --- the pages ----------------------------------------------------------------------------


class OperatorDesk(Controller):
    """The operator pages: the training centre's and the hotline's (support)."""

    path = "/operator"
    guards = [staff_guard(Role.CENTRE, Role.SUPPORT)]

    # --- the list ---

    @get("/", sync_to_thread=True)
    def operator_home(
        self,
        request: Request[Any, Any, Any],
        q: FromQuery[str] = "",
        wanted_state: Annotated[str, QueryParameter(name="state")] = "",
        wanted_page: Annotated[str, QueryParameter(name="page")] = "",
    ) -> Template:
        """The centre's page: enrol (a form, a file), then its candidates, and the hotline's
        tools when the reader is the hotline."""
        platform = platform_of(request)
        platform.projections.catch_up(platform.ctx.store)
        titles = {c.code: c.title for c in platform.ctx.catalogue}
        mine = reach.enrolment_summaries_for(platform.ctx, platform.projections, staff_id(request))
        everyone = roster(platform.projections, titles, mine)
        hotline = _is_support(request)
        state = wanted_state if wanted_state in STATE_WORDS else ""
        found = [row for row in everyone if matches(row, q, state)]
        page, pages = roster_page(wanted_page, len(found))
        first = (page - 1) * ROSTER_LIMIT
        shown = found[first : first + ROSTER_LIMIT]

        def page_url(number: int) -> str:
            kept = {"q": q, "state": state} if q or state else {}
            return "/operator?" + urlencode({**kept, "page": number}) + "#candidates"

        certifications = {c.code: c for c in platform.ctx.catalogue}
        return Template(
            "operator.html",
            context=context(
                request,
                rows=shown,
                results=result_words(shown, certifications, language_of(request)),
                total=len(everyone),
                shown_of=len(found),
                page=page,
                pages=pages,
                first_shown=first + 1,
                previous_page=page_url(page - 1) if page > 1 else "",
                next_page=page_url(page + 1) if page < pages else "",
                search=q,
                state=state,
                states=STATE_WORDS,
                # The platform's mails and reactions name every centre's candidates: the
                # hotline's to follow (issue 14), not a centre's.
                failed=platform.projections.failed_mails() if hotline else [],
                parked=platform.parked.catch_up(platform.ctx.store) if hotline else [],
                parked_rule=parked_rule,
                parked_what=PARKED_WHAT,
                parked_what_else=PARKED_WHAT_ELSE,
                parked_why=PARKED_WHY,
                parked_why_else=PARKED_WHY_ELSE,
                parked_hopeless=PARKED_HOPELESS,
                certifications=list(platform.ctx.catalogue),
                seb_keys=_seb_config_keys(platform),
                notice=request.session.pop("notice", None),
                typed=request.session.pop("typed", None) or {},
                can_watch=hotline,
                column_words=COLUMN_WORDS,
                problem_words=PROBLEM_WORDS,
                max_csv_lines=MAX_CSV_LINES,  # the help says the limit before the upload
                mail_words={kind.value: words for kind, words in MAIL_WORDS.items()},
            ),
        )

    @get("/certifications/{certification:str}/seb", sync_to_thread=True)
    def seb_configuration(
        self, request: Request[Any, Any, Any], certification: FromPath[str]
    ) -> Response[bytes]:
        """A certification's Safe Exam Browser configuration (issue 16): the `.seb` file
        staff hand to candidates, SEB opening the platform with it; its Config Key in the
        `X-SEB-Config-Key` header. 404 for a certification the catalogue does not have, and
        for one that records the screen: SEB allows no screen sharing, so an exam taken in
        SEB with this file would go unrecorded (docs/media.md)."""
        platform = platform_of(request)
        found = [c for c in platform.ctx.catalogue if c.code == certification]
        if not found or found[0].screen_capture:
            raise NotFoundException()
        requirement = found[0].safe_exam_browser or seb.SafeExamBrowser()
        settings = seb.exam_settings(platform.links.base_url + "/", requirement)
        filename = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in certification)
        return Response(
            seb.seb_file(settings),
            media_type="application/seb",
            headers={
                "content-disposition": f'attachment; filename="{filename}.seb"',
                "x-seb-config-key": seb.config_key(settings),
                "cache-control": "no-store",
            },
        )

    # --- one candidate ---

    @post("/enrol", sync_to_thread=True, guards=[centre_only])
    def enrol_one(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[EnrolForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        """A training centre enrols one candidate (the invitation mail follows). A repeat
        changes nothing and says who is enrolled already and how to enrol them again on purpose;
        a refused value comes back in place, the form as typed."""
        centre = centre_of(request)
        platform = platform_of(request)
        codes = {c.code for c in platform.ctx.catalogue}
        typed = as_written(
            {f: str(getattr(data, f)).strip() for f in EnrolForm.__struct_fields__}, codes
        )
        typed["email"] = typed["email"].lower()
        emailed = email_problem(typed["email"])
        problems = [*([emailed] if emailed is not None else []), *form_problems(typed, codes)]
        if problems:
            request.session["typed"] = typed
            request.session["notice"] = {
                "kind": "refused",
                **problems[0].__dict__,
                "others": [p.__dict__ for p in problems[1:]],
            }
            return Redirect("/operator")
        done = enrolment.enrol_candidate(
            platform.ctx,
            platform.projections,
            centre_id=centre,
            email=typed["email"],
            surname=typed["surname"],
            first_name=typed["first_name"],
            certification_code=typed["certification_code"],
            language=typed["language"] or "fr",
            re_enrol=typed["re_enrol"].lower() in YES,
        )
        notice = {
            "kind": _outcome(done),
            "email": typed["email"],
            "name": name_in_text(typed["surname"], typed["first_name"]),
            "certification": platform.ctx.catalogue.get(typed["certification_code"]).title,
            "day": done.last_day.isoformat(),
        }
        if done.already_enrolled:
            platform.projections.catch_up(platform.ctx.store)
            summary = platform.projections.enrollments.get(done.enrollment_id)
            surname, first = platform.projections.names_of_enrolment(done.enrollment_id)
            notice["name"] = name_in_text(surname, first) or notice["name"]
            if summary is not None and summary.enrolled_on is not None:
                notice["since"] = summary.enrolled_on.isoformat()
            request.session["typed"] = typed  # ready to tick « enrol again » and send
        request.session["notice"] = notice
        return Redirect("/operator")

    # --- a file: preview, then import ---

    @post("/enrol-csv", sync_to_thread=True, guards=[centre_only])
    def preview_csv(self, request: Request[Any, Any, Any], data: Multipart) -> Template:
        """The file read and checked, nothing recorded: each line with what the import would do
        with it, or what is wrong with it; then « Import » enrols exactly this file."""
        centre = centre_of(request)
        platform = platform_of(request)
        titles = {c.code: c.title for c in platform.ctx.catalogue}
        page: dict[str, Any] = {
            "stage": "preview",
            "reports": [],
            "file_error": None,
            "header": Header(),
        }
        try:
            text = _read_upload(data)
            page["header"] = header_of(text)  # said, even when the file is refused whole
            wanted, reports = check_csv(text, set(titles))
        except FileRefused as refused:
            page["file_error"] = (refused.problem, refused.value)
            return Template("csv_report.html", context=_report(request, page), status_code=400)
        platform.projections.catch_up(platform.ctx.store)
        today = platform.ctx.now().date()
        outcomes = iter([foreseen(platform.projections, centre, w, today) for w in wanted])
        reports = [r if r.problems else replace(r, outcome=next(outcomes)) for r in reports]
        digest = digest_of(wanted)
        page.update(
            reports=_titled(reports, titles),
            counts=_counts(reports),
            digest=digest,
            content=base64.b64encode(text.encode()).decode(),
            imported_before=_imported_at(platform, centre, digest),
        )
        return Template("csv_report.html", context=_report(request, page))

    @post("/enrol-csv/confirm", sync_to_thread=True, guards=[centre_only])
    def import_csv(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[ConfirmForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template:
        """Enrol the previewed file whole in one transaction, or nothing; the same file again
        changes nothing and says when it was imported."""
        centre = centre_of(request)
        staff = staff_id(request)
        platform = platform_of(request)
        titles = {c.code: c.title for c in platform.ctx.catalogue}
        page: dict[str, Any] = {
            "stage": "report",
            "reports": [],
            "file_error": None,
            "header": Header(),
        }
        try:
            text = base64.b64decode(data.content, validate=True).decode()
            header = header_of(text)
            wanted, reports = check_csv(text, set(titles))
        # ValueError: base64 of non-ASCII letters (binascii.Error covers only ASCII garbage).
        except (ValueError, FileRefused):
            header, wanted, reports = Header(), [], []
        refused = header.to_rename or any(r.problems for r in reports)
        if not wanted or refused or digest_of(wanted) != data.digest:
            page["file_error"] = ("changed", "")
            return Template("csv_report.html", context=_report(request, page), status_code=409)
        done = enrolment.import_enrolments(
            platform.ctx,
            platform.projections,
            centre_id=centre,
            imported_by=staff,
            digest=data.digest,
            lines=wanted,
        )
        if not done.already_imported:
            reports = [
                replace(report, outcome=_outcome(line))
                for report, line in zip(reports, done.lines, strict=True)
            ]
        page.update(
            header=header,
            reports=_titled(reports, titles),
            counts=_counts(reports),
            already=done.already_imported,
            imported_at=done.imported_at,
        )
        return Template("csv_report.html", context=_report(request, page))

    # --- the hotline's tools ---

    @post("/slot/{enrollment_id:uuid}", sync_to_thread=True)
    def book_slot(
        self,
        request: Request[Any, Any, Any],
        enrollment_id: FromPath[UUID],
        data: Annotated[SlotForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        """R2: the hotline books the live-supervision slot agreed with the candidate."""
        support = staff_id(request)
        platform = platform_of(request)
        # Another centre's enrolment is « not found » before anything typed is read (issue 14);
        # the use case checks it again.
        tenancy.enrolment_for(platform.ctx, support, enrollment_id)
        try:
            local = datetime.fromisoformat(data.slot)
        except ValueError:
            request.session["notice"] = {"kind": "bad_slot"}
            return Redirect("/operator")
        slot = local.replace(tzinfo=ZoneInfo(platform.ctx.time_zone))
        try:
            enrolment.book_live_supervision_slot(
                platform.ctx, enrollment_id, slot=slot, booked_by=support
            )
        except RuleBroken as broken:
            request.session["notice"] = {"kind": "slot_refused", "rule": broken.rule}
            return Redirect("/operator")
        request.session["notice"] = {"kind": "slot_booked", "at": slot.isoformat()}
        return Redirect("/operator")

    @post("/mail/{mail_id:uuid}/resend", sync_to_thread=True, guards=[hotline_only])
    def resend(self, request: Request[Any, Any, Any], mail_id: FromPath[UUID]) -> Redirect:
        """Send a given-up mail again (after the address was fixed, say): a new attempt."""
        platform = platform_of(request)
        mail = platform.ctx.store.get(mail_id, OutboundMail)
        if mail.status is not MailStatus.FAILED:
            raise InvalidArgument("mail", "only a given-up mail is sent again")
        again = OutboundMail.decide(
            mail_id=platform.ctx.ids.new_id(),
            kind=mail.kind,
            recipient_kind=mail.recipient_kind,
            recipient_id=mail.recipient_id,
            params=mail.params,
            cause=f"resend of {mail.id}",
            at=platform.ctx.now(),
        )
        platform.ctx.store.save(again)
        request.session["notice"] = {"kind": "resent"}
        return Redirect("/operator")

    @get("/mailbox", sync_to_thread=True, guards=[hotline_only])
    def mailbox(self, request: Request[Any, Any, Any]) -> Template:
        """The embedded SMTP capture's mails (local defaults only): to whom, what, when, and
        their text with every personal link hidden (mail_view): support read the single-use
        links there and could take any candidate's account over (security finding F2). The
        full mails are for whoever runs `vigie mailbox --full` on the server."""
        try:
            messages = read_maildir(MAILBOX)[-100:]
        except FileNotFoundError:  # no capture on this server (a real SMTP relay, say)
            messages = []
        mails = [mail_view.shown(message) for message in reversed(messages)]
        return Template("mailbox.html", context=context(request, messages=mails))


ROUTES = [OperatorDesk]
