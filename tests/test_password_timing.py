"""Issue 14: log-in with an unknown e-mail must cost the same argon2 work as a known one, or
the answer's timing tells who has an account (4 ms against 284 ms was measured). Counted,
not timed: timed figures belong in benchmarks."""

from __future__ import annotations

from typing import Any

import pytest

from app import passwords


class _CountingHasher:
    def __init__(self, real: Any) -> None:
        self.real = real
        self.verified: list[str] = []

    def verify(self, stored: str, password: str) -> bool:
        self.verified.append(stored)
        result: bool = self.real.verify(stored, password)
        return result

    def hash(self, password: str) -> str:
        made: str = self.real.hash(password)
        return made


def test_an_unknown_account_costs_one_argon2_verification_like_a_known_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    known = passwords.hash_password("correct horse battery")
    spy = _CountingHasher(passwords._ARGON2)
    monkeypatch.setattr(passwords, "_ARGON2", spy)
    assert passwords.verify_password("a wrong password", known) is False
    assert passwords.verify_password("a wrong password", None) is False
    assert passwords.verify_password("a wrong password", "") is False
    assert len(spy.verified) == 3
    assert all(stored.startswith("$argon2id$") for stored in spy.verified)
