"""A database that does not answer (issue 14, recovery): 503 with Retry-After and a page in
the reader's language that says to try again in a moment, problem details on the API; never
a 500 that reads like a fault. It is logged (a warning with the traceback): an operator sees
the outage; the pools reconnect by themselves once PostgreSQL is back."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import redis.exceptions
from litestar import Request, Response

from adapters.persistence.unavailable import DATABASE_UNREACHABLE
from ui.web import faults
from ui.web.edge import language_of
from ui.web.i18n import gettext_for

_log = logging.getLogger("vigie.web")
RETRY_AFTER_S = 5


# The rate limits' Redis (VIGIE_REDIS_URL, issue 15): down, every log-in answered 500 « a
# problem on our side » and the log never named the setting (an operator's review).
REDIS_UNREACHABLE: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


def database_unreachable(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """The page (or problem details) carries the request id to quote, like every 5xx."""
    what = (
        "the rate limits' Redis (VIGIE_REDIS_URL) did not answer"
        if isinstance(error, REDIS_UNREACHABLE)
        else "the database did not answer"
    )
    _log.warning(
        "%s %s [%s]: %s (503)",
        request.method,
        request.url.path,
        faults.request_id_of(request.scope),
        what,
        exc_info=error,
    )
    _ = gettext_for(language_of(request))
    message = _("The service is briefly unavailable. Please try again in a moment.")
    if faults.is_api(request):
        response = faults.problem(
            request, kind="unavailable", title="Service Unavailable", status=503, detail=message
        )
    else:
        response = faults.error_page(request, message, 503)
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


Handler = Callable[[Request[Any, Any, Any], Any], Response[Any]]

HANDLERS: dict[int | type[Exception], Handler] = {
    error: database_unreachable for error in (*DATABASE_UNREACHABLE, *REDIS_UNREACHABLE)
}
