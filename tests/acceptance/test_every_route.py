"""Issue 14, point 5: no input makes any route fail with a server error. The routes come from
the application's own route table, so a new route is covered without touching this test; each
is called by the roles its guards let in (found by asking), with its ids real, unknown (a
random UUID) or not ids at all, and with malformed bodies drawn by hypothesis: missing fields,
wrong types, huge strings, invalid UTF-8, a wrong content type, multipart garbage, negative
and non-finite numbers. Every answer must be below 500."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from app.mail_rendering import SupportContact
from app.use_cases import accounts
from domain.staff import Role
from tests.acceptance.web import csrf, log_in, platform_on
from ui.journey import Journey
from ui.web.app import create_app

SECRET = b"f" * 32
PASSWORD = "fuzz-pass-123"
ROLES = ("anonymous", "candidate", *(role.value for role in Role))
PARAMETER = re.compile(r"\{(\w+):(\w+)\}")
# Words the routes' `{action}` and `{code}` parts take, so bodies reach the handlers' depths.
ACTIONS = (
    "face-photo", "id-photo", "env-start-ears", "env-stop-ears", "env-stop-desk", "connection",
    "camera", "designer", "conditions", "instructions", "mic-stop", "decide", "release",
    "take", "assign", "profile", "practice", "tile", "start", "begin", "finish", "validate",
    "quit", "defer", "reopen", "fr", "en", "decision", "answer",
)  # fmt: skip
NOT_IDS = ("not-a-uuid", "0", "-1", "%00", "..%2F..%2Fetc", "x" * 300)


@dataclass
class World:
    app: Litestar
    client: TestClient[Any]
    jars: dict[str, httpx.Cookies]  # each role's cookies (session, CSRF), swapped in
    ids: tuple[UUID, ...]  # the journey's real ids: session, attempt, review, enrolment…


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    platform = platform_on(SECRET, 47)
    journey = Journey(platform, email="fuzz@example.org")
    review_id = journey.sent_for_review()
    journey.set_password(PASSWORD)
    for role in Role:
        accounts.register_staff(
            platform.ctx,
            email=f"{role.value}@example.org",
            name=role.value,
            role=role,
            password=PASSWORD,
        )
    platform.projections.catch_up(platform.ctx.store)
    app = create_app(platform, secret=SECRET, support=SupportContact())
    client = TestClient(app, raise_server_exceptions=False)
    client.__enter__()
    jars: dict[str, httpx.Cookies] = {}
    for who in ROLES:
        client.cookies = httpx.Cookies()
        if who == "candidate":
            log_in(client, "/login", "fuzz@example.org", PASSWORD)
        elif who != "anonymous":
            log_in(client, "/staff/login", f"{who}@example.org", PASSWORD)
        client.get("/support")  # every role holds a CSRF cookie
        jars[who] = httpx.Cookies(client.cookies)
    ids = tuple(
        i
        for i in (
            journey.session_id,
            journey.attempt_id,
            review_id,
            journey.enrollment_id,
            journey.candidate_id,
        )
        if i is not None
    )
    yield World(app, client, jars, ids)
    client.__exit__(None, None, None)
    platform.close()


def routes(app: Litestar) -> list[tuple[str, str]]:
    """Every (method, path) of the application, from its route table."""
    found = []
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
                found.append((method, route.path))
    return sorted(found)


def fill(path: str, values: dict[str, str]) -> str:
    return PARAMETER.sub(lambda m: values.get(m.group(1), "x"), path)


# --- what a hostile or broken client sends --------------------------------------------------

FIELDS = st.sampled_from(
    [
        "email", "password", "token", "reason", "answer", "question_id", "choice", "attest",
        "working", "round_trip_ms", "upload_kbps", "slot", "note", "verdict", "justification",
        "examiner", "extra_time_percent", "arrangements", "content", "digest", "code", "confirm",
        "step", "mail", "description", "link", "outcome", "surname", "first_name",
        "certification_code", "live", "account", "seen", "reasons", "overrides", "resume_reason",
        "photo", "recording", "file", "sdp", "type",
    ]
)  # fmt: skip
NUMBERS = ("-1", "0", "-0", "1e309", "-1e309", "nan", "inf", "99999999999999999999999", "0x10")
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(NUMBERS),
    st.sampled_from(["yes", "no", "", "validated", "invalidated", "2025-13-45T99:99", "\x00"]),
    st.sampled_from(["x" * 20_000, "é" * 11_000, "<script>" * 2000]),
    st.uuids().map(str),
)
# A form field sent twice or more arrives as a list.
FORM_VALUES = VALUES | st.lists(VALUES, min_size=2, max_size=3)
EVERY_FIELD_TOO_LONG = {name: "x" * 20_000 for name in FIELDS.elements}  # type: ignore[attr-defined]
EVERY_FIELD_TWICE = {name: ["yes", "-1"] for name in FIELDS.elements}  # type: ignore[attr-defined]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | VALUES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(FIELDS, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    """The keyword arguments of one request's body (httpx's)."""
    kind = draw(st.sampled_from(["none", "form", "json", "multipart", "raw"]))
    if kind == "form":
        return {"data": draw(st.dictionaries(FIELDS, FORM_VALUES, max_size=6))}
    if kind == "json":
        return {"content": json.dumps(draw(JSON_VALUES)), "headers": {"content-type": "json"}}
    if kind == "multipart":
        files = draw(st.dictionaries(FIELDS, st.binary(max_size=300), min_size=1, max_size=2))
        return {
            "data": draw(st.dictionaries(FIELDS, FORM_VALUES, max_size=4)),
            "files": {name: ("f.bin", content, "image/jpeg") for name, content in files.items()},
        }
    if kind == "raw":
        content_type = draw(
            st.sampled_from(
                [
                    "application/json",
                    "application/x-www-form-urlencoded",
                    "multipart/form-data; boundary=zz",
                    "multipart/form-data",
                    "text/plain",
                    "image/svg+xml",
                ]
            )
        )
        raw = draw(st.binary(max_size=300) | st.just(b"\xff\xfe" * 50) | st.just(b"[" * 5000))
        return {"content": raw, "headers": {"content-type": content_type}}
    return {}


def call(world: World, who: str, method: str, path: str, body: dict[str, Any]) -> int:
    if path == "/logout":  # would end the role's session: a throwaway one
        who = "anonymous"
    client = world.client
    client.cookies = httpx.Cookies(world.jars[who])
    headers = {**csrf(client), **body.pop("headers", {})}
    if headers.get("content-type") == "json":
        headers["content-type"] = "application/json"
    if method == "GET":
        body = {}
    reply = client.request(method, path, headers=headers, follow_redirects=False, **body)
    if who != "anonymous":
        world.jars[who] = httpx.Cookies(client.cookies)
    return reply.status_code


def admitted(world: World, method: str, path: str) -> list[str]:
    """The roles the route's guards let in, found by asking with the real ids."""
    concrete = PARAMETER.sub(lambda m: str(world.ids[0]) if m.group(2) == "uuid" else "x", path)
    let_in = [
        who
        for who in ROLES
        if call(world, who, method, concrete, {}) not in (302, 303, 401, 403, 429)
    ]
    return let_in or list(ROLES)


def test_no_malformed_input_makes_any_route_fail_with_a_server_error(world: World) -> None:
    table = routes(world.app)
    assert len(table) >= 60, table  # the table is read, not a list kept here
    failures: list[str] = []
    for method, path in table:
        roles = admitted(world, method, path)
        names = PARAMETER.findall(path)
        ids = st.sampled_from(world.ids).map(str) | st.uuids().map(str) | st.sampled_from(NOT_IDS)

        @given(
            who=st.sampled_from(roles),
            values=st.fixed_dictionaries(
                {
                    name: ids
                    if kind == "uuid"
                    else st.sampled_from(ACTIONS) | st.text(max_size=20) | st.sampled_from(NOT_IDS)
                    for name, kind in names
                }
            ),
            body=bodies(),
        )
        @settings(
            max_examples=8,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_server_error(who: str, values: dict[str, str], body: dict[str, Any]) -> None:
            concrete = fill(path, {k: quote(v, safe="") or "x" for k, v in values.items()})  # noqa: B023
            status = call(world, who, method, concrete, dict(body))  # noqa: B023
            if status >= 500:
                failures.append(f"{status} {method} {concrete[:120]} as {who}: {str(body)[:120]}")  # noqa: B023

        no_server_error()
        # And, for each admitted role, every field at once too long, then every one twice.
        concrete = PARAMETER.sub(lambda m: str(world.ids[0]) if m.group(2) == "uuid" else "x", path)
        for who in roles:
            for body in (EVERY_FIELD_TOO_LONG, EVERY_FIELD_TWICE):
                status = call(world, who, method, concrete, {"data": dict(body)})
                if status >= 500:
                    failures.append(f"{status} {method} {concrete} as {who}: every field")
    assert not failures, "\n".join(sorted(set(failures))[:40])


@pytest.mark.parametrize("who", ROLES)
def test_an_unknown_or_malformed_id_is_a_404_or_a_refusal_never_a_500(
    world: World, who: str
) -> None:
    """Issue 14: an unknown review id gave 500. Every route with an id in its path, with a
    random UUID and with a non-UUID, answers 4xx (or the log-in page) for every role."""
    failures = []
    for method, path in routes(world.app):
        if not PARAMETER.search(path) or path == "/logout":
            continue
        for value in ("0e9c7c1e-5b1a-4b7e-9d51-0c8f6f3b2a11", "not-a-uuid"):
            concrete = PARAMETER.sub(lambda m: value if m.group(2) == "uuid" else "x", path)  # noqa: B023
            status = call(world, who, method, concrete, {})
            if not (300 <= status < 500):
                failures.append(f"{status} {method} {concrete}")
    assert not failures, "\n".join(failures)
