"""The WebhookPoster contract (vigie_contracts.webhook_poster), run against the in-memory
poster and against httpx posting to a real HTTP receiver on 127.0.0.1 (allowed to reach
127.0.0.0/8, and nothing else of the platform's network)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.webhooks.http import HttpPoster
from adapters.webhooks.memory import MemoryPoster
from app.ports.webhooks import AddressRefused, WebhookUnreachable
from domain.internal_network import AllowedNetworks
from vigie_contracts.webhook_poster import *  # noqa: F403 (the packaged contract bodies)
from vigie_contracts.webhook_poster import Harness, LocalReceiver, Received, http_harness

LOOPBACK = AllowedNetworks.parse("127.0.0.0/8")


def memory_harness() -> Harness:
    poster = MemoryPoster()

    def receiver(status: int) -> str:
        url = f"memory://receiver/{status}"
        poster.receive(url, status)
        return url

    def received() -> list[Received]:
        return [Received(p.url, p.body, dict(p.headers)) for p in poster.posted]

    return Harness(poster, receiver, received, "memory://nobody")


@pytest.fixture(params=["memory", "http"])
def adapter(request: pytest.FixtureRequest) -> Iterator[Any]:
    made = (
        memory_harness()
        if request.param == "memory"
        else http_harness(HttpPoster(5.0, 2.0, allowed=LOOPBACK))
    )
    yield made
    made.close()


def test_a_receiver_slower_than_the_timeout_is_unreachable() -> None:
    """httpx only: a receiver that never answers costs the worker the timeout, no more."""
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        poster = HttpPoster(timeout=0.5, connect_timeout=0.5, allowed=LOOPBACK)
        started = time.monotonic()
        with pytest.raises(WebhookUnreachable):
            poster.post(f"http://127.0.0.1:{silent.getsockname()[1]}/", b"{}", {})
        assert time.monotonic() - started < 3
        poster.close()


def test_every_address_a_name_resolves_to_is_checked_before_any_connection() -> None:
    """A public name with one record pointing at this machine is refused whole: connecting
    to the public one first would leave the other for the next try."""
    poster = HttpPoster(2.0, 2.0, resolver=lambda host, port: ["93.184.215.14", "127.0.0.1"])
    started = time.monotonic()
    with pytest.raises(AddressRefused) as refused:
        poster.post("https://hooks.centre-exemple.fr/vigie", b"{}", {})
    assert (refused.value.host, refused.value.address) == ("hooks.centre-exemple.fr", "127.0.0.1")
    assert time.monotonic() - started < 1, "refused before connecting to the public address"
    poster.close()


def test_the_connection_goes_to_the_address_checked_never_to_a_second_lookup() -> None:
    """DNS rebinding: a resolver answering an allowed address to the check and an internal
    one afterwards. The poster asks once and connects to what it checked."""
    receiver = LocalReceiver()
    asked: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"] if len(asked) == 1 else ["10.0.0.1"]

    poster = HttpPoster(2.0, 2.0, allowed=LOOPBACK, resolver=rebinding)
    port = receiver.base.rsplit(":", 1)[1]
    url = f"http://rebind.centre-exemple.fr:{port}/status/204"
    assert poster.post(url, b"{}", {}) == 204
    assert asked == ["rebind.centre-exemple.fr"]
    [got] = receiver.received()
    assert got.headers["host"] == f"rebind.centre-exemple.fr:{port}"  # the name, as sent
    poster.close()
    receiver.close()


def test_a_host_the_operator_named_is_reached_whatever_it_resolves_to() -> None:
    receiver = LocalReceiver()
    named = AllowedNetworks.parse("erp.corp")
    poster = HttpPoster(2.0, 2.0, allowed=named, resolver=lambda host, port: ["127.0.0.1"])
    port = receiver.base.rsplit(":", 1)[1]
    assert poster.post(f"http://erp.corp:{port}/status/204", b"{}", {}) == 204
    with pytest.raises(AddressRefused):  # another name at the same address is not
        poster.post(f"http://crm.corp:{port}/status/204", b"{}", {})
    assert len(receiver.received()) == 1
    poster.close()
    receiver.close()
