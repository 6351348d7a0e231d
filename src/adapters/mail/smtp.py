"""A Mailer speaking SMTP through aiosmtplib, for callers that are plain threads.

The application is synchronous, so the adapter owns one event loop in a daemon thread and
hands it coroutines. One SMTP connection is kept open and reused: opening a session (TCP,
EHLO, maybe STARTTLS and AUTH) costs more than sending a short mail.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import email.utils
import re
import threading
import unicodedata
from collections.abc import Coroutine
from datetime import UTC, datetime
from email.header import Header
from email.message import EmailMessage
from types import TracebackType
from typing import Any, Self, TypeVar

import aiosmtplib

from app.ports.mailer import Mail, MailRefused, MailUnavailable

T = TypeVar("T")

_NOT_IN_MSG_ID = re.compile(r"[^A-Za-z0-9._-]")
_DOTS = re.compile(r"\.{2,}")


def message_id(mail_id: str) -> str:
    """The Message-ID for an outbox id: the same id always gives the same header.

    Characters a msg-id cannot hold become dots, then runs of dots collapse and the ends
    are trimmed, since RFC 5322 wants a dot-atom on the left of the `@`.
    """
    left = _DOTS.sub(".", _NOT_IN_MSG_ID.sub(".", mail_id)).strip(".")
    return f"<{left or 'mail'}@vigie>"


def _recipient(to: str) -> str:
    """The bare address of a single recipient, or MailRefused: no server can fix it.

    Checked before the transaction opens: aiosmtplib lets a control character other than a
    line break (a NUL) through its own check, sends MAIL FROM, then refuses the address as
    it writes RCPT TO; that left the server's transaction open (see `_deliver`)."""
    control = next((c for c in to if unicodedata.category(c) == "Cc"), None)
    if control is not None:
        raise MailRefused(
            f"not an address: {to!r} (U+{ord(control):04X}, a control character, "
            "cannot be in an e-mail address)"
        )
    found = email.utils.getaddresses([to])
    if len(found) != 1:
        raise MailRefused(f"not one address: {to!r}")
    address = found[0][1]
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in address):
        raise MailRefused(f"not an address: {to!r}")
    return address


def _set_subject(message: EmailMessage, subject: str) -> None:
    if subject.isascii() or "\n" in subject or "\r" in subject:
        message["Subject"] = subject  # line breaks: let the policy refuse them
        return
    # Python's modern folder (3.11) drops the space between two encoded words when it folds
    # a long non-ASCII subject ("validée déjà" arrives "validéedéjà": CPython gh-144156).
    # The legacy Header class folds it correctly; set_raw stores its lines, which are short
    # enough that the generator sends them as they are.
    folded = Header(subject, "utf-8", header_name="Subject").encode(linesep="\n")
    message.set_raw("Subject", folded)


def build_message(mail: Mail, sender: str, now: datetime | None = None) -> EmailMessage:
    """The MIME message for a mail: text, plus an HTML alternative when there is one."""
    message = EmailMessage()
    try:
        _set_subject(message, mail.subject)
        message["From"] = sender
        message["To"] = mail.to
        message["Date"] = now or datetime.now(UTC)
        message["Message-ID"] = message_id(mail.mail_id)
        message.set_content(mail.text)
        if mail.html:
            message.add_alternative(mail.html, subtype="html")
        if mail.language:
            # After the body: set_content drops every Content-* header already there.
            message["Content-Language"] = mail.language
    except ValueError as error:  # a header with a line break, say: retrying cannot help
        raise MailRefused(f"cannot build mail {mail.mail_id!r}: {error}") from error
    return message


class _HungUp(Exception):
    """The server ended the session mid-transaction: a new connection may do better."""


def _refusal_or_deferral(code: int, text: str) -> Exception:
    # 5xx is the server's final word on this message; 4xx asks to come back later.
    if code >= 500:
        return MailRefused(f"{code} {text}")
    return MailUnavailable(f"{code} {text}")


DEFAULT_SENDER = "Vigie <no-reply@vigie.local>"  # VIGIE_SMTP_URL's from= names a real one


class SmtpMailer:
    """Sends mails through one SMTP server, on one connection reused across sends.

    Thread-safe: sends from several threads are queued on the connection. A connection the
    server dropped (restart, idle timeout) is reopened, and a send that finds its reused
    connection dead is tried once more on a fresh one. `start_tls=None` upgrades to TLS when
    the server offers it; `True` insists, `False` never does.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        use_tls: bool = False,
        start_tls: bool | None = None,
        username: str | None = None,
        password: str | None = None,
        sender: str = DEFAULT_SENDER,
        timeout: float = 10.0,
        local_hostname: str | None = None,
    ) -> None:
        if use_tls and start_tls:
            raise ValueError("use_tls and start_tls exclude each other")
        envelope_sender = email.utils.parseaddr(sender)[1]
        if "@" not in envelope_sender:
            raise ValueError(f"not a sender address: {sender!r}")
        self.host = host
        self.port = port
        self._use_tls = use_tls
        self._start_tls = start_tls
        self._username = username
        self._password = password
        self._sender = sender
        self._envelope_sender = envelope_sender
        self._timeout = timeout
        self._local_hostname = local_hostname
        # Touched only on the loop thread, hence no threading lock around them.
        self._client: aiosmtplib.SMTP | None = None
        self._lock: asyncio.Lock | None = None
        self._closed = False
        self._state = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"smtp-{host}:{port}", daemon=True
        )
        self._thread.start()

    @property
    def use_tls(self) -> bool:
        """Implicit TLS (smtps): a readiness probe greets the server the same way."""
        return self._use_tls

    # --- the synchronous side --------------------------------------------------------------

    def send(self, mail: Mail) -> None:
        """Deliver one mail; MailRefused (permanent) or MailUnavailable (transient)."""
        recipient = _recipient(mail.to)
        self._run(self._deliver(build_message(mail, self._sender), recipient))

    def close(self) -> None:
        """Say QUIT after the sends already queued, then stop the loop thread (idempotent)."""
        with self._state:
            if self._closed:
                return
            self._closed = True
        quitting = asyncio.run_coroutine_threadsafe(self._quit(), self._loop)
        # Past the deadline the sockets are closed below all the same.
        with contextlib.suppress(
            concurrent.futures.TimeoutError, concurrent.futures.CancelledError
        ):
            quitting.result(timeout=2 * self._timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        # Sends still queued would wait forever on a stopped loop: cancel them, so that
        # their callers get MailUnavailable instead.
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        if pending:
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        # A transport closes its socket on the loop's next turn: give it that turn.
        self._drop()
        self._loop.run_until_complete(asyncio.sleep(0))
        self._loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        # Checked and submitted under one lock: close() cannot slip in between and leave
        # the coroutine on a loop that no longer runs.
        with self._state:
            if self._closed:
                work.close()
                raise MailUnavailable("the SMTP mailer is closed")
            future = asyncio.run_coroutine_threadsafe(work, self._loop)
        try:
            return future.result()
        except concurrent.futures.CancelledError as error:
            raise MailUnavailable("the SMTP mailer was closed during the send") from error

    # --- the loop side ---------------------------------------------------------------------

    def _queue(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def _deliver(self, message: EmailMessage, recipient: str) -> None:
        async with self._queue():
            for attempt in (1, 2):
                reused = self._client is not None and self._client.is_connected
                client = await self._connection()
                try:
                    await self._transmit(client, message, recipient)
                    return
                except _HungUp as error:
                    self._drop()
                    # A reused connection can be dead without our knowing (an idle timeout,
                    # a restart we missed, a per-connection message limit answered by 421):
                    # one more try on a fresh one. Had the server in fact taken the message,
                    # the receiver sees its Message-ID twice and can drop the copy.
                    if not reused or attempt == 2:
                        raise MailUnavailable(f"the mail server hung up: {error}") from error
                except (MailRefused, MailUnavailable):
                    # The next mail, whoever it is for, goes on this connection: it must find
                    # no transaction left open by this one. aiosmtplib says RSET after a
                    # refusal the server gave, not after one of its own between MAIL FROM and
                    # RCPT TO (a NUL in the address: the next mail got « 503 nested MAIL
                    # command » and was given up, a tester's tour), and not when that RSET
                    # was itself refused.
                    await self._reset(client)
                    raise
                except BaseException:
                    self._drop()  # a cancelled send, or a fault of ours: start afresh
                    raise

    async def _transmit(
        self, client: aiosmtplib.SMTP, message: EmailMessage, recipient: str
    ) -> None:
        """One SMTP transaction, its failures put in the port's terms."""
        try:
            await client.send_message(message, sender=self._envelope_sender, recipients=[recipient])
        except aiosmtplib.SMTPRecipientsRefused as error:
            refusals = error.recipients
            code = max((r.code for r in refusals), default=550)
            raise _refusal_or_deferral(code, "; ".join(r.message for r in refusals)) from error
        except aiosmtplib.SMTPResponseException as error:
            if error.code == 421:  # "closing transmission channel": about the session
                raise _HungUp(f"{error.code} {error.message}") from error
            raise _refusal_or_deferral(error.code, error.message) from error
        except aiosmtplib.SMTPNotSupported as error:
            # An address this server cannot carry (non-ASCII without SMTPUTF8).
            raise MailRefused(str(error)) from error
        except ValueError as error:  # an address unsafe on an SMTP command line
            raise MailRefused(str(error)) from error
        except TimeoutError as error:
            # Not retried: the server may be slow rather than gone, and a second wait
            # would double the caller's.
            self._drop()
            raise MailUnavailable(f"the mail server timed out: {error}") from error
        except (aiosmtplib.SMTPException, OSError) as error:
            raise _HungUp(str(error) or type(error).__name__) from error

    async def _connection(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        self._drop()
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            use_tls=self._use_tls,
            start_tls=self._start_tls,
            username=self._username,
            password=self._password,
            timeout=self._timeout,
            local_hostname=self._local_hostname,
        )
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as error:
            # Session-level failures (refused connection, greeting, TLS, AUTH) say nothing
            # about this message: even a 5xx here must not mark the mail as undeliverable.
            client.close()
            raise MailUnavailable(
                f"cannot open an SMTP session with {self.host}:{self.port}: {error}"
            ) from error
        self._client = client
        return client

    async def _reset(self, client: aiosmtplib.SMTP) -> None:
        """Ends whatever transaction a failed send left open (RSET), or, if the server does
        not say 250 to that, the connection itself: the next send opens a fresh one."""
        if self._client is not client or not client.is_connected:
            return  # already dropped: nothing carries over
        try:
            await client.rset()
        except (aiosmtplib.SMTPException, OSError, TimeoutError, ValueError):
            self._drop()

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def _quit(self) -> None:
        async with self._queue():
            client = self._client
            if client is None or not client.is_connected:
                return
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                pass  # a polite goodbye only; the socket is closed either way
            finally:
                self._drop()
