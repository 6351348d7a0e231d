"""What every web handler shares, in one module (issue 13): the wired platform, the page
context (language, words, support contact), who is logged in and with which role (and the
guards a controller per context declares: `staff_guard(*roles)`, `candidate_guard`),
ownership checks, and the form body types. Handler modules import from here and never from
each other, so the web layer has no import cycle."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import quote, unquote, urlsplit
from uuid import UUID

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.enums import RequestEncodingType
from litestar.exceptions import (
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Body
from litestar.response import Redirect, Response, Template
from litestar.utils.scope.state import ScopeState

from adapters.bootstrap import Platform
from app.known_devices import LIFETIME, KnownDevices
from app.login_throttle import WINDOW, LoginThrottle, Place, Refusal
from app.mail_rendering import SupportContact
from app.media_content import LARGEST_UPLOAD, MIB, MediaTooLarge, UnacceptedMedia
from app.second_factor import SecondFactors
from domain.bounds import LIMITS
from domain.errors import DomainError
from domain.proctored_session import ProctoredSession
from domain.staff import Role
from ui.web.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    browser_language,
    gettext_for,
    ngettext_for,
)

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]

# The largest body the platform reads (issue 14): forms, answers, an enrolment file. A route
# that takes a photo or a recording allows the largest upload of the table, and the form
# around it (`request_max_body_size=UPLOAD_BODY_BYTES`); each kind is then held to its own.
MAX_BODY_BYTES = 4 * MIB
UPLOAD_BODY_BYTES = LARGEST_UPLOAD + MIB

# A refused upload's status (issue 14), by what was wrong with it; other refusals keep theirs.
_UPLOAD_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (MediaTooLarge, 413),
    (UnacceptedMedia, 415),
)


def edge_bound(field: str) -> msgspec.Meta:
    """A form or API field's maximum length at the edge, from the domain's table (issue 14):
    `reason: Annotated[str, edge_bound("appeal_reason")]`. A longer value is refused with a
    400 naming the field (`app._http_error`) before the body reaches a use case."""
    return msgspec.Meta(max_length=LIMITS[field])


# How far past its bound a form's value still comes back in its form, refused, to be
# shortened: a person who pasted too much. Beyond, it is no typing (a script's megabytes),
# refused at the edge as `edge_bound` does, never echoed in a page nor kept in a session.
KEPT_TIMES = 4


def kept_bound(field: str) -> msgspec.Meta:
    """A form field checked by its handler (its value kept in the form when refused), bounded
    at the edge at KEPT_TIMES its length: `surname: Annotated[str, kept_bound("surname")]`."""
    return msgspec.Meta(max_length=LIMITS[field] * KEPT_TIMES)


def within_kept_bound(data: dict[str, Any], name: str, field: str) -> None:
    """`kept_bound` for a form read as a dict (one whose fields vary: the appeal's decision,
    the practice questionnaire's answers): its value `name` (each one, if sent twice) past
    KEPT_TIMES the bound of `field` is refused as the edge refuses a typed form's, with a 400
    naming the field (`app._http_error`), before the handler reads anything else from it."""
    value = data.get(name, "")
    limit = LIMITS[field] * KEPT_TIMES
    values = value if isinstance(value, list) else [value]
    if any(isinstance(v, str) and len(v) > limit for v in values):
        raise ValidationException(
            extra=[
                # As msgspec says it for a typed form (`kept_bound`): the same 400 follows.
                {"key": field, "source": "body", "message": f"Expected `str` of length <= {limit}"}
            ]
        )


def refusal_status(error: DomainError, otherwise: int) -> int:
    """413 for an upload larger than its kind allows, 415 for one of another format."""
    return next((s for kind, s in _UPLOAD_STATUS if isinstance(error, kind)), otherwise)


FRAGMENT_HEADER = "x-vigie-fragment"

# A Litestar guard: it runs before the handler (and before its body is read) and raises.
Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]


def platform_of(request: Request[Any, Any, Any]) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


# Where « Vigie » (the header's home link) takes each member of staff: their own desk, not
# the candidate's log-in. The staff log-in sends them to the same places.
STAFF_HOME = {
    Role.EXAMINER.value: "/examiner/reviews",
    Role.SUPPORT.value: "/hotline",
    Role.CENTRE.value: "/operator",
    Role.AUDITOR.value: "/auditor",
}


def staff_logged_in(
    request: Request[Any, Any, Any], staff: str, role: str, back_to: str = ""
) -> Redirect:
    """The session becomes the member's (the edge gives it a new id and CSRF token), after
    their password (and code), or their provider's word (issue 16); then to the page that
    asked for the log-in (`back_to`, checked by `return_path`), else their desk."""
    for key in ("pending_staff", "pending_role", "pending_since", "pending_next"):
        request.session.pop(key, None)
    request.session["staff"] = staff
    request.session["role"] = role
    return Redirect(return_path(back_to, staff=True) or STAFF_HOME.get(role, "/operator"))


def throttle_of(request: Request[Any, Any, Any]) -> LoginThrottle:
    """Failed log-ins per account, shared by every worker (issue 14)."""
    throttle: LoginThrottle = request.app.state.throttle
    return throttle


# The second factor's throttle opens again within the throttle's window (app.login_throttle).
THROTTLED_RETRY_AFTER = {"Retry-After": str(int(WINDOW.total_seconds()))}

# The browser's known-device cookie (app.known_devices, security finding F7).
DEVICE_COOKIE = "vigie_device"


def client_address(request: Request[Any, Any, Any]) -> str:
    """The address the request came from (the proxy's word for it when uvicorn trusts the
    proxy): one guesser's place in the log-in counts."""
    return request.client.host if request.client else ""


def known_devices_of(request: Request[Any, Any, Any]) -> KnownDevices:
    devices: KnownDevices = request.app.state.known_devices
    return devices


def place_of(request: Request[Any, Any, Any], email: str, area: str) -> Place:
    """Where this log-in comes from: the client address, and this browser's id if the
    account typed logged in from it before."""
    token = request.cookies.get(DEVICE_COOKIE, "")
    return Place(client_address(request), known_devices_of(request).device_for(token, email, area))


def remember_device(
    request: Request[Any, Any, Any], response: Response[Any], email: str, area: str
) -> None:
    """After a successful log-in (or a reset link used, R24): this browser is known for the
    account for 180 days, and keeps logging in when the account's ceiling is reached."""
    token = request.cookies.get(DEVICE_COOKIE, "")
    response.set_cookie(
        DEVICE_COOKIE,
        known_devices_of(request).remember(token, email, area),
        max_age=int(LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=bool(getattr(request.app.state, "secure", False)),
    )


def throttled(
    request: Request[Any, Any, Any], refusal: Refusal, *, staff: bool = False
) -> tuple[str, dict[str, str]]:
    """What a throttled log-in says (HTTP 429), in the reader's language, and its Retry-After
    header: when to try again (in minutes, rounded up), and what else to do. A candidate asks
    for a new password by mail; a member of staff has no such mail, their administrator gives
    them a new one. The words are the same whether the account exists or not."""
    language = language_of(request)
    _ = gettext_for(language)
    ngettext = ngettext_for(language)
    now = platform_of(request).ctx.clock.now()
    seconds = max(1, int(-(-(refusal.retry_at - now).total_seconds() // 1)))
    minutes = -(-seconds // 60)
    if refusal.account_wide:
        why = _(
            "Too many failed log-ins for this account, from many places: to protect it, it "
            "opens only in a browser it was used from before."
        )
    else:
        why = _("Too many failed log-ins for this account from this browser or network.")
    when = ngettext("Try again in %(num)s minute.", "Try again in %(num)s minutes.", minutes)
    if staff:
        help_ = forgotten(language)
    elif refusal.account_wide:
        help_ = _("Or ask for a new password: its link lets you in from this browser.")
    else:
        help_ = _("Or ask for a new password.")
    return f"{why} {when} {help_}", {"Retry-After": str(seconds)}


# The scope key app._rate_limited sets on a log-in form its per-address limit refused: the
# Retry-After header to answer with. The log-in handler then answers with its own page.
ADDRESS_REFUSED = "vigie.address_refused"


def address_refused(
    request: Request[Any, Any, Any], template: str, back_to: str
) -> Template | None:
    """A log-in sent once too often from this address in a minute (the per-address limit,
    app._rate_limited): the log-in page `template` again, saying so in the reader's language,
    the e-mail typed kept, with 429 and its Retry-After; None otherwise. The password is not
    checked: the handler answers at once, with its own page, rather than the candidates'
    error page with their hotline and a « Back to my home page » (a reviewer's tour)."""
    refused = request.scope.get(ADDRESS_REFUSED)
    if not isinstance(refused, dict):
        return None
    error = too_many_attempts(language_of(request))
    return Template(
        template,
        context=context(request, error=error, back_to=back_to),
        status_code=429,
        headers=refused,
    )


def too_many_attempts(language: str) -> str:
    """What a form refused by the per-address limit says (HTTP 429), in the reader's language."""
    _ = gettext_for(language)
    return _("Too many attempts in a short time. Wait a minute, then try again.")


def too_many_codes(language: str) -> str:
    """What a throttled second-factor step says (HTTP 429), in the reader's language."""
    _ = gettext_for(language)
    wait = _("Too many failed log-ins for this account. Wait 15 minutes, then try again.")
    return f"{wait} {lost_second_factor(language)}"


def forgotten(language: str) -> str:
    """What a member of staff who forgot their password does (no mail resets it)."""
    _ = gettext_for(language)
    return _(
        # The command stays in the docs: a public page names no tool of the platform's
        # (a reviewer's).
        "Forgot your password? Ask the platform's administrator for a new one."
    )


def lost_second_factor(language: str) -> str:
    """What a member of staff who lost their authenticator app does."""
    _ = gettext_for(language)
    return _(
        "Lost your authenticator app? Ask the platform's administrator to remove the second factor."
    )


def second_factors_of(request: Request[Any, Any, Any]) -> SecondFactors:
    """Staff's TOTP second factors (issue 14)."""
    factors: SecondFactors = request.app.state.second_factors
    return factors


LANGUAGE_COOKIE = "vigie_lang"


# Pages only staff open: without a log-in they lead to the staff log-in, not the candidates'.
STAFF_AREAS = ("/examiner", "/operator", "/staff", "/hotline", "/auditor", "/media/")


# The page a log-in returns to (`?next=` on the log-in page, a hidden field of its form): a
# reviewer opened « Résultat de votre certification »'s link logged out, logged in, and
# landed on « Mes examens », the result and its « Contester » lost.
NEXT = "next"
_NEXT_BOUND = 1000
# Never back to a log-in step itself (a loop) nor to a language switch.
_NOT_BACK_TO = ("/login", "/logout", "/staff/login", "/staff/sso", "/lang/")


def return_path(value: str, *, staff: bool) -> str:
    """`value` if a log-in may send the browser there, else "": a path of this site only
    (`/results/…`, with its query), never another site's address (an open redirect).
    Refused: an absolute or scheme-relative address (`https://…`, `//evil`), a backslash
    (`/\\evil`, which browsers read as `//evil`), white space and control characters (a tab
    browsers drop), anything that decodes (once or more) to one of those (`/%2F%2Fevil`),
    non-ASCII, the log-in pages themselves, and the other kind's pages (a candidate's log-in
    leads to no staff page, a staff log-in to no candidate page)."""
    if not value or len(value) > _NEXT_BOUND or not value.startswith("/"):
        return ""
    decoded, seen = value, ""
    while decoded != seen:  # every level of encoding: `%252F` is `%2F` is `/`
        if (
            decoded.startswith("//")
            or "\\" in decoded
            or any(not 0x20 < ord(c) < 0x7F for c in decoded)
        ):
            return ""
        seen, decoded = decoded, unquote(decoded)
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path.startswith(_NOT_BACK_TO):
        return ""
    if parts.path.startswith(STAFF_AREAS) != staff:
        return ""
    return value


# On the log-in page after a form was posted with no session left (a log-out in another tab,
# a long pause): the page says the form was not recorded (a tester's tour: not a word).
ENDED = "ended"


def log_in_address(request: Request[Any, Any, Any]) -> str:
    """The log-in page for a request that needs one, naming the page to come back to (for a
    page one opens: a GET; a form posted after the session ended is not replayed: the log-in
    page says so, and leads back to the form's page, the `Referer` of this site)."""
    path = request.url.path
    staff = path.startswith(STAFF_AREAS)
    page = "/staff/login" if staff else "/login"
    if request.method != "GET":
        came_from = urlsplit(request.headers.get("referer", ""))
        same_site = came_from.netloc == request.url.netloc and came_from.scheme in ("http", "https")
        form_page = came_from.path + (f"?{came_from.query}" if came_from.query else "")
        back = return_path(form_page, staff=staff) if same_site else ""
        return f"{page}?{ENDED}=1" + (f"&{NEXT}={quote(back, safe='/')}" if back else "")
    raw = request.scope.get("raw_path") or path.encode()
    query = request.scope.get("query_string") or b""
    asked = raw.decode("latin-1") + (f"?{query.decode('latin-1')}" if query else "")
    back = return_path(asked, staff=staff)
    return f"{page}?{NEXT}={quote(back, safe='/')}" if back else page


def session_ended_notice(request: Request[Any, Any, Any]) -> str:
    """The log-in page's sentence after a form was posted with no session left, else ""."""
    if request.query_params.get(ENDED) != "1":
        return ""
    _ = gettext_for(language_of(request))
    return _(
        "Your session had ended (logged out in another tab or window, or after a long pause): "
        "the form you sent was not recorded. Log in again, then send it again."
    )


def language_of(request: Request[Any, Any, Any]) -> str:
    """The reader's language (R25): chosen on a page or the account's (the session), else the
    last one chosen on this browser (a plain cookie, read even where no session is loaded,
    such as a 404 for an unknown address); else, on staff pages, the browser's preferred
    (`Accept-Language`: an English examiner read the log-in and reviews in French until
    « English », a reviewer's tour), and French elsewhere: the centres' language (a
    candidate's is her enrolment's, from her mail's link and at log-in)."""
    if request.scope.get("session") and request.session.get("lang") in LANGUAGES:
        return str(request.session["lang"])
    remembered = request.cookies.get(LANGUAGE_COOKIE, "")
    if remembered in LANGUAGES:
        return remembered
    if request.url.path.startswith(STAFF_AREAS):
        return browser_language(request.headers.get("accept-language", ""), DEFAULT_LANGUAGE)
    return DEFAULT_LANGUAGE


def context(request: Request[Any, Any, Any], **values: Any) -> dict[str, Any]:
    """What every page needs: the language (R25), its words, the support contact (R26)."""
    language = language_of(request)
    support: SupportContact = request.app.state.support
    return {
        "lang": language,
        "support": support,
        "logged_in": bool(
            request.scope.get("session")
            and (request.session.get("candidate") or request.session.get("staff"))
        ),
        "staff_role": str(request.session.get("role", "")) if request.scope.get("session") else "",
        "typed_email": _typed_email(request),
        # « Sign in with <provider> » on the staff log-in page (issue 16), when configured.
        "single_sign_on": getattr(request.app.state, "single_sign_on_name", ""),
        # Each text field's `maxlength`, from the table the server bounds it with: « Nom » had
        # none and a 300-character surname was refused on a page of its own (a reviewer's tour).
        "limits": LIMITS,
        **values,
    }


def _typed_email(request: Request[Any, Any, Any]) -> str:
    """The e-mail a refused log-in was sent with, so the form keeps it (only the password is
    typed again). The handler has parsed the form already; Litestar keeps it in the scope."""
    if request.method != "POST" or "session" not in request.scope:
        return ""
    form = ScopeState.from_scope(request.scope).form
    found = form.get("email", "") if isinstance(form, dict) else ""
    return str(found[0] if isinstance(found, list) and found else found)[:320]


def candidate_id(request: Request[Any, Any, Any]) -> UUID:
    """The logged-in candidate, or a redirect to the login page."""
    value = request.session.get("candidate")
    if not value:
        raise NotAuthorizedException()
    return UUID(value)


def own_session(request: Request[Any, Any, Any], session_id: UUID) -> ProctoredSession:
    """The session, if it is the logged-in candidate's own (403 otherwise, even if absent)."""
    platform = platform_of(request)
    try:
        session = platform.ctx.store.get(session_id, ProctoredSession)
    except LookupError:
        raise PermissionDeniedException() from None
    if session.candidate_id != candidate_id(request):
        raise PermissionDeniedException()
    return session


def staff_member(request: Request[Any, Any, Any], *roles: Role) -> UUID:
    """The logged-in staff member with one of these roles (log-in page, or 403)."""
    value = request.session.get("staff")
    if not value:
        raise NotAuthorizedException()
    if request.session.get("role") not in {r.value for r in roles}:
        raise PermissionDeniedException()
    return UUID(value)


def staff_id(request: Request[Any, Any, Any]) -> UUID:
    """The logged-in staff member, in a handler a staff guard already let through."""
    return staff_member(request, *Role)


def _session_of(connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
    return connection.session if "session" in connection.scope else {}


def staff_guard(*roles: Role) -> Guard:
    """A guard for a controller of staff pages: the log-in page without a staff session
    (401), a 403 for a staff member with none of these roles — as `staff_member` says."""
    allowed = frozenset(r.value for r in roles)

    # Guards are coroutines: Litestar runs a plain function guard in a thread (issue 15: a
    # hand-over each way for a dictionary lookup, at every guarded request).
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        session = _session_of(connection)
        if not session.get("staff"):
            raise NotAuthorizedException()
        if session.get("role") not in allowed:
            raise PermissionDeniedException()

    guard.__name__ = f"staff_guard({', '.join(sorted(allowed))})"
    return guard


async def candidate_guard(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """A guard for a controller of candidate pages: the log-in page without a candidate in
    the session (401), as `candidate_id` says."""
    if not _session_of(connection).get("candidate"):
        raise NotAuthorizedException()


def wants_fragment(request: Request[Any, Any, Any]) -> bool:
    """The page's script asked for the step alone, to swap it in place (issue 12)."""
    return request.headers.get(FRAGMENT_HEADER) == "1"


def screen_capture_of(request: Request[Any, Any, Any], certification_code: str) -> bool:
    """Whether the proctoring page records the candidate's screen too (issue 16)."""
    certification = next(
        (c for c in platform_of(request).ctx.catalogue if c.code == certification_code), None
    )
    return certification is not None and certification.screen_capture


def live_session(request: Request[Any, Any, Any], session: ProctoredSession) -> str:
    """The session the page records live (issue 7): entered and not closed, on a server that
    records; '' otherwise."""
    recording = getattr(request.app.state, "live_media_root", None) is not None
    live = recording and session.entries > 0 and session.closed_at is None
    return str(session.id) if live else ""
