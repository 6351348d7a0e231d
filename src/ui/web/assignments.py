"""Review assignments for leads (support, centre): reviews and appeals waiting (a centre's
own candidates', every centre's for the hotline: app.reach), overdue first, with a
'Réattribuer' form each (R19: who, when and why are recorded; the due date stays), and the
agreement between first and second examiners."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from app import reach
from app.use_cases import reviewing
from domain.candidate import check_email
from domain.errors import InvalidArgument, RuleBroken
from domain.review import Review
from domain.staff import Role
from ui.web import review_words
from ui.web.edge import context, edge_bound, language_of, platform_of, staff_guard, staff_id
from ui.web.i18n import gettext_for

LEADS = (Role.SUPPORT, Role.CENTRE)


class Reassignment(msgspec.Struct):
    """The 'Réattribuer' form (a missing field reads as empty)."""

    examiner: str = ""
    reason: Annotated[str, edge_bound("reassign_reason")] = ""


def _assignments_page(
    request: Request[Any, Any, Any], *, error: str = "", status: int = 200
) -> Template:
    platform = platform_of(request)
    projections = platform.projections
    projections.catch_up(platform.ctx.store)
    emails = {staff_id: email for email, staff_id in projections.staff_by_email.items()}
    today = platform.ctx.now().date()
    lead = staff_id(request)
    # A centre's own candidates' only, every centre's for the hotline (app.reach).
    reviews = reach.reviews_due_for(platform.ctx, projections, lead, today)
    appeals = reach.appeals_due_for(platform.ctx, projections, lead)
    # The name on each line, as on the examiner's list (« PETIT, Léa »; an erased person's is
    # gone): a line read « 15/12/2026 · Access · — », and the lead could not tell which
    # candidate's review they reassigned (a reviewer's tour).
    ids = [r.review_id for r in reviews] + [a.review_id for a in appeals]
    names = {
        review_id: review_words.registered_name(
            platform.ctx, platform.ctx.store.get(review_id, Review).candidate_id
        )
        for review_id in ids
    }
    return Template(
        "assignments.html",
        context=context(
            request,
            reviews=reviews,
            appeals=appeals,
            names=names,
            agreement=projections.appeal_agreement(),
            emails=emails,
            today=today,
            error=error,
        ),
        status_code=status,
    )


class Assignments(Controller):
    """Review assignments: the leads' (support, centre)."""

    path = "/operator/reviews"
    guards = [staff_guard(*LEADS)]

    @get("/", sync_to_thread=True)
    def assignments(self, request: Request[Any, Any, Any]) -> Template:
        """Reviews due (overdue first, R19) and appeals to decide, with their examiners."""
        return _assignments_page(request)

    @post("/{review_id:uuid}/reassign", sync_to_thread=True)
    def reassign(
        self,
        request: Request[Any, Any, Any],
        review_id: FromPath[UUID],
        data: Annotated[Reassignment, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response[Any]:
        """R19: hand the review (or its open appeal) to the examiner with that e-mail; a refusal
        is said on the page, in the reader's language, naming the field."""
        lead = staff_id(request)
        platform = platform_of(request)
        platform.projections.catch_up(platform.ctx.store)
        _ = gettext_for(language_of(request))
        typed = data.examiner.strip()
        try:
            email = check_email(typed)
        except InvalidArgument:
            message = _(
                "Field “Examiner's e-mail”: %(email)s is not an e-mail address.", email=typed
            )
            return _assignments_page(request, error=message, status=400)
        examiner = platform.projections.staff_by_email.get(email)
        if examiner is None:
            message = _(
                "Field “Examiner's e-mail”: no staff member has the e-mail %(email)s. Check it "
                "and reassign again.",
                email=email,
            )
            return _assignments_page(request, error=message, status=400)
        try:
            reviewing.reassign_review(
                platform.ctx,
                review_id,
                examiner_id=examiner,
                reassigned_by=lead,
                reason=data.reason,
            )
        except InvalidArgument as refusal:
            if refusal.field == "reason":
                message = _("Field “Why?”: say why the review is reassigned.")
            else:
                message = _("Reassignment refused: %(detail)s", detail=refusal.message)
            return _assignments_page(request, error=message, status=400)
        except RuleBroken as refusal:
            message = _("Reassignment refused: %(detail)s", detail=refusal.message)
            return _assignments_page(request, error=message, status=409)
        return Redirect("/operator/reviews")


ROUTES = [Assignments]
