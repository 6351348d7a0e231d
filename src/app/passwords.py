"""Password hashing: argon2id; older scrypt hashes still verify (and get rehashed on login)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from domain.errors import TooShort

_ARGON2 = PasswordHasher()
MIN_LENGTH = 8


def hash_password(password: str) -> str:
    """An argon2id hash (salted, self-describing)."""
    if len(password) < MIN_LENGTH:
        raise TooShort("password", MIN_LENGTH, len(password))
    return _ARGON2.hash(password)


@cache
def _decoy_hash() -> str:
    """A hash no password matches, made once per process."""
    return _ARGON2.hash(secrets.token_urlsafe(24))


def verify_password(password: str, stored: str | None) -> bool:
    """Whether the password matches the stored hash (constant time). With no stored hash
    (an unknown account), the same argon2 work is done against a decoy, so the answer's
    timing does not tell whether the account exists (issue 14)."""
    if not stored:
        with contextlib.suppress(VerificationError, InvalidHashError):
            _ARGON2.verify(_decoy_hash(), password)
        return False
    if stored.startswith("$argon2"):
        try:
            return _ARGON2.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
    return _verify_scrypt(password, stored)


def _verify_scrypt(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    computed = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p)
    )
    return hmac.compare_digest(computed, base64.b64decode(digest))
