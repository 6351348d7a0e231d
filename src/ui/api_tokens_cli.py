"""`vigie api-token`: a centre's API tokens from the command line (issue 16), as on the
centre's page. The command acts as the centre's manager it names (their account is recorded
as who issued or revoked the token); the token is printed once."""

from __future__ import annotations

import argparse
from typing import Any, TextIO
from uuid import UUID

from adapters.bootstrap import Settings, bootstrap
from app import integrations
from app.claiming import Unit
from domain.claims import Claim, ClaimKind, email_claim_id
from domain.integrations import LONGEST_TOKEN_DAYS, Scope
from ui.arguments import uuid_argument


def add_parser(commands: Any) -> None:
    tokens = commands.add_parser("api-token", help="a centre's API tokens (machine API)")
    actions = tokens.add_subparsers(dest="token_command", required=True)
    issue = actions.add_parser("issue", help="a new token, printed once")
    issue.add_argument("manager", help="the e-mail of the centre's manager (operator) account")
    issue.add_argument("--name", required=True, help="what the token is for (an LMS, a CRM…)")
    issue.add_argument("--scope", action="append", required=True, choices=[s.value for s in Scope])
    issue.add_argument(
        "--days",
        type=int,
        default=integrations.DEFAULT_TOKEN_DAYS,
        help=f"how long it works (1 to {LONGEST_TOKEN_DAYS} days)",
    )
    revoke = actions.add_parser("revoke", help="the token stops working at once")
    revoke.add_argument("manager", help="the e-mail of the centre's manager (operator) account")
    revoke.add_argument("token_id", type=uuid_argument)
    listing = actions.add_parser("list", help="the centre's tokens (never their secrets)")
    listing.add_argument("manager", help="the e-mail of the centre's manager (operator) account")


def _manager(store: Any, email: str) -> UUID:
    claim = Unit(store).find(email_claim_id(ClaimKind.STAFF_EMAIL, email), Claim)
    if claim is None:
        raise ValueError(f"manager: no staff account {email!r}")
    holder: UUID = claim.holder_id
    return holder


def run(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    platform = bootstrap(settings)
    try:
        ctx = platform.ctx
        manager = _manager(ctx.store, args.manager)
        if args.token_command == "issue":
            if not 1 <= args.days <= LONGEST_TOKEN_DAYS:
                raise ValueError(f"days: from 1 to {LONGEST_TOKEN_DAYS}")
            issued = integrations.issue_token(
                ctx,
                manager,
                name=args.name,
                scopes=tuple(Scope(s) for s in args.scope),
                valid_days=args.days,
            )
            print(
                f"token {issued.token_id}, until {ctx.times.format(issued.expires_at)}:", file=out
            )
            print(issued.token, file=out)
            print("(shown once: only its SHA-256 is kept)", file=out)
            return 0
        if args.token_command == "revoke":
            integrations.revoke_token(ctx, manager, args.token_id)
            print(f"token {args.token_id} revoked", file=out)
            return 0
        found = integrations.integrations_of(ctx, integrations.centre_manager(ctx, manager))
        tokens = sorted(found.tokens.values(), key=lambda t: t.issued_at) if found else []
        print(f"{len(tokens)} token(s)", file=out)
        now = ctx.now()
        for token in tokens:
            state = token.state(now)
            print(
                f"- {token.token_id} {token.name!r} {' '.join(s.value for s in token.scopes)}; "
                f"until {ctx.times.format(token.expires_at)}; "
                f"{state.value if state else 'active'}",
                file=out,
            )
        return 0
    finally:
        platform.close()
