"""`vigie lti` (issue 16): learning platforms registered with Vigie as an LTI 1.3 tool.

- `register`: a platform's issuer, client id, endpoints and key set, and which deployment
  enrols for which centre (a centre operator's e-mail, or the centre's id); again with new
  values to change them. Recorded in the log (domain.lti.LtiPlatform).
- `platforms`: what is registered (from the read models: each platform, its deployments), and
  the addresses to give the platform.
- `rotate-key`: a new signing key; the previous one stays published until the next rotation.
- `scores`: the results sent back (pending, posted, or given up and why).
- `roster`: the members of the courses Vigie was launched from (NRPS), read from the platform.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO
from uuid import UUID

from adapters.bootstrap import Platform, Settings, bootstrap
from app import lti
from app.claiming import Unit
from app.ports.lti_platform import PlatformRefused, PlatformUnreachable
from app.tenancy import centre_of_operator
from domain.claims import Claim, ClaimKind, email_claim_id
from domain.errors import InvalidArgument
from domain.lti import LaunchRefused, LtiPlatform


def add_parser(commands: Any) -> None:
    tool = commands.add_parser("lti", help="learning platforms launching Vigie (LTI 1.3)")
    actions = tool.add_subparsers(dest="lti_command", required=True)
    register = actions.add_parser("register", help="register a platform, or change it")
    register.add_argument("--issuer", required=True, help="the platform's issuer (its URL)")
    register.add_argument("--client-id", required=True, help="the client id it gave Vigie")
    register.add_argument("--auth-url", required=True, help="its OIDC authorisation endpoint")
    register.add_argument("--token-url", required=True, help="its OAuth 2 token endpoint")
    register.add_argument("--jwks-url", required=True, help="its public key set")
    register.add_argument(
        "--name", default="", help="how operators call it (default: the issuer; kept when changing)"
    )
    register.add_argument(
        "--deployment",
        action="append",
        default=[],
        metavar="ID=CENTRE",
        help="a deployment id and the centre it enrols for (operator's e-mail or centre id)",
    )
    actions.add_parser("platforms", help="the registered platforms and Vigie's addresses")
    actions.add_parser("rotate-key", help="a new signing key (the previous stays published)")
    scores = actions.add_parser("scores", help="results sent back to platforms (AGS)")
    scores.add_argument(
        "which", choices=["pending", "posted", "failed"], nargs="?", default="failed"
    )
    roster = actions.add_parser("roster", help="the members of a course (NRPS)")
    roster.add_argument("--issuer", required=True)
    roster.add_argument("--client-id", required=True)
    roster.add_argument("--context", default="", help="one course's id (all by default)")


def _centre(platform: Platform, value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        pass
    try:
        claim_id = email_claim_id(ClaimKind.STAFF_EMAIL, value)
    except InvalidArgument:
        raise ValueError(
            f"deployment: {value!r} is neither a centre operator's e-mail nor a centre id"
        ) from None
    claim = Unit(platform.ctx.store).find(claim_id, Claim)
    if claim is None:
        raise ValueError(f"deployment: no centre operator {value!r} (an e-mail or a centre id)")
    return centre_of_operator(claim.holder_id)


def _addresses(platform: Platform, out: TextIO) -> None:
    base = platform.links.base_url
    print(f"  tool's login initiation URL: {base}/lti/login", file=out)
    print(f"  tool's redirection (launch) URL: {base}/lti/launch", file=out)
    print(f"  tool's public key set URL: {base}/lti/jwks", file=out)


def _platforms(platform: Platform, out: TextIO) -> None:
    """Each registered platform: its name, issuer, client id and deployments' centres."""
    issuers = platform.projections.lti_platforms
    ids = sorted(issuers, key=lambda i: issuers[i])
    found = platform.ctx.store.get_many(ids, LtiPlatform)
    print(f"{len(found)} platform(s) registered", file=out)
    for registered in (found[i] for i in ids if i in found):
        print(
            f"- {registered.name}: issuer {registered.issuer}, client id {registered.client_id}",
            file=out,
        )
        for deployment, centre in sorted(registered.deployments.items()):
            print(f"  deployment {deployment} enrols for centre {centre}", file=out)


def _scores(platform: Platform, which: str, out: TextIO) -> int:
    """The score reports in one state (given-up ones by default: what an operator must see)."""
    reports = [s for s in platform.projections.scores.values() if s.status.value == which]
    print(f"{len(reports)} {which} score report(s)", file=out)
    for report in sorted(reports, key=lambda r: r.decided_at):
        decided = platform.ctx.times.format(report.decided_at)
        print(
            f"- {report.report_id} decided {decided}, {report.attempts} attempt(s); "
            f"cause {report.cause}; {report.last_error or 'no error'}",
            file=out,
        )
    return 0


def run(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    platform = bootstrap(settings)
    try:
        if args.lti_command == "register":
            deployments: dict[str, UUID] = {}
            for item in args.deployment:
                deployment, _, centre = item.partition("=")
                if not deployment or not centre:
                    raise ValueError(f"deployment: ID=CENTRE, not {item!r}")
                deployments[deployment] = _centre(platform, centre)
            registered, new = lti.register_platform(
                platform.ctx,
                lti.Registration(
                    issuer=args.issuer,
                    client_id=args.client_id,
                    auth_url=args.auth_url,
                    token_url=args.token_url,
                    jwks_url=args.jwks_url,
                    name=args.name,
                    deployments=deployments,
                ),
            )
            print(
                f"{'registered' if new else 'updated'}: {registered.name} ({registered.id})",
                file=out,
            )
            operated = {centre_of_operator(s) for s in platform.projections.staff_by_email.values()}
            for deployment, centre in registered.deployments.items():
                print(f"  deployment {deployment} enrols for centre {centre}", file=out)
                if centre not in operated:
                    print(
                        f"  warning: no centre operator's account works for centre {centre}: "
                        "no centre will see these enrolments (give an operator's e-mail)",
                        file=out,
                    )
            _addresses(platform, out)
            return 0
        if args.lti_command == "platforms":
            _platforms(platform, out)
            keys = platform.lti_keys.jwks()["keys"]
            print(f"published keys: {', '.join(k['kid'] for k in keys)}", file=out)
            _addresses(platform, out)
            return 0
        if args.lti_command == "rotate-key":
            key = platform.lti_keys.rotate()
            print(
                f"new signing key {key.kid}; published: {len(platform.lti_keys.jwks()['keys'])}",
                file=out,
            )
            return 0
        if args.lti_command == "scores":
            return _scores(platform, args.which, out)
        found = lti.find_platform(platform.ctx, args.issuer, args.client_id)
        contexts = {
            c: u for c, u in found.contexts.items() if not args.context or c == args.context
        }
        if not found.contexts:
            raise ValueError("context: no course of this platform has launched Vigie yet")
        if not contexts:
            known = ", ".join(sorted(found.contexts))
            raise ValueError(
                f"context: no course {args.context!r} has launched Vigie from this platform "
                f"(courses: {known})"
            )
        for context_id, url in sorted(contexts.items()):
            members = lti.read_roster(
                platform.ctx, platform.lti_client, platform.lti_keys, found, url
            )
            print(f"course {context_id}: {len(members)} member(s)", file=out)
            for m in members:
                roles = ", ".join(r.rsplit("#", 1)[-1] for r in m.roles)
                print(f"  {m.name or m.user_id}\t{m.email}\t{roles}\t{m.status}", file=out)
        return 0
    except LaunchRefused as refused:
        raise ValueError(refused.detail) from None
    except (PlatformUnreachable, PlatformRefused) as error:
        raise ValueError(f"platform: {error}") from None
    finally:
        platform.close()
