"""Staff single sign-on (issue 16): « Sign in with <provider> » on the staff log-in page.

`/staff/sso` keeps a fresh state, nonce and PKCE verifier in the browser's server-side
session and sends the browser to the provider; `/staff/sso/callback` takes them out (once:
an answer replayed, or brought to another browser, finds nothing), checks the state, lets the
provider's adapter exchange the code and verify the ID token, and hands the verified identity
to the use case, which creates, links or updates the account and may refuse it. Every
refusal is a page in the reader's language with a way back to the log-in page.

The provider's sign-in replaces the password and Vigie's own second factor: the provider's
MFA policy applies (README, « Staff single sign-on »)."""

from __future__ import annotations

import hmac
import logging
from datetime import datetime, timedelta
from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.concurrency import sync_to_thread
from litestar.exceptions import NotFoundException
from litestar.params import QueryParameter
from litestar.response import Redirect

from adapters.oidc import OpenIdProvider, Pending, SignInFailed
from app.use_cases import single_sign_on
from app.use_cases.single_sign_on import Refusal, SignInRefused
from ui.web import faults
from ui.web.edge import NEXT, language_of, platform_of, staff_logged_in
from ui.web.i18n import N_, gettext_for

_log = logging.getLogger("vigie.web.sso")

START = "/staff/sso"
CALLBACK = "/staff/sso/callback"
# How long the provider's sign-in may take before its answer is no longer accepted.
PENDING_FOR = timedelta(minutes=10)
SESSION_KEY = "sso"
# The longest state or code Vigie reads back (ours are 43 characters; providers' codes are
# well under this): anything longer is not an answer to us.
ANSWER_BOUND = 4096

# What each refusal of the use case says (issue 16), in words a member of staff acts on.
REFUSALS: dict[Refusal, str] = {
    Refusal.NO_MAPPED_GROUP: N_(
        "Your account at %(provider)s is in none of the groups that open Vigie. Ask your "
        "administrator to add you to the right group, then sign in again."
    ),
    Refusal.NO_EMAIL: N_(
        "%(provider)s did not give your e-mail address, and Vigie needs it for your account. "
        "Ask your administrator to share it with Vigie."
    ),
    Refusal.EMAIL_NOT_VERIFIED: N_(
        "A Vigie account already uses this e-mail address, and %(provider)s has not verified "
        "that it is yours. Verify it there, or log in with your password."
    ),
    Refusal.OTHER_IDENTITY: N_(
        "The Vigie account of this e-mail address is already linked to another account at "
        "%(provider)s. Ask support to check it."
    ),
    Refusal.UNKNOWN_CENTRE: N_(
        "Your group at %(provider)s names a training centre Vigie does not know. Ask your "
        "administrator to check Vigie's group settings."
    ),
}
EXPIRED = N_(
    "This sign-in is no longer valid: it was already used, it took too long, or it was started "
    "in another browser. Start again from the log-in page."
)
NOT_VERIFIED = N_(
    "The answer of %(provider)s could not be verified, so you are not signed in. Start again "
    "from the log-in page."
)
CANCELLED = N_(
    "The sign-in at %(provider)s did not finish. Start again, or log in with your password."
)
UNREACHABLE = N_(
    "%(provider)s does not answer at the moment. Try again in a moment, or log in with your "
    "password."
)


def _provider(request: Request[Any, Any, Any]) -> OpenIdProvider:
    """The configured provider; without one these routes do not exist (404)."""
    provider = platform_of(request).single_sign_on
    if provider is None:
        raise NotFoundException()
    return provider


def _redirect_uri(request: Request[Any, Any, Any]) -> str:
    """The callback as registered at the provider: under the platform's public address."""
    return platform_of(request).links.base_url.rstrip("/") + CALLBACK


def _refused(request: Request[Any, Any, Any], sentence: str, status: int) -> Response[Any]:
    _ = gettext_for(language_of(request))
    return faults.error_page(
        request,
        _(sentence, provider=_provider(request).name),
        status,
        title=_("Sign-in refused"),
        retry="/staff/login",
    )


@get(START, sync_to_thread=True)
def sso_start(request: Request[Any, Any, Any]) -> Response[Any]:
    """To the provider, with a new state, nonce and verifier kept in this browser's session."""
    provider = _provider(request)
    language = language_of(request)
    try:
        url, pending = provider.begin(_redirect_uri(request), language=language)
    except SignInFailed as error:
        _log.warning("single sign-on: the provider is not usable: %s", error)
        return _refused(request, UNREACHABLE, 503)
    request.session[SESSION_KEY] = {
        "state": pending.state,
        "nonce": pending.nonce,
        "verifier": pending.verifier,
        "since": platform_of(request).ctx.clock.now().isoformat(),
        # The page that asked for the log-in, checked again at the return (edge.return_path).
        "next": request.query_params.get(NEXT, "")[:1000],
    }
    return Redirect(url, status_code=303)


def _taken_pending(request: Request[Any, Any, Any], state: str) -> Pending | None:
    """The sign-in this browser started, if `state` is its own and it is still in time;
    removed from the session whatever the answer (a state serves once)."""
    kept = request.session.pop(SESSION_KEY, None)
    if not isinstance(kept, dict) or not state:
        return None
    try:
        since = datetime.fromisoformat(str(kept["since"]))
        pending = Pending(str(kept["state"]), str(kept["nonce"]), str(kept["verifier"]))
    except (KeyError, ValueError):
        return None
    if not hmac.compare_digest(pending.state.encode(), state.encode()):
        return None
    if platform_of(request).ctx.clock.now() - since > PENDING_FOR:
        return None
    return pending


def _bounded(name: str) -> Any:
    return QueryParameter(name=name, max_length=ANSWER_BOUND)


@get(CALLBACK)
async def sso_callback(
    request: Request[Any, Any, Any],
    code: Annotated[str, _bounded("code")] = "",
    answer_state: Annotated[str, _bounded("state")] = "",
    error: Annotated[str, _bounded("error")] = "",
    iss: Annotated[str, _bounded("iss")] = "",
) -> Response[Any]:
    """The provider's answer: state, then the code exchanged and the ID token verified, then
    the account (created, linked, its role updated, or refused)."""
    provider = _provider(request)
    kept = request.session.get(SESSION_KEY)
    back_to = str(kept.get("next", "")) if isinstance(kept, dict) else ""
    pending = _taken_pending(request, answer_state)
    if pending is None:
        return _refused(request, EXPIRED, 400)
    if iss and iss != provider.settings.issuer:
        # RFC 9207: the answer names another issuer (a mix-up between providers).
        _log.warning("single sign-on: an answer from issuer %r", iss)
        return _refused(request, NOT_VERIFIED, 401)
    if error or not code:
        _log.info("single sign-on: the provider answered %r", error or "no code")
        return _refused(request, CANCELLED, 401)
    try:
        identity = await sync_to_thread(
            provider.finish, code=code, pending=pending, redirect_uri=_redirect_uri(request)
        )
    except SignInFailed as failure:
        _log.warning("single sign-on: answer not verified: %s", failure)
        return _refused(request, NOT_VERIFIED, 401)
    platform = platform_of(request)
    try:
        signed_in = await sync_to_thread(
            single_sign_on.sign_in,
            platform.ctx,
            identity,
            provider.settings.groups,
            language=language_of(request),
        )
    except SignInRefused as refusal:
        _log.info("single sign-on refused (%s) for %s", refusal, identity.subject)
        return _refused(request, REFUSALS[refusal.refusal], 403)
    return staff_logged_in(request, str(signed_in.staff_id), signed_in.role.value, back_to)


ROUTES = [sso_start, sso_callback]
