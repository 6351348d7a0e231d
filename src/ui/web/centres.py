"""Who the centre is, for the centre's handler modules (operator and accommodation pages)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request

from app.tenancy import centre_of_operator
from domain.staff import Role
from ui.web.edge import staff_member


def centre_of(request: Request[Any, Any, Any]) -> UUID:
    """The centre the operator enrols for: derived from the staff member (one centre each for
    now, app.tenancy). What a centre may see and change is checked in the use cases."""
    return centre_of_operator(staff_member(request, Role.CENTRE, Role.SUPPORT))
