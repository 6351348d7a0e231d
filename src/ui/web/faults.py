"""Errors you can see (issue 14): a request id on every response and every log line of the
request, and the pages that say what went wrong in the reader's language with that id and
the support contact (R26).

- Every response carries `X-Request-Id`: the caller's own when it is a sane token (a proxy's
  or a load balancer's, so their logs and ours meet), else one made here.
- Log lines written while a request is handled carry its id (`RequestIdFilter`, installed on
  the server's handler by `ui.logs`).
- A 5xx is logged with its id (and the traceback for a fault); the page, or the API's problem
  details, gives the id to quote to support.
- A quarantined stream (a row of its history failed the integrity check) answers its own
  pages with a clear 503; a photo or recording the media store could not keep (a full disk)
  answers 503 with a retry, the check step kept.
"""

from __future__ import annotations

import contextvars
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.response import Template
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.ports.event_store import StreamQuarantined
from app.ports.media_capture import MediaNotKept
from ui.web import api
from ui.web.edge import context as page_context
from ui.web.edge import language_of, wants_fragment
from ui.web.i18n import gettext_for

REQUEST_ID_HEADER = "x-request-id"
_STATE_KEY = "vigie_request_id"
# A proxy's id is kept when it looks like one (letters, digits, a few separators, 8 to 64
# characters): anything else could forge log lines or carry markup into the page.
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,63}")
_STEP_ACTION = re.compile(r"(/exams/[0-9a-fA-F-]{36})/do/[a-z-]+")
_log = logging.getLogger("vigie.web")

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "vigie_request_id", default="-"
)


def request_id_of(scope: Scope) -> str:
    """This request's id: taken from the caller's header when sane, else made once."""
    state: dict[str, Any] = scope.setdefault("state", {})
    known = state.get(_STATE_KEY)
    if isinstance(known, str):
        return known
    offered = ""
    for name, value in scope.get("headers", ()):
        if name.lower() == REQUEST_ID_HEADER.encode():
            offered = value.decode("latin-1")
            break
    made = offered if _SANE_ID.fullmatch(offered) else secrets.token_hex(8)
    state[_STATE_KEY] = made
    return made


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Sets the request id for the log lines written while the request is handled (the
    handler's thread gets a copy of the context)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        token = current_request_id.set(request_id_of(scope))
        try:
            await app(scope, receive, send)
        finally:
            current_request_id.reset(token)

    return middleware


def request_id_header() -> Callable[[Message, Scope], Awaitable[None]]:
    """A `before_send` hook: every HTTP response carries its request id (404s included,
    which no route middleware sees)."""

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = request_id_of(scope)

    return before_send


class RequestIdFilter(logging.Filter):
    """Gives every log record a `request_id` ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        return True


def is_api(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api/")


def error_page(
    request: Request[Any, Any, Any],
    message: str,
    status: int,
    *,
    title: str = "",
    retry: str = "",
) -> Response[Any]:
    """The error page (or the fragment a step asked for), with the reference to quote to
    support on a 5xx, and a way back to try again when there is one."""
    reference = request_id_of(request.scope) if status >= 500 else ""
    name = "_refusal.html" if wants_fragment(request) else "error.html"
    values = page_context(
        request, message=message, reference=reference, error_title=title, retry=retry
    )
    return Template(name, context=values, status_code=status)


def problem(
    request: Request[Any, Any, Any], *, kind: str, title: str, status: int, detail: str
) -> Response[Any]:
    """Problem details (RFC 9457) with the request id to quote."""
    body = api.Problem(
        type=f"https://vigie.example/problems/{kind}" if kind else "about:blank",
        title=title,
        status=status,
        detail=detail,
        request_id=request_id_of(request.scope),
    )
    return Response(body, status_code=status, media_type=api.PROBLEM)


def log_5xx(request: Request[Any, Any, Any], what: str, error: BaseException | None) -> None:
    """One line per 5xx with its id; the traceback when it is a fault."""
    _log.error(
        "%s %s failed [%s]: %s",
        request.method,
        request.url.path,
        request_id_of(request.scope),
        what,
        exc_info=error,
    )


def quarantined(request: Request[Any, Any, Any], error: StreamQuarantined) -> Response[Any]:
    """A page whose record is quarantined: said plainly, never a 500. The store logged the
    finding once; each refused request is one line with its id."""
    _log.warning(
        "%s %s withheld [%s]: %s",
        request.method,
        request.url.path,
        request_id_of(request.scope),
        error,
    )
    _ = gettext_for(language_of(request))
    message = _(
        "This record is withheld: part of its history failed the platform's integrity check. "
        "The rest of the platform works. Support has been told; quote the reference below "
        "if you contact them."
    )
    if is_api(request):
        return problem(
            request, kind="quarantined", title="Record withheld", status=503, detail=message
        )
    return error_page(request, message, 503, title=_("This record is withheld"))


def media_not_kept(request: Request[Any, Any, Any], error: MediaNotKept) -> Response[Any]:
    """A photo or recording the media store could not write (a full disk): nothing was
    recorded, the step stays where it was, and the candidate can try again."""
    log_5xx(request, f"media not kept ({error})", error.__cause__ or error)
    _ = gettext_for(language_of(request))
    message = _(
        "Your photo or recording could not be saved on our side just now. Nothing is lost: "
        "try again in a moment. If it fails again, contact support with the reference below."
    )
    if is_api(request):
        return problem(
            request, kind="media-not-kept", title="Media not kept", status=503, detail=message
        )
    # The step the button was on (`/exams/<session>/do/<action>` → `/exams/<session>`).
    step = _STEP_ACTION.match(request.url.path)
    return error_page(
        request, message, 503, title=_("Not saved, try again"), retry=step[1] if step else ""
    )
