"""The Litestar application: `create_app()` wires pages, sessions, CSRF and error pages.

Handlers are synchronous (the event store has no asyncio API) and run in Litestar's thread
pool. Sessions live on the server, in the event store's database (`ui.web.sessions`): no
state in the process, so several workers serve the same candidate, and a logout or a new
password ends a session on every worker.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import msgspec
from litestar import Litestar, Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    TooManyRequestsException,
    ValidationException,
)
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, Receive, Scope, Send

from adapters.bootstrap import Platform
from adapters.launcher.page import STATIC_DIR as EXAM_TAB_STATIC
from adapters.media.ice import IceServers
from adapters.rate_limit_store import PostgresStore
from app.known_devices import KnownDevices, device_key
from app.login_throttle import LoginThrottle
from app.mail_rendering import SupportContact
from app.person_names import name_in_list, name_in_text
from app.ports.event_store import AggregateNotFound, ConcurrencyConflict, StreamQuarantined
from app.ports.media_capture import MediaNotKept
from app.second_factor import SecondFactors, seal_key
from app.sessions import SessionPolicy
from app.time_format import jinja_filter
from domain.access import OutOfReach
from domain.errors import DomainError, InvalidArgument, InvalidArguments
from domain.integrations import TokenRefused
from ui import metrics
from ui.web import (
    accommodations,
    api,
    appeals,
    assignments,
    auditor,
    candidate,
    examiner,
    faults,
    hotline,
    i18n,
    integrations,
    lti,
    machine_api,
    media,
    operator,
    parked,
    portal,
    probes,
    public_key,
    rule_words,
    single_sign_on,
    site,
    staff_security,
    unavailable,
    workspace,
)
from ui.web.edge import (
    ADDRESS_REFUSED,
    MAX_BODY_BYTES,
    language_of,
    log_in_address,
    refusal_status,
    wants_fragment,
)
from ui.web.edge import context as page_context
from ui.web.headers import security_headers
from ui.web.i18n import N_, gettext_for
from ui.web.own_text import isolated
from ui.web.read_your_writes import read_your_writes
from ui.web.refusals import edge_sentence, field_refusals, refusal_message
from ui.web.sessions import ServerSessions, csrf_cookie, session_where_unrouted
from ui.web.static_files import static_files

HERE = Path(__file__).parent
_log = logging.getLogger("vigie.web")


def _domain_error(request: Request[Any, Any, Any], error: DomainError) -> Response[Any]:
    """A refusal is shown in the reader's language with its rule as a reference (problem
    details for the API); nothing was recorded. A page that asked for a fragment (the
    candidate's checks and portal, issue 12) gets the sentence alone, shown in place."""
    if request.url.path.startswith("/api/"):
        machine = machine_api.is_machine(request)
        return api.problem_response(
            error,
            machine=machine,
            detail=machine_api.refusal_detail(request, error),
            # A refused decision's problems follow Accept-Language, as the machine API does.
            language=machine_api.machine_language(request),
        )
    message = refusal_message(page_context(request)["lang"], error)
    name = "_refusal.html" if wants_fragment(request) else "error.html"
    status = refusal_status(error, 409)
    # The form field it names, for the page to show it beside that field (journey.js): a
    # « Civilité » refused under « Créer » left the candidate looking for what to change.
    field = getattr(error, "field", "")
    values = page_context(
        request,
        message=message,
        field=field if isinstance(field, str) else "",
        # Several fields refused at once (the portal profile), each beside its own.
        fields=field_refusals(page_context(request)["lang"], error)
        if isinstance(error, InvalidArguments)
        else [],
    )
    return Template(name, context=values, status_code=status)


def _out_of_reach(request: Request[Any, Any, Any], error: OutOfReach) -> Response[Any]:
    """Another centre's record, another examiner's review (issue 14): « not found », the
    same page and status as for an id that does not exist, so nothing is learnt from it."""
    return _http_error(request, NotFoundException())


def _conflict(request: Request[Any, Any, Any], error: ConcurrencyConflict) -> Response[Any]:
    """Other writers kept saving first (issue 12): 409, try again; never a 500. The details
    (ids, versions) are for the log, not for the person."""
    _ = gettext_for(language_of(request))
    message = _("This was changed elsewhere at the same moment. Please try again in a moment.")
    if machine_api.is_machine(request):
        body = machine_api.http_problem(request, 409, "Conflict")
        return Response(body, status_code=409, media_type=api.PROBLEM)
    if request.url.path.startswith("/api/"):
        body = api.Problem(
            type="https://vigie.example/problems/conflict",
            title="Conflict",
            status=409,
            detail=message,
        )
        return Response(body, status_code=409, media_type=api.PROBLEM)
    name = "_refusal.html" if wants_fragment(request) else "error.html"
    return Template(name, context=page_context(request, message=message), status_code=409)


# What a page says for an HTTP error, by status: a sentence for people, never the
# framework's English detail (which may name internals).
_HTTP_SENTENCES: dict[int, str] = {
    400: N_("The request could not be read. Go back, check what you typed and try again."),
    403: N_("This page is not yours to see. Log in with the right account, or go back."),
    404: N_("This page does not exist, or no longer does. Check the address or go back."),
    405: N_("This action cannot be done this way. Go back to the page and use its buttons."),
    413: N_("What you sent is too large. Send a smaller file."),
    429: N_("Too many attempts in a short time. Wait a minute, then try again."),
}
_HTTP_FALLBACK = N_("Something went wrong on our side. Try again in a moment.")
# The page's heading, where « This could not be done » says nothing of what happened (an
# address typed wrong read « Cette action n'a pas pu être faite »: a user's tour).
_HTTP_TITLES: dict[int, str] = {
    403: N_("Not your page"),
    404: N_("Page not found"),
    413: N_("File too large"),
    429: N_("Too many attempts"),
}


# Litestar's words when the body ends before its announced length (a client that lied about
# it, or left): a 500 for Litestar, bad input for us (issue 14).
_CLIENT_LEFT = "client disconnected prematurely"
_LENGTH_BOUND = re.compile(r"of length <= (\d+)")
# msgspec names a missing field in its message only (Litestar's key is then the body's name).
_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")


def _refused_field(error: HTTPException) -> tuple[str, int | None, bool] | None:
    """The body field Litestar's validation refused, its length bound if it was too long
    (issue 14: the edge bounds, `edge_bound`), and whether it was missing; None when no
    field is named."""
    if not isinstance(error, ValidationException) or not isinstance(error.extra, list):
        return None
    for item in error.extra:
        if isinstance(item, dict) and item.get("key") and item.get("source") == "body":
            message = str(item.get("message", ""))
            bound = _LENGTH_BOUND.search(message)
            missing = _MISSING_FIELD.search(message)
            key = missing.group(1) if missing else str(item["key"])
            return key, int(bound.group(1)) if bound else None, missing is not None
    return None


def _field_error(
    request: Request[Any, Any, Any], key: str, limit: int | None, missing: bool = False
) -> Response[Any]:
    """400 naming the field, in the reader's language (page, fragment or problem details);
    for the machine API, in a program's terms: `reason` says what is wrong (a tester found
    the pages' « Vérifiez le champ » there)."""
    if machine_api.is_machine(request):
        reason = "missing" if missing else "too_long" if limit is not None else "malformed"
        return machine_api.field_problem(request, key, reason, limit)
    sentence = edge_sentence(language_of(request), key, limit, request.url.path)
    if request.url.path.startswith("/api/"):
        body = api.Problem(
            type="https://vigie.example/problems/invalid-field",
            title=f"Invalid field {key}",
            status=400,
            detail=sentence,
            field=key,
        )
        return Response(body, status_code=400, media_type=api.PROBLEM)
    name = "_refusal.html" if wants_fragment(request) else "error.html"
    return Template(name, context=page_context(request, message=sentence), status_code=400)


def _http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    """An HTTP error in words; a 5xx carries the request id to quote to support (and was
    logged with it: by `_fault` for a fault, here for one raised on purpose)."""
    if error.status_code == 500 and error.detail == _CLIENT_LEFT:
        error = HTTPException(status_code=400)  # the client's doing, not a fault of ours
    refused = _refused_field(error)
    if refused is not None:
        return _field_error(request, *refused)
    status = error.status_code
    if status >= 500 and not isinstance(error, _LoggedFault):
        # Raised on purpose, or by the framework for a fault of its own (its cause kept).
        faults.log_5xx(request, f"{status} {error.detail}", error.__cause__ or error)
    if machine_api.is_machine(request):
        body = machine_api.http_problem(request, status, str(error.detail))
        if status >= 500:
            body = msgspec.structs.replace(body, request_id=faults.request_id_of(request.scope))
        return Response(body, status_code=status, media_type=api.PROBLEM)
    if request.url.path.startswith("/api/"):
        sentence = _HTTP_SENTENCES.get(status, _HTTP_FALLBACK)
        body = api.Problem(
            type="about:blank",
            title=str(error.detail),
            status=status,
            detail=gettext_for(language_of(request))(sentence),
            request_id=faults.request_id_of(request.scope) if status >= 500 else None,
        )
        return Response(
            body, status_code=status, media_type=api.PROBLEM, headers=_retry_after(error)
        )
    if isinstance(error, NotAuthorizedException):
        # Back to this page once logged in (a result mail's link, a review's).
        return Redirect(log_in_address(request))
    sentence = _HTTP_SENTENCES.get(status, _HTTP_FALLBACK if status >= 500 else "")
    _ = gettext_for(language_of(request))
    message = _(sentence) if sentence else _(_HTTP_SENTENCES[400])
    title = _(_HTTP_TITLES[status]) if status in _HTTP_TITLES else ""
    page = faults.error_page(request, message, status, title=title)
    page.headers.update(_retry_after(error))
    return page


def _retry_after(error: HTTPException) -> dict[str, str]:
    """A 429 says when to try again (RFC 6585 leaves it optional; clients and proxies use
    it): the rate limit's own reset, in seconds (an operator's review found none)."""
    if error.status_code != 429:
        return {}
    reset = (error.headers or {}).get("RateLimit-Reset", "")
    return {"Retry-After": reset if reset.isdigit() and int(reset) > 0 else "60"}


def _unreadable_body(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """A body that is not text, or nested beyond reason: 400 naming the body, never a 500
    (issue 14: invalid UTF-8 and 100,000 nested brackets both gave 500)."""
    _log.info("unreadable body on %s %s: %s", request.method, request.url.path, type(error))
    return _http_error(request, HTTPException(status_code=400))


def _unknown_id(request: Request[Any, Any, Any], error: AggregateNotFound) -> Response[Any]:
    """An id in the address that names nothing in the store (issue 14: an unknown review id
    gave 500): the page does not exist, 404, for every route at once."""
    _log.info("unknown id on %s %s: %s", request.method, request.url.path, error)
    return _http_error(request, NotFoundException())


def _fault(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """Anything unexpected: logged with its request id and traceback (a 500 used to reach no
    log), then a page in the reader's language with that id, or problem details; never the
    framework's own text."""
    faults.log_5xx(request, f"{type(error).__name__}: {error}", error)
    return _http_error(request, _LoggedFault(status_code=500))


class _LoggedFault(HTTPException):
    """A 500 for a fault `_fault` has logged already (once is enough)."""


LOGIN_ATTEMPTS_PER_MINUTE = 10
_THROTTLED = frozenset(
    {
        "/login",
        "/staff/login",
        "/staff/login/code",
        "/password/forgot",
        "/password/reset",
        # What asks for a password or a code again (issue 14): never tried at full speed.
        "/staff/security/password",
        "/staff/security/second-factor",  # F8: setting one up asks for the password
        "/staff/security/second-factor/confirm",
        "/staff/security/second-factor/disable",
    }
)


# The log-in forms whose handlers answer the per-address limit's refusal themselves, on their
# own page (edge.address_refused); the other throttled forms get the error page. The code step
# too: a member between her password and her code got the candidates' error page.
_LOG_IN_FORMS = frozenset({"/login", "/staff/login", "/staff/login/code"})
# The security page's forms answer it on that page too, beside the form sent
# (staff_security._address_refused): a member trying passwords there got the candidates'
# error page, its hotline and « Back to my home page », her page gone (a user's tour).
_ANSWERED_IN_PLACE = _LOG_IN_FORMS | {
    "/staff/security/password",
    "/staff/security/second-factor",
    "/staff/security/second-factor/confirm",
    "/staff/security/second-factor/disable",
}
# Set on a request the per-address limit let through (an app's own 429 is not the limit's).
_PAST_THE_LIMIT = "vigie.past_the_limit"


def _throttled_scope(scope: Scope) -> bool:
    """Log-in, reset and what asks for a password or code are rate-limited per client
    address; the rest is not."""
    return scope.get("method") == "POST" and scope["path"] in _THROTTLED


def _rate_limited(config: RateLimitConfig) -> Callable[[ASGIApp], ASGIApp]:
    """Litestar's rate limit, asked only about the throttled forms: it makes a Request and
    its URL for every request it sees (issue 15: 5 % of a heartbeat's time), when a glance
    at the scope's method and path tells."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def let_through(scope: Scope, receive: Receive, send: Send) -> None:
            scope[_PAST_THE_LIMIT] = True  # type: ignore[literal-required]
            await app(scope, receive, send)

        limited = RateLimitMiddleware(app=let_through, config=config)

        async def handle(scope: Scope, receive: Receive, send: Send) -> None:
            if not _throttled_scope(scope):
                await app(scope, receive, send)
                return
            try:
                await limited(scope, receive, send)
            except TooManyRequestsException as refused:
                if scope["path"] not in _ANSWERED_IN_PLACE or scope.get(_PAST_THE_LIMIT):
                    raise
                # A log-in form answers with its own page, the e-mail kept (edge.address_refused),
                # the security page's with that page: its handler checks no password then.
                scope[ADDRESS_REFUSED] = _retry_after(refused)  # type: ignore[literal-required]
                await app(scope, receive, send)

        return handle

    return middleware


HANDLER_THREADS = 16
CSRF_COOKIE = "vigie_csrf"  # the double-submit token's cookie (journey.js reads it too)


async def _handler_threads(_app: Litestar) -> None:
    """The threads that run the handlers which wait on the store (Litestar's `sync_to_thread`
    uses the loop's default executor). asyncio's default is the cores plus four, six here: at
    a thousand candidates on one web process, answers queued for a thread while those six
    waited on PostgreSQL through a proxy (issue 15). A thread waiting on a socket holds no
    lock, so more of them let more requests wait at once."""
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(HANDLER_THREADS, thread_name_prefix="handler")
    )


def _page_filters(platform: Platform) -> Callable[[JinjaTemplateEngine], None]:
    """What every page shares: times through the one formatter (`{{ at | local_time }}`,
    issue 12), the catalogues (issue 13), and a certification named by its title, never its
    code (`{{ code | certification }}`)."""

    def title(code: str) -> str:
        try:
            return platform.ctx.catalogue.get(code).title
        except InvalidArgument:  # a certification the catalogue no longer has
            return code

    def register(engine: JinjaTemplateEngine) -> None:
        engine.engine.filters["local_time"] = jinja_filter(platform.ctx.times)
        engine.engine.filters["certification"] = title
        # Someone's own words (a justification, an appeal's reason), isolated from the page's
        # (F9: a U+202E in one reversed the rest of the line).
        engine.engine.filters["isolated"] = isolated
        # A candidate's name, one way in a sentence and one in a list (app.person_names).
        engine.engine.globals["name_in_text"] = name_in_text
        engine.engine.globals["name_in_list"] = name_in_list
        i18n.install(engine.engine)
        # A rule named for people: its sentence, its code a secondary reference.
        rule_words.install(engine.engine.globals)

    return register


def create_app(
    platform: Platform,
    *,
    secret: bytes,
    support: SupportContact,
    secure: bool = False,
    rate_limit_dir: Path | None = None,
    rate_limits: Store | None = None,
    live_media_root: Path | None = None,
    node_id: str = "vigie",
    ice: IceServers | None = None,
    session_policy: SessionPolicy | None = None,
    attempts_per_minute: int = LOGIN_ATTEMPTS_PER_MINUTE,
) -> Litestar:
    """The web platform over a wired Platform; `secure` marks cookies HTTPS-only (set it
    whenever the platform is served over HTTPS). With `rate_limits` (a store every node shares,
    adapters.bootstrap.rate_limit_store, issue 15) or `rate_limit_dir` (files every worker
    process of the machine shares), the log-in and reset counters live there (otherwise in
    this process's memory: N workers would allow N times the attempts). With
    `live_media_root`, the proctoring tab's WebRTC stream is recorded there (issue 7), by this
    node (`node_id`, recorded as the connection's holder and named in every answer's
    X-Vigie-Node header), with the ICE servers `ice` (issue 15).
    Sessions last as `session_policy` says (by default, the VIGIE_*_SESSION_HOURS and
    VIGIE_*_IDLE_MINUTES settings); `attempts_per_minute` bounds the log-in and reset forms
    per client address (a benchmark raises it)."""
    stores: dict[str, Store] = {}
    if rate_limit_dir is not None:
        stores["rate_limit"] = FileStore(rate_limit_dir, create_directories=True)
    if rate_limits is not None:
        stores["rate_limit"] = rate_limits
    csrf_key = hashlib.sha256(secret + b"/csrf").hexdigest()
    policy = session_policy or SessionPolicy.from_env()
    app = Litestar(
        route_handlers=[
            *site.ROUTES,
            *candidate.ROUTES,
            *portal.ROUTES,
            *examiner.ROUTES,
            *api.ROUTES,
            *machine_api.ROUTES,
            *integrations.ROUTES,
            *operator.ROUTES,
            *auditor.ROUTES,
            *appeals.ROUTES,
            *assignments.ROUTES,
            *accommodations.ROUTES,
            *parked.ROUTES,
            *hotline.ROUTES,
            *media.ROUTES,
            *public_key.ROUTES,
            *staff_security.ROUTES,
            *single_sign_on.ROUTES,
            *probes.ROUTES,
            *workspace.ROUTES,
            *lti.ROUTES,
            # The exam tab's own script and styles beside the platform's (issue 15).
            static_files("/static", [HERE / "static", EXAM_TAB_STATIC]),
        ],
        template_config=TemplateConfig(
            directory=HERE / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=_page_filters(platform),
        ),
        middleware=[
            faults.request_id_middleware,
            read_your_writes(platform, secure=secure),
            _rate_limited(RateLimitConfig(rate_limit=("minute", attempts_per_minute))),
            DefineMiddleware(
                ServerSessions,
                store=platform.sessions,
                clock=platform.ctx.clock,
                policy=policy,
                secure=secure,
                renew_csrf=csrf_cookie(CSRF_COOKIE, csrf_key, secure=secure),
            ),
        ],
        csrf_config=CSRFConfig(
            secret=csrf_key,
            cookie_name=CSRF_COOKIE,
            cookie_samesite="lax",
            cookie_secure=secure,
            # The probes set no cookie at all (issue 15): machines poll them.
            # The exam tab's link is its credential (issue 15): no cookie, no token.
            exclude=[
                *(f"^{path}$" for path in probes.PROBE_PATHS),
                f"^{workspace.PATH}/",
                # The machine API takes a bearer token and never a cookie (issue 16).
                f"^{machine_api.PREFIX}/",
                # A learning platform posts the login and the launch (issue 16): the signed
                # id_token, its nonce and the state cookie are their proof, not our token.
                *(f"^{path}$" for path in lti.LTI_PATHS),
            ],
        ),
        # An unknown address is refused before the session's middleware: its error page
        # is still drawn for the person logged in (their header, « Se déconnecter »).
        after_exception=[
            session_where_unrouted(platform.sessions, platform.ctx.clock, CSRF_COOKIE)
        ],
        exception_handlers={
            OutOfReach: _out_of_reach,
            TokenRefused: machine_api.token_refused,
            DomainError: _domain_error,
            HTTPException: _http_error,
            ConcurrencyConflict: _conflict,
            StreamQuarantined: faults.quarantined,
            MediaNotKept: faults.media_not_kept,
            AggregateNotFound: _unknown_id,
            UnicodeDecodeError: _unreadable_body,
            RecursionError: _unreadable_body,
            **unavailable.HANDLERS,  # a database that does not answer: 503, try again
            Exception: _fault,
        },
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=OpenAPIConfig(
            title="Vigie",
            version="1.0.0",
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="A centre's API token (issued on the centre's page): "
                        "`Authorization: Bearer vigie_…`. Scopes: enrolments:write, "
                        "results:read.",
                    )
                }
            ),
        ),
        stores=stores,
        on_startup=[_handler_threads, *([media.start_recorder] if live_media_root else [])],
        on_shutdown=[
            *([media.stop_recorder] if live_media_root else []),
            *([rate_limits.close] if isinstance(rate_limits, PostgresStore) else []),
        ],
        before_send=[
            security_headers(secure=secure),
            faults.request_id_header(),
            media.node_header(node_id),
        ],
        debug=False,
        # The process's logging is ui/logs.py's (the root logger in its format, JSON in
        # production): Litestar's default put the root logger at INFO behind a handler of
        # its own, in another format.
        logging_config=None,
    )
    # Every answer timed by route template (issue 15), a 404 for an unknown path included:
    # around the router, which sets the template, and outside the route middleware.
    app.asgi_handler = metrics.timed(app.asgi_handler)
    metrics.watch_store(platform.store)
    app.state.platform = platform
    app.state.last_checks = probes.LastChecks()  # /ready's last run, shared by anonymous callers
    app.state.live_media_root = live_media_root
    app.state.node_id = node_id
    app.state.ice = ice or IceServers()
    app.state.support = support
    sso = platform.single_sign_on
    app.state.single_sign_on_name = sso.name if sso is not None else ""
    # The live view keeps its agent's session alive while it shows her (static/watch.js).
    app.state.session_policy = policy
    app.state.throttle = LoginThrottle(platform.sessions, platform.ctx.clock)
    app.state.known_devices = KnownDevices(device_key(secret), platform.ctx.clock)
    app.state.secure = secure  # the known-device cookie is Secure behind https, as the others
    app.state.second_factors = SecondFactors(
        platform.sessions, platform.ctx.clock, seal_key(secret)
    )
    return app
