"""The lease store port: the rows that say which worker does which kind of work (issue 15).

Kept beside the events (a table in the SQLite file or the PostgreSQL schema), so that every
worker sharing the store reads the same leases. The rules are the domain's (domain.lease);
the store only compares and sets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.lease import Lease


class LeaseStore(Protocol):
    """Leases by kind, each written only over the version its writer read."""

    where: str  # said in the worker's log ("leases in …")

    def leases(self) -> Sequence[Lease]:
        """Every lease kept, held or expired."""
        ...

    def put(self, lease: Lease, replacing: Lease | None) -> bool:
        """Store `lease` if its kind's row is still `replacing` (the same version), or absent
        when `replacing` is None; False when another worker wrote first (nothing changes)."""
        ...

    def remove(self, lease: Lease) -> bool:
        """Remove `lease`'s row if it is still that version; False otherwise."""
        ...

    def close(self) -> None:
        """Release the store's connection."""
        ...
