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

from domain.bounds import LIMITS
from domain.errors import TooLong, TooShort

_ARGON2 = PasswordHasher()
MIN_LENGTH = 8
# The longest password a log-in form takes (its `maxlength`, the edge's bound): one set any
# longer could never be typed again. /staff/security and `vigie staff add` took 2,000
# characters, the log-in page cut them at 1,024, and the member was locked out for good (a
# tester's tour). Every way of setting a password is refused past it, with this number.
MAX_LENGTH = LIMITS["password"]


def check_password(password: str) -> str:
    """The password, if a log-in can take it: TooShort or TooLong (naming `password`)."""
    if len(password) < MIN_LENGTH:
        raise TooShort("password", MIN_LENGTH, len(password))
    if len(password) > MAX_LENGTH:
        raise TooLong("password", MAX_LENGTH, len(password))
    return password


def hash_password(password: str) -> str:
    """An argon2id hash (salted, self-describing) of a password `check_password` accepts."""
    return _ARGON2.hash(check_password(password))


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
