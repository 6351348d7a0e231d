"""The machine API (issue 16): a centre's own systems enrol candidates and read results with
an API token (`Authorization: Bearer vigie_…`, issued on the centre's page), never with a
browser's session.

The token is checked by a guard, before the body is read, against the centre's record in the
store (a revocation holds from the next request, on every node). A missing, unknown, revoked
or expired token is a 401, a token without the route's scope a 403, each as problem details
whose `reason` names why. These routes take no cookie at all, so they need no CSRF token
(app.py leaves them out of the CSRF check).

Errors are for a program and the person writing it, not for a candidate: `field` names the
body's field as the schema does, `reason` says what is wrong in a word a program can test
(`missing`, `too_long`, `malformed` at the edge: 400; a value the rules refuse: 422), and
`detail` is a sentence in English, or in French for `Accept-Language: fr` (never the
pages' « go back and check what you typed »)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.concurrency import sync_to_thread
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody

from app.integrations import authenticate
from app.tenancy import review_of_session
from app.use_cases import enrolment
from domain.access import OutOfReach
from domain.enrollment import Enrollment
from domain.errors import DomainError, NotAName, NotAnEmail, shown_character
from domain.integrations import Scope, TokenRefusal, TokenRefused
from domain.proctored_session import ProctoredSession
from ui.web.api import PROBLEM, Problem
from ui.web.edge import edge_bound, platform_of
from ui.web.i18n import N_, browser_language, gettext_for

PREFIX = "/api/centre"
SCOPE_KEY = "token_scope"
# The OpenAPI security requirement (app.py names the scheme).
BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]

# What a refused token, a missing scope or a bad field answers (problem details).
REFUSALS = {
    400: ResponseSpec(
        Problem,
        media_type=PROBLEM,
        description="A field is missing, too long or malformed: `field` names it, `reason` says "
        "which (`missing`, `too_long`, `malformed`); a body that is no JSON object names no field",
    ),
    401: ResponseSpec(
        Problem,
        media_type=PROBLEM,
        description="No token, or an unknown, revoked or expired one: `reason` says which",
    ),
    403: ResponseSpec(
        Problem,
        media_type=PROBLEM,
        description="The token lacks the route's scope (`out_of_scope`)",
    ),
}

# Why a token was refused, in words (the `reason` field names it for machines).
REFUSAL_WORDS = {
    TokenRefusal.MISSING: N_("Send the centre's API token as “Authorization: Bearer <token>”."),
    TokenRefusal.UNKNOWN: N_("This API token is not known: check it, or issue a new one."),
    TokenRefusal.REVOKED: N_("This API token was revoked: issue a new one on the centre's page."),
    TokenRefusal.EXPIRED: N_("This API token has expired: issue a new one on the centre's page."),
    TokenRefusal.OUT_OF_SCOPE: N_("This API token does not hold the scope “%(scope)s”."),
}


# A bad field at the edge (before any rule): `reason` → the sentence.
FIELD_WORDS = {
    "missing": N_("The field “%(field)s” is missing: it is required."),
    "too_long": N_("The field “%(field)s” is too long: at most %(limit)s characters."),
    "malformed": N_("The field “%(field)s” is malformed: %(expected)s."),
}
# What a malformed field must be, where the schema says more than « a string ».
EXPECTED = {
    "language": N_("write “fr” or “en”"),
    "re_enrol": N_("write true or false"),
}
EXPECTED_OTHERWISE = N_("send it as the schema at /schema describes")
# An HTTP error of the machine API in words for a program's author.
HTTP_WORDS = {
    400: N_("The body could not be read: send one JSON object, as the schema at /schema says."),
    404: N_("Nothing of your centre has this address or id."),
    405: N_("This address does not take this method: see the schema at /schema."),
    409: N_("This was changed elsewhere at the same moment: send the request again."),
    413: N_("The body is too large."),
}
HTTP_OTHERWISE = N_("Something went wrong on our side: try again in a moment.")


def is_machine(request: Request[Any, Any, Any]) -> bool:
    """A request to the machine API (a program, not a person's page)."""
    return request.url.path.startswith(f"{PREFIX}/")


def machine_language(request: Request[Any, Any, Any]) -> str:
    """The machine API's language: English, unless `Accept-Language` prefers French (its
    highest `q` of the two). A program has no session or language cookie to read."""
    return browser_language(request.headers.get("accept-language", ""), "en")


def field_problem(
    request: Request[Any, Any, Any], field: str, reason: str, limit: int | None
) -> Response[Problem]:
    """400 naming a body field the edge refused, and why, for a program."""
    language = machine_language(request)
    _ = gettext_for(language)
    detail = _(
        FIELD_WORDS[reason],
        field=field,
        limit=str(limit or ""),
        expected=_(EXPECTED.get(field, EXPECTED_OTHERWISE)),
    )
    body = Problem(
        type=f"https://vigie.example/problems/invalid-field/{reason.replace('_', '-')}",
        title=f"Invalid field {field}: {reason.replace('_', ' ')}",
        status=400,
        detail=detail,
        field=field,
        reason=reason,
    )
    return Response(body, status_code=400, media_type=PROBLEM)


# A value the rules refuse, where a sentence says more than the domain's English: the field
# as the schema names it, and the character no such value holds (F5: a NUL in an e-mail).
VALUE_WORDS = {
    "email_character": N_(
        "The field “%(field)s” is not an e-mail address: “%(character)s” cannot be in one."
    ),
    "email": N_(
        "The field “%(field)s” is not an e-mail address: write it whole, as name@example.org."
    ),
    "name_character": N_("The field “%(field)s”: “%(character)s” cannot be in a name."),
}


def refusal_detail(request: Request[Any, Any, Any], error: DomainError) -> str | None:
    """The sentence for a value the rules refused, in the program's language; None where
    the domain's own message stands (and off the machine API)."""
    if not is_machine(request):
        return None
    if isinstance(error, NotAnEmail):
        key = "email" if error.character is None else "email_character"
    elif isinstance(error, NotAName):
        key = "name_character"
    else:
        return None
    character = getattr(error, "character", None)
    return gettext_for(machine_language(request))(
        VALUE_WORDS[key],
        field=error.field,
        character=shown_character(character) if character else "",
    )


def http_problem(request: Request[Any, Any, Any], status: int, title: str) -> Problem:
    """An HTTP error of the machine API, its sentence in the program's language."""
    words = gettext_for(machine_language(request))(HTTP_WORDS.get(status, HTTP_OTHERWISE))
    return Problem(type="about:blank", title=title, status=status, detail=words)


async def token_guard(
    connection: ASGIConnection[Any, Any, Any, Any], route: BaseRouteHandler
) -> None:
    """Lets in a token holding the route's scope (`opt["token_scope"]`), and notes its
    centre; TokenRefused otherwise."""
    scope = Scope(route.opt[SCOPE_KEY])
    platform = connection.app.state.platform
    centre = await sync_to_thread(
        authenticate, platform.ctx, connection.headers.get("authorization"), scope
    )
    connection.state.machine_centre = centre


def token_refused(request: Request[Any, Any, Any], error: TokenRefused) -> Response[Problem]:
    """401 (RFC 6750 `invalid_token`) or 403 (`insufficient_scope`), naming the reason."""
    out_of_scope = error.reason is TokenRefusal.OUT_OF_SCOPE
    status = 403 if out_of_scope else 401
    scope = error.scope.value if error.scope else ""
    words = gettext_for(machine_language(request))(REFUSAL_WORDS[error.reason]) % {"scope": scope}
    body = Problem(
        type=f"https://vigie.example/problems/token/{error.reason.value}",
        title=f"API token refused: {error.reason.value.replace('_', ' ')}",
        status=status,
        detail=words,
        reason=error.reason.value,
    )
    challenge = 'Bearer realm="vigie"'
    if error.reason is not TokenRefusal.MISSING:
        kind = "insufficient_scope" if out_of_scope else "invalid_token"
        challenge += f', error="{kind}"' + (f', scope="{scope}"' if out_of_scope else "")
    return Response(
        body, status_code=status, media_type=PROBLEM, headers={"www-authenticate": challenge}
    )


def centre_of_token(request: Request[Any, Any, Any]) -> UUID:
    centre: UUID = request.state.machine_centre
    return centre


class EnrolmentIn(msgspec.Struct):
    """One candidate to enrol for one certification (as a line of the centre's CSV file)."""

    email: Annotated[str, edge_bound("email")]
    surname: Annotated[str, edge_bound("surname")]
    first_name: Annotated[str, edge_bound("first_name")]
    certification_code: Annotated[str, msgspec.Meta(max_length=64)]
    language: Annotated[str, msgspec.Meta(pattern="^(fr|en)$")] = "fr"
    re_enrol: bool = False


class EnrolmentOut(msgspec.Struct):
    """The enrolment made, or the one under way (`already_enrolled`: this centre had enrolled
    the person for this certification already, and nothing changed). The same answer for an
    address with an account on the platform and one without: `new_candidate` told another
    centre's candidate from a new one (security finding F1), and is no longer sent."""

    enrollment_id: UUID
    candidate_id: UUID
    last_day: date
    already_enrolled: bool
    re_enrolled: bool


class SessionResultOut(msgspec.Struct):
    """An exam session's state and, once released to the candidate, its result."""

    session_id: UUID
    status: str
    valid_until: date | None
    attempt_id: UUID | None
    review_id: UUID | None
    verdict: str | None  # "validated" or "invalidated", once released (after an appeal: its)
    appealed: bool


class EnrolmentStatusOut(msgspec.Struct):
    enrollment_id: UUID
    candidate_id: UUID
    certification_code: str
    last_day: date
    expired: bool
    session: SessionResultOut | None


@post(
    f"{PREFIX}/enrolments",
    status_code=201,
    guards=[token_guard],
    opt={SCOPE_KEY: Scope.ENROLMENTS_WRITE.value},
    security=BEARER,
    responses={
        **REFUSALS,
        422: ResponseSpec(
            Problem,
            media_type=PROBLEM,
            description="A well-formed value the rules refuse (an e-mail address that is none, "
            "an unknown certification): `field` names it, `reason` is `invalid`",
        ),
    },
    sync_to_thread=True,
)
def enrol(request: Request[Any, Any, Any], data: JSONBody[EnrolmentIn]) -> EnrolmentOut:
    """Enrol a candidate for the token's centre (scope `enrolments:write`); the invitation
    mail follows. A repeat changes nothing and answers the enrolment under way."""
    platform = platform_of(request)
    done = enrolment.enrol_candidate(
        platform.ctx,
        platform.projections,
        centre_id=centre_of_token(request),
        email=data.email.strip().lower(),
        surname=data.surname.strip(),
        first_name=data.first_name.strip(),
        certification_code=data.certification_code.strip(),
        language=data.language,
        re_enrol=data.re_enrol,
    )
    return EnrolmentOut(
        done.enrollment_id,
        done.candidate_id,
        done.last_day,
        done.already_enrolled,
        done.re_enrolled,
    )


@get(
    f"{PREFIX}/enrolments/{{enrollment_id:uuid}}",
    guards=[token_guard],
    opt={SCOPE_KEY: Scope.RESULTS_READ.value},
    security=BEARER,
    responses={
        **REFUSALS,
        404: ResponseSpec(
            Problem,
            media_type=PROBLEM,
            description="No enrolment of the token's centre has this id",
        ),
    },
    sync_to_thread=True,
)
def enrolment_status(
    request: Request[Any, Any, Any], enrollment_id: FromPath[UUID]
) -> EnrolmentStatusOut:
    """An enrolment of the token's centre, its exam session and result (scope
    `results:read`); another centre's is « not found », as an id that does not exist."""
    platform = platform_of(request)
    store = platform.ctx.store
    try:
        found = store.get(enrollment_id, Enrollment)
    except LookupError:
        raise OutOfReach("enrolment") from None
    if found.centre_id != centre_of_token(request):
        raise OutOfReach("enrolment")
    platform.projections.catch_up(store)
    sessions = platform.projections.sessions_of_enrollment(enrollment_id)
    session = None
    if sessions:
        summary = sessions[-1]
        review = review_of_session(store, summary.session_id)
        released = review is not None and review.released
        proctored = store.get(summary.session_id, ProctoredSession)
        session = SessionResultOut(
            summary.session_id,
            summary.status,
            summary.valid_until,
            proctored.attempt_id,
            review.id if review is not None else None,
            review.final_verdict.value if review and released and review.final_verdict else None,
            review is not None and review.appeal is not None,
        )
    return EnrolmentStatusOut(
        found.id,
        found.candidate_id,
        found.certification_code,
        found.last_day,
        found.expired,
        session,
    )


ROUTES = [enrol, enrolment_status]
