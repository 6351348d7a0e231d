"""Parked reactions for operators (issue 12): listed on the operator page, retried here."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, post
from litestar.params import FromPath
from litestar.response import Redirect

from app import parked
from domain.staff import Role
from ui.web.edge import platform_of, staff_member


@post("/operator/parked/{parked_id:uuid}/retry", sync_to_thread=True)
def retry_parked(request: Request[Any, Any, Any], parked_id: FromPath[UUID]) -> Redirect:
    """Try a parked reaction again (after fixing its cause): the request records the wish,
    a worker carries it out."""
    who = staff_member(request, Role.SUPPORT, Role.CENTRE)
    parked.request_retry(platform_of(request).ctx, parked_id, by=f"staff:{who}")
    request.session["notice"] = {"kind": "retry"}
    return Redirect("/operator")


ROUTES = [retry_parked]
