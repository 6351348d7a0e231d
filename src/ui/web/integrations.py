"""The centre's integrations page (issue 16): its manager issues and revokes API tokens,
subscribes and removes webhooks, and reads the webhook delivery log.

A new token, or a new webhook's signing secret, is shown once, in the reply to the form that
made it (never kept in the session, never shown again: the store has only the token's digest,
and the webhook secret is derived when it is needed)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from babel.numbers import format_decimal
from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from markupsafe import Markup

from app import integrations
from domain.errors import InvalidArgument, TooLong
from domain.integrations import LONGEST_TOKEN_DAYS, Scope, WebhookEvent
from domain.staff import Role
from ui.web.edge import (
    Form,
    context,
    language_of,
    platform_of,
    staff_guard,
    staff_id,
    within_kept_bound,
)
from ui.web.i18n import N_, gettext_for
from ui.web.refusals import refusal_message

PATH = "/operator/integrations"
SCOPE_WORDS = {
    Scope.ENROLMENTS_WRITE.value: N_("Enrol candidates"),
    Scope.RESULTS_READ.value: N_("Read enrolments, sessions and results"),
}
EVENT_WORDS = {
    WebhookEvent.SESSION_CREATED.value: N_("Exam session created"),
    WebhookEvent.EXAM_SUBMITTED.value: N_("Exam submitted for review"),
    WebhookEvent.DECISION_RELEASED.value: N_("Decision released"),
    WebhookEvent.APPEAL_DECIDED.value: N_("Appeal decided"),
}
OUTCOME_WORDS = {
    "delivered": N_("Delivered"),
    "failed": N_("Failed, will be retried"),
    "given up": N_("Given up"),
}
STATUS_WORDS = {
    "pending": N_("Pending"),
    "delivered": N_("Delivered"),
    "failed": N_("Given up"),
}


def _chosen(data: dict[str, Any], name: str) -> list[str]:
    """A form's ticked boxes of one name (one box arrives as a string, several as a list)."""
    value = data.get(name, [])
    return [str(v) for v in (value if isinstance(value, list) else [value]) if v]


def _one(data: dict[str, Any], name: str) -> str:
    return _typed(data, name).strip()


def _typed(data: dict[str, Any], name: str) -> str:
    """One field as typed (the first, if sent twice)."""
    value = data.get(name, "")
    return str(value[0] if isinstance(value, list) and value else value)


# The new token form's own fields: a refusal of one is said beside it, the form as typed.
TOKEN_FIELDS = ("name", "days", "scopes")


def _token_refusal(language: str, refusal: InvalidArgument) -> Markup:
    """What a refused token says beside its field: a name too long says how long it may be
    and is (the domain's NAME_LENGTH), the others their field's sentence."""
    if isinstance(refusal, TooLong) and refusal.field == "name":
        _ = gettext_for(language)
        return Markup.escape(
            _(
                "Field “Token name”: %(limit)s characters at most, and this name has "
                "%(given)s. Shorten it, then press “Create the token” again. Nothing was "
                "created.",
                limit=format_decimal(refusal.limit, locale=language),
                given=format_decimal(refusal.given, locale=language),
            )
        )
    return refusal_message(language, refusal)


class IntegrationsDesk(Controller):
    """The centre's machine access: tokens, webhooks, the delivery log."""

    path = PATH
    guards = [staff_guard(Role.CENTRE)]

    def _page(self, request: Request[Any, Any, Any], status: int = 200, **shown: Any) -> Template:
        platform = platform_of(request)
        centre = integrations.centre_manager(platform.ctx, staff_id(request))
        found = integrations.integrations_of(platform.ctx, centre)
        platform.projections.catch_up(platform.ctx.store)
        now = platform.ctx.now()
        tokens = sorted(found.tokens.values(), key=lambda t: t.issued_at) if found else []
        hooks = sorted(found.subscriptions.values(), key=lambda s: s.subscribed_at) if found else []
        return Template(
            "integrations.html",
            # A page showing a new token or secret is kept by no cache, the browser's included.
            headers={"cache-control": "no-store"},
            context=context(
                request,
                tokens=[(t, t.state(now)) for t in reversed(tokens)],
                webhooks=[s for s in reversed(hooks) if s.active],
                deliveries=platform.projections.deliveries_of_centre(centre),
                scope_words=SCOPE_WORDS,
                event_words=EVENT_WORDS,
                outcome_words=OUTCOME_WORDS,
                status_words=STATUS_WORDS,
                longest_days=LONGEST_TOKEN_DAYS,
                notice=request.session.pop("notice", None),
                **shown,
            ),
            status_code=status,
        )

    @get("/", sync_to_thread=True)
    def integrations_page(self, request: Request[Any, Any, Any]) -> Template:
        """The centre's tokens, webhooks and delivery log."""
        return self._page(request)

    @post("/tokens", sync_to_thread=True, status_code=200)
    def issue_token(self, request: Request[Any, Any, Any], data: Form) -> Template:
        """A new token, shown once in this reply. A refused field is said beside it, the form
        as typed: a name too long gave a page of its own and lost it (a user's tour). Past
        KEPT_TIMES its bound, a name is no typing: refused here, never echoed."""
        within_kept_bound(data, "name", "token_name")
        try:
            try:
                scopes = tuple(Scope(s) for s in _chosen(data, "scopes"))
            except ValueError:
                raise InvalidArgument("scopes", "unknown scope") from None
            days_text = _one(data, "days") or str(integrations.DEFAULT_TOKEN_DAYS)
            if not days_text.isdigit() or not 1 <= int(days_text) <= LONGEST_TOKEN_DAYS:
                raise InvalidArgument("days", f"a number of days from 1 to {LONGEST_TOKEN_DAYS}")
            issued = integrations.issue_token(
                platform_of(request).ctx,
                staff_id(request),
                name=_one(data, "name"),
                scopes=scopes,
                valid_days=int(days_text),
            )
        except InvalidArgument as refusal:
            if refusal.field not in TOKEN_FIELDS:
                raise
            return self._page(
                request,
                status=409,
                token_refused=(refusal.field, _token_refusal(language_of(request), refusal)),
                token_typed={
                    "name": _typed(data, "name"),
                    "days": _typed(data, "days"),
                    "scopes": _chosen(data, "scopes"),
                },
            )
        return self._page(request, new_token=issued)

    @post("/tokens/{token_id:uuid}/revoke", sync_to_thread=True)
    def revoke_token(self, request: Request[Any, Any, Any], token_id: FromPath[UUID]) -> Redirect:
        """The token stops working at once."""
        integrations.revoke_token(platform_of(request).ctx, staff_id(request), token_id)
        request.session["notice"] = "revoked"
        return Redirect(PATH)

    @post("/webhooks", sync_to_thread=True, status_code=200)
    def subscribe(self, request: Request[Any, Any, Any], data: Form) -> Template:
        """A new webhook; its signing secret shown once in this reply."""
        try:
            events = tuple(WebhookEvent(e) for e in _chosen(data, "events"))
        except ValueError:
            raise InvalidArgument("events", "unknown event") from None
        platform = platform_of(request)
        made = integrations.subscribe_webhook(
            platform.ctx,
            staff_id(request),
            platform.webhook_key,
            url=_one(data, "url"),
            events=events,
        )
        return self._page(request, new_webhook=made)

    @post("/webhooks/{subscription_id:uuid}/remove", sync_to_thread=True)
    def remove(self, request: Request[Any, Any, Any], subscription_id: FromPath[UUID]) -> Redirect:
        """No new deliveries to that address."""
        integrations.remove_webhook(platform_of(request).ctx, staff_id(request), subscription_id)
        request.session["notice"] = "removed"
        return Redirect(PATH)


ROUTES = [IntegrationsDesk]
