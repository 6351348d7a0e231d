"""The Mailer contract (vigie_contracts.mailer), run against the in-memory mailer and against
SMTP to a real server, and what only the SMTP mailer and its capture do.

The SMTP side talks to an `SmtpCapture` on 127.0.0.1 (a free port per test): what "arrived"
is read back from the server's store, never from the adapter, so a mail is only counted as
delivered when it crossed the wire and parsed back intact.
"""

from __future__ import annotations

import functools
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest

from adapters.mail import smtp as smtp_adapter
from adapters.mail.capture import Delivery, SmtpCapture, read_maildir
from adapters.mail.memory import MemoryMailer
from adapters.mail.smtp import SmtpMailer, message_id
from app.ports.mailer import Mail, MailRefused, MailUnavailable
from vigie_contracts.mailer import *  # noqa: F403 (the packaged contract bodies, collected here)
from vigie_contracts.mailer import WELCOME, WITH_HTML, Arrival, Harness

REFUSED = "invalid.example"  # the capture answers 550 for this domain
DEFERRED = "busy.example"  # and 450 for this one
FAST = 1.0  # seconds: every exchange is local, anything slower is a failure


def _arrival(message: EmailMessage) -> Arrival:
    # The envelope recipient (written by the capture) must be the address in the header.
    [address] = message["To"].addresses
    assert message["Delivered-To"] == address.addr_spec, "envelope and header disagree"
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",)) if message.is_multipart() else None
    assert plain is not None, "no text part"

    def content(part: EmailMessage | None) -> str:
        # SMTP carries lines ending in CRLF; the Mail's text uses "\n".
        return "" if part is None else str(part.get_content()).replace("\r\n", "\n")

    return Arrival(
        to=str(message["To"]),
        subject=str(message["Subject"]),
        text=content(plain),
        html=content(html),
        message_id=str(message["Message-ID"]),
    )


@functools.cache
def _arrival_of(delivery: Delivery) -> Arrival:
    # Parsed once: the property test reads the whole mailbox after every send.
    return _arrival(delivery.message())


@pytest.fixture
def capture() -> Iterator[SmtpCapture]:
    """A local SMTP server on a free port, refusing one domain and deferring another."""
    with SmtpCapture(refuse_domains={REFUSED}, defer_domains={DEFERRED}) as server:
        yield server


def _smtp(server: SmtpCapture, **options: float) -> SmtpMailer:
    # local_hostname: no reverse DNS look-up for the EHLO name, nothing leaves 127.0.0.1.
    timeout = options.get("timeout", FAST)
    return SmtpMailer(server.host, server.port, timeout=timeout, local_hostname="localhost")


@pytest.fixture(params=["memory", "smtp"])
def adapter(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """The same contract, two adapters."""
    if request.param == "memory":
        memory = MemoryMailer()
        yield Harness(
            mailer=memory,
            received=lambda: [
                Arrival(m.to, m.subject, m.text, m.html, m.mail_id) for m in memory.sent
            ],
            bad_addresses=("not-an-address", "poison\x00@example.org"),
            # It is its own receiver, so it can drop a mail id it has seen.
            copies_of_a_resent_mail=1,
        )
        memory.close()
        return
    server: SmtpCapture = request.getfixturevalue("capture")
    smtp = _smtp(server)
    yield Harness(
        mailer=smtp,
        # send() returns after the server's 250, which the capture gives once it stored
        # the message: no waiting needed.
        received=lambda: [_arrival_of(d) for d in server.deliveries()],
        bad_addresses=(
            "not-an-address",
            # A NUL: aiosmtplib sent MAIL FROM, then refused it at RCPT TO, and the next mail
            # on the connection got « 503 nested MAIL command » (a tester's tour).
            "poison\x00@example.org",
            f"camille@{REFUSED}",
            "poison\x01@example.org",
        ),
        # An SMTP server cannot deduplicate: it only sees a new message. The receiver can,
        # because both copies carry the same Message-ID.
        copies_of_a_resent_mail=2,
    )
    smtp.close()


# --- SMTP only ---------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # nobody listens there now


def test_smtp_reports_a_server_that_is_down_as_unavailable() -> None:
    mailer = SmtpMailer("127.0.0.1", _closed_port(), timeout=FAST, local_hostname="localhost")
    started = time.monotonic()
    with pytest.raises(MailUnavailable):
        mailer.send(WELCOME)
    assert time.monotonic() - started < FAST
    mailer.close()


def test_smtp_reports_a_server_that_never_answers_as_unavailable() -> None:
    # Listening without accepting: the kernel completes the handshake, no greeting comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        mailer = SmtpMailer(
            "127.0.0.1", silent.getsockname()[1], timeout=0.3, local_hostname="localhost"
        )
        with pytest.raises(MailUnavailable):
            mailer.send(WELCOME)
        mailer.close()


def test_smtp_reports_a_deferred_recipient_as_unavailable(capture: SmtpCapture) -> None:
    with _smtp(capture) as mailer, pytest.raises(MailUnavailable, match="450"):
        mailer.send(Mail("m-9", f"camille@{DEFERRED}", "Bienvenue", "Bonjour"))
    assert capture.messages() == []


def test_smtp_refusal_carries_the_server_message(capture: SmtpCapture) -> None:
    with _smtp(capture) as mailer, pytest.raises(MailRefused, match=r"550 .*domain refused"):
        mailer.send(Mail("m-9", f"camille@{REFUSED}", "Bienvenue", "Bonjour"))


@pytest.mark.parametrize(
    "mail",
    [
        Mail("m-9", "camille@example.org, lea@example.org", "Two", "recipients"),
        Mail("m-9", "camille@example.org", "Injected\r\nBcc: eve@example.org", "x"),
    ],
    ids=["two-recipients", "header-injection"],
)
def test_smtp_refuses_a_mail_it_cannot_build(capture: SmtpCapture, mail: Mail) -> None:
    with _smtp(capture) as mailer, pytest.raises(MailRefused):
        mailer.send(mail)
    assert capture.messages() == []


def _unchecked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The adapter's own check of the address left out, as for a character it does not know
    of: what remains is aiosmtplib's, which sends MAIL FROM before it refuses a NUL."""

    def as_given(to: str) -> str:
        return to

    monkeypatch.setattr(smtp_adapter, "_recipient", as_given)


def test_smtp_a_send_refused_mid_transaction_leaves_none_open_for_the_next_mail(
    capture: SmtpCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tester's tour: an address with a NUL, refused by aiosmtplib between MAIL FROM and
    RCPT TO, left the server's transaction open; the next mail on the platform, for someone
    else, got « 503 nested MAIL command » and was given up. Now RSET ends it."""
    _unchecked(monkeypatch)
    with _smtp(capture) as mailer:
        with pytest.raises(MailRefused, match="control character"):
            mailer.send(Mail("m-1", "poison\x00@example.org", "Bienvenue", "Bonjour"))
        mailer.send(Mail("m-2", "victim@example.org", "Bienvenue", "Bonjour"))
    [delivery] = capture.deliveries()
    assert delivery.rcpt_tos == ("victim@example.org",)


def test_smtp_drops_the_connection_when_the_server_refuses_to_reset_it(
    capture: SmtpCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where RSET itself is refused, the transaction may still be open: the next mail goes on
    a fresh connection."""
    _unchecked(monkeypatch)

    async def refused(self: aiosmtplib.SMTP, **options: object) -> aiosmtplib.SMTPResponse:
        raise aiosmtplib.SMTPResponseException(502, "RSET not implemented")

    monkeypatch.setattr(aiosmtplib.SMTP, "rset", refused)
    with _smtp(capture) as mailer:
        mailer.send(Mail("m-0", "camille@example.org", "Avant", "x"))
        with pytest.raises(MailRefused):
            mailer.send(Mail("m-1", "poison\x00@example.org", "Bienvenue", "Bonjour"))
        mailer.send(Mail("m-2", "victim@example.org", "Après", "x"))
    before, after = capture.deliveries()
    assert after.rcpt_tos == ("victim@example.org",)
    assert before.peer != after.peer  # a new connection


def test_smtp_survives_a_server_restart_between_two_sends(capture: SmtpCapture) -> None:
    with _smtp(capture) as mailer:
        mailer.send(WELCOME)
        capture.stop()
        capture.start()  # same port, the old connection is gone
        mailer.send(WITH_HTML)  # transparently: a dead connection is reopened
        capture.stop()
        with pytest.raises(MailUnavailable):
            mailer.send(Mail("m-3", "camille@example.org", "Down", "x"))
        capture.start()
        mailer.send(Mail("m-4", "camille@example.org", "Back", "x"))
    assert [a.subject for a in map(_arrival, capture.messages())] == [
        WELCOME.subject,
        WITH_HTML.subject,
        "Back",
    ]


@pytest.mark.parametrize(
    "reply", ["421 4.7.0 Too many messages on this connection", None], ids=["421", "silent"]
)
def test_smtp_retries_once_on_a_fresh_connection_when_a_reused_one_hangs_up(
    reply: str | None,
) -> None:
    # The server hangs up when the second mail starts on a connection: the client believed
    # that connection alive, so the adapter must open another rather than fail the mail.
    with (
        SmtpCapture(messages_per_connection=1, hang_up_reply=reply) as server,
        _smtp(server) as mailer,
    ):
        for n in range(3):
            mailer.send(Mail(f"h-{n}", "camille@example.org", f"Mail {n}", "x\n"))
        deliveries = server.deliveries()
    assert [d.message()["Subject"] for d in deliveries] == ["Mail 0", "Mail 1", "Mail 2"]
    assert len({d.peer for d in deliveries}) == 3  # one connection per mail, as imposed


def test_smtp_does_not_retry_when_a_fresh_connection_hangs_up() -> None:
    # A server that hangs up on the first mail of a session would be hammered by retries.
    with (
        SmtpCapture(messages_per_connection=0) as server,
        _smtp(server) as mailer,
        pytest.raises(MailUnavailable, match="421"),
    ):
        mailer.send(WELCOME)


def test_smtp_sends_from_many_threads_arrive_once_over_one_connection(
    capture: SmtpCapture,
) -> None:
    mails = [Mail(f"c-{n}", f"c{n}@example.org", f"Mail {n}", f"n°{n}\n") for n in range(20)]
    with _smtp(capture) as mailer, ThreadPoolExecutor(4) as pool:
        list(pool.map(mailer.send, mails))
    arrivals = sorted(map(_arrival, capture.messages()), key=lambda a: int(a.subject[5:]))
    assert [(a.to, a.text) for a in arrivals] == [(m.to, m.text) for m in mails]
    assert len({a.message_id for a in arrivals}) == 20
    assert len({d.peer for d in capture.deliveries()}) == 1  # the connection was reused


def test_smtp_close_is_idempotent_and_final(capture: SmtpCapture) -> None:
    unused = _smtp(capture)
    unused.close()
    unused.close()
    mailer = _smtp(capture)
    mailer.send(WELCOME)
    mailer.close()
    mailer.close()
    loop_thread = f"smtp-{capture.host}:{capture.port}"
    assert loop_thread not in {t.name for t in threading.enumerate()}
    with pytest.raises(MailUnavailable, match="closed"):
        mailer.send(WITH_HTML)
    assert len(capture.messages()) == 1


@pytest.mark.parametrize(
    ("mail_id", "expected"),
    [
        ("m-1", "<m-1@vigie>"),
        (
            "3f2c1e9a-0b1d-4c57-9f8e-2d4b6a7c8e90/3",
            "<3f2c1e9a-0b1d-4c57-9f8e-2d4b6a7c8e90.3@vigie>",
        ),
        ("a b<c>@d", "<a.b.c.d@vigie>"),
        ("/..x../", "<x@vigie>"),
        ("ééé", "<mail@vigie>"),
    ],
)
def test_a_message_id_is_a_valid_msg_id_made_from_the_mail_id(
    capture: SmtpCapture, mail_id: str, expected: str
) -> None:
    assert message_id(mail_id) == expected
    with _smtp(capture) as mailer:
        mailer.send(Mail(mail_id, "camille@example.org", "Bienvenue", "Bonjour\n"))
    [received] = capture.messages()
    header = received["Message-ID"]
    assert str(header) == expected
    assert not header.defects


# --- the capture -------------------------------------------------------------------------


def test_the_capture_keeps_a_maildir_that_reads_back_in_arrival_order(tmp_path: Path) -> None:
    box = tmp_path / "mailbox"
    with SmtpCapture(box) as server, _smtp(server) as mailer:
        for n in range(5):
            mailer.send(Mail(f"o-{n}", "camille@example.org", f"Mail {n}", "Bonjour\n"))
        assert len(server.wait_for(5, timeout=FAST)) == 5
        server.clear()
        assert server.messages() == []
    assert [m["Subject"] for m in read_maildir(box)] == [f"Mail {n}" for n in range(5)]
    assert not list((box / "tmp").iterdir())  # every file was renamed into place
    with pytest.raises(FileNotFoundError):
        read_maildir(tmp_path / "nowhere")


def test_waiting_for_mail_that_never_comes_times_out(capture: SmtpCapture) -> None:
    with pytest.raises(TimeoutError, match="0 message"):
        capture.wait_for(1, timeout=0.05)
