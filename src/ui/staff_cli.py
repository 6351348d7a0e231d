"""`vigie staff`: staff accounts from the command line.

- `add`: a platform deployed without demo data (issue 15) starts with no account at all; its
  operator creates the first ones here. The password is typed twice at a prompt, or read from
  standard input (`--password-stdin`, for scripts), never taken as an argument (it would show
  in the shell's history and in `ps`).
- `reset-second-factor` (issue 14): a lost second factor is removed (log-in asks for the
  password alone until they enable one again) and every session of theirs ends, in case the
  lost phone or a session went with it."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any, TextIO

from adapters.bootstrap import Settings, bootstrap
from app.claiming import Unit
from app.passwords import MIN_LENGTH
from app.sessions import staff_account
from app.use_cases import accounts
from domain.claims import Claim, ClaimKind, email_claim_id
from domain.staff import Role


def add_parser(commands: Any) -> None:
    staff = commands.add_parser("staff", help="a member of staff's log-in (support)")
    actions = staff.add_subparsers(dest="staff_command", required=True)
    reset = actions.add_parser(
        "reset-second-factor",
        help="remove a lost second factor (TOTP) and end every session of that member",
    )
    reset.add_argument("email", help="the member's e-mail address")
    add = actions.add_parser("add", help="create a staff account (the first ones of a platform)")
    add.add_argument("email", help="the member's e-mail address (their log-in)")
    add.add_argument("--name", required=True, help="the name shown to colleagues")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--language", default="fr", choices=["fr", "en"])
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )


def run(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    if args.staff_command == "add":
        return _add(settings, args, out)
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


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise ValueError("password: the two passwords differ")
    return first


def _add(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    """One staff account; an address that already has one is said, and left unchanged."""
    password = _password(args.password_stdin)
    if len(password) < MIN_LENGTH:
        raise ValueError(f"password: at least {MIN_LENGTH} characters")
    platform = bootstrap(settings)
    try:
        email = args.email.strip().lower()
        existing = Unit(platform.ctx.store).find(
            email_claim_id(ClaimKind.STAFF_EMAIL, email), Claim
        )
        if existing is not None:
            print(f"{email} already has an account: nothing changed", file=out)
            return 1
        accounts.register_staff(
            platform.ctx,
            email=email,
            name=args.name,
            role=Role(args.role),
            language=args.language,
            password=password,
        )
        print(f"{email}: {args.role} account created; log in at /staff/login", file=out)
        return 0
    finally:
        platform.close()
