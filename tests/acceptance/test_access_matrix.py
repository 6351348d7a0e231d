"""The access matrix over two centres (issue 14): every route of the app × every role × whose
record (centre A's or centre B's) → allowed, sent to log in, 403 or 404.

The routes come from the Litestar app's own route table: a new route without a line in
`MATRIX` fails `test_every_route_of_the_app_has_a_line_in_the_matrix`. One platform is set up
for the whole module (two centres, a candidate each with an exam sent, reviewed, invalidated,
contested and taken by a second examiner, a photo, a live segment) and every request is sent
through Litestar's test client. A request that is let through carries input the handler then
refuses (an unknown action, an empty reason…), so the matrix changes nothing it reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from app import integrations
from app.live_recording import record_live_event
from app.mail_rendering import SupportContact
from app.ports.live_media import Segment, SegmentId
from app.recording import session_media
from app.tenancy import centre_of_operator
from app.use_cases import accounts, appeals, reviewing
from domain.evidence import ReasonCode, Verdict
from domain.integrations import Scope, WebhookEvent
from domain.internal_network import AllowedNetworks
from domain.media_view import ViewedMedia
from domain.parked_reaction import ParkedReaction
from domain.review import CitedReason, Review
from domain.staff import Role
from tests.acceptance.web import csrf, log_in
from ui.journey import PARIS, Journey
from ui.web.app import create_app
from vigie_contracts.samples import ebml_sample

SECRET = b"m" * 32
PASSWORD = "matrix-pass-12"


class Outcome(Enum):
    """What a request gets."""

    ALLOWED = "allowed"  # through the access checks (then 2xx/3xx, or a refusal of its input)
    LOG_IN = "log in"  # 401, or a redirect to a log-in page
    FORBIDDEN = "403"  # the wrong role
    ABSENT = "404"  # the right role, another centre's (or examiner's) record: « not found »
    GONE = "410"  # a page opened by a signed link only (the exam tab): no session opens it


ALLOWED, LOG_IN, FORBIDDEN, ABSENT, GONE = Outcome
ROLES = (
    "anonymous",
    "candidate A",
    "candidate B",
    "examiner assigned",
    "examiner not assigned",
    "centre A",
    "centre B",
    "support",
    "auditor",
)
STAFF_ROLE = {
    "examiner assigned": Role.EXAMINER,
    "examiner not assigned": Role.EXAMINER,
    "centre A": Role.CENTRE,
    "centre B": Role.CENTRE,
    "support": Role.SUPPORT,
    "auditor": Role.AUDITOR,
}
Rule = Callable[[str, str], Outcome]  # (role, owner "A" or "B") → outcome


def public(role: str, owner: str) -> Outcome:
    """Open to everyone (log-in, language, support, static files, the API's schema)."""
    return ALLOWED


def scraper_only(role: str, owner: str) -> Outcome:
    """The metrics (issue 15): for a scraper with the token, or a direct request from this
    machine; no role's session opens them, and they answer « not found » to the rest."""
    return ABSENT


def any_candidate(role: str, owner: str) -> Outcome:
    """A logged-in candidate's own list (nothing of another's to name)."""
    return ALLOWED if role.startswith("candidate") else LOG_IN


def own_candidate(role: str, owner: str) -> Outcome:
    """A candidate's session, attempt or result: the owner's only (403 for another
    candidate, as before issue 14)."""
    if role == f"candidate {owner}":
        return ALLOWED
    return FORBIDDEN if role.startswith("candidate") else LOG_IN


def signed_link(role: str, owner: str) -> Outcome:
    """The exam tab (issue 15): its signed address and its candidate's own session are the
    credential (F6: tests/acceptance/test_exam_tab_hers_only.py). Without the signature,
    whoever asks, logged in or not, the workspace is « not (or no longer) open »."""
    return GONE


def no_provider_here(role: str, owner: str) -> Outcome:
    """Staff single sign-on (issue 16): open to everyone where a provider is configured
    (tests/acceptance/test_single_sign_on_exchange.py); this platform has none, so the routes
    answer « not found » to whoever asks."""
    return ABSENT


def after_password(role: str, owner: str) -> Outcome:
    """The second step of a staff log-in: nobody reaches it without the first (the matrix's
    sessions are past it or never began it): back to the log-in page."""
    return LOG_IN


def staff(*roles: Role) -> Rule:
    """Staff pages of these roles, with no record of a centre in them."""

    def rule(role: str, owner: str) -> Outcome:
        if role not in STAFF_ROLE:
            return LOG_IN
        return ALLOWED if STAFF_ROLE[role] in roles else FORBIDDEN

    return rule


def centre_record(*roles: Role) -> Rule:
    """A record of one centre: that centre's operator and the hotline (if the route is
    theirs); another centre is told it does not exist."""
    by_role = staff(*roles)

    def rule(role: str, owner: str) -> Outcome:
        outcome = by_role(role, owner)
        if outcome is ALLOWED and role.startswith("centre") and role != f"centre {owner}":
            return ABSENT
        return outcome

    return rule


def token_only(role: str, owner: str) -> Outcome:
    """The machine API (issue 16): an API token opens it, never a session (401 for all)."""
    return LOG_IN


def examiner_record(*roles: Role) -> Rule:
    """A review (or its media) for these roles: an examiner only if it is theirs."""
    by_role = staff(*roles)

    def rule(role: str, owner: str) -> Outcome:
        outcome = by_role(role, owner)
        return ABSENT if outcome is ALLOWED and role == "examiner not assigned" else outcome

    return rule


@dataclass(frozen=True)
class Line:
    """How one route answers, and the input it is sent (refused after the access checks)."""

    rule: Rule
    form: dict[str, str] | None = None
    json: Any = None
    multipart: bool = False
    per_owner: bool = True  # whether the path names a record of centre A or B


def _quiet(rule: Rule, **kwargs: Any) -> Line:
    return Line(rule, per_owner=False, **kwargs)


# Every route of the app (method and path as Litestar lists them) → its line.
MATRIX: dict[str, Line] = {
    "GET /": _quiet(public),
    "GET /support": _quiet(public),
    "GET /favicon.ico": _quiet(public),
    "GET /lang/{code:str}": _quiet(public),
    "GET /login": _quiet(public),
    "POST /login": _quiet(public, form={"email": "nobody@example.org", "password": "x"}),
    "POST /logout": _quiet(public),
    "GET /password/reset": _quiet(public),
    "POST /password/reset": _quiet(public, form={"token": "nothing"}),
    "GET /password/forgot": _quiet(public),
    "POST /password/forgot": _quiet(public, form={"email": "nobody@example.org"}),
    "GET /sessions/new": _quiet(public),
    "POST /sessions/new": _quiet(public, form={"token": "nothing"}),
    "GET /staff/login": _quiet(public),
    "POST /staff/login": _quiet(public, form={"email": "nobody@example.org", "password": "x"}),
    "GET /static/{file_path:path}": _quiet(public),
    # The second step of a staff log-in: only after the password (else back to the log-in).
    "GET /staff/login/code": _quiet(after_password),
    "POST /staff/login/code": _quiet(after_password, form={"code": "000000"}),
    # Staff single sign-on (issue 16): to the provider and back; not configured here.
    "GET /staff/sso": _quiet(no_provider_here),
    "GET /staff/sso/callback": _quiet(no_provider_here),
    # A member of staff's own security: password and second factor (any staff role).
    "GET /staff/security": _quiet(staff(*Role)),
    "POST /staff/security/second-factor": _quiet(staff(*Role)),
    "POST /staff/security/second-factor/confirm": _quiet(staff(*Role), form={"code": "0"}),
    "POST /staff/security/second-factor/disable": _quiet(staff(*Role), form={"code": "0"}),
    "POST /staff/security/password": _quiet(
        staff(*Role), form={"current": "wrong", "new": "x", "again": "y"}
    ),
    # LTI 1.3 (issue 16): a learning platform's login initiation and launch (the signed
    # id_token, the state and its cookie are the credential: refused without them), the
    # tool's public key set, and a teacher's pick (only after a Deep Linking launch).
    "GET /lti/login": _quiet(public),
    "POST /lti/login": _quiet(public, form={"iss": "https://lms.example.org"}),
    "POST /lti/launch": _quiet(public, form={"id_token": "x.y.z", "state": "nothing"}),
    "GET /lti/jwks": _quiet(public),
    "GET /lti/deep-link": _quiet(public),
    "POST /lti/deep-link": _quiet(public, form={"certification": "ENI-ACCESS"}),
    # The public key evidence bundles are signed with: for any verifier (docs/audit.md).
    "GET /.well-known/vigie-evidence-key": _quiet(public),
    "GET /.well-known/vigie-evidence-key.pem": _quiet(public),
    # Probes for a load balancer and a restart policy (issue 15, docs/operations.md).
    "GET /health": _quiet(public),
    "GET /ready": _quiet(public),
    "GET /metrics": _quiet(scraper_only),
    **{
        f"GET /schema{tail}": _quiet(public)
        for tail in (
            "",
            "/openapi.yaml",
            "/openapi.yml",
            "/openapi.json",
            "/swagger",
            "/redoc",
            "/elements",
            "/rapidoc",
            "/{path:str}",
            "/oauth2-redirect.html",
        )
    },
    # --- the candidate ---
    "GET /terms": _quiet(any_candidate),
    "POST /terms": _quiet(any_candidate),
    "GET /equipment": _quiet(any_candidate),
    "GET /exams": _quiet(any_candidate),
    "GET /api/me/sessions": _quiet(any_candidate),
    "GET /exams/{session_id:uuid}": Line(own_candidate),
    "POST /exams/{session_id:uuid}/upload-test": Line(own_candidate),
    "POST /exams/{session_id:uuid}/do/{action:str}": Line(own_candidate, form={}),
    "POST /exams/{session_id:uuid}/enter": Line(own_candidate, form={}),
    "GET /portal/{attempt_id:uuid}": Line(own_candidate),
    "GET /portal/{attempt_id:uuid}/state": Line(own_candidate),
    "POST /portal/{attempt_id:uuid}/{action:str}": Line(own_candidate, form={}),
    "POST /api/sessions/{session_id:uuid}/enter": Line(own_candidate, json={}),
    "POST /api/sessions/{session_id:uuid}/steps/{action:str}": Line(own_candidate, multipart=True),
    "GET /api/attempts/{attempt_id:uuid}": Line(own_candidate),
    "POST /api/attempts/{attempt_id:uuid}/answers": Line(
        own_candidate, json={"question_id": "none"}
    ),
    "POST /api/attempts/{attempt_id:uuid}/actions/{action:str}": Line(own_candidate, json={}),
    "GET /results/{session_id:uuid}": Line(own_candidate),
    "POST /results/{session_id:uuid}/appeal": Line(own_candidate, form={"reason": ""}),
    "POST /api/sessions/{session_id:uuid}/media/offer": Line(own_candidate, json={"sdp": "v=0"}),
    "GET /api/sessions/{session_id:uuid}/media/ice": Line(own_candidate),
    # --- examiners ---
    "GET /examiner/reviews": _quiet(staff(Role.EXAMINER)),
    "GET /api/reviews/due": _quiet(staff(Role.EXAMINER)),
    "GET /examiner/appeals": _quiet(staff(Role.EXAMINER)),
    "GET /examiner/reviews/{review_id:uuid}": Line(examiner_record(Role.EXAMINER)),
    # An action's address opened as a page: back to the review (it answered 405).
    "GET /examiner/reviews/{review_id:uuid}/{action:str}": Line(examiner_record(Role.EXAMINER)),
    "POST /examiner/reviews/{review_id:uuid}/{action:str}": Line(
        examiner_record(Role.EXAMINER), form={}
    ),
    "GET /examiner/reviews/{review_id:uuid}/media/{media_id:path}": Line(
        examiner_record(Role.EXAMINER)
    ),
    "POST /api/reviews/{review_id:uuid}/decision": Line(
        examiner_record(Role.EXAMINER), json={"verdict": "neither"}
    ),
    "GET /examiner/appeals/{review_id:uuid}": Line(examiner_record(Role.EXAMINER)),
    "GET /examiner/appeals/{review_id:uuid}/{action:str}": Line(examiner_record(Role.EXAMINER)),
    "POST /examiner/appeals/{review_id:uuid}/{action:str}": Line(
        examiner_record(Role.EXAMINER), form={}
    ),
    # --- recordings and live supervision (staff who look at a candidate's images) ---
    "GET /media/sessions/{session_id:uuid}/{name:str}": Line(
        examiner_record(Role.EXAMINER, Role.SUPPORT, Role.AUDITOR)
    ),
    "GET /media/sessions/{session_id:uuid}/{name:str}/still/{offset_ms:int}": Line(
        examiner_record(Role.EXAMINER, Role.SUPPORT, Role.AUDITOR)
    ),
    "GET /staff/live/{session_id:uuid}": Line(examiner_record(Role.EXAMINER, Role.SUPPORT)),
    "POST /api/sessions/{session_id:uuid}/media/watch": Line(
        examiner_record(Role.EXAMINER, Role.SUPPORT), json={"sdp": "v=0"}
    ),
    "GET /api/sessions/{session_id:uuid}/media/watch/ice": Line(
        examiner_record(Role.EXAMINER, Role.SUPPORT)
    ),
    # --- training centres (and the hotline, for every centre) ---
    "GET /operator": _quiet(staff(Role.CENTRE, Role.SUPPORT)),
    "POST /operator/enrol": _quiet(staff(Role.CENTRE), form={}),
    "POST /operator/enrol-csv": _quiet(staff(Role.CENTRE), multipart=True),
    "POST /operator/enrol-csv/confirm": _quiet(staff(Role.CENTRE), form={}),
    "POST /operator/slot/{enrollment_id:uuid}": Line(
        centre_record(Role.CENTRE, Role.SUPPORT), form={"slot": ""}
    ),
    "GET /operator/reviews": _quiet(staff(Role.CENTRE, Role.SUPPORT)),
    # A certification's Safe Exam Browser configuration (issue 16): for the staff who hand it.
    "GET /operator/certifications/{certification:str}/seb": _quiet(
        staff(Role.CENTRE, Role.SUPPORT)
    ),
    "POST /operator/reviews/{review_id:uuid}/reassign": Line(
        centre_record(Role.CENTRE, Role.SUPPORT),
        form={"examiner": "assigned@example.org", "reason": ""},
    ),
    "GET /operator/enrolments/{enrollment_id:uuid}/accommodation": Line(centre_record(Role.CENTRE)),
    "POST /operator/enrolments/{enrollment_id:uuid}/accommodation/grant": Line(
        centre_record(Role.CENTRE), form={"extra_time_percent": "many"}
    ),
    # A centre's API tokens and webhooks (issue 16): its manager's alone.
    "GET /operator/integrations": _quiet(staff(Role.CENTRE)),
    "POST /operator/integrations/tokens": _quiet(staff(Role.CENTRE), form={"name": ""}),
    "POST /operator/integrations/webhooks": _quiet(staff(Role.CENTRE), form={"url": "x"}),
    "POST /operator/integrations/tokens/{token_id:uuid}/revoke": Line(centre_record(Role.CENTRE)),
    "POST /operator/integrations/webhooks/{subscription_id:uuid}/remove": Line(
        centre_record(Role.CENTRE)
    ),
    # The machine API: a centre's token, no session.
    "POST /api/centre/enrolments": _quiet(token_only, json={}),
    "GET /api/centre/enrolments/{enrollment_id:uuid}": Line(token_only),
    # The platform's mails and reactions name every centre's candidates: the hotline's.
    "GET /operator/mailbox": _quiet(staff(Role.SUPPORT)),
    "POST /operator/mail/{mail_id:uuid}/resend": _quiet(staff(Role.SUPPORT)),
    "POST /operator/parked/{parked_id:uuid}/retry": _quiet(staff(Role.SUPPORT)),
    # --- the hotline (support: every centre's candidates) ---
    "GET /hotline": _quiet(staff(Role.SUPPORT)),
    "GET /hotline/candidates/{candidate_id:uuid}": Line(staff(Role.SUPPORT)),
    **{
        f"POST /hotline/enrolments/{{enrollment_id:uuid}}/{action}": Line(
            staff(Role.SUPPORT), form={}
        )
        for action in (
            "renew",
            "waive-photo",
            "technical-problem",
            "book-live",
            "send-live-link",
            "resend",
            "unblock",
        )
    },
    # --- auditors (every decision) ---
    "GET /auditor": _quiet(staff(Role.AUDITOR)),
    "GET /auditor/reviews/{review_id:uuid}": Line(staff(Role.AUDITOR)),
    "GET /auditor/reviews/{review_id:uuid}/bundle": Line(staff(Role.AUDITOR)),
    # --- the exam tab of the built-in workspace, at the base URL (issue 15) ---
    "GET /w/{ref:str}": Line(signed_link),
    **{
        f"POST /w/{{ref:str}}/{action}": Line(signed_link, form={"question_id": "nothing"})
        for action in ("beat", "closed", "answer", "mark", "finish", "leave")
    },
}


# --- the world: two centres, a candidate each --------------------------------------------------


@dataclass
class Side:
    """One centre's records."""

    journey: Journey
    photo: str  # a photo's media reference
    token_id: str = ""  # the centre's API token (issue 16)
    subscription_id: str = ""  # and its webhook

    @property
    def values(self) -> dict[str, str]:
        j = self.journey
        return {
            "session_id": str(j.session_id),
            "attempt_id": str(j.attempt_id),
            "ref": f"ws-{j.attempt_id}",  # its exam tab's workspace
            "review_id": str(j.review_id),
            "enrollment_id": str(j.enrollment_id),
            "candidate_id": str(j.candidate_id),
            "media_id": self.photo,
            "name": "segment-1.mkv",
            "offset_ms": "1000",
            "action": "nothing",
            "token_id": self.token_id,
            "subscription_id": self.subscription_id,
        }

    @property
    def traces(self) -> tuple[str, ...]:
        """What of this side another centre's (or another candidate's) page must not show."""
        j = self.journey
        return (j.email, str(j.enrollment_id), str(j.review_id), str(j.session_id))


@dataclass
class World:
    platform: Platform
    app: Litestar
    sides: dict[str, Side]
    clients: dict[str, TestClient[Any]]
    shared: dict[str, str]  # ids that name no centre's record (a mail, a parked reaction)
    staff: dict[str, UUID]

    def path(self, template: str, owner: str) -> str:
        values = {**self.sides[owner].values, **self.shared}
        return re.sub(r"\{(\w+):[^}]+\}", lambda m: values[m.group(1)], template)


def _staff(platform: Platform, email: str, role: Role) -> UUID:
    return accounts.register_staff(
        platform.ctx,
        email=email,
        name=email.split("@", maxsplit=1)[0],
        role=role,
        password=PASSWORD,
    )


def _side(platform: Platform, letter: str, centre: UUID, ids: dict[str, UUID], live: Path) -> Side:
    """A candidate of that centre whose exam was recorded live, invalidated by the assigned
    examiner, sent, contested, and taken by a second examiner (the appeal waits)."""
    journey = Journey(platform, email=f"cand-{letter.lower()}@example.org", centre_id=centre)
    journey.in_exam()
    session = journey.session_id
    assert session is not None
    (live / str(session)).mkdir(parents=True)
    (live / str(session) / "segment-1.mkv").write_bytes(ebml_sample(b"matroska", b"a minute"))
    # As the recorder does once a segment is finished: handed to the media store.
    platform.ctx.media.keep_live_segment(
        f"{session}/segment-1.mkv", live / str(session) / "segment-1.mkv"
    )
    started = platform.ctx.now()
    journey.clock.advance(seconds=60)
    segment = Segment(
        SegmentId("segment-1"),
        session,
        started,
        platform.ctx.now(),
        f"{session}/segment-1.mkv",
        16,
        "sha256:" + "0" * 64,
    )
    assert record_live_event(platform.ctx, segment)
    journey.answer_and_send()
    review = platform.ctx.store.get(journey.review_id, Review)  # type: ignore[arg-type]
    launched = next(e for e in review.evidence if e.kind == "ExamLaunched")
    reasons = (CitedReason(ReasonCode.HEADPHONES, (launched.id,)),)
    journey.decided(ids["assigned"], Verdict.INVALIDATED, reasons)
    reviewing.release_results(platform.ctx, review.id, released_by=ids["assigned"])
    appeals.lodge_appeal(
        platform.ctx,
        review.id,
        candidate_id=journey.candidate_id,
        reason="mes bouchons",  # type: ignore[arg-type]
    )
    appeals.take_appeal(platform.ctx, review.id, ids["second"])
    journey.set_password(PASSWORD)
    platform.settle()
    history = platform.ctx.store.history(session)
    photo = next(m.media_id for m in session_media(history) if m.kind == "image")
    return Side(journey, photo)


def _clients(new_app: Callable[[], Litestar]) -> dict[str, TestClient[Any]]:
    """One client per role, logged in once, each with an app of its own over the one platform
    (an app's lifespan and its log-in rate limit are its client's alone)."""
    clients: dict[str, TestClient[Any]] = {}
    logins = {
        "candidate A": ("/login", "cand-a@example.org"),
        "candidate B": ("/login", "cand-b@example.org"),
        "examiner assigned": ("/staff/login", "assigned@example.org"),
        "examiner not assigned": ("/staff/login", "other@example.org"),
        "centre A": ("/staff/login", "centre-a@example.org"),
        "centre B": ("/staff/login", "centre-b@example.org"),
        "support": ("/staff/login", "support@example.org"),
        "auditor": ("/staff/login", "auditor@example.org"),
    }
    for role in ROLES:
        client = TestClient(new_app())
        client.__enter__()
        client.get("/")  # the CSRF cookie
        if role in logins:
            page, email = logins[role]
            log_in(client, page, email, PASSWORD)
        clients[role] = client
    return clients


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    live = tmp_path_factory.mktemp("live")
    platform = bootstrap(
        Settings(
            database_url="memory:",
            media_root=None,
            secret_key=SECRET.decode(),
            webhook_allowed_networks=AllowedNetworks.parse("127.0.0.0/8"),  # its webhook's
        ),
        clock=ManualClock(datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(14),
    )
    ids = {
        "assigned": _staff(platform, "assigned@example.org", Role.EXAMINER),
        "other": _staff(platform, "other@example.org", Role.EXAMINER),
        "second": _staff(platform, "second@example.org", Role.EXAMINER),
        "centre A": _staff(platform, "centre-a@example.org", Role.CENTRE),
        "centre B": _staff(platform, "centre-b@example.org", Role.CENTRE),
        "support": _staff(platform, "support@example.org", Role.SUPPORT),
        "auditor": _staff(platform, "auditor@example.org", Role.AUDITOR),
    }
    sides = {
        letter: _side(platform, letter, centre_of_operator(ids[f"centre {letter}"]), ids, live)
        for letter in ("A", "B")
    }
    for letter, side in sides.items():
        manager = ids[f"centre {letter}"]
        side.token_id = str(
            integrations.issue_token(
                platform.ctx, manager, name="matrix", scopes=(Scope.RESULTS_READ,)
            ).token_id
        )
        side.subscription_id = str(
            integrations.subscribe_webhook(
                platform.ctx,
                manager,
                platform.webhook_key,
                url="http://127.0.0.1:9/matrix",
                events=(WebhookEvent.SESSION_CREATED,),
            ).subscription_id
        )
    parked = ParkedReaction.park(
        policy="matrix",
        position=1,
        cause="a/1",
        event_type="Nothing",
        error="none",
        tries=1,
        at=platform.ctx.now(),
    )
    platform.ctx.store.save(parked)
    platform.projections.catch_up(platform.ctx.store)
    shared = {
        "mail_id": str(next(iter(platform.projections.mails))),
        "parked_id": str(parked.id),
        "code": "fr",
        "certification": "ENI-ACCESS",
        "file_path": "vigie.css",
        "path": "openapi.json",
    }

    def new_app() -> Litestar:
        return create_app(platform, secret=SECRET, support=SupportContact(), live_media_root=live)

    clients = _clients(new_app)
    yield World(platform, clients["anonymous"].app, sides, clients, shared, ids)
    for client in clients.values():
        client.__exit__(None, None, None)
    platform.close()


def _routes(app: Litestar) -> list[str]:
    """Every route of the app, as `METHOD path` (HEAD and OPTIONS are Litestar's own)."""
    return sorted(
        f"{method} {route.path}"
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for method in route.methods
        if method not in ("HEAD", "OPTIONS")
    )


def outcome_of(reply: Any) -> Outcome | None:
    """What a reply means for access; None for a server error (never acceptable)."""
    if reply.status_code >= 500:
        return None
    if reply.status_code == 401:
        return LOG_IN
    if reply.status_code in (301, 302, 303, 307, 308):
        where = reply.headers.get("location", "")
        return LOG_IN if where.split("?")[0] in ("/login", "/staff/login") else ALLOWED
    return {403: FORBIDDEN, 404: ABSENT, 410: GONE}.get(reply.status_code, ALLOWED)


def send(world: World, role: str, key: str, owner: str) -> Any:
    method, template = key.split(" ", 1)
    line = MATRIX[key]
    client = world.clients[role]
    path = world.path(template, owner)
    if method == "GET":
        return client.get(path, follow_redirects=False)
    headers = csrf(client)
    if line.json is not None:
        return client.post(path, json=line.json, headers=headers, follow_redirects=False)
    if line.multipart:
        files = {"unrelated": ("x.txt", b"x", "text/plain")}
        return client.post(path, files=files, headers=headers, follow_redirects=False)
    return client.post(path, data=line.form or {}, headers=headers, follow_redirects=False)


def test_every_route_of_the_app_has_a_line_in_the_matrix(world: World) -> None:
    routes = _routes(world.app)
    assert [r for r in routes if r not in MATRIX] == [], "a route the matrix does not know"
    assert [k for k in MATRIX if k not in routes] == [], "a line for a route that is gone"


def test_every_route_answers_every_role_for_both_centres_as_the_matrix_says(
    world: World,
) -> None:
    wrong = []
    for key in _routes(world.app):
        line = MATRIX[key]
        owners = ("A", "B") if line.per_owner else ("A",)
        # A route with no access check is sent once (its posts log in, log out, reset).
        roles = ROLES if line.rule is not public else ("anonymous",)
        for role in roles:
            for owner in owners:
                expected = line.rule(role, owner)
                reply = send(world, role, key, owner)
                got = outcome_of(reply)
                if line.rule is public and got is LOG_IN:
                    continue  # an open page may send a visitor to log in (« / », log-out)
                if got is not expected:
                    got_words = got.value if got else "server error"
                    wrong.append(
                        f"{key} [{owner}] as {role}: {reply.status_code} ({got_words}), "
                        f"{expected.value} expected"
                    )
                elif got is ALLOWED:
                    wrong += _leaks(world, role, owner, key, reply.text)
    assert wrong == [], "\n".join(wrong)
    # Every look at a candidate's images that was let through is on record (issue 14): the
    # photo, the played segment and its stills, by whom; none by those refused.
    platform = world.platform
    platform.projections.catch_up(platform.ctx.store)
    for side in world.sides.values():
        seen = {
            (v.viewer_id, v.what)
            for v in platform.projections.media_views[side.journey.session_id]  # type: ignore[index]
        }
        assert seen == {
            (world.staff["assigned"], ViewedMedia.PHOTO),
            *(
                (world.staff[who], what)
                for who in ("assigned", "support", "auditor")
                for what in (ViewedMedia.SEGMENT, ViewedMedia.STILL)
            ),
        }


def _leaks(world: World, role: str, owner: str, key: str, text: str) -> list[str]:
    """An allowed reply must not name the other centre's (or candidate's) records; an
    examiner not assigned sees neither review."""
    if role in ("centre A", "centre B", "candidate A", "candidate B"):
        foreign = world.sides["B" if role.endswith("A") else "A"].traces
    elif role == "examiner not assigned":
        foreign = tuple(str(s.journey.review_id) for s in world.sides.values())
    else:
        return []
    return [f"{key} [{owner}] as {role} shows {trace}" for trace in foreign if trace in text]


# What a browser or a shared cache may keep: the design system's files, the icon, the LTI
# key set (public keys). Nothing else, whoever asks (security finding F4).
CACHEABLE = ("GET /static/{file_path:path}", "GET /favicon.ico", "GET /lti/jwks")


def test_no_answer_is_kept_by_a_cache_but_the_public_files(world: World) -> None:
    """Only pages carried `Cache-Control: no-store`: the evidence bundle (zip), a recorded
    segment, the JSON API's answers (TURN credentials among them) had none, and a segment's
    still said `private, max-age=3600`, so a shared cache or the browser's disk kept them
    after log-out (a security tester's finding). Every route, as a role it lets through."""
    kept = []
    for key in _routes(world.app):
        if not key.startswith("GET "):
            continue
        line = MATRIX[key]
        role = next((r for r in ROLES if line.rule(r, "A") is ALLOWED), None)
        if role is None:
            continue
        reply = send(world, role, key, "A")
        caching = reply.headers.get("cache-control", "")
        if ("no-store" in caching) == (key in CACHEABLE):
            kind = reply.headers.get("content-type", "").split(";")[0]
            kept.append(f"{key} as {role}: {reply.status_code} {kind}, cache-control {caching!r}")
    # The machine API, with a centre's token (no session opens it; the matrix revoked its own).
    token = integrations.issue_token(
        world.platform.ctx, world.staff["centre A"], name="cache", scopes=(Scope.RESULTS_READ,)
    ).token
    machine = world.clients["anonymous"].get(
        f"/api/centre/enrolments/{world.sides['A'].journey.enrollment_id}",
        headers={"authorization": f"Bearer {token}"},
    )
    assert machine.status_code == 200, machine.text
    if "no-store" not in machine.headers.get("cache-control", ""):
        kept.append(f"the machine API: cache-control {machine.headers.get('cache-control')!r}")
    assert kept == [], "\n".join(kept)
    # The files stay cached, by their own rule: revalidated, a day, five minutes.
    anonymous = world.clients["anonymous"]
    assert anonymous.get("/static/vigie.css").headers["cache-control"] == "no-cache"
    assert "max-age=86400" in anonymous.get("/favicon.ico").headers["cache-control"]
    assert anonymous.get("/lti/jwks").headers["cache-control"] == "public, max-age=300"
