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

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, quote, urlparse
from uuid import UUID

from jinja2 import Environment, StrictUndefined

from app.exam_desk import DeskView
from app.links import LinkSigner
from app.ports.exam_launcher import Workspace, WorkspaceFailed
from domain.errors import DomainError

ViewFunction = Callable[[UUID], DeskView]
AnswerFunction = Callable[[UUID, str, str, tuple[str, ...]], None]
MAX_FORM_BYTES = 64 * 1024

_PAGE = Environment(autoescape=True, undefined=StrictUndefined).from_string(
    (resources.files("adapters.launcher") / "workspace_page.jinja").read_text(encoding="utf-8")
)


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

    # --- wiring ------------------------------------------------------------------------------

    def bind(self, view: ViewFunction, answer: AnswerFunction) -> None:
        """Give the workspace what it serves: the desk view and the answer use case."""
        self._view, self._answer = view, answer

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
        if self._view is None or self._answer is None:
            raise WorkspaceFailed("the built-in workspace is not bound to the exam desk")
        self.start()
        ref = f"ws-{attempt_id}"
        with self._lock:
            # Reopened after it was lost (R23): its silence counts again from now.
            self._workspaces[ref] = _State(attempt_id, self._monotonic())
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

    def render(self, attempt_id: UUID, ref: str, token: str, message: str = "") -> str:
        """The exam tab's page."""
        assert self._view is not None
        return _PAGE.render(
            view=self._view(attempt_id), base=f"/w/{ref}", token=quote(token), message=message
        )

    def answer(self, attempt_id: UUID, form: dict[str, list[str]]) -> None:
        """Save one answer through the use case (domain rules apply: time, same day…)."""
        assert self._answer is not None
        question_id = form.get("question_id", [""])[0]
        text = form.get("answer", [""])[0]
        choices = tuple(form.get("choice", []))
        self._answer(attempt_id, question_id, text, choices)


def _handler_for(workspaces: BuiltinWorkspaces) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "VigieWorkspace/1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: requests are not personal-data logs."""

        def _route(self) -> tuple[str, str, str, UUID] | None:
            parsed = urlparse(self.path)
            parts = parsed.path.strip("/").split("/")
            token = parse_qs(parsed.query).get("t", [""])[0]
            if len(parts) < 2 or parts[0] != "w":
                self._send(HTTPStatus.NOT_FOUND, "Page inconnue.")
                return None
            ref, action = parts[1], parts[2] if len(parts) > 2 else ""
            attempt_id = workspaces._attempt_for(ref, token)
            if attempt_id is None:
                self._send(HTTPStatus.GONE, "Cet espace d'examen n'est pas (ou plus) disponible.")
                return None
            return ref, action, token, attempt_id

        def _send(self, status: HTTPStatus, body: str, content_type: str = "text/plain") -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            route = self._route()
            if route is None:
                return
            ref, action, token, attempt_id = route
            if action:
                self._send(HTTPStatus.NOT_FOUND, "Page inconnue.")
                return
            workspaces._beat(ref)
            self._send(HTTPStatus.OK, workspaces.render(attempt_id, ref, token), "text/html")

        def do_POST(self) -> None:
            route = self._route()
            if route is None:
                return
            ref, action, token, attempt_id = route
            if action == "closed":
                workspaces._closed(ref)
                self._send(HTTPStatus.NO_CONTENT, "")
                return
            workspaces._beat(ref)
            if action == "beat":
                self._send(HTTPStatus.NO_CONTENT, "")
                return
            if action != "answer":
                self._send(HTTPStatus.NOT_FOUND, "Page inconnue.")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_FORM_BYTES:
                self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Réponse trop longue.")
                return
            form = parse_qs(self.rfile.read(length).decode("utf-8"), keep_blank_values=True)
            try:
                workspaces.answer(attempt_id, form)
            except DomainError as refused:
                page = workspaces.render(attempt_id, ref, token, message=str(refused))
                self._send(HTTPStatus.CONFLICT, page, "text/html")
                return
            self.send_response(HTTPStatus.SEE_OTHER)
            self.send_header("Location", f"/w/{ref}?t={quote(token)}")
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler
