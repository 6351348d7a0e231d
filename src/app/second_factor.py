"""Staff's optional second factor: TOTP codes (RFC 6238, 6 digits, 30 s), with pyotp.

Where the secret lives, and why not in the event log: a second factor is a credential that
support must be able to replace and that must be gone once disabled; an event is kept for
ever (even sealed, it would stay readable as long as the member's key does). So it is kept
in the session store's table beside the sessions (the same database), sealed with AES-GCM
under a key derived from the platform's secret key (VIGIE_SECRET_KEY): a copy of the
database alone reveals no secret. The same row keeps the last time step a code was accepted
for, so a code is accepted once, on whichever worker, and never again within its window.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.ports.clock import Clock
from app.ports.sessions import SecondFactor, SessionStore

ISSUER = "Vigie"
# A code is accepted for its own 30 s step and the one before and after (clocks drift).
DRIFT_STEPS = 1


def seal_key(secret: bytes) -> bytes:
    """The key that seals the secrets, derived from the platform's secret key."""
    return hashlib.sha256(secret + b"/second-factor").digest()


@dataclass
class SecondFactors:
    """Enable, check and disable a staff member's TOTP."""

    store: SessionStore
    clock: Clock
    key: bytes

    def _seal(self, staff_id: UUID, secret: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + AESGCM(self.key).encrypt(nonce, secret.encode(), staff_id.bytes)

    def _open(self, staff_id: UUID, sealed: bytes) -> str | None:
        try:
            return AESGCM(self.key).decrypt(sealed[:12], sealed[12:], staff_id.bytes).decode()
        except InvalidTag:  # sealed under another secret key: unusable, as if absent
            return None

    def enabled(self, staff_id: UUID) -> bool:
        """Whether log-in asks this member for a code."""
        factor = self.store.second_factor(staff_id)
        return factor is not None and factor.confirmed

    def begin(self, staff_id: UUID) -> str:
        """A new secret, kept unconfirmed until the member types a first code (a secret
        already being set up is kept, so reloading the page does not change the QR code).
        Refused (ValueError) when one is enabled: disable it first, with a code."""
        factor = self.store.second_factor(staff_id)
        if factor is not None and factor.confirmed:
            raise ValueError("a second factor is already enabled")
        if factor is not None:
            kept = self._open(staff_id, factor.sealed_secret)
            if kept:
                return kept
        secret = pyotp.random_base32()
        self.store.set_second_factor(
            staff_id, SecondFactor(self._seal(staff_id, secret), confirmed=False, last_step=0)
        )
        return secret

    def pending(self, staff_id: UUID) -> str | None:
        """The secret being set up (not confirmed yet), if any; never a new one."""
        factor = self.store.second_factor(staff_id)
        if factor is None or factor.confirmed:
            return None
        return self._open(staff_id, factor.sealed_secret)

    def _matching_step(self, secret: str, code: str) -> int | None:
        """The time step the code belongs to (within the drift), or None."""
        code = code.strip().replace(" ", "")
        if not (code.isdigit() and len(code) == 6):
            return None
        totp = pyotp.TOTP(secret)
        now: datetime = self.clock.now()
        current = totp.timecode(now)
        for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
            if hmac.compare_digest(totp.generate_otp(step), code):
                return step
        return None

    def confirm(self, staff_id: UUID, code: str) -> bool:
        """The first code, from the app the member just set up: the factor is enabled."""
        factor = self.store.second_factor(staff_id)
        if factor is None or factor.confirmed:
            return False
        secret = self._open(staff_id, factor.sealed_secret)
        step = self._matching_step(secret, code) if secret else None
        if step is None:
            return False
        self.store.set_second_factor(staff_id, SecondFactor(factor.sealed_secret, True, step))
        return True

    def check(self, staff_id: UUID, code: str) -> bool:
        """A code at log-in (or to disable): right, and its step not used before."""
        factor = self.store.second_factor(staff_id)
        if factor is None or not factor.confirmed:
            return False
        secret = self._open(staff_id, factor.sealed_secret)
        step = self._matching_step(secret, code) if secret else None
        return step is not None and self.store.use_step(staff_id, step)

    def reset(self, staff_id: UUID) -> bool:
        """The factor removed: support's reset of a lost one (the CLI), or the member's own
        turning it off once a current code was right (a stolen session alone cannot: the
        security page checks the code first, `check`). Log-in asks for the password alone
        until the member enables one again."""
        return self.store.remove_second_factor(staff_id)


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)
