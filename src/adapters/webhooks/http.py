"""Webhooks over HTTP with httpx: bounded timeouts (a slow receiver holds one worker thread
for at most `timeout` seconds), no redirects followed (a signed body goes only where the
centre said), and the receiver's status returned whatever it is."""

from __future__ import annotations

import threading

import httpx

from app.ports.webhooks import WebhookUnreachable

CONNECT_TIMEOUT_S = 5.0
TIMEOUT_S = 10.0
USER_AGENT = "Vigie-Webhooks/1"


class HttpPoster:
    """A WebhookPoster over one httpx client (connections kept between deliveries)."""

    def __init__(self, timeout: float = TIMEOUT_S, connect_timeout: float = CONNECT_TIMEOUT_S):
        self._timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    timeout=self._timeout,
                    follow_redirects=False,
                    headers={"user-agent": USER_AGENT},
                    trust_env=False,  # a proxy from the environment would see every body
                )
            return self._client

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        try:
            reply = self._http().post(url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise WebhookUnreachable(f"{type(error).__name__}: {error}") from None
        return reply.status_code

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
