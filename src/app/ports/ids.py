"""The ids port: new aggregate ids and the random codes shown to candidates."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID


class Ids(Protocol):
    """Makes identifiers; the domain never draws them itself."""

    def new_id(self) -> UUID:
        """A fresh, unique aggregate id."""
        ...

    def validation_code(self) -> str:
        """The code an exam shows at the end, to be typed back (R18)."""
        ...
