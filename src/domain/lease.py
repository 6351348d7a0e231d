"""Leases: which worker does which kind of background work (issue 15).

Several `vigie worker` processes, on one machine or several, share one store. Each kind of
work (the policies, the outbox, the deadlines, provisioning) is done by one worker at a time:
the holder of that kind's lease. A lease is a row in the store with a holder and an expiry;
its holder renews it while it works, so a worker that dies (SIGKILL, a machine lost) stops
renewing and its leases are free once they expire. A worker also holds a presence lease
(`worker:<holder>`), which tells the others how many workers are alive, so that each takes a
fair share of the kinds and two workers split the work rather than one waiting with nothing.

Here are the rules, pure: times are passed in. Writing a lease is a compare-and-set on its
version (app.ports.leases), so two workers never both believe they took the same lease.
Leases spread the work; they are not what makes an effect happen once: the store does that
(tracking positions, reaction claims, mails claimed before SMTP), even while a lease changes
hands."""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

PRESENCE = "worker:"  # the kind of a worker's presence lease: "worker:<holder>"
NOBODY = ""  # the holder of a lease given up


@dataclass(frozen=True)
class Lease:
    """One kind of work held by one worker until `expires_at`; `version` grows at each write."""

    kind: str
    holder: str
    expires_at: datetime
    version: int = 1

    def held_at(self, now: datetime) -> bool:
        """Whether someone holds it at `now` (after its expiry anyone may take it)."""
        return now < self.expires_at

    def held_by(self, holder: str, now: datetime) -> bool:
        return self.holder == holder and self.held_at(now)

    def may_be_taken_by(self, holder: str, now: datetime) -> bool:
        """Its holder renews it; anyone takes it once it has expired."""
        return self.holder == holder or not self.held_at(now)

    def renewed(self, now: datetime, term: timedelta) -> Lease:
        """The same holder, until `term` after `now` (the next version)."""
        return replace(self, expires_at=now + term, version=self.version + 1)

    def taken(self, holder: str, now: datetime, term: timedelta) -> Lease:
        """`holder`'s from `now` for `term` (the next version)."""
        if not self.may_be_taken_by(holder, now):
            raise LeaseHeld(f"{self.kind} is held by {self.holder} until {self.expires_at}")
        return Lease(self.kind, holder, now + term, self.version + 1)

    def released(self, now: datetime) -> Lease:
        """Given up at `now`: nobody's, free for the others at once."""
        return Lease(self.kind, NOBODY, min(now, self.expires_at), self.version + 1)


class LeaseHeld(Exception):
    """Another worker holds that lease and it has not expired."""


def presence_kind(holder: str) -> str:
    return f"{PRESENCE}{holder}"


def forgotten(lease: Lease, now: datetime, term: timedelta) -> bool:
    """A presence lease over a term past its expiry: its worker is gone (every restart is a
    new holder), and whoever reads it removes it, so the table keeps one row per kind and
    per live worker."""
    return lease.kind.startswith(PRESENCE) and not lease.held_at(now - term)


def fair_share(kinds: int, workers: int) -> int:
    """How many kinds one worker takes when `workers` are alive: all of them split fairly
    (rounding up: no kind is left without a taker)."""
    return math.ceil(kinds / max(1, workers))


@dataclass(frozen=True)
class LeasePlan:
    """What one worker does in a round: the kinds it keeps (renews), takes, and gives up."""

    renew: tuple[str, ...]
    take: tuple[str, ...]
    release: tuple[str, ...]


def plan(holder: str, kinds: Sequence[str], leases: Sequence[Lease], now: datetime) -> LeasePlan:
    """The round of `holder` given every lease in the store at `now`: keep what it holds up
    to its fair share, give up the rest (a worker joined), take free kinds up to the share.

    Free kinds are tried in an order of the holder's own, so that two workers starting at
    once mostly ask for different kinds."""
    by_kind = {lease.kind: lease for lease in leases}
    workers = {
        lease.holder for lease in leases if lease.kind.startswith(PRESENCE) and lease.held_at(now)
    } | {holder}
    share = fair_share(len(kinds), len(workers))
    mine = [k for k in kinds if k in by_kind and by_kind[k].held_by(holder, now)]
    free = [k for k in kinds if k not in by_kind or not by_kind[k].held_at(now)]
    start = zlib.crc32(holder.encode()) % len(free) if free else 0
    free = free[start:] + free[:start]
    keep = mine[:share]
    return LeasePlan(
        renew=tuple(keep),
        take=tuple(free[: max(0, share - len(keep))]),
        release=tuple(mine[share:]),
    )
