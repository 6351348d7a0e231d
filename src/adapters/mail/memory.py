"""An in-memory mailbox: a real Mailer that keeps what it is given, once per mail id."""

from __future__ import annotations

import threading
import unicodedata

from app.ports.mailer import Mail, MailRefused


class MemoryMailer:
    """Keeps mails in order; a mail id seen before is dropped (idempotent receiver)."""

    def __init__(self) -> None:
        self.sent: list[Mail] = []
        self._ids: set[str] = set()
        self._lock = threading.Lock()

    def send(self, mail: Mail) -> None:
        # As SMTP refuses them (adapters.mail.smtp): no `@`, or a control character.
        if "@" not in mail.to or any(unicodedata.category(c) == "Cc" for c in mail.to):
            raise MailRefused(f"not an address: {mail.to!r}")
        with self._lock:
            if mail.mail_id in self._ids:
                return
            self._ids.add(mail.mail_id)
            self.sent.append(mail)

    def close(self) -> None:
        """Nothing to release."""

    def to(self, address: str) -> list[Mail]:
        """The mails sent to one address."""
        return [m for m in self.sent if m.to == address]
