"""Security headers on every response (issue 14).

- A Content-Security-Policy with no inline script or style: pages load their scripts and
  stylesheets from /static only, so an injected `<script>` or `onclick=` does not run.
  `frame-ancestors 'none'` (and the older X-Frame-Options) stop any site from framing a
  page to trick a click.
- Camera and microphone only where the candidate is proctored (the checks and the portal,
  the equipment test); nowhere else, not even for staff pages.
- No MIME sniffing; the referrer only within Vigie (the language switch uses it to come back
  to the same page); HSTS when served over HTTPS.
- No answer is stored (`Cache-Control: no-store`) unless its route says otherwise. Pages
  show a state that changes (a review to decide, a candidate's step, a form with its CSRF
  token), and the browser's back button showed one from its cache: « Pris par vous, à
  décider » with a live form, after the decision was recorded (a user's tour). What is not a
  page is private as well: the evidence bundle, a recorded segment and its stills, the JSON
  API's answers (TURN credentials among them), the mailbox; only pages carried `no-store`,
  and a shared cache or the browser's disk kept these after log-out (security finding F4).
  So the rule is one, here, for every answer whatever its type; the public files say
  otherwise: those under /static keep their own caching (static_files: `no-cache` with an
  ETag), the icon a day, the LTI key set five minutes (`public`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
    )
)
# Where a candidate's camera and microphone are used: the session's own pages (checks and
# portal, one document since issue 12) and the equipment test.
CAMERA_PATHS = ("/exams/", "/portal/", "/equipment", "/api/sessions/")
CAMERA_ALLOWED = "camera=(self), microphone=(self), fullscreen=(self), display-capture=(self)"
CAMERA_DENIED = "camera=(), microphone=(), display-capture=(), fullscreen=(self)"
COMMON = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}
# The design system's files may be loaded cross-origin (a libvirt workspace's console page,
# the exam tab before issue 15 served it from this origin); nothing else may.
SHARED_ASSETS = ("/static/", "/favicon.ico")
HSTS = "max-age=31536000; includeSubDomains"
# Every answer not under SHARED_ASSETS whose route set no Cache-Control of its own.
PRIVATE_CACHING = "no-store"


def permissions_for(path: str) -> str:
    return CAMERA_ALLOWED if path.startswith(CAMERA_PATHS) else CAMERA_DENIED


def security_headers(*, secure: bool) -> Callable[[Message, Scope], Awaitable[None]]:
    """A Litestar `before_send` hook setting the headers above on every HTTP response."""

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in COMMON.items():
            headers[name] = value
        path = str(scope.get("path", ""))
        headers["permissions-policy"] = permissions_for(path)
        shared = path.startswith(SHARED_ASSETS)
        headers["cross-origin-resource-policy"] = "cross-origin" if shared else "same-origin"
        if shared:  # public files; the exam tab's accessibility checks read them by script
            headers["access-control-allow-origin"] = "*"
        if secure:
            headers["strict-transport-security"] = HSTS
        if not shared and "cache-control" not in headers:
            headers["cache-control"] = PRIVATE_CACHING

    return before_send
