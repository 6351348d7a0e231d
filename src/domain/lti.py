"""LTI 1.3 (issue 16): a learning platform (Moodle, Canvas, Open edX) launches Vigie.

What the domain keeps, as facts in the log:
- `LtiPlatform`: a registered platform (issuer, client id, its endpoints and key set), and
  which of its deployments enrols for which training centre. Its id is derived from the
  issuer and the client id, so a launch finds it without a read model.
- `ToolKeyRing`: Vigie's signing keys as a tool, newest last. The private halves are sealed
  (by the application, with a key of the key store: the log never holds them in clear);
  the last two public halves are published, so a platform that cached the previous key
  still verifies while the new one spreads (rotation).
- `GradeLink`: where an enrolment's result goes back (the line item of the LMS's course),
  recorded at each launch. The person's id on the platform is personal: it is kept sealed in
  their `Candidate` stream (erased with them), never here.
- `ScoreReport`: one result to post to a line item, decided once per decision (a release, an
  appeal decided), then claimed, posted and retried like a mail.

The checks a launch's claims must pass (`check_launch`) are pure: the application verifies
the signature with the platform's key set, then hands the decoded claims here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError, InvalidArgument, require_aware
from domain.rules import utc

# Fixed for ever: changing it would lose every registration, link and score already made.
LTI_NAMESPACE = UUID("0d6c2f4e-8a51-4b7c-9d3e-2f1a6b5c4e70")
KEY_RING_ID = uuid5(LTI_NAMESPACE, "tool-key-ring")
PUBLISHED_KEYS = 2  # the current key and the one before it (rotation)

LTI_VERSION = "1.3.0"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
ROSTER_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
CERTIFICATION_PARAMETER = "certification"  # the resource link's custom parameter
CLOCK_SKEW_S = 60  # an LMS's clock a minute off is still believed


class LaunchFault(StrEnum):
    """Why a launch is refused: each has a sentence for the person (ui/web/lti.py)."""

    BAD_SIGNATURE = "bad-signature"
    WRONG_AUDIENCE = "wrong-audience"
    UNKNOWN_PLATFORM = "unknown-platform"
    UNKNOWN_DEPLOYMENT = "unknown-deployment"
    REPLAYED_NONCE = "replayed-nonce"
    BAD_STATE = "bad-state"
    EXPIRED = "expired"
    NOT_LTI = "not-lti"
    NO_CERTIFICATION = "no-certification"
    NO_EMAIL = "no-email"
    # An address no mailbox has (a NUL, a space, markup): Vigie could not write to the learner
    BAD_EMAIL = "bad-email"
    NOT_A_LEARNER = "not-a-learner"
    NOT_A_TEACHER = "not-a-teacher"
    OTHER_ACCOUNT = "other-account"
    PLATFORM_UNREACHABLE = "platform-unreachable"


class LaunchRefused(DomainError):
    """A launch the tool does not accept; nothing was recorded."""

    def __init__(self, fault: LaunchFault, detail: str) -> None:
        super().__init__(f"{fault.value}: {detail}")
        self.fault = fault
        self.detail = detail


def platform_id(issuer: str, client_id: str) -> UUID:
    """A registration's stream id: one per issuer and client id."""
    return uuid5(LTI_NAMESPACE, f"platform\x00{issuer}\x00{client_id}")


def nonce_key(issuer: str, nonce: str) -> str:
    """What a nonce's single-use claim is keyed on (issuer and nonce, digested)."""
    return hashlib.sha256(f"{issuer}\x00{nonce}".encode()).hexdigest()


def lti_user_id(issuer: str, user_id: str) -> UUID:
    """A platform's user (issuer and `sub`) as an id: what a Vigie account is bound to."""
    return uuid5(LTI_NAMESPACE, f"user\x00{issuer}\x00{user_id}")


def grade_link_id(enrollment_id: UUID) -> UUID:
    """Where an enrolment's grade link is kept."""
    return uuid5(LTI_NAMESPACE, f"grade-link\x00{enrollment_id}")


def score_report_id(cause: str) -> UUID:
    """One score report per decision (`cause`: the event `<stream>/<version>`)."""
    return uuid5(LTI_NAMESPACE, f"score\x00{cause}")


def _required(field: str, value: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise InvalidArgument(field, f"{field} is required")
    if len(cleaned) > 2000:
        raise InvalidArgument(field, f"{field} is longer than 2000 characters")
    return cleaned


def _url(field: str, value: str) -> str:
    cleaned = _required(field, value)
    if not cleaned.startswith(("https://", "http://")):
        raise InvalidArgument(field, f"{field} must be an http(s) address")
    return cleaned


class LtiPlatform(Aggregate):
    """A learning platform registered with Vigie, and its deployments' centres."""

    issuer: str
    client_id: str
    auth_url: str
    token_url: str
    jwks_url: str
    name: str
    deployments: dict[str, UUID]
    # A course's roster address (NRPS) by context id, as its launches gave it.
    contexts: dict[str, str]

    class Registered(Aggregate.Created):
        issuer: str
        client_id: str
        auth_url: str
        token_url: str
        jwks_url: str
        name: str

    class EndpointsChanged(Aggregate.Event):
        auth_url: str
        token_url: str
        jwks_url: str

    class Renamed(Aggregate.Event):
        name: str

    class DeploymentMapped(Aggregate.Event):
        deployment_id: str
        centre_id: UUID

    class ContextSeen(Aggregate.Event):
        context_id: str
        memberships_url: str

    @classmethod
    def register(
        cls,
        *,
        issuer: str,
        client_id: str,
        auth_url: str,
        token_url: str,
        jwks_url: str,
        name: str,
        at: datetime,
    ) -> LtiPlatform:
        """A platform's registration (the store refuses a second one of the same id)."""
        require_aware("at", at)
        issuer, client_id = _url("issuer", issuer), _required("client_id", client_id)
        return cls._create(
            cls.Registered,
            id=platform_id(issuer, client_id),
            timestamp=at,
            issuer=issuer,
            client_id=client_id,
            auth_url=_url("auth_url", auth_url),
            token_url=_url("token_url", token_url),
            jwks_url=_url("jwks_url", jwks_url),
            name=_required("name", name),
        )

    @event(Registered)
    def __init__(
        self, issuer: str, client_id: str, auth_url: str, token_url: str, jwks_url: str, name: str
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.auth_url = auth_url
        self.token_url = token_url
        self.jwks_url = jwks_url
        self.name = name
        self.deployments = {}
        self.contexts = {}

    def change_endpoints(self, *, auth_url: str, token_url: str, jwks_url: str) -> bool:
        """New addresses from the platform's administrator; False when nothing changed."""
        urls = (_url("auth_url", auth_url), _url("token_url", token_url))
        jwks = _url("jwks_url", jwks_url)
        if (*urls, jwks) == (self.auth_url, self.token_url, self.jwks_url):
            return False
        self._endpoints_changed(auth_url=urls[0], token_url=urls[1], jwks_url=jwks)
        return True

    @event(EndpointsChanged)
    def _endpoints_changed(self, auth_url: str, token_url: str, jwks_url: str) -> None:
        self.auth_url, self.token_url, self.jwks_url = auth_url, token_url, jwks_url

    def rename(self, name: str) -> bool:
        """How operators call it from now on; False when it already was."""
        name = _required("name", name)
        if name == self.name:
            return False
        self._renamed(name=name)
        return True

    @event(Renamed)
    def _renamed(self, name: str) -> None:
        self.name = name

    def map_deployment(self, *, deployment_id: str, centre_id: UUID) -> bool:
        """A deployment enrols for this centre; False when it already did."""
        deployment_id = _required("deployment_id", deployment_id)
        if self.deployments.get(deployment_id) == centre_id:
            return False
        self._deployment_mapped(deployment_id=deployment_id, centre_id=centre_id)
        return True

    @event(DeploymentMapped)
    def _deployment_mapped(self, deployment_id: str, centre_id: UUID) -> None:
        self.deployments = {**self.deployments, deployment_id: centre_id}

    def see_context(self, *, context_id: str, memberships_url: str) -> bool:
        """A launch from a course whose roster may be read; False when already known."""
        if not context_id or not memberships_url:
            return False
        memberships_url = _url("memberships_url", memberships_url)
        if self.contexts.get(context_id) == memberships_url:
            return False
        self._context_seen(
            context_id=_required("context_id", context_id), memberships_url=memberships_url
        )
        return True

    @event(ContextSeen)
    def _context_seen(self, context_id: str, memberships_url: str) -> None:
        self.contexts = {**self.contexts, context_id: memberships_url}

    def centre_of(self, deployment_id: str) -> UUID:
        """The centre a deployment enrols for; a launch from another is refused."""
        centre = self.deployments.get(deployment_id)
        if centre is None:
            raise LaunchRefused(
                LaunchFault.UNKNOWN_DEPLOYMENT, f"deployment {deployment_id!r} is not registered"
            )
        return centre


@dataclass(frozen=True)
class ToolKey:
    """One of the tool's signing keys: its id, its public half (a JWK as JSON) and its
    private half sealed by the application."""

    kid: str
    public_jwk: str
    sealed_private: str
    added_at: datetime


class ToolKeyRing(Aggregate):
    """Vigie's signing keys as an LTI tool, oldest first; the last one signs."""

    keys: tuple[ToolKey, ...]

    class Started(Aggregate.Created):
        pass

    class KeyAdded(Aggregate.Event):
        key: ToolKey

    @classmethod
    def start(cls, *, at: datetime) -> ToolKeyRing:
        require_aware("at", at)
        return cls._create(cls.Started, id=KEY_RING_ID, timestamp=at)

    @event(Started)
    def __init__(self) -> None:
        self.keys = ()

    def add(self, key: ToolKey) -> None:
        """A new signing key (a rotation): it signs from now on."""
        if any(k.kid == key.kid for k in self.keys):
            raise InvalidArgument("kid", "a key id is used once")
        self._added(key=key)

    @event(KeyAdded)
    def _added(self, key: ToolKey) -> None:
        self.keys = (*self.keys, key)

    @property
    def current(self) -> ToolKey | None:
        return self.keys[-1] if self.keys else None

    @property
    def published(self) -> tuple[ToolKey, ...]:
        """The public keys a platform may verify with: the current one and the previous."""
        return self.keys[-PUBLISHED_KEYS:]


class GradeLink(Aggregate):
    """Where an enrolment's result goes back: a platform's line item."""

    platform_id: UUID
    lineitem: str

    class Linked(Aggregate.Created):
        platform_id: UUID
        lineitem: str

    class Relinked(Aggregate.Event):
        lineitem: str

    @classmethod
    def link(
        cls, *, enrollment_id: UUID, platform_id: UUID, lineitem: str, at: datetime
    ) -> GradeLink:
        require_aware("at", at)
        return cls._create(
            cls.Linked,
            id=grade_link_id(enrollment_id),
            timestamp=at,
            platform_id=platform_id,
            lineitem=_url("lineitem", lineitem),
        )

    @event(Linked)
    def __init__(self, platform_id: UUID, lineitem: str) -> None:
        self.platform_id = platform_id
        self.lineitem = lineitem

    def relink(self, *, lineitem: str) -> bool:
        """A later launch names another line item; False when it is the same."""
        lineitem = _url("lineitem", lineitem)
        if lineitem == self.lineitem:
            return False
        self._relinked(lineitem=lineitem)
        return True

    @event(Relinked)
    def _relinked(self, lineitem: str) -> None:
        self.lineitem = lineitem


class ScoreStatus(StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    FAILED = "failed"


class ScoreReport(Aggregate):
    """One result to post to a line item, with its attempts (the outbox's discipline)."""

    platform_id: UUID
    lineitem: str
    candidate_id: UUID  # whose id on the platform is read, sealed, from their stream
    score_given: float
    score_maximum: float
    comment: str
    cause: str
    status: ScoreStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str
    claimed_by: str
    lease_until: datetime | None

    class Decided(Aggregate.Created):
        platform_id: UUID
        lineitem: str
        candidate_id: UUID
        score_given: float
        score_maximum: float
        comment: str
        cause: str

    class PostClaimed(Aggregate.Event):
        poster: str
        lease_until: datetime

    class PostFailed(Aggregate.Event):
        attempt: int
        error: str
        retry_at: datetime | None

    class Posted(Aggregate.Event):
        attempt: int

    class GivenUp(Aggregate.Event):
        reason: str

    @classmethod
    def decide(
        cls,
        *,
        link: GradeLink,
        candidate_id: UUID,
        score_given: float,
        score_maximum: float,
        comment: str,
        cause: str,
        at: datetime,
    ) -> ScoreReport:
        """A decision's result, to post once (its id is derived from `cause`)."""
        require_aware("at", at)
        if not 0 <= score_given <= score_maximum or score_maximum <= 0:
            raise InvalidArgument("score_given", "a score lies between 0 and its maximum")
        return cls._create(
            cls.Decided,
            id=score_report_id(cause),
            timestamp=at,
            platform_id=link.platform_id,
            lineitem=link.lineitem,
            candidate_id=candidate_id,
            score_given=float(score_given),
            score_maximum=float(score_maximum),
            comment=comment[:500],
            cause=cause,
        )

    @event(Decided)
    def __init__(
        self,
        platform_id: UUID,
        lineitem: str,
        candidate_id: UUID,
        score_given: float,
        score_maximum: float,
        comment: str,
        cause: str,
        timestamp: datetime,
    ) -> None:
        self.platform_id = platform_id
        self.lineitem = lineitem
        self.candidate_id = candidate_id
        self.score_given = score_given
        self.score_maximum = score_maximum
        self.comment = comment
        self.cause = cause
        self.status = ScoreStatus.PENDING
        self.attempts = 0
        self.next_attempt_at = timestamp
        self.last_error = ""
        self.claimed_by = ""
        self.lease_until = None

    def is_due(self, at: datetime) -> bool:
        """Pending, its time has come, and no poster's claim holds it."""
        return (
            self.status is ScoreStatus.PENDING
            and utc(at) >= utc(self.next_attempt_at)
            and not self.is_claimed(at)
        )

    def is_claimed(self, at: datetime) -> bool:
        return self.lease_until is not None and utc(at) < utc(self.lease_until)

    def claim(self, *, poster: str, at: datetime, lease_until: datetime) -> None:
        """A worker takes the report before posting: the store refuses a second claim of the
        same version, so one worker posts it."""
        require_aware("at", at)
        if not poster or utc(lease_until) <= utc(at) or not self.is_due(at):
            raise InvalidArgument("score", "only a pending, due and unclaimed score is claimed")
        self._claimed(poster=poster, lease_until=lease_until, timestamp=at)

    @event(PostClaimed)
    def _claimed(self, poster: str, lease_until: datetime, timestamp: datetime) -> None:
        self.claimed_by = poster
        self.lease_until = lease_until

    def record_posted(self, *, at: datetime) -> None:
        require_aware("at", at)
        if self.status is ScoreStatus.PENDING:
            self._posted(attempt=self.attempts + 1, timestamp=at)

    @event(Posted)
    def _posted(self, attempt: int, timestamp: datetime) -> None:
        self.attempts = attempt
        self.status = ScoreStatus.POSTED
        self.lease_until = None

    def record_failure(
        self, *, at: datetime, error: str, retry_at: datetime | None, max_attempts: int
    ) -> None:
        """A failed post: retried at `retry_at`, or given up (permanent, or exhausted)."""
        require_aware("at", at)
        if self.status is not ScoreStatus.PENDING:
            return
        attempt = self.attempts + 1
        give_up = retry_at is None or attempt >= max_attempts
        self._failed(attempt=attempt, error=error[:500], retry_at=None if give_up else retry_at)
        if give_up:
            self._given_up(reason="refused" if retry_at is None else f"{attempt} attempts failed")

    @event(PostFailed)
    def _failed(self, attempt: int, error: str, retry_at: datetime | None) -> None:
        self.attempts = attempt
        self.last_error = error
        self.lease_until = None
        if retry_at is not None:
            self.next_attempt_at = retry_at

    @event(GivenUp)
    def _given_up(self, reason: str) -> None:
        self.status = ScoreStatus.FAILED


@dataclass(frozen=True)
class Launch:
    """What a verified launch asks for, in Vigie's words."""

    message_type: str
    deployment_id: str
    user_id: str
    roles: tuple[str, ...]
    email: str
    given_name: str
    family_name: str
    language: str
    certification_code: str
    lineitem: str
    score_scope: bool
    memberships_url: str
    context_id: str
    deep_link_return_url: str
    deep_link_data: str

    @property
    def is_learner(self) -> bool:
        return any(r == LEARNER or r.endswith("#Learner") for r in self.roles)

    @property
    def is_teacher(self) -> bool:
        return any(r == INSTRUCTOR or r.endswith("#Instructor") for r in self.roles)


def language_of(locale: object) -> str:
    """R25: French or English from the LMS's locale (`fr-CA` → fr); French otherwise."""
    return "en" if isinstance(locale, str) and locale.lower().startswith("en") else "fr"


def _text(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name, "")
    return value if isinstance(value, str) else ""


def _object(claims: dict[str, Any], name: str) -> dict[str, Any]:
    value = claims.get(name)
    return value if isinstance(value, dict) else {}


def check_launch(
    claims: dict[str, Any], *, issuer: str, client_id: str, nonce: str, now: datetime
) -> Launch:
    """The checks of the LTI 1.3 core and security framework on an id_token's claims whose
    signature was verified: issuer, audience (and azp), expiry, nonce, version, message type,
    deployment. Refused with the fault named."""
    if claims.get("iss") != issuer:
        raise LaunchRefused(LaunchFault.UNKNOWN_PLATFORM, "the issuer is not this platform")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences or (len(audiences) > 1 and claims.get("azp") != client_id):
        raise LaunchRefused(LaunchFault.WRONG_AUDIENCE, "the token is not meant for Vigie")
    instant = utc(now).timestamp()
    expiry, issued = claims.get("exp"), claims.get("iat")
    if not isinstance(expiry, int | float) or expiry + CLOCK_SKEW_S < instant:
        raise LaunchRefused(LaunchFault.EXPIRED, "the token has expired")
    if not isinstance(issued, int | float) or issued - CLOCK_SKEW_S > instant:
        raise LaunchRefused(LaunchFault.EXPIRED, "the token was issued in the future")
    if not nonce or claims.get("nonce") != nonce:
        raise LaunchRefused(LaunchFault.BAD_STATE, "the nonce is not the one this browser sent")
    message_type = _text(claims, CLAIM + "message_type")
    if _text(claims, CLAIM + "version") != LTI_VERSION or message_type not in (
        RESOURCE_LINK,
        DEEP_LINKING,
    ):
        raise LaunchRefused(LaunchFault.NOT_LTI, "not an LTI 1.3 launch Vigie knows")
    deployment_id = _text(claims, CLAIM + "deployment_id")
    user_id = _text(claims, "sub")
    if not deployment_id or not user_id:
        raise LaunchRefused(LaunchFault.NOT_LTI, "the launch names no deployment or user")
    roles = claims.get(CLAIM + "roles")
    custom = _object(claims, CLAIM + "custom")
    ags = _object(claims, AGS_CLAIM)
    scopes = ags.get("scope")
    nrps = _object(claims, NRPS_CLAIM)
    settings = _object(claims, DL_CLAIM + "deep_linking_settings")
    return Launch(
        message_type=message_type,
        deployment_id=deployment_id,
        user_id=user_id,
        roles=tuple(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else (),
        email=_text(claims, "email"),
        given_name=_text(claims, "given_name"),
        family_name=_text(claims, "family_name"),
        language=language_of(_object(claims, CLAIM + "launch_presentation").get("locale")),
        certification_code=str(custom.get(CERTIFICATION_PARAMETER, "")).strip(),
        lineitem=_text(ags, "lineitem"),
        score_scope=isinstance(scopes, list) and SCORE_SCOPE in scopes,
        memberships_url=_text(nrps, "context_memberships_url"),
        context_id=_text(_object(claims, CLAIM + "context"), "id"),
        deep_link_return_url=_text(settings, "deep_link_return_url"),
        deep_link_data=_text(settings, "data"),
    )
