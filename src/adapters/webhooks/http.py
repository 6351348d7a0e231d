"""Webhooks over HTTP with httpx: bounded timeouts (a slow receiver holds one worker thread
for at most `timeout` seconds), no redirects followed (a signed body goes only where the
centre said; a 3xx is the receiver's answer, recorded as a failed attempt), and the
receiver's status returned whatever it is.

Never into the platform's own network (domain.internal_network): the connection is made by
`GuardedBackend`, which resolves the host once, refuses it (`AddressRefused`, before any
connection) if any address it resolves to is internal and not allowed, and connects to the
addresses it checked, never asking the resolver again: a name that points at 127.0.0.1, or a
resolver that answers a public address to the check and 127.0.0.1 to the connection (DNS
rebinding), reaches nothing. TLS still checks the certificate against the URL's name."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterable, Sequence

import httpcore
import httpx

from app.ports.webhooks import AddressRefused, WebhookUnreachable
from domain.internal_network import NONE_ALLOWED, AllowedNetworks

CONNECT_TIMEOUT_S = 5.0
TIMEOUT_S = 10.0
USER_AGENT = "Vigie-Webhooks/1"

# host, port -> the addresses a resolver gives for them, in the order to try them.
Resolver = Callable[[str, int], Sequence[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """The system's resolver (getaddrinfo: /etc/hosts, then DNS), each address once."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's connections, made only to addresses checked against the platform's
    internal network: one resolution per connection, every address it gives checked, and
    the socket connected to one of those addresses (the system backend connects to an
    address literal without resolving anything)."""

    def __init__(self, allowed: AllowedNetworks, resolver: Resolver) -> None:
        self._allowed = allowed
        self._resolver = resolver
        self._system = httpcore.SyncBackend()

    def checked(self, host: str, port: int) -> list[str]:
        """Every address `host` resolves to, once each; AddressRefused when one of them is
        internal and not allowed (a host the operator named is let through whatever it
        resolves to). No address at all is a connection error (tried again later)."""
        try:
            addresses = list(self._resolver(host, port))
        except OSError as error:  # socket.gaierror: no such name, or no resolver
            raise httpcore.ConnectError(f"{host}: {error}") from None
        if not addresses:
            raise httpcore.ConnectError(f"{host}: no address")
        if self._allowed.allows_host(host):
            return addresses
        for address in addresses:
            if self._allowed.refuses(ipaddress.ip_address(address)):
                raise AddressRefused(host, address)
        return addresses

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        failure: Exception | None = None
        for address in self.checked(host, port):  # as socket.create_connection tries them
            try:
                return self._system.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        assert failure is not None  # `checked` gives at least one address
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("webhooks go over TCP only")

    def sleep(self, seconds: float) -> None:
        self._system.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport (TLS, HTTP/1.1, its pool), its connections made by a
    GuardedBackend. httpx takes no network backend, so its pool is replaced by one that
    does, with the same limits; an httpx whose pool is no longer `_pool` fails here, at
    construction, never by connecting unchecked."""

    def __init__(self, backend: GuardedBackend) -> None:
        super().__init__(trust_env=False)  # a proxy from the environment would see every body
        if not isinstance(getattr(self, "_pool", None), httpcore.ConnectionPool):
            raise RuntimeError("httpx's transport changed: its connections cannot be guarded")
        limits = httpx.Limits()
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


class HttpPoster:
    """A WebhookPoster over one httpx client (connections kept between deliveries), which
    reaches the platform's internal network only where `allowed` says (none by default);
    `resolver` is the system's unless a test gives its own."""

    def __init__(
        self,
        timeout: float = TIMEOUT_S,
        connect_timeout: float = CONNECT_TIMEOUT_S,
        *,
        allowed: AllowedNetworks = NONE_ALLOWED,
        resolver: Resolver = system_resolver,
    ) -> None:
        self._timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self._backend = GuardedBackend(allowed, resolver)
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    transport=GuardedTransport(self._backend),
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
