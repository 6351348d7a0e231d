"""Probes and metrics for the machines that watch the platform (issue 15).

- `GET /health`: the process answers (no I/O at all): for a restart policy.
- `GET /ready`: the store, the media store and the SMTP server answer, each within a short
  timeout (`ui.readiness`): 200, or 503 naming the failed ones; for a load balancer, which
  stops sending people to a node that cannot serve them. Each check's detail (addresses,
  folders, the log's head) only to whoever may read the metrics (`allowed_to_scrape`): it
  told anyone the SMTP server's address and, by the log's head, how busy the platform is.
  Anyone else gets the answer of the last run if it is under a second old (`RECHECK_S`), so a
  flood of anonymous requests opens no SMTP connection and writes no file each.
- `GET /metrics`: Prometheus text (`ui.metrics`). Not public: with `VIGIE_METRICS_TOKEN` set,
  a request must carry `Authorization: Bearer <token>`; without it, only a direct request
  from this machine (a loopback address and no proxy's forwarding header) is answered.
  Anything else is 404, as a route that does not exist.

None of them reads or creates a session (`ui.web.sessions` skips their paths), and none is
rate-limited (the limits apply to the log-in forms only).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException

from ui import metrics, readiness
from ui.web.edge import platform_of

PROBE_PATHS = ("/health", "/ready", "/metrics")
TOKEN_SETTING = "VIGIE_METRICS_TOKEN"
_FORWARDED = (b"forwarded", b"x-forwarded-for", b"x-real-ip")
RECHECK_S = 1.0  # an anonymous /ready reuses the last run this young


class LastChecks:
    """The last run of the checks, shared by this process's anonymous callers: one runs them
    while the others wait for its answer (a lock), rather than each running them. One per app
    (`app.state.last_checks`, made with it): a test process serves several platforms."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._at = float("-inf")
        self._checks: Sequence[readiness.Check] = ()

    def get(self, request: Request[Any, Any, Any], fresh: bool) -> Sequence[readiness.Check]:
        with self._lock:
            if fresh or time.monotonic() - self._at >= RECHECK_S:
                self._checks = readiness.run_checks(platform_of(request))
                self._at = time.monotonic()
            return self._checks


@get("/health")
async def health() -> Response[dict[str, str]]:
    """Alive: the process answers. No store, no file, no session."""
    return Response({"status": "alive"}, headers={"cache-control": "no-store"})


@get("/ready", sync_to_thread=True)
def ready(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """Ready: every check passed (200), else 503 naming the ones that failed; each check's
    detail for a scraper allowed to read the metrics."""
    operator = allowed_to_scrape(request)
    last: LastChecks = request.app.state.last_checks
    checks = last.get(request, fresh=operator)
    failed = [c.name for c in checks if not c.ok]
    body: dict[str, Any] = {"status": "ready" if not failed else "not ready", "failed": failed}
    if operator:
        body["checks"] = {
            c.name: {"ok": c.ok, "detail": c.detail, "seconds": c.seconds} for c in checks
        }
    return Response(body, status_code=503 if failed else 200, headers={"cache-control": "no-store"})


@get("/metrics", sync_to_thread=True, include_in_schema=False)
def prometheus(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The Prometheus exposition, for a scraper allowed to read it."""
    if not allowed_to_scrape(request):
        raise NotFoundException()
    recorder = getattr(request.app.state, "recorder", None)
    sessions = getattr(recorder, "sessions", None)
    text = metrics.exposition(
        platform_of(request), len(sessions) if isinstance(sessions, dict) else None
    )
    return Response(text, media_type=metrics.CONTENT_TYPE, headers={"cache-control": "no-store"})


def allowed_to_scrape(request: Request[Any, Any, Any]) -> bool:
    """The token when one is set; otherwise a direct request from this machine."""
    token = os.environ.get(TOKEN_SETTING, "")
    if token:
        offered = request.headers.get("authorization", "")
        return hmac.compare_digest(offered.encode(), f"Bearer {token}".encode())
    if any(name in _FORWARDED for name, _ in request.scope.get("headers", ())):
        return False  # through a proxy on this machine: the caller may be anyone
    client = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(client).is_loopback
    except ValueError:  # not an address (a Unix socket, a test client): not known to be here
        return False


ROUTES = [health, ready, prometheus]
