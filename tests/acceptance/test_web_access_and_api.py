"""Who may open what (every route × role, and cross-candidate attempts), and the JSON API's
problem details, through the real app in Litestar's test client."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from app.mail_rendering import SupportContact
from app.outbox import MAIL_NAMESPACE
from app.sessions import TOUCH_EVERY
from app.use_cases import accounts
from domain.evidence import Verdict
from domain.exam_attempt import ExamAttempt
from domain.staff import Role
from tests.acceptance.web import csrf, form_token, log_in
from tests.property.live_media_harness import candidate_offer, watcher_offer
from ui.journey import NINE_WORDS, PARIS, Journey
from ui.web.app import create_app
from ui.web.media import keep_alive_ms

SECRET = b"t" * 32
PASSWORD = "candidat-pass-1"


@pytest.fixture
def world() -> Iterator[dict[str, Any]]:
    platform = bootstrap(
        Settings(database_url="memory:", media_root=None, secret_key=SECRET.decode()),
        clock=ManualClock(datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(3),
    )
    owner = _in_exam(platform, "owner@example.org")
    other = _in_exam(platform, "other@example.org")
    eve = accounts.register_staff(
        platform.ctx, email="eve@example.org", name="Eve", role=Role.EXAMINER, password=PASSWORD
    )
    accounts.register_staff(
        platform.ctx, email="ada@example.org", name="Ada", role=Role.AUDITOR, password=PASSWORD
    )
    decided = _decided(platform, "decided@example.org", eve)
    centre = accounts.register_staff(
        platform.ctx, email="cat@example.org", name="Cat", role=Role.CENTRE, password=PASSWORD
    )
    invited = Journey(platform, email="invited@example.org", centre_id=centre_of(centre))
    invited.enrol()  # an enrolment of Cat's centre: its accommodations page is Cat's alone
    platform.projections.catch_up(platform.ctx.store)
    yield {
        "platform": platform,
        "owner": owner,
        "other": other,
        "decided": decided,
        "invited": invited,
    }
    platform.close()


def _in_exam(platform: Platform, email: str) -> Journey:
    journey = Journey(platform, email=email)
    journey.in_exam()
    journey.set_password(PASSWORD)
    return journey


def _decided(platform: Platform, email: str, examiner_id: UUID) -> Journey:
    """A candidate whose exam was sent and validated: a decision for the auditor's pages."""
    journey = Journey(platform, email=email)
    journey.sent_for_review()
    journey.decided(examiner_id, Verdict.VALIDATED)
    return journey


def centre_of(staff_id: UUID) -> UUID:
    """A centre operator's centre (as the operator pages derive it)."""
    return uuid5(MAIL_NAMESPACE, f"centre:{staff_id}")


def client_as(platform: Platform, who: str) -> TestClient[Any]:
    client = TestClient(create_app(platform, secret=SECRET, support=SupportContact()))
    client.__enter__()
    if who in ("owner", "other"):
        log_in(client, "/login", f"{who}@example.org", PASSWORD)
    elif who == "examiner":
        log_in(client, "/staff/login", "eve@example.org", PASSWORD)
    elif who == "auditor":
        log_in(client, "/staff/login", "ada@example.org", PASSWORD)
    elif who == "centre":
        log_in(client, "/staff/login", "cat@example.org", PASSWORD)
    return client


# (path, who may open it): the owner's session and attempt, the examiner's pages.
ROUTES = [
    ("/exams", {"owner", "other"}),
    ("/exams/{session}", {"owner"}),
    ("/portal/{attempt}", {"owner"}),
    ("/api/me/sessions", {"owner", "other"}),
    ("/api/attempts/{attempt}", {"owner"}),
    ("/examiner/reviews", {"examiner"}),
    ("/api/reviews/due", {"examiner"}),
    ("/equipment", {"owner", "other"}),
    ("/staff/live/{session}", {"examiner"}),  # R2 (support too: not a role of this matrix)
    ("/results/{session}", {"owner"}),
    ("/examiner/appeals", {"examiner"}),
    ("/operator/reviews", {"centre"}),
    ("/operator/enrolments/{enrollment}/accommodation", {"centre"}),
    ("/auditor", {"auditor"}),
    ("/auditor/reviews/{review}", {"auditor"}),
    ("/auditor/reviews/{review}/bundle", {"auditor"}),
    ("/hotline/", set()),  # the support role only (tests/acceptance/test_hotline.py)
]
ROLES = ["anonymous", "owner", "other", "examiner", "auditor", "centre"]


@pytest.mark.parametrize("who", ROLES)
def test_every_route_answers_each_role_as_allowed_and_never_leaks_another_candidate(
    world: dict[str, Any], who: str
) -> None:
    owner: Journey = world["owner"]
    client = client_as(world["platform"], who)
    try:
        for template, allowed in ROUTES:
            path = template.format(
                session=owner.session_id,
                attempt=owner.attempt_id,
                review=world["decided"].review_id,
                enrollment=world["invited"].enrollment_id,
            )
            reply = client.get(path, follow_redirects=False)
            if who in allowed and template == "/exams/{session}":
                # The exam was launched: the checks page sends its owner to the portal.
                assert reply.headers["location"] == f"/portal/{owner.attempt_id}"
            elif who in allowed:
                assert reply.status_code == 200, (who, path, reply.status_code)
            elif who in ("owner", "other") and template.startswith(
                ("/exams/", "/portal/", "/api/attempts", "/results/")
            ):
                assert reply.status_code == 403, (who, path, reply.status_code)
            else:
                assert reply.status_code in (302, 303, 401, 403), (who, path, reply.status_code)
            if who == "other":
                assert "owner@example.org" not in reply.text
    finally:
        client.__exit__(None, None, None)


def test_a_candidate_cannot_answer_in_another_candidates_attempt(world: dict[str, Any]) -> None:
    owner: Journey = world["owner"]
    client = client_as(world["platform"], "other")
    try:
        reply = client.post(
            f"/api/attempts/{owner.attempt_id}/answers",
            json={"question_id": "tables-taille", "answer": "x"},
            headers=csrf(client),
        )
        assert reply.status_code == 403
        assert "tables-taille" not in _attempt(world).answers
    finally:
        client.__exit__(None, None, None)


def _attempt(world: dict[str, Any]) -> ExamAttempt:
    return world["platform"].ctx.store.get(world["owner"].attempt_id, ExamAttempt)


def test_api_refusals_are_problem_details_naming_the_rule_or_the_field(
    world: dict[str, Any],
) -> None:
    owner: Journey = world["owner"]
    client = client_as(world["platform"], "owner")
    try:
        saved = client.post(
            f"/api/attempts/{owner.attempt_id}/answers",
            json={"question_id": "tables-types", "choices": ["a", "d"]},
            headers=csrf(client),
        )
        assert saved.status_code == 201
        unknown = client.post(
            f"/api/attempts/{owner.attempt_id}/answers",
            json={"question_id": "nope"},
            headers=csrf(client),
        )
        assert unknown.status_code == 422
        assert unknown.headers["content-type"].startswith("application/problem+json")
        assert unknown.json()["field"] == "question_id"
        resume = client.post(
            f"/api/sessions/{owner.session_id}/enter",
            json={"resume_reason": NINE_WORDS},
            headers=csrf(client),
        )
        assert resume.status_code == 409
        assert resume.json()["rule"] == "R6" and "10 words" in resume.json()["detail"]
        state = client.get(f"/api/attempts/{owner.attempt_id}").json()
        assert state["status"] == "in_progress" and 0 < state["remaining_seconds"] <= 90 * 60
        assert len(state["question_order"]) == 10
    finally:
        client.__exit__(None, None, None)


def test_the_openapi_document_lists_the_api(world: dict[str, Any]) -> None:
    client = client_as(world["platform"], "anonymous")
    try:
        schema = client.get("/schema/openapi.json").json()
        assert "/api/attempts/{attempt_id}/answers" in schema["paths"]
        assert "/api/reviews/{review_id}/decision" in schema["paths"]
        # A refused decision's answers are documented: every problem by field (422), a
        # rule that refuses any decision now (409).
        answers = schema["paths"]["/api/reviews/{review_id}/decision"]["post"]["responses"]
        assert "problems" in answers["422"]["description"]
        assert "rule" in answers["409"]["description"]
    finally:
        client.__exit__(None, None, None)


def test_a_form_without_its_csrf_token_is_refused(world: dict[str, Any]) -> None:
    client = client_as(world["platform"], "owner")
    try:
        reply = client.post("/terms", data={}, follow_redirects=False)
        assert reply.status_code == 403
    finally:
        client.__exit__(None, None, None)


def test_log_in_attempts_are_rate_limited_per_client(world: dict[str, Any]) -> None:
    client = client_as(world["platform"], "anonymous")
    try:
        token = form_token(client, "/login")
        codes = [
            client.post(
                "/login",
                data={"email": "owner@example.org", "password": "wrong", "_csrf_token": token},
            ).status_code
            for _ in range(12)
        ]
        assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
        assert client.get("/login").status_code == 200  # pages stay open
    finally:
        client.__exit__(None, None, None)


def test_two_workers_sharing_the_rate_limit_folder_count_attempts_together(
    world: dict[str, Any], tmp_path: Path
) -> None:
    """`vigie serve --workers 2`: both processes count in the same folder, so a second worker
    does not hand out ten more attempts."""
    clients = [
        TestClient(
            create_app(
                world["platform"],
                secret=SECRET,
                support=SupportContact(),
                rate_limit_dir=tmp_path / "rate-limit",
            )
        )
        for _ in range(2)
    ]
    try:
        for client in clients:
            client.__enter__()
        tokens = [form_token(client, "/login") for client in clients]
        codes = [
            clients[n % 2]
            .post(
                "/login",
                data={
                    "email": "owner@example.org",
                    "password": "wrong",
                    "_csrf_token": tokens[n % 2],
                },
            )
            .status_code
            for n in range(12)
        ]
        assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
    finally:
        for client in clients:
            client.__exit__(None, None, None)


def test_logging_out_forgets_the_candidate_and_keeps_the_language(world: dict[str, Any]) -> None:
    client = client_as(world["platform"], "owner")
    try:
        client.get("/lang/en")
        reply = client.post("/logout", headers=csrf(client), follow_redirects=False)
        assert reply.status_code in (302, 303) and reply.headers["location"] == "/login"
        assert "Log in" in client.get("/login").text
        gone = client.get("/exams", follow_redirects=False)
        assert gone.headers["location"] == "/login?next=/exams"
    finally:
        client.__exit__(None, None, None)


def test_the_api_drives_the_checks_and_the_portal_like_the_pages(world: dict[str, Any]) -> None:
    other: Journey = world["other"]
    client = client_as(world["platform"], "other")
    try:
        done = client.post(
            f"/api/sessions/{other.session_id}/steps/instructions", headers=csrf(client)
        )
        assert done.status_code == 409 and done.json()["rule"] == "R7"  # ticked already
        unknown = client.post(f"/api/sessions/{other.session_id}/steps/dance", headers=csrf(client))
        assert unknown.status_code == 422 and unknown.json()["field"] == "action"
        finished = client.post(
            f"/api/attempts/{other.attempt_id}/actions/finish", json={}, headers=csrf(client)
        )
        assert finished.status_code == 200 and finished.json()["status"] == "results_shown"
        wrong = client.post(
            f"/api/attempts/{other.attempt_id}/actions/validate",
            json={"code": "not-the-code"},
            headers=csrf(client),
        )
        assert wrong.status_code == 409 and wrong.json()["rule"] == "R18"
        code = world["platform"].ctx.store.get(other.attempt_id, ExamAttempt).validation_code
        sent = client.post(
            f"/api/attempts/{other.attempt_id}/actions/validate",
            json={"code": code},
            headers=csrf(client),
        )
        assert sent.json()["status"] == "validated"
    finally:
        client.__exit__(None, None, None)


def test_the_live_media_routes_check_the_session_and_the_role(
    world: dict[str, Any], tmp_path: Path
) -> None:
    """Issue 7: the proctoring tab offers for its own open session only; live supervision
    and segments are for staff; segments the log does not reference are not served."""
    platform = world["platform"]
    owner: Journey = world["owner"]
    decided: Journey = world["decided"]
    app = create_app(
        platform, secret=SECRET, support=SupportContact(), live_media_root=tmp_path / "live"
    )
    with TestClient(app) as client:
        log_in(client, "/login", "owner@example.org", PASSWORD)
        offer = f"/api/sessions/{owner.session_id}/media/offer"
        reply = client.post(offer, json={"sdp": "not an sdp"}, headers=csrf(client))
        assert reply.status_code == 422 and reply.json()["field"] == "sdp"
        for source in ("screen", "microwave"):  # issue 16: no screen capture for this one
            reply = client.post(offer, json={"sdp": "v=0", "source": source}, headers=csrf(client))
            assert reply.status_code == 422 and reply.json()["field"] == "source", reply.text
        other = client.post(
            f"/api/sessions/{world['other'].session_id}/media/offer",
            json={"sdp": "v=0"},
            headers=csrf(client),
        )
        assert other.status_code == 403  # another candidate's session
        closed = client.post(
            f"/api/sessions/{decided.session_id}/media/offer",
            json={"sdp": "v=0"},
            headers=csrf(client),
        )
        assert closed.status_code == 403  # not hers either: ownership comes first
        watch = client.post(
            f"/api/sessions/{owner.session_id}/media/watch",
            json={"sdp": "v=0"},
            headers=csrf(client),
        )
        assert watch.status_code in (401, 403)  # candidates do not supervise
    with TestClient(app) as client:
        log_in(client, "/staff/login", "eve@example.org", PASSWORD)
        watch = client.post(
            f"/api/sessions/{owner.session_id}/media/watch",
            json={"sdp": "v=0"},
            headers=csrf(client),
        )
        # The candidate's camera is not connected: the live page waits for it (issue 15).
        assert watch.status_code == 409 and watch.json() == {"state": "waiting"}
        ended = client.post(
            f"/api/sessions/{decided.session_id}/media/watch",
            json={"sdp": "v=0"},
            headers=csrf(client),
        )
        assert ended.status_code == 409 and ended.json() == {"state": "ended"}  # closed (R18)
        segment = client.get(f"/media/sessions/{owner.session_id}/segment-0001.mkv")
        assert segment.status_code == 404  # the log references no such segment
        assert client.get(f"/staff/live/{owner.session_id}").status_code == 200
        out = client.post("/logout", headers=csrf(client), follow_redirects=False)
        assert out.headers["location"] == "/staff/login"  # staff to their own log-in page


def test_a_live_view_ends_when_its_agent_logs_out_and_another_agent_s_goes_on(
    world: dict[str, Any], tmp_path: Path
) -> None:
    """Issue 15: a view went on showing her camera to an agent who had logged out in another
    tab, for as long as her connection lasted. The node holding it now hangs up the views
    of a web session that ended (a log-out, a revocation) within a few seconds; the page
    then says « Vous n'êtes plus connecté ». Another agent's view of her goes on."""
    platform = world["platform"]
    owner: Journey = world["owner"]
    accounts.register_staff(
        platform.ctx, email="sam@example.org", name="Sam", role=Role.SUPPORT, password=PASSWORD
    )
    app = create_app(
        platform, secret=SECRET, support=SupportContact(), live_media_root=tmp_path / "live"
    )
    loop, candidate_peer, sdp = candidate_offer()
    # One app, one lifespan (one recorder): each person is a jar of cookies on one client.
    with TestClient(app) as client:
        jars: dict[str, dict[str, str]] = {}
        for who, path, email in (
            ("owner", "/login", "owner@example.org"),
            ("sam", "/staff/login", "sam@example.org"),
            ("eve", "/staff/login", "eve@example.org"),
        ):
            client.cookies.clear()
            log_in(client, path, email, PASSWORD)
            jars[who] = dict(client.cookies)

        def as_(who: str) -> None:
            client.cookies.clear()
            client.cookies.update(jars[who])

        as_("owner")
        offered = client.post(
            f"/api/sessions/{owner.session_id}/media/offer", json={"sdp": sdp}, headers=csrf(client)
        )
        assert offered.status_code == 200, offered.text
        watch = f"/api/sessions/{owner.session_id}/media/watch"
        for who in ("sam", "eve"):
            as_(who)
            view = client.post(watch, json={"sdp": watcher_offer(loop)}, headers=csrf(client))
            assert view.status_code == 200, view.text
        recorder = app.state.recorder
        assert len(recorder.viewers()) == 2

        as_("sam")
        assert client.post("/logout", headers=csrf(client), follow_redirects=False).is_redirect
        deadline = time.monotonic() + 10  # the node looks every CLOSED_CHECK_S (2 s)
        while len(recorder.viewers()) != 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(recorder.viewers()) == 1, "the logged-out agent's view was not hung up"
        as_("sam")  # her page offers again: no longer logged in
        again = client.post(watch, json={"sdp": watcher_offer(loop)}, headers=csrf(client))
        assert again.status_code in (401, 403)
        # « Se déconnecter » on that stale page leads to the staff log-in, not the candidates'.
        stale = client.post(
            "/logout",
            headers={**csrf(client), "referer": f"http://testserver/staff/live/{owner.session_id}"},
            follow_redirects=False,
        )
        assert stale.headers["location"] == "/staff/login"
        as_("eve")  # the other agent still watches, and may offer again
        time.sleep(2.5)  # one more check: it leaves her view be
        assert len(recorder.viewers()) == 1
    loop.run_until_complete(candidate_peer.hang_up())
    loop.close()


def test_a_live_view_asks_often_enough_to_keep_its_agent_logged_in() -> None:
    """Twice within the staff's idle time, more than TOUCH_EVERY apart (a session's idle end
    is written only when it moves by that much), at most every 5 min (a review: a 2-minute
    idle time logged a watching agent out)."""
    for idle_minutes in (2, 6, 30, 600):
        idle = timedelta(minutes=idle_minutes)
        every = timedelta(milliseconds=keep_alive_ms(idle))
        assert TOUCH_EVERY < every < idle / 1.5 or idle_minutes < 2
        assert every <= timedelta(minutes=5)
