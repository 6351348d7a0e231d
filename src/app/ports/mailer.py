"""The mailer port: sends one message; policies decide which messages exist."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class MailRefused(Exception):
    """The mail server refused the message for good (a bad address, say)."""


class MailUnavailable(Exception):
    """The mail server could not be reached; try again later."""


@dataclass(frozen=True)
class Mail:
    """One message: plain text now, an HTML part comes with templates."""

    mail_id: str
    to: str
    subject: str
    text: str
    language: str = "fr"


class Mailer(Protocol):
    """Delivers mails."""

    def send(self, mail: Mail) -> None:
        """Deliver the mail; MailRefused or MailUnavailable when it cannot."""
        ...
