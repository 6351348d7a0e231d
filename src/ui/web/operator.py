"""Operator pages (training centre and support): enrol one by one or by CSV, see each
candidate's state, book a live-supervision slot, resend a mail, read the captured mailbox."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
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
from domain.outbound_mail import MailStatus, OutboundMail
from domain.staff import Role
from ui.web.candidate import Form, Multipart, context, platform_of
from ui.web.examiner import staff_member

MAILBOX = Path("vigie-data/mailbox")
CSV_COLUMNS = ("email", "surname", "first_name", "certification_code", "language")
MAX_CSV_LINES = 5000


@dataclass(frozen=True)
class LineReport:
    """One CSV line's outcome: what would be (or was) done, or why it is refused."""

    line: int
    email: str
    error: str = ""


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
            can_watch=request.session.get("role") == Role.SUPPORT.value,
        ),
    )


@post("/operator/enrol", sync_to_thread=True)
def enrol_one(request: Request[Any, Any, Any], data: Form) -> Redirect:
    """A training centre enrols one candidate (the invitation mail follows)."""
    centre = _centre(request)
    platform = platform_of(request)
    enrolment.enrol_candidate(
        platform.ctx,
        platform.projections,
        centre_id=centre,
        email=str(data.get("email", "")),
        surname=str(data.get("surname", "")),
        first_name=str(data.get("first_name", "")),
        certification_code=str(data.get("certification_code", "")),
        language=str(data.get("language", "fr")) or "fr",
    )
    return Redirect("/operator")


def check_csv(text: str, known_codes: set[str]) -> tuple[list[dict[str, str]], list[LineReport]]:
    """Every line checked before anything is recorded: nothing half-imported."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS[:4] if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidArgument("csv", f"missing column(s): {', '.join(missing)}")
    rows, reports, seen = [], [], set()
    for number, row in enumerate(reader, start=2):
        if number > MAX_CSV_LINES + 1:
            raise InvalidArgument("csv", f"at most {MAX_CSV_LINES} lines per file")
        email = (row.get("email") or "").strip()
        error = ""
        try:
            email = check_email(email)
            if email in seen:
                error = "this address appears twice in the file"
            elif (
                not (row.get("surname") or "").strip() or not (row.get("first_name") or "").strip()
            ):
                error = "surname and first_name are required"
            elif row.get("certification_code", "").strip() not in known_codes:
                error = f"unknown certification {row.get('certification_code')!r}"
            elif (row.get("language") or "fr").strip() not in ("fr", "en"):
                error = "language is fr or en"
        except DomainError as refused:
            error = str(refused)
        seen.add(email)
        reports.append(LineReport(number, email, error))
        rows.append({k: (row.get(k) or "").strip() for k in CSV_COLUMNS})
    return rows, reports


@post("/operator/enrol-csv", sync_to_thread=True)
def enrol_csv(request: Request[Any, Any, Any], data: Multipart) -> Template:
    """Enrol a whole file, or nothing when any line is wrong (with a per-line report)."""
    centre = _centre(request)
    platform = platform_of(request)
    upload = data.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidArgument("file", "a CSV file is required")
    try:
        text = upload.file.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidArgument("file", "the CSV must be UTF-8") from None
    codes = {c.code for c in platform.ctx.catalogue}
    rows, reports = check_csv(text, codes)
    if not any(r.error for r in reports):
        for row in rows:
            enrolment.enrol_candidate(
                platform.ctx,
                platform.projections,
                centre_id=centre,
                email=row["email"],
                surname=row["surname"],
                first_name=row["first_name"],
                certification_code=row["certification_code"],
                language=row["language"] or "fr",
            )
            platform.projections.catch_up(platform.ctx.store)
    return Template(
        "csv_report.html",
        context=context(request, reports=reports, imported=not any(r.error for r in reports)),
    )


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
