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
from app.read_models import AppealSummary, ReviewSummary
from app.use_cases import reviewing
from domain.candidate import check_email
from domain.errors import InvalidArgument, RuleBroken
from domain.review import Review
from domain.staff import Role
from ui.web import review_words
from ui.web.edge import context, edge_bound, language_of, platform_of, staff_guard, staff_id
from ui.web.i18n import N_, gettext_for
from ui.web.refusals import action_refusal

LEADS = (Role.SUPPORT, Role.CENTRE)
# After a reassignment (post/redirect/get): what the lead reads above the lists, by `done`.
# The list came back with no word, done or not (a tester's tour).
REASSIGNED = {
    ("reassigned", "review"): N_("The review of %(candidate)s is now assigned to %(examiner)s."),
    ("reassigned", "appeal"): N_("The appeal of %(candidate)s is now assigned to %(examiner)s."),
    ("unchanged", "review"): N_(
        "%(examiner)s already had the review of %(candidate)s: nothing changed."
    ),
    ("unchanged", "appeal"): N_(
        "%(examiner)s already had the appeal of %(candidate)s: nothing changed."
    ),
}
# A refused reassignment in words, by the rule it breaks (`action_refusal`; the domain's
# English is for logs).
REFUSED = {
    ("reassign", "APPEAL-SECOND-EXAMINER"): N_(
        "Reassignment refused: this examiner made the first decision, and a second examiner "
        "decides the appeal. Choose another examiner."
    ),
    ("reassign", "R19"): N_(
        "Reassignment refused: this review is decided, there is nothing to reassign."
    ),
    ("*", "*"): N_("Reassignment refused: this review cannot be reassigned now."),
}


class Reassignment(msgspec.Struct):
    """The 'Réattribuer' form (a missing field reads as empty)."""

    examiner: str = ""
    reason: Annotated[str, edge_bound("reassign_reason")] = ""


def _notice(
    request: Request[Any, Any, Any],
    reviews: list[ReviewSummary],
    appeals: list[AppealSummary],
    names: dict[UUID, review_words.RegisteredName],
    emails: dict[UUID, str],
) -> str:
    """The sentence after a reassignment, for a review or appeal on these lists (another
    one's id in the address says nothing)."""
    done = str(request.query_params.get("done", ""))
    try:
        review_id = UUID(str(request.query_params.get("review", "")))
    except ValueError:
        return ""
    examiner_of = {a.review_id: a.examiner_id for a in appeals}
    what = "appeal" if review_id in examiner_of else "review"
    if what == "review":
        examiner_of = {r.review_id: r.examiner_id for r in reviews}
    sentence = REASSIGNED.get((done, what))
    if sentence is None or review_id not in examiner_of:
        return ""
    lang = language_of(request)
    examiner = examiner_of[review_id]
    return gettext_for(lang)(
        sentence,
        candidate=names[review_id].words(lang),  # in a sentence: « Léa PETIT »
        examiner=emails.get(examiner, "—") if examiner is not None else "—",
    )


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
            platform.ctx, platform.projections, platform.ctx.store.get(review_id, Review)
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
            agreement=reach.appeal_agreement_for(platform.ctx, projections, lead),
            emails=emails,
            today=today,
            error=error,
            notice="" if error else _notice(request, reviews, appeals, names, emails),
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
        if not typed:  # « : n'est pas une adresse e-mail », with no subject (a reviewer's)
            message = _("Field “Examiner's e-mail”: give the e-mail of the examiner to assign.")
            return _assignments_page(request, error=message, status=400)
        try:
            email = check_email(typed)
        except InvalidArgument:
            message = _(
                "Field “Examiner's e-mail”: %(email)s is not an e-mail address.", email=typed
            )
            return _assignments_page(request, error=message, status=400)
        # No account and an account that is not an examiner's read the same: the lead learns
        # neither which e-mails are staff accounts nor another centre's account name (a
        # tester's tour: « Réattribution refusée : Centre Lyon is not an examiner »).
        not_an_examiner = _(
            "Field “Examiner's e-mail”: %(email)s is not an examiner's e-mail. Check it and "
            "reassign again.",
            email=email,
        )
        examiner = platform.projections.staff_by_email.get(email)
        if examiner is None:
            return _assignments_page(request, error=not_an_examiner, status=400)
        try:
            changed = reviewing.reassign_review(
                platform.ctx,
                review_id,
                examiner_id=examiner,
                reassigned_by=lead,
                reason=data.reason,
            )
        except InvalidArgument as refusal:
            if refusal.field == "reason":
                message = _("Field “Why?”: say why the review is reassigned.")
            else:  # "examiner": the domain's English names the account (for the CLI)
                message = not_an_examiner
            return _assignments_page(request, error=message, status=400)
        except RuleBroken as refusal:
            message = action_refusal(language_of(request), REFUSED, "reassign", refusal)
            return _assignments_page(request, error=message, status=409)
        done = "reassigned" if changed else "unchanged"
        return Redirect(f"/operator/reviews?done={done}&review={review_id}")


ROUTES = [Assignments]
