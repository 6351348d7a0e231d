"""Issue 15: ICE servers are settings, given to the pages (with short-lived TURN credentials,
never the secret) and to aiortc on the server; the node holding a session's live connection is
recorded where every node reads it. A wrong setting stops `vigie` with a sentence naming it.

The credentials are checked by a real coturn in tests/acceptance/test_turn_relay.py; the
routing by node through HAProxy in tests/acceptance/test_live_across_nodes.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Settings
from adapters.clock import ManualClock
from adapters.media.ice import IceServers, parse_ice_servers
from adapters.media.webrtc import WebRtcRecorder
from app.live_connections import holder_of, record_holder
from app.mail_rendering import SupportContact
from domain.errors import InvalidArgument
from domain.live_connection import LiveConnection, live_connection_id
from tests.acceptance.web import log_in
from ui.cli import main
from ui.journey import Journey, make_platform
from ui.web.app import create_app

SECRET = "a-turn-secret-of-some-length"
TURN = "stun:turn.example.org:3478,turn:turn.example.org:3478?transport=udp"
NOW = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)


def test_no_ice_server_by_default_a_local_platform() -> None:
    settings = Settings.from_env()
    assert settings.ice == IceServers()
    assert settings.ice.for_peer("anyone", NOW) == []


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"VIGIE_ICE_SERVERS": "turn.example.org:3478"}, "VIGIE_ICE_SERVERS"),
        ({"VIGIE_ICE_SERVERS": "http://turn.example.org"}, "VIGIE_ICE_SERVERS"),
        ({"VIGIE_ICE_SERVERS": "turn:turn.example.org"}, "VIGIE_TURN_SECRET"),
        ({"VIGIE_TURN_SECRET": SECRET}, "VIGIE_TURN_SECRET"),
        ({"VIGIE_ICE_SERVERS": TURN, "VIGIE_TURN_SECRET": "short"}, "VIGIE_TURN_SECRET"),
        ({"VIGIE_ICE_SERVERS": TURN, "VIGIE_TURN_SECRET": SECRET, "VIGIE_TURN_TTL": "6h"}, "TTL"),
        ({"VIGIE_NODE_ID": "node a/1"}, "VIGIE_NODE_ID"),
    ],
)
def test_a_wrong_setting_stops_vigie_with_a_sentence_naming_it(
    env: dict[str, str],
    named: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    def started(*args: Any, **kwargs: Any) -> int:
        raise AssertionError("vigie started with a wrong setting")

    monkeypatch.setattr("ui.serve.serve", started)  # a regression fails, never hangs
    assert main(["serve", "--port", "8599"]) == 2
    said = capsys.readouterr().err
    assert said.startswith(f"vigie: {named.replace('TTL', 'VIGIE_TURN_TTL')}"), said
    assert "Traceback" not in said


def test_a_page_gets_a_turn_credential_that_expires_never_the_secret() -> None:
    ice = parse_ice_servers(TURN, SECRET, "3600")
    stun, turn = ice.for_peer("session-42", NOW)
    assert stun == {"urls": ["stun:turn.example.org:3478"]}
    assert turn["urls"] == ["turn:turn.example.org:3478?transport=udp"]
    expiry = int((NOW + timedelta(hours=1)).timestamp())
    assert turn["username"] == f"{expiry}:session-42"
    # coturn's use-auth-secret: the password is base64(HMAC-SHA1(secret, user name)).
    expected = hmac.new(SECRET.encode(), turn["username"].encode(), hashlib.sha1).digest()
    assert turn["credential"] == base64.b64encode(expected).decode()
    assert SECRET not in str(turn)


def test_the_server_side_peer_uses_the_same_servers(tmp_path: Path) -> None:
    ice = parse_ice_servers(TURN, SECRET)
    recorder = WebRtcRecorder(
        tmp_path, ManualClock(NOW), lambda event: None, ice=ice, node="node-a"
    )
    configuration = recorder._configuration()
    assert configuration.iceServers is not None
    urls = [server.urls for server in configuration.iceServers]
    assert urls == [["stun:turn.example.org:3478"], ["turn:turn.example.org:3478?transport=udp"]]
    assert str(configuration.iceServers[1].username).endswith(":node-node-a")


def test_the_holder_is_recorded_once_per_node_and_moves_with_a_reconnection() -> None:
    platform = make_platform()
    journey = Journey(platform)
    journey.enrol()
    journey.create_session()
    session_id = journey.session_id
    assert session_id is not None
    assert holder_of(platform.ctx, session_id) is None
    record_holder(platform.ctx, session_id, "node-a")
    record_holder(platform.ctx, session_id, "node-a")  # the page reconnected to the same node
    record_holder(platform.ctx, session_id, "node-b")
    assert holder_of(platform.ctx, session_id) == "node-b"
    history = list(platform.ctx.store.history(live_connection_id(session_id)))
    assert [type(e).__name__ for e in history] == ["LiveConnectionOpened", "LiveConnectionMoved"]
    with pytest.raises(InvalidArgument, match="node"):
        LiveConnection.open(session_id=session_id, node="", at=NOW)


def _candidate_client(node_id: str, ice: IceServers) -> tuple[TestClient[Any], Journey]:
    platform = make_platform()
    journey = Journey(platform)
    journey.enrol()
    journey.create_session()
    journey.set_password("camille-ice-1")
    app = create_app(platform, secret=b"i" * 32, support=SupportContact(), node_id=node_id, ice=ice)
    return TestClient(app), journey


def test_the_proctoring_page_asks_for_its_ice_servers_and_every_answer_names_its_node() -> None:
    client, journey = _candidate_client("node-a", parse_ice_servers(TURN, SECRET))
    with client:
        anonymous = client.get(f"/api/sessions/{journey.session_id}/media/ice")
        assert anonymous.status_code == 401
        assert anonymous.headers["x-vigie-node"] == "node-a"
        log_in(client, "/login", journey.email, "camille-ice-1")
        reply = client.get(f"/api/sessions/{journey.session_id}/media/ice")
        assert reply.status_code == 200
        servers = reply.json()["iceServers"]
        assert [s["urls"] for s in servers] == [
            ["stun:turn.example.org:3478"],
            ["turn:turn.example.org:3478?transport=udp"],
        ]
        assert servers[1]["username"].endswith(f":session-{journey.session_id}")
        assert SECRET not in reply.text
