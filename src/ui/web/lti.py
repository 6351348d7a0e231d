"""LTI 1.3 at the web edge (issue 16): the login initiation, the launch, the tool's key set
and a teacher's Deep Linking choice. The checks are the application's (app/lti.py); here,
the browser's cookie for the state, the candidate's session, and the pages in the person's
language, refusals included (each fault has a sentence, never its code as the message)."""

from __future__ import annotations

import base64
import json
import logging
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.concurrency import sync_to_thread
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from app import lti
from domain.lti import CLAIM, DEEP_LINKING, LaunchFault, LaunchRefused, language_of
from ui.web.edge import context, platform_of
from ui.web.faults import request_id_of
from ui.web.i18n import N_, gettext_for

STATE_COOKIE = "vigie_lti_state"
DEEP_LINK_KEY = "lti_deep_link"
LTI_PATHS = ("/lti/login", "/lti/launch", "/lti/jwks")  # posted by platforms: no CSRF token

_log = logging.getLogger("vigie.web.lti")

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


class LaunchForm(msgspec.Struct):
    id_token: Annotated[str, msgspec.Meta(max_length=64_000)] = ""
    state: Annotated[str, msgspec.Meta(max_length=400)] = ""


class PickForm(msgspec.Struct):
    certification: Annotated[str, msgspec.Meta(max_length=64)] = ""


# What a person reads for each refusal (R25: in their language), and the answer's status.
REFUSALS: dict[LaunchFault, tuple[str, int]] = {
    LaunchFault.BAD_SIGNATURE: (
        N_(
            "The learning platform's message could not be verified: its signature does not "
            "match the platform's keys. Ask your platform's administrator to check Vigie's "
            "registration."
        ),
        401,
    ),
    LaunchFault.WRONG_AUDIENCE: (
        N_(
            "This launch was meant for another tool than Vigie. Ask your platform's "
            "administrator to check the client id."
        ),
        401,
    ),
    LaunchFault.UNKNOWN_PLATFORM: (
        N_(
            "Your learning platform is not registered with Vigie. Ask its administrator to "
            "register it."
        ),
        403,
    ),
    LaunchFault.UNKNOWN_DEPLOYMENT: (
        N_(
            "This deployment of your learning platform is not linked to a training centre in "
            "Vigie. Ask your centre to register it."
        ),
        403,
    ),
    LaunchFault.REPLAYED_NONCE: (
        N_(
            "This launch link was already used. Go back to your course and open the activity again."
        ),
        409,
    ),
    LaunchFault.BAD_STATE: (
        N_(
            "This launch did not start in this browser, or its cookie was blocked. Go back to "
            "your course and open the activity again, in a new window."
        ),
        400,
    ),
    LaunchFault.EXPIRED: (
        N_("This launch has expired. Go back to your course and open the activity again."),
        400,
    ),
    LaunchFault.NOT_LTI: (
        N_("This request is not a launch Vigie understands. Open Vigie from your course."),
        400,
    ),
    LaunchFault.NO_CERTIFICATION: (
        N_(
            "This activity names no certification Vigie offers. Ask your teacher to choose "
            "the certification again."
        ),
        400,
    ),
    LaunchFault.NO_EMAIL: (
        N_(
            "Your learning platform did not share your e-mail address, which Vigie needs to "
            "enrol you. Ask its administrator to share it with Vigie."
        ),
        400,
    ),
    LaunchFault.BAD_EMAIL: (
        N_(
            "Your learning platform shared an e-mail address that cannot receive mail, and "
            "Vigie needs it to write to you. Ask its administrator to correct your address."
        ),
        400,
    ),
    LaunchFault.NOT_A_LEARNER: (
        N_(
            "This activity enrols learners for a certification. Teachers choose the "
            "certification when they add the activity."
        ),
        403,
    ),
    LaunchFault.NOT_A_TEACHER: (
        N_(
            "Only teachers add a Vigie certification to a course. Open the activity your "
            "teacher added."
        ),
        403,
    ),
    LaunchFault.OTHER_ACCOUNT: (
        N_(
            "Your account on the learning platform and your e-mail address are linked to two "
            "different Vigie accounts. Contact the hotline, who will check them with you."
        ),
        403,
    ),
    LaunchFault.PLATFORM_UNREACHABLE: (
        N_(
            "Your learning platform could not be reached to check this launch. Try again in "
            "a few minutes."
        ),
        503,
    ),
}


def _language_hint(id_token: str) -> str | None:
    """The LMS's locale read from the token's payload without trusting it: only to choose
    the language of a refusal (nothing is decided on it)."""
    try:
        payload = id_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        presentation = claims.get(CLAIM + "launch_presentation") or {}
        locale = presentation.get("locale")
    except (IndexError, ValueError, AttributeError, TypeError):
        return None
    return language_of(locale) if isinstance(locale, str) else None


def _refused(
    request: Request[Any, Any, Any], refused: LaunchRefused, language: str | None
) -> Template:
    """The refusal's page in the learner's language (their platform's, when the token said
    it), without opening a session for a launch that was refused. The page gives the
    request's reference and the log says what was wrong under it (the issuer, deployment or
    check that failed): what the platform's administrator and the hotline need, which the
    learner's sentence leaves out."""
    language = language or context(request)["lang"]
    _ = gettext_for(language)
    words, status = REFUSALS[refused.fault]
    _log.warning("lti: launch refused (%s): %s", refused.fault.value, refused.detail)
    return Template(
        "lti_refusal.html",
        context=context(
            request,
            lang=language,
            message=_(words),
            fault=refused.fault.value,
            reference=request_id_of(request.scope),
        ),
        status_code=status,
    )


def _secure(request: Request[Any, Any, Any]) -> bool:
    return platform_of(request).links.base_url.startswith("https://")


async def _login(request: Request[Any, Any, Any], params: dict[str, str]) -> Response[Any]:
    platform = platform_of(request)
    try:
        redirect = await sync_to_thread(
            lti.initiate_login, platform.ctx, platform.links, params, platform.links.base_url
        )
    except LaunchRefused as refused:
        return _refused(request, refused, None)
    answer = Redirect(redirect.url)
    # The launch comes back from the platform's site: over HTTPS the cookie must be
    # SameSite=None to travel with that cross-site form post; on a plain-HTTP test machine
    # the platform and Vigie share 127.0.0.1 (the same site), Lax is enough.
    secure = _secure(request)
    answer.set_cookie(
        STATE_COOKIE,
        redirect.state,
        max_age=lti.STATE_SECONDS,
        httponly=True,
        secure=secure,
        samesite="none" if secure else "lax",
        path="/lti/",
    )
    return answer


@get("/lti/login")
async def login_initiation(request: Request[Any, Any, Any]) -> Response[Any]:
    """Third-party initiated login, by redirect (GET)."""
    return await _login(request, {k: str(v) for k, v in request.query_params.items()})


@post("/lti/login")
async def login_initiation_post(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    """Third-party initiated login, by form post."""
    return await _login(request, {k: str(v)[:2000] for k, v in data.items()})


@post("/lti/launch")
async def launch(
    request: Request[Any, Any, Any],
    data: Annotated[LaunchForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    """The id_token posted by the platform: a learner enrolled and sent to their session, a
    teacher's Deep Linking request to the list of certifications."""
    platform = platform_of(request)
    hint = _language_hint(data.id_token)
    try:
        verified = await sync_to_thread(
            lti.verify_launch,
            platform.ctx,
            platform.links,
            platform.lti_client,
            id_token=data.id_token,
            state=data.state,
            cookie_state=request.cookies.get(STATE_COOKIE),
        )
        if verified.launch.message_type == DEEP_LINKING:
            if not verified.launch.is_teacher:
                raise LaunchRefused(LaunchFault.NOT_A_TEACHER, "only teachers add activities")
            picked = lti.DeepLinkRequest.of(verified)
            request.session[DEEP_LINK_KEY] = msgspec.to_builtins(picked.__dict__)
            request.session["lang"] = verified.launch.language
            answer: Response[Any] = Redirect("/lti/deep-link")
        else:
            launched = await sync_to_thread(
                lti.launch_learner, platform.ctx, platform.projections, verified
            )
            # The candidate is logged in by their platform's word, in its language (R25):
            # a session of its own (whoever was logged in on this browser is logged out; the
            # middleware gives a new id, no fixation).
            request.set_session(
                {"candidate": str(launched.candidate_id), "lang": launched.language}
            )
            answer = Redirect("/terms")
    except LaunchRefused as refused:
        return _refused(request, refused, hint)
    answer.delete_cookie(STATE_COOKIE, path="/lti/")
    return answer


@get("/lti/jwks", sync_to_thread=True)
def key_set(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """The tool's public keys (the current and the previous one): platforms verify the
    Deep Linking responses and the client assertions with them."""
    return Response(
        platform_of(request).lti_keys.jwks(),
        media_type="application/json",
        headers={"cache-control": "public, max-age=300"},
    )


def _deep_link(request: Request[Any, Any, Any]) -> lti.DeepLinkRequest | None:
    held = request.session.get(DEEP_LINK_KEY)
    if not isinstance(held, dict):
        return None
    try:
        return lti.DeepLinkRequest(**{k: str(held[k]) for k in lti.DeepLinkRequest.__annotations__})
    except KeyError:
        return None


def _no_deep_link(request: Request[Any, Any, Any]) -> Template:
    return _refused(request, LaunchRefused(LaunchFault.NOT_LTI, "no Deep Linking request"), None)


@get("/lti/deep-link", sync_to_thread=False)
def deep_link_page(request: Request[Any, Any, Any]) -> Template:
    """The certifications a teacher may add to their course."""
    if _deep_link(request) is None:
        return _no_deep_link(request)
    certifications = list(platform_of(request).ctx.catalogue)
    return Template("lti_deep_link.html", context=context(request, certifications=certifications))


@post("/lti/deep-link", sync_to_thread=True)
def deep_link_pick(
    request: Request[Any, Any, Any],
    data: Annotated[PickForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    """The teacher's pick, signed and posted back to their platform (a form the page's
    script sends at once; a button when scripts are off)."""
    picked = _deep_link(request)
    if picked is None:
        return _no_deep_link(request)
    platform = platform_of(request)
    codes = {c.code for c in platform.ctx.catalogue}
    if data.certification not in codes:
        _ = gettext_for(context(request)["lang"])
        return Template(
            "lti_deep_link.html",
            context=context(
                request,
                certifications=list(platform.ctx.catalogue),
                error=_("Choose one of the certifications."),
            ),
            status_code=400,
        )
    jwt = lti.deep_linking_response(
        platform.ctx, platform.lti_keys, picked, data.certification, platform.links.base_url
    )
    request.session.pop(DEEP_LINK_KEY, None)
    return Template(
        "lti_return.html", context=context(request, return_url=picked.return_url, jwt=jwt)
    )


ROUTES = [login_initiation, login_initiation_post, launch, key_set, deep_link_page, deep_link_pick]
