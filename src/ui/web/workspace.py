"""The exam tab of the built-in workspace (issue 15), served by the platform under its base
URL: `/w/<ref>?t=<signature>` and the page's actions beside it. No second port: any node
serves any workspace, its state being in the store (adapters.launcher.builtin).

The tab is opened by a link signed for one attempt's workspace: no log-in, no session, no
CSRF token (the signature in the address is the credential, and a cross-site form cannot
know it). A torn-down workspace, or another attempt's signature, answers 410 Gone. Bodies
are at most 64 KiB (an exam's answers are a few kilobytes), read strictly: not UTF-8, or
more fields than any exam has, is a 400.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs, quote

from anyio import to_thread
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from adapters.launcher.builtin import MAX_FORM_BYTES, BuiltinWorkspaces
from adapters.launcher.page import refusal_for
from domain.errors import DomainError
from ui.web.edge import platform_of

PATH = "/w"
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
        attempt_id = workspaces.beat(ref, t)
        if attempt_id is None:
            return _gone(workspaces)
        return _page(workspaces.render(attempt_id, ref, t, saved=saved == "1"))

    @post("/{ref:str}/beat", sync_to_thread=True, status_code=200)
    def exam_tab_beat(
        self, request: Request[Any, Any, Any], ref: FromPath[str], t: FromQuery[str] = ""
    ) -> Response[Any]:
        """The page's heartbeat (R23)."""
        workspaces = _workspaces(request)
        if workspaces.beat(ref, t) is None:
            return _gone(workspaces)
        return Response(None, status_code=204, headers=NO_STORE)

    @post("/{ref:str}/closed", sync_to_thread=True, status_code=200)
    def exam_tab_closed(
        self, request: Request[Any, Any, Any], ref: FromPath[str], t: FromQuery[str] = ""
    ) -> Response[Any]:
        """The tab is closing: silent from now on, so the workspace is recorded lost at the
        next watch, not after the grace period."""
        workspaces = _workspaces(request)
        if workspaces.attempt_for(ref, t) is None:
            return _gone(workspaces)
        workspaces.fall_silent(ref)
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
            if workspaces.beat(ref, t) is None:
                return _gone(workspaces)
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
        """R23's « Quitter »: what was typed is saved, then the workspace falls silent."""
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
        find = workspaces.attempt_for if closing else workspaces.beat
        attempt_id = find(ref, token)
        if attempt_id is None:
            return _gone(workspaces)
        try:
            workspaces.save_form(attempt_id, ref, form)
            if action == "finish" and form.get("confirm") == ["yes"]:
                workspaces.finish(attempt_id)
                return _page(workspaces.render(attempt_id, ref, token, state="finished"))
        except DomainError as refused:
            message, rule = refusal_for(refused, workspaces.view(attempt_id).language)
            if fetched:
                return _json({"error": message, "rule": rule}, 409)
            page = workspaces.render(attempt_id, ref, token, message=message, rule=rule)
            return _page(page, 409)
        if action == "finish":  # asked without the confirmation: ask for it
            return _page(workspaces.render(attempt_id, ref, token, state="confirm-finish"))
        if action == "leave":
            workspaces.fall_silent(ref)  # as when the tab is closed
            return _page(workspaces.render(attempt_id, ref, token, state="left"))
        if closing:  # nobody reads the answer: no page
            return Response(None, status_code=204, headers=NO_STORE)
        if fetched:
            return _json({"saved": True})
        anchor = (form.get("save") or [""])[0] or (form.get("question_id") or [""])[0]
        return _back(ref, token, anchor)

    return await _in_thread(save)


ROUTES = [ExamTabPages]
