"""`vigie staff`: staff accounts from the command line.

- `add`: a platform deployed without demo data (issue 15) starts with no account at all; its
  operator creates the first ones here. The password is typed twice at a prompt, or read from
  standard input (`--password-stdin`, for scripts), never taken as an argument (it would show
  in the shell's history and in `ps`).
- `reset-password`: a member who lost their password (or set one the log-in page could not
  take) gets a new one from an administrator, typed as for `add`; it is recorded as the
  administrator's act, never as the member's own change (years later the log tells which),
  and every session of theirs ends. Staff have no « forgot password » mail: this is the way
  back the log-in page points them to.
- `reset-second-factor` (issue 14): a lost second factor is removed (log-in asks for the
  password alone until they enable one again), recorded as the administrator's act, and
  every session of theirs ends, in case the lost phone or a session went with it. A member
  with none enabled is said so, and nothing changes (their sessions go on).

Both record who the administrator is: the name they give with `--by` (optional) and always
the machine's account the command ran as (« root@vigie-1 », with the person behind `sudo`)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any, TextIO
from uuid import UUID

from adapters.bootstrap import Platform, Settings, bootstrap
from app.claiming import Unit
from app.passwords import check_password
from app.use_cases import accounts
from domain.claims import Claim, ClaimKind, email_claim_id
from domain.operator import check_operator
from domain.staff import Role, StaffMember
from ui.operator import by_argument, system_account


def add_parser(commands: Any) -> None:
    staff = commands.add_parser("staff", help="a member of staff's log-in (support)")
    actions = staff.add_subparsers(dest="staff_command", required=True)
    reset = actions.add_parser(
        "reset-second-factor",
        help="remove a lost second factor (TOTP) and end every session of that member",
    )
    reset.add_argument("email", help="the member's e-mail address")
    by_argument(reset)
    password = actions.add_parser(
        "reset-password",
        help="give a member who lost their password a new one and end every session of theirs",
    )
    password.add_argument("email", help="the member's e-mail address (their log-in)")
    by_argument(password)
    password.add_argument(
        "--password-stdin", action="store_true", help="read the new password from standard input"
    )
    password.add_argument(
        "--force",
        action="store_true",
        help="set one even for a member who signs in through the organisation's provider "
        "(single sign-on): the password then bypasses the provider's own checks",
    )
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
    if args.staff_command == "reset-password":
        return _reset_password(settings, args, out)
    platform = bootstrap(settings)
    try:
        staff_id = _member(platform, args.email)
        by, account = check_operator(args.by, system_account())
        ended = accounts.reset_staff_second_factor(
            platform.ctx, staff_id, by=by, system_account=account
        )
        if ended is None:
            # A factor being set up (not confirmed) is not asked for at log-in: left as it is.
            print(f"{args.email} had no second factor; nothing changed", file=out)
            return 1
        print(f"{args.email}: second factor removed; {ended} session(s) ended", file=out)
        return 0
    finally:
        platform.close()


def _member(platform: Platform, email: str) -> UUID:
    """The staff account of that address (ValueError naming it otherwise)."""
    claim = Unit(platform.ctx.store).find(email_claim_id(ClaimKind.STAFF_EMAIL, email), Claim)
    if claim is not None:
        return claim.holder_id
    platform.projections.catch_up(platform.ctx.store)
    staff_id = platform.projections.staff_by_email.get(email.strip().lower())
    if staff_id is None:
        raise ValueError(f"email: no staff account {email!r}")
    return staff_id


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        # A provisioning script, ssh without -t, a container run without -it: getpass
        # warned that the password would be echoed, then ended in an EOFError traceback
        # (an operator's review).
        raise ValueError(
            "no terminal to ask the password on: give it on standard input with "
            "--password-stdin (`printf '%s\\n' \"$PASSWORD\" | vigie staff ... --password-stdin`)"
        )
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise ValueError("password: the two passwords differ")
    return first


def _reset_password(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    """A new password for an existing member (never shown): their sessions end."""
    platform = bootstrap(settings)
    try:
        staff_id = _member(platform, args.email)  # an unknown address before the prompt
        by, account = check_operator(args.by, system_account())  # and a --by it cannot keep
        member = platform.ctx.store.get(staff_id, StaffMember)
        if member.identities and not args.force:
            # A reviewer's: a Vigie password beside the provider's would skip its second
            # factor and its leavers' list. Asked for by name, never by default.
            raise ValueError(
                f"email: {args.email} signs in through the organisation's provider "
                f"({', '.join(sorted(member.identities))}): a Vigie password would bypass its "
                "checks; restore the access there, or give --force to set one anyway"
            )
        password = check_password(_password(args.password_stdin))
        ended = accounts.reset_staff_password(
            platform.ctx, staff_id, new=password, by=by, system_account=account
        )
        print(
            f"{args.email}: password replaced; {ended} session(s) ended; they log in at "
            "/staff/login with it, then may change it at /staff/security",
            file=out,
        )
        return 0
    finally:
        platform.close()


def _add(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    """One staff account; an address that already has one is said, and left unchanged."""
    password = check_password(_password(args.password_stdin))
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
