"""The centre's integrations page (issue 16): its manager issues and revokes API tokens,
subscribes and removes webhooks, and reads the webhook delivery log.

A new token, or a new webhook's signing secret, is shown once, in the reply to the form that
made it (never kept in the session, never shown again: the store has only the token's digest,
and the webhook secret is derived when it is needed). The token form carries a one-time
nonce drawn with the page: sent twice (a double click, a reload of the answer), it names
the same token, which the store records once, and the answer shows that one token again
(app.integrations.FormNonce); the next form has a new nonce."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from babel.numbers import format_decimal
from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from markupsafe import Markup

from app import integrations
from app.person_names import name_in_list
from app.read_models import DeliveryAttempt, DeliverySummary, Projections
from domain.errors import InvalidArgument, Required, TooLong
from domain.integrations import (
    LONGEST_TOKEN_DAYS,
    URL_LENGTH,
    BadUrl,
    FormUsedAlready,
    Scope,
    UrlProblem,
    WebhookEvent,
    check_name,
    check_url,
)
from domain.rules import utc
from domain.staff import Role
from domain.webhook_delivery import refused_address
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
from ui.web.refusals import field_name, refusal_message

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
WEBHOOK_FIELDS = ("url", "events")
# What each refusal says is wrong, where « Check the field » left the centre guessing (a
# tester's tour): %(field)s is the field's label.
_WRONG = {
    "scopes": N_("“%(field)s”: tick at least one."),
    "events": N_("“%(field)s”: tick at least one."),
    "days": N_("“%(field)s”: a whole number of days, from 1 to %(longest)s."),
}
_URL_WRONG = {
    UrlProblem.SCHEME: N_("“%(field)s”: start the address with https:// (or http://)."),
    UrlProblem.CREDENTIALS: N_(
        "“%(field)s”: no user name or password in the address (before “@”): this page would "
        "show them to anyone. Your receiver checks each request's signature instead."
    ),
    UrlProblem.SPACE: N_("“%(field)s”: an address holds no space. Remove it."),
    UrlProblem.HOST: N_(
        "“%(field)s”: after https:// comes a host name (such as example.org), an IPv4 "
        "address or an [IPv6] one, then an optional :port."
    ),
}
# An address of the platform's own network (domain.internal_network): the worker would post
# there for the centre (server-side request forgery). %(host)s: the host as typed, with the
# address it is written as when that differs (« 0x7f.1 (127.0.0.1) »).
_INTERNAL = N_(
    "“%(field)s”: %(host)s is in the platform's internal network, where webhooks are not "
    "sent. Give an address of your receiver that is reachable from the internet (such as "
    "https://crm.example.org/webhooks)."
)
# A typed address is shown back up to this length; past it, it is no typing of an address.
_URL_KEPT = URL_LENGTH * 4


def _wrong(language: str, field: str) -> Markup:
    _ = gettext_for(language)
    return Markup.escape(
        _(
            _WRONG[field],
            field=field_name(language, field),
            longest=format_decimal(LONGEST_TOKEN_DAYS, locale=language),
        )
    )


def _url_refusal(language: str, refusal: BadUrl, typed: str) -> Markup:
    """What a refused webhook address says is wrong with it."""
    _ = gettext_for(language)
    if refusal.problem is UrlProblem.INTERNAL:
        shown = refusal.host
        if refusal.address and refusal.address != refusal.host.strip("[]").lower():
            shown = f"{refusal.host} ({refusal.address})"
        return Markup.escape(_(_INTERNAL, field=field_name(language, "url"), host=shown))
    if refusal.problem in _URL_WRONG:
        return Markup.escape(_(_URL_WRONG[refusal.problem], field=field_name(language, "url")))
    if refusal.problem is UrlProblem.TOO_LONG:
        return refusal_message(language, TooLong("url", URL_LENGTH, len(typed.strip())))
    return refusal_message(language, Required("url"))


def _form_used(language: str, refusal: FormUsedAlready) -> Markup:
    """A token form sent again not as it was (other fields, after going Back): it made its
    token already, so nothing is made and no secret shown; this page's form is a new one."""
    _ = gettext_for(language)
    return Markup.escape(
        _(
            "This form already made the token “%(name)s” (%(id)s in the list below), and "
            "nothing more was created: no token has what you changed. To create another "
            "token, check the fields below, then press “Create the token” again.",
            name=refusal.token.name,
            id=refusal.token.short_id,
        )
    )


def _token_refusal(language: str, refusal: InvalidArgument) -> Markup:
    """What a refused token says beside its field: a name too long says how long it may be
    and is (the domain's NAME_LENGTH), the others what their field must be."""
    if refusal.field in _WRONG:
        return _wrong(language, refusal.field)
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


@dataclass(frozen=True)
class DeliveryLine:
    """One line of the delivery log: an attempt, or a delivery not tried yet, with whom it
    is about (the candidate, the certification) and the enrolment's id as the body names it."""

    at: datetime
    delivery: DeliverySummary
    attempt: DeliveryAttempt | None
    candidate: str
    certification: str

    @property
    def refused(self) -> tuple[str, str] | None:
        """The host and the internal address of an attempt the platform refused to send
        (`domain.webhook_delivery.refusal`), for the page to say it in words."""
        return refused_address(self.attempt.error) if self.attempt is not None else None


def delivery_log(projections: Projections, centre: UUID) -> list[DeliveryLine]:
    """The centre's delivery log, newest first: each attempt at its own time (a retry hours
    later sat under its first try, so the times read 07:18, 07:16, 07:15, 07:18: a tester's
    tour), each saying whose enrolment it is about."""
    lines = []
    for found in projections.deliveries_of_centre(centre):
        summary = projections.enrollments.get(found.enrollment_id) if found.enrollment_id else None
        # The names the centre typed for its enrolment, never another centre's (F1).
        surname, first_name = (
            projections.names_of_enrolment(summary.enrollment_id) if summary else ("", "")
        )
        who = name_in_list(surname, first_name)
        what = summary.certification_code if summary else ""
        tries = found.attempts or (None,)
        for attempt in tries:
            at = attempt.at if attempt is not None else found.decided_at
            lines.append(DeliveryLine(at, found, attempt, who, what))
    return sorted(lines, key=lambda line: utc(line.at), reverse=True)


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
                deliveries=delivery_log(platform.projections, centre),
                scope_words=SCOPE_WORDS,
                event_words=EVENT_WORDS,
                outcome_words=OUTCOME_WORDS,
                status_words=STATUS_WORDS,
                longest_days=LONGEST_TOKEN_DAYS,
                notice=request.session.pop("notice", None),
                # A fresh one with every page: the form it is in makes one token at most.
                form_nonce=integrations.new_form_nonce(),
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
        """A new token, shown in this reply. Every refused field is said beside it, with
        what is wrong, the form as typed: a name too long gave a page of its own and lost it
        (a user's tour). Past KEPT_TIMES its bound, a name is no typing: refused here, never
        echoed. The form's nonce makes it one token however often the form is sent."""
        within_kept_bound(data, "name", "token_name")
        language = language_of(request)
        refused: dict[str, Markup] = {}
        try:
            check_name(_one(data, "name"))
        except InvalidArgument as refusal:
            refused["name"] = _token_refusal(language, refusal)
        try:
            scopes = tuple(Scope(s) for s in _chosen(data, "scopes"))
        except ValueError:
            scopes = ()
        if not scopes:
            refused["scopes"] = _wrong(language, "scopes")
        days_text = _one(data, "days") or str(integrations.DEFAULT_TOKEN_DAYS)
        if not days_text.isdigit() or not 1 <= int(days_text) <= LONGEST_TOKEN_DAYS:
            refused["days"] = _wrong(language, "days")
        nonce = _one(data, "form_nonce")
        if not refused:
            platform = platform_of(request)
            try:
                issued = integrations.issue_token(
                    platform.ctx,
                    staff_id(request),
                    name=_one(data, "name"),
                    scopes=scopes,
                    valid_days=int(days_text),
                    # A page drawn before the nonce (or a hand-made post): a token per post.
                    form=integrations.FormNonce(nonce, platform.webhook_key)
                    if 0 < len(nonce) <= integrations.NONCE_LENGTH
                    else None,
                )
            except FormUsedAlready as refusal:
                refused["form"] = _form_used(language, refusal)
            except InvalidArgument as refusal:
                if refusal.field not in TOKEN_FIELDS:
                    raise
                refused[refusal.field] = _token_refusal(language, refusal)
            else:
                return self._page(request, new_token=issued)
        return self._page(
            request,
            status=409,
            refused=refused,
            token_typed={
                "name": _typed(data, "name"),
                "days": _typed(data, "days"),
                "scopes": _chosen(data, "scopes"),
            },
        )

    @post("/tokens/{token_id:uuid}/revoke", sync_to_thread=True)
    def revoke_token(self, request: Request[Any, Any, Any], token_id: FromPath[UUID]) -> Redirect:
        """The token stops working at once."""
        integrations.revoke_token(platform_of(request).ctx, staff_id(request), token_id)
        request.session["notice"] = "revoked"
        return Redirect(PATH)

    @post("/webhooks", sync_to_thread=True, status_code=200)
    def subscribe(self, request: Request[Any, Any, Any], data: Form) -> Template:
        """A new webhook; its signing secret shown once in this reply. A refused address or
        no event is said beside its field with what is wrong, the form as typed: an address
        with a password, or a space, gave a page of its own and lost it (a tester's tour).
        An address of the platform's internal network is refused unless the operator
        allowed it (VIGIE_WEBHOOK_ALLOWED_NETWORKS)."""
        language = language_of(request)
        url = _typed(data, "url")
        refused: dict[str, Markup] = {}
        try:
            events = tuple(WebhookEvent(e) for e in _chosen(data, "events"))
        except ValueError:
            events = ()
        if not events:
            refused["events"] = _wrong(language, "events")
        platform = platform_of(request)
        try:
            check_url(url, platform.ctx.webhook_allowed)
        except BadUrl as refusal:
            refused["url"] = _url_refusal(language, refusal, url)
        if not refused:
            made = integrations.subscribe_webhook(
                platform.ctx,
                staff_id(request),
                platform.webhook_key,
                url=url.strip(),
                events=events,
            )
            return self._page(request, new_webhook=made)
        return self._page(
            request,
            status=409,
            refused=refused,
            webhook_typed={
                "url": url if len(url) <= _URL_KEPT else "",
                "events": _chosen(data, "events"),
            },
        )

    @post("/webhooks/{subscription_id:uuid}/remove", sync_to_thread=True)
    def remove(self, request: Request[Any, Any, Any], subscription_id: FromPath[UUID]) -> Redirect:
        """No new deliveries to that address."""
        integrations.remove_webhook(platform_of(request).ctx, staff_id(request), subscription_id)
        request.session["notice"] = "removed"
        return Redirect(PATH)


ROUTES = [IntegrationsDesk]
