"""Who the centre is, for the centre's handler modules (operator and accommodation pages)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from litestar import Request

from app.outbox import MAIL_NAMESPACE
from domain.staff import Role
from ui.web.edge import staff_member


def centre_of(request: Request[Any, Any, Any]) -> UUID:
    """The operator's centre: derived from the staff member (one centre each for now)."""
    return uuid5(MAIL_NAMESPACE, f"centre:{staff_member(request, Role.CENTRE, Role.SUPPORT)}")
