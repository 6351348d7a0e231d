"""Server-side sessions at the web edge (issue 14): an ASGI middleware that gives every
handler `request.session` (a dict, as Litestar's own backends do) kept in the SessionStore.

Why our own middleware and not Litestar's `ServerSideSessionConfig`: its Store keeps opaque
bytes under the cookie's id, so it can neither end every session of one account (a password
change), nor keep the id hashed, nor give staff and candidates different lifetimes, nor renew
the id when someone logs in. Here the rules of `app.sessions` decide, and the handlers are
unchanged: they read and write `request.session` as before.

- The cookie holds an opaque random id (HttpOnly, SameSite=Lax, Secure over HTTPS); the store
  knows its hash.
- Whenever the session's account changes (a log-in, the second factor typed, a log-out,
  another account), the old session is deleted and the data moves to a new id: an id set
  before log-in is never kept (no fixation). At a log-in the CSRF token is renewed too.
- A session past its absolute or idle end, or ended elsewhere (a logout, a password change on
  another worker), is not found: the request is anonymous and the cookie is cleared.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import msgspec
from anyio import to_thread
from litestar import Request
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import MethodNotAllowedException, NotFoundException
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from adapters.persistence.unavailable import DATABASE_UNREACHABLE
from app.ports.clock import Clock
from app.ports.sessions import SessionStore, StoredSession
from app.sessions import (
    TOUCH_EVERY,
    SessionPolicy,
    account_of,
    identity_of,
    new_session_id,
    session_key,
)
from ui.web import unavailable

COOKIE = "vigie_session"
# Files and the icon need no session: no read of the store for them. The exam tab (/w/) does
# (sec-findings F6): its signed link alone opened the exam in any browser, after log-out
# too; it is served only to the candidate's own session, whose idle end its heartbeat keeps
# moving (one read of the session per beat, a write at most once a minute: TOUCH_EVERY).
_WITHOUT_SESSION = ("/static/", "/favicon.ico")
# Nor do the probes and the metrics (issue 15): polled every few seconds by machines, they
# never read, touch nor create a session, whatever cookie they carry.
_PROBES = frozenset({"/health", "/ready", "/metrics"})
# What a handler may read and ask of the session beyond its data (`keep_session_until`).
_ENDS = "vigie.session_expires_at"
_KEEP_UNTIL = "vigie.session_keep_until"
_ENCODE = msgspec.json.Encoder().encode
_COPY = msgspec.json.Decoder().decode


class ServerSessions:
    """The ASGI middleware (one per app; it holds no session state of its own)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: SessionStore,
        clock: Clock,
        policy: SessionPolicy,
        secure: bool,
        renew_csrf: Callable[[], str],
    ) -> None:
        self.app = app
        self.store = store
        self.clock = clock
        self.policy = policy
        self.secure = secure
        self.renew_csrf = renew_csrf

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] not in ("http", "websocket")
            or scope["path"].startswith(_WITHOUT_SESSION)
            or scope["path"] in _PROBES
        ):
            await self.app(scope, receive, send)
            return
        sent_id = cookie_of(scope, COOKIE)
        loaded = await self._load(sent_id) if sent_id else None
        # The handler's own copy (`_save` compares it with what was loaded): a JSON round
        # trip in C, the data being JSON as kept (issue 15: deepcopy cost 2 % of a request).
        scope["session"] = _COPY(_ENCODE(loaded.data)) if loaded else {}
        if loaded is not None:
            _state(scope)[_ENDS] = loaded.expires_at

        unanswered = False  # the session could not be written: the 503 went instead

        async def send_with_session(message: Message) -> None:
            nonlocal unanswered
            if unanswered:
                return  # the route's own body, replaced by the « try again » page
            # A visitor with no session who was given none costs no thread and no query.
            if (
                message["type"] == "http.response.start"
                and (sent_id or scope.get("session"))
                and not self._unchanged(scope, sent_id, loaded)
            ):
                try:
                    cookies = await to_thread.run_sync(self._save, scope, sent_id, loaded)
                except DATABASE_UNREACHABLE as error:
                    # Litestar's handlers cannot answer any more (the route's answer is on
                    # its way, issue 14): the clear 503 is sent from here instead of a 500.
                    unanswered = True
                    await _try_again(scope, receive, send, error)
                    return
                headers = MutableScopeHeaders.from_message(message)
                for cookie in cookies:
                    headers.add("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_session)

    async def _load(self, session_id: str) -> StoredSession | None:
        return await self.store.get_async(session_key(session_id), self.clock.now())

    def _unchanged(self, scope: Scope, sent_id: str | None, loaded: StoredSession | None) -> bool:
        """Whether `_save` would write nothing and set no cookie: the same session, its data
        as loaded, its idle end not due to move. Most requests are such (issue 15: a heartbeat
        every few seconds), and then no thread is asked for."""
        data = scope.get("session")
        if loaded is None or not sent_id or not isinstance(data, dict) or not data:
            return False
        if _KEEP_UNTIL in _state(scope):  # a handler asked for a later absolute end
            return False
        if data != loaded.data:  # the identity is part of the data
            return False
        idle_until = self.clock.now() + self.policy.lifetime(account_of(data)).idle
        return idle_until - loaded.idle_until < TOUCH_EVERY

    def _save(self, scope: Scope, sent_id: str | None, loaded: StoredSession | None) -> list[str]:
        """Write the session back as the handler left it; the cookies to set."""
        data = scope.get("session")
        data = dict(data) if isinstance(data, dict) else {}  # cleared: Litestar's Empty
        now = self.clock.now()
        account = account_of(data)
        cookies: list[str] = []
        identity = identity_of(data)
        if loaded is not None and sent_id and identity == identity_of(loaded.data) and data:
            # The same person (or visitor): data and idle end, written only when they move.
            lifetime = self.policy.lifetime(account)
            idle_until = now + lifetime.idle
            keep_until = _state(scope).get(_KEEP_UNTIL)
            if isinstance(keep_until, datetime) and keep_until > loaded.expires_at:
                # Later than the log-in's end (a candidate's exam, ui.web.workspace): the
                # store keeps it, and the browser keeps its cookie as long.
                self.store.extend(session_key(sent_id), keep_until, now)
                max_age = int((keep_until - now).total_seconds())
                cookies.append(self._cookie(sent_id, max_age=max_age))
            if data != loaded.data or idle_until - loaded.idle_until >= TOUCH_EVERY:
                changed = data if data != loaded.data else None
                self.store.refresh(session_key(sent_id), idle_until, changed)
            return cookies
        if loaded is not None and sent_id:
            self.store.delete(session_key(sent_id))  # logged in, out, or someone else
        if not data:
            return [self._cookie("", max_age=0)] if sent_id else cookies
        lifetime = self.policy.lifetime(account)
        fresh = new_session_id()
        self.store.put(
            session_key(fresh),
            StoredSession(
                data=data,
                account=account,
                expires_at=now + lifetime.absolute,
                idle_until=now + lifetime.idle,
            ),
        )
        cookies.append(self._cookie(fresh, max_age=int(lifetime.absolute.total_seconds())))
        if identity[1] and (loaded is None or identity != identity_of(loaded.data)):
            cookies.append(self.renew_csrf())  # a log-in: a new CSRF token as well
        return cookies

    def _cookie(self, value: str, *, max_age: int) -> str:
        return Cookie(
            key=COOKIE,
            value=value,
            path="/",
            max_age=max_age,
            httponly=True,
            samesite="lax",
            secure=self.secure,
        ).to_header(header="")


def keep_session_until(request: Request[Any, Any, Any], until: datetime) -> None:
    """Ask the middleware to keep this request's session (if any) at least until `until`,
    past the absolute end its log-in gave it: once, when the end it has is earlier."""
    ends = session_ends(request)
    if ends is not None and until > ends:
        _state(request.scope)[_KEEP_UNTIL] = until


def session_ends(request: Request[Any, Any, Any]) -> datetime | None:
    """The absolute end of this request's session, as loaded (None without one)."""
    ends = _state(request.scope).get(_ENDS)
    return ends if isinstance(ends, datetime) else None


def _state(scope: Scope) -> dict[str, Any]:
    """The request's own state (Litestar's `request.state`), where the middleware and the
    handlers leave each other what is not the session's data."""
    state: dict[str, Any] = scope.setdefault("state", {})
    return state


def session_where_unrouted(
    store: SessionStore, clock: Clock, csrf_cookie_name: str
) -> Callable[[Exception, Scope], Awaitable[None]]:
    """An `after_exception` hook: the session of a request no route answered, for its error
    page. Litestar refuses an unknown address (404, or 405 for another method) before any
    middleware, this one included, so the page was drawn as for no one: a logged-in member
    of staff lost their name's header, « Sécurité » and « Se déconnecter » (a user's tour).

    The hook runs before the exception's handler and reads the session as the middleware
    does (its cookie, its store, its ends), to be read only: nothing is written, no idle end
    moved, no cookie set. No cookie, a forged one, or one whose session ended: the page is
    drawn for no one, as before. The CSRF token is the cookie's, as Litestar's CSRF
    middleware gives a GET, so the page's « Se déconnecter » posts a valid form."""

    async def hook(error: Exception, scope: Scope) -> None:
        if (
            scope["type"] != ScopeType.HTTP
            or "session" in scope  # the middleware ran: a route's own refusal
            or not isinstance(error, NotFoundException | MethodNotAllowedException)
            or scope["path"].startswith(_WITHOUT_SESSION)
            or scope["path"] in _PROBES
        ):
            return
        sent_id = cookie_of(scope, COOKIE)
        if not sent_id:
            return
        try:
            loaded = await store.get_async(session_key(sent_id), clock.now())
        except DATABASE_UNREACHABLE:
            return  # the error page still answers, for no one
        if loaded is None:
            return
        scope["session"] = _COPY(_ENCODE(loaded.data))
        token = cookie_of(scope, csrf_cookie_name)
        if token:
            ScopeState.from_scope(scope).csrf_token = token

    return hook


async def _try_again(scope: Scope, receive: Receive, send: Send, error: Exception) -> None:
    """The page (or problem details) a route answers when the database does not answer."""
    request: Request[Any, Any, Any] = Request(scope, receive)
    response = unavailable.database_unreachable(request, error)
    await response.to_asgi_response(None, request)(scope, receive, send)


def cookie_of(scope: Scope, name: str) -> str | None:
    """One cookie's value from the request's headers (the last one wins, as browsers send
    the most specific first and we set only one)."""
    found: str | None = None
    for key, value in scope.get("headers", []):
        if key != b"cookie":
            continue
        for part in value.decode("latin-1").split(";"):
            cookie_name, _, cookie_value = part.strip().partition("=")
            if cookie_name == name and cookie_value:
                found = cookie_value
    return found


def csrf_cookie(name: str, secret: str, *, secure: bool) -> Callable[[], str]:
    """A Set-Cookie header carrying a fresh CSRF token, as Litestar's CSRF middleware makes
    them (same signature, same attributes)."""
    from litestar.middleware.csrf import generate_csrf_token

    def renew() -> str:
        return Cookie(
            key=name, value=generate_csrf_token(secret), path="/", samesite="lax", secure=secure
        ).to_header(header="")

    return renew


__all__ = ["COOKIE", "ServerSessions", "cookie_of", "csrf_cookie", "session_where_unrouted"]
