"""Review assignments for leads (support, centre): reviews and appeals waiting, overdue
first, with a 'Réattribuer' form each (R19: who, when and why are recorded; the due date
stays), and the agreement between first and second examiners."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.use_cases import reviewing
from domain.candidate import check_email
from domain.errors import InvalidArgument
from domain.staff import Role
from ui.web.edge import Form, context, platform_of, staff_member

LEADS = (Role.SUPPORT, Role.CENTRE)


@get("/operator/reviews", sync_to_thread=True)
def assignments(request: Request[Any, Any, Any]) -> Template:
    """Reviews due (overdue first, R19) and appeals to decide, with their examiners."""
    staff_member(request, *LEADS)
    platform = platform_of(request)
    projections = platform.projections
    projections.catch_up(platform.ctx.store)
    emails = {staff_id: email for email, staff_id in projections.staff_by_email.items()}
    today = platform.ctx.now().date()
    return Template(
        "assignments.html",
        context=context(
            request,
            reviews=projections.reviews_due(today),
            appeals=projections.appeals_due(),
            agreement=projections.appeal_agreement(),
            emails=emails,
            today=today,
        ),
    )


@post("/operator/reviews/{review_id:uuid}/reassign", sync_to_thread=True)
def reassign(request: Request[Any, Any, Any], review_id: FromPath[UUID], data: Form) -> Redirect:
    """R19: hand the review (or its open appeal) to the examiner with that e-mail."""
    lead = staff_member(request, *LEADS)
    platform = platform_of(request)
    platform.projections.catch_up(platform.ctx.store)
    email = check_email(str(data.get("examiner", "")))
    examiner = platform.projections.staff_by_email.get(email)
    if examiner is None:
        raise InvalidArgument("examiner", f"no staff member with the e-mail {email}")
    reviewing.reassign_review(
        platform.ctx,
        review_id,
        examiner_id=examiner,
        reassigned_by=lead,
        reason=str(data.get("reason", "")),
    )
    return Redirect("/operator/reviews")


ROUTES = [assignments, reassign]
