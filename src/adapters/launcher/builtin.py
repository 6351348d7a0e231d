"""The built-in exam workspace: the exam served to the exam tab from this machine.

Each attempt gets its own workspace, reachable only through a URL signed for that attempt's
workspace (a single-attempt link: another attempt's signature does not open it, and a torn
down workspace answers 410 Gone). The page saves every answer on the server as it is given,
shows the time left from the server's clock, and beats a heartbeat; a workspace whose page
stopped beating for longer than the grace period is reported dead, so the attempt records it
lost and the candidate can reopen it (R23) with the remaining time intact.

One threaded HTTP server on 127.0.0.1 serves every workspace of the process; it calls the
exam desk and the answer use case through the callbacks given to `bind`.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlparse
from uuid import UUID

from adapters.launcher.bounded_body import BodyRefused, read_body
from adapters.launcher.page import ExamTab, refusal_for, static_file
from app.exam_desk import DeskView
from app.links import LinkSigner
from app.mail_rendering import SupportContact
from app.ports.exam_launcher import Workspace, WorkspaceFailed
from domain.errors import DomainError

ViewFunction = Callable[[UUID], DeskView]
AnswerFunction = Callable[[UUID, str, str, tuple[str, ...]], None]
FinishFunction = Callable[[UUID], object]
MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 1000  # an exam has tens of questions; parse_qs allocates per field
# A refused body is drained this far after the answer, so the answer is not reset away.
LINGER_BYTES = 1024 * 1024
LINGER_S = 1.0
BODY_TIMEOUT_S = 10.0
FETCHED = "X-Vigie-Fetch"  # the page's script asks for a JSON answer instead of a page


class _Server(ThreadingHTTPServer):
    # The standard library queues 5 connections; 50 candidates opening their exam tab at
    # once overflowed it and waited seconds for resent SYNs (benchmarks/bench_workspaces.py).
    request_queue_size = 128
    daemon_threads = True


@dataclass
class _State:
    attempt_id: UUID
    provisioned_at: float
    last_beat: float | None = None
    # The questions the candidate marked to come back to: a note of theirs, not an answer,
    # so it lives with the workspace (and survives its reopening), not in the event log.
    marked: set[str] = field(default_factory=set)


class BuiltinWorkspaces:
    """The default exam launcher: a workspace per attempt, served from this process."""

    def __init__(
        self,
        links: LinkSigner,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        heartbeat_grace_s: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
        support: SupportContact | None = None,
        time_zone: str = "Europe/Paris",
    ) -> None:
        self.links = links
        self.host = host
        self.port = port
        self.heartbeat_grace_s = heartbeat_grace_s
        self._monotonic = monotonic
        self._workspaces: dict[str, _State] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._view: ViewFunction | None = None
        self._answer: AnswerFunction | None = None
        self._finish: FinishFunction | None = None
        self.tab = ExamTab(links.base_url, support or SupportContact(), time_zone)

    # --- wiring ------------------------------------------------------------------------------

    def bind(self, view: ViewFunction, answer: AnswerFunction, finish: FinishFunction) -> None:
        """Give the workspace what it serves: the desk view, the answer and finish use cases."""
        self._view, self._answer, self._finish = view, answer, finish

    def start(self) -> None:
        """Listen on host:port (port 0 picks a free one); idempotent."""
        with self._lock:
            if self._server is not None:
                return
            server = _Server((self.host, self.port), _handler_for(self))
            server.daemon_threads = True
            self.port = server.server_address[1]
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever, name="vigie-workspaces", daemon=True
            )
            self._thread.start()

    def close(self) -> None:
        """Stop serving (idempotent)."""
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    # --- the port ----------------------------------------------------------------------------

    def provision(self, attempt_id: UUID, timeout_s: float = 120.0) -> Workspace:
        if self._view is None or self._answer is None or self._finish is None:
            raise WorkspaceFailed("the built-in workspace is not bound to the exam desk")
        self.start()
        ref = f"ws-{attempt_id}"
        with self._lock:
            # Reopened after it was lost (R23): its silence counts again from now.
            earlier = self._workspaces.get(ref)
            marked = earlier.marked if earlier is not None else set()
            self._workspaces[ref] = _State(attempt_id, self._monotonic(), marked=marked)
        return Workspace(ref, self.url(ref))

    def heartbeat(self, ref: str) -> bool:
        with self._lock:
            state = self._workspaces.get(ref)
            if state is None:
                return False
            last = state.last_beat if state.last_beat is not None else state.provisioned_at
            # Not opened yet counts from provisioning: a tab never opened is lost too.
            return self._monotonic() - last <= self.heartbeat_grace_s

    def owns(self, ref: str) -> bool:
        with self._lock:
            return ref in self._workspaces

    def teardown(self, ref: str) -> None:
        with self._lock:
            self._workspaces.pop(ref, None)

    # --- serving -----------------------------------------------------------------------------

    def url(self, ref: str) -> str:
        """The signed, single-attempt address of a workspace."""
        return (
            f"http://{self.host}:{self.port}/w/{ref}?t={quote(self.links.sign('workspace', ref))}"
        )

    def _attempt_for(self, ref: str, token: str) -> UUID | None:
        try:
            if self.links.verify("workspace", token, rule="R15") != ref:
                return None
        except DomainError:
            return None
        with self._lock:
            state = self._workspaces.get(ref)
            return None if state is None else state.attempt_id

    def _beat(self, ref: str) -> None:
        with self._lock:
            state = self._workspaces.get(ref)
            if state is not None:
                state.last_beat = self._monotonic()

    def _closed(self, ref: str) -> None:
        """The exam tab said it is closing (R23's « Quitter »): silent from now on, so the
        workspace is recorded lost at the next watch instead of after the grace period."""
        with self._lock:
            state = self._workspaces.get(ref)
            if state is not None:
                state.last_beat = self._monotonic() - self.heartbeat_grace_s - 1.0

    def marked(self, ref: str) -> frozenset[str]:
        with self._lock:
            state = self._workspaces.get(ref)
            return frozenset(state.marked) if state is not None else frozenset()

    def mark(self, ref: str, question_id: str, marked: bool) -> None:
        """Mark a question to come back to later, or unmark it."""
        with self._lock:
            state = self._workspaces.get(ref)
            if state is not None:
                (state.marked.add if marked else state.marked.discard)(question_id)

    def view(self, attempt_id: UUID) -> DeskView:
        assert self._view is not None
        return self._view(attempt_id)

    def render(self, attempt_id: UUID, ref: str, token: str, **page: Any) -> str:
        """The exam tab's page (see `ExamTab.render` for what `page` may say)."""
        return self.tab.render(
            self.view(attempt_id),
            base=f"/w/{ref}",
            token=quote(token),
            marked=self.marked(ref),
            **page,
        )

    def answer(
        self, attempt_id: UUID, question_id: str, text: str, choices: tuple[str, ...]
    ) -> None:
        """Save one answer through the use case (domain rules apply: time, same day…)."""
        assert self._answer is not None
        self._answer(attempt_id, question_id, text, choices)

    def save_form(self, attempt_id: UUID, ref: str, form: dict[str, list[str]]) -> None:
        """The whole exam posted at once (a browser without scripts): every answer that
        differs from the saved one is saved, and the marks are the ones ticked."""
        if form.get("question_id"):  # one answer, as the page's script sends it
            self.answer(
                attempt_id,
                form["question_id"][0],
                form.get("answer", [""])[0],
                tuple(form.get("choice", [])),
            )
            return
        if form.get("form") != ["all"]:
            return
        view = self.view(attempt_id)
        for question in view.questions:
            qid = question.question_id
            text = form.get(f"answer-{qid}", [""])[0]
            choices = tuple(form.get(f"choice-{qid}", []))
            if (text, choices) != (question.given.text, tuple(question.given.choices)):
                self.answer(attempt_id, qid, text, choices)
        ticked = set(form.get("mark", []))
        with self._lock:
            state = self._workspaces.get(ref)
            if state is not None:
                state.marked = ticked & {q.question_id for q in view.questions}

    def finish(self, attempt_id: UUID) -> None:
        """End the exam (R18: its results are then shown in the proctoring tab)."""
        assert self._finish is not None
        self._finish(attempt_id)


def _handler_for(workspaces: BuiltinWorkspaces) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "VigieWorkspace/1"
        # A client that announces a body and stops sending holds a thread this long at most.
        timeout = BODY_TIMEOUT_S

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: requests are not personal-data logs."""

        def _route(self) -> tuple[str, str, str, UUID] | None:
            parsed = urlparse(self.path)
            parts = parsed.path.strip("/").split("/")
            token = parse_qs(parsed.query).get("t", [""])[0]
            if len(parts) < 2 or parts[0] != "w":
                self._send(HTTPStatus.NOT_FOUND, workspaces.tab.gone(), "text/html")
                return None
            ref, action = parts[1], parts[2] if len(parts) > 2 else ""
            attempt_id = workspaces._attempt_for(ref, token)
            if attempt_id is None:
                self._send(HTTPStatus.GONE, workspaces.tab.gone(), "text/html")
                return None
            return ref, action, token, attempt_id

        def _send(self, status: HTTPStatus, body: str, content_type: str = "text/plain") -> None:
            self._send_bytes(status, body.encode("utf-8"), f"{content_type}; charset=utf-8")

        def _send_bytes(self, status: HTTPStatus, data: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def _json(self, status: HTTPStatus, body: dict[str, object]) -> None:
            self._send(status, json.dumps(body), "application/json")

        def _back(self, ref: str, token: str, query: str = "", anchor: str = "") -> None:
            self.send_response(HTTPStatus.SEE_OTHER)
            self.send_header("Location", f"/w/{ref}?t={quote(token)}{query}{anchor}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            parsed = urlparse(self.path)
            if parsed.path.startswith("/static/"):
                found = static_file(parsed.path.removeprefix("/static/"))
                if found is None:
                    self._send(HTTPStatus.NOT_FOUND, "")
                else:
                    self._send_bytes(HTTPStatus.OK, found[0], f"{found[1]}; charset=utf-8")
                return
            route = self._route()
            if route is None:
                return
            ref, action, token, attempt_id = route
            if action:
                self._send(HTTPStatus.NOT_FOUND, workspaces.tab.gone(), "text/html")
                return
            workspaces._beat(ref)
            saved = parse_qs(parsed.query).get("saved") == ["1"]
            page = workspaces.render(attempt_id, ref, token, saved=saved)
            self._send(HTTPStatus.OK, page, "text/html")

        def _form(self) -> dict[str, list[str]] | None:
            """The posted form, read within MAX_FORM_BYTES whatever the headers say (issue
            14); None once a 400 or 413 was answered (the connection then closes)."""
            try:
                body = read_body(self.headers, self.rfile, MAX_FORM_BYTES)
            except BodyRefused as refused:
                self.close_connection = True
                self._send(refused.status, "")
                self._linger()
                return None
            try:  # not UTF-8, or more fields than any exam has: unreadable
                text = body.decode("utf-8")
                return parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
            except ValueError:
                self._send(HTTPStatus.BAD_REQUEST, "")
                return None

        def _linger(self) -> None:
            """After refusing a body it did not read, the answer must reach the client:
            closing with unread bytes would reset the connection and could destroy the reply
            in flight. So: flush, stop writing, and drain (bounded in bytes and time)."""
            with contextlib.suppress(OSError):
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_WR)
                self.connection.settimeout(LINGER_S)
                drained = 0
                while drained < LINGER_BYTES:
                    chunk = self.connection.recv(65536)
                    if not chunk:
                        break
                    drained += len(chunk)

        def do_POST(self) -> None:
            route = self._route()
            if route is None:
                return
            ref, action, token, attempt_id = route
            if action == "closed":
                workspaces._closed(ref)
                self._send(HTTPStatus.NO_CONTENT, "")
                return
            if action == "beat":
                workspaces._beat(ref)
                self._send(HTTPStatus.NO_CONTENT, "")
                return
            if action not in ("answer", "mark", "finish", "leave"):
                self._send(HTTPStatus.NOT_FOUND, workspaces.tab.gone(), "text/html")
                return
            form = self._form()
            if form is None:
                return
            if form.get("closing") != ["1"]:  # the last answers of a closing tab are no beat
                workspaces._beat(ref)
            fetched = self.headers.get(FETCHED) == "1"
            if action == "mark":
                question_id = form.get("question_id", [""])[0]
                workspaces.mark(ref, question_id, form.get("marked") == ["1"])
                if fetched:
                    self._json(HTTPStatus.OK, {"marked": question_id in workspaces.marked(ref)})
                else:
                    self._back(ref, token, "&saved=1", f"#q-{quote(question_id)}")
                return
            try:
                workspaces.save_form(attempt_id, ref, form)
                if action == "finish" and form.get("confirm") == ["yes"]:
                    workspaces.finish(attempt_id)
                    page = workspaces.render(attempt_id, ref, token, state="finished")
                    self._send(HTTPStatus.OK, page, "text/html")
                    return
            except DomainError as refused:
                language = workspaces.view(attempt_id).language
                message, rule = refusal_for(refused, language)
                if fetched:
                    self._json(HTTPStatus.CONFLICT, {"error": message, "rule": rule})
                    return
                page = workspaces.render(attempt_id, ref, token, message=message, rule=rule)
                self._send(HTTPStatus.CONFLICT, page, "text/html")
                return
            if action == "finish":  # asked without the confirmation: ask for it
                page = workspaces.render(attempt_id, ref, token, state="confirm-finish")
                self._send(HTTPStatus.OK, page, "text/html")
            elif action == "leave":
                # R23's « Quitter »: silent from now on, as when the tab is closed.
                workspaces._closed(ref)
                page = workspaces.render(attempt_id, ref, token, state="left")
                self._send(HTTPStatus.OK, page, "text/html")
            elif form.get("closing") == ["1"]:  # nobody reads the answer: no page, no beat
                self._send(HTTPStatus.NO_CONTENT, "")
            elif fetched:
                self._json(HTTPStatus.OK, {"saved": True})
            else:
                anchor = form.get("save", [""])[0] or form.get("question_id", [""])[0]
                self._back(ref, token, "&saved=1", f"#q-{quote(anchor)}" if anchor else "")

    return Handler
