"""The exam tab of the built-in workspace (issue 15), served by the platform under its base
URL: `/w/<ref>?t=<signature>` and the page's actions beside it. No second port: any node
serves any workspace, its state being in the store (adapters.launcher.builtin).

The tab is opened by a link signed for one attempt's workspace, in the browser where the
attempt's candidate is logged in: the signature and her session cookie together are the
credential (no CSRF token: a cross-site form cannot know the signature). A torn-down
workspace, or another attempt's signature, answers 410 Gone.

Sec-findings F6: the link alone used to be the credential. Pasted to a helper on another
computer, it showed the questions and took answers there while the candidate sat in front
of the camera, and it kept working after she logged out. Now a request without her session
(another browser, hers after log-out or once the session ended) is refused before anything
is read or saved, is no sign of life, and gets a page in her language (log in, then reopen
the exam from « Mes examens ») or, for the tab's script, that sentence as JSON (401; 403
when another account is logged in): the script keeps what was typed and sends it again once
she is logged in. The portal opens the tab in the same browser (a link or `window.open`
from the proctoring tab, same site), so the session cookie (SameSite=Lax) goes with every
request of the tab, its fetches and its closing beacon included.

Her session must not end under her exam: the tab's heartbeat keeps its idle end moving (the
session middleware touches it at most once a minute), and opening the tab during the exam
keeps the session at least until the exam's end (app.sessions.kept_for_exam), past the
absolute end its log-in gave it (12 h by default, when an exam with extra time may last 6).

An external launcher (adapters.launcher.libvirt) is not served here: its workspace is a
machine whose console (noVNC through websockify) is on another host or port, which never
sees the platform's session cookie, so the token in its URL stays its only credential
there; the machine itself can still demand its own log-in.

Bodies are at most 64 KiB (an exam's answers are a few kilobytes), read strictly: not
UTF-8, or more fields than any exam has, is a 400.

Issue 16: when the attempt's certification requires Safe Exam Browser, every request of the
tab must carry SEB's two hashes over its URL (app.safe_exam_browser, docs/seb.md); a request
without them is refused (403) with a page in the candidate's language, and is no sign of
life. It is checked before her session: outside SEB, « open it in SEB » is what helps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs, quote
from uuid import UUID

from anyio import to_thread
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from adapters.launcher.builtin import MAX_FORM_BYTES, BuiltinWorkspaces
from adapters.launcher.page import refusal_fields, refusal_for
from app import safe_exam_browser as seb
from app.exam_desk import DeskView, lockdown_of
from app.sessions import kept_for_exam
from domain.errors import DomainError
from domain.exam_attempt import AttemptStatus
from ui.web.edge import platform_of
from ui.web.sessions import keep_session_until, session_ends

PATH = "/w"
LOG_IN_PAGE = "/login?next=/exams"  # then « Mes examens », where the exam is reopened
MAX_FORM_FIELDS = 1000  # an exam has tens of questions; parse_qs allocates per field
FETCHED = "x-vigie-fetch"  # the page's script asks for a JSON answer instead of a page
NO_STORE = {"cache-control": "no-store"}
T = TypeVar("T")


def _workspaces(request: Request[Any, Any, Any]) -> BuiltinWorkspaces:
    launcher = platform_of(request).launcher
    if not isinstance(launcher, BuiltinWorkspaces):
        raise NotFoundException()  # another launcher serves its own workspaces
    return launcher


def _page(body: str, status: int = 200) -> Response[str]:
    return Response(body, status_code=status, media_type="text/html", headers=NO_STORE)


def _gone(workspaces: BuiltinWorkspaces) -> Response[str]:
    return _page(workspaces.tab.gone(), 410)


def _request_urls(request: Request[Any, Any, Any]) -> tuple[str, ...]:
    """The absolute URL SEB hashed: as the platform publishes it (VIGIE_BASE_URL, which a
    proxy in front may serve under https) and as this server received it."""
    path = request.scope.get("raw_path") or request.scope["path"].encode()
    query = request.scope.get("query_string", b"")
    tail = path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
    public = platform_of(request).links.base_url + tail
    return (public, str(request.url).split("#", 1)[0])


def _admit(
    request: Request[Any, Any, Any],
    workspaces: BuiltinWorkspaces,
    ref: str,
    token: str,
    *,
    beat: bool = True,
) -> UUID | Response[Any]:
    """The attempt the signed link opens, after the Safe Exam Browser check when its
    certification requires it, to its candidate's own session only (F6); a refused request
    is no heartbeat. `beat`: the request is a sign of life. Otherwise the response to send:
    gone (410), refused for want of SEB (403), or not hers (401, 403 for another account)."""
    signed = workspaces.signed_attempt(ref, token)
    if signed is None:
        return _gone(workspaces)
    ctx = platform_of(request).ctx
    if not any(c.safe_exam_browser for c in ctx.catalogue):
        not_hers = _not_hers(request, workspaces, signed)
        if not_hers is not None:
            return not_hers
        find = workspaces.beat if beat else workspaces.attempt_for
        attempt_id = find(ref, token)
        return _gone(workspaces) if attempt_id is None else attempt_id
    attempt_id = workspaces.attempt_for(ref, token)
    if attempt_id is None:
        return _gone(workspaces)
    # Outside Safe Exam Browser, that is what to say first: logging in elsewhere than in
    # SEB would not open the exam.
    requirement = lockdown_of(ctx, attempt_id)
    if requirement is not None:
        own_key = seb.config_key(seb.exam_settings(_start_url(request), requirement))
        reason = seb.refusal(requirement, own_key, _request_urls(request), request.headers)
        if reason is not None:
            return _seb_refused(request, workspaces, attempt_id, reason)
    not_hers = _not_hers(request, workspaces, attempt_id)
    if not_hers is not None:
        return not_hers
    if beat:
        workspaces.beat(ref, token)
    return attempt_id


# F6: why a request is not the attempt's candidate's own, and its status.
LOG_IN_STATUS = {"logged-out": 401, "other-account": 403}


def _not_hers(
    request: Request[Any, Any, Any], workspaces: BuiltinWorkspaces, attempt_id: UUID
) -> Response[Any] | None:
    """None when this browser is logged in as the attempt's candidate; otherwise the
    refusal (gone, for an attempt that does not exist)."""
    owner = workspaces.candidate_of(attempt_id)
    if owner is None:
        return _gone(workspaces)
    session = request.scope.get("session") or {}
    candidate = session.get("candidate") if isinstance(session, dict) else None
    if candidate == str(owner):
        return None
    logged_in = isinstance(session, dict) and (candidate or session.get("staff"))
    reason = "other-account" if logged_in else "logged-out"
    language = workspaces.view(attempt_id).language
    status = LOG_IN_STATUS[reason]
    if request.headers.get(FETCHED) == "1":
        message = workspaces.tab.log_in_refusal(reason, language)
        return _json({"error": message, "reason": reason}, status)
    page = workspaces.tab.log_in_refused(reason, language, LOG_IN_PAGE)
    return _page(page, status)


def _keep_her_logged_in(request: Request[Any, Any, Any], view: DeskView) -> None:
    """During the exam, her session lasts at least until its end (and a little after)."""
    ends = session_ends(request)
    if ends is None or view.status is not AttemptStatus.IN_PROGRESS:
        return
    until = kept_for_exam(ends, view.ends_at)
    if until is not None:
        keep_session_until(request, until)


def _start_url(request: Request[Any, Any, Any]) -> str:
    """Where the certification's SEB configuration opens: the platform's home page."""
    return platform_of(request).links.base_url + "/"


def _seb_refused(
    request: Request[Any, Any, Any],
    workspaces: BuiltinWorkspaces,
    attempt_id: UUID,
    reason: seb.SebRefusal,
) -> Response[Any]:
    language = workspaces.view(attempt_id).language
    if request.headers.get(FETCHED) == "1":
        message = workspaces.tab.seb_refusal(reason.value, language)
        return _json({"error": message, "rule": seb.RULE, "reason": reason.value}, 403)
    return _page(workspaces.tab.seb_refused(reason.value, language, seb.RULE), 403)


def _back(ref: str, token: str, anchor: str) -> Redirect:
    target = f"{PATH}/{ref}?t={quote(token)}&saved=1" + (f"#q-{quote(anchor)}" if anchor else "")
    return Redirect(target, status_code=303, headers=NO_STORE)


def _json(body: dict[str, object], status: int = 200) -> Response[dict[str, object]]:
    return Response(body, status_code=status, headers=NO_STORE)


def _form(body: bytes) -> dict[str, list[str]]:
    """The posted form, strictly: not UTF-8 is a UnicodeDecodeError (the app's 400)."""
    try:
        return parse_qs(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS
        )
    except ValueError:  # more fields than any exam has
        raise HTTPException(status_code=400) from None


def _field_missing(key: str) -> ValidationException:
    """A 400 naming the field, as the platform's forms say it (ui.web.app._field_error)."""
    return ValidationException(extra=[{"key": key, "source": "body", "message": "missing"}])


async def _in_thread(work: Callable[[], T]) -> T:
    """The store has no asyncio API: the work runs in a worker thread, never on the loop."""
    return await to_thread.run_sync(work)


class ExamTabPages(Controller):
    """The exam tab's page and its actions: beat, closed, answer, mark, finish, leave."""

    path = PATH
    # The whole exam at once is a few kilobytes: 64 KiB is room to spare, not a door.
    request_max_body_size = MAX_FORM_BYTES

    @get("/{ref:str}", sync_to_thread=True)
    def exam_tab(
        self,
        request: Request[Any, Any, Any],
        ref: FromPath[str],
        t: FromQuery[str] = "",
        saved: FromQuery[str] = "",
    ) -> Response[str]:
        """The exam (or its instructions, or its end), the time left from the server's clock;
        opening it is a sign of life."""
        workspaces = _workspaces(request)
        attempt_id = _admit(request, workspaces, ref, t)
        if isinstance(attempt_id, Response):
            return attempt_id
        view = workspaces.view(attempt_id)
        _keep_her_logged_in(request, view)
        return _page(workspaces.render(attempt_id, ref, t, view=view, saved=saved == "1"))

    @post("/{ref:str}/beat", sync_to_thread=True, status_code=200)
    def exam_tab_beat(
        self, request: Request[Any, Any, Any], ref: FromPath[str], t: FromQuery[str] = ""
    ) -> Response[Any]:
        """The page's heartbeat (R23)."""
        workspaces = _workspaces(request)
        admitted = _admit(request, workspaces, ref, t)
        if isinstance(admitted, Response):
            return admitted
        return Response(None, status_code=204, headers=NO_STORE)

    @post("/{ref:str}/closed", sync_to_thread=True, status_code=200)
    def exam_tab_closed(
        self, request: Request[Any, Any, Any], ref: FromPath[str], t: FromQuery[str] = ""
    ) -> Response[Any]:
        """The tab's page is going away (closed, or reloaded: it cannot tell): the workspace
        is recorded lost if the tab is not back within domain.exam_tab.RELOAD_GRACE_S."""
        workspaces = _workspaces(request)
        admitted = _admit(request, workspaces, ref, t, beat=False)
        if isinstance(admitted, Response):
            return admitted
        workspaces.closing(ref)
        return Response(None, status_code=204, headers=NO_STORE)

    @post("/{ref:str}/mark", status_code=200)
    async def exam_tab_mark(
        self, request: Request[Any, Any, Any], ref: FromPath[str], t: FromQuery[str] = ""
    ) -> Response[Any]:
        """Mark a question to come back to, or unmark it."""
        workspaces = _workspaces(request)
        form = _form(await request.body())
        question_id = (form.get("question_id") or [""])[0]

        def mark() -> Response[Any]:
            admitted = _admit(request, workspaces, ref, t)
            if isinstance(admitted, Response):
                return admitted
            if not question_id:
                raise _field_missing("question_id")
            workspaces.mark(ref, question_id, form.get("marked") == ["1"])
            if request.headers.get(FETCHED) == "1":
                return _json({"marked": question_id in workspaces.marked(ref)})
            return _back(ref, t, question_id)

        return await _in_thread(mark)

    @post("/{ref:str}/answer", status_code=200)
    async def exam_tab_answer(
        self, request: Request[Any, Any, Any], ref: FromPath[str], t: FromQuery[str] = ""
    ) -> Response[Any]:
        """One answer (the page's script) or the whole exam (a browser without scripts)."""
        return await _save(request, ref, t, "answer")

    @post("/{ref:str}/finish", status_code=200)
    async def exam_tab_finish(
        self, request: Request[Any, Any, Any], ref: FromPath[str], t: FromQuery[str] = ""
    ) -> Response[Any]:
        """What was typed is saved; with the confirmation, the exam ends (R18)."""
        return await _save(request, ref, t, "finish")

    @post("/{ref:str}/leave", status_code=200)
    async def exam_tab_leave(
        self, request: Request[Any, Any, Any], ref: FromPath[str], t: FromQuery[str] = ""
    ) -> Response[Any]:
        """R23's « Quitter »: what was typed is saved, then her leaving is recorded as her own
        act (WorkspaceLeft), never as a lost tab."""
        return await _save(request, ref, t, "leave")


async def _save(
    request: Request[Any, Any, Any], ref: str, token: str, action: str
) -> Response[Any]:
    workspaces = _workspaces(request)
    form = _form(await request.body())
    fetched = request.headers.get(FETCHED) == "1"

    def save() -> Response[Any]:
        closing = form.get("closing") == ["1"]
        # The last answers of a closing tab are no sign of life; any other post is one.
        attempt_id = _admit(request, workspaces, ref, token, beat=not closing)
        if isinstance(attempt_id, Response):
            return attempt_id
        try:
            workspaces.save_form(attempt_id, ref, form)
            if action == "finish" and form.get("confirm") == ["yes"]:
                workspaces.finish(attempt_id)
                return _page(workspaces.render(attempt_id, ref, token, state="finished"))
        except DomainError as refused:
            message, rule = refusal_for(refused, workspaces.view(attempt_id).language)
            if fetched:
                return _json({"error": message, "rule": rule, **refusal_fields(refused)}, 409)
            page = workspaces.render(attempt_id, ref, token, message=message, rule=rule)
            return _page(page, 409)
        if action == "finish":  # asked without the confirmation: ask for it
            return _page(workspaces.render(attempt_id, ref, token, state="confirm-finish"))
        if action == "leave":
            workspaces.leave(attempt_id, ref)
            return _page(workspaces.render(attempt_id, ref, token, state="left"))
        if closing:  # nobody reads the answer: no page
            return Response(None, status_code=204, headers=NO_STORE)
        if fetched:
            return _json({"saved": True})
        anchor = (form.get("save") or [""])[0] or (form.get("question_id") or [""])[0]
        return _back(ref, token, anchor)

    return await _in_thread(save)


ROUTES = [ExamTabPages]
