"""Which node holds a session's live connection (issue 15).

aiortc lives in one web process: the proctoring tab's stream reaches the node its offer
reached, and only that node can relay it to a supervisor. Several nodes serve one platform, so
the holder is recorded in the store, where every node reads it and sends a live view there.
One stream per session, its id derived from the session's: a reconnection that lands on
another node moves the connection, and the last move wins.
"""

from __future__ import annotations

import re
from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidArgument, require_aware

LIVE_CONNECTION_NAMESPACE = UUID("9d1f0c3e-52b7-4e0a-8c6d-3a7e15b2f948")
NODE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


def live_connection_id(session_id: UUID) -> UUID:
    """One stream per proctored session."""
    return uuid5(LIVE_CONNECTION_NAMESPACE, str(session_id))


class LiveConnection(Aggregate):
    """The node recording a session's proctoring tab, since when."""

    session_id: UUID
    node: str
    since: datetime

    class LiveConnectionOpened(Aggregate.Created):
        session_id: UUID
        node: str

    class LiveConnectionMoved(Aggregate.Event):
        node: str

    @classmethod
    def open(cls, *, session_id: UUID, node: str, at: datetime) -> LiveConnection:
        """The session's first connection, held by `node`."""
        _check(node, at)
        return cls._create(
            cls.LiveConnectionOpened,
            id=live_connection_id(session_id),
            timestamp=at,
            session_id=session_id,
            node=node,
        )

    @event(LiveConnectionOpened)
    def __init__(self, session_id: UUID, node: str, timestamp: datetime) -> None:
        self.session_id = session_id
        self.node = node
        self.since = timestamp

    def held_by(self, *, node: str, at: datetime) -> None:
        """The page connected again, to `node` (nothing recorded when it is the same one)."""
        _check(node, at)
        if node != self.node:
            self._moved(node=node, timestamp=at)

    @event(LiveConnectionMoved)
    def _moved(self, node: str, timestamp: datetime) -> None:
        self.node = node
        self.since = timestamp


def _check(node: str, at: datetime) -> None:
    require_aware("at", at)
    if not NODE_NAME.fullmatch(node):
        raise InvalidArgument("node", "letters, digits, '-', '_' or '.' (at most 63)")
