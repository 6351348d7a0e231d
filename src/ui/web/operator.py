"""Operator pages (training centre and support): enrol one by one or by CSV, see each
candidate's state, book a live-supervision slot, resend a mail, read the captured mailbox."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, Template

from adapters.mail.capture import read_maildir
from app.outbox import MAIL_NAMESPACE
from app.use_cases import enrolment
from domain.candidate import check_email
from domain.errors import DomainError, InvalidArgument
from domain.imports import lines_digest
from domain.outbound_mail import MailStatus, OutboundMail
from domain.staff import Role
from ui.web.edge import Form, Multipart, context, platform_of, staff_member

MAILBOX = Path("vigie-data/mailbox")
CSV_COLUMNS = ("email", "surname", "first_name", "certification_code", "language", "re_enrol")
REQUIRED_COLUMNS = CSV_COLUMNS[:4]
# One file is one transaction of about four events per line. eventsourcing 9.5.6's pipelined
# insert on PostgreSQL hung at 20,000 events in one save (a 5,000-line file; 4,500 lines
# passed): 2,000 lines (8,000 events, tested killed and whole) keeps a wide margin.
MAX_CSV_LINES = 2000
YES = frozenset({"yes", "oui", "y", "o", "1", "true", "vrai", "x"})
NO = frozenset({"", "no", "non", "n", "0", "false", "faux"})
# What the centre is told about one enrolment (form or CSV line): an i18n key each.
OUTCOME_NEW = "enrolled_new"
OUTCOME_AGAIN = "enrolled_again"
OUTCOME_ALREADY = "enrolled_already"


class FileRefused(Exception):
    """The file as a whole cannot be read (an i18n key and the value it names)."""

    def __init__(self, problem: str, value: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.value = value


@dataclass(frozen=True)
class LineReport:
    """One CSV line: the column and problem that refuse it (i18n keys), or what was done."""

    line: int
    email: str
    column: str = ""
    problem: str = ""
    value: str = ""
    outcome: str = ""


def _outcome(done: enrolment.Enrolled) -> str:
    if done.already_enrolled:
        return OUTCOME_ALREADY
    return OUTCOME_AGAIN if done.re_enrolled else OUTCOME_NEW


def _centre(request: Request[Any, Any, Any]) -> UUID:
    """The operator's centre: derived from the staff member (one centre each for now)."""
    return uuid5(MAIL_NAMESPACE, f"centre:{staff_member(request, Role.CENTRE, Role.SUPPORT)}")


@get("/operator", sync_to_thread=True)
def operator_home(request: Request[Any, Any, Any]) -> Template:
    staff_member(request, Role.CENTRE, Role.SUPPORT)
    platform = platform_of(request)
    platform.projections.catch_up(platform.ctx.store)
    projections = platform.projections
    emails = {cid: email for email, cid in projections.candidates_by_email.items()}
    rows = [
        (emails.get(e.candidate_id, "?"), e, projections.sessions_of_enrollment(e.enrollment_id))
        for e in projections.enrollments.values()
    ]
    return Template(
        "operator.html",
        context=context(
            request,
            rows=rows,
            failed=projections.failed_mails(),
            parked=platform.parked.catch_up(platform.ctx.store),  # issue 12
            certifications=list(platform.ctx.catalogue),
            report=None,
            notice=request.session.pop("notice", None),
            can_watch=request.session.get("role") == Role.SUPPORT.value,
        ),
    )


@post("/operator/enrol", sync_to_thread=True)
def enrol_one(request: Request[Any, Any, Any], data: Form) -> Redirect:
    """A training centre enrols one candidate (the invitation mail follows); a repeat changes
    nothing and says so."""
    centre = _centre(request)
    platform = platform_of(request)
    email = str(data.get("email", ""))
    done = enrolment.enrol_candidate(
        platform.ctx,
        platform.projections,
        centre_id=centre,
        email=email,
        surname=str(data.get("surname", "")),
        first_name=str(data.get("first_name", "")),
        certification_code=str(data.get("certification_code", "")),
        language=str(data.get("language", "fr")) or "fr",
        re_enrol=str(data.get("re_enrol", "")).lower() in YES,
    )
    request.session["notice"] = {
        "key": _outcome(done),
        "email": check_email(email),
        "day": done.last_day.strftime("%d/%m/%Y"),
    }
    return Redirect("/operator")


def _line_problem(
    row: dict[str, str], seen: dict[str, int], known_codes: set[str]
) -> tuple[str, str, str] | None:
    """The first column refused on a line: (column, problem key, value)."""
    try:
        email = check_email(row["email"])
    except DomainError:
        return "email", "csv_bad_email", row["email"]
    if email in seen:
        return "email", "csv_twice", str(seen[email])
    for column in ("surname", "first_name"):
        if not row[column]:
            return column, "csv_required", ""
    if row["certification_code"] not in known_codes:
        return "certification_code", "csv_unknown_certification", row["certification_code"]
    if row["language"] not in ("", "fr", "en"):
        return "language", "csv_bad_language", row["language"]
    if row["re_enrol"].lower() not in YES | NO:
        return "re_enrol", "csv_bad_re_enrol", row["re_enrol"]
    return None


def delimiter_of(text: str) -> str:
    """`;` (French Excel's default) or `,`: whichever the header line uses more."""
    header = text.removeprefix("\ufeff").partition("\n")[0]
    return ";" if header.count(";") > header.count(",") else ","


def check_csv(
    text: str, known_codes: set[str]
) -> tuple[list[enrolment.Enrolment], list[LineReport]]:
    """Every line checked before anything is recorded: nothing half-imported."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=delimiter_of(text))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise FileRefused("csv_missing_columns", ", ".join(missing))
    wanted: list[enrolment.Enrolment] = []
    reports: list[LineReport] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(reader, start=2):
        if number > MAX_CSV_LINES + 1:
            raise FileRefused("csv_too_long", str(MAX_CSV_LINES))
        row = {k: (raw.get(k) or "").strip() for k in CSV_COLUMNS}
        row["email"] = row["email"].lower()
        problem = _line_problem(row, seen, known_codes)
        seen.setdefault(row["email"], number)
        if problem is not None:
            reports.append(LineReport(number, row["email"], *problem))
            continue
        reports.append(LineReport(number, row["email"]))
        wanted.append(
            enrolment.Enrolment(
                email=row["email"],
                surname=row["surname"],
                first_name=row["first_name"],
                certification_code=row["certification_code"],
                language=row["language"] or "fr",
                re_enrol=row["re_enrol"].lower() in YES,
            )
        )
    if not reports:
        raise FileRefused("csv_empty")
    return wanted, reports


def _digest(wanted: list[enrolment.Enrolment]) -> str:
    """The file's content as checked: the same lines with other spaces or line endings are
    the same file."""
    return lines_digest(
        [
            (w.email, w.surname, w.first_name, w.certification_code, w.language, str(w.re_enrol))
            for w in wanted
        ]
    )


@post("/operator/enrol-csv", sync_to_thread=True)
def enrol_csv(request: Request[Any, Any, Any], data: Multipart) -> Template:
    """Enrol a whole file in one transaction, or nothing when any line is wrong (a report
    per line); the same file again changes nothing and says when it was imported."""
    centre = _centre(request)
    staff = staff_member(request, Role.CENTRE, Role.SUPPORT)
    platform = platform_of(request)
    upload = data.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidArgument("file", "a CSV file is required")
    page: dict[str, Any] = {"reports": [], "imported": False, "file_error": None, "done": None}
    try:
        text = upload.file.read().decode("utf-8-sig")
        wanted, reports = check_csv(text, {c.code for c in platform.ctx.catalogue})
    except UnicodeDecodeError:
        page["file_error"] = ("csv_not_utf8", "")
    except FileRefused as refused:
        page["file_error"] = (refused.problem, refused.value)
    else:
        page["reports"] = reports
        if not any(r.problem for r in reports):
            done = enrolment.import_enrolments(
                platform.ctx,
                platform.projections,
                centre_id=centre,
                imported_by=staff,
                digest=_digest(wanted),
                lines=wanted,
            )
            if not done.already_imported:
                page["reports"] = [
                    replace(report, outcome=_outcome(line))
                    for report, line in zip(reports, done.lines, strict=True)
                ]
            local = done.imported_at.astimezone(ZoneInfo(platform.ctx.time_zone))
            page["done"] = {
                "already": done.already_imported,
                "day": local.strftime("%d/%m/%Y"),
                "time": local.strftime("%H:%M"),
                "enrolled": sum(1 for line in done.lines if not line.already_enrolled),
                "unchanged": sum(1 for line in done.lines if line.already_enrolled),
            }
            page["imported"] = True
    return Template("csv_report.html", context=context(request, **page))


@post("/operator/slot/{enrollment_id:uuid}", sync_to_thread=True)
def book_slot(
    request: Request[Any, Any, Any], enrollment_id: FromPath[UUID], data: Form
) -> Redirect:
    """R2: the hotline books the live-supervision slot agreed with the candidate."""
    support = staff_member(request, Role.SUPPORT, Role.CENTRE)
    platform = platform_of(request)
    try:
        local = datetime.fromisoformat(str(data.get("slot", "")))
    except ValueError:
        raise InvalidArgument("slot", "a date and time such as 2025-03-12T14:00") from None
    slot = local.replace(tzinfo=ZoneInfo(platform.ctx.time_zone))
    enrolment.book_live_supervision_slot(platform.ctx, enrollment_id, slot=slot, booked_by=support)
    return Redirect("/operator")


@post("/operator/mail/{mail_id:uuid}/resend", sync_to_thread=True)
def resend(request: Request[Any, Any, Any], mail_id: FromPath[UUID]) -> Redirect:
    """Send a given-up mail again (after the address was fixed, say): a new attempt."""
    staff_member(request, Role.SUPPORT, Role.CENTRE)
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
    return Redirect("/operator")


@get("/operator/mailbox", sync_to_thread=True)
def mailbox(request: Request[Any, Any, Any]) -> Template:
    """The embedded SMTP capture's mails (local defaults only)."""
    staff_member(request, Role.SUPPORT, Role.CENTRE)
    messages = read_maildir(MAILBOX)[-100:] if MAILBOX.exists() else []
    return Template("mailbox.html", context=context(request, messages=list(reversed(messages))))


ROUTES = [operator_home, enrol_one, enrol_csv, book_slot, resend, mailbox]
