"""Id makers: random ones for production, seeded ones for reproducible demos and tests."""

from __future__ import annotations

import random
import secrets
import uuid
from uuid import UUID


class RandomIds:
    """uuid4 ids and cryptographically random validation codes."""

    def new_id(self) -> UUID:
        return uuid.uuid4()

    def validation_code(self) -> str:
        return f"{secrets.randbelow(10_000):04d}"


class SeededIds:
    """Deterministic ids from a seed: the same demo prints the same ids."""

    def __init__(self, seed: int = 0) -> None:
        self._random = random.Random(seed)

    def new_id(self) -> UUID:
        return UUID(int=self._random.getrandbits(128), version=4)

    def validation_code(self) -> str:
        return f"{self._random.randrange(10_000):04d}"
