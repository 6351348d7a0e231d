"""A centre's machine access (issue 16): its manager issues and revokes API tokens and
subscribes webhooks on the centre's page (or the CLI); a machine's request is let in by its
token.

A token reads `vigie_<centre>_<token id>_<secret>`: the centre and id find the record in the
store (no read model stands between a revocation and the next request), the secret proves
it. Only the SHA-256 of the secret is recorded: it has 256 random bits, so a fast digest is
as safe as a slow one and costs nothing per request. The token is shown once.

A webhook's signing secret is derived from the platform's key and the subscription's id
(HMAC), so it is never written anywhere, yet the web process that shows it once and the
worker that signs with it agree. Rotating it is removing the subscription and adding one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid5

from app.context import Context, retrying
from app.ports.event_store import AggregateNotFound
from app.tenancy import actor
from domain.access import OutOfReach
from domain.integrations import (
    INTEGRATIONS_NAMESPACE,
    ApiToken,
    CentreIntegrations,
    Scope,
    TokenRefusal,
    TokenRefused,
    WebhookEvent,
    integrations_id,
)
from domain.staff import Role

TOKEN_PREFIX = "vigie"
DEFAULT_TOKEN_DAYS = 90
SECRET_PREFIX = "whsec_"  # the Standard Webhooks prefix: its libraries take the secret as is


def digest(secret: str) -> str:
    """What is recorded of a token's secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def webhook_secret(platform_key: bytes, subscription_id: UUID) -> str:
    """The subscription's signing secret (Standard Webhooks form: whsec_ + base64 of 32
    bytes), derived, never stored."""
    raw = hmac.new(platform_key, b"vigie-webhook:" + subscription_id.bytes, hashlib.sha256)
    return SECRET_PREFIX + base64.b64encode(raw.digest()).decode()


def centre_manager(ctx: Context, staff_id: UUID) -> UUID:
    """The centre of a centre's manager (the operator account); OutOfReach for any other
    role: tokens and webhooks are a centre's own business."""
    who = actor(ctx.store, staff_id)
    if who.role is not Role.CENTRE or who.centre_id is None:
        raise OutOfReach("centre")
    return who.centre_id


def integrations_of(ctx: Context, centre_id: UUID) -> CentreIntegrations | None:
    """The centre's tokens and webhooks, if it ever had any."""
    try:
        return ctx.store.get(integrations_id(centre_id), CentreIntegrations)
    except AggregateNotFound:
        return None


def _change(ctx: Context, centre_id: UUID, command: Callable[[CentreIntegrations], object]) -> None:
    def once() -> None:
        found = integrations_of(ctx, centre_id) or CentreIntegrations.open(
            centre_id=centre_id, at=ctx.now()
        )
        command(found)
        ctx.store.save(found)

    retrying(once)


@dataclass(frozen=True)
class IssuedToken:
    """A new token: `token` is shown in the reply to the form that made it, never on the
    page again."""

    token_id: UUID
    token: str
    expires_at: datetime
    name: str = ""
    short_id: str = ""
    revoked: bool = False  # the form was sent again after its token was revoked


@dataclass(frozen=True)
class FormNonce:
    """A token form's one-time nonce (random, drawn when the page is drawn, sent back with
    the form) and the platform's key: the token's id comes from the key, the centre and the
    nonce; its secret from those and the member of staff who sends the form (two HMACs under
    separate labels, so the id, shown in the list and in the token, tells nothing of the
    secret). The same form sent twice (a double click, a reload of its answer) names the
    same token, which the store records once. Neither nonce nor key is stored: the nonce
    lives only in that page and its post, the key only in the platform's settings. The key
    alone gives no token; whoever holds it and a form's nonce can compute that token's
    secret (knowing its centre and issuer's ids), so the key is the platform's to guard.
    Another manager of the centre who sends someone else's nonce through the page is
    refused (the secret differs, and so does the issuer), and sees no secret."""

    nonce: str
    platform_key: bytes

    def _mac(self, label: bytes, *parts: bytes) -> bytes:
        return hmac.new(
            self.platform_key, label + b"".join(parts) + self.nonce.encode(), hashlib.sha256
        ).digest()

    def derived(self, centre: UUID, staff_id: UUID) -> tuple[UUID, str]:
        """The token's id (the form's: the same whoever sends it) and its secret (the
        sender's too)."""
        named = self._mac(b"vigie-api-token-id:", centre.bytes)
        token_id = uuid5(INTEGRATIONS_NAMESPACE, f"api-token:{centre}:{named[:16].hex()}")
        raw = self._mac(b"vigie-api-token-secret:", centre.bytes, staff_id.bytes)
        return token_id, base64.urlsafe_b64encode(raw).decode().rstrip("=")


NONCE_LENGTH = 200  # a form's nonce is ours (43 characters); more is no form of ours


def new_form_nonce() -> str:
    """A token form's one-time nonce (drawn by the page, at the edge: never in the domain)."""
    return secrets.token_urlsafe(32)


def issue_token(
    ctx: Context,
    staff_id: UUID,
    *,
    name: str,
    scopes: tuple[Scope, ...],
    valid_days: int = DEFAULT_TOKEN_DAYS,
    form: FormNonce | None = None,
) -> IssuedToken:
    """A centre's manager issues a token for the centre's machines. With the page's `form`
    nonce, sending that form again issues nothing more and answers the same token (the
    store refuses a second token for one form: its id is the form's); sent again with other
    fields, or by someone else, it is `FormUsedAlready` (no secret). Without it (the command
    line) each call is a new token."""
    centre = centre_manager(ctx, staff_id)
    if form is not None:
        token_id, secret = form.derived(centre, staff_id)
    else:
        token_id, secret = ctx.ids.new_id(), secrets.token_urlsafe(32)
    at = ctx.now()
    expires_at = at + timedelta(days=valid_days)
    issued: list[ApiToken] = []

    def command(found: CentreIntegrations) -> None:
        issued[:] = [
            found.issue_token(
                token_id=token_id,
                name=name,
                scopes=scopes,
                secret_digest=digest(secret),
                expires_at=expires_at,
                issued_by=staff_id,
                at=at,
            )
        ]

    _change(ctx, centre, command)
    token = issued[0]
    return IssuedToken(
        token_id,
        f"{TOKEN_PREFIX}_{centre.hex}_{token_id.hex}_{secret}",
        token.expires_at,
        token.name,
        token.short_id,
        token.revoked_at is not None,
    )


def revoke_token(ctx: Context, staff_id: UUID, token_id: UUID) -> None:
    """The token stops working at the next request, on every node."""
    centre = centre_manager(ctx, staff_id)
    _change(
        ctx,
        centre,
        lambda found: found.revoke_token(token_id=token_id, revoked_by=staff_id, at=ctx.now()),
    )


def authenticate(ctx: Context, authorization: str | None, scope: Scope) -> UUID:
    """The centre a machine acts for, from its `Authorization: Bearer` header, if its token
    holds `scope`; TokenRefused naming the reason otherwise (missing, unknown, revoked,
    expired, out of scope)."""
    if not authorization:
        raise TokenRefused(TokenRefusal.MISSING)
    kind, _, token = authorization.partition(" ")
    parts = token.strip().split("_", 3)
    if kind.lower() != "bearer" or len(parts) != 4 or parts[0] != TOKEN_PREFIX:
        raise TokenRefused(TokenRefusal.UNKNOWN)
    try:
        centre, token_id = UUID(hex=parts[1]), UUID(hex=parts[2])
    except ValueError:
        raise TokenRefused(TokenRefusal.UNKNOWN) from None
    found = integrations_of(ctx, centre)
    if found is None:
        raise TokenRefused(TokenRefusal.UNKNOWN)
    found.check_token(token_id, digest(parts[3]), scope, ctx.now())
    return centre


@dataclass(frozen=True)
class Subscribed:
    """A new webhook: `secret` is shown once (the worker derives it again to sign)."""

    subscription_id: UUID
    secret: str


def subscribe_webhook(
    ctx: Context,
    staff_id: UUID,
    platform_key: bytes,
    *,
    url: str,
    events: tuple[WebhookEvent, ...],
) -> Subscribed:
    """A centre's manager has its machine at `url` told about these events (never at an
    internal address the operator has not allowed: `BadUrl`, problem INTERNAL)."""
    centre = centre_manager(ctx, staff_id)
    subscription_id = ctx.ids.new_id()
    _change(
        ctx,
        centre,
        lambda found: found.subscribe(
            subscription_id=subscription_id,
            url=url,
            events=events,
            subscribed_by=staff_id,
            at=ctx.now(),
            allowed=ctx.webhook_allowed,
        ),
    )
    return Subscribed(subscription_id, webhook_secret(platform_key, subscription_id))


def remove_webhook(ctx: Context, staff_id: UUID, subscription_id: UUID) -> None:
    """No new deliveries to that address."""
    centre = centre_manager(ctx, staff_id)
    _change(
        ctx,
        centre,
        lambda found: found.remove_subscription(
            subscription_id=subscription_id, removed_by=staff_id, at=ctx.now()
        ),
    )
