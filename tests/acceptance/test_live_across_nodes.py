"""Issue 15: live media across nodes. Two `vigie serve` nodes on one PostgreSQL database behind
Debian's HAProxy, run with the shipped deploy/haproxy.cfg as it is (addresses from the
environment): the node that answers a candidate's offer records itself as the connection's
holder, and a live view through the proxy reaches that node, whichever node it lands on first.

The candidate's peer is aiortc with loopback ICE (the offer is what matters here: the holder
relays the candidate's tracks from the moment it answered). The stream itself crossing a
relay is tests/acceptance/test_turn_relay.py's.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from adapters.mail.capture import SmtpCapture
from app.live_connections import holder_of
from tests.concurrency.served import Served, free_port, smtp_counter, start_served
from tests.property.live_media_harness import candidate_offer, watcher_offer
from ui.journey import Journey
from ui.serve import SUPPORT_EMAIL

__all__ = ["smtp_counter"]

HAPROXY_CFG = Path(__file__).parents[2] / "deploy" / "haproxy.cfg"
PASSWORD = "camille-nodes-1"
PARIS = ZoneInfo("Europe/Paris")

pytestmark = pytest.mark.postgres


@contextmanager
def haproxy(bind: str, node_a: str, node_b: str) -> Iterator[subprocess.Popen[str]]:
    """Debian's haproxy in the foreground on the shipped configuration."""
    env = {**os.environ, "VIGIE_PROXY_BIND": bind, "VIGIE_NODE_A": node_a, "VIGIE_NODE_B": node_b}
    process = subprocess.Popen(
        ["haproxy", "-db", "-f", str(HAPROXY_CFG)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                # Both servers pass their health check: round robin reaches both.
                if httpx.get(f"http://{bind}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def _csrf(client: httpx.Client) -> dict[str, str]:
    return {"x-csrftoken": client.cookies.get("vigie_csrf") or ""}


def test_a_live_view_through_the_proxy_reaches_the_node_holding_the_connection(
    postgres_url: str, smtp_counter: SmtpCapture, tmp_path: Path
) -> None:
    if shutil.which("haproxy") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the HAProxy test: apt-get install haproxy", pytrace=False)
        pytest.skip("Debian's haproxy is not installed (apt-get install haproxy)")
    nodes: dict[str, Served] = {}
    with ExitStack() as stack:
        stack.callback(lambda: print("\n".join(n.output()[-3000:] for n in nodes.values())))
        # One process per node: the process that answered the offer holds the connection.
        node_a = stack.enter_context(
            start_served(
                postgres_url,
                smtp_counter,
                tmp_path / "a",
                web_processes=1,
                extra_env={"VIGIE_NODE_ID": "node-a"},
            )
        )
        node_b = stack.enter_context(
            start_served(
                postgres_url,
                smtp_counter,
                tmp_path / "b",
                web_processes=1,
                worker=False,  # node-a's worker does the background work of both
                extra_env={"VIGIE_NODE_ID": "node-b"},
                clock_offset_s=node_a.clock_offset.total_seconds(),
            )
        )
        bind = f"127.0.0.1:{free_port()}"
        stack.enter_context(
            haproxy(bind, node_a.url.removeprefix("http://"), node_b.url.removeprefix("http://"))
        )
        proxy = dataclasses.replace(node_a, url=f"http://{bind}")
        nodes.update({"node-a": node_a, "node-b": node_b})

        # A candidate who entered the session, prepared with the use cases on the same store.
        platform = node_a.platform(datetime.now(PARIS) + node_a.clock_offset)
        stack.callback(platform.close)
        journey = Journey(platform, email="camille.nodes@example.org")
        journey.enrol()
        journey.create_session()
        journey.set_password(PASSWORD)
        journey.enter()
        session_id = journey.session_id
        assert session_id is not None

        # The candidate's proctoring tab offers through the proxy: balanced to some node.
        candidate = stack.enter_context(proxy.client())
        login = proxy.post_form(candidate, "/login", {"email": journey.email, "password": PASSWORD})
        assert login.status_code in (302, 303), login.text
        loop, peer, sdp = candidate_offer()
        stack.callback(loop.close)
        stack.callback(lambda: loop.run_until_complete(peer.hang_up()))
        ice = candidate.get(f"/api/sessions/{session_id}/media/ice")
        assert ice.status_code == 200 and ice.json() == {"iceServers": []}
        offered = candidate.post(
            f"/api/sessions/{session_id}/media/offer", json={"sdp": sdp}, headers=_csrf(candidate)
        )
        assert offered.status_code == 200, offered.text
        holder = offered.headers["x-vigie-node"]
        other = "node-b" if holder == "node-a" else "node-a"
        assert holder_of(platform.ctx, session_id) == holder  # any node reads it in the store

        support = stack.enter_context(proxy.client())
        proxy.log_in_staff(support, SUPPORT_EMAIL)
        support.follow_redirects = True
        page = support.get(f"/staff/live/{session_id}")
        assert page.status_code == 200
        assert re.search(rf'data-node="{holder}"', page.text), "the page names the holder"

        watch = f"/api/sessions/{session_id}/media/watch"
        # As the page does: the hint in the URL, routed by HAProxy to the holder.
        answer = support.post(
            f"{watch}?node={holder}",
            json={"sdp": watcher_offer(loop)},
            headers=_csrf(support),
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["x-vigie-node"] == holder
        assert "m=video" in answer.json()["sdp"]

        # Without the hint (an old page), balancing reaches either node: the other one sends
        # the view to the holder (307 ?node=holder, back through the proxy).
        went_through: list[str] = []
        for _ in range(2):  # round robin: one of two lands on the other node
            reply = support.post(watch, json={"sdp": watcher_offer(loop)}, headers=_csrf(support))
            assert reply.status_code == 200, reply.text
            assert reply.headers["x-vigie-node"] == holder
            went_through += [r.headers["x-vigie-node"] for r in reply.history]
        assert other in went_through, went_through

        # Straight to the other node: it answers with the way to the holder, not a blank video.
        direct = stack.enter_context(
            nodes[other].client(cookies=dict(support.cookies))  # same web session, no proxy
        )
        moved = direct.post(watch, json={"sdp": "v=0"}, headers=_csrf(direct))
        assert moved.status_code == 307
        assert moved.headers["location"].endswith(f"{watch}?node={holder}")
        # A hint naming the holder that reaches another node: the holder is down, say so.
        down = direct.post(f"{watch}?node={holder}", json={"sdp": "v=0"}, headers=_csrf(direct))
        assert down.status_code == 503

        # A client's own X-Forwarded-For is replaced by the address HAProxy saw: appended to,
        # a forged one per try escaped the log-in limits (10 a minute per address).
        stranger = stack.enter_context(proxy.client())
        answers = []
        for n in range(12):
            stranger.headers["X-Forwarded-For"] = f"198.51.100.{n + 1}"
            form = {"email": f"guess{n}@example.org", "password": "wrong-password-1"}
            answers.append(proxy.post_form(stranger, "/login", form).status_code)
        assert 429 in answers, answers
