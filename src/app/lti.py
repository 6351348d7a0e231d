"""LTI 1.3 as a tool (issue 16): registering a platform, the OIDC login initiation, the
launch (a learner enrolled and sent to their session; a teacher's Deep Linking request), the
Deep Linking response and the roster (NRPS). Scores go back in app.lti_scores.

State and nonce: the login initiation makes a nonce and a state that carries it, signed with
the platform's link key and valid ten minutes; the state goes into a cookie of this browser
and to the platform, which sends it back with the id_token. The launch checks the cookie and
the state agree, the signature of the state, and that the id_token carries its nonce. The
nonce is then claimed in the store (domain.claims, kind LTI_NONCE): a second launch with the
same id_token is refused on any process.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID, uuid4

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from app.claiming import Unit, in_one_transaction
from app.context import Context
from app.links import LinkSigner
from app.lti_keys import ALGORITHM, ToolKeys
from app.ports.event_store import AggregateNotFound, ConcurrencyConflict
from app.ports.lti_platform import LtiPlatformClient, PlatformRefused, PlatformUnreachable
from app.use_cases import enrolment
from app.use_cases.enrolment import CandidateDirectory
from domain.bounds import as_a_name
from domain.candidate import Candidate, check_email
from domain.claims import Claim, ClaimKind, Handover, claim_id
from domain.errors import NotAnEmail, RuleBroken
from domain.lti import (
    CLAIM,
    DEEP_LINKING,
    DL_CLAIM,
    LTI_VERSION,
    ROSTER_SCOPE,
    GradeLink,
    Launch,
    LaunchFault,
    LaunchRefused,
    LtiPlatform,
    check_launch,
    grade_link_id,
    lti_user_id,
    nonce_key,
    platform_id,
)
from domain.rules import CURRENT_RULES

STATE_PURPOSE = "lti-state"
STATE_SECONDS = 600
LAUNCH_PATH = "/lti/launch"


@dataclass(frozen=True)
class Registration:
    """What an administrator types to register a platform (or change it). An empty name
    keeps the registered one (the issuer for a new platform)."""

    issuer: str
    client_id: str
    auth_url: str
    token_url: str
    jwks_url: str
    name: str
    deployments: Mapping[str, UUID]


def register_platform(ctx: Context, wanted: Registration) -> tuple[LtiPlatform, bool]:
    """Record a platform's registration, or its new endpoints and deployments; (the
    platform, whether it is new)."""
    for _ in range(5):
        try:
            found = ctx.store.get(platform_id(wanted.issuer, wanted.client_id), LtiPlatform)
            new = False
            found.change_endpoints(
                auth_url=wanted.auth_url, token_url=wanted.token_url, jwks_url=wanted.jwks_url
            )
            if wanted.name:
                found.rename(wanted.name)
        except AggregateNotFound:
            found = LtiPlatform.register(
                issuer=wanted.issuer,
                client_id=wanted.client_id,
                auth_url=wanted.auth_url,
                token_url=wanted.token_url,
                jwks_url=wanted.jwks_url,
                name=wanted.name or wanted.issuer,
                at=ctx.now(),
            )
            new = True
        for deployment, centre in wanted.deployments.items():
            found.map_deployment(deployment_id=deployment, centre_id=centre)
        try:
            ctx.store.save(found)
        except ConcurrencyConflict:
            continue
        return found, new
    raise ConcurrencyConflict("the registration kept changing under us")


def find_platform(ctx: Context, issuer: str, client_id: str) -> LtiPlatform:
    try:
        return ctx.store.get(platform_id(issuer, client_id), LtiPlatform)
    except AggregateNotFound:
        raise LaunchRefused(
            LaunchFault.UNKNOWN_PLATFORM, f"no platform {issuer!r} with client id {client_id!r}"
        ) from None


@dataclass(frozen=True)
class LoginRedirect:
    """Where the browser goes next (the platform's authorisation endpoint) and the state
    the cookie keeps."""

    url: str
    state: str


def initiate_login(
    ctx: Context, links: LinkSigner, params: Mapping[str, str], base_url: str
) -> LoginRedirect:
    """The third-party initiated login (LTI security framework 5.1.1): a nonce and a signed
    state, and the authentication request sent to the platform."""
    issuer, hint = params.get("iss", ""), params.get("login_hint", "")
    client_id = params.get("client_id", "")
    if not issuer or not hint or not client_id:
        raise LaunchRefused(LaunchFault.NOT_LTI, "iss, login_hint and client_id are required")
    platform = find_platform(ctx, issuer, client_id)
    nonce = secrets.token_urlsafe(24)
    expires = int(ctx.clock.now().timestamp()) + STATE_SECONDS
    state = links.sign(STATE_PURPOSE, f"{platform.id.hex}~{nonce}~{expires}")
    query = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": base_url.rstrip("/") + LAUNCH_PATH,
        "login_hint": hint,
        "state": state,
        "nonce": nonce,
    }
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if "?" in platform.auth_url else "?"
    return LoginRedirect(platform.auth_url + separator + urlencode(query), state)


def _state(ctx: Context, links: LinkSigner, state: str, cookie: str | None) -> tuple[UUID, str]:
    """(the platform's id, the nonce) from a state this browser was given and that holds."""
    if not state or not cookie or not secrets.compare_digest(state, cookie):
        raise LaunchRefused(LaunchFault.BAD_STATE, "the state is not the one this browser got")
    try:
        value = links.verify(STATE_PURPOSE, state)
        platform_hex, nonce, expires = value.split("~")
        platform = UUID(hex=platform_hex)
        expiry = int(expires)
    except (RuleBroken, ValueError):
        raise LaunchRefused(LaunchFault.BAD_STATE, "the state was not made by Vigie") from None
    if expiry < ctx.clock.now().timestamp():
        raise LaunchRefused(LaunchFault.EXPIRED, "the log-in took longer than ten minutes")
    return platform, nonce


def _verified_claims(client: LtiPlatformClient, platform: LtiPlatform, token: str) -> Any:
    """The id_token's claims if its RS256 signature holds under the platform's keys (fetched
    again once when the key id is unknown: the platform rotated)."""
    for refresh in (False, True):
        try:
            keys = KeySet.import_key_set(client.key_set(platform.jwks_url, refresh=refresh))  # type: ignore[arg-type]
            return jwt.decode(token, keys, algorithms=[ALGORITHM]).claims
        except (PlatformUnreachable, PlatformRefused) as error:
            raise LaunchRefused(LaunchFault.PLATFORM_UNREACHABLE, str(error)) from None
        except (JoseError, ValueError) as error:
            if refresh:
                raise LaunchRefused(LaunchFault.BAD_SIGNATURE, str(error)) from None
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class VerifiedLaunch:
    platform: LtiPlatform
    launch: Launch
    centre_id: UUID


def verify_launch(
    ctx: Context,
    links: LinkSigner,
    client: LtiPlatformClient,
    *,
    id_token: str,
    state: str,
    cookie_state: str | None,
) -> VerifiedLaunch:
    """Every check of a launch, then its nonce claimed for good (a replay is refused)."""
    platform_ref, nonce = _state(ctx, links, state, cookie_state)
    try:
        platform = ctx.store.get(platform_ref, LtiPlatform)
    except AggregateNotFound:
        raise LaunchRefused(LaunchFault.UNKNOWN_PLATFORM, "the platform is gone") from None
    claims = _verified_claims(client, platform, id_token)
    if not isinstance(claims, dict):
        raise LaunchRefused(LaunchFault.NOT_LTI, "the token holds no claims")
    launch = check_launch(
        claims, issuer=platform.issuer, client_id=platform.client_id, nonce=nonce, now=ctx.now()
    )
    centre = platform.centre_of(launch.deployment_id)
    used = Claim.stake(
        claim_id=claim_id(ClaimKind.LTI_NONCE, nonce_key(platform.issuer, nonce)),
        kind=ClaimKind.LTI_NONCE,
        holder_id=platform.id,
        at=ctx.now(),
    )
    try:
        ctx.store.save(used)
    except ConcurrencyConflict:
        raise LaunchRefused(LaunchFault.REPLAYED_NONCE, "this launch was already used") from None
    if platform.see_context(context_id=launch.context_id, memberships_url=launch.memberships_url):
        # Another launch of the same course may have recorded it first.
        with contextlib.suppress(ConcurrencyConflict):
            ctx.store.save(platform)
    return VerifiedLaunch(platform, launch, centre)


@dataclass(frozen=True)
class LearnerLaunched:
    candidate_id: UUID
    enrollment_id: UUID
    language: str


def launch_learner(
    ctx: Context, directory: CandidateDirectory, verified: VerifiedLaunch
) -> LearnerLaunched:
    """A learner's launch: enrolled for the link's certification by the deployment's centre
    (once: a repeat finds the enrolment under way), the exam session created, and the line
    item recorded where the result goes back."""
    launch = verified.launch
    if not launch.is_learner:
        raise LaunchRefused(LaunchFault.NOT_A_LEARNER, "this link enrols learners")
    if not launch.certification_code:
        raise LaunchRefused(LaunchFault.NO_CERTIFICATION, "the link names no certification")
    try:
        ctx.catalogue.get(launch.certification_code)
    except ValueError:
        raise LaunchRefused(
            LaunchFault.NO_CERTIFICATION, f"no certification {launch.certification_code!r}"
        ) from None
    if not launch.email:
        raise LaunchRefused(LaunchFault.NO_EMAIL, "the platform did not share the e-mail")
    try:
        check_email(launch.email)  # the rule every address entering Vigie meets
    except NotAnEmail as refused:
        raise LaunchRefused(LaunchFault.BAD_EMAIL, f"the platform's e-mail: {refused}") from None
    wanted = enrolment.Enrolment(
        email=launch.email,
        # A learning platform's names are not typed here: what a name may not hold is left
        # out, never a refusal the learner could not act on (a reviewer's: « jean_dupont »).
        surname=as_a_name(launch.family_name or launch.email.split("@")[0]),
        first_name=as_a_name(launch.given_name or "-"),
        certification_code=launch.certification_code,
        language=launch.language,
    )
    at = ctx.now()

    def decide(unit: Unit) -> enrolment.Enrolled:
        enrolled = enrolment.enrol_in(
            unit, ctx, directory, wanted, verified.centre_id, CURRENT_RULES, at
        )
        _bind(unit, verified, enrolled.candidate_id, at)
        person = unit.find(enrolled.candidate_id, Candidate)
        if person is not None and person.link_lti_user(
            issuer=verified.platform.issuer, user_id=launch.user_id, at=at
        ):
            unit.add(person)
        return enrolled

    enrolled = in_one_transaction(ctx, decide)
    enrolment.create_exam_session(ctx, enrolled.enrollment_id)
    if launch.lineitem and launch.score_scope:
        _link_grades(ctx, verified, enrolled.enrollment_id)
    return LearnerLaunched(enrolled.candidate_id, enrolled.enrollment_id, launch.language)


def _bind(unit: Unit, verified: VerifiedLaunch, candidate_id: UUID, at: datetime) -> None:
    """The platform's user and the Vigie account are bound to each other at the first launch
    (two claims, saved with the enrolment); a later launch that would pair either with
    another is refused, and nothing of it is saved."""
    issuer = verified.platform.issuer
    user = lti_user_id(issuer, verified.launch.user_id)
    pairs = (
        (claim_id(ClaimKind.LTI_USER, str(user)), ClaimKind.LTI_USER, candidate_id),
        (
            claim_id(ClaimKind.LTI_ACCOUNT, f"{issuer}\x00{candidate_id}"),
            ClaimKind.LTI_ACCOUNT,
            user,
        ),
    )
    for key, kind, holder in pairs:
        held = unit.find(key, Claim)
        if held is None:
            unit.add(Claim.stake(claim_id=key, kind=kind, holder_id=holder, at=at))
        elif held.holder_id != holder and _erased(unit, held):
            # Issue 8: the person who held it was forgotten; the platform's user may start
            # afresh (the e-mail's claim passed to the new account the same way).
            held.hand_over(holder_id=holder, handover=Handover.HOLDER_ERASED, at=at)
            unit.add(held)
        elif held.holder_id != holder:
            raise LaunchRefused(
                LaunchFault.OTHER_ACCOUNT,
                "this platform's user and this e-mail belong to different Vigie accounts",
            )


def _erased(unit: Unit, held: Claim) -> bool:
    if held.kind is not ClaimKind.LTI_USER:
        return False
    candidate = unit.find(held.holder_id, Candidate)
    return candidate is None or candidate.erased_at is not None


def _link_grades(ctx: Context, verified: VerifiedLaunch, enrollment_id: UUID) -> None:
    for _ in range(5):
        try:
            link = ctx.store.get(grade_link_id(enrollment_id), GradeLink)
            if not link.relink(lineitem=verified.launch.lineitem):
                return
        except AggregateNotFound:
            link = GradeLink.link(
                enrollment_id=enrollment_id,
                platform_id=verified.platform.id,
                lineitem=verified.launch.lineitem,
                at=ctx.now(),
            )
        try:
            ctx.store.save(link)
            return
        except ConcurrencyConflict:
            continue


@dataclass(frozen=True)
class DeepLinkRequest:
    """A teacher's Deep Linking request, kept in their browser's session until they pick."""

    platform_id: str
    deployment_id: str
    return_url: str
    data: str

    @classmethod
    def of(cls, verified: VerifiedLaunch) -> DeepLinkRequest:
        launch = verified.launch
        if launch.message_type != DEEP_LINKING or not launch.deep_link_return_url:
            raise LaunchRefused(LaunchFault.NOT_LTI, "not a Deep Linking request")
        return cls(
            str(verified.platform.id),
            launch.deployment_id,
            launch.deep_link_return_url,
            launch.deep_link_data,
        )


def deep_linking_response(
    ctx: Context, keys: ToolKeys, request: DeepLinkRequest, certification_code: str, base_url: str
) -> str:
    """The signed LtiDeepLinkingResponse: one LTI resource link whose custom parameter names
    the certification, with a line item so the platform makes a grade column for it."""
    certification = ctx.catalogue.get(certification_code)
    platform = ctx.store.get(UUID(request.platform_id), LtiPlatform)
    now = int(ctx.clock.now().timestamp())
    claims: dict[str, Any] = {
        "iss": platform.client_id,
        "aud": platform.issuer,
        "iat": now,
        "exp": now + 600,
        "nonce": uuid4().hex,
        CLAIM + "message_type": "LtiDeepLinkingResponse",
        CLAIM + "version": LTI_VERSION,
        CLAIM + "deployment_id": request.deployment_id,
        DL_CLAIM + "content_items": [
            {
                "type": "ltiResourceLink",
                "title": certification.title,
                "url": base_url.rstrip("/") + LAUNCH_PATH,
                "custom": {"certification": certification.code},
                "lineItem": {
                    "scoreMaximum": 100,
                    "label": certification.title,
                    "resourceId": certification.code,
                },
            }
        ],
    }
    if request.data:
        claims[DL_CLAIM + "data"] = request.data
    return keys.sign(claims)


@dataclass(frozen=True)
class Member:
    user_id: str
    name: str
    email: str
    roles: tuple[str, ...]
    status: str


def read_roster(
    ctx: Context, client: LtiPlatformClient, keys: ToolKeys, platform: LtiPlatform, url: str
) -> list[Member]:
    """A course's members, read with the roster scope (NRPS 2.0)."""
    token = client.access_token(
        platform.token_url,
        keys.client_assertion(platform.client_id, platform.token_url),
        [ROSTER_SCOPE],
    )
    answer = client.memberships(url, token)
    members = answer.get("members") or []
    return [
        Member(
            user_id=str(m.get("user_id", "")),
            name=str(m.get("name", "")),
            email=str(m.get("email", "")),
            roles=tuple(str(r) for r in m.get("roles") or ()),
            status=str(m.get("status", "Active")),
        )
        for m in members
        if isinstance(m, dict)
    ]
