"""A training centre's machine access (issue 16): API tokens and webhook subscriptions.

One stream per centre (`integrations_id`), so listing a centre's tokens or subscribers needs no
read model and every issue, revocation and subscription is a fact in its log: the audit trail
says who let which machine in, with which rights, and when it was shut out.

A token is `vigie_<token id>_<secret>`: the id finds it, the secret proves it. Only a digest
of the secret is recorded (the application hashes it; a high-entropy secret needs no slow
hash), so neither the log nor a backup lets anyone call the API. A webhook's signing secret is
never recorded either: the application derives it from the platform's key and the
subscription's id (app.integrations)."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.access import OutOfReach
from domain.bounds import LIMITS
from domain.errors import DomainError, InvalidArgument, Required, TooLong, require_aware
from domain.internal_network import (
    NONE_ALLOWED,
    AllowedNetworks,
    literal_address,
    plain,
)
from domain.rules import utc

# Fixed for ever: changing it would lose every centre's tokens and subscriptions.
INTEGRATIONS_NAMESPACE = UUID("3f7c2d1e-8b4a-4e6f-9c2d-5a1b7e3f9d20")
LONGEST_TOKEN_DAYS = 366  # a token always expires: at most a year, then a new one
NAME_LENGTH = LIMITS["token_name"]  # the page's maxlength and its refusal say the same
URL_LENGTH = 500
# http(s), a host (a name, IPv4 or [IPv6]), an optional port, then no space: no user or
# password before the host (they would be shown on the centre's page and kept in the log).
_URL = re.compile(r"^https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?(?:[/?#]\S*)?$")
_SCHEME = re.compile(r"^https?://", re.IGNORECASE)


class UrlProblem(StrEnum):
    """What is wrong with a webhook's address, for the page to say it (not only « check »)."""

    REQUIRED = "required"
    TOO_LONG = "too_long"
    SCHEME = "scheme"  # not http:// or https://
    CREDENTIALS = "credentials"  # a user or password before the host
    SPACE = "space"
    HOST = "host"  # no host, or one with characters a host name cannot hold
    INTERNAL = "internal"  # the platform's own network (domain.internal_network)


class BadUrl(InvalidArgument):
    """A webhook address refused, with what is wrong with it (`problem`); for an internal
    one, its host as typed and, when written as an address, that address (`0x7f.1` is
    127.0.0.1)."""

    def __init__(
        self, problem: UrlProblem, message: str, host: str = "", address: str = ""
    ) -> None:
        super().__init__("url", message)
        self.problem = problem
        self.host = host
        self.address = address


class FormUsedAlready(InvalidArgument):
    """A token form sent again, but not as it was: other fields, or by another member of
    staff, or with another secret. The form made `token` already; nothing more is made, and
    no secret is given back (a manager who went Back and ticked a write scope must not
    believe they hold it)."""

    def __init__(self, token: ApiToken) -> None:
        super().__init__("token_id", "this token was issued already, otherwise")
        self.token = token


class Scope(StrEnum):
    """What a token lets a machine do, for its centre only."""

    ENROLMENTS_WRITE = "enrolments:write"  # enrol candidates
    RESULTS_READ = "results:read"  # read an enrolment's session, status and result


class WebhookEvent(StrEnum):
    """What a centre's machines may be told about, as the webhook's `type` names it."""

    SESSION_CREATED = "session.created"
    EXAM_SUBMITTED = "exam.submitted"
    DECISION_RELEASED = "decision.released"
    APPEAL_DECIDED = "appeal.decided"


class TokenRefusal(StrEnum):
    """Why a token was refused (the API names it in its 401 or 403)."""

    MISSING = "missing"  # no `Authorization: Bearer` header
    UNKNOWN = "unknown"  # no such token, or the secret does not match
    REVOKED = "revoked"
    EXPIRED = "expired"
    OUT_OF_SCOPE = "out_of_scope"


class TokenRefused(DomainError):
    """TOKEN-VALID / TOKEN-SCOPE: the token may not do this (the reason says why)."""

    def __init__(self, reason: TokenRefusal, scope: Scope | None = None) -> None:
        super().__init__(f"token refused: {reason.value}")
        self.reason = reason
        self.scope = scope


def integrations_id(centre_id: UUID) -> UUID:
    """The stream of a centre's tokens and webhooks."""
    return uuid5(INTEGRATIONS_NAMESPACE, f"centre-integrations:{centre_id}")


@dataclass(frozen=True)
class ApiToken:
    """A token as the centre's page lists it (its secret is never kept)."""

    token_id: UUID
    name: str
    scopes: tuple[Scope, ...]
    secret_digest: str
    issued_at: datetime
    expires_at: datetime
    issued_by: UUID
    revoked_at: datetime | None = None
    revoked_by: UUID | None = None

    @property
    def short_id(self) -> str:
        """What the centre's table and the new token's notice name it by: the first 8 hex
        digits of its id, as they are in the token (`vigie_<centre>_<id>_…`)."""
        return self.token_id.hex[:8]

    def state(self, at: datetime) -> TokenRefusal | None:
        """None while it works; why not otherwise."""
        if self.revoked_at is not None:
            return TokenRefusal.REVOKED
        if utc(at) >= utc(self.expires_at):
            return TokenRefusal.EXPIRED
        return None


@dataclass(frozen=True)
class WebhookSubscription:
    """Where a centre's machines are told about its events."""

    subscription_id: UUID
    url: str
    events: tuple[WebhookEvent, ...]
    subscribed_at: datetime
    subscribed_by: UUID
    removed_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.removed_at is None


def check_url(url: str, allowed: AllowedNetworks = NONE_ALLOWED) -> str:
    """A webhook's address: http(s), a host, no credentials in it (they would be shown on the
    centre's page and in the log), and no host of the platform's internal network unless
    the operator `allowed` it: an address in any form a resolver reads (`127.0.0.1`,
    `2130706433`, `[::ffff:10.0.0.1]`) or a name that never leads outside (`localhost`,
    `metadata.google.internal`). Names are not resolved here: the delivery checks what
    they resolve to."""
    url = url.strip()
    if not url:
        raise BadUrl(UrlProblem.REQUIRED, "an address is required")
    if len(url) > URL_LENGTH:
        raise BadUrl(UrlProblem.TOO_LONG, f"at most {URL_LENGTH} characters")
    if not _SCHEME.match(url):
        raise BadUrl(UrlProblem.SCHEME, "an http:// or https:// address")
    if any(c.isspace() for c in url):
        raise BadUrl(UrlProblem.SPACE, "no space in an address")
    authority = re.split(r"[/?#]", url.split("://", 1)[1], maxsplit=1)[0]
    if "@" in authority:
        raise BadUrl(UrlProblem.CREDENTIALS, "no user or password before the host")
    if not _URL.match(url):
        raise BadUrl(UrlProblem.HOST, "a host name, an IPv4 address or an [IPv6] one")
    host = _host(authority)
    try:
        address = literal_address(host)
    except ValueError:  # [no IPv6 inside], or NotAnAddress: a number that is no address
        raise BadUrl(UrlProblem.HOST, "a host name, an IPv4 address or an [IPv6] one") from None
    if address is None and any(not label for label in host.removesuffix(".").split(".")):
        raise BadUrl(UrlProblem.HOST, "a host name, an IPv4 address or an [IPv6] one")
    internal = allowed.refuses(address) if address is not None else allowed.refuses_name(host)
    if internal:
        raise BadUrl(
            UrlProblem.INTERNAL,
            f"{host} is in the platform's internal network",
            host=host,
            address="" if address is None else str(plain(address)),
        )
    return url


def _host(authority: str) -> str:
    """The host of a URL's authority, without its port (an IPv6 one keeps its brackets)."""
    if authority.startswith("["):
        return authority[: authority.index("]") + 1]
    return authority.rsplit(":", 1)[0] if ":" in authority else authority


def check_name(name: str) -> str:
    """A token's name, 1 to NAME_LENGTH characters once trimmed: empty, or too long with
    the numbers for the page to say them (TooLong)."""
    name = name.strip()
    if not name:
        raise Required("name")
    if len(name) > NAME_LENGTH:
        raise TooLong("name", NAME_LENGTH, len(name))
    return name


class CentreIntegrations(Aggregate):
    """A centre's API tokens and webhook subscriptions."""

    centre_id: UUID
    tokens: dict[UUID, ApiToken]
    subscriptions: dict[UUID, WebhookSubscription]

    class IntegrationsOpened(Aggregate.Created):
        centre_id: UUID

    class ApiTokenIssued(Aggregate.Event):
        token_id: UUID
        name: str
        scopes: tuple[Scope, ...]
        secret_digest: str
        expires_at: datetime
        issued_by: UUID

    class ApiTokenRevoked(Aggregate.Event):
        token_id: UUID
        revoked_by: UUID

    class WebhookSubscribed(Aggregate.Event):
        subscription_id: UUID
        url: str
        events: tuple[WebhookEvent, ...]
        subscribed_by: UUID

    class WebhookRemoved(Aggregate.Event):
        subscription_id: UUID
        removed_by: UUID

    @classmethod
    def open(cls, *, centre_id: UUID, at: datetime) -> CentreIntegrations:
        """A centre's integrations, before its first token or subscription."""
        require_aware("at", at)
        return cls._create(
            cls.IntegrationsOpened, id=integrations_id(centre_id), timestamp=at, centre_id=centre_id
        )

    @event(IntegrationsOpened)
    def __init__(self, centre_id: UUID) -> None:
        self.centre_id = centre_id
        self.tokens = {}
        self.subscriptions = {}

    # --- tokens ---

    def issue_token(
        self,
        *,
        token_id: UUID,
        name: str,
        scopes: tuple[Scope, ...],
        secret_digest: str,
        expires_at: datetime,
        issued_by: UUID,
        at: datetime,
    ) -> ApiToken:
        """A centre's manager lets a machine in, with these scopes, until `expires_at`; the
        token issued. Idempotent: a token id issued already, by this member of staff, with
        this secret, name, scopes and validity (the same form sent twice, a double click or
        a reload: the application derives id and secret from the form's one-time nonce)
        records nothing and answers that token, so one form makes one token whatever the
        browser sends. The same id sent otherwise (other fields after going Back, or by
        someone else) is `FormUsedAlready`: never another token's secret under new words."""
        require_aware("at", at)
        already = self.tokens.get(token_id)
        if already is not None:
            same = (
                hmac.compare_digest(already.secret_digest, secret_digest)
                and already.issued_by == issued_by
                and already.name == name.strip()
                and set(already.scopes) == set(scopes)
                and utc(already.expires_at) - utc(already.issued_at) == utc(expires_at) - utc(at)
            )
            if not same:
                raise FormUsedAlready(already)
            return already
        require_aware("expires_at", expires_at)
        if not scopes:
            raise InvalidArgument("scopes", "choose at least one scope")
        if utc(expires_at) <= utc(at):
            raise InvalidArgument("expires_at", "a token expires after it is issued")
        if (utc(expires_at) - utc(at)).days > LONGEST_TOKEN_DAYS:
            raise InvalidArgument("expires_at", f"at most {LONGEST_TOKEN_DAYS} days")
        self._token_issued(
            token_id=token_id,
            name=check_name(name),
            scopes=tuple(s for s in Scope if s in scopes),  # in the order they are declared
            secret_digest=secret_digest,
            expires_at=expires_at,
            issued_by=issued_by,
            timestamp=at,
        )
        return self.tokens[token_id]

    def revoke_token(self, *, token_id: UUID, revoked_by: UUID, at: datetime) -> bool:
        """The token stops working at once; False (nothing recorded) if it was already
        revoked."""
        require_aware("at", at)
        token = self.tokens.get(token_id)
        if token is None:  # another centre's is « not found » too (domain.access)
            raise OutOfReach("API token")
        if token.revoked_at is not None:
            return False
        self._token_revoked(token_id=token_id, revoked_by=revoked_by, timestamp=at)
        return True

    def check_token(self, token_id: UUID, secret_digest: str, scope: Scope, at: datetime) -> None:
        """TOKEN-VALID then TOKEN-SCOPE: a known, matching, unrevoked and unexpired token
        that holds `scope`; `TokenRefused` naming the reason otherwise."""
        token = self.tokens.get(token_id)
        if token is None or not hmac.compare_digest(token.secret_digest, secret_digest):
            raise TokenRefused(TokenRefusal.UNKNOWN)
        refusal = token.state(at)
        if refusal is not None:
            raise TokenRefused(refusal)
        if scope not in token.scopes:
            raise TokenRefused(TokenRefusal.OUT_OF_SCOPE, scope)

    @event(ApiTokenIssued)
    def _token_issued(
        self,
        token_id: UUID,
        name: str,
        scopes: tuple[Scope, ...],
        secret_digest: str,
        expires_at: datetime,
        issued_by: UUID,
        timestamp: datetime,
    ) -> None:
        self.tokens = {
            **self.tokens,
            token_id: ApiToken(
                token_id, name, scopes, secret_digest, timestamp, expires_at, issued_by
            ),
        }

    @event(ApiTokenRevoked)
    def _token_revoked(self, token_id: UUID, revoked_by: UUID, timestamp: datetime) -> None:
        token = self.tokens.get(token_id)
        if token is None:  # appliers never refuse: the command checked
            return
        self.tokens = {
            **self.tokens,
            token_id: ApiToken(
                token.token_id,
                token.name,
                token.scopes,
                token.secret_digest,
                token.issued_at,
                token.expires_at,
                token.issued_by,
                timestamp,
                revoked_by,
            ),
        }

    # --- webhooks ---

    def subscribe(
        self,
        *,
        subscription_id: UUID,
        url: str,
        events: tuple[WebhookEvent, ...],
        subscribed_by: UUID,
        at: datetime,
        allowed: AllowedNetworks = NONE_ALLOWED,
    ) -> None:
        """The centre's machines at `url` are told about these events from now on; never at
        an address of the platform's internal network the operator has not `allowed`
        (`check_url`)."""
        require_aware("at", at)
        if not events:
            raise InvalidArgument("events", "choose at least one event")
        if subscription_id in self.subscriptions:
            raise InvalidArgument("subscription_id", "this subscription exists already")
        self._subscribed(
            subscription_id=subscription_id,
            url=check_url(url, allowed),
            events=tuple(e for e in WebhookEvent if e in events),
            subscribed_by=subscribed_by,
            timestamp=at,
        )

    def remove_subscription(self, *, subscription_id: UUID, removed_by: UUID, at: datetime) -> bool:
        """No new deliveries to it (those already decided still run); False if removed
        before."""
        require_aware("at", at)
        found = self.subscriptions.get(subscription_id)
        if found is None:
            raise OutOfReach("webhook")
        if not found.active:
            return False
        self._removed(subscription_id=subscription_id, removed_by=removed_by, timestamp=at)
        return True

    def subscribers(self, what: WebhookEvent) -> list[WebhookSubscription]:
        """The active subscriptions told about `what`."""
        return [s for s in self.subscriptions.values() if s.active and what in s.events]

    @event(WebhookSubscribed)
    def _subscribed(
        self,
        subscription_id: UUID,
        url: str,
        events: tuple[WebhookEvent, ...],
        subscribed_by: UUID,
        timestamp: datetime,
    ) -> None:
        self.subscriptions = {
            **self.subscriptions,
            subscription_id: WebhookSubscription(
                subscription_id, url, events, timestamp, subscribed_by
            ),
        }

    @event(WebhookRemoved)
    def _removed(self, subscription_id: UUID, removed_by: UUID, timestamp: datetime) -> None:
        found = self.subscriptions.get(subscription_id)
        if found is None:
            return
        self.subscriptions = {
            **self.subscriptions,
            subscription_id: WebhookSubscription(
                found.subscription_id, found.url, found.events, found.subscribed_at,
                found.subscribed_by, timestamp,
            ),
        }  # fmt: skip
