"""LTI 1.3 on several nodes (issues 15 and 16): two platforms share one PostgreSQL store. A
launch's nonce is used once whichever node sees it (twins racing included), a score is
posted once whichever worker claims it, and both nodes sign and publish the same keys, kept
sealed. The test LMS (tests/lti_platform.py) runs on 127.0.0.1; node A is served by uvicorn
so the LMS can fetch Vigie's published keys."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import pytest
import uvicorn

from adapters.bootstrap import Platform, Settings, bootstrap
from app import lti
from app.mail_rendering import SupportContact
from app.use_cases import enrolment
from domain.candidate import Candidate
from domain.lti import (
    KEY_RING_ID,
    GradeLink,
    LaunchFault,
    LaunchRefused,
    ScoreReport,
    ToolKeyRing,
)
from tests.acceptance.test_lti import lti_clock
from tests.lti_platform import CLIENT_ID, LmsPlatform, serve_platform
from ui.web.app import create_app

pytestmark = pytest.mark.postgres
SECRET = "n" * 32
CENTRE = UUID("1b2c3d4e-5f60-4718-a9b0-c1d2e3f4a5b6")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def nodes(postgres_url: str) -> Iterator[tuple[Platform, Platform, LmsPlatform]]:
    port = _free_port()
    clock = lti_clock()
    settings = Settings(
        database_url=postgres_url,
        media_root=None,
        secret_key=SECRET,
        base_url=f"http://127.0.0.1:{port}",
        launcher="memory",
    )
    a, b = bootstrap(settings, clock=clock), bootstrap(settings, clock=clock)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(a, secret=SECRET.encode(), support=SupportContact()),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # a loaded CI machine starts uvicorn slowly
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "node A's server did not start"
    for lms in serve_platform(settings.base_url, lambda: clock.now().timestamp()):
        lti.register_platform(
            a.ctx,
            lti.Registration(
                issuer=lms.issuer,
                client_id=CLIENT_ID,
                auth_url=f"{lms.url}/auth",
                token_url=f"{lms.url}/token",
                jwks_url=f"{lms.url}/jwks",
                name="LMS",
                deployments={lms.deployment: CENTRE},
            ),
        )
        yield a, b, lms
    server.should_exit = True
    thread.join(timeout=10)
    a.close()
    b.close()


def _started(node: Platform, lms: LmsPlatform) -> tuple[str, str]:
    """A login initiated on `node`: (the state, the nonce the platform is sent)."""
    redirect = lti.initiate_login(
        node.ctx,
        node.links,
        {"iss": lms.issuer, "login_hint": "alice", "client_id": CLIENT_ID},
        node.links.base_url,
    )
    query = parse_qs(urlsplit(redirect.url).query)
    return redirect.state, query["nonce"][0]


def _verify(node: Platform, token: str, state: str) -> LaunchFault | None:
    try:
        lti.verify_launch(
            node.ctx, node.links, node.lti_client, id_token=token, state=state, cookie_state=state
        )
    except LaunchRefused as refused:
        return refused.fault
    return None


def test_a_launch_used_on_one_node_is_refused_on_the_other(
    nodes: tuple[Platform, Platform, LmsPlatform],
) -> None:
    a, b, lms = nodes
    state, nonce = _started(a, lms)
    token = lms.id_token("alice", nonce)
    assert _verify(a, token, state) is None
    assert _verify(b, token, state) is LaunchFault.REPLAYED_NONCE
    assert _verify(a, token, state) is LaunchFault.REPLAYED_NONCE


def test_twin_launches_on_two_nodes_at_once_let_exactly_one_through(
    nodes: tuple[Platform, Platform, LmsPlatform],
) -> None:
    a, b, lms = nodes
    for _ in range(3):
        state, nonce = _started(b, lms)
        token = lms.id_token("alice", nonce)
        with ThreadPoolExecutor(4) as pool:
            nodes_ = (a, b, a, b)
            faults = list(pool.map(_verify, nodes_, [token] * 4, [state] * 4))
        assert faults.count(None) == 1
        assert faults.count(LaunchFault.REPLAYED_NONCE) == 3


def test_two_workers_on_two_nodes_post_a_score_once(
    nodes: tuple[Platform, Platform, LmsPlatform],
) -> None:
    a, b, lms = nodes
    enrolled = enrolment.enrol_candidate(
        a.ctx,
        a.projections,
        centre_id=CENTRE,
        email="alice.durand@example.org",
        surname="Durand",
        first_name="Alice",
        certification_code="ENI-ACCESS",
    )
    link = GradeLink.link(
        enrollment_id=enrolled.enrollment_id,
        platform_id=lti.find_platform(a.ctx, lms.issuer, CLIENT_ID).id,
        lineitem=lms.lineitem("rl-1"),
        at=a.ctx.now(),
    )
    alice = a.ctx.store.get(enrolled.candidate_id, Candidate)
    alice.link_lti_user(issuer=lms.issuer, user_id="u-alice", at=a.ctx.now())
    reports = [
        ScoreReport.decide(
            link=link,
            candidate_id=enrolled.candidate_id,
            score_given=float(n),
            score_maximum=100,
            comment=f"decision {n}",
            cause=f"review/{n}",
            at=a.ctx.now(),
        )
        for n in range(1, 6)
    ]
    a.ctx.store.save(alice, link, *reports)
    ids = [r.id for r in reports]
    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(lambda node: node.score_poster.post_due(ids), (a, b)))
    assert sum(d.posted for d in done) == 5
    assert sorted(s["scoreGiven"] for s in lms.scores["rl-1"]) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert {s["userId"] for s in lms.scores["rl-1"]} == {"u-alice"}
    for node in (a, b):  # nothing is due any more, on either node
        assert node.score_poster.post_due(ids).posted == 0
    assert len(lms.scores["rl-1"]) == 5


def test_both_nodes_sign_with_the_same_keys_kept_sealed_and_a_rotation_reaches_both(
    nodes: tuple[Platform, Platform, LmsPlatform],
) -> None:
    a, b, _ = nodes
    with ThreadPoolExecutor(4) as pool:  # both nodes' first use at once: one key is made
        first = list(pool.map(lambda node: node.lti_keys.jwks(), (a, b, a, b)))
    assert len(first[0]["keys"]) == 1 and all(keys == first[0] for keys in first)
    new = b.lti_keys.rotate()
    assert a.lti_keys.current()[0] == new.kid
    assert [k["kid"] for k in a.lti_keys.jwks()["keys"]][-1] == new.kid
    ring = a.ctx.store.get(KEY_RING_ID, ToolKeyRing)
    assert all("PRIVATE KEY" not in k.sealed_private for k in ring.keys)
    for event in a.ctx.store.history(KEY_RING_ID):  # the log never holds a private half
        assert "PRIVATE" not in repr(event)
