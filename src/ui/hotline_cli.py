"""`vigie hotline`: the hotline's desk from a terminal (issue 13, point 7). The same actions
as the /hotline pages, kept with who acted (`--by`, a support account's e-mail) and why."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO
from uuid import UUID
from zoneinfo import ZoneInfo

from adapters.bootstrap import Platform, Settings, bootstrap
from app.claiming import Unit
from app.person_names import name_in_text
from app.use_cases import hotline
from domain.claims import Claim, ClaimKind, email_claim_id
from domain.errors import InvalidArgument
from domain.guide import Step
from domain.hotline import MailToResend
from domain.staff import Role, StaffMember
from ui.arguments import uuid_argument
from ui.cli_words import ERASED_WORDS
from ui.web.hotline_progress import progress

PHOTOS = {"face": Step.FACE_PHOTO, "id": Step.ID_PHOTO}
MAILS = {"invitation": MailToResend.INVITATION, "log-in": MailToResend.LOG_IN}
# What each history line says (the web page says it in the reader's language).
ACTION_WORDS = {
    "renewed": "session renewed until {day}",
    "slot_booked": "live-supervision slot booked for {moment}",
    "link_sent": "screen-sharing link sent for {moment}",
    "resent_invitation": "invitation sent again",
    "resent_log_in": "log-in mail sent again",
    "unblocked": "unblocked: new log-in link sent",
    "unblocked_left": "unblocked: session recorded as left, new log-in link sent",
    "waived_face_photo": "face photo waived",
    "waived_id_photo": "ID photo waived",
    "technical_problem": "technical problem recorded",
}
# Where the mail an action called for stands, after its line.
MAILED_WORDS = {
    "pending": "mail to the candidate on its way",
    "sent": "mail sent to the candidate",
    "failed": "mail to the candidate given up (vigie mail failed)",
}


def add_parser(commands: Any) -> None:
    desk = commands.add_parser("hotline", help="the hotline's actions for a candidate (support)")
    actions = desk.add_subparsers(dest="hotline_command", required=True)
    find = actions.add_parser("find", help="candidates by e-mail or name")
    find.add_argument("query", help="words of the e-mail, surname or first name")
    show = actions.add_parser("show", help="a candidate's enrolments, sessions and history")
    show.add_argument("candidate_id", type=uuid_argument)

    def acting(name: str, text: str, *, reason: bool = True) -> Any:
        action = actions.add_parser(name, help=text)
        action.add_argument("enrollment_id", type=uuid_argument)
        action.add_argument("--by", required=True, help="your support account's e-mail")
        if reason:
            action.add_argument("--reason", required=True, help="why (kept in the log)")
        return action

    acting("renew", "renew the exam session 15 days, never past day 90 (R3)")
    waive = acting("waive-photo", "let the candidate on without a photo (R9)")
    waive.add_argument("--photo", choices=sorted(PHOTOS), required=True)
    problem = acting("technical-problem", "record a proven technical problem (R20)", reason=False)
    problem.add_argument("--description", required=True, help="what happened")
    book = acting("book-live", "book the live-supervision slot (R2)", reason=False)
    book.add_argument("--slot", required=True, help="centre's local time, e.g. 2025-03-04T14:00")
    book.add_argument("--note", default="", help="a note kept with the booking")
    link = acting("send-live-link", "mail the slot's screen-sharing link (R2)", reason=False)
    link.add_argument("--link", required=True, help="https://…")
    resend = acting("resend", "send the invitation or the log-in mail again")
    resend.add_argument("--mail", choices=sorted(MAILS), required=True)
    acting("unblock", "blocked screen (R23): record it and mail a new log-in link")


def _support(platform: Platform, email: str) -> UUID:
    """The support account named by `--by` (who acts is kept in the log)."""
    claim = Unit(platform.ctx.store).find(email_claim_id(ClaimKind.STAFF_EMAIL, email), Claim)
    staff_id = claim.holder_id if claim else platform.projections.staff_by_email.get(email)
    if staff_id is None:
        raise InvalidArgument("--by", f"no staff account {email!r}")
    if platform.ctx.store.get(staff_id, StaffMember).role is not Role.SUPPORT:
        raise InvalidArgument("--by", f"{email} is not a support (hotline) account")
    return staff_id


def run(settings: Settings, args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    platform = bootstrap(settings)
    try:
        return _run(platform, args, out)
    finally:
        platform.close()


def _run(platform: Platform, args: argparse.Namespace, out: TextIO) -> int:
    ctx = platform.ctx
    command = args.hotline_command
    if command == "find":
        found = hotline.find_candidates(ctx, platform.projections, args.query)
        print(f"{len(found)} candidate(s)", file=out)
        for f in found:
            also = f"  (also enrolled as: {', '.join(f.enrolled_as)})" if f.enrolled_as else ""
            print(f"- {f.candidate_id}  {f.name}  <{f.email}>{also}", file=out)
        return 0 if found else 1
    if command == "show":
        _show(platform, args.candidate_id, out)
        return 0
    by = _support(platform, args.by)
    eid = args.enrollment_id
    times = ctx.times
    if command == "renew":
        day = hotline.renew(ctx, eid, by=by, reason=args.reason)
        print(
            f"renewed: the exam session is valid until {times.format(day, 'en')}; "
            "a worker mails the candidate",
            file=out,
        )
    elif command == "waive-photo":
        step = PHOTOS[args.photo]
        hotline.waive_photo(ctx, eid, step=step, by=by, reason=args.reason)
        print(f"{args.photo} photo waived; the examiner will read why", file=out)
    elif command == "technical-problem":
        hotline.record_technical_problem(ctx, eid, by=by, description=args.description)
        print("technical problem recorded", file=out)
    elif command == "book-live":
        slot = hotline.local_slot(args.slot, ZoneInfo(ctx.time_zone))
        hotline.book_live(ctx, eid, slot=slot, by=by, note=args.note)
        print(f"live-supervision slot booked for {times.format(slot, 'en')}", file=out)
    elif command == "send-live-link":
        hotline.send_live_link(ctx, eid, link=args.link, by=by)
        print("screen-sharing link recorded: a worker mails it", file=out)
    elif command == "resend":
        hotline.resend(ctx, eid, mail=MAILS[args.mail], by=by, reason=args.reason)
        print(f"{args.mail} mail recorded for sending: a worker mails it", file=out)
    elif command == "unblock":
        left = hotline.unblock(ctx, eid, by=by, reason=args.reason)
        state = "session recorded as left; " if left else ""
        print(f"unblocked: {state}a worker mails a new log-in link", file=out)
    return 0


def _show(platform: Platform, candidate_id: UUID, out: TextIO) -> None:
    times = platform.ctx.times
    case = hotline.case_file(platform.ctx, platform.projections, candidate_id)
    c = case.candidate
    if c.erased_at is not None:
        # Her data was erased: said in the command's words, not the log's « [effacé] ».
        erased_on = times.format(c.erased_at, "en", "day")
        print(f"{ERASED_WORDS} (personal data erased on {erased_on})", file=out)
    else:
        name = name_in_text(c.surname, c.first_name)
        print(f"{name} <{c.email}> (mails in {c.language})", file=out)
    for f in case.enrolments:
        e = f.enrollment
        # The page's lines, in the same words (hotline_progress is their one source).
        shown = progress(f, "en", lambda v: times.format(v, "en", "day"))
        state = "expired" if e.expired else shown.state if shown else "invited"
        if c.erased_at is not None:
            state = f"{state}; nothing more happens on it (personal data erased)"
        slot = times.format(e.supervision_slot, "en") if e.live_supervision else ""
        print(
            f"- enrolment {e.id} {e.certification_code}: {state}; last day "
            f"{times.format(e.last_day, 'en')}; session valid until "
            f"{times.format(e.session_valid_until, 'en')}"
            + (f"; live slot {slot}" if slot else ""),
            file=out,
        )
        if shown is not None:
            screen = f" ({shown.screen})" if shown.screen else ""
            print(f"  step: {shown.step}{screen}", file=out)
            if shown.outcome:
                note = f" ({shown.note})" if shown.note else ""
                print(f"  outcome: {shown.outcome}{note}", file=out)
    print(f"{len(case.history)} hotline action(s)", file=out)
    for a in case.history:
        what = ACTION_WORDS[a.kind].format(
            day=times.format(a.day, "en"), moment=times.format(a.moment, "en")
        )
        why = f" — {a.why!r}" if a.why else ""
        mailed = f"; {MAILED_WORDS[a.mail]}" if a.mail in MAILED_WORDS else ""
        print(f"  {times.format(a.at, 'en')}  {what} by {a.by}{why}{mailed}", file=out)
