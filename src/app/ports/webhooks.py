"""The webhook port: one signed HTTP POST to a centre's machine (issue 16). Which events are
told, the body, the signature and the retries are the application's (app.webhooks)."""

from __future__ import annotations

from typing import Protocol


class WebhookUnreachable(Exception):
    """No answer: the address does not resolve or connect, or the receiver took too long.
    Tried again later, as an error status is."""


class AddressRefused(Exception):
    """Nothing was sent: the URL's host (`host`) leads to `address`, in the platform's own
    network, which the operator did not allow (domain.internal_network). Not tried again."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} leads to {address}, in the platform's internal network")
        self.host = host
        self.address = address


class WebhookPoster(Protocol):
    """Posts one webhook."""

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST `body` with `headers` to `url`; the receiver's status code (any, 2xx or not),
        WebhookUnreachable when none came back in time, AddressRefused (before connecting)
        when the host or any address it resolves to is in the platform's internal network
        and not allowed. Redirects are answers, never followed."""
        ...

    def close(self) -> None:
        """Release connections (idempotent)."""
        ...
