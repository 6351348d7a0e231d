"""The WebhookPoster contract (vigie_contracts.webhook_poster), run against the in-memory
poster and against httpx posting to a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.webhooks.http import HttpPoster
from adapters.webhooks.memory import MemoryPoster
from app.ports.webhooks import WebhookUnreachable
from vigie_contracts.webhook_poster import *  # noqa: F403 (the packaged contract bodies)
from vigie_contracts.webhook_poster import Harness, Received, http_harness


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
    made = memory_harness() if request.param == "memory" else http_harness(HttpPoster(5.0, 2.0))
    yield made
    made.close()


def test_a_receiver_slower_than_the_timeout_is_unreachable() -> None:
    """httpx only: a receiver that never answers costs the worker the timeout, no more."""
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        poster = HttpPoster(timeout=0.5, connect_timeout=0.5)
        started = time.monotonic()
        with pytest.raises(WebhookUnreachable):
            poster.post(f"http://127.0.0.1:{silent.getsockname()[1]}/", b"{}", {})
        assert time.monotonic() - started < 3
        poster.close()
