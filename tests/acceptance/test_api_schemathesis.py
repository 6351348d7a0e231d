"""The JSON API from its own OpenAPI document (schemathesis): no input makes it fail with a
server error, logged in as the candidate and as the examiner."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import requests
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from adapters.bootstrap import Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from app.mail_rendering import SupportContact
from app.use_cases import accounts
from domain.staff import Role
from tests.acceptance.test_web_access_and_api import PASSWORD, _in_exam
from tests.browser.conftest import _free_port
from ui.journey import PARIS
from ui.web.app import create_app

SECRET = "s" * 32


@pytest.fixture(scope="module")
def live() -> Iterator[dict[str, Any]]:
    port = _free_port()
    platform = bootstrap(
        Settings(database_url="memory:", media_root=None, secret_key=SECRET),
        clock=ManualClock(datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(13),
    )
    journey = _in_exam(platform, "owner@example.org")
    accounts.register_staff(
        platform.ctx, email="eve@example.org", name="Eve", role=Role.EXAMINER, password=PASSWORD
    )
    platform.projections.catch_up(platform.ctx.store)
    app = create_app(platform, secret=SECRET.encode(), support=SupportContact())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    yield {"base": base, "journey": journey}
    server.should_exit = True
    thread.join(timeout=10)
    platform.close()


def session_for(base: str, path: str, email: str) -> requests.Session:
    import re

    session = requests.Session()
    page = session.get(f"{base}{path}", timeout=5)
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    session.post(
        f"{base}{path}",
        data={"email": email, "password": PASSWORD, "_csrf_token": token},
        allow_redirects=False,
        timeout=5,
    )
    session.headers["x-csrftoken"] = session.cookies.get("vigie_csrf") or ""
    return session


@pytest.fixture(scope="module")
def sessions(live: dict[str, Any]) -> dict[str, requests.Session]:
    base = live["base"]
    return {
        "candidate": session_for(base, "/login", "owner@example.org"),
        "examiner": session_for(base, "/staff/login", "eve@example.org"),
        "anonymous": requests.Session(),
    }


def test_no_input_makes_the_api_fail_with_a_server_error(
    live: dict[str, Any], sessions: dict[str, requests.Session]
) -> None:
    schema = schemathesis.openapi.from_url(f"{live['base']}/schema/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def no_server_error(case: Any) -> None:
            for who in ("candidate", "examiner", "anonymous"):
                # Logging out would end the shared sessions: it gets a throwaway one.
                session = sessions[who] if case.path != "/logout" else requests.Session()
                response = case.call(base_url=live["base"], session=session)
                case.validate_response(response, checks=[not_a_server_error])

        no_server_error()
