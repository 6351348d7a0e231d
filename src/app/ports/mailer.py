"""The mailer port: delivers one rendered message; policies decide which messages exist."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class MailRefused(Exception):
    """The mail server refused the message for good (a bad address, say): do not retry."""


class MailUnavailable(Exception):
    """The mail server could not be reached or deferred the message: try again later."""


@dataclass(frozen=True)
class Mail:
    """One rendered message, with a text and an HTML part.

    `mail_id` is the outbox's id; adapters send it as the Message-ID so that a message
    delivered twice after a crash can be recognised as the same one.
    """

    mail_id: str
    to: str
    subject: str
    text: str
    html: str = ""
    language: str = "fr"


class Mailer(Protocol):
    """Delivers mails."""

    def send(self, mail: Mail) -> None:
        """Deliver the mail; MailRefused (permanent) or MailUnavailable (transient)."""
        ...

    def close(self) -> None:
        """Release connections (idempotent)."""
        ...
