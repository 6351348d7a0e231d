"""Issue 15, point 8: two `vigie serve` nodes in two network namespaces, with separate data
folders, sharing PostgreSQL, Redis and an S3 server behind HAProxy (benchmarks/cluster.py,
shared with the web benchmark).

A candidate's journey starts on node A — her log-in and face photo — and node A is killed
with SIGKILL in the middle of her checks: she goes on through HAProxy, which now sends her
to node B, with the same session cookie (sessions live in PostgreSQL) and nothing lost (the
photo node A stored is in the bucket). She takes her exam and sends it; the examiner reviews
on node B, and plays back the photo node A stored. Every mail reached SMTP once. Node A comes
back and serves her results. Erasure then removes every object of hers from the bucket.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from benchmarks.cluster import SECRET_KEY, Cluster, cluster, start_node

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from app.outbox import SendReport
from app.use_cases import portal, proctoring
from app.use_cases.reviewing import review_id_for
from domain.exam_attempt import ExamAttempt
from domain.proctored_session import EnvironmentPart, ProctoredSession
from domain.review import Review
from tests.acceptance.test_recording_length import webm
from tests.conftest import morning_clock_offset, platform_slot
from ui.journey import FACE_PHOTO, ID_PHOTO, PARIS, Journey
from ui.serve import DEMO_PASSWORD, EXAMINER_EMAIL

pytestmark = [pytest.mark.postgres]

EMAIL = "nina.deux-noeuds@example.org"
PASSWORD = "deux-noeuds-2025"
_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')


@pytest.fixture
def two_nodes(namespaces: None, postgres_url: str) -> Iterator[Cluster]:
    offset = morning_clock_offset()  # an exam must end the day it starts (R16)
    with (
        platform_slot(postgres_url),  # tests/conftest.py: two nodes hold a platform's connections
        cluster(postgres_url, extra_env={"VIGIE_CLOCK_OFFSET": str(offset)}) as running,
    ):
        running.env["_OFFSET"] = str(offset)
        yield running


def _now(running: Cluster) -> datetime:
    return datetime.now(PARIS) + timedelta(seconds=float(running.env["_OFFSET"]))


def _records_only(runner: object = None) -> SendReport:
    return SendReport()


def _test_platform(running: Cluster) -> Platform:
    """The test's own platform on the same store: it records what the pages would, faster;
    the nodes' workers react (provisioning, reviews, mails)."""
    platform = bootstrap(
        Settings(
            database_url=running.database_url,
            media_root=None,
            secret_key=SECRET_KEY,
            base_url=running.url,
            launcher="memory",
        ),
        clock=ManualClock(_now(running) - timedelta(minutes=20)),
    )
    platform.settle = _records_only  # type: ignore[method-assign]
    return platform


def _log_in(client: httpx.Client, path: str, email: str, password: str) -> None:
    page = client.get(path)
    found = _TOKEN.search(page.text)
    assert found is not None, page.text[-500:]
    data = {"email": email, "password": password, "_csrf_token": found.group(1)}
    reply = client.post(path, data=data)
    assert reply.status_code in (302, 303), reply.text[-500:]


def _same_cookies(client: httpx.Client, other: httpx.Client) -> httpx.Client:
    """Her browser's cookies at another address (httpx files cookies by host)."""
    for cookie in other.cookies.jar:
        client.cookies.set(cookie.name, cookie.value or "")
    return client


def _api(client: httpx.Client, path: str, **options: Any) -> httpx.Response:
    token = client.cookies.get("vigie_csrf") or ""
    return client.post(path, headers={"x-csrftoken": token}, **options)


def _form(client: httpx.Client, path: str, page: str, data: dict[str, str]) -> httpx.Response:
    found = _TOKEN.search(client.get(page).text)
    assert found is not None, f"no form on {page}"
    return client.post(path, data={**data, "_csrf_token": found.group(1)})


def _wait(condition: Any, what: str, running: Cluster, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not done within {timeout}s: {what}\n{running.output()}")
        time.sleep(0.2)


def test_a_journey_across_two_nodes_survives_a_killed_node_and_erasure_empties_the_bucket(
    two_nodes: Cluster, tmp_path: Path
) -> None:
    running = two_nodes
    node_a, node_b = running.nodes
    platform = _test_platform(running)
    try:
        journey = Journey(platform, email=EMAIL)
        journey.enrol()
        journey.create_session()
        journey.set_password(PASSWORD)
        journey.enter()
        journey.pass_attestations()
        journey.pass_equipment()
        sid = journey.session_id
        assert sid is not None and journey.candidate_id is not None

        # On node A: her log-in and her face photo, which node A stores in the bucket.
        on_a = running.client(node_a.url)
        _log_in(on_a, "/login", EMAIL, PASSWORD)
        photo = _api(
            on_a,
            f"/api/sessions/{sid}/steps/face-photo",
            files={"photo": ("visage.jpg", FACE_PHOTO, "image/jpeg")},
        )
        assert photo.status_code == 200, photo.text
        assert photo.headers["x-vigie-node"] == "node-a"
        proctoring.confirm_face_photo(platform.ctx, sid)
        assert len(running.keys_in_bucket()) == 1

        node_a.kill()  # mid-journey, as a machine that loses its power

        # She goes on at the address she has (HAProxy), same cookies: node B answers.
        through = _same_cookies(running.client(), on_a)
        step = f"/api/sessions/{sid}/steps"
        reply = _api(
            through, f"{step}/id-photo", files={"photo": ("id.jpg", ID_PHOTO, "image/jpeg")}
        )
        assert reply.status_code == 200, reply.text
        assert reply.headers["x-vigie-node"] == "node-b"
        proctoring.confirm_id_photo(platform.ctx, sid)
        for part in EnvironmentPart:
            assert _api(through, f"{step}/env-start-{part.value}").status_code == 200
            journey.clock.set(_now(running) - timedelta(minutes=10))
            video = ("room.webm", webm(12, rate=2), "video/webm")
            reply = _api(through, f"{step}/env-stop-{part.value}", files={"recording": video})
            assert reply.status_code == 200, reply.text

        # The exam: a node's worker provisions the workspace, she answers through HAProxy.
        attempt_id = platform.ctx.store.get(sid, ProctoredSession).attempt_id
        assert attempt_id is not None
        journey.attempt_id = attempt_id
        journey.clock.set(_now(running))
        journey.to_tile()
        portal.start_now(platform.ctx, attempt_id)
        store = platform.ctx.store
        _wait(
            lambda: not store.get(attempt_id, ExamAttempt).workspace_pending,
            "a node's worker provisions the workspace",
            running,
        )
        journey.clock.set(_now(running))
        portal.begin_exam(platform.ctx, attempt_id)
        # Her exam tab is at the platform's address, served by whichever node HAProxy picks.
        attempt = store.get(attempt_id, ExamAttempt)
        tab = attempt.workspace_url
        assert tab.startswith(running.url + "/w/"), tab
        # In her browser (her session: the tab is served there only, sec-findings F6).
        assert through.get(tab, timeout=30).status_code == 200
        first, *others = attempt.question_order
        page, token = tab.split("?", 1)
        saved = through.post(
            f"{page}/answer?{token}",
            data={"question_id": first, "answer": "Taille du champ"},
            timeout=30,
        )
        assert saved.status_code in (200, 303), saved.text[-500:]
        assert store.get(attempt_id, ExamAttempt).answers[first] == "Taille du champ"
        for question in others:
            body = {"question_id": question, "answer": "Taille du champ"}
            reply = _api(through, f"/api/attempts/{attempt_id}/answers", json=body)
            assert reply.status_code == 201, reply.text
        assert (
            _api(through, f"/api/attempts/{attempt_id}/actions/finish", json={}).status_code == 200
        )
        code = store.get(attempt_id, ExamAttempt).validation_code
        reply = _api(through, f"/api/attempts/{attempt_id}/actions/validate", json={"code": code})
        assert reply.status_code == 200, reply.text

        # The examiner, on node B: the review the workers opened, the photo node A stored.
        review_id = review_id_for(attempt_id)
        _wait(
            lambda: _recommended(store, review_id),
            "the workers open the review and recommend",
            running,
        )
        examiner = running.client(node_b.url)
        _log_in(examiner, "/staff/login", EXAMINER_EMAIL, DEMO_PASSWORD)
        page = f"/examiner/reviews/{review_id}"
        assert _form(examiner, f"{page}/assign", page, {}).status_code in (302, 303)
        face = next(
            e.media_id for e in store.history(sid) if isinstance(e, ProctoredSession.FacePhotoTaken)
        )
        shown = examiner.get(f"{page}/media/{face}")
        assert shown.status_code == 200 and shown.content == FACE_PHOTO
        decision = _api(
            examiner, f"/api/reviews/{review_id}/decision", json={"verdict": "validated"}
        )
        assert decision.status_code == 201, decision.text
        assert _form(examiner, f"{page}/release", page, {}).status_code in (302, 303)

        # Node A comes back and serves her results: nothing was tied to it.
        start_node(node_a, running.env)
        on_a_again = _same_cookies(running.client(node_a.url), on_a)
        results = on_a_again.get(f"/results/{sid}")
        assert results.status_code == 200, results.text[-500:]
        candidate_id = journey.candidate_id
    finally:
        platform.close()

    # Every mail of hers reached SMTP once, whichever node's worker sent it.
    mine = [m for m in running.capture.messages() if EMAIL in str(m["To"])]
    assert mine, "no mail reached her"
    assert len(mine) == len({str(m["Message-ID"]) for m in mine})

    # Erasure, from an operator's shell on node B's settings: every object of hers goes.
    before = running.keys_in_bucket()
    assert len(before) == 2 + len(EnvironmentPart), before
    env = {**running.env, "VIGIE_DATABASE_URL": running.database_url}
    erased = subprocess.run(
        [
            sys.executable,
            "-m",
            "ui.cli",
            "privacy",
            "erase",
            str(candidate_id),
            "--reason",
            "two-node test",
            "--yes",
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert erased.returncode == 0, erased.stdout + erased.stderr
    assert running.keys_in_bucket() == []


def _recommended(store: Any, review_id: UUID) -> bool:
    try:
        return store.get(review_id, Review).recommendation is not None
    except LookupError:
        return False
