"""The WebhookPoster contract (issue 16): a post reaches its receiver byte for byte with its
headers, the receiver's status comes back whatever it is (an error status is an answer, not
an exception; a redirect too, never followed), an address where nothing answers is
`WebhookUnreachable`, and an address of the platform's internal network the poster was not
allowed to reach is `AddressRefused`, before any connection.

The `adapter` is a `Harness`: the poster, a way to make a receiver answering a given status,
and what the receivers got. `LocalReceiver` is a real HTTP receiver on 127.0.0.1 for posters
that speak HTTP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.ports.webhooks import AddressRefused, WebhookPoster, WebhookUnreachable

__all__ = [
    "harness",
    "test_a_post_reaches_its_receiver_intact_and_its_status_comes_back",
    "test_a_redirect_is_an_answer_never_followed",
    "test_an_address_of_the_platforms_network_is_refused_before_any_connection",
    "test_an_address_where_nothing_answers_is_unreachable",
    "test_an_error_status_is_an_answer_not_an_exception",
    "test_any_body_survives_the_trip",
]


class Received(NamedTuple):
    """What a receiver got of one post."""

    url: str
    body: bytes
    headers: dict[str, str]  # names lower-cased


@dataclass(frozen=True)
class Harness:
    """One poster, receivers to post to, and what they got."""

    poster: WebhookPoster
    receiver: Callable[[int], str]  # the address of a receiver answering that status
    received: Callable[[], list[Received]]  # every post received so far, oldest first
    unreachable: str  # an address where nothing answers
    on_close: Callable[[], None] | None = None  # stops the receivers, if any
    # An address of the platform's internal network the poster was not allowed to reach
    # (http://169.254.169.254/…, the cloud's metadata); None for a poster that reaches no
    # network (the in-memory one).
    refused: str | None = None

    def close(self) -> None:
        self.poster.close()
        if self.on_close is not None:
            self.on_close()


@pytest.fixture
def harness(adapter: Harness) -> Harness:
    if not isinstance(adapter, Harness):
        pytest.fail("the factory must return a vigie_contracts.webhook_poster.Harness")
    return adapter


HEADERS = {
    "content-type": "application/json",
    "webhook-id": "0d4e6b7a-2c51-4f3e-8a9d-6e1f2b3c4d5e",
    "webhook-timestamp": "1735689600",
    "webhook-signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
}
BODY = '{"type":"session.created","data":{"note":"Élodie’s centre ✓"}}'.encode()


def test_a_post_reaches_its_receiver_intact_and_its_status_comes_back(harness: Harness) -> None:
    url = harness.receiver(204)
    assert harness.poster.post(url, BODY, HEADERS) == 204
    [got] = [r for r in harness.received() if r.url == url]
    assert got.body == BODY
    assert {k: got.headers.get(k) for k in HEADERS} == HEADERS


@pytest.mark.parametrize("status", [400, 410, 500, 503])
def test_an_error_status_is_an_answer_not_an_exception(harness: Harness, status: int) -> None:
    assert harness.poster.post(harness.receiver(status), BODY, HEADERS) == status


def test_a_redirect_is_an_answer_never_followed(harness: Harness) -> None:
    """A signed body goes only where the centre said: a 3xx (a receiver's, or an attacker's
    sending the worker into the platform's network) comes back as the answer."""
    url = harness.receiver(302)
    before = len(harness.received())
    assert harness.poster.post(url, BODY, HEADERS) == 302
    assert [r.url for r in harness.received()[before:]] == [url]


def test_an_address_of_the_platforms_network_is_refused_before_any_connection(
    harness: Harness,
) -> None:
    if harness.refused is None:
        pytest.skip("this poster reaches no network")
    started = time.monotonic()
    with pytest.raises(AddressRefused) as refused:
        harness.poster.post(harness.refused, BODY, HEADERS)
    assert refused.value.address and refused.value.host
    assert time.monotonic() - started < 1, "refused before connecting, not after a timeout"


def test_an_address_where_nothing_answers_is_unreachable(harness: Harness) -> None:
    with pytest.raises(WebhookUnreachable):
        harness.poster.post(harness.unreachable, BODY, HEADERS)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=2000))
def test_any_body_survives_the_trip(harness: Harness, body: bytes) -> None:
    url = harness.receiver(200)
    assert harness.poster.post(url, body, HEADERS) == 200
    assert harness.received()[-1] == Received(url, body, harness.received()[-1].headers)


@dataclass
class LocalReceiver:
    """A real HTTP receiver on 127.0.0.1 (a free port): `/status/<n>` answers n."""

    got: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                url = f"{receiver.base}{self.path}"
                with receiver._lock:
                    receiver.got.append(
                        Received(url, body, {k.lower(): v for k, v in self.headers.items()})
                    )
                status = int(self.path.rsplit("/", 1)[-1])
                self.send_response(status)
                if 300 <= status < 400:  # onwards to another receiver, were it followed
                    self.send_header("location", receiver.url(204))
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, status: int) -> str:
        return f"{self.base}/status/{status}"

    def received(self) -> list[Received]:
        with self._lock:
            return list(self.got)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def closed_port_url() -> str:
    """An address on 127.0.0.1 where nothing listens (a port just freed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/nobody"


# The cloud's metadata service: a poster allowed 127.0.0.0/8 only must refuse it.
METADATA_URL = "http://169.254.169.254/latest/meta-data/"


def http_harness(poster: WebhookPoster, refused: str | None = METADATA_URL) -> Harness:
    """The harness of a poster that speaks HTTP, with a `LocalReceiver` on 127.0.0.1, which
    the poster must be allowed to reach, and nothing else of the platform's network (a
    factory for `vigie contract-tests --port webhook-poster`:
    `lambda: http_harness(MyPoster(allowed=127.0.0.0/8))`)."""
    receiver = LocalReceiver()
    return Harness(
        poster, receiver.url, receiver.received, closed_port_url(), receiver.close, refused
    )
