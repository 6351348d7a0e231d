"""Signed links: what a mail points to can be neither guessed nor altered.

The log keeps only token ids; the signature needs the secret key, which lives outside the
log, so reading the database is not enough to forge a working link.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

from domain.errors import RuleBroken


class LinkSigner:
    """HMAC-SHA256 over a purpose and a value."""

    def __init__(self, secret: bytes, base_url: str) -> None:
        if len(secret) < 16:
            raise ValueError("the link secret needs at least 16 bytes")
        self._secret = secret
        self.base_url = base_url.rstrip("/")

    def _signature(self, purpose: str, value: str) -> str:
        digest = hmac.new(self._secret, f"{purpose}:{value}".encode(), hashlib.sha256)
        return digest.hexdigest()[:32]

    def sign(self, purpose: str, value: str) -> str:
        """`value.signature`, to put in a URL."""
        return f"{value}.{self._signature(purpose, value)}"

    def verify(self, purpose: str, signed: str, rule: str = "R24") -> str:
        """The value, if the signature holds; otherwise the link is refused under `rule`."""
        value, _, signature = signed.rpartition(".")
        # Bytes: compare_digest refuses str with non-ASCII characters (a garbled link).
        expected = self._signature(purpose, value).encode()
        if not value or not hmac.compare_digest(signature.encode(), expected):
            raise RuleBroken(rule, "this link is not valid")
        return value

    def url(self, path: str, purpose: str, value: str) -> str:
        """An absolute link to the web platform carrying a signed value."""
        return f"{self.base_url}{path}?t={quote(self.sign(purpose, value))}"
