"""An embedded SMTP server that keeps what it receives: for local runs, demos and tests.

Nothing leaves the machine: every message accepted is stored in memory and, when a
directory is given, in a Maildir that `read_maildir` (and `vigie mailbox`) can read back.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import mailbox
import re
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class Delivery:
    """One message as it arrived: the bytes stored, the envelope, and the client's address."""

    raw: bytes
    mail_from: str
    rcpt_tos: tuple[str, ...]
    peer: tuple[str, int]

    def message(self) -> EmailMessage:
        """The stored bytes parsed as a modern `EmailMessage`."""
        return _parse(self.raw)


def _parse(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)  # guaranteed by policy.default's factory
    return parsed


def _domain(address: str) -> str:
    return address.rpartition("@")[2].strip().rstrip(">").lower()


class _Handler:
    """aiosmtpd handler hooks; they run on the controller's event-loop thread."""

    def __init__(self, capture: SmtpCapture) -> None:
        self._capture = capture
        self._accepted: weakref.WeakKeyDictionary[Session, int] = weakref.WeakKeyDictionary()

    async def handle_MAIL(  # noqa: N802
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        limit = self._capture.messages_per_connection
        if limit is not None and self._accepted.get(session, 0) >= limit and server.transport:
            transport = server.transport
            reply = self._capture.hang_up_reply
            if reply is None:
                transport.close()  # without a word: what a dead link looks like
                return "421 4.4.2 connection closed"  # written to nobody
            asyncio.get_running_loop().call_soon(transport.close)  # once the reply is out
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802 - aiosmtpd finds hooks by these names
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        domain = _domain(address)
        if domain in self._capture.refuse_domains:
            return f"550 5.1.2 <{address}>: recipient domain refused"
        if domain in self._capture.defer_domains:
            return f"450 4.3.2 <{address}>: recipient deferred, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        mail_from = envelope.mail_from or ""
        # Trace headers as a delivering MTA would write them: the envelope is otherwise lost,
        # and it is what a test must check (the To header can differ from the recipient).
        trace = f"Return-Path: <{mail_from}>\r\n" + "".join(
            f"Delivered-To: {rcpt}\r\n" for rcpt in envelope.rcpt_tos
        )
        peer = session.peer if isinstance(session.peer, tuple) else ("", 0)
        delivery = Delivery(
            raw=trace.encode("utf-8") + content,
            mail_from=mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            peer=(str(peer[0]), int(peer[1])),
        )
        try:
            self._capture._store(delivery)
        except OSError as error:
            # A full disk is our trouble, not the message's: ask the client to come back.
            return f"451 4.3.0 cannot store the message: {error.strerror}"
        self._accepted[session] = self._accepted.get(session, 0) + 1
        return "250 2.0.0 Message accepted for delivery"


class _Controller(Controller):
    """A controller that can listen on port 0.

    aiosmtpd's own start-up check connects to the configured port, which for 0 is not the
    port the kernel picked; read it back from the bound socket first.
    """

    def _trigger_server(self) -> None:
        if self.port == 0 and isinstance(self.server, asyncio.Server):
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class SmtpCapture:
    """A local SMTP server storing every message it accepts.

    `port=0` picks a free port at the first `start()`; later restarts keep that port, so a
    client can be pointed at a capture that goes down and comes back. Recipients in
    `refuse_domains` get a permanent 550, those in `defer_domains` a transient 450. With
    `messages_per_connection`, the next MAIL on a connection that carried that many is
    answered `hang_up_reply` (a 421, as servers limiting sessions do; None: not a word) and
    the connection is closed, which is how a client meets a connection it thought alive.
    """

    def __init__(
        self,
        mailbox_dir: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        refuse_domains: Iterable[str] = (),
        defer_domains: Iterable[str] = (),
        messages_per_connection: int | None = None,
        hang_up_reply: str | None = "421 4.7.0 Too many messages on this connection, closing",
    ) -> None:
        self.host = host
        self.port = port
        self.mailbox_dir = mailbox_dir
        self.refuse_domains = frozenset(d.lower() for d in refuse_domains)
        self.defer_domains = frozenset(d.lower() for d in defer_domains)
        self.messages_per_connection = messages_per_connection
        self.hang_up_reply = hang_up_reply
        self._deliveries: list[Delivery] = []
        self._arrived = threading.Condition()
        self._controller: _Controller | None = None
        self._maildir: mailbox.Maildir | None = None
        if mailbox_dir is not None:
            # Maildir(create=True) leaves an existing directory without its subfolders.
            for folder in ("tmp", "new", "cur"):
                (mailbox_dir / folder).mkdir(parents=True, exist_ok=True)
            self._maildir = mailbox.Maildir(mailbox_dir, create=True)

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._controller is not None

    def start(self) -> Self:
        """Listen (idempotent); `.port` is the real port afterwards."""
        if self._controller is not None:
            return self
        # A controller's loop is closed when it stops: a restart needs a new controller.
        # server_hostname: without it every session would look up the machine's FQDN.
        controller = _Controller(
            _Handler(self), hostname=self.host, port=self.port, server_hostname="vigie-capture"
        )
        controller.start()
        self.port = controller.port
        self._controller = controller
        return self

    def stop(self) -> None:
        """Stop listening and drop open connections (idempotent)."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _store(self, delivery: Delivery) -> None:
        # Maildir writes into tmp/ then renames into new/: a reader never sees half a file.
        if self._maildir is not None:
            self._maildir.add(delivery.raw)
        with self._arrived:
            self._deliveries.append(delivery)
            self._arrived.notify_all()

    def deliveries(self) -> list[Delivery]:
        """Every delivery since the last `clear()`, in arrival order."""
        with self._arrived:
            return list(self._deliveries)

    def messages(self) -> list[EmailMessage]:
        """Every message since the last `clear()`, parsed, in arrival order."""
        return [delivery.message() for delivery in self.deliveries()]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """Block until at least `count` messages arrived; TimeoutError otherwise."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._deliveries) >= count, timeout):
                raise TimeoutError(
                    f"{len(self._deliveries)} message(s) arrived within {timeout}s, "
                    f"expected {count}"
                )
        return self.messages()

    def clear(self) -> None:
        """Forget the messages kept in memory (the Maildir, a user's mailbox, is kept)."""
        with self._arrived:
            self._deliveries.clear()


# Maildir names start with `<seconds>.M<microseconds>P<pid>Q<counter>` (Python's and most
# MTAs'); they order deliveries more finely than file times do.
_MAILDIR_NAME = re.compile(r"^(\d+)\.M(\d+)P\d+Q(\d+)")


def read_maildir(path: Path) -> list[EmailMessage]:
    """The messages of a Maildir, oldest first; FileNotFoundError when there is none."""
    if not (path / "new").is_dir() and not (path / "cur").is_dir():
        raise FileNotFoundError(f"no Maildir at {path}")
    box = mailbox.Maildir(path, create=False)
    dated: list[tuple[tuple[float, int, str], bytes]] = []
    for key in box.iterkeys():
        found = _MAILDIR_NAME.match(key)
        if found:
            order = (int(found[1]) + int(found[2]) / 1e6, int(found[3]), key)
        else:
            order = (box.get_message(key).get_date(), 0, key)
        dated.append((order, box.get_bytes(key)))
    dated.sort(key=lambda item: item[0])
    return [_parse(raw) for _, raw in dated]
