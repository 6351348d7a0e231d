"""Accommodations on the operator pages: the training centre grants extra time and other
arrangements on one of its enrolments, before the candidate enters the exam session."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.use_cases import accommodations
from domain.enrollment import Enrollment
from domain.errors import InvalidArgument
from domain.staff import Role
from ui.web.edge import Form, context, platform_of, staff_member
from ui.web.operator import _centre

EXTRA_TIME_CHOICES = (0, 25, 33, 50, 100)


def own_enrollment(request: Request[Any, Any, Any], enrollment_id: UUID) -> Enrollment:
    """The enrolment, if the logged-in centre made it (403 otherwise, even if absent)."""
    staff_member(request, Role.CENTRE)
    try:
        enrollment = platform_of(request).ctx.store.get(enrollment_id, Enrollment)
    except LookupError:
        raise PermissionDeniedException() from None
    if enrollment.centre_id != _centre(request):
        raise PermissionDeniedException()
    return enrollment


@get("/operator/enrolments/{enrollment_id:uuid}/accommodation", sync_to_thread=True)
def accommodation_page(request: Request[Any, Any, Any], enrollment_id: FromPath[UUID]) -> Template:
    """What was granted, and the form to grant (or change it) before the exam starts."""
    enrollment = own_enrollment(request, enrollment_id)
    return Template(
        "accommodation.html",
        context=context(
            request,
            enrollment=enrollment,
            accommodation=enrollment.accommodation,
            choices=EXTRA_TIME_CHOICES,
        ),
    )


# Its own path: a sync GET and POST sharing one path get the GET wrapped twice (Litestar).
@post("/operator/enrolments/{enrollment_id:uuid}/accommodation/grant", sync_to_thread=True)
def grant(request: Request[Any, Any, Any], enrollment_id: FromPath[UUID], data: Form) -> Redirect:
    """Record the grant with who made it (ACCOMMODATION-BEFORE-START once entered)."""
    own_enrollment(request, enrollment_id)
    granted_by = staff_member(request, Role.CENTRE)
    try:
        percent = int(str(data.get("extra_time_percent", "0")).strip() or "0")
    except ValueError:
        raise InvalidArgument("extra_time_percent", "a whole percentage, such as 33") from None
    accommodations.grant_accommodation(
        platform_of(request).ctx,
        enrollment_id,
        granted_by=granted_by,
        extra_time_percent=percent,
        arrangements=str(data.get("arrangements", "")),
    )
    return Redirect(f"/operator/enrolments/{enrollment_id}/accommodation")


ROUTES = [accommodation_page, grant]
