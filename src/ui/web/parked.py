"""Parked reactions for operators (issue 12): listed on the operator page, retried here."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, post
from litestar.params import FromPath
from litestar.response import Redirect

from app import parked
from domain.staff import Role
from ui.web.edge import platform_of, staff_guard, staff_id


class ParkedReactions(Controller):
    """Retrying a parked reaction: the hotline's (support). A reaction may concern any
    centre's candidate, so a centre neither sees nor retries them (issue 14)."""

    path = "/operator/parked"
    guards = [staff_guard(Role.SUPPORT)]

    @post("/{parked_id:uuid}/retry", sync_to_thread=True)
    def retry_parked(self, request: Request[Any, Any, Any], parked_id: FromPath[UUID]) -> Redirect:
        """Try a parked reaction again (after fixing its cause): the request records the
        wish, a worker carries it out."""
        who = staff_id(request)
        parked.request_retry(platform_of(request).ctx, parked_id, by=f"staff:{who}")
        request.session["notice"] = {"kind": "retry"}
        return Redirect("/operator")


ROUTES = [ParkedReactions]
