"""The lease keeper: one worker's side of the leases (domain.lease), kept in the store.

`keep()` is one round: read every lease, plan (renew, take, release, per the domain's
rules), write each change as a compare-and-set, and remember what this worker holds. The
worker calls it every third of a lease's term from a thread of its own, so a lease is renewed
twice before it could expire, and asks `holds(kind)` before each pass of that kind: a worker
stops a kind as soon as its lease is lost (taken over after expiry, or not renewed in time
because the store was out of reach), without waiting to hear about it."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import uuid4

from app.ports.clock import Clock
from app.ports.leases import LeaseStore
from domain.lease import NOBODY, Lease, forgotten, plan, presence_kind

LEASE_TERM_S = 10.0
LOG = logging.getLogger("vigie.worker")


def worker_name(node: str | None = None) -> str:
    """Who holds a lease, as an operator reads it: the node (VIGIE_NODE_ID, else the
    machine's name: containers on one host look alike), the process, and a random part (a
    restarted process with the same pid is another holder)."""
    return f"{node or socket.gethostname()}:{os.getpid()}:{uuid4().hex[:6]}"


@dataclass(frozen=True)
class LeaseNews:
    """What changed in one round (for the log)."""

    took: tuple[str, ...] = ()
    took_over: tuple[str, ...] = ()  # taken after another worker's lease expired unrenewed
    lost: tuple[str, ...] = ()
    released: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.took or self.took_over or self.lost or self.released)


@dataclass
class LeaseKeeper:
    """Takes, renews and gives up one worker's leases on `kinds` of work."""

    store: LeaseStore
    clock: Clock
    kinds: Sequence[str]
    holder: str = field(default_factory=worker_name)
    term: timedelta = timedelta(seconds=LEASE_TERM_S)
    _held: dict[str, Lease] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def keep(self) -> LeaseNews:
        """One round: renew, take, give up; returns what changed."""
        now = self.clock.now()
        leases = {lease.kind: lease for lease in self.store.leases()}
        presence = presence_kind(self.holder)
        self._write(leases.get(presence), presence, now)
        decided = plan(self.holder, self.kinds, list(leases.values()), now)
        took: list[str] = []
        took_over: list[str] = []
        lost: list[str] = []
        released: list[str] = []
        for kind in decided.renew:
            if not self._write(leases[kind], kind, now):
                lost.append(kind)
        for kind in decided.take:
            current = leases.get(kind)
            if self._write(current, kind, now):
                fresh = current is None or current.holder in (self.holder, NOBODY)
                (took if fresh else took_over).append(kind)
        for kind in decided.release:
            if self.store.put(leases[kind].released(now), leases[kind]):
                released.append(kind)
            self._forget(kind)
        for lease in leases.values():
            if forgotten(lease, now, self.term):
                self.store.remove(lease)
        with self._lock:  # a lease held and not in the plan was lost meanwhile
            for kind in [k for k in self._held if k not in decided.renew + decided.take]:
                if kind != presence and kind not in released:
                    lost.append(kind)
                    del self._held[kind]
        return LeaseNews(tuple(took), tuple(took_over), tuple(lost), tuple(released))

    def holds(self, kind: str) -> bool:
        """Whether this worker holds `kind` now (by its own last renewal: an expired lease is
        not held even before another worker takes it)."""
        with self._lock:
            lease = self._held.get(kind)
        return lease is not None and lease.held_by(self.holder, self.clock.now())

    def gone(self, holder: str) -> bool:
        """Whether the worker named `holder` is gone: no presence lease of its is held now (it
        stopped renewing, or was never a worker). Every restart is a new holder, so a gone
        worker does not come back under its name."""
        if holder == self.holder:
            return False
        now = self.clock.now()
        kind = presence_kind(holder)
        return not any(lease.kind == kind and lease.held_at(now) for lease in self.store.leases())

    def held(self) -> tuple[str, ...]:
        return tuple(k for k in self.kinds if self.holds(k))

    def release_all(self) -> tuple[str, ...]:
        """Give every lease up (a clean stop): the others take over at once, not after the
        term."""
        now = self.clock.now()
        with self._lock:
            held, self._held = dict(self._held), {}
        return tuple(
            kind
            for kind, lease in held.items()
            if self.store.put(lease.released(now), lease) and kind in self.kinds
        )

    def _write(self, current: Lease | None, kind: str, now: datetime) -> bool:
        """Take or renew `kind` over `current`; remembered when the store took the write."""
        lease = (
            Lease(kind, self.holder, now + self.term)
            if current is None
            else current.taken(self.holder, now, self.term)
        )
        if not self.store.put(lease, current):
            self._forget(kind)
            return False
        with self._lock:
            self._held[kind] = lease
        return True

    def _forget(self, kind: str) -> None:
        with self._lock:
            self._held.pop(kind, None)
