"""Who holds a session's live connection (issue 15): recorded by the node that answered the
page's offer, read by any node a live view reaches, which sends the viewer there.

Recorded in the offer's request, before the answer goes back: a supervisor who opens the live
view a moment later already finds the right node.
"""

from __future__ import annotations

from uuid import UUID

from app.context import Context, retrying
from app.ports.event_store import AggregateNotFound
from domain.live_connection import LiveConnection, live_connection_id


def record_holder(ctx: Context, session_id: UUID, node: str) -> None:
    """`node` answered the session's offer: it records the connection from now on."""

    def once() -> None:
        at = ctx.now()
        try:
            connection = ctx.store.get(live_connection_id(session_id), LiveConnection)
        except AggregateNotFound:
            ctx.store.save(LiveConnection.open(session_id=session_id, node=node, at=at))
            return
        connection.held_by(node=node, at=at)
        ctx.store.save(connection)

    retrying(once)


def holder_of(ctx: Context, session_id: UUID) -> str | None:
    """The node holding the session's live connection (None: it never connected)."""
    try:
        return ctx.store.get(live_connection_id(session_id), LiveConnection).node
    except AggregateNotFound:
        return None
