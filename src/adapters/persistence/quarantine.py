"""Streams the store no longer trusts (issue 14), and where the hash chain began in the log.

A stream is quarantined when one of its rows does not decode, or when a row without the
chain's header was written after the chain began (inserted behind the store's back, or its
header stripped): loading it raises `StreamQuarantined`, and the log hands that row to readers
as an `UnreadableEvent`. Findings come from loads and from reading the log; each is logged
once per stream per process, and listed for the auditor's page.

History from before the chain comes first in the log, so "written after the chain began" is
a comparison of positions: the position of the first chained event is found once (a scan of
the old history, one read on a store born chained) and kept.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from uuid import UUID

from eventsourcing.persistence import Notification

from adapters.persistence.chain import is_chained
from app.ports.event_store import Quarantine

_log = logging.getLogger("vigie.store")
SCAN_PAGE = 5000
UNCHAINED_AFTER_CHAIN = (
    "unchained event written after the chain began (inserted, or header removed)"
)


class QuarantineRegistry:
    """The quarantined streams this process knows, the first finding of each kept."""

    def __init__(self) -> None:
        self._found: dict[UUID, Quarantine] = {}
        self._lock = threading.Lock()

    def get(self, stream: UUID) -> Quarantine | None:
        return self._found.get(stream)

    def add(self, finding: Quarantine) -> Quarantine:
        """Keep a finding (the first of its stream wins); logged the first time only."""
        with self._lock:
            known = self._found.get(finding.stream)
            if known is not None:
                return known
            self._found[finding.stream] = finding
        _log.warning(
            "stream %s quarantined from version %d: %s; its pages answer that it is withheld "
            "(run `vigie audit verify-store`)",
            finding.stream,
            finding.version,
            finding.problem,
        )
        return finding

    def all(self) -> Sequence[Quarantine]:
        with self._lock:
            return list(self._found.values())


class ChainStart:
    """The log position of the first chained event, found once and kept (None while the
    store holds none: every unchained row is then history from before the chain)."""

    def __init__(self, select: Callable[[int, int], Sequence[Notification]]) -> None:
        # select(after, limit): notifications after a position, oldest first.
        self._select = select
        self._position: int | None = None
        self._scanned = 0  # rows before this position hold no chained event
        self._lock = threading.Lock()

    def position(self) -> int | None:
        if self._position is not None:
            return self._position
        with self._lock:
            while self._position is None:
                # A store born chained answers with its first row: read that one alone.
                rows = self._select(self._scanned, SCAN_PAGE if self._scanned else 1)
                if not rows:
                    return None
                for row in rows:
                    if is_chained(bytes(row.state)):
                        self._position = row.id
                        break
                else:
                    self._scanned = rows[-1].id
            return self._position

    def written_after(self, position: int) -> bool:
        """Whether an unchained row at this log position came after the chain began."""
        began = self.position()
        return began is not None and position > began
