"""`vigie staff`: support's help with a member of staff's log-in (issue 14): a lost second
factor is removed (log-in asks for the password alone until they enable one again) and every
session of theirs ends, in case the lost phone or a session went with it."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from adapters.bootstrap import Settings, bootstrap
from app.claiming import Unit
from app.sessions import staff_account
from domain.claims import Claim, ClaimKind, email_claim_id


def add_parser(commands: Any) -> None:
    staff = commands.add_parser("staff", help="a member of staff's log-in (support)")
    actions = staff.add_subparsers(dest="staff_command", required=True)
    reset = actions.add_parser(
        "reset-second-factor",
        help="remove a lost second factor (TOTP) and end every session of that member",
    )
    reset.add_argument("email", help="the member's e-mail address")


def run(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    platform = bootstrap(settings)
    try:
        claim = Unit(platform.ctx.store).find(
            email_claim_id(ClaimKind.STAFF_EMAIL, args.email), Claim
        )
        staff_id = (
            claim.holder_id
            if claim
            else platform.projections.staff_by_email.get(args.email.strip().lower())
        )
        if staff_id is None:
            raise ValueError(f"email: no staff account {args.email!r}")
        removed = platform.sessions.remove_second_factor(staff_id)
        ended = platform.sessions.end_account(staff_account(staff_id))
        state = "removed" if removed else "none was enabled"
        print(f"{args.email}: second factor {state}; {ended} session(s) ended", file=out)
        return 0
    finally:
        platform.close()
