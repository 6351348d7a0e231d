"""Webhooks in memory: receivers are registered by address with the statuses they answer in
turn (the last one repeats); an address nobody registered is unreachable."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from app.ports.webhooks import WebhookUnreachable


@dataclass(frozen=True)
class Posted:
    url: str
    body: bytes
    headers: dict[str, str]
    status: int


@dataclass
class MemoryPoster:
    """A WebhookPoster whose receivers live in this process."""

    answers: dict[str, list[int]] = field(default_factory=dict)
    posted: list[Posted] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def receive(self, url: str, *statuses: int) -> None:
        """A receiver at `url` answering these statuses in turn (200 by default)."""
        with self._lock:
            self.answers[url] = list(statuses or (200,))

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        with self._lock:
            statuses = self.answers.get(url)
            if statuses is None:
                raise WebhookUnreachable(f"nothing listens at {url}")
            status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
            self.posted.append(Posted(url, bytes(body), dict(headers), status))
            return status

    def close(self) -> None:
        return None
