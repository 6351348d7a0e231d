"""Who the centre is, for the centre's handler modules (operator and accommodation pages)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request

from app import tenancy
from domain.staff import Role, StaffMember
from ui.web.edge import platform_of, staff_member


def centre_of(request: Request[Any, Any, Any]) -> UUID:
    """The centre the operator enrols for: the one their provider's group names (issue 16),
    else derived from the staff member (app.tenancy). What a centre may see and change is
    checked in the use cases. The hotline works for no centre of its own: 403."""
    member = staff_member(request, Role.CENTRE)
    return tenancy.centre_of(platform_of(request).ctx.store.get(member, StaffMember))
