"""Read-your-writes across web processes (issue 15). A page's read models skip the database
when they are at the log's head as this process heard it (LISTEN/NOTIFY); a command saved by
another process moments ago may not be heard yet. So every answer to a command carries the
position written so far by the process that handled it (a cookie, at least as far as the
command's own events), and the next page, whichever process serves it, reads at least that
far (`app.read_models.SEEN`)."""

from __future__ import annotations

from collections.abc import Callable

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from adapters.bootstrap import Platform
from app.read_models import SEEN
from ui.web.sessions import cookie_of

COOKIE = "vigie_seen"
COMMANDS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def seen_of(scope: Scope) -> int:
    """The position the browser's cookie names (0 when none or not a number). The cookie
    header is split, not parsed by `http.cookies` (issue 15: 1 % of every request)."""
    value = cookie_of(scope, COOKIE)
    if value is not None and value.isdigit() and len(value) < 19:
        return int(value)
    return 0


def read_your_writes(platform: Platform, *, secure: bool) -> Callable[[ASGIApp], ASGIApp]:
    """The middleware factory (Litestar calls it with the next ASGI app)."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def handle(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            seen = seen_of(scope)
            token = SEEN.set(seen)
            command = scope.get("method") in COMMANDS

            async def sending(message: Message) -> None:
                if command and message["type"] == "http.response.start":
                    written = platform.store.last_saved
                    if written > seen:
                        cookie = f"{COOKIE}={written}; Path=/; HttpOnly; SameSite=Lax"
                        MutableScopeHeaders.from_message(message).add(
                            "set-cookie", cookie + ("; Secure" if secure else "")
                        )
                await send(message)

            try:
                await app(scope, receive, sending)
            finally:
                SEEN.reset(token)

        return handle

    return middleware
