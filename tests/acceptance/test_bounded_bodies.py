# ruff: noqa: F811 (the fixtures imported from test_exam_delivery are parameters here)
"""Issue 14, point 5: a body is read no further than its limit, whatever its headers say —
negative, absent, chunked or lying. The built-in workspace's 64 KiB limit was bypassed with
`Content-Length: -1`; since issue 15 the exam tab is served by the platform itself, so its
routes' 64 KiB and the platform's own limit are both checked over raw sockets against the
real server (uvicorn), since a test client never sends such headers."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import urlparse

import pytest
import uvicorn

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from adapters.launcher.builtin import MAX_FORM_BYTES
from app.mail_rendering import SupportContact
from tests.acceptance.test_exam_delivery import (  # noqa: F401 (fixtures)
    attempt_of,
    in_exam,
    platform,
)
from tests.acceptance.web import her_browser
from tests.browser.conftest import _free_port
from ui.journey import PARIS, Journey
from ui.web.app import create_app
from ui.web.edge import MAX_BODY_BYTES


def exchange(host: str, port: int, head: str, body: bytes = b"", *, half_close: bool = True) -> int:
    """Send a raw request (head lines, then the body as given) and read the reply's status."""
    with socket.create_connection((host, port), timeout=15) as connection:
        # The server may answer and stop reading before the whole body is sent (a refusal):
        # sending the rest then fails, and the answer is what counts.
        with contextlib.suppress(OSError):
            connection.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
            if half_close:
                connection.shutdown(socket.SHUT_WR)
        reply = b""
        while b"\r\n" not in reply:
            chunk = connection.recv(4096)
            if not chunk:
                break
            reply += chunk
    return int(reply.split(b" ", 2)[1]) if reply else 0


def chunked(data: bytes, size: int = 8192) -> bytes:
    pieces = [data[i : i + size] for i in range(0, len(data), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def answer_form(text: str) -> bytes:
    return f"question_id=tables-taille&answer={text}".encode()


# --- the built-in workspace's routes (/w/<ref>/…, at most 64 KiB) -----------------------------

WORKSPACE_BODIES = {
    "Content-Length: -1 and 100 KiB": (["Content-Length: -1"], answer_form("x" * 100_000), 400),
    "Content-Length: +5": (["Content-Length: +5"], answer_form("x"), 400),
    "two different lengths": (["Content-Length: 5", "Content-Length: 6"], b"abcdef", 400),
    "a length over 64 KiB": ([f"Content-Length: {MAX_FORM_BYTES + 1}"], b"", 413),
    "chunked over 64 KiB": (
        ["Transfer-Encoding: chunked"],
        chunked(answer_form("x" * (MAX_FORM_BYTES + 10))),
        413,
    ),
    "chunks of garbage": (["Transfer-Encoding: chunked"], b"zz\r\nhello\r\n0\r\n\r\n", 400),
    # The client stops and half-closes: uvicorn closes the connection unread (no status, 0
    # here) or Litestar says 400 (« client disconnected prematurely »); never a 500.
    "a length it never sends": (["Content-Length: 5000"], answer_form("short"), {0, 400}),
    "invalid UTF-8": (["Content-Length: 30"], b"question_id=tables-taille&a=\xff\xfe", 400),
}


@pytest.mark.parametrize("case", WORKSPACE_BODIES.values(), ids=WORKSPACE_BODIES.keys())
def test_the_workspace_reads_a_body_within_its_limit_whatever_the_headers_say(
    platform: Platform, case: tuple[list[str], bytes, int | set[int]]
) -> None:
    headers, body, status = case
    statuses = status if isinstance(status, set) else {status}
    journey = in_exam(platform)
    assert journey.attempt_id is not None
    url = urlparse(attempt_of(journey).workspace_url)
    before = len(platform.ctx.store.history(journey.attempt_id))
    head = "\n".join(
        [
            f"POST {url.path}/answer?{url.query} HTTP/1.1",
            f"Host: {url.netloc}",
            f"Cookie: {her_browser(journey)}",  # her own browser: refused for the body alone
            *headers,
            "",
        ]
    )
    # Sent whole, the connection kept open for the answer: uvicorn closes a half-closed
    # connection at once, before the app could answer (only the lying length half-closes).
    got = exchange(url.hostname or "", url.port or 0, head, body, half_close=0 in statuses)
    assert got in statuses
    assert len(platform.ctx.store.history(journey.attempt_id)) == before  # nothing saved


def test_a_chunked_answer_within_the_limit_is_saved(platform: Platform) -> None:
    """Chunked is a way to send, not a refusal: a browser's small answer in chunks is kept."""
    journey = in_exam(platform)
    url = urlparse(attempt_of(journey).workspace_url)
    head = "\n".join(
        [
            f"POST {url.path}/answer?{url.query} HTTP/1.1",
            f"Host: {url.netloc}",
            f"Cookie: {her_browser(journey)}",
            "Transfer-Encoding: chunked",
            "",
        ]
    )
    status = exchange(
        url.hostname or "", url.port or 0, head, chunked(answer_form("ok"), 7), half_close=False
    )
    assert status == 303
    assert attempt_of(journey).answers["tables-taille"] == "ok"


# --- the platform (Litestar behind uvicorn) --------------------------------------------------


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[int, Journey]]:
    port = _free_port()
    platform = bootstrap(
        Settings(database_url="memory:", media_root=None, secret_key="b" * 32),
        clock=ManualClock(datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(41),
    )
    journey = Journey(platform, email="bodies@example.org")
    journey.enrol()
    journey.create_session()
    app = create_app(platform, secret=b"b" * 32, support=SupportContact())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield port, journey
    server.should_exit = True
    thread.join(timeout=10)
    platform.close()


PLATFORM_BODIES = {
    "Content-Length: -1": (["Content-Length: -1"], b"email=a&password=b", 400),
    "Content-Length: abc": (["Content-Length: abc"], b"email=a", 400),
    "a length over the limit": (
        [f"Content-Length: {MAX_BODY_BYTES + 1}"],
        b"email=" + b"a" * (MAX_BODY_BYTES - 5),
        413,
    ),
    "chunked over the limit": (
        ["Transfer-Encoding: chunked"],
        chunked(b"email=" + b"a" * (MAX_BODY_BYTES + 10), 1024 * 1024),
        413,
    ),
}


@pytest.mark.parametrize("case", PLATFORM_BODIES.values(), ids=PLATFORM_BODIES.keys())
def test_the_platform_reads_a_body_within_its_limit_whatever_the_headers_say(
    served: tuple[int, Journey], case: tuple[list[str], bytes, int]
) -> None:
    port, _ = served
    headers, body, status = case
    head = "\n".join(
        [
            "POST /password/forgot HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Content-Type: application/x-www-form-urlencoded",
            *headers,
            "",
        ]
    )
    got = exchange("127.0.0.1", port, head, body)
    # uvicorn refuses a malformed length itself (400); Litestar refuses beyond its limit
    # (413) before the CSRF check or the handler reads anything.
    assert got == status


def test_an_anonymous_post_to_the_connection_test_is_refused_unread(
    served: tuple[int, Journey],
) -> None:
    """Issue 14: `upload-test` took anyone's posts. Without a log-in it is refused (the
    CSRF check first, then the log-in guard), and a logged-in stranger's session is not his."""
    port, journey = served
    head = "\n".join(
        [
            f"POST /exams/{journey.session_id}/upload-test HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Content-Type: application/octet-stream",
            "Content-Length: 262144",
            "",
        ]
    )
    status = exchange("127.0.0.1", port, head, b"\0" * 262144)
    assert status in (302, 401, 403), status
