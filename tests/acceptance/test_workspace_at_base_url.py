"""Issue 15, point 4: the built-in workspace is served by the platform at its base URL, and
what it lives on (open or torn down, heartbeats, marks) is in the store. So the exam tab's
address goes on working after a restart, two nodes on one PostgreSQL serve the same tab, and
a process that never served a workspace still records it lost when its heartbeats stop."""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from domain.exam_attempt import AttemptStatus, ExamAttempt
from domain.exam_tab import RELOAD_GRACE_S
from tests.acceptance.test_exam_delivery import http
from tests.acceptance.test_exam_tab import navigator
from tests.acceptance.web import free_port, her_browser, served
from ui.journey import PARIS, Journey

SECRET = "n" * 32


def node(database_url: str, base_url: str, clock: ManualClock, seed: int) -> Platform:
    """One node of the platform (or the same one started again) on a shared store."""
    settings = Settings(
        database_url=database_url, media_root=None, secret_key=SECRET, base_url=base_url
    )
    return bootstrap(settings, clock=clock, ids=SeededIds(seed))


def in_exam(platform: Platform) -> tuple[str, ExamAttempt]:
    """The candidate in her exam: her browser's cookie (logged in), and her attempt."""
    journey = Journey(platform)
    journey.in_exam()
    assert journey.attempt_id is not None
    return her_browser(journey), platform.ctx.store.get(journey.attempt_id, ExamAttempt)


def page(url: str, *, cookie: str) -> str:
    status, body = http(url, cookie=cookie)
    assert status == 200, (status, body[:300])
    return html.unescape(body)


def action(url: str, name: str) -> str:
    """The address of one of the tab's actions, beside its page."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}/{name}?{parts.query}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2025, 1, 27, 9, 0, tzinfo=PARIS))


def test_after_a_restart_the_same_tab_address_goes_on_with_its_answers_and_marks(
    tmp_path: Path, clock: ManualClock
) -> None:
    database, port = f"sqlite:///{tmp_path}/vigie.sqlite", free_port()
    base = f"http://127.0.0.1:{port}"
    first = node(database, base, clock, 1)
    with served(first, port):
        mine, attempt = in_exam(first)
        url = attempt.workspace_url
        assert url is not None and url.startswith(f"{base}/w/ws-")  # the base URL, no other port
        assert "Temps restant" in page(url, cookie=mine)
        http(
            action(url, "answer"), {"question_id": "tables-taille", "answer": "Octets"}, cookie=mine
        )
        http(action(url, "mark"), {"question_id": "etats-regroupement", "marked": "1"}, cookie=mine)
    first.close()  # the node stops (its memory with it)

    clock.advance(seconds=10)  # a quick restart: within the heartbeat's grace
    again = node(database, base, clock, 2)
    try:
        assert again.tick().workspaces_lost == []  # nothing orphaned, nothing judged lost
        with served(again, port):
            reloaded = page(url, cookie=mine)  # the same address, served by the new process: no 410
            assert 'value="Octets"' in reloaded
            assert "is-marked" in navigator(reloaded)["etats-regroupement"]
            status, _ = http(
                action(url, "answer"),
                {"question_id": "requetes-parametre", "answer": "[Nom ?]"},
                cookie=mine,
            )
            assert status == 200
        saved = again.ctx.store.get(attempt.id, ExamAttempt)
        assert (
            saved.answers["tables-taille"] == "Octets"
            and saved.answers["requetes-parametre"] == "[Nom ?]"
        )
        assert saved.status is AttemptStatus.IN_PROGRESS
    finally:
        again.close()


@pytest.mark.postgres
def test_two_nodes_on_one_postgresql_serve_the_same_exam_tab(
    postgres_url: str, clock: ManualClock
) -> None:
    ports = free_port(), free_port()
    base = "http://vigie.example"  # behind a load balancer: one address, two nodes
    with ExitStack() as stack:
        nodes = [node(postgres_url, base, clock, seed) for seed in (3, 4)]
        for platform, port in zip(nodes, ports, strict=True):
            stack.callback(platform.close)
            stack.enter_context(served(platform, port))
        mine, attempt = in_exam(nodes[0])
        assert attempt.workspace_url is not None
        path = attempt.workspace_url.removeprefix(base)
        one, two = (f"http://127.0.0.1:{port}{path}" for port in ports)
        http(
            action(one, "answer"), {"question_id": "tables-taille", "answer": "Octets"}, cookie=mine
        )
        http(action(one, "mark"), {"question_id": "requetes-parametre", "marked": "1"}, cookie=mine)
        on_two = page(two, cookie=mine)
        assert 'value="Octets"' in on_two
        assert "is-marked" in navigator(on_two)["requetes-parametre"]
        http(action(two, "answer"), {"question_id": "tables-taille", "answer": "Bits"}, cookie=mine)
        assert 'value="Bits"' in page(one, cookie=mine)
        # A beat on one node counts for the other's watch, and the other's silence too.
        clock.advance(seconds=25)
        page(two, cookie=mine)  # a sign of life, given to node two
        clock.advance(seconds=25)  # 50 s after node one last heard of it, 25 s after two did
        assert nodes[0].tick().workspaces_lost == []
        http(action(two, "closed"), {}, cookie=mine)  # the tab says it is closing
        assert nodes[0].tick().workspaces_lost == []  # a reload says so too: not yet lost
        clock.advance(seconds=RELOAD_GRACE_S + 1)  # not back within the grace: gone
        assert nodes[0].tick().workspaces_lost == [attempt.id]


def test_a_worker_that_never_served_a_workspace_records_it_lost_when_its_beats_stop(
    tmp_path: Path, clock: ManualClock
) -> None:
    database, port = f"sqlite:///{tmp_path}/vigie.sqlite", free_port()
    base = f"http://127.0.0.1:{port}"
    web = node(database, base, clock, 5)
    worker = node(database, base, clock, 6)  # `vigie worker`: no web app, nothing served
    try:
        with served(web, port):
            mine, attempt = in_exam(web)
            assert attempt.workspace_url is not None
            page(
                attempt.workspace_url, cookie=mine
            )  # the tab is open: it beats (through the web node)
            clock.advance(seconds=20)
            assert worker.tick().workspaces_lost == []  # within the grace
            clock.advance(seconds=15)  # 35 s of silence: past the 30 s grace
            assert worker.tick().workspaces_lost == [attempt.id]
            lost = worker.ctx.store.get(attempt.id, ExamAttempt)
            assert lost.workspace_ref is None and lost.status is AttemptStatus.IN_PROGRESS
            kinds = [type(e).__name__ for e in worker.ctx.store.history(attempt.id)]
            assert kinds[-1] == "WorkspaceLost"
    finally:
        web.close()
        worker.close()


@pytest.fixture
def tab(clock: ManualClock) -> Iterator[tuple[Platform, str, str]]:
    port = free_port()
    platform = node("memory:", f"http://127.0.0.1:{port}", clock, 7)
    with served(platform, port):
        mine, attempt = in_exam(platform)
        assert attempt.workspace_url is not None
        yield platform, attempt.workspace_url, mine
    platform.close()


def test_a_mark_without_its_question_is_a_400_naming_the_field(
    tab: tuple[Platform, str, str],
) -> None:
    _, url, mine = tab
    status, body = http(action(url, "mark"), {"marked": "1"}, cookie=mine)
    assert status == 400 and "question_id" in html.unescape(body)


def test_a_torn_down_workspace_is_gone_and_another_ref_with_this_signature_too(
    tab: tuple[Platform, str, str],
) -> None:
    platform, url, mine = tab
    ref = urlsplit(url).path.rsplit("/", 1)[1]
    other = url.replace(ref, f"ws-{'0' * 8}-0000-0000-0000-{'0' * 12}")
    assert http(other, cookie=mine)[0] == 410
    assert http(action(other, "beat"), {}, cookie=mine)[0] == 410
    platform.launcher.teardown(ref)
    for address in (url, action(url, "beat"), action(url, "answer")):
        status, body = http(address, {} if address != url else None, cookie=mine)
        assert status == 410 and "n'est pas (ou plus) ouvert" in html.unescape(body)
