"""Browsers a person logged in from (security finding F7): a cookie that names the accounts
that logged in successfully in this browser, so that a flood of wrong passwords from
elsewhere (app.login_throttle's ceiling per account) never shuts their own browser out.

The cookie is a Fernet token (AES-CBC and HMAC-SHA256, `cryptography`) under a key derived
from the platform's secret key (VIGIE_SECRET_KEY, the same on every node): its holder cannot
read which accounts it names, nor forge or extend it. It holds a random id for the browser
(its own place in the throttle's counts) and, per account (app.login_throttle.subject_of,
already a hash), when it last logged in there; an account is known for 180 days after that.
A reset link used in the browser (R24) marks it known too: the person proved she reads the
account's mail.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import msgspec
from cryptography.fernet import Fernet, InvalidToken

from app.login_throttle import subject_of
from app.ports.clock import Clock

LIFETIME = timedelta(days=180)
MOST_ACCOUNTS = 8  # a family's shared computer; the oldest is forgotten first


class _Payload(msgspec.Struct, frozen=True):
    device: str
    # account subject -> Unix seconds of its last log-in in this browser
    accounts: dict[str, int] = {}


def device_key(secret: bytes) -> bytes:
    """The Fernet key, derived from the platform's secret key (never the key itself)."""
    return base64.urlsafe_b64encode(hashlib.sha256(secret + b"/known-device").digest())


@dataclass
class KnownDevices:
    """Read and renew the known-device cookie."""

    key: bytes
    clock: Clock

    def _open(self, token: str) -> _Payload | None:
        if not token:
            return None
        now = int(self.clock.now().timestamp())
        try:
            data = Fernet(self.key).decrypt_at_time(
                token.encode(), int(LIFETIME.total_seconds()), now
            )
            return msgspec.json.decode(data, type=_Payload)
        except (InvalidToken, msgspec.DecodeError, ValueError):
            return None  # another platform's, tampered, or older than its lifetime

    def device_for(self, token: str, email: str, area: str) -> str | None:
        """The browser's id when its cookie names this account, logged in within 180 days;
        else None (an unknown place)."""
        payload = self._open(token)
        if payload is None:
            return None
        at = payload.accounts.get(subject_of(email, area))
        now = self.clock.now().timestamp()
        return payload.device if at is not None and now - at < LIFETIME.total_seconds() else None

    def remember(self, token: str, email: str, area: str) -> str:
        """The cookie's new value once this account logged in (or reset its password) here:
        the browser's id kept, this account known from now on."""
        now = int(self.clock.now().timestamp())
        payload = self._open(token) or _Payload(device=secrets.token_hex(16))
        kept = {
            subject: at
            for subject, at in payload.accounts.items()
            if now - at < LIFETIME.total_seconds()
        }
        kept[subject_of(email, area)] = now
        newest = dict(sorted(kept.items(), key=lambda item: item[1])[-MOST_ACCOUNTS:])
        data = msgspec.json.encode(_Payload(device=payload.device, accounts=newest))
        return Fernet(self.key).encrypt_at_time(data, now).decode()
