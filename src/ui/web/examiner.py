"""Staff log-in and the examiner's pages: reviews due, a review with its timeline and the
recommended verdict, and the decision citing evidence (R19, R20)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.concurrency import sync_to_thread
from litestar.exceptions import (
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.read_models import timeline
from app.recording import recording_of, session_media
from app.replay import replay_review
from app.use_cases import accommodations, accounts, reviewing
from domain.errors import InvalidArgument
from domain.evidence import ReasonCode, Verdict
from domain.review import CitedReason, Review
from domain.staff import Role
from ui.web.candidate import Form, context, platform_of

REASON_LABELS: dict[ReasonCode, str] = {
    ReasonCode.THIRD_PARTY_HELP: "Aide ou interaction avec une personne tierce",
    ReasonCode.IDENTITY_NOT_VERIFIABLE: "Vérification de l'identité impossible",
    ReasonCode.PERSON_MISMATCH: "La personne au début n'est pas celle qui passe l'examen",
    ReasonCode.ID_NAME_MISMATCH: "Pièce d'identité différente du nom inscrit",
    ReasonCode.WEBCAM_UNUSABLE: "Webcam non fonctionnelle ou vidéo inexploitable",
    ReasonCode.INFORMATION_SOURCES: "Utilisation de sources d'informations",
    ReasonCode.DOCUMENTS_AROUND: "Documents sur le bureau ou dans l'environnement",
    ReasonCode.HEADPHONES: "Écouteurs ou casque",
    ReasonCode.PROCTORING_TAB_CLOSED: "Onglet e-surveillance fermé",
    ReasonCode.PHONE_USED: "Utilisation d'un téléphone",
    ReasonCode.OTHER_RULE_BREACH: "Autre manquement (justification écrite)",
}


def staff_member(request: Request[Any, Any, Any], *roles: Role) -> UUID:
    """The logged-in staff member with one of these roles (log-in page, or 403)."""
    value = request.session.get("staff")
    if not value:
        raise NotAuthorizedException()
    if request.session.get("role") not in {r.value for r in roles}:
        raise PermissionDeniedException()
    return UUID(value)


@get("/staff/login", sync_to_thread=False)
def staff_login_page(request: Request[Any, Any, Any]) -> Template:
    return Template("staff_login.html", context=context(request, error=""))


@post("/staff/login")
async def staff_login(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    platform = platform_of(request)
    platform.projections.catch_up(platform.ctx.store)
    staff = await sync_to_thread(
        accounts.authenticate_staff,
        platform.ctx,
        platform.projections.staff_by_email,
        email=str(data.get("email", "")),
        password=str(data.get("password", "")),
    )
    if staff is None:
        t = context(request)["t"]
        return Template(
            "staff_login.html", context=context(request, error=t("bad_login")), status_code=401
        )
    request.session["staff"] = str(staff.id)
    request.session["role"] = staff.role.value
    home = {Role.EXAMINER: "/examiner/reviews", Role.AUDITOR: "/auditor"}
    return Redirect(home.get(staff.role, "/operator"))


@get("/examiner/reviews", sync_to_thread=True)
def reviews_due(request: Request[Any, Any, Any]) -> Template:
    """R19: undecided reviews, overdue first."""
    staff_member(request, Role.EXAMINER)
    platform = platform_of(request)
    platform.projections.catch_up(platform.ctx.store)
    today = platform.ctx.now().date()
    reviews = platform.projections.reviews_due(today)
    return Template("reviews.html", context=context(request, reviews=reviews, today=today))


@get("/examiner/reviews/{review_id:uuid}", sync_to_thread=True)
def review_page(request: Request[Any, Any, Any], review_id: FromPath[UUID]) -> Template:
    """The timeline, the evidence, the recommendation and the decision form."""
    examiner = staff_member(request, Role.EXAMINER)
    platform = platform_of(request)
    try:
        review = platform.ctx.store.get(review_id, Review)
    except LookupError:
        raise PermissionDeniedException() from None
    report = replay_review(platform.ctx.store, review_id) if review.verdict else None
    history = platform.ctx.store.history(review.session_id)
    # The photos and environment recordings (the live segments have their own player).
    media = [(m.label, m.media_id, m.kind) for m in session_media(history) if m.kind != "segment"]
    return Template(
        "review.html",
        context=context(
            request,
            review=review,
            examiner=examiner,
            entries=timeline(platform.ctx.store, review.session_id),
            reasons=REASON_LABELS,
            accommodation=accommodations.accommodation_of_session(platform.ctx, review.session_id),
            report=report,
            media=media,
            recording=recording_of(history),
        ),
    )


@post("/examiner/reviews/{review_id:uuid}/{action:str}", sync_to_thread=True)
def review_action(
    request: Request[Any, Any, Any], review_id: FromPath[UUID], action: FromPath[str], data: Form
) -> Redirect:
    examiner = staff_member(request, Role.EXAMINER)
    ctx = platform_of(request).ctx
    if action == "assign":
        reviewing.assign_examiner(ctx, review_id, examiner)
    elif action == "decide":
        verdict = Verdict(str(data.get("verdict", "")))
        reviewing.decide_review(
            ctx,
            review_id,
            examiner_id=examiner,
            verdict=verdict,
            reasons=_cited(data) if verdict is Verdict.INVALIDATED else (),
            excused=_excused(data),
        )
    elif action == "release":
        reviewing.release_results(ctx, review_id)
    else:
        raise InvalidArgument("action", f"unknown action {action!r}")
    return Redirect(f"/examiner/reviews/{review_id}")


def _cited(data: dict[str, Any]) -> tuple[CitedReason, ...]:
    """Reasons ticked in the form, each with the evidence ids chosen for it (R20)."""
    chosen = data.get("reason", [])
    chosen = [chosen] if isinstance(chosen, str) else list(chosen)
    cited = []
    for code in chosen:
        try:
            reason = ReasonCode(code)
        except ValueError:
            raise InvalidArgument("reason", f"not in the closed list: {code!r}") from None
        evidence = data.get(f"evidence-{code}", [])
        evidence = [evidence] if isinstance(evidence, str) else list(evidence)
        cited.append(
            CitedReason(reason, tuple(evidence), str(data.get(f"justification-{code}", "")))
        )
    return tuple(cited)


@get("/examiner/media/{media_id:path}", sync_to_thread=True)
def media(request: Request[Any, Any, Any], media_id: FromPath[str]) -> Response[bytes]:
    """A photo or a recording of a session, for examiners only."""
    staff_member(request, Role.EXAMINER)
    try:
        content = platform_of(request).ctx.media.load(media_id.lstrip("/"))
    except KeyError:
        raise NotFoundException() from None
    kind = "image/jpeg" if "photo" in media_id else "video/webm"
    return Response(content, media_type=kind, headers={"Cache-Control": "private, no-store"})


def _excused(data: dict[str, Any]) -> tuple[CitedReason, ...]:
    """R20: a phone allowed for a proven technical problem, citing its record."""
    if data.get("phone_excused") != "yes":
        return ()
    evidence = data.get("evidence-phone-excused", [])
    evidence = [evidence] if isinstance(evidence, str) else list(evidence)
    return (CitedReason(ReasonCode.PHONE_USED, tuple(evidence)),)


ROUTES = [staff_login_page, staff_login, reviews_due, review_page, review_action, media]
