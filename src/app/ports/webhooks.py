"""The webhook port: one signed HTTP POST to a centre's machine (issue 16). Which events are
told, the body, the signature and the retries are the application's (app.webhooks)."""

from __future__ import annotations

from typing import Protocol


class WebhookUnreachable(Exception):
    """No answer: the address does not resolve or connect, or the receiver took too long.
    Tried again later, as an error status is."""


class WebhookPoster(Protocol):
    """Posts one webhook."""

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST `body` with `headers` to `url`; the receiver's status code (any, 2xx or not),
        or WebhookUnreachable when none came back in time."""
        ...

    def close(self) -> None:
        """Release connections (idempotent)."""
        ...
