"""Accommodations on the operator pages: the training centre grants extra time and other
arrangements on one of its enrolments, before the candidate enters the exam session."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from app import tenancy
from app.person_names import name_in_text
from app.use_cases import accommodations
from domain.accommodation import MAX_ARRANGEMENTS_CHARS
from domain.candidate import PersonErased
from domain.enrollment import Enrollment
from domain.errors import DomainError, InvalidArgument, RuleBroken
from domain.staff import Role
from ui.web.edge import context, platform_of, staff_guard, staff_id
from ui.web.i18n import N_

EXTRA_TIME_CHOICES = (0, 25, 33, 50, 100)
# A refused grant in words, by the rule (or the field) that refuses it.
REFUSALS = {
    "ACCOMMODATION-BEFORE-START": N_(
        "The candidate has already entered the exam session: accommodations can no longer be "
        "granted or changed. Call the hotline if the candidate needs help."
    ),
    "R1": N_("The enrolment has expired: accommodations can no longer be granted or changed."),
    "ERASED": N_(
        "This person's personal data was erased: accommodations can no longer be granted or "
        "changed."
    ),
    "ACCOMMODATION-EXTRA-TIME": N_("Choose extra time among the values offered."),
    "extra_time_percent": N_("Choose extra time among the values offered."),
    "arrangements": N_(
        "Grant extra time or describe an arrangement (%(max)s characters at most), then press "
        "“%(button)s” again."
    ),
}
NOT_GRANTED = N_("Nothing was granted: check the form, then press “%(button)s” again.")


class GrantForm(msgspec.Struct):
    """The grant form (a missing field reads as empty)."""

    extra_time_percent: str = "0"
    arrangements: str = ""


def own_enrollment(request: Request[Any, Any, Any], enrollment_id: UUID) -> Enrollment:
    """The enrolment, if the logged-in centre made it (OutOfReach, a 404, otherwise, even if
    absent: app.tenancy)."""
    return tenancy.enrolment_for(platform_of(request).ctx, staff_id(request), enrollment_id)


def _page(request: Request[Any, Any, Any], enrollment: Enrollment, **values: Any) -> dict[str, Any]:
    """The page's context: the enrolment, whose it is, and what was granted."""
    platform = platform_of(request)
    platform.projections.catch_up(platform.ctx.store)
    # The names this centre typed for this enrolment, never another centre's (F1).
    surname, first_name = platform.projections.names_of_enrolment(enrollment.id)
    emails = {cid: e for e, cid in platform.projections.candidates_by_email.items()}
    try:
        title = platform.ctx.catalogue.get(enrollment.certification_code).title
    except (LookupError, DomainError):
        title = enrollment.certification_code
    values.setdefault("typed", None)
    values.setdefault("refusal", None)
    # Once no grant can be made (the domain's rule), the page shows what was granted, the
    # reason first, and no form (it was offered, and refused only after « Accorder »).
    closed = accommodations.closed_to_grants(platform.ctx, enrollment)
    return context(
        request,
        enrollment=enrollment,
        candidate_name=name_in_text(surname, first_name),
        candidate_email=emails.get(enrollment.candidate_id, ""),
        certification=title,
        accommodation=enrollment.accommodation,
        choices=EXTRA_TIME_CHOICES,
        max_chars=MAX_ARRANGEMENTS_CHARS,
        closed=REFUSALS.get(closed.rule, NOT_GRANTED) if closed is not None else None,
        erased=closed is not None and closed.rule == PersonErased.RULE,
        **values,
    )


def _refused(
    request: Request[Any, Any, Any],
    enrollment: Enrollment,
    typed: dict[str, str],
    cause: str,
    rule: str | None,
) -> Template:
    refusal = {"message": REFUSALS.get(cause, NOT_GRANTED), "rule": rule, "field": cause}
    return Template(
        "accommodation.html",
        context=_page(request, enrollment, typed=typed, refusal=refusal, granted=False),
        status_code=409,
    )


class Accommodations(Controller):
    """Accommodations: the training centre's, on its own enrolments."""

    path = "/operator/enrolments"
    guards = [staff_guard(Role.CENTRE)]

    @get("/{enrollment_id:uuid}/accommodation", sync_to_thread=True)
    def accommodation_page(
        self,
        request: Request[Any, Any, Any],
        enrollment_id: FromPath[UUID],
        done: FromQuery[str] = "",
    ) -> Template:
        """What was granted, and the form to grant (or change it) before the exam starts."""
        enrollment = own_enrollment(request, enrollment_id)
        return Template(
            "accommodation.html", context=_page(request, enrollment, granted=done == "granted")
        )

    # Its own path: a sync GET and POST sharing one path get the GET wrapped twice (Litestar).
    @post("/{enrollment_id:uuid}/accommodation/grant", sync_to_thread=True)
    def grant(
        self,
        request: Request[Any, Any, Any],
        enrollment_id: FromPath[UUID],
        data: Annotated[GrantForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        """Record the grant with who made it (ACCOMMODATION-BEFORE-START once entered); a
        refusal comes back on the page, the form as typed."""
        enrollment = own_enrollment(request, enrollment_id)
        granted_by = staff_id(request)
        typed = {"extra_time_percent": data.extra_time_percent, "arrangements": data.arrangements}
        try:
            percent = int(data.extra_time_percent.strip() or "0")
        except ValueError:
            return _refused(request, enrollment, typed, "extra_time_percent", None)
        try:
            accommodations.grant_accommodation(
                platform_of(request).ctx,
                enrollment_id,
                granted_by=granted_by,
                extra_time_percent=percent,
                arrangements=data.arrangements,
            )
        except RuleBroken as broken:
            return _refused(request, enrollment, typed, broken.rule, broken.rule)
        except InvalidArgument as invalid:
            return _refused(request, enrollment, typed, invalid.field, None)
        return Redirect(f"/operator/enrolments/{enrollment_id}/accommodation?done=granted")


ROUTES = [Accommodations]
